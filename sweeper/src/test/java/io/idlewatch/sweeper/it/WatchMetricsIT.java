package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real {@code idlewatch watch --metrics} (the shipped launcher, its own JVM) over real workspaces
 * running the real agent: the exposition parses strictly as Prometheus' text format, each
 * workspace's values are what {@code idlewatch ps --json} says at the same moment, the watcher's
 * own gauges are there, and SIGTERM ends it with exit 0.
 *
 * <p>The watcher sweeps for real, so it is limited to this run's {@code io.idlewatch.test} label
 * (ANDed with the managed label): no other container on the shared engine can be removed by it.
 * The one exited workspace carries the keep label, so it stays to be shown.
 */
class WatchMetricsIT {

    static final DockerCli docker = new DockerCli();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String LAUNCHER = System.getProperty("idlewatch.launcher", "bin/idlewatch");
    static final String SOCKET = "/run/idlewatch/agent.sock";
    static final String STATE_FILE = "/run/idlewatch/state.json";
    /** The agent JVM's start, a watcher's start, an event stream's connection, on 2 busy cores. */
    static final Duration PATIENCE = Duration.ofSeconds(30);
    /**
     * How far a scraped idle time may lie outside the values {@code ps} read just before and just
     * after it: none in principle (each read sees the same or a newer state file), one poll of
     * slack for an engine that serves an archive of a file being replaced.
     */
    static final double IDLE_TOLERANCE_SECONDS = 1.0;
    /** The agent writes its state every poll; short, so idle time moves between reads. */
    static final String POLL = "1s";
    /** The kept workspace's idle threshold: short, so it has stopped by itself before the watcher starts. */
    static final String KEPT_TIMEOUT = "3s";
    static final Pattern METRICS_URL = Pattern.compile("; metrics at (http://127\\.0\\.0\\.1:\\d+/metrics)$");

    static final String PREFIX = "metrics-" + docker.runId.substring(0, 8);
    static final String TIMED = PREFIX + "-timed";
    static final String UNLIMITED = PREFIX + "-unlimited";
    static final String KEPT = PREFIX + "-kept";
    static final Map<String, String> ids = new HashMap<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void workspaces() {
        DockerCli.assumeEngine();
        ids.put(TIMED, agentWorkspace(TIMED, "IDLEWATCH_TIMEOUT=30m"));
        ids.put(UNLIMITED, agentWorkspace(UNLIMITED, "IDLEWATCH_TIMEOUT=off"));
        // Stops itself for idleness and writes its final record (an outside `docker stop` would not
        // do under Podman 4.3, whose compat stop kills at once); the keep label keeps it.
        ids.put(KEPT, docker.container(DockerCli.WORKLOAD_IMAGE, "run", "metrics", List.of("-d",
                "--label", "io.idlewatch.workspace=" + KEPT, "--label", "io.idlewatch.keep=true",
                "-e", "IDLEWATCH_TIMEOUT=" + KEPT_TIMEOUT, "-e", "IDLEWATCH_POLL_INTERVAL=" + POLL)));
        // A last activity the metrics must carry with its signal: a touch from inside.
        DockerCli.ok("exec", ids.get(TIMED), "/opt/idlewatch/bin/idlewatch", "touch", "--reason", "metrics-it");
        DockerCli.awaitState(ids.get(KEPT), "exited");
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    static String agentWorkspace(String name, String timeout, String... options) {
        List<String> all = new ArrayList<>(List.of("-d", "--label", "io.idlewatch.workspace=" + name,
                "-e", timeout, "-e", "IDLEWATCH_POLL_INTERVAL=" + POLL));
        all.addAll(List.of(options));
        String id = docker.container(DockerCli.WORKLOAD_IMAGE, "run", "metrics", all);
        awaitTrue("the agent in " + name, () -> DockerCli.exec("exec", id, "test", "-S", SOCKET).exitCode() == 0
                && DockerCli.exec("exec", id, "test", "-s", STATE_FILE).exitCode() == 0);
        return id;
    }

    static void awaitTrue(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(200), what, done);
    }

