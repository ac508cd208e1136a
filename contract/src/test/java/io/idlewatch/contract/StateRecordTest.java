package io.idlewatch.contract;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The writer's exact bytes; the host reading them back is sweeper's StateRecordRoundTripTest. */
class StateRecordTest {

    static final Instant T0 = Instant.parse("2026-11-22T07:00:00Z");

    @Test
    void writesEveryFieldInTheAgreedOrder() {
        StateRecord r = new StateRecord(StateRecord.FORMAT_VERSION, "alpha", StateRecord.STATE_STOPPED,
                T0.plusSeconds(3600), T0, Duration.ofSeconds(2), Duration.ofSeconds(123), Duration.ofMinutes(30),
                Duration.ofHours(4), Duration.ofMinutes(7), T0.plusSeconds(60), "http",
                List.of(new StateRecord.Signal("cpu", true, T0.plusSeconds(5), "cpu 40%", false, "cpu 1%"),
                        new StateRecord.Signal("tty", false, null, null, true, "degraded: no /dev/pts")),
                new StateRecord.Stop(StateRecord.Stop.REASON_IDLE, T0.plusSeconds(3600), 0, "idle 30m", Duration.ofMillis(312_000)));
        assertEquals("{\"version\":1,\"workspace\":\"alpha\",\"state\":\"stopped\",\"updated\":\"2026-11-22T08:00:00Z\","
                + "\"started\":\"2026-11-22T07:00:00Z\",\"poll_interval_ms\":2000,\"idle_ms\":123000,\"timeout_ms\":1800000,"
                + "\"max_lifetime_ms\":14400000,\"lifetime_left_ms\":420000,\"last_activity\":\"2026-11-22T07:01:00Z\","
                + "\"last_activity_signal\":\"http\",\"signals\":{"
                + "\"cpu\":{\"enabled\":true,\"last_fired\":\"2026-11-22T07:00:05Z\",\"last_fired_detail\":\"cpu 40%\","
                + "\"degraded\":false,\"detail\":\"cpu 1%\"},"
                + "\"tty\":{\"enabled\":false,\"last_fired\":null,\"last_fired_detail\":null,\"degraded\":true,"
                + "\"detail\":\"degraded: no /dev/pts\"}},"
                + "\"stop\":{\"reason\":\"idle\",\"at\":\"2026-11-22T08:00:00Z\",\"exit_code\":0,\"detail\":\"idle 30m\","
                + "\"frozen_ms\":312000}}\n", r.fileText());
    }

    @Test
    void nullsAreJsonNulls() {
        StateRecord r = new StateRecord(null, null, null, null, null, null, null, null, null, null, null, null, null,
                null);
        assertEquals("{\"version\":null,\"workspace\":null,\"state\":null,\"updated\":null,\"started\":null,"
                + "\"poll_interval_ms\":null,\"idle_ms\":null,\"timeout_ms\":null,\"max_lifetime_ms\":null,"
                + "\"lifetime_left_ms\":null,\"last_activity\":null,\"last_activity_signal\":null,\"signals\":{},"
                + "\"stop\":null}\n", r.fileText());
        StateRecord stop = new StateRecord(1, null, null, null, null, null, null, null, null, null, null, null,
                List.of(new StateRecord.Signal("x", null, null, null, null, null)),
                new StateRecord.Stop(null, null, null, null, null));
        assertEquals("\"signals\":{\"x\":{\"enabled\":null,\"last_fired\":null,\"last_fired_detail\":null,"
                + "\"degraded\":null,\"detail\":null}},\"stop\":{\"reason\":null,\"at\":null,\"exit_code\":null,"
                + "\"detail\":null,\"frozen_ms\":null}}\n",
                stop.fileText().substring(stop.fileText().indexOf("\"signals\"")));
    }

    @Test
    void timesAreWrittenToTheSecond() {
        StateRecord r = new StateRecord(1, null, null, Instant.parse("2026-11-22T07:00:00.999Z"), null, null, null,
                null, null, null, null, null, List.of(), null);
        assertEquals(true, r.fileText().contains("\"updated\":\"2026-11-22T07:00:00Z\""), r.fileText());
    }

    @Test
    void aSignalHasAName() {
        assertThrows(NullPointerException.class, () -> new StateRecord.Signal(null, true, null, null, false, "x"));
    }

    @Test
    void theSignalListIsTheRecordsOwn() {
        List<StateRecord.Signal> list = new ArrayList<>(List.of(new StateRecord.Signal("cpu", true, null, null, false, "q")));
        StateRecord r = new StateRecord(1, null, null, null, null, null, null, null, null, null, null, null, list, null);
        list.clear();
        assertEquals(1, r.signals().size());
    }

    @Test
    void escapesHostileText() {
        StringBuilder b = new StringBuilder();
        StateRecord.appendString(b, "q\" b\\ n\n r\r t\t bs\b ff\f nul\u0000 us\u001f del\u007f é 日本 \uD83D\uDE00"
                + " ls\u2028 ps\u2029 </script>");
        assertEquals("\"q\\\" b\\\\ n\\n r\\r t\\t bs\\b ff\\f nul\\u0000 us\\u001f del\u007f é 日本 \uD83D\uDE00"
                + " ls\\u2028 ps\\u2029 </script>\"", b.toString());
    }

    /** The agent's escaping before the writer moved here, kept as the reference for every char. */
    private static String formerAgentEscaping(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    @Test
    void everyCharIsEscapedExactlyAsTheAgentDidBefore() {
        for (int c = 0; c <= 0xFFFF; c++) {
            String s = "a" + (char) c + "b";
            StringBuilder b = new StringBuilder();
            StateRecord.appendString(b, s);
            assertEquals(formerAgentEscaping(s), b.toString(), () -> "char " + Integer.toHexString(s.charAt(1)));
        }
    }

    @Test
    void theConstantsAreTheSpecsWords() {
        assertEquals(List.of("running", "stopping", "stopped"), StateRecord.STATES);
        assertEquals(List.of("idle", "lifetime", "workload-exit", "signal", "manual"), StateRecord.Stop.REASONS);
        assertEquals("/run/idlewatch/state.json", StateRecord.DIR + "/" + StateRecord.FILE_NAME);
    }
}
