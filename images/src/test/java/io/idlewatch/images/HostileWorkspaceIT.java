package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.shaded.com.fasterxml.jackson.databind.JsonNode;
import org.testcontainers.shaded.com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Box.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A workspace user who is not friendly, tried from the outside as they would: every limit the
 * operator set still holds, nothing they do stalls the agent, and nothing they write reaches the
 * host's terminal raw. One test per attack (the README's "what a hostile workspace can try" table
 * points here). The control socket is reached from the host as
 * {@code /proc/<pid>/root/run/idlewatch/agent.sock}, which needs root, as CI has.
 */
@Execution(ExecutionMode.SAME_THREAD) // one attack at a time: some of them load the machine on purpose
class HostileWorkspaceIT {
    private static final String IDLEWATCH = "/opt/idlewatch/bin/idlewatch";
    private static final String SOCAT_IMAGE = Box.SOCAT_IMAGE;
    private static final Path SWEEPER_JAR = Path.of("..", "sweeper", "target", "idlewatch-sweeper.jar");
    /** A loaded 2-core CI machine: docker round trips, JVM starts, the poll's phase. */
    private static final Duration SLACK = Duration.ofSeconds(8);
    private static final ObjectMapper JSON = new ObjectMapper();

    // ---- limits that hold ----------------------------------------------------------------------

