package io.idlewatch.sweeper.core;

import io.idlewatch.contract.StateRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The state file from both ends: written by the contract's writer (the one the agent's StateFile
 * writes through, byte for byte: the agent's StateFileTest) and read by the host's {@link AgentState}.
 * Every record here must come back equal, component by component (the record's equals covers a
 * field added to the schema later, too), and rewriting what was read must give the same bytes.
 */
class StateRecordRoundTripTest {

    static final Instant T0 = Instant.parse("2026-11-22T07:00:00Z");
    /** Everything a JSON string must survive: quotes, backslashes, control characters, non-ASCII, U+2028. */
    static final String HOSTILE = "ws \"q\" \\ \n\r\t\u0000\u001f\u007f \u2028\u2029 é 日本 \uD83D\uDE00 </script> \\u0041";

    private static StateRecord.Signal quiet(String name) {
        return new StateRecord.Signal(name, true, null, null, false, name + " quiet");
    }

    private static StateRecord.Signal off(String name) {
        return new StateRecord.Signal(name, false, null, null, false, "disabled");
    }

    private static StateRecord running(String workspace) {
        return new StateRecord(StateRecord.FORMAT_VERSION, workspace, StateRecord.STATE_RUNNING, T0.plusSeconds(125), T0,
                Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMinutes(30), Duration.ofHours(8),
                Duration.ofHours(8).minusSeconds(125), T0.plusSeconds(10), "http",
                List.of(quiet("cpu"), off("exec"), off("tty"),
                        new StateRecord.Signal("http", true, T0.plusSeconds(10), "http 1 new connection " + HOSTILE,
                                false, "http quiet"),
                        off("opencode")),
                null);
    }

    private static StateRecord stopped(String reason, int exitCode, Duration frozen, String detail) {
        StateRecord r = running(null);
        return new StateRecord(r.version(), r.workspace(), StateRecord.STATE_STOPPED, T0.plusSeconds(3600), r.started(),
                r.pollInterval(), Duration.ofMinutes(30), r.timeout(), r.maxLifetime(), Duration.ZERO, r.lastActivity(),
                r.lastActivitySignal(), r.signals(),
                new StateRecord.Stop(reason, T0.plusSeconds(3600), exitCode, detail, frozen));
    }

    private static AgentState read(StateRecord written) {
        byte[] bytes = written.fileText().getBytes(StandardCharsets.UTF_8);
        AgentState read = AgentState.parse(bytes).orElseThrow(() -> new AssertionError("no state: " + written.fileText()));
        assertEquals(written, read.record());
        assertEquals(written.fileText(), read.record().fileText(), "read then written: the same bytes");
        return read;
    }

    @Test
    void runningRecord() {
        AgentState s = read(running(HOSTILE));
        // Field by field through the accessors ps uses.
        assertEquals(Optional.of(HOSTILE), s.workspace());
        assertEquals(Optional.of("running"), s.state());
        assertEquals(Optional.of(T0.plusSeconds(125)), s.updated());
        assertEquals(Duration.ofSeconds(2), s.pollInterval());
        assertEquals(Optional.of(Duration.ofMillis(1500)), s.idle());
        assertEquals(Optional.of(Duration.ofMinutes(30)), s.timeout());
        assertEquals(Optional.of(Duration.ofHours(8).minusSeconds(125)), s.lifetimeLeft());
        assertEquals(Optional.of(T0.plusSeconds(10)), s.lastActivity());
        assertEquals(Optional.of("http"), s.lastActivitySignal());
        assertEquals(Optional.empty(), s.stop());
        assertEquals(5, s.record().signals().size());
        assertEquals("http 1 new connection " + HOSTILE, s.record().signals().get(3).lastFiredDetail());
        assertEquals(HOSTILE, s.raw().get(StateRecord.FIELD_WORKSPACE).textValue(), "ps --json shows the raw object");
    }

    @Test
    void stoppedRecordForEveryReason() {
        for (String reason : StateRecord.Stop.REASONS) {
            int code = reason.equals(StateRecord.Stop.REASON_SIGNAL) ? 143 : 0;
            String detail = reason + ": " + HOSTILE;
            AgentState s = read(stopped(reason, code, null, detail));
            assertEquals(Optional.of("stopped"), s.state());
            AgentState.Stop stop = s.stop().orElseThrow();
            assertEquals(Optional.of(reason), stop.reason());
            assertEquals(Optional.of(T0.plusSeconds(3600)), stop.at());
            assertEquals(Optional.of(code), stop.exitCode());
            assertEquals(Optional.of(detail), stop.detail());
            assertEquals(Optional.empty(), stop.frozen());
        }
    }

