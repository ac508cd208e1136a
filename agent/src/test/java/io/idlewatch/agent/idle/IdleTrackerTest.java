package io.idlewatch.agent.idle;

import io.idlewatch.agent.control.ControlProtocol;
import io.idlewatch.agent.control.ControlService;
import io.idlewatch.agent.idle.IdleTracker.Decision;
import io.idlewatch.agent.signal.ActivitySignal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The idle decision on a fake clock: hours of polling in milliseconds. */
class IdleTrackerTest {
    private static final Duration POLL = Duration.ofMinutes(1);

    private final FakeClock clock = new FakeClock();
    private final ScriptedSignal cpu = new ScriptedSignal("cpu");
    private final ScriptedSignal exec = new ScriptedSignal("exec");
    private final ScriptedSignal tty = new ScriptedSignal("tty");
    private final ScriptedSignal http = new ScriptedSignal("http");
    private final ScriptedSignal opencode = new ScriptedSignal("opencode");
    private final List<String> log = new ArrayList<>();
    private List<ActivitySignal> all;

    @BeforeEach
    void signals() {
        all = List.of(cpu, exec, tty, http, opencode);
    }

    private IdleTracker tracker(Duration timeout, Duration maxTimeout, Duration maxLifetime, Duration warnBefore) {
        return new IdleTracker(all, clock, timeout, maxTimeout, maxLifetime, warnBefore, 0, log::add);
    }

    private Decision pollAfter(IdleTracker t, Duration d) {
        clock.advance(d);
        return t.poll();
    }

    @Test
    void idleCountsUpAndResetsOnActivity() {
        IdleTracker t = tracker(null, null, null, Duration.ZERO);
        pollAfter(t, POLL);
        pollAfter(t, POLL);
        assertEquals(120_000, t.idleMillis());
        http.fireNext = true;
        pollAfter(t, POLL);
        assertEquals(0, t.idleMillis());
        pollAfter(t, POLL);
        assertEquals(60_000, t.idleMillis());
        assertEquals("http", t.status().lastActivitySignal());
    }