    @Test
    void metricsMatchPsAndTheWatcherStopsCleanlyOnSigterm() throws Exception {
        Instant started = Instant.now();
        Path err = dir.resolve("watch.err");
        Process watch = startWatcher(err, "watch", "--label", docker.testLabel(), "--metrics", "127.0.0.1:0",
                "--interval", "1h", "--grace", "500ms");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                out.lines().forEach(lines::add);
            } catch (IOException ignored) {
                // The process ended.
            }
        });
        reader.start();
        try {
            String first = lines.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertNotNull(first, "watch started: " + Files.readString(err));
            Matcher url = METRICS_URL.matcher(first);
            assertTrue(first.contains(" for io.idlewatch.managed=true," + docker.testLabel() + ":") && url.find(), first);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

            // ps, scrape, ps: the scrape's workspace values were read between the two listings.
            Map<String, JsonNode> before = ps();
            Exposition scraped = scrape(http, url.group(1));
            Map<String, JsonNode> after = ps();

            assertEquals(Set.of(TIMED, UNLIMITED, KEPT), after.keySet(), "ps sees exactly this run's workspaces");
            checkWorkspaces(scraped, before, after);

            // The watcher's own gauges: its first sweep is done and its event stream up (soon, not at once).
            Exposition[] last = {scraped};
            awaitTrue("a sweep and a connected event stream in the metrics", () -> {
                last[0] = scrape(http, url.group(1));
                return last[0].value("idlewatch_watch_event_stream_connected", Map.of()) == 1.0
                        && last[0].has("idlewatch_watch_last_sweep_timestamp_seconds", Map.of());
            });
            Exposition watcher = last[0];
            double lastSweep = watcher.value("idlewatch_watch_last_sweep_timestamp_seconds", Map.of());
            assertTrue(lastSweep >= started.toEpochMilli() / 1000.0 && lastSweep <= Instant.now().toEpochMilli() / 1000.0,
                    "last sweep " + lastSweep + " between the watcher's start " + started + " and now");
            assertTrue(watcher.value("idlewatch_watch_sweeps_total", Map.of()) >= 1, watcher.text);
            assertEquals(0.0, watcher.value("idlewatch_watch_removed_containers_total", Map.of()), watcher.text);
            // The first sweep saw the kept, exited workspace and left it.
            assertTrue(watcher.value("idlewatch_watch_skipped_containers_total", Map.of("reason", "keep")) >= 1, watcher.text);
            assertEquals("exited", DockerCli.state(ids.get(KEPT)));

            // Process.destroy() would send SIGTERM too, but it also closes our end of stdout.
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(watch.pid())).start().waitFor());
            assertTrue(watch.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS), "watch ended after SIGTERM");
            assertEquals(0, watch.exitValue(), Files.readString(err));
            assertEquals("", Files.readString(err));
            reader.join(5000);
            List<String> all = new ArrayList<>(lines);
            assertEquals("stopped", all.get(all.size() - 1), all.toString());
        } finally {
            watch.destroyForcibly();
        }
    }

    /** Every workspace of ps in the metrics with the same state, idle time, threshold and last activity. */
    static void checkWorkspaces(Exposition scraped, Map<String, JsonNode> before, Map<String, JsonNode> after) {
        Set<List<String>> shown = scraped.samples("idlewatch_workspace_state").stream()
                .map(s -> List.of(s.labels().get("workspace"), s.labels().get("container"))).collect(Collectors.toSet());
        Set<List<String>> listed = after.values().stream()
                .map(w -> List.of(w.path("name").asText(), w.path("id").asText().substring(0, 12))).collect(Collectors.toSet());
        assertEquals(listed, shown, "the metrics show this run's workspaces and nothing else:\n" + scraped.text);

        for (JsonNode w : after.values()) {
            String name = w.path("name").asText();
            Map<String, String> key = Map.of("workspace", name, "container", w.path("id").asText().substring(0, 12));
            String why = name + " in\n" + scraped.text + "\nps: " + w;

            List<Sample> states = scraped.samples("idlewatch_workspace_state").stream()
                    .filter(s -> s.labels().get("workspace").equals(name)).toList();
            assertEquals(1, states.size(), why);
            assertEquals(w.path("state").asText(), states.get(0).labels().get("state"), why);
            assertEquals(1.0, states.get(0).value(), why);

            // ps shows no idle time for a record that is not live or final; the metric is then absent.
            if (w.path("idle_ms").isNull()) {
                assertFalse(scraped.has("idlewatch_workspace_idle_seconds", key), why);
            } else {
                double idle = scraped.value("idlewatch_workspace_idle_seconds", key);
                double low = before.get(name).path("idle_ms").asLong() / 1000.0 - IDLE_TOLERANCE_SECONDS;
                double high = w.path("idle_ms").asLong() / 1000.0 + IDLE_TOLERANCE_SECONDS;
                assertTrue(idle >= low && idle <= high, "idle " + idle + " in [" + low + ", " + high + "]: " + why);
            }

            if (w.path("timeout_ms").isNull()) {
                assertFalse(scraped.has("idlewatch_workspace_idle_timeout_seconds", key), why);
            } else {
                assertEquals(w.path("timeout_ms").asLong() / 1000.0, scraped.value("idlewatch_workspace_idle_timeout_seconds", key), why);
            }

            if (!w.path("last_activity").isNull()) {
                Map<String, String> activity = new HashMap<>(key);
                activity.put("signal", w.path("last_activity_signal").asText());
                assertEquals(Instant.parse(w.path("last_activity").asText()).toEpochMilli() / 1000.0,
                        scraped.value("idlewatch_workspace_last_activity_timestamp_seconds", activity), why);
            }
        }
        // The states set up above, so that the comparison covers each kind of row.
        assertEquals("running", after.get(TIMED).path("state").asText());
        assertEquals("touch", after.get(TIMED).path("last_activity_signal").asText());
        assertTrue(after.get(UNLIMITED).path("timeout_ms").isNull(), after.get(UNLIMITED).toString());
        assertEquals("exited", after.get(KEPT).path("state").asText());
        assertEquals("final", after.get(KEPT).path("record").asText());
        assertEquals("idle", after.get(KEPT).path("stop_reason").asText());
        assertTrue(after.get(TIMED).path("idle_ms").isNumber() && after.get(KEPT).path("idle_ms").isNumber(), after.toString());
    }

    static Process startWatcher(Path err, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        // The engine under test (Podman's socket in that run), as LauncherIT does.
        builder.environment().remove("DOCKER_HOST");
        if (DockerCli.PODMAN) {
            builder.environment().put("DOCKER_HOST", DockerCli.endpoint());
        }
        builder.redirectError(err.toFile());
        return builder.start();
    }

    /** {@code idlewatch ps --all --json} for this run's label, by workspace name. */
    static Map<String, JsonNode> ps() {
        Run run = Run.of(CliContext.system(), "ps", "--all", "--json", "--label", docker.testLabel());
        assertEquals(0, run.exitCode(), run.toString());
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        try {
            for (JsonNode w : JSON.readTree(run.out())) {
                byName.put(w.path("name").asText(), w);
            }
        } catch (IOException e) {
            throw new AssertionError("ps --json: " + run, e);
        }
        return byName;
    }

    static Exposition scrape(HttpClient http, String url) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(PATIENCE).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, response.statusCode(), response.body());
            String type = response.headers().firstValue("Content-Type").orElse("");
            assertTrue(type.startsWith("text/plain; version=0.0.4"), type);
            return Exposition.parse(response.body());
        } catch (IOException e) {
            throw new AssertionError("scrape " + url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    record Sample(String name, Map<String, String> labels, double value) {
    }

    /**
     * Prometheus' text exposition format 0.0.4, parsed strictly: HELP and TYPE at most once per
     * family and before its samples, a family's samples together, every sample of a declared
     * family, label values with only the format's escapes, no series twice. Anything else fails.
     */
    record Exposition(String text, Map<String, String> types, List<Sample> all) {
        static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
        static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") (.*)");
        static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
        static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(?:\\{(.*)})? (\\S+)(?: (-?\\d+))?");
        static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"(,|$)");
        static final Pattern FLOAT = Pattern.compile("[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?|Inf|NaN)");
        static final List<String> SUFFIXES = List.of("", "_bucket", "_sum", "_count", "_created");

        static Exposition parse(String text) {
            if (!text.endsWith("\n")) {
                throw new AssertionError("exposition does not end with a newline:\n" + text);
            }
            Map<String, String> types = new LinkedHashMap<>();
            Set<String> helped = new HashSet<>();
            Set<String> finished = new HashSet<>();
            Set<String> series = new HashSet<>();
            List<Sample> samples = new ArrayList<>();
            String current = null;
            // The final newline ends the last line; it starts no empty one.
            String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
            for (int number = 1; number <= lines.length; number++) {
                String line = lines[number - 1];
                String at = "line " + number + " \"" + line + "\" in\n" + text;
                Matcher m;
                if ((m = HELP.matcher(line)).matches()) {
                    assertTrue(helped.add(m.group(1)), "second HELP, " + at);
                    current = enter(m.group(1), current, finished, at);
                } else if ((m = TYPE.matcher(line)).matches()) {
                    String declared = m.group(1);
                    assertTrue(types.put(declared, m.group(2)) == null, "second TYPE, " + at);
                    assertTrue(samples.stream().noneMatch(s -> family(s.name(), types).equals(declared)), "TYPE after samples, " + at);
                    current = enter(m.group(1), current, finished, at);
                } else if (line.startsWith("#")) {
                    assertTrue(line.startsWith("# "), "malformed comment, " + at);
                } else if ((m = SAMPLE.matcher(line)).matches()) {
                    String family = family(m.group(1), types);
                    assertTrue(types.containsKey(family), "sample of a family without TYPE, " + at);
                    assertTrue(family.equals(current), "sample outside its family's block, " + at);
                    Map<String, String> labels = labels(m.group(2) == null ? "" : m.group(2), at);
                    assertTrue(FLOAT.matcher(m.group(3)).matches(), "value not a float, " + at);
                    double value = switch (m.group(3)) {
                        case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
                        case "-Inf" -> Double.NEGATIVE_INFINITY;
                        default -> Double.parseDouble(m.group(3));
                    };
                    assertTrue(series.add(m.group(1) + new TreeMap<>(labels)), "series twice, " + at);
                    samples.add(new Sample(m.group(1), labels, value));
                } else {
                    throw new AssertionError("not exposition format, " + at);
                }
            }
            return new Exposition(text, types, samples);
        }

        /** A new family's block starts; the one before it is closed for good. */
        private static String enter(String family, String current, Set<String> finished, String at) {
            if (family.equals(current)) {
                return current;
            }
            assertFalse(finished.contains(family), "family split in two blocks, " + at);
            if (current != null) {
                finished.add(current);
            }
            return family;
        }

        /** The declared family a sample name belongs to: itself, or a histogram/summary's series. */
        private static String family(String sample, Map<String, String> types) {
            for (String suffix : SUFFIXES) {
                String base = sample.endsWith(suffix) ? sample.substring(0, sample.length() - suffix.length()) : null;
                if (base != null && types.containsKey(base) && (suffix.isEmpty() || !types.get(base).matches("gauge|untyped"))) {
                    return base;
                }
            }
            return sample;
        }

        private static Map<String, String> labels(String text, String at) {
            Map<String, String> labels = new LinkedHashMap<>();
            Matcher m = LABEL.matcher(text);
            int end = 0;
            while (end < text.length()) {
                assertTrue(m.find(end) && m.start() == end, "malformed labels, " + at);
                String value = unescape(m.group(2));
                assertTrue(labels.put(m.group(1), value) == null, "label twice, " + at);
                end = m.end();
            }
            return labels;
        }

        /** The format's three escapes, left to right ({@code \\n} is a backslash and an n). */
        private static String unescape(String escaped) {
            StringBuilder value = new StringBuilder();
            for (int i = 0; i < escaped.length(); i++) {
                char c = escaped.charAt(i);
                if (c == '\\') {
                    char next = escaped.charAt(++i); // the pattern admits only \\, \" and \n
                    value.append(next == 'n' ? '\n' : next);
                } else {
                    value.append(c);
                }
            }
            return value.toString();
        }

        List<Sample> samples(String name) {
            return all.stream().filter(s -> s.name().equals(name)).toList();
        }

        boolean has(String name, Map<String, String> labels) {
            return samples(name).stream().anyMatch(s -> s.labels().equals(labels));
        }

        double value(String name, Map<String, String> labels) {
            List<Sample> found = samples(name).stream().filter(s -> s.labels().equals(labels)).toList();
            assertEquals(1, found.size(), name + labels + " in\n" + text);
            return found.get(0).value();
        }
    }
}
