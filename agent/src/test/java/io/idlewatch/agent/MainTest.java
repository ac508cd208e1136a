package io.idlewatch.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the JVM does with its arguments: {@code --companion} is the init's (not started here, it needs
 * the init's socket), {@code --version} is answered from the jar; anything else is one line and exit 2.
 */
@ResourceLock(Resources.SYSTEM_OUT)
@ResourceLock(Resources.SYSTEM_ERR)
class MainTest {
    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), withoutJazzer(err.toString(StandardCharsets.UTF_8)));
    }

    /** The fuzzing harness on the test class path reports each class it instruments as it loads, on standard error. */
    private static String withoutJazzer(String err) {
        return err.replaceAll("(?m)^INFO: Instrumented .*\n", "");
    }

    @Test
    void anythingButTheInitsOrVersionIsOneLineAndExit2() {
        for (String[] args : new String[][] {{}, {"status"}, {"touch", "--reason", "x"}, {"--", "bash"},
                {"--companion", "extra"}, {"--help"}}) {
            Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertEquals("", r.out());
            assertEquals(Main.NOT_ALONE + "\n", r.err());
            assertTrue(r.err().contains("started by its init") && r.err().contains("idlewatch status|"), r.err());
        }
    }

    /** From the build tree there is no jar manifest: the version is dev, the build unknown. */
    @Test
    void versionIsAnsweredWithoutAnAgent() {
        Result r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertEquals("idlewatch agent dev\nbuild: unknown\n", r.out());
        assertEquals("", r.err());

        Result extra = run("--version", "--json");
        assertEquals(2, extra.code());
        assertEquals("idlewatch: --version: unknown argument \"--json\"\nusage: idlewatch --version\n", extra.err());
    }
}