    /** http confirms a short connection one poll after it happened: idle time counts from then. */
    @Test
    void activityReportedLateCountsFromWhenItHappened() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ZERO);
        pollAfter(t, POLL);
        pollAfter(t, POLL);
        http.fireNext = true;
        http.firedNanosAgo = POLL.toNanos();
        pollAfter(t, POLL);
        assertEquals(60_000, t.idleMillis(), "idle since the earlier poll, not since now");
        IdleTracker.Status s = t.status();
        assertEquals(FakeClock.EPOCH + 120_000, s.lastActivityEpochMillis());
        assertEquals(FakeClock.EPOCH + 120_000, s.signals().get(3).lastFiredEpochMillis());
        // an earlier moment never moves the last activity back
        cpu.fireNext = true;
        pollAfter(t, POLL);
        http.fireNext = true;
        http.firedNanosAgo = 3 * POLL.toNanos();
        pollAfter(t, POLL);
        assertEquals(60_000, t.idleMillis());
    }

    @Test
    void warnsOnceThenStopsAtExactlyTheThreshold() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ofMinutes(5));
        List<Decision> decisions = new ArrayList<>();
        for (int minute = 1; minute <= 30; minute++) {
            decisions.add(pollAfter(t, POLL));
        }
        for (int minute = 1; minute <= 30; minute++) {
            Decision expected = minute == 25 ? Decision.WARN : minute == 30 ? Decision.STOP_IDLE : Decision.CONTINUE;
            assertEquals(expected, decisions.get(minute - 1), "minute " + minute);
        }
        assertEquals(Decision.STOP_IDLE, pollAfter(t, POLL), "a stop decision sticks");
        assertEquals("stopping", t.status().state());
        assertEquals("idle", t.stopInfo().reason());
    }

    @Test
    void oneMillisecondShortOfTheThresholdIsNotAStop() {
        IdleTracker t = tracker(Duration.ofSeconds(90), null, null, Duration.ZERO);
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMillis(89_999)));
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofMillis(1)));
    }

    @Test
    void activityReArmsTheWarning() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ofMinutes(5));
        assertEquals(Decision.WARN, pollAfter(t, Duration.ofMinutes(26)));
        tty.fireNext = true;
        assertEquals(Decision.CONTINUE, pollAfter(t, POLL));
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(24)));
        assertEquals(Decision.WARN, pollAfter(t, Duration.ofMinutes(1)));
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(1)));
    }

    @Test
    void noWarningWhenWarnBeforeIsZero() {
        IdleTracker t = tracker(Duration.ofMinutes(10), null, null, Duration.ZERO);
        for (int i = 1; i < 10; i++) {
            assertEquals(Decision.CONTINUE, pollAfter(t, POLL));
        }
        assertEquals(Decision.STOP_IDLE, pollAfter(t, POLL));
    }

    @Test
    void lifetimeStopsEvenWhileActive() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, Duration.ofHours(8), Duration.ofMinutes(5));
        for (int i = 1; i < 8 * 60; i++) {
            cpu.fireNext = true;
            assertEquals(Decision.CONTINUE, pollAfter(t, POLL), "minute " + i);
        }
        cpu.fireNext = true;
        assertEquals(Decision.STOP_LIFETIME, pollAfter(t, POLL));
        assertEquals("idlewatch: stopping: lifetime 8h0m0s >= max lifetime 8h (last activity: cpu 0s ago,"
                + " exec never, tty never, http never, opencode never)", t.stopLine());
        assertEquals("lifetime", t.stopInfo().reason());
        assertEquals(0, t.status().lifetimeLeftMillis());
    }

    @Test
    void aDegradedSensorNeverLeadsToAStop() {
        IdleTracker t = tracker(Duration.ofMinutes(1), null, null, Duration.ofSeconds(30));
        http.failure = new IllegalStateException("sock_diag answered error 13");
        for (int i = 0; i < 600; i++) {
            assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofSeconds(10)));
        }
        IdleTracker.SignalStatus s = t.status().signals().get(3);
        assertEquals("http", s.name());
        assertTrue(s.degraded());
        assertEquals("degraded: sock_diag answered error 13", s.detail());
        assertEquals(List.of("idlewatch: signal http degraded (counts as activity): sock_diag answered error 13",
                "idlewatch: signal http degraded without a break for 1m10s, longer than the idle timeout 1m:"
                        + " it alone keeps the workspace running (sock_diag answered error 13)"),
                log, "logged once each, not every poll");
        assertEquals(FakeClock.EPOCH + 10_000, s.degradedSinceEpochMillis(), "since its first failure");
        assertTrue(StatusTextAccess.render(t.status()).contains("http: degraded for 1h39m50s, longer than the timeout"
                + " (sock_diag answered error 13)"), StatusTextAccess.render(t.status()));
        log.remove(1);

        http.failure = null;
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofSeconds(10)));
        assertEquals("idlewatch: signal http recovered: http quiet", log.get(1));
        assertEquals(-1, t.status().signals().get(3).degradedSinceEpochMillis(), "no run of failures now");
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofSeconds(60)));
    }

    @Test
    void errorsOtherThanExceptionsAreCaughtToo() {
        ScriptedSignal linkage = new ScriptedSignal("http");
        linkage.failure = new UnsatisfiedLinkError("libc.so.6");
        IdleTracker t = new IdleTracker(List.of(linkage), clock, Duration.ofMinutes(1), null, null, Duration.ZERO, 0, log::add);
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(5)));
        assertTrue(t.status().signals().get(3).degraded());
    }

    @Test
    void theStopLineNamesEachSignalsLastFiring() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ZERO);
        http.fireNext = true;
        pollAfter(t, Duration.ofMinutes(1)); // 2h before the stop
        cpu.fireNext = true;
        pollAfter(t, Duration.ofMinutes(89)); // 31m before
        tty.fireNext = true;
        pollAfter(t, Duration.ofSeconds(48)); // 30m12s before
        clock.advance(Duration.ofSeconds(12));
        t.touch(null); // 30m before
        for (int minute = 92; minute < 121; minute++) {
            assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(1)), "minute " + minute);
        }
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofMinutes(1)));
        assertEquals("idlewatch: stopping: idle 30m0s >= timeout 30m (last activity: cpu 31m ago, exec never,"
                + " tty 30m12s ago, http 2h ago, opencode never, touch 30m ago)", t.stopLine());
    }

    @Test
    void disabledSignalsAreListedAsOff() {
        all = List.of(http);
        IdleTracker t = tracker(Duration.ofMinutes(1), null, null, Duration.ZERO);
        t.touch("deploy");
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofMinutes(1)));
        assertEquals("idlewatch: stopping: idle 1m0s >= timeout 1m (last activity: cpu off, exec off, tty off,"
                + " http never, opencode off, touch 1m ago (deploy))", t.stopLine());
        assertFalse(t.status().signals().get(0).enabled());
        assertEquals(0, cpu.samples);
    }

    @Test
    void touchCountsAsActivityNow() {
        IdleTracker t = tracker(Duration.ofMinutes(10), null, null, Duration.ZERO);
        pollAfter(t, Duration.ofMinutes(9));
        t.touch("reviewing");
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(9)));
        assertEquals("touch", t.status().lastActivitySignal());
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofMinutes(1)));
    }

    @Test
    void holdsKeepItActiveUntilReleased() {
        IdleTracker t = tracker(Duration.ofMinutes(10), null, null, Duration.ZERO);
        t.hold("inhibit-1", "make release");
        for (int i = 0; i < 120; i++) {
            assertEquals(Decision.CONTINUE, pollAfter(t, POLL));
        }
        assertEquals(1, t.status().holds());
        t.release("inhibit-1");
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(9)));
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofMinutes(1)));
    }

    @Test
    void setTimeoutRespectsTheMaximum() {
        IdleTracker t = tracker(Duration.ofMinutes(30), Duration.ofHours(2), null, Duration.ZERO);
        t.setTimeout("1h30m");
        assertEquals(Duration.ofMinutes(90), t.timeout());
        IllegalArgumentException above = assertThrows(IllegalArgumentException.class, () -> t.setTimeout("3h"));
        assertEquals("cannot set the timeout to 3h: IDLEWATCH_MAX_TIMEOUT is 2h; use a duration of at most 2h",
                above.getMessage());
        IllegalArgumentException off = assertThrows(IllegalArgumentException.class, () -> t.setTimeout("off"));
        assertEquals("cannot set the timeout to off: IDLEWATCH_MAX_TIMEOUT is 2h; use a duration of at most 2h",
                off.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> t.setTimeout("30x"));
        assertEquals("timeout \"30x\": unknown unit 'x'; use a duration like 30m, 1h30m or 90s, or off",
                bad.getMessage());
        assertEquals(Duration.ofMinutes(90), t.timeout(), "rejected changes change nothing");
        t.setTimeout("2h");
        assertEquals(Duration.ofHours(2), t.timeout());
    }

    @Test
    void setTimeoutTakesEffectOnTheNextPoll() {
        IdleTracker t = tracker(null, null, null, Duration.ZERO);
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofHours(3)));
        t.setTimeout(Duration.ofHours(1));
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofSeconds(1)));
        IdleTracker u = tracker(Duration.ofMinutes(5), null, null, Duration.ZERO);
        u.setTimeout("off");
        assertNull(u.timeout());
        assertEquals(Decision.CONTINUE, pollAfter(u, Duration.ofHours(5)));
    }

    @Test
    void markStoppingRecordsStopsTheTrackerDidNotDecide() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ZERO);
        assertNull(t.stopLine());
        t.markStopping("workload-exit", 3, "workload exited with code 3");
        assertEquals("stopping", t.status().state());
        t.markStopped();
        assertEquals("stopped", t.status().state());
        assertEquals(new IdleTracker.StopInfo("workload-exit", FakeClock.EPOCH, 3, "workload exited with code 3"),
                t.status().stop());
    }

    @Test
    void theWarningSaysHowToKeepTheWorkspace() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, null, Duration.ofMinutes(5));
        assertEquals(Decision.WARN, pollAfter(t, Duration.ofMinutes(25)));
        assertEquals("\r\nidlewatch: this workspace has been idle for 25m and will stop in 5m (timeout 30m).\r\n"
                + "idlewatch: type anything here, or run `idlewatch touch`, to keep it running.\r\n", t.warningText());
    }

    /** The escape from the lifetime cap: a timeout beyond any clock's range is refused, the cap holds. */
    @Test
    void aTimeoutBeyondTheMaximumIsRefusedAndTheCapStillHolds() {
        IdleTracker t = tracker(Duration.ofMinutes(30), null, Duration.ofSeconds(25), Duration.ZERO);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.setTimeout("200000d"));
        assertEquals("timeout \"200000d\": too large: at most 3650d (about 10 years); "
                + "use a duration like 30m, 1h30m or 90s, or off", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.setTimeout(Duration.ofDays(200_000)));
        t.setTimeout("3650d"); // the maximum itself is fine, and safe in nanoseconds
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofSeconds(20)));
        assertEquals(Decision.STOP_LIFETIME, pollAfter(t, Duration.ofSeconds(5)));
    }

    /** The supervisor's own check: the cap needs no poll at all. */
    @Test
    void theLifetimeCapIsEnforcedWithoutAPoll() {
        IdleTracker t = tracker(null, null, Duration.ofSeconds(25), Duration.ZERO);
        clock.advance(Duration.ofSeconds(24));
        assertNull(t.stopIfLifetimeReached());
        clock.advance(Duration.ofSeconds(1));
        IdleTracker.StopInfo stop = t.stopIfLifetimeReached();
        assertEquals("lifetime", stop.reason());
        assertEquals("stopping", t.status().state());
        assertNull(t.stopIfLifetimeReached(), "once");
        assertEquals(Decision.STOP_LIFETIME, t.poll());
    }

    @Test
    void aStopMarkedFromOutsideIsNotOverwrittenByALaterPoll() {
        IdleTracker t = tracker(Duration.ofMinutes(1), null, null, Duration.ZERO);
        t.markStopping("signal", 143, "the container got SIGTERM");
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofMinutes(2)));
        assertEquals("signal", t.stopInfo().reason());
        t.markExitCode(137, "the container got SIGTERM; the workload was killed by SIGKILL (137)");
        t.markStopped();
        t.markStopping("workload-exit", 0, "late");
        assertEquals("stopped", t.status().state());
        assertEquals(137, t.stopInfo().exitCode());
    }

    /**
     * docker pause for longer than the timeout, then unpause: whoever unpaused it wants to use it.
     * The end of the freeze is activity, so the stop comes a whole timeout later, and says how long
     * the container had been frozen.
     */
    @Test
    void unpauseCountsAsUse() {
        IdleTracker t = new IdleTracker(all, clock, Duration.ofSeconds(30), null, null, Duration.ZERO, 0, log::add,
                Duration.ofSeconds(5), IdleTracker.INLINE);
        for (int i = 0; i < 5; i++) {
            pollAfter(t, Duration.ofSeconds(5));
        }
        assertEquals(25_000, t.idleMillis());
        assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofSeconds(45)), "frozen 40s between two polls");
        assertEquals(0, t.idleMillis());
        assertEquals(IdleTracker.RESUME, t.status().lastActivitySignal());
        assertTrue(log.get(log.size() - 1).contains("resumed after 40s frozen"), log.toString());
        for (int i = 0; i < 5; i++) {
            assertEquals(Decision.CONTINUE, pollAfter(t, Duration.ofSeconds(5)), "poll " + i + " after the unpause");
        }
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofSeconds(5)));
        IdleTracker.StopInfo stop = t.stopInfo();
        assertEquals(40_000, stop.frozenMillis());
        assertTrue(stop.detail().startsWith("idle 30s >= timeout 30s"), stop.detail());
        assertTrue(stop.detail().contains("resume 30s ago (resumed after 40s frozen)"), stop.detail());
        assertTrue(stop.detail().endsWith("; the container had been frozen for 40s before that"), stop.detail());
    }

    /** A freeze long past, followed by other activity, is not what the stop follows. */
    @Test
    void anOldFreezeIsNotInTheStop() {
        IdleTracker t = new IdleTracker(all, clock, Duration.ofSeconds(30), null, null, Duration.ZERO, 0, log::add,
                Duration.ofSeconds(5), IdleTracker.INLINE);
        pollAfter(t, Duration.ofSeconds(5));
        pollAfter(t, Duration.ofMinutes(10));
        http.fireNext = true;
        pollAfter(t, Duration.ofSeconds(5));
        Decision d = Decision.CONTINUE;
        while (d == Decision.CONTINUE) {
            d = pollAfter(t, Duration.ofSeconds(5));
        }
        assertEquals(Decision.STOP_IDLE, d);
        assertEquals(-1, t.stopInfo().frozenMillis());
        assertEquals("http", t.status().lastActivitySignal());
    }

    /** A slow sample (a sensor near its deadline) is not a freeze: the gap is measured between polls. */
    @Test
    void aSlowSampleIsNotAFreeze() {
        ActivitySignal slow = new ActivitySignal() {
            @Override
            public String name() {
                return "cpu";
            }

            @Override
            public Reading sample(long monotonicNanos) {
                clock.advance(Duration.ofSeconds(8)); // every sample takes 8 s, well past the slack
                return Reading.quiet("slow");
            }
        };
        IdleTracker t = new IdleTracker(List.of(slow), clock, Duration.ofSeconds(60), null, null, Duration.ZERO, 0,
                log::add, Duration.ofSeconds(5), IdleTracker.INLINE);
        Decision d = Decision.CONTINUE;
        int polls = 0;
        while (d == Decision.CONTINUE && polls++ < 100) {
            d = pollAfter(t, Duration.ofSeconds(5));
        }
        assertEquals(Decision.STOP_IDLE, d);
        assertEquals(-1, t.stopInfo().frozenMillis());
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void aSlowPollIsNotAFreeze() {
        IdleTracker t = new IdleTracker(all, clock, Duration.ofSeconds(30), null, null, Duration.ZERO, 0, log::add,
                Duration.ofSeconds(5), IdleTracker.INLINE);
        for (int i = 0; i < 5; i++) {
            pollAfter(t, Duration.ofSeconds(7));
        }
        assertEquals(Decision.STOP_IDLE, pollAfter(t, Duration.ofSeconds(7)));
        assertEquals(-1, t.stopInfo().frozenMillis());
    }

    @Test
    void reasonsFromClientsAreOneBoundedLine() {
        IdleTracker t = tracker(Duration.ofMinutes(1), null, null, Duration.ZERO);
        // through the control service, where a client's text enters the agent
        ControlService service = new ControlService(t, new StateFile(Path.of("/nonexistent"), null));
        service.handle(ControlProtocol.request(ControlProtocol.TOUCH,
                Map.of("reason", "a\u001b]52;c;aGk=\u0007b\nc" + "x".repeat(500))).strip());
        pollAfter(t, Duration.ofMinutes(2));
        String line = t.stopLine();
        assertFalse(line.chars().anyMatch(c -> c < 0x20), line);
        assertTrue(line.length() < 600, line);
    }
}
