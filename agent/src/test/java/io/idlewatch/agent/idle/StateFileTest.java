package io.idlewatch.agent.idle;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;

import java.nio.file.LinkOption;

import io.idlewatch.contract.StateLink;

import io.idlewatch.contract.StateRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class StateFileTest {
    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();

    @Test
    void runningStateInTheAgreedFormat() throws Exception {
        ScriptedSignal http = new ScriptedSignal("http");
        IdleTracker t = new IdleTracker(List.of(new ScriptedSignal("cpu"), http), clock, Duration.ofMinutes(30), null,
                null, Duration.ZERO, 0, s -> { });
        clock.advance(Duration.ofMinutes(1));
        http.fireNext = true;
        t.poll();
        clock.advance(Duration.ofMinutes(2).plusSeconds(3));
        t.poll();
        StateFile file = new StateFile(dir.resolve("run/idlewatch"), null);
        file.write(t.status());
        assertEquals("{\"version\":1,\"workspace\":null,\"state\":\"running\",\"updated\":\"2026-11-22T07:03:03Z\","
                + "\"started\":\"2026-11-22T07:00:00Z\",\"poll_interval_ms\":null,\"idle_ms\":123000,\"timeout_ms\":1800000,"
                + "\"max_lifetime_ms\":null,\"lifetime_left_ms\":null,\"last_activity\":\"2026-11-22T07:01:00Z\","
                + "\"last_activity_signal\":\"http\",\"signals\":{"
                + "\"cpu\":{\"enabled\":true,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"cpu quiet\"},"
                + "\"exec\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"tty\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"http\":{\"enabled\":true,\"last_fired\":\"2026-11-22T07:01:00Z\",\"last_fired_detail\":\"http fired\",\"degraded\":false,"
                + "\"detail\":\"http quiet\"},"
                + "\"opencode\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"}},"
                + "\"stop\":null}\n", Files.readString(file.path()));
        Path link = file.path().resolveSibling(StateLink.NAME);
        assertEquals(Set.of(file.path(), link), Set.copyOf(Files.list(file.path().getParent()).toList()),
                "no temp file left behind");
        // the same record as the link's target, for the host's one-stat read
        assertTrue(Files.isSymbolicLink(link));
        assertEquals(Files.readString(file.path()).strip(),
                new String(StateLink.decode(Files.readSymbolicLink(link).toString()).orElseThrow(), StandardCharsets.UTF_8));
    }

    @Test
    void aRecordTooLongForALinkLeavesNoneAndAnOldLinkIsGone() throws Exception {
        ScriptedSignal chatty = new ScriptedSignal("tty");
        IdleTracker t = new IdleTracker(List.of(chatty), clock, null, null, Duration.ofHours(1), Duration.ZERO, 0,
                s -> { });
        t.poll();
        StateFile file = new StateFile(dir.resolve("run/idlewatch"), null);
        file.write(t.status());
        Path link = file.path().resolveSibling(StateLink.NAME);
        assertTrue(Files.isSymbolicLink(link));
        file = new StateFile(dir.resolve("run/idlewatch"), "/".repeat(StateLink.MAX_TARGET_BYTES / 3));
        file.write(t.status());
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS), "no link, so no stale record in one");
        assertTrue(Files.readString(file.path()).contains("////"));
    }

    @Test
    void stoppedStateWithLifetimeAndEscapedText() throws Exception {
        ScriptedSignal weird = new ScriptedSignal("tty");
        weird.failure = new IllegalStateException("bad \"pts\"\n\\ \u0001");
        IdleTracker t = new IdleTracker(List.of(weird), clock, null, null, Duration.ofHours(1), Duration.ZERO, 0,
                s -> { });
        clock.advance(Duration.ofMinutes(59));
        t.poll();
        clock.advance(Duration.ofMinutes(1));
        t.poll();
        t.markStopped();
        String json = new StateFile(dir, "ws \"one\"").render(t.status());
        assertEquals("{\"version\":1,\"workspace\":\"ws \\\"one\\\"\",\"state\":\"stopped\","
                + "\"updated\":\"2026-11-22T08:00:00Z\",\"started\":\"2026-11-22T07:00:00Z\",\"poll_interval_ms\":null,\"idle_ms\":0,"
                + "\"timeout_ms\":null,\"max_lifetime_ms\":3600000,\"lifetime_left_ms\":0,"
                + "\"last_activity\":\"2026-11-22T08:00:00Z\",\"last_activity_signal\":\"tty\",\"signals\":{"
                + "\"cpu\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"exec\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"tty\":{\"enabled\":true,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":true,"
                + "\"degraded_since\":\"2026-11-22T07:59:00Z\",\"detail\":\"degraded: bad \\\"pts\\\" \\\\ \\u0001\"},"
                + "\"http\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"opencode\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"}},"
                + "\"stop\":{\"reason\":\"lifetime\",\"at\":\"2026-11-22T08:00:00Z\",\"exit_code\":0,"
                + "\"detail\":\"lifetime 1h0m0s >= max lifetime 1h (last activity: cpu off, exec off, tty degraded,"
                + " http off, opencode off)\",\"frozen_ms\":null}}\n", json);
    }

    @Test
    void rewritingReplacesTheFile() throws Exception {
        IdleTracker t = new IdleTracker(List.of(), clock, null, null, null, Duration.ZERO, 0, s -> { });
        StateFile file = new StateFile(dir, "a");
        file.write(t.status());
        clock.advance(Duration.ofSeconds(5));
        file.write(t.status());
        String text = Files.readString(file.path());
        assertFalse(Files.exists(dir.resolve("state.json.tmp")));
        assertEquals(true, text.contains("\"idle_ms\":5000"));
    }

    // The file is the contract's StateRecord (module contract), which the host reads back; these check
    // that every field of the tracker's status lands in its field, for every kind of record.

    /** A workspace name as hostile as an environment variable can be. */
    static final String HOSTILE = "ws \"q\" \\ \n\r\t\u0000\u001f\u007f \u2028\u2029 é 日本 \uD83D\uDE00 </script>";

    private final ScriptedSignal cpu = new ScriptedSignal("cpu");
    private final ScriptedSignal http = new ScriptedSignal("http");

    private IdleTracker tracker(Duration timeout, Duration maxLifetime) {
        return new IdleTracker(List.of(cpu, http), clock, timeout, null, maxLifetime, Duration.ZERO, 0, s -> { },
                Duration.ofSeconds(2), IdleTracker.INLINE);
    }

    @Test
    void runningRecord() throws Exception {
        IdleTracker t = tracker(Duration.ofMinutes(30), Duration.ofHours(8));
        clock.advance(Duration.ofSeconds(10));
        http.fireNext = true;
        t.poll();
        clock.advance(Duration.ofMillis(1500));
        t.poll();
        StateRecord r = written(t.status(), HOSTILE);
        assertEquals(StateRecord.STATE_RUNNING, r.state());
        assertEquals(HOSTILE, r.workspace());
        assertEquals(Duration.ofSeconds(2), r.pollInterval());
        assertEquals(Duration.ofMillis(1500), r.idle());
        assertEquals(Duration.ofHours(8).minusMillis(11_500), r.lifetimeLeft());
        assertEquals("http", r.lastActivitySignal());
        assertEquals(Instant.ofEpochMilli(FakeClock.EPOCH + 10_000), r.signals().get(3).lastFired());
        assertNull(r.stop());
    }

    @Test
    void stoppedRecordForEveryReason() throws Exception {
        for (String reason : StateRecord.Stop.REASONS) {
            IdleTracker t = tracker(Duration.ofMinutes(1), Duration.ofMinutes(2));
            clock.advance(Duration.ofSeconds(1));
            t.poll();
            switch (reason) {
                // Polled every interval, as the loop does: a longer gap would be a freeze.
                case StateRecord.Stop.REASON_IDLE -> pollUntilStop(t, false);
                case StateRecord.Stop.REASON_LIFETIME -> pollUntilStop(t, true);
                default -> t.markStopping(reason, 143, "got \"" + reason + "\" \\ \u2028 é");
            }
            t.markStopped();
            StateRecord r = written(t.status(), null);
            assertEquals(StateRecord.STATE_STOPPED, r.state(), reason);
            assertEquals(reason, r.stop().reason());
            assertEquals(reason.equals("idle") || reason.equals("lifetime") ? 0 : 143, r.stop().exitCode(), reason);
            assertEquals(Instant.ofEpochMilli(clock.epochMillis()), r.stop().at(), reason);
            assertNull(r.stop().frozen(), reason);
        }
    }

    /** Polls every two seconds, active all along or not, until the tracker decides to stop. */
    private void pollUntilStop(IdleTracker t, boolean active) {
        for (int i = 0; i < 1000; i++) {
            http.fireNext = active;
            clock.advance(Duration.ofSeconds(2));
            if (t.poll().isStop()) {
                return;
            }
        }
        throw new AssertionError("no stop");
    }

    @Test
    void frozenRecord() throws Exception {
        IdleTracker t = tracker(Duration.ofMinutes(1), null);
        t.poll();
        clock.advance(Duration.ofMinutes(5)); // docker pause: no poll for five minutes
        assertEquals(IdleTracker.Decision.CONTINUE, t.poll(), "the unpause counts as use");
        pollUntilStop(t, false);
        StateRecord r = written(t.status(), "frozen");
        assertEquals(StateRecord.STATE_STOPPING, r.state());
        assertEquals(IdleTracker.RESUME, r.lastActivitySignal());
        assertEquals(Duration.ofMinutes(5).minusSeconds(2), r.stop().frozen());
        assertNull(r.lifetimeLeft(), "no cap");
        assertNull(r.maxLifetime());
    }

    @Test
    void degradedSignalRecord() throws Exception {
        cpu.failure = new IllegalStateException("bad \"stat\" \\ \u0001 \u2028 é 日本 \uD83D\uDE00");
        IdleTracker t = tracker(null, null);
        clock.advance(Duration.ofSeconds(3));
        t.poll();
        StateRecord r = written(t.status(), null);
        StateRecord.Signal sig = r.signals().get(0);
        assertEquals("cpu", sig.name());
        assertEquals(true, sig.degraded());
        assertEquals("degraded: bad \"stat\" \\ \u0001 \u2028 é 日本 \uD83D\uDE00", sig.detail());
        assertEquals("cpu", r.lastActivitySignal(), "a degraded signal counts as activity");
        assertNull(r.timeout(), "off");
    }

    /**
     * Writes the real file and returns its record, after checking that the file's bytes are the
     * contract writer's and that each field is the status's own.
     */
    private StateRecord written(IdleTracker.Status s, String workspace) throws Exception {
        StateFile file = new StateFile(dir.resolve("w" + System.nanoTime()), workspace);
        file.write(s);
        StateRecord r = file.record(s);
        assertArrayEquals(r.fileText().getBytes(StandardCharsets.UTF_8), Files.readAllBytes(file.path()));
        assertEquals(StateRecord.FORMAT_VERSION, r.version());
        assertEquals(workspace, r.workspace());
        assertEquals(s.state(), r.state());
        assertEquals(Instant.ofEpochMilli(s.nowEpochMillis()), r.updated());
        assertEquals(Instant.ofEpochMilli(s.startedEpochMillis()), r.started());
        assertEquals(s.pollInterval(), r.pollInterval());
        assertEquals(Duration.ofMillis(s.idleMillis()), r.idle());
        assertEquals(s.timeout(), r.timeout());
        assertEquals(s.maxLifetime(), r.maxLifetime());
        assertEquals(s.lifetimeLeftMillis() < 0 ? null : Duration.ofMillis(s.lifetimeLeftMillis()), r.lifetimeLeft());
        assertEquals(s.lastActivityEpochMillis() < 0 ? null : Instant.ofEpochMilli(s.lastActivityEpochMillis()),
                r.lastActivity());
        assertEquals(s.lastActivitySignal(), r.lastActivitySignal());
        assertEquals(s.signals().size(), r.signals().size());
        for (int i = 0; i < s.signals().size(); i++) {
            IdleTracker.SignalStatus a = s.signals().get(i);
            StateRecord.Signal b = r.signals().get(i);
            assertEquals(a.name(), b.name());
            assertEquals(a.enabled(), b.enabled());
            assertEquals(a.lastFiredEpochMillis() < 0 ? null : Instant.ofEpochMilli(a.lastFiredEpochMillis()), b.lastFired());
            assertEquals(a.lastFiredDetail(), b.lastFiredDetail());
            assertEquals(a.degraded(), b.degraded());
            assertEquals(a.detail(), b.detail());
        }
        if (s.stop() == null) {
            assertNull(r.stop());
        } else {
            assertEquals(s.stop().reason(), r.stop().reason());
            assertEquals(Instant.ofEpochMilli(s.stop().atEpochMillis()), r.stop().at());
            assertEquals(s.stop().exitCode(), r.stop().exitCode());
            assertEquals(s.stop().detail(), r.stop().detail());
            assertEquals(s.stop().frozenMillis() < 0 ? null : Duration.ofMillis(s.stop().frozenMillis()), r.stop().frozen());
        }
        return r;
    }
}
