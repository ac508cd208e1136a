package io.idlewatch.sweeper.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.SweepPolicy;
import io.idlewatch.sweeper.core.SweepReport;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.Run;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scrape of the metrics server, over HTTP, parsed strictly as Prometheus' text format, against
 * {@code idlewatch ps --all --json} on the same engine: the same workspaces, the same numbers.
 */
class WatchMetricsTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");
    static final Instant HOUR_AGO = NOW.minus(Duration.ofHours(1));

    @TempDir
    Path home;

    final FakeDocker docker = new FakeDocker();
    final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    @Test
    void aScrapeMatchesPsAndTheSweepsCounted() throws Exception {
        var alpha = docker.add("ws-a-1", "running", HOUR_AGO, "io.idlewatch.workspace=alpha");
        docker.stateFiles.put(alpha.id, ("{\"version\":1,\"workspace\":\"alpha\",\"state\":\"running\","
                + "\"updated\":\"2026-11-22T06:59:58Z\",\"idle_ms\":1380000,\"timeout_ms\":1800000,"
                + "\"last_activity\":\"2026-11-22T06:37:00Z\",\"last_activity_signal\":\"http\",\"signals\":{"
                + "\"opencode\":{\"enabled\":true,\"degraded\":true,\"degraded_since\":\"2026-11-22T06:18:00Z\"}}}")
                .getBytes(StandardCharsets.UTF_8));
        var quote = docker.add("ws-q", "running", HOUR_AGO, "io.idlewatch.workspace=we\"ird\\name\u001b[2J");
        docker.stateFiles.put(quote.id, ("{\"version\":1,\"state\":\"running\",\"updated\":\"2026-11-22T06:59:59Z\","
                + "\"idle_ms\":5000,\"timeout_ms\":null,\"last_activity\":\"2026-11-22T06:59:55Z\",\"last_activity_signal\":\"tty\"}")
                .getBytes(StandardCharsets.UTF_8));
        docker.add("kept", "exited", HOUR_AGO, "io.idlewatch.keep=true").finished(HOUR_AGO, 0);
        docker.add("gone", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        WatchMetrics metrics = new WatchMetrics(docker, LabelSelector.managedAnd(List.of()), clock);
        SweepReport report = new Sweeper(docker, LabelSelector.managedAnd(List.of()),
                SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()), 2, clock, Sweeper.Hooks.NONE)
                .sweep(false, o -> { }, () -> false);
        metrics.sweepDone(report, NOW);
        metrics.sweepFailed();
        metrics.eventStream(true);

        Map<String, Double> scraped;
        try (HTTPServer server = metrics.serve("127.0.0.1", 0)) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            scraped = PrometheusText.parse(response.body());
        }

        // The watcher's own.
        assertEquals(1.0, scraped.get("idlewatch_watch_sweeps_total"));
        assertEquals(1.0, scraped.get("idlewatch_watch_removed_containers_total"));
        assertEquals(1.0, scraped.get("idlewatch_watch_skipped_containers_total{reason=\"keep\"}"));
        assertEquals(0.0, scraped.get("idlewatch_watch_skipped_containers_total{reason=\"removing\"}"));
        assertEquals(0.0, scraped.get("idlewatch_watch_failed_removals_total"));
        assertEquals(1.0, scraped.get("idlewatch_watch_sweep_failures_total"));
        assertEquals(NOW.getEpochSecond(), scraped.get("idlewatch_watch_last_sweep_timestamp_seconds"));
        assertEquals(1.0, scraped.get("idlewatch_watch_event_stream_connected"));

        // Each workspace, as ps --all --json shows it (the swept one is gone from both).
        Run ps = Run.of(new CliContext(new HostEnvironment(Map.of(), home, home.resolve("etc")), e -> docker, clock,
                Sweeper.Hooks.NONE, Duration.ofMinutes(2)), "ps", "--all", "--json");
        JsonNode rows = new ObjectMapper().readTree(ps.out());
        assertEquals(3, rows.size(), ps.out());
        int checked = 0;
        for (JsonNode row : rows) {
            String ws = escape(io.idlewatch.sweeper.cli.TerminalText.clean(row.path("name").asText(), 128));
            String labels = "container=\"" + row.path("id").asText().substring(0, 12) + "\",workspace=\"" + ws + "\"";
            String container = "container=\"" + row.path("id").asText().substring(0, 12) + "\"";
            assertEquals(1.0, scraped.get("idlewatch_workspace_state{" + container + ",state=\"" + row.path("state").asText()
                    + "\",workspace=\"" + ws + "\"}"), labels + " in " + scraped.keySet());
            checked++;
            if (row.path("agent").isNull()) {
                String key = labels;
                assertTrue(scraped.keySet().stream().noneMatch(k -> !k.startsWith("idlewatch_workspace_state") && k.contains(key)),
                        "no agent, no idle series: " + scraped.keySet());
                continue;
            }
            assertEquals(row.path("idle_ms").asLong() / 1000.0, scraped.get("idlewatch_workspace_idle_seconds{" + labels + "}"));
            Double timeout = scraped.get("idlewatch_workspace_idle_timeout_seconds{" + labels + "}");
            if (row.path("timeout_ms").isNull()) {
                assertEquals(null, timeout, "no threshold when off");
            } else {
                assertEquals(row.path("timeout_ms").asLong() / 1000.0, timeout);
            }
            assertEquals(Instant.parse(row.path("last_activity").asText()).getEpochSecond(),
                    scraped.get("idlewatch_workspace_last_activity_timestamp_seconds{" + container + ",signal=\""
                            + row.path("last_activity_signal").asText() + "\",workspace=\"" + ws + "\"}"));
        }
        assertEquals(3, checked);
        // a sensor degraded without a break: how long, as of the agent's last write (an alert compares it
        // with the idle timeout), and no series for the sensors that are not degraded
        List<String> degraded = scraped.keySet().stream().filter(k -> k.startsWith("idlewatch_workspace_signal_degraded_seconds"))
                .toList();
        assertEquals(1, degraded.size(), degraded.toString());
        assertTrue(degraded.get(0).contains("signal=\"opencode\"") && degraded.get(0).contains("workspace=\"alpha\""), degraded.get(0));
        assertEquals(41 * 60 + 58.0, scraped.get(degraded.get(0)));
        assertFalse(scraped.keySet().stream().anyMatch(k -> k.contains("\u001b")), "no escape sequences in label values");
    }

    @Test
    void aWorkspaceKeptForAnUnplannedStopHasItsKeptUntilGauge_underTheWatchersPolicy() throws Exception {
        var stopped = docker.add("ws-s", "exited", HOUR_AGO, "io.idlewatch.workspace=s").finished(HOUR_AGO, 143);
        docker.stateFiles.put(stopped.id, ("{\"version\":1,\"state\":\"stopped\",\"stop\":{\"reason\":\"signal\",\"at\":\""
                + HOUR_AGO + "\",\"exit_code\":143}}").getBytes(StandardCharsets.UTF_8));
        var idle = docker.add("ws-i", "exited", HOUR_AGO, "io.idlewatch.workspace=i").finished(HOUR_AGO, 0);
        docker.stateFiles.put(idle.id, ("{\"version\":1,\"state\":\"stopped\",\"stop\":{\"reason\":\"idle\",\"at\":\""
                + HOUR_AGO + "\",\"exit_code\":0}}").getBytes(StandardCharsets.UTF_8));
        SweepPolicy twoHours = new SweepPolicy(HostConfig.NONE, Optional.empty(), Optional.empty(), SweepPolicy.CREATED_GRACE,
                Optional.of(Duration.ofHours(2)));
        WatchMetrics metrics = new WatchMetrics(docker, LabelSelector.managedAnd(List.of()), clock, twoHours);

        Map<String, Double> scraped;
        try (HTTPServer server = metrics.serve("127.0.0.1", 0)) {
            scraped = PrometheusText.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
        }

        assertEquals(HOUR_AGO.plus(Duration.ofHours(2)).getEpochSecond(), scraped.get(
                "idlewatch_workspace_kept_until_timestamp_seconds{container=\"" + stopped.id.substring(0, 12) + "\",workspace=\"s\"}"),
                scraped.toString());
        assertEquals(1, scraped.keySet().stream().filter(k -> k.startsWith("idlewatch_workspace_kept_until")).count(),
                "an idle stop is not kept: " + scraped.keySet());
    }

    /** A label value as the text format writes it. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /**
     * Prometheus' text exposition format 0.0.4, strictly: HELP and TYPE lines, then samples of a
     * declared family; anything else fails the test. Samples keyed by name and sorted labels.
     */
    static final class PrometheusText {
        private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
        private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
        private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
        private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(?:\\{(.*)})? (\\S+)(?: -?\\d+)?");
        private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");

        static Map<String, Double> parse(String text) {
            Map<String, String> types = new HashMap<>();
            Map<String, Double> samples = new LinkedHashMap<>();
            assertTrue(text.endsWith("\n"), "ends with a newline");
            for (String line : text.split("\n")) {
                Matcher m;
                if ((m = TYPE.matcher(line)).matches()) {
                    assertEquals(null, types.put(m.group(1), m.group(2)), "one TYPE per family: " + line);
                } else if (HELP.matcher(line).matches()) {
                    continue;
                } else if ((m = SAMPLE.matcher(line)).matches()) {
                    String name = m.group(1);
                    String family = types.containsKey(name) ? name : name.replaceFirst("_(total|created)$", "");
                    assertTrue(types.containsKey(family), "sample of an undeclared family: " + line);
                    List<String> labels = new ArrayList<>();
                    if (m.group(2) != null && !m.group(2).isEmpty()) {
                        Matcher l = LABEL.matcher(m.group(2));
                        int at = 0;
                        while (at < m.group(2).length()) {
                            assertTrue(l.find(at) && l.start() == at, "bad labels: " + line);
                            labels.add(l.group(1) + "=\"" + l.group(2) + "\"");
                            at = l.end();
                        }
                    }
                    labels.sort(null);
                    String key = labels.isEmpty() ? name : name + "{" + String.join(",", labels) + "}";
                    double value = switch (m.group(3)) {
                        case "+Inf" -> Double.POSITIVE_INFINITY;
                        case "-Inf" -> Double.NEGATIVE_INFINITY;
                        case "NaN" -> Double.NaN;
                        default -> Double.parseDouble(m.group(3));
                    };
                    assertEquals(null, samples.put(key, value), "one sample per series: " + line);
                } else {
                    throw new AssertionError("not Prometheus text: " + line);
                }
            }
            return samples;
        }
    }
}
