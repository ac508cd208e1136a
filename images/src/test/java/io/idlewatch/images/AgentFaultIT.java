package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Box.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent may fail; the workspace does not. From the attacker's side: fault signals, SIGKILL and
 * SIGSTOP aimed at the agent's JVM from inside the workspace (as the workload's user) and from the
 * host (as root, through /proc), SIGSEGV aimed at PID 1, an OutOfMemoryError, ten deaths in a row.
 * Each time a marker workload keeps running and receives no signal, the agent comes back, and the
 * stops the operator configured still happen on time, with a final record.
 */
@Execution(ExecutionMode.SAME_THREAD) // the timings below want the machine to themselves, as far as it goes
class AgentFaultIT {
    private static final String IDLEWATCH = "/opt/idlewatch/bin/idlewatch";
    private static final String JAVA = "/opt/idlewatch/runtime/bin/java";
    /** The agent is back and answering within this long after it died. */
    private static final Duration BACK = Duration.ofSeconds(5);
    private static final List<String> FAULTS = List.of("SEGV", "BUS", "ABRT", "FPE", "KILL");
    /**
     * A workload that records every catchable signal it gets in /tmp/marker (and ends on SIGTERM,
     * as a workload does), and waits with a builtin (so a signal runs its trap at once). Its pid
     * must not change: it never restarts.
     */
    private static final String MARKER = "for s in HUP INT QUIT ILL TRAP ABRT BUS FPE USR1 SEGV USR2 PIPE ALRM"
            + " STKFLT CONT TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS; do"
            + " trap \"echo got $s >> /tmp/marker\" $s; done;"
            + " trap 'echo got TERM >> /tmp/marker; echo got TERM; exit 143' TERM;"
            + " mkfifo /tmp/tick; exec 9<>/tmp/tick; echo $$ > /tmp/workload.pid; echo ready;"
            + " while :; do read -t 0.05 -u 9; done";

