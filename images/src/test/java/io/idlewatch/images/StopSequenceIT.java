package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stop sequence as the host sees it (SPEC §3 "Stopping"): on time, the
 * pre-stop command before the workload's SIGTERM, the configured exit code, and
 * a state file saying why, readable from the exited container without exec.
 */
@Execution(ExecutionMode.CONCURRENT)
class StopSequenceIT {
    /**
     * Traps SIGTERM so the log shows when the workload got it, relative to the pre-stop command.
     * Everything whose order is checked goes to stderr, where the agent logs: Docker copies
     * stdout and stderr through separate pipes, so order is only kept within one stream.
     */
    private static final String WORKLOAD = "trap 'echo workload got SIGTERM >&2; exit 0' TERM; "
            + "while :; do sleep 1 & wait $!; done";

    @ParameterizedTest(name = "exit code {0}")
    @ValueSource(ints = {0, 7})
    void idleStopRunsPreStopThenTermsAndExitsWithTheCode(int exitCode) {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE)
                .env("IDLEWATCH_EXIT_CODE", Integer.toString(exitCode))
                .env("IDLEWATCH_PRE_STOP", "echo pre-stop ran for $HOSTNAME >&2")
                .cmd("bash", "-c", WORKLOAD).start()) {
            Watched.stopsInWindow(box, Watched.startedAt(box), exitCode);

            String logs = box.logs();
            int stopping = logs.indexOf("idlewatch: stopping: idle ");
            int preStop = logs.indexOf("pre-stop ran for " + box.id.substring(0, 12)); // the hostname
            int term = logs.indexOf("workload got SIGTERM");
            assertTrue(stopping >= 0 && preStop > stopping && term > preStop,
                    "stop line, then pre-stop, then SIGTERM:\n" + logs);
            assertTrue(logs.contains("(last activity: cpu never, exec never, tty never, http never, opencode never)"),
                    logs);

            String state = Watched.stateFile(box);
            assertTrue(state.contains("\"state\":\"stopped\""), state);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertEquals(Integer.toString(exitCode), Watched.stopField(state, "exit_code"));
            assertTrue(Watched.stopField(state, "detail").startsWith("idle "), state);
        }
    }

    /** Stops a workload that ignores SIGTERM with SIGKILL after the grace; the exit code is still ours. */
    @Test
    void workloadIgnoringTermIsKilledAfterTheGrace() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE)
                .env("IDLEWATCH_STOP_GRACE", "3s")
                .env("IDLEWATCH_EXIT_CODE", "5")
                .cmd("bash", "-c", "trap '' TERM; while :; do sleep 1; done").start()) {
            int code = box.awaitExit(Duration.ofSeconds(60));
            assertEquals(5, code, box.logs());
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(Watched.TIMEOUT.plusSeconds(3)) >= 0, "the grace was given: ran " + ran);
            assertTrue(ran.compareTo(Watched.TIMEOUT.plus(Watched.POLL).plus(Watched.SLACK).plusSeconds(3)) <= 0,
                    "ran " + ran);
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    @Test
    void lifetimeCapStopsEvenABusyContainer() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE)
                .env("IDLEWATCH_MAX_LIFETIME", "15s")
                .env("IDLEWATCH_EXIT_CODE", "9")
                .cmd("nice", "-n", "5", "bash", "-c", "while :; do :; done").start()) {
            int code = box.awaitExit(Duration.ofSeconds(60));
            assertEquals(9, code, box.logs());
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(Duration.ofSeconds(15)) >= 0, "ran " + ran);
            assertTrue(ran.compareTo(Duration.ofSeconds(15).plus(Watched.POLL).plus(Watched.SLACK)) <= 0,
                    "ran " + ran);
            String state = Watched.stateFile(box);
            assertEquals("lifetime", Watched.stopField(state, "reason"));
            assertTrue(Watched.signal(state, "cpu").contains("\"last_fired\":\"20"), "busy until the end: " + state);
            assertTrue(box.logs().contains("idlewatch: stopping: lifetime "), box.logs());
        }
    }

    /** Activity or not, with no timeout the agent never stops for idleness. */
    @Test
    void timeoutOffNeverStops() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "off")
                .env("IDLEWATCH_POLL_INTERVAL", "1s").cmd("sleep", "infinity").start()) {
            Watched.keepsRunningUntil(box, Watched.startedAt(box).plus(Watched.TIMEOUT.plusSeconds(15)), "timeout off");
            assertTrue(box.exec("cat", Watched.STATE_FILE).contains("\"timeout_ms\":null"));
        }
    }
}