    /** `idlewatch timeout 200000d` inside a workspace capped at 25 s: refused, and the cap holds. */
    @Test
    void aHugeTimeoutFromInsideIsRefusedAndTheLifetimeCapHolds() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_MAX_LIFETIME", "25s")
                .env("IDLEWATCH_TIMEOUT", "1h").env("IDLEWATCH_POLL_INTERVAL", "2s").start()) {
            awaitSocket(box);
            Box.ExecResult huge = box.execAs(null, IDLEWATCH, "timeout", "200000d");
            assertEquals(2, huge.exitCode(), huge.output());
            assertTrue(huge.output().contains("too large: at most 3650d"), huge.output());
            Box.ExecResult max = box.execAs(null, IDLEWATCH, "timeout", "3650d");
            assertEquals(0, max.exitCode(), "the documented maximum itself is fine: " + max.output());

            int code = box.awaitExit(Duration.ofSeconds(25).plus(SLACK).plus(SLACK));
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(Duration.ofSeconds(24)) >= 0 && ran.compareTo(Duration.ofSeconds(25).plus(SLACK)) <= 0,
                    "stopped at its cap: ran " + ran.toMillis() + " ms\n" + box.logs());
            assertEquals(0, code);
            String state = Watched.stateFile(box);
            assertEquals("lifetime", Watched.stopField(state, "reason"), state);
            assertFalse(box.logs().contains("Exception"), box.logs());
        }
    }

    /** The same value at start-up: exit 2 with one line, and nothing spawned. */
    @Test
    void aHugeTimeoutAtStartIsExit2AndNothingIsSpawned() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "200000d")
                .cmd("sh", "-c", "echo spawned >&2; sleep 60").start()) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)));
            String logs = box.logs();
            assertTrue(logs.contains("IDLEWATCH_TIMEOUT=\"200000d\": too large: at most 3650d"), logs);
            assertFalse(logs.contains("spawned"), logs);
            assertEquals(1, logs.strip().lines().count(), "one line: " + logs);
        }
    }

    // ---- nothing stalls --------------------------------------------------------------------------

    /**
     * A server on the watched port that trickles a byte every 100 ms to whoever connects (the
     * agent's opencode probe included): status answers within 1 s throughout, and the idle stop
     * comes on time.
     */
    @Test
    void aTricklingServerOnTheWatchedPortStallsNothing() throws Exception {
        // http is left out: a server that keeps writing after the probe has gone resets the probe's
        // TIME_WAIT, and the kernel's accept count then cannot tell that connection from a client's
        // (README, "what counts"). This test is about the stall, not about counting.
        try (Box box = Watched.idle(SOCAT_IMAGE).env("IDLEWATCH_SIGNALS", "cpu,exec,tty,opencode")
                .cmd("socat", "TCP-LISTEN:4096,fork,reuseaddr",
                "SYSTEM:while printf H; do sleep 0.1; done").start()) {
            Instant started = Watched.startedAt(box);
            awaitSocket(box);
            long worst = 0;
            while (box.running() && Instant.now().isBefore(started.plus(Duration.ofSeconds(15)))) {
                long t0 = System.nanoTime();
                String answer = request(box, "idlewatch/1 status format=text\n");
                long took = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(answer.startsWith("ok "), answer);
                worst = Math.max(worst, took);
                Thread.sleep(300);
            }
            System.out.println(box.id.substring(0, 12) + ": trickling server: slowest status " + worst + " ms");
            assertTrue(worst < 1000, "status took " + worst + " ms");
            Watched.stopsInWindow(box, started, 0);
        }
    }

    // ---- the record survives the stop -------------------------------------------------------------

    /** docker stop while a child ignores SIGTERM: the record says why, and the agent finishes in time. */
    @Test
    void dockerStopWithATermIgnoringChildLeavesTheRecord() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sh", "-c",
                "(trap '' TERM; exec sleep 1000) & exec sleep 1000").start()) {
            awaitSocket(box);
            long t0 = System.nanoTime();
            box.stop(10);
            long took = (System.nanoTime() - t0) / 1_000_000;
            String state = Watched.stateFile(box);
            assertEquals("signal", Watched.stopField(state, "reason"), state);
            assertTrue(state.contains("\"state\":\"stopped\""), "the agent wrote its final record itself: " + state);
            assertTrue(took < 10_000, "inside docker stop's 10 s: " + took + " ms");
            assertTrue(box.logs().contains("sending SIGKILL"), box.logs());
        }
    }

    /** A workload that ignores SIGTERM, docker stop -t 10, default settings: killed by the agent in time. */
    @Test
    void dockerStopWithATermIgnoringWorkloadFitsInTheStopTimeout() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sh", "-c", "trap '' TERM; while :; do sleep 1; done").start()) {
            awaitSocket(box);
            long t0 = System.nanoTime();
            box.stop(10);
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(137, box.inspect().getState().getExitCodeLong());
            String state = Watched.stateFile(box);
            assertEquals("signal", Watched.stopField(state, "reason"), state);
            assertEquals("137", Watched.stopField(state, "exit_code"), state);
            assertTrue(state.contains("\"state\":\"stopped\""), state);
            assertTrue(took >= 7_500 && took < 10_000, "the default grace (8 s), inside docker's 10 s: " + took);
            System.out.println(box.id.substring(0, 12) + ": docker stop of a TERM-ignoring workload took " + took + " ms");
        }
    }

    /** Short-lived workloads: the final record is written once, by one writer, never failing. */
    @Test
    void theFinalRecordHasOneWriter() {
        for (int i = 0; i < 5; i++) {
            try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sh", "-c", "ulimit -n").start()) {
                assertEquals(0, box.awaitExit(Duration.ofSeconds(30)));
                String logs = box.logs();
                assertFalse(logs.contains("failed"), logs);
                String state = Watched.stateFile(box);
                assertTrue(state.contains("\"state\":\"stopped\""), state);
                assertEquals("workload-exit", Watched.stopField(state, "reason"), state);
            }
        }
    }

    // ---- resource limits -------------------------------------------------------------------------

    /**
     * A fork loop that fills `--pids-limit 100` at once: the agent keeps the workload running
     * (no crash, no thread it cannot do without) and still stops it on IDLEWATCH_MAX_LIFETIME.
     */
    @Test
    void aForkLoopFillingThePidsLimitCannotTakeTheAgentDown() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).pidsLimit(100).env("IDLEWATCH_MAX_LIFETIME", "20s")
                .env("IDLEWATCH_POLL_INTERVAL", "2s").env("IDLEWATCH_EXIT_CODE", "3")
                // a loop that keeps forking whatever fork says (a shell would give up and exit)
                .cmd("perl", "-e", "while (1) { my $p = fork; if (!defined $p) { select(undef, undef, undef, 0.01);"
                        + " next } if ($p == 0) { sleep 1000; exit 0 } }").start()) {
            int code = box.awaitExit(Duration.ofSeconds(20).plus(SLACK).plus(SLACK));
            Duration ran = Watched.ranFor(box);
            String logs = box.logs();
            assertEquals(3, code, logs);
            assertTrue(ran.compareTo(Duration.ofSeconds(19)) >= 0, "ran " + ran.toMillis() + " ms: " + logs);
            assertFalse(logs.contains("\tat "), "no stack trace: " + logs);
            assertTrue(logs.lines().filter(l -> l.contains("could not start")).count() <= 2, "once each: " + logs);
            assertTrue(logs.lines().filter(l -> l.contains("fork failed")).count() <= 1, "said once: " + logs);
            String state = Watched.stateFile(box);
            assertEquals("lifetime", Watched.stopField(state, "reason"), state);
        }
    }

    /**
     * A fork loop that holds `--pids-limit 100` full for its first 10 s, then lets go: an agent that
     * could not start meanwhile (its JVM needs threads) is back once it can, and the idle stop then
     * comes on time, with the final record.
     */
    @Test
    void anAgentKeptOutByAFullPidsLimitIsBackWhenItFrees() {
        Duration timeout = Duration.ofSeconds(20);
        try (Box box = Box.of(AGENT_TEST_IMAGE).pidsLimit(100).env("IDLEWATCH_TIMEOUT", timeout.toSeconds() + "s")
                .env("IDLEWATCH_POLL_INTERVAL", "2s")
                // children that live until the end of the 10 s, forked as fast as the limit lets them
                .cmd("perl", "-e", "my $end = time + 10; while (time < $end) { my $p = fork; if (!defined $p) {"
                        + " select(undef, undef, undef, 0.01); next } if ($p == 0) { my $left = $end - time;"
                        + " sleep($left) if $left > 0; exit 0 } } 1 while wait != -1; sleep 1000").start()) {
            eventually(Duration.ofSeconds(40), "the agent answering once the limit frees", () -> {
                try {
                    return box.execAs(null, "/opt/idlewatch/bin/idlewatch", "status").exitCode() == 0;
                } catch (RuntimeException execRefused) {
                    return false; // docker exec needs a pid too
                }
            });
            Instant back = Instant.now();
            box.awaitExit(timeout.plus(SLACK).plus(SLACK));
            Instant finished = Watched.finishedAt(box);
            String logs = box.logs();
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"), state);
            assertTrue(Watched.ranFor(box).compareTo(timeout) >= 0, "ran " + Watched.ranFor(box).toMillis() + " ms: " + logs);
            assertTrue(Duration.between(back, finished).compareTo(timeout.plus(SLACK)) <= 0,
                    "stopped " + Duration.between(back, finished).toMillis() + " ms after the agent answered: " + logs);
            assertFalse(logs.contains("\tat "), "no stack trace: " + logs);
            assertTrue(logs.lines().filter(l -> l.contains("fork failed")).count() <= 1, "said once: " + logs);
            // a restart is an agent started again: one per agent that ended, never one per refused fork
            long ended = logs.lines().filter(l -> l.startsWith("idlewatch: the agent (pid ")).count();
            Matcher restarts = Pattern.compile("agent restarted (\\d+) times").matcher(logs);
            long said = 0;
            while (restarts.find()) {
                said = Long.parseLong(restarts.group(1));
            }
            assertTrue(said <= ended, "restarts counted " + said + ", agents ended " + ended + ": " + logs);
            System.out.println(box.id.substring(0, 12) + ": pids limit freed; the agent "
                    + (logs.contains("failed forks") || logs.contains("a full pids or memory limit?") ? "was kept out, then came back"
                    : "had started before the limit filled") + "; idle stop "
                    + Duration.between(back, finished).toMillis() + " ms after it answered");
        }
    }

    // ---- the control socket ----------------------------------------------------------------------

    /** A 2 MB request written in small pieces: one refusal, and the agent keeps serving. */
    @Test
    void aHugeRequestSplitAcrossWritesIsRefusedCleanly() throws Exception {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "10m").start()) {
            awaitSocket(box);
            String answer;
            try (SocketChannel ch = connect(box)) {
                byte[] chunk = "idlewatch/1 touch reason=".getBytes(StandardCharsets.US_ASCII);
                ch.write(ByteBuffer.wrap(chunk));
                byte[] filler = new byte[4096];
                java.util.Arrays.fill(filler, (byte) 'x');
                int sent = chunk.length;
                try {
                    while (sent < 2 * 1024 * 1024) {
                        ch.write(ByteBuffer.wrap(filler));
                        sent += filler.length;
                    }
                    ch.write(ByteBuffer.wrap(new byte[] {'\n'}));
                } catch (IOException closedByTheAgent) {
                    // the agent may close as soon as the limit is passed
                }
                answer = readLine(ch);
            }
            assertTrue(answer.startsWith("error ") && answer.contains("longer than"), answer);
            assertTrue(request(box, "idlewatch/1 status\n").startsWith("ok {"), "still serving");
            assertFalse(box.logs().contains("Exception"), box.logs());
        }
    }

    /** 200 connections held open without a word: a real status still gets its answer promptly. */
    @Test
    void twoHundredSilentConnectionsDoNotLockOutStatus() throws Exception {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "10m").start()) {
            awaitSocket(box);
            List<SocketChannel> held = new ArrayList<>();
            try {
                for (int i = 0; i < 200; i++) {
                    held.add(connect(box));
                }
                long t0 = System.nanoTime();
                String answer = request(box, "idlewatch/1 status\n");
                long took = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(answer.startsWith("ok {"), answer);
                assertTrue(took < 1000, "status took " + took + " ms");
            } finally {
                for (SocketChannel ch : held) {
                    ch.close();
                }
            }
            assertFalse(box.logs().contains("Exception"), box.logs());
        }
    }

    /** Inhibit holds past the limit: refused with a clear line; the ones held stay; closing releases. */
    @Test
    void inhibitHoldsPastTheLimitAreRefused() throws Exception {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "10m").start()) {
            awaitSocket(box);
            List<SocketChannel> holds = new ArrayList<>();
            String refusal = null;
            try {
                for (int i = 0; i < 300 && refusal == null; i++) {
                    SocketChannel ch = connect(box);
                    ch.write(ByteBuffer.wrap(("idlewatch/1 hold reason=h" + i + "\n").getBytes(StandardCharsets.US_ASCII)));
                    String answer = readLine(ch);
                    if (answer.startsWith("ok ")) {
                        holds.add(ch);
                    } else {
                        refusal = answer;
                        ch.close();
                    }
                }
                assertTrue(refusal != null && refusal.startsWith("error ") && refusal.contains("hold"),
                        "refused past the limit after " + holds.size() + ": " + refusal);
                String status = request(box, "idlewatch/1 status format=text\n");
                assertTrue(status.contains("holds: " + holds.size() + "\\n"), "the holds stay: " + status);
            } finally {
                for (SocketChannel ch : holds) {
                    ch.close();
                }
            }
            assertTrue(request(box, "idlewatch/1 touch\n").startsWith("ok "), "still serving");
            eventually(Duration.ofSeconds(5), "closing releases the holds", () -> {
                try {
                    return request(box, "idlewatch/1 status format=text\n").contains("holds: none");
                } catch (IOException e) {
                    return false;
                }
            });
        }
    }

    // ---- the state directory --------------------------------------------------------------------

    /**
     * Another user of the container planted /tmp/idlewatch as a link to a directory of theirs; the
     * agent runs as a user that cannot make /run/idlewatch. It writes nothing through the link,
     * says so in one line, and the workload runs as usual.
     */
    @Test
    void aPlantedTmpLinkIsNotFollowed() {
        String script = "mkdir /tmp/theirs && chown 2000 /tmp/theirs && ln -s /tmp/theirs /tmp/idlewatch"
                + " && chown -h 2000 /tmp/idlewatch"
                + " && exec setpriv --reuid=1000 --regid=1000 --clear-groups " + IDLEWATCH + " -- sleep 1000";
        try (Box box = Box.of(AGENT_TEST_IMAGE).entrypoint("sh", "-c", script).start()) {
            eventually(Duration.ofSeconds(20), "the agent's start line", () -> box.logs().contains("no state file"));
            assertTrue(box.running(), box.logs());
            assertEquals("", box.exec("ls", "-A", "/tmp/theirs"), "nothing written through the link");
            assertTrue(box.logs().contains("/tmp/idlewatch is not a directory"), box.logs());
        }
    }

    // ---- the host trusts no byte a container wrote ----------------------------------------------

    /**
     * Two hostile workspaces (a 1 GB sparse state file; one full of terminal escapes, in its name
     * too) next to an honest one: `idlewatch ps` lists the honest one right, prints no escape byte,
     * and its JSON parses.
     */
    @Test
    void psSurvivesHugeAndEscapeLadenStateFiles() throws Exception {
        String group = "hostile-ps-" + Box.RUN_ID;
        String esc = "\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[2J\u009b31m\u202e";
        String evilState = "{\"version\":1,\"workspace\":\"" + jsonEscape("evil" + esc) + "\",\"state\":\"running\","
                + "\"updated\":\"" + Instant.now() + "\",\"idle_ms\":1,\"timeout_ms\":2,"
                + "\"last_activity_signal\":\"" + jsonEscape(esc) + "\",\"stop\":{\"reason\":\"" + jsonEscape(esc)
                + "\",\"detail\":\"" + jsonEscape(esc) + "\"}}";
        try (Box honest = Box.of(AGENT_TEST_IMAGE).label("io.idlewatch.managed", "true")
                .label("io.idlewatch.test.group", group).label("io.idlewatch.workspace", "honest")
                .env("IDLEWATCH_TIMEOUT", "30m").env("IDLEWATCH_POLL_INTERVAL", "1s").start();
             Box huge = Box.of(AGENT_TEST_IMAGE).label("io.idlewatch.managed", "true")
                     .label("io.idlewatch.test.group", group).label("io.idlewatch.workspace", "huge")
                     .entrypoint("sh", "-c", "mkdir -p /run/idlewatch && truncate -s 1G /run/idlewatch/state.json"
                             + " && exec sleep 1000").start();
             Box evil = Box.of(AGENT_TEST_IMAGE).label("io.idlewatch.managed", "true")
                     .label("io.idlewatch.test.group", group).label("io.idlewatch.workspace", "evil" + esc)
                     .env("EVIL", evilState)
                     .entrypoint("sh", "-c", "mkdir -p /run/idlewatch && printf '%s' \"$EVIL\" > /run/idlewatch/state.json"
                             + " && exec sleep 1000").start()) {
            awaitSocket(honest);
            eventually(Duration.ofSeconds(20), "the hostile files in place", () ->
                    huge.exec("stat", "-c", "%s", "/run/idlewatch/state.json").strip().equals("1073741824")
                            && evil.exec("cat", "/run/idlewatch/state.json").startsWith("{"));
            Thread.sleep(2500); // the honest agent has polled since it started

            Cli table = cli("ps", "--label", "io.idlewatch.test.group=" + group);
            assertEquals(0, table.code, table.err);
            noEscapeBytes(table.out);
            noEscapeBytes(table.err);
            String honestRow = table.out.lines().filter(l -> l.startsWith("honest ")).findFirst().orElse("");
            assertTrue(honestRow.contains("idle: ") && honestRow.contains(" / 30m"), table.out);
            assertEquals(4, table.out.lines().count(), "a header and three rows:\n" + table.out);

            Cli json = cli("ps", "--json", "--label", "io.idlewatch.test.group=" + group);
            assertEquals(0, json.code, json.err);
            noEscapeBytes(json.out);
            JsonNode rows = JSON.readTree(json.out);
            assertEquals(3, rows.size(), json.out);
            System.out.println("hostile ps: " + table.millis + " ms (table), " + json.millis + " ms (json)");
        }
    }

    /** The agent SIGKILLed from the host: no final record, and `ps --all` says so with the exit code. */
    @Test
    void psSaysWhenThereIsNoFinalRecord() throws Exception {
        String group = "killed-" + Box.RUN_ID;
        try (Box box = Box.of(AGENT_TEST_IMAGE).label("io.idlewatch.managed", "true")
                .label("io.idlewatch.test.group", group).label("io.idlewatch.workspace", "killed")
                .env("IDLEWATCH_TIMEOUT", "30m").env("IDLEWATCH_POLL_INTERVAL", "1s").start()) {
            awaitSocket(box);
            Thread.sleep(1500);
            long pid = box.inspect().getState().getPidLong();
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start();
            assertEquals(0, kill.waitFor());
            assertEquals(137, box.awaitExit(Duration.ofSeconds(20)));
            assertTrue(Watched.stateFile(box).contains("\"state\":\"running\""), "no final record was written");

            Cli ps = cli("ps", "--all", "--label", "io.idlewatch.test.group=" + group);
            assertEquals(0, ps.code, ps.err);
            String row = ps.out.lines().filter(l -> l.startsWith("killed ")).findFirst().orElse("");
            assertTrue(row.contains("no final record") && row.contains("137"), ps.out);
            assertFalse(row.contains("idle: "), "no live-looking idle time: " + row);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private record Cli(int code, String out, String err, long millis) {
    }

    private static Cli cli(String... args) throws Exception {
        assertTrue(Files.isRegularFile(SWEEPER_JAR), "build the sweeper first: " + SWEEPER_JAR.toAbsolutePath());
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", SWEEPER_JAR.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile("idlewatch-ps", ".out");
        Path err = Files.createTempFile("idlewatch-ps", ".err");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ps finished within 60 s");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        Cli c = new Cli(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1), millis);
        Files.delete(out);
        Files.delete(err);
        return c;
    }

    /** Bytes, not characters: ESC, BEL, CSI as one byte, or any C1 control as UTF-8 (C2 80–C2 9F). */
    private static void noEscapeBytes(String latin1) {
        for (int i = 0; i < latin1.length(); i++) {
            char c = latin1.charAt(i);
            boolean c1 = c == 0xC2 && i + 1 < latin1.length() && latin1.charAt(i + 1) >= 0x80 && latin1.charAt(i + 1) <= 0x9F;
            assertFalse(c == 0x1b || c == 0x07 || c == 0x9b || c1,
                    "escape byte 0x" + Integer.toHexString(c) + " at " + i + " in:\n" + latin1);
        }
        assertFalse(latin1.contains("\u00e2\u0080\u00ae"), "no bidi override (U+202E) in:\n" + latin1);
    }

    private static String jsonEscape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c >= 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Path socket(Box box) {
        long pid = box.inspect().getState().getPidLong();
        return Path.of("/proc/" + pid + "/root/run/idlewatch/agent.sock");
    }

    private static void awaitSocket(Box box) {
        eventually(Duration.ofSeconds(30), "the agent's control socket", () -> {
            try {
                return request(box, "idlewatch/1 status\n").startsWith("ok ");
            } catch (IOException | RuntimeException e) {
                return false;
            }
        });
    }

    private static SocketChannel connect(Box box) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket(box)));
        return ch;
    }

    /** One request line, one answer line, over the socket from the host. */
    private static String request(Box box, String line) throws IOException {
        try (SocketChannel ch = connect(box)) {
            ch.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
            return readLine(ch);
        }
    }

    /** Closes whatever a test forgot to bound: a read the agent never answers fails after 10 s. */
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "hostile-it-watchdog");
                t.setDaemon(true);
                return t;
            });

    private static String readLine(SocketChannel ch) throws IOException {
        var guard = WATCHDOG.schedule(() -> {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }, 10, TimeUnit.SECONDS);
        try {
            return readLineUnguarded(ch);
        } finally {
            guard.cancel(false);
        }
    }

    private static String readLineUnguarded(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        while (buf.hasRemaining()) {
            int n = ch.read(buf);
            if (n < 0) {
                break;
            }
            byte[] a = buf.array();
            for (int i = 0; i < buf.position(); i++) {
                if (a[i] == '\n') {
                    return new String(a, 0, i, StandardCharsets.UTF_8);
                }
            }
        }
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
    }
}