    /** Inside, as the workload's user: every fault signal, SIGKILL, SIGSTOP/SIGCONT, and SIGSEGV at PID 1. */
    @Test
    void faultsAimedAtTheAgentFromInsideHarmNothing() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).env("IDLEWATCH_SIGNALS", "exec").cmd("bash", "-c", MARKER).start()) {
            String workload = awaitMarker(box);
            Instant lastKill = Instant.now();
            for (String sig : FAULTS) {
                String agent = awaitAgent(box, null);
                lastKill = Instant.now();
                box.exec("sh", "-c", "kill -" + sig + " " + agent);
                awaitAgent(box, agent);
                assertUnharmed(box, workload, "after SIG" + sig + " to the agent");
            }
            stopAndContinue(box, awaitAgent(box, null), pid -> box.exec("sh", "-c", "kill -" + pid));
            box.exec("sh", "-c", "kill -SEGV 1");
            assertEquals("", box.exec("sh", "-c", "find / -xdev \\( -name 'hs_err*' -o -name core \\) -type f 2>/dev/null"),
                    "no crash file anywhere");
            assertUnharmed(box, workload, "after SIGSEGV to PID 1");
            assertIdleStopOnTime(box, lastKill);
        }
    }

    /** From the host, as root: the same signals through the agent's host pid. */
    @Test
    void faultsAimedAtTheAgentFromTheHostHarmNothing() throws Exception {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).env("IDLEWATCH_SIGNALS", "exec").cmd("bash", "-c", MARKER).start()) {
            String workload = awaitMarker(box);
            Instant lastKill = Instant.now();
            for (String sig : FAULTS) {
                String agent = awaitAgent(box, null);
                long hostPid = agentHostPid(box);
                lastKill = Instant.now();
                hostKill("-" + sig, hostPid);
                awaitAgent(box, agent);
                assertUnharmed(box, workload, "after SIG" + sig + " to the agent from the host");
            }
            long hostPid = agentHostPid(box);
            stopAndContinue(box, awaitAgent(box, null), sig -> {
                hostKill("-" + sig.substring(0, sig.indexOf(' ')), hostPid);
                return "";
            });
            assertIdleStopOnTime(box, lastKill);
        }
    }

    /**
     * Ten deaths in a row: the init stops restarting for a while, the workload runs on, the state file
     * says the agent is down; then docker stop: the workload gets its SIGTERM, the init the final record.
     */
    @Test
    void tenDeathsInARowLeaveTheWorkloadRunningAndDockerStopStillWorks() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "10m").env("IDLEWATCH_SIGNALS", "exec")
                .cmd("bash", "-c", MARKER).start()) {
            String workload = awaitMarker(box);
            for (int i = 0; i < 10; i++) {
                String agent = awaitAgent(box, null);
                box.exec("sh", "-c", "kill -KILL " + agent);
                if (i < 9) {
                    awaitAgent(box, agent);
                }
            }
            eventually(Duration.ofSeconds(10), "the state file says the agent is down", () -> {
                String state = box.exec("cat", Watched.STATE_FILE);
                return state.contains("\"agent\":\"down: killed by SIGKILL; failed 10 times");
            });
            assertTrue(box.logs().contains("not restarting it for"), box.logs());
            Watched.sleep(Duration.ofSeconds(3));
            assertEquals("", agentPid(box), "no agent restarted while paused");
            assertUnharmed(box, workload, "after ten deaths");
            assertEquals(1, box.execAs(null, IDLEWATCH, "status").exitCode(), "status says there is no agent");

            long t0 = System.nanoTime();
            box.stop(10);
            long took = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(took < 10_000, "inside docker stop's 10 s: " + took + " ms");
            String state = Watched.stateFile(box);
            assertEquals("signal", Watched.stopField(state, "reason"), state);
            assertTrue(state.contains("\"state\":\"stopped\""), state);
            assertTrue(state.contains("the agent was down"), state);
            assertTrue(box.logs().contains("got TERM"), "the workload got its SIGTERM: " + box.logs());
        }
    }

    /** The agent frozen with SIGSTOP: IDLEWATCH_MAX_LIFETIME still stops the workspace on time. */
    @Test
    void theLifetimeCapHoldsWithTheAgentFrozen() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_MAX_LIFETIME", "20s").env("IDLEWATCH_TIMEOUT", "1h")
                .env("IDLEWATCH_EXIT_CODE", "4").env("IDLEWATCH_SIGNALS", "exec").cmd("bash", "-c", MARKER).start()) {
            awaitMarker(box);
            box.exec("sh", "-c", "kill -STOP " + awaitAgent(box, null));
            int code = box.awaitExit(Duration.ofSeconds(60));
            Duration ran = Watched.ranFor(box);
            String state = Watched.stateFile(box);
            assertEquals(4, code, box.logs());
            assertTrue(ran.compareTo(Duration.ofSeconds(19)) >= 0 && ran.compareTo(Duration.ofSeconds(20 + 8)) <= 0,
                    "stopped at its cap: ran " + ran.toMillis() + " ms\n" + box.logs());
            assertEquals("lifetime", Watched.stopField(state, "reason"), state);
            assertTrue(state.contains("\"state\":\"stopped\""), state);
            assertTrue(box.logs().contains("got TERM"), box.logs());
        }
    }

    /** An OutOfMemoryError in the agent (test-only switch): the workload is unharmed, the agent is back. */
    @Test
    void anOutOfMemoryErrorInTheAgentHarmsNothing() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "10m").env("IDLEWATCH_SIGNALS", "exec")
                .env("IDLEWATCH_TEST_OOM_AFTER", "2s").cmd("bash", "-c", MARKER).start()) {
            String workload = awaitMarker(box);
            String first = awaitAgent(box, null);
            eventually(Duration.ofSeconds(20), "the agent ran out of memory and exited",
                    () -> box.logs().contains("the agent (pid " + first + ") exited with 3 (out of memory)"));
            awaitAgent(box, first);
            assertUnharmed(box, workload, "after the agent's OutOfMemoryError");
            box.kill("TERM");
            assertEquals(143, box.awaitExit(Duration.ofSeconds(30)));
        }
    }

    /**
     * Looking is not using: 100 status calls in a row inside an idle workspace (every signal on, the
     * default cpu threshold): the idle time keeps growing, and the stop comes on time.
     */
    @Test
    void aHundredStatusCallsNeverCountAsUse() {
        Duration timeout = Duration.ofSeconds(30);
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", timeout.toSeconds() + "s")
                .env("IDLEWATCH_POLL_INTERVAL", "2s").cmd("sleep", "infinity").start()) {
            awaitAgent(box, null);
            Watched.sleep(Duration.ofSeconds(5)); // a few polls first: idle time counts from the start
            long t0 = System.nanoTime();
            String out = box.exec("bash", "-c", "for i in $(seq 100); do " + IDLEWATCH + " status | head -1; done");
            long took = (System.nanoTime() - t0) / 1_000_000;
            List<String> lines = out.lines().toList();
            assertEquals(100, lines.size(), out);
            Pattern idle = Pattern.compile("^idle: (\\S+) / 30s");
            long last = -1;
            for (String line : lines) {
                Matcher m = idle.matcher(line);
                assertTrue(m.find(), line);
                long millis = io.idlewatch.contract.Durations.parse(m.group(1)).toMillis();
                assertTrue(millis >= last, "idle time went back from " + last + " ms to " + millis + " ms:\n" + out);
                last = millis;
            }
            System.out.println(box.id.substring(0, 12) + ": 100 status calls in " + took + " ms (docker exec included)");
            Watched.sleep(Duration.ofSeconds(5)); // the next polls have seen the calls' CPU
            Box.ExecResult after = box.execAs(null, IDLEWATCH, "status");
            Matcher m = idle.matcher(after.output());
            assertTrue(m.find(), after.output());
            assertTrue(io.idlewatch.contract.Durations.parse(m.group(1)).toMillis() > last, after.output());
            assertEquals(0, box.awaitExit(Duration.ofSeconds(60)), box.logs());
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(timeout) >= 0 && ran.compareTo(timeout.plus(Watched.POLL).plus(Watched.SLACK)) <= 0,
                    "stopped on time: ran " + ran.toMillis() + " ms\n" + box.logs());
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private static String awaitMarker(Box box) {
        eventually(Duration.ofSeconds(20), "marker workload ready", () -> box.logs().contains("ready"));
        return box.exec("cat", "/tmp/workload.pid").trim();
    }

    /** The agent JVM's pid in the container, "" for none. */
    private static String agentPid(Box box) {
        return box.exec("sh", "-c", "for p in /proc/[0-9]*; do case \"$(tr '\\0' ' ' < $p/cmdline 2>/dev/null)\" in "
                + JAVA + "*) basename $p;; esac; done").trim();
    }

    /** Waits for an agent other than {@code not} (null: any) whose status answers; returns its pid. */
    private static String awaitAgent(Box box, String not) {
        String[] found = new String[1];
        eventually(BACK, "an agent answering" + (not == null ? "" : " other than " + not), () -> {
            String pid = agentPid(box);
            if (pid.isEmpty() || pid.contains("\n") || pid.equals(not)) {
                return false;
            }
            found[0] = pid;
            return box.execAs(null, IDLEWATCH, "status").exitCode() == 0;
        });
        return found[0];
    }

    /** SIGSTOP for 3 s, then SIGCONT: the agent answers again, the workload never noticed. */
    private static void stopAndContinue(Box box, String agent, ThrowingFunction kill) throws RuntimeException {
        try {
            kill.apply("STOP " + agent);
            Watched.sleep(Duration.ofSeconds(3));
            kill.apply("CONT " + agent);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
        eventually(BACK, "the agent answers after SIGCONT", () -> box.execAs(null, IDLEWATCH, "status").exitCode() == 0);
    }

    @FunctionalInterface
    private interface ThrowingFunction {
        String apply(String arg) throws Exception;
    }

    private static void assertUnharmed(Box box, String workload, String when) {
        assertTrue(box.running(), when + ": the container stopped\n" + box.logs());
        assertEquals(workload, box.exec("cat", "/tmp/workload.pid").trim());
        assertEquals("0", box.exec("sh", "-c", "kill -0 " + workload + " && echo 0").trim(), when + ": workload gone");
        assertFalse(box.exec("sh", "-c", "cat /tmp/marker 2>/dev/null; true").contains("got"),
                when + ": the workload got a signal: " + box.exec("sh", "-c", "cat /tmp/marker 2>/dev/null; true"));
    }

    /** The idle stop (Watched's 20 s) counts from the last agent's start, which came after {@code lastKill}. */
    private static void assertIdleStopOnTime(Box box, Instant lastKill) {
        Watched.stopsInWindow(box, lastKill, 0);
        String state = Watched.stateFile(box);
        assertEquals("idle", Watched.stopField(state, "reason"), state);
        assertTrue(state.contains("\"state\":\"stopped\""), state);
    }

    /** The agent's pid on the host: the child of the container's init running the JVM. */
    private static long agentHostPid(Box box) throws IOException {
        long init = box.inspect().getState().getPidLong();
        String children = Files.readString(Path.of("/proc/" + init + "/task/" + init + "/children")).trim();
        List<Long> found = new ArrayList<>();
        for (String c : children.split(" ")) {
            try {
                String cmd = new String(Files.readAllBytes(Path.of("/proc/" + c + "/cmdline")), StandardCharsets.UTF_8);
                if (cmd.startsWith(JAVA)) {
                    found.add(Long.parseLong(c));
                }
            } catch (IOException | NumberFormatException gone) {
                // exited meanwhile
            }
        }
        assertEquals(1, found.size(), "one agent JVM among the init's children " + children);
        return found.get(0);
    }

    private static void hostKill(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start();
        assertEquals(0, p.waitFor(), "kill " + signal + " " + pid + " on the host");
    }
}
