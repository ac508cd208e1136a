package io.idlewatch.agent.signal.exec;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import io.idlewatch.agent.signal.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fixture's /proc (uptime 5014 s) holds PID 1 (the agent), its workload
 * (PPid 1), an {@code idlewatch status} client, an {@code ls} exec'd 3 s ago
 * and a zombie with no command line: none of them counts.
 */
class ExecSignalTest extends ActivitySignalContract {

    @Override
    protected String expectedName() {
        return "exec";
    }

    @Override
    protected boolean firesWhileActivityLasts() {
        return true;
    }

    @Override
    protected Fixture quietFixture(Path dir) throws Exception {
        Path proc = Fixtures.copy("exec/proc", dir.resolve("proc"));
        ExecSignal signal = new ExecSignal(proc);
        // docker exec ws make, started 18 s ago (starttime 499600 ticks)
        return fixture(signal, () -> process(proc, 52, 0, 499_600, "make\0"), () -> delete(proc.resolve("52")));
    }

    @Override
    protected ActivitySignal brokenSignal(Path dir) {
        return new ExecSignal(dir.resolve("no-proc"));
    }

    /** A process without a controlling terminal, as {@code docker exec} without -t starts it. */
    static void process(Path proc, int pid, int ppid, long startTicks, String cmdline) throws IOException {
        process(proc, pid, ppid, 0, startTicks, cmdline);
    }

    /** @param ttyNr the controlling terminal's device number (34816 = /dev/pts/0), 0 for none */
    static void process(Path proc, int pid, int ppid, int ttyNr, long startTicks, String cmdline) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("stat"), pid + " (x) S " + ppid + " " + pid + " " + pid
                + " " + ttyNr + " " + (ttyNr == 0 ? -1 : pid) + " 4194560 100 0 0 0 1 1 0 0 20 0 1 0 " + startTicks
                + " 8000000 900 1\n");
        Files.write(dir.resolve("cmdline"), cmdline.getBytes(StandardCharsets.UTF_8));
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void reportsTheLongestRunningExecProcess() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        process(proc, 52, 0, 499_600, "make\0");
        ActivitySignal.Reading r = new ExecSignal(proc).sample(0);
        assertTrue(r.fired());
        assertEquals("exec pid 52 running 18s", r.detail());
    }

    /** docker exec -it ws bash, open for an hour: whether anyone uses it is the tty signal's call. */
    @Test
    void interactiveSessionsAreLeftToTheTtySignal() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        process(proc, 53, 0, 34816, 140_000, "bash\0");
        ActivitySignal.Reading r = new ExecSignal(proc).sample(0);
        assertFalse(r.fired(), r.detail());
        process(proc, 54, 0, 0, 140_000, "sleep\0" + "3600\0");
        assertTrue(new ExecSignal(proc).sample(0).fired());
    }

    @Test
    void aShortExecDoesNotCount() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        ActivitySignal.Reading r = new ExecSignal(proc).sample(0);
        assertFalse(r.fired());
        assertEquals("exec pid 78 running 3s", r.detail());
    }

    @Test
    void exactlyTenSecondsIsNotYetLonger() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        Files.delete(proc.resolve("78/stat"));
        process(proc, 60, 0, 500_400, "sleep\0" + "100\0"); // 5014.00 - 5004.00 = 10 s
        assertFalse(new ExecSignal(proc).sample(0).fired());
        Files.writeString(proc.resolve("uptime"), "5014.01 9000.00\n");
        assertTrue(new ExecSignal(proc).sample(0).fired());
    }

    @Test
    void controlClientsNeverCount() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        process(proc, 61, 0, 100, "/opt/idlewatch/bin/idlewatch\0timeout\0" + "2h\0");
        process(proc, 62, 0, 100, "idlewatch\0status\0");
        process(proc, 63, 0, 100, "/usr/local/bin/idlewatch\0touch\0");
        process(proc, 65, 0, 100, "idlewatch\0inhibit\0" + "1h\0");
        process(proc, 66, 0, 100, "idlewatch\0stop\0");
        ActivitySignal.Reading r = new ExecSignal(proc).sample(0);
        assertFalse(r.fired(), r.detail());
    }

    @Test
    void otherCommandsNamedLikeTheAgentStillCount() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        process(proc, 64, 0, 100, "/opt/idlewatch/bin/idlewatch\0--\0bash\0");
        assertTrue(new ExecSignal(proc).sample(0).fired());
        byte[] grep = "grep\0idlewatch\0status\0".getBytes(StandardCharsets.UTF_8);
        assertFalse(ExecSignal.isControlClient(grep, grep.length));
        byte[] jvm = "java\0-cp\0x.jar\0com.example.Main\0status\0".getBytes(StandardCharsets.UTF_8);
        assertFalse(ExecSignal.isControlClient(jvm, jvm.length));
    }

    @Test
    void childrenOfTheAgentAreNotExecs() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        process(proc, 70, 1, 100, "make\0");
        process(proc, 71, 40, 100, "cc\0");
        assertFalse(new ExecSignal(proc).sample(0).fired());
    }

    @Test
    void aProcessVanishingMidScanIsSkipped() throws Exception {
        Path proc = Fixtures.copy("exec/proc", tmp.resolve("proc"));
        Files.createDirectories(proc.resolve("99")); // listed, but stat is gone
        assertFalse(new ExecSignal(proc).sample(0).fired());
    }
}
