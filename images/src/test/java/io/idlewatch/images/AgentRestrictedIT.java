package io.idlewatch.images;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.params.provider.Arguments;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Box.NOSHELL_IMAGE;
import static io.idlewatch.images.Box.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent where workspaces are locked down: no shell, non-root, no capabilities, read-only, --init. */
class AgentRestrictedIT {
    private static final Duration EXIT = Duration.ofSeconds(30);

    static Stream<Arguments> setups() {
        return Stream.of(
                Arguments.of("no /bin/sh, no libstdc++/zlib", (UnaryOperator<Box.Spec>) s -> s),
                Arguments.of("--user 1000", (UnaryOperator<Box.Spec>) s -> s.user("1000")),
                Arguments.of("--cap-drop ALL", (UnaryOperator<Box.Spec>) Box.Spec::capDropAll),
                Arguments.of("--read-only --tmpfs /run", (UnaryOperator<Box.Spec>) s -> s.readOnly().tmpfs("/run")),
                Arguments.of("--init", (UnaryOperator<Box.Spec>) Box.Spec::init),
                Arguments.of("all at once", (UnaryOperator<Box.Spec>) s -> s.user("1000").capDropAll().readOnly().tmpfs("/run").init()));
    }

    @ParameterizedTest(name = "{0}: exit codes pass through")
    @MethodSource("setups")
    void exitCodesPassThrough(String name, UnaryOperator<Box.Spec> setup) {
        try (Box ok = setup.apply(Box.of(NOSHELL_IMAGE)).cmd("true").start();
             Box fails = setup.apply(Box.of(NOSHELL_IMAGE)).cmd("ls", "/no/such/file").start();
             Box missing = setup.apply(Box.of(NOSHELL_IMAGE)).cmd("no-such-command").start()) {
            assertEquals(0, ok.awaitExit(EXIT));
            assertEquals(2, fails.awaitExit(EXIT));
            assertEquals(127, missing.awaitExit(EXIT));
            assertTrue(missing.logs().contains("idlewatch: exec no-such-command failed"), missing.logs());
        }
    }

    @ParameterizedTest(name = "{0}: docker kill -s TERM exits 143")
    @MethodSource("setups")
    void termIsForwarded(String name, UnaryOperator<Box.Spec> setup) {
        try (Box box = setup.apply(Box.of(NOSHELL_IMAGE)).cmd("sleep", "1000").start()) {
            eventually(Duration.ofSeconds(10), "sleep running",
                    () -> box.exec("cat", "/proc/1/cmdline").length() > 0 && box.exec("ls", "/proc").contains("\n"));
            waitForSleep(box);
            box.kill("TERM");
            assertEquals(143, box.awaitExit(EXIT));
        }
    }

    @Test
    void runsAsTheGivenUser() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).user("1000").cmd("sh", "-c", "echo uid=$(id -u); exit 3").start()) {
            assertEquals(3, box.awaitExit(EXIT));
            assertTrue(box.logs().contains("uid=1000"), box.logs());
        }
    }

    /** The workload is up once a `sleep` shows in /proc (no shell to ask in the no-shell image). */
    private static void waitForSleep(Box box) {
        eventually(Duration.ofSeconds(10), "sleep running", () -> {
            String out = box.exec("cat", "/proc/self/stat");
            return !out.isEmpty() && box.inspect().getState().getRunning()
                    && box.exec("find", "/proc", "-maxdepth", "2", "-name", "comm", "-exec", "grep", "-l", "^sleep$", "{}", "+").contains("comm");
        });
    }
}