    @Test
    void frozenRecord() {
        AgentState s = read(stopped(StateRecord.Stop.REASON_IDLE, 0, Duration.ofMillis(298_000), "idle 1m"));
        assertEquals(Optional.of(Duration.ofMillis(298_000)), s.stop().flatMap(AgentState.Stop::frozen));
    }

    @Test
    void degradedSignalRecord() {
        StateRecord r = running(null);
        List<StateRecord.Signal> signals = new ArrayList<>(r.signals());
        signals.set(0, new StateRecord.Signal("cpu", true, null, null, true, "degraded: " + HOSTILE));
        StateRecord degraded = new StateRecord(r.version(), null, StateRecord.STATE_STOPPING, r.updated(), r.started(),
                null, Duration.ZERO, null, null, null, r.updated(), "cpu", signals,
                new StateRecord.Stop(StateRecord.Stop.REASON_MANUAL, r.updated(), 0, "idlewatch stop", null));
        AgentState s = read(degraded);
        StateRecord.Signal cpu = s.record().signals().get(0);
        assertEquals(true, cpu.degraded());
        assertEquals("degraded: " + HOSTILE, cpu.detail());
        assertEquals(AgentState.DEFAULT_POLL_INTERVAL, s.pollInterval(), "not written: the default");
        assertEquals(Optional.empty(), s.timeout(), "off");
        assertEquals(Optional.empty(), s.lifetimeLeft(), "no cap");
    }

    @Test
    void everyCharRoundTrips() {
        // One string per 2048 chars of the BMP (surrogates as valid pairs, lone ones are no UTF-8).
        for (int from = 0; from < 0x10000; from += 0x800) {
            StringBuilder text = new StringBuilder("x");
            for (int c = from; c < from + 0x800; c++) {
                if (!Character.isSurrogate((char) c)) {
                    text.append((char) c);
                }
            }
            text.append("\uD83D\uDE00\uDBFF\uDFFF");
            StateRecord r = new StateRecord(1, text.toString(), null, null, null, null, null, null, null, null, null,
                    null, List.of(), null);
            read(r);
        }
    }

    /**
     * The agent's exact output, copied from its StateFileTest (a real IdleTracker's status through the
     * real StateFile), read by the host and written back unchanged.
     */
    @Test
    void theAgentsOwnBytes() {
        String agent = "{\"version\":1,\"workspace\":\"ws \\\"one\\\"\",\"state\":\"stopped\","
                + "\"updated\":\"2026-11-22T08:00:00Z\",\"started\":\"2026-11-22T07:00:00Z\",\"poll_interval_ms\":null,\"idle_ms\":0,"
                + "\"timeout_ms\":null,\"max_lifetime_ms\":3600000,\"lifetime_left_ms\":0,"
                + "\"last_activity\":\"2026-11-22T08:00:00Z\",\"last_activity_signal\":\"tty\",\"signals\":{"
                + "\"cpu\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"exec\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"tty\":{\"enabled\":true,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":true,"
                + "\"detail\":\"degraded: bad \\\"pts\\\" \\\\ \\u0001\"},"
                + "\"http\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"},"
                + "\"opencode\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":false,\"detail\":\"disabled\"}},"
                + "\"stop\":{\"reason\":\"lifetime\",\"at\":\"2026-11-22T08:00:00Z\",\"exit_code\":0,"
                + "\"detail\":\"lifetime 1h0m0s >= max lifetime 1h (last activity: cpu off, exec off, tty degraded,"
                + " http off, opencode off)\",\"frozen_ms\":null}}\n";
        AgentState s = AgentState.parse(agent.getBytes(StandardCharsets.UTF_8)).orElseThrow();
        assertEquals(agent, s.record().fileText());
        assertEquals("ws \"one\"", s.record().workspace());
        assertEquals("degraded: bad \"pts\" \\ \u0001", s.record().signals().get(2).detail());
        assertEquals(Duration.ofHours(1), s.record().maxLifetime());
        assertNull(s.record().pollInterval());
    }

    // What the host does not take as written: its checks, not drift. Each is the one lossy case.

    @Test
    void whatTheReaderRefusesIsUnknownNotWrong() {
        StateRecord r = new StateRecord(1, " ", "paused", Instant.parse("1999-12-31T23:59:59Z"), null,
                Duration.ofMillis(99), null, Duration.ofDays(3651), null, null, null, "x".repeat(4097),
                List.of(new StateRecord.Signal(" ", true, null, null, false, "blank name")),
                new StateRecord.Stop("idle", null, 256, "", null));
        StateRecord read = AgentState.parse(r.fileText().getBytes(StandardCharsets.UTF_8)).orElseThrow().record();
        assertEquals(new StateRecord(1, null, null, null, null, null, null, null, null, null, null, null, List.of(),
                new StateRecord.Stop("idle", null, null, null, null)), read);
    }
}
