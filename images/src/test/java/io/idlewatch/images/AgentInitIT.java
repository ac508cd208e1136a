package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Box.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's init duties, tested from outside like tini's own tests: real image,
 * real containers, `docker kill`, `docker stop`, /proc read through `docker exec`.
 */
class AgentInitIT {
    private static final Duration EXIT = Duration.ofSeconds(30);

    @ParameterizedTest(name = "exit {0}")
    @ValueSource(ints = {0, 1, 2, 3, 42, 100, 125, 126, 127, 128, 129, 143, 200, 254, 255})
    void workloadExitCodePassesThrough(int code) {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sh", "-c", "exit " + code).start()) {
            assertEquals(code, box.awaitExit(EXIT));
        }
    }

    @ParameterizedTest(name = "killed by SIG{0}")
    @CsvSource({"TERM,15", "HUP,1", "INT,2", "KILL,9", "QUIT,3", "USR1,10"})
    void workloadKilledBySignalGives128PlusN(String signal, int number) {
        // dash, not bash: bash ignores SIGQUIT on its own. The workload starts with default dispositions.
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sh", "-c", "kill -s " + signal + " $$; sleep 5").start()) {
            assertEquals(128 + number, box.awaitExit(EXIT));
        }
    }

    @Test
    void dockerKillTermOnSleepExits143() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sleep", "1000").start()) {
            waitForProcess(box, "sleep");
            box.kill("TERM");
            assertEquals(143, box.awaitExit(EXIT));
        }
    }

    @Test
    void dockerStopTakesWellUnderItsTimeout() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("sleep", "1000").start()) {
            waitForProcess(box, "sleep");
            long start = System.nanoTime();
            box.stop(10);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(143, box.awaitExit(EXIT), "SIGTERM, not SIGKILL, ended it");
            assertTrue(millis < 3000, "docker stop took " + millis + " ms");
        }
    }

    /** Everything tini forwards; SIGTTIN/SIGTTOU and the fault signals are not forwarded by either. */
    @Test
    void everyForwardedSignalReachesTheWorkload() {
        List<String> signals = List.of("HUP", "INT", "QUIT", "USR1", "USR2", "PIPE", "ALRM", "STKFLT", "CONT", "TSTP",
                "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "RTMIN", "RTMIN+1", "RTMAX-1", "RTMAX");
        StringBuilder script = new StringBuilder();
        for (String s : signals) {
            script.append("trap 'echo got ").append(s).append("' ").append(s).append("; ");
        }
        // Wait with a builtin (read on a fifo), not an external sleep: SIGTSTP would stop
        // a child sleep and keep bash from running its traps.
        script.append("mkfifo /tmp/tick; exec 9<>/tmp/tick; echo ready; while :; do read -t 0.05 -u 9; done");
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("bash", "-c", script.toString()).start()) {
            eventually(Duration.ofSeconds(10), "recorder ready", () -> box.logs().contains("ready"));
            for (String s : signals) {
                box.kill(s);
                eventually(Duration.ofSeconds(5), "workload saw SIG" + s, () -> box.logs().contains("got " + s + "\n"));
            }
            box.kill("TERM");
            assertEquals(143, box.awaitExit(EXIT));
        }
    }

    @Test
    void hundredOrphansAreReaped() {
        assertOrphansReaped(Box.of(AGENT_TEST_IMAGE), "1");
    }

    @Test
    void orphansAreReapedUnderDockerInitAsSubreaper() {
        // docker-init (tini) is PID 1; the agent is its child and registers as subreaper.
        assertOrphansReaped(Box.of(AGENT_TEST_IMAGE).init(), null);
    }

    private static void assertOrphansReaped(Box.Spec spec, String expectedParent) {
        String script = "for i in $(seq 100); do (sleep 3 &); done; echo spawned; exec tail -f /dev/null";
        try (Box box = spec.cmd("bash", "-c", script).start()) {
            eventually(Duration.ofSeconds(10), "orphans spawned", () -> box.logs().contains("spawned"));
            String agentPid = expectedParent != null ? expectedParent : initPid(box);
            // The orphans' parent is the agent's init, not the shell that started them.
            String parents = box.exec("sh", "-c",
                    "(for f in /proc/[0-9]*/stat; do read -r l < $f && echo \"$l\"; done) 2>/dev/null"
                            + " | awk '$2==\"(sleep)\" && $4==" + agentPid + "' | wc -l");
            assertTrue(Integer.parseInt(parents.trim()) >= 100, "orphans re-parented to the agent: " + parents.trim());
            eventually(Duration.ofSeconds(20), "orphans exited and were reaped", () -> {
                String out = box.exec("sh", "-c",
                        "(for f in /proc/[0-9]*/stat; do read -r l < $f && echo \"$l\"; done) 2>/dev/null"
                                + " | awk '$2==\"(sleep)\" && $4==" + agentPid + "' | wc -l");
                return out.trim().equals("0");
            });
            String zombies = box.exec("sh", "-c",
                    "for f in /proc/[0-9]*/stat; do read -r l < $f 2>/dev/null && echo \"$l\"; done | awk '$3==\"Z\"' | wc -l");
            assertEquals("0", zombies.trim(), "processes in state Z");
            box.kill("TERM");
            assertEquals(143, box.awaitExit(EXIT));
        }
    }

    /** Waits until a process with this comm runs in the container. */
    static void waitForProcess(Box box, String comm) {
        eventually(Duration.ofSeconds(10), comm + " running", () -> box.exec("sh", "-c",
                "cat /proc/[0-9]*/comm 2>/dev/null").lines().anyMatch(comm::equals));
    }

    /** The agent's init (bin/idlewatch -- CMD) as its container sees it. */
    static String initPid(Box box) {
        return box.exec("sh", "-c", "(for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline"
                + " | grep -q '^/opt/idlewatch/bin/idlewatch -- ' && basename $p; done) 2>/dev/null"
                + " | head -1").trim();
    }

    /** `docker run -it IMAGE bash`: the agent hands the terminal to the shell, which gets job control. */
    @Test
    void interactiveShellGetsTheTerminalAndJobControl() throws Exception {
        String name = "idlewatch-it-tty-" + System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder("script", "-qfec", "docker run --rm -it --name " + name
                + " --label " + Box.RUN_LABEL + "=" + Box.RUN_ID + " " + AGENT_TEST_IMAGE + " bash", "/dev/null")
                .redirectErrorStream(true);
        Process p = pb.start();
        StringBuffer screen = Watched.drain(p.getInputStream());
        try {
            eventually(Duration.ofSeconds(20), "a prompt", () -> screen.toString().contains("# "));
            p.getOutputStream().write("case $- in *m*) echo MONITOR_ON;; *) echo MONITOR_OFF;; esac; exit 5\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            p.getOutputStream().flush();
            assertTrue(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS), screen.toString());
            assertEquals(5, p.exitValue(), screen.toString());
            assertTrue(screen.toString().contains("MONITOR_ON"), screen.toString());
            assertTrue(!screen.toString().contains("no job control"), screen.toString());
        } finally {
            p.destroyForcibly();
            new ProcessBuilder("docker", "rm", "-f", name).start().waitFor();
        }
    }

    @Test
    void missingCommandExits127WithMessage() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("no-such-command", "x").start()) {
            assertEquals(127, box.awaitExit(EXIT));
            assertTrue(box.logs().contains("idlewatch: exec no-such-command failed: No such file or directory"), box.logs());
        }
    }

    @Test
    void nonExecutableCommandExits126WithMessage() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).cmd("/etc/hostname").start()) {
            assertEquals(126, box.awaitExit(EXIT));
            assertTrue(box.logs().contains("idlewatch: exec /etc/hostname failed: Permission denied"), box.logs());
        }
    }

    @Test
    void noArgumentsIsAUsageError() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).entrypoint("/opt/idlewatch/bin/idlewatch").cmd("--").start()) {
            assertEquals(2, box.awaitExit(EXIT));
            assertTrue(box.logs().contains("usage: idlewatch"), box.logs());
        }
    }
}
