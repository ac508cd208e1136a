package io.idlewatch.agent.idle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

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
        assertEquals(List.of(file.path()), Files.list(file.path().getParent()).toList(), "no temp file left behind");
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
                + "\"detail\":\"degraded: bad \\\"pts\\\" \\\\ \\u0001\"},"
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
}
