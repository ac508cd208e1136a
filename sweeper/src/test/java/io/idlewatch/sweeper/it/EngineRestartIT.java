package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real {@code idlewatch watch} (the shipped launcher) across a real dockerd restart: containers
 * that exit once the engine is back are removed within the grace, not at the next {@code --interval};
 * the break and the recovery are one line each; SIGTERM afterwards still ends it with 0.
 *
 * <p>The engine restarted is a private dockerd this class starts as root, with its own data root,
 * exec root (so its own managed containerd and containerd namespace), socket, cgroup parent,
 * bridge and no iptables: the machine's main engine is shared and must never be restarted. The main
 * engine is only read once, to {@code docker save} the test image into the private one. Docker only:
 * not in the pom's podman execution.
 */
class EngineRestartIT {

    static final DockerCli docker = new DockerCli();
    static final String LAUNCHER = System.getProperty("idlewatch.launcher", "bin/idlewatch");

    static final Duration GRACE = Duration.ofSeconds(3);
    /** The main engine's default bridge, which the private engine must leave alone. */
    static final String MAIN_BRIDGE = "docker0";
    static String bridge;
    static boolean mainBridgeBefore;
    /** What a removal may take beyond the grace: the brief's promise is "within the grace", plus one sweep on a busy host. */
    static final Duration REMOVAL_SLACK = Duration.ofSeconds(5);
    /**
     * How long the engine stays down between stop and start. Long enough for the watcher's backoff
     * (250 ms doubling: tries 0.25, 0.75, 1.75, 3.75, 7.75 s after the break) to fall behind the
     * engine, so the early container below dies before the watcher is back and only the sweep on
     * reconnect can catch it; short enough that the wait for the next try stays well inside the slack.
     */
    static final Duration ENGINE_DOWN = Duration.ofSeconds(4);
    /**
     * overlay2, not vfs: vfs copies the whole image for every container, which took up to 8 s per
     * {@code docker run} on this loaded 2-core host and would blur when a container exits. Its mounts
     * are undone by the engine's stop, and by {@link #unmountUnder} if that fails.
     */
    static final String STORAGE_DRIVER = "overlay2";
    /** dockerd's start, a JVM's start, an image load, on 2 busy cores. */
    static final Duration PATIENCE = Duration.ofSeconds(30);
    /** Seconds after its start that the early container exits: before the watcher has resubscribed. */
    static final int EARLY_EXIT_SECONDS = 1;
    /**
     * Seconds after its start that the late container exits; it starts once the early one is gone,
     * so on the new event stream, and no sweep of its own can have removed the early one.
     */
    static final int LATE_EXIT_SECONDS = 2;

    static final Pattern METRICS_URL = Pattern.compile("; metrics at (http://127\\.0\\.0\\.1:\\d+/metrics)$");
    /** Watcher.broken: the outage's one line, whichever of the two calls noticed it first. */
    static final Pattern BREAK_LINE = Pattern.compile(
            "idlewatch watch: (Docker event stream broke|cannot follow Docker events) \\(.*\\); reconnecting, periodic sweeps go on");
    /** Watcher.sweepDue: the recovery's one line. */
    static final Pattern BACK_LINE = Pattern.compile(
            "idlewatch watch: Docker event stream back after \\S+; swept for what died meanwhile");

    /** Short: a unix socket path is limited to 108 bytes, and the engine's socket lives in here. */
    static Path root;
    static String url;
    static String cgroupParent;
    static Process dockerd;
    static Process watch;
    static boolean workloadImage;
    static final List<EngineEvents> listeners = new ArrayList<>();

    @BeforeAll
    static void privateEngine() throws Exception {
        Assumptions.assumeFalse(DockerCli.PODMAN, "restarts a private dockerd: Docker only");
        Assumptions.assumeTrue(run("id", "-u").out().strip().equals("0"), "starting a private dockerd needs root");
        Assumptions.assumeTrue(run("dockerd", "--version").exitCode() == 0, "no dockerd on PATH");
        // dockerd 20.10 joins a system containerd when this socket exists: the two engines would share it.
        Assumptions.assumeFalse(Files.exists(Path.of("/run/containerd/containerd.sock")),
                "a system containerd at /run/containerd would be shared with the main engine");
        Assumptions.assumeTrue(DockerCli.exec("image", "inspect", DockerCli.IMAGE).exitCode() == 0,
                DockerCli.IMAGE + " is not on the main engine (build the test images first)");

        root = Files.createTempDirectory(Path.of("/tmp"), "iw-rs-");
        url = "unix://" + root.resolve("docker.sock");
        cgroupParent = "/idlewatch-itest-" + root.getFileName();
        mainBridgeBefore = run("ip", "link", "show", MAIN_BRIDGE).exitCode() == 0;
        int n = (int) (ProcessHandle.current().pid() % 250);
        bridge = "iwrs" + ProcessHandle.current().pid() % 100_000;
        assertEquals(0, run("ip", "link", "add", bridge, "type", "bridge").exitCode(), "bridge " + bridge);
        run("ip", "addr", "add", "10.213." + n + ".1/24", "dev", bridge);
        run("ip", "link", "set", bridge, "up");
        // An empty config: /etc/docker/daemon.json, if any, belongs to the main engine.
        Files.writeString(root.resolve("daemon.json"), "{}");
        startEngine();
        assertTrue(Files.exists(root.resolve("exec/containerd/containerd.sock")),
                "the private dockerd started its own containerd under " + root);

        // The test images from the main engine (only read); building would load them. The workload image
        // (the real agent) only when this checkout has built it: the test that needs it says so otherwise.
        workloadImage = DockerCli.exec("image", "inspect", DockerCli.WORKLOAD_IMAGE).exitCode() == 0;
        List<String> save = new ArrayList<>(List.of("docker", "save", DockerCli.IMAGE));
        if (workloadImage) {
            save.add(DockerCli.WORKLOAD_IMAGE);
        }
        List<Process> pipeline = ProcessBuilder.startPipeline(List.of(
                new ProcessBuilder(save).redirectError(ProcessBuilder.Redirect.DISCARD),
                new ProcessBuilder("docker", "-H", url, "load").redirectErrorStream(true)));
        Process load = pipeline.get(1);
        String loaded = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(load.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS) && load.exitValue() == 0
                && pipeline.get(0).waitFor() == 0, "image load: " + loaded);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (watch != null) {
            watch.destroyForcibly().waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        listeners.forEach(EngineEvents::close);
        if (root == null) {
            return;
        }
        try {
            if (dockerd != null && dockerd.isAlive()) {
                String all = engine("ps", "-aq").out().strip();
                if (!all.isEmpty()) {
                    List<String> rm = new ArrayList<>(List.of("rm", "-f", "-v"));
                    rm.addAll(List.of(all.split("\\s+")));
                    engine(rm.toArray(String[]::new));
                }
                stopEngine();
            }
        } finally {
            // Whatever a failed stop left: every process naming our root is one this class started
            // (dockerd, its containerd, a shim), since the root is this run's own.
            List<ProcessHandle> ours;
            try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
                ours = all.filter(p -> p.info().arguments()
                        .map(args -> String.join(" ", args).contains(root.toString())).orElse(false)).toList();
            }
            for (ProcessHandle process : ours) {
                process.destroyForcibly();
                process.onExit().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            unmountUnder(root);
            try (Stream<Path> tree = Files.walk(root)) {
                tree.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
            removeCgroups();
            if (bridge != null) {
                run("ip", "link", "del", bridge);
            }
        }
        assertTrue(!Files.exists(root), root + " removed");
        assertEquals(mainBridgeBefore, run("ip", "link", "show", MAIN_BRIDGE).exitCode() == 0,
                "the main engine's " + MAIN_BRIDGE + " is as it was");
    }

    @Test
    void removesWhatExitsAfterARestartWithinTheGraceAndSaysSoOnce() throws Exception {
        Path out = root.resolve("watch.out");
        Path err = root.resolve("watch.err");
        // This machine's host config (an older_than, say) must not change what the watcher does here.
        Path config = Files.writeString(root.resolve("config.toml"), "");
        ProcessBuilder builder = new ProcessBuilder(LAUNCHER, "watch", "--host", url, "--label", docker.testLabel(),
                "--grace", GRACE.toSeconds() + "s", "--interval", "1h", "--metrics", "127.0.0.1:0",
                "--config", config.toString());
        // Only the private engine: --host wins anyway, but no variable should point elsewhere.
        builder.environment().remove("DOCKER_HOST");
        watch = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();

        // Connected: the first sweep is done and the stream is up, so the next death is the stream's.
        awaitTrue("the watcher's first line", () -> lines(out).size() >= 1);
        Matcher metrics = METRICS_URL.matcher(lines(out).get(0));
        assertTrue(metrics.find(), lines(out).get(0));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        awaitTrue("a sweep and a connected event stream", () -> {
            WatchMetricsIT.Exposition scraped = WatchMetricsIT.scrape(http, metrics.group(1));
            return scraped.value("idlewatch_watch_event_stream_connected", Map.of()) == 1.0
                    && scraped.value("idlewatch_watch_sweeps_total", Map.of()) >= 1.0;
        });

        // Sanity, before any restart: a death on the stream is swept after the grace, not before.
        EngineEvents before = listen();
        String sanity = container("sanity", 1);
        Duration sanityDelay = before.removalDelay(sanity);
        System.out.println("EngineRestartIT: before the restart, claimed/removed " + ms(Duration.ofNanos(
                before.claimed.getOrDefault(sanity, 0L) - before.died.get(sanity))) + "/" + ms(sanityDelay) + " after its exit");
        assertTrue(sanityDelay.compareTo(GRACE) >= 0 && sanityDelay.compareTo(GRACE.plus(REMOVAL_SLACK)) <= 0,
                "removed " + ms(sanityDelay) + " after its exit; grace " + GRACE);

        stopEngine();
        Thread.sleep(ENGINE_DOWN.toMillis());
        Instant back = startEngine();

        EngineEvents after = listen();
        String early = container("early", EARLY_EXIT_SECONDS);
        // Managed but not this run's label: the resubscribed watcher must still leave it alone.
        String bystander = engine("run", "-d", "--network", "none", "--label", "io.idlewatch.managed=true",
                DockerCli.IMAGE, "true").out().strip();
        System.out.println("EngineRestartIT: engine down " + ms(ENGINE_DOWN) + " (grace " + ms(GRACE) + "); early container "
                + after.timeline(early, back));
        assertRemovedWithinGrace(after.removalDelay(early));
        String late = container("late", LATE_EXIT_SECONDS);
        System.out.println("EngineRestartIT: late container " + after.timeline(late, back));
        assertRemovedWithinGrace(after.removalDelay(late));
        assertEquals("exited", engine("inspect", "-f", "{{.State.Status}}", bystander).out().strip(),
                "the managed container without the test label");

        awaitTrue("the event stream connected again in the metrics", () -> WatchMetricsIT.scrape(http, metrics.group(1))
                .value("idlewatch_watch_event_stream_connected", Map.of()) == 1.0);
        List<String> problems = lines(err);
        problems.forEach(line -> System.out.println("EngineRestartIT: watcher said: " + line));
        assertEquals(2, problems.size(), "one line for the break, one for the recovery: " + problems);
        assertTrue(BREAK_LINE.matcher(problems.get(0)).matches(), problems.get(0));
        assertTrue(BACK_LINE.matcher(problems.get(1)).matches(), problems.get(1));
        for (String id : List.of(sanity, early, late)) {
            assertTrue(lines(out).stream().anyMatch(line -> line.startsWith("removed  " + id.substring(0, 12))),
                    id + " reported removed: " + lines(out));
        }

        assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(watch.pid())).start().waitFor());
        assertTrue(watch.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS), "watch ended after SIGTERM");
        assertEquals(0, watch.exitValue(), String.join("\n", lines(err)));
        List<String> printed = lines(out);
        assertEquals("stopped", printed.get(printed.size() - 1), printed.toString());
        assertEquals(2, lines(err).size(), "nothing more on stderr at the stop: " + lines(err));
    }

    /**
     * Workspaces with the real agent running under {@code watch} when the engine restarts: the
     * engine's stop sends each SIGTERM, so each agent records a stop from outside, and the sweeps
     * {@code watch} makes on reconnect and on their die events keep them all (the unplanned age,
     * 24h by default); {@code ps --all} then says so and until when.
     */
    @Test
    void anEngineRestartUnderWatchRemovesNoWorkspaceThatWasRunning() throws Exception {
        Assumptions.assumeTrue(workloadImage, DockerCli.WORKLOAD_IMAGE + " is not on the main engine (images/build.sh tests)");
        String c = "reboot";
        List<String> workspaces = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            DockerCli.Result run = engine("run", "-d", "--network", "none", "--label", "io.idlewatch.managed=true",
                    "--label", docker.testLabel(), "--label", "io.idlewatch.case=" + c,
                    "--label", "io.idlewatch.workspace=reboot-" + i,
                    "-e", "IDLEWATCH_SIGNALS=none", "-e", "IDLEWATCH_POLL_INTERVAL=1s", DockerCli.WORKLOAD_IMAGE);
            assertEquals(0, run.exitCode(), run.err());
            workspaces.add(run.out().strip());
        }
        for (String id : workspaces) {
            awaitTrue("the agent's first state file in " + id,
                    () -> engine("exec", id, "test", "-s", "/run/idlewatch/state.json").exitCode() == 0);
        }
        Path out = root.resolve("reboot-watch.out");
        Path err = root.resolve("reboot-watch.err");
        Path config = Files.writeString(root.resolve("reboot-config.toml"), "");
        ProcessBuilder builder = new ProcessBuilder(LAUNCHER, "watch", "--host", url, "--label", docker.testLabel(),
                "--label", "io.idlewatch.case=" + c, "--grace", "1s", "--interval", "1h", "--config", config.toString());
        builder.environment().remove("DOCKER_HOST");
        Process watcher = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            awaitTrue("the watcher's first line", () -> lines(out).size() >= 1);

            stopEngine();
            Thread.sleep(ENGINE_DOWN.toMillis());
            startEngine();
            awaitTrue("the watcher back on the restarted engine", () -> lines(err).stream().anyMatch(l -> BACK_LINE.matcher(l).matches()));
            // Each workspace was skipped by a sweep since (the one on reconnect): none removed, each said why.
            for (String id : workspaces) {
                awaitTrue("a sweep's line for " + id, () -> lines(out).stream().anyMatch(l -> l.startsWith("skipped  " + id.substring(0, 12))));
                assertEquals("exited", engine("inspect", "-f", "{{.State.Status}}", id).out().strip(), lines(out).toString());
            }
            List<String> said = lines(out);
            said.forEach(line -> System.out.println("EngineRestartIT: watcher said: " + line));
            assertTrue(said.stream().noneMatch(l -> l.startsWith("removed  ")), said.toString());
            for (String id : workspaces) {
                // A sweep its die event started while the engine was still going down may fail to look (the engine
                // left) or fail to read the record (then it keeps it too); the sweep on reconnect reads "signal".
                assertTrue(said.stream().filter(l -> l.startsWith("skipped  " + id.substring(0, 12)))
                        .allMatch(l -> l.contains("  kept, unplanned stop: ")), said.toString());
                assertTrue(said.stream().anyMatch(l -> l.startsWith("skipped  " + id.substring(0, 12)) && l.contains(
                        "kept, unplanned stop: signal (stopped from outside: docker stop, engine shutdown or host reboot)")), said.toString());
            }

            Run ps = Run.of(CliContext.system(), "--host", url, "ps", "--all", "--json", "--label", docker.testLabel(),
                    "--label", "io.idlewatch.case=" + c, "--config", config.toString());
            assertEquals(0, ps.exitCode(), ps.toString());
            JsonNode rows = new ObjectMapper().readTree(ps.out());
            assertEquals(workspaces.size(), rows.size(), ps.out());
            for (JsonNode row : rows) {
                System.out.println("EngineRestartIT: ps --all: " + row.path("name").asText() + " " + row.path("state").asText()
                        + ", stop " + row.path("stop_reason").asText() + ", kept until " + row.path("kept_until").asText());
                Instant finished = Instant.parse(engine("inspect", "-f", "{{.State.FinishedAt}}", row.path("id").asText()).out().strip());
                assertEquals("signal", row.path("stop_reason").asText(), row.toString());
                assertFalse(row.path("planned_stop").asBoolean(true), row.toString());
                assertEquals(finished.plus(Duration.ofDays(1)).getEpochSecond(),
                        Instant.parse(row.path("kept_until").asText()).getEpochSecond(), row.toString());
            }
        } finally {
            watcher.destroyForcibly().waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    static void assertRemovedWithinGrace(Duration delay) {
        assertTrue(delay.compareTo(GRACE.plus(REMOVAL_SLACK)) <= 0,
                "removed " + ms(delay) + " after its exit, more than grace " + GRACE + " + " + REMOVAL_SLACK);
    }

    /** A container of this run on the private engine that exits {@code seconds} after its start. */
    static String container(String name, int seconds) {
        DockerCli.Result run = engine("run", "-d", "--network", "none", "--label", "io.idlewatch.managed=true",
                "--label", docker.testLabel(), "--label", "io.idlewatch.case=" + name,
                DockerCli.IMAGE, "sleep", Integer.toString(seconds));
        assertEquals(0, run.exitCode(), run.err());
        return run.out().strip();
    }

    /** Starts the private dockerd (same flags every time) and waits until it answers; when it did. */
    static Instant startEngine() throws IOException {
        dockerd = new ProcessBuilder("dockerd",
                "--config-file", root.resolve("daemon.json").toString(),
                "--data-root", root.resolve("data").toString(),
                "--exec-root", root.resolve("exec").toString(),
                "--pidfile", root.resolve("dockerd.pid").toString(),
                "-H", url,
                "--containerd-namespace", "moby-itest",
                "--containerd-plugins-namespace", "plugins-itest",
                "--cgroup-parent", cgroupParent,
                // A bridge of its own and no iptables rules: the main engine's network stays as it is.
                // (Not --bridge=none: a dockerd told that deletes any docker0 it finds, the main engine's.)
                "--bridge=" + bridge, "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                "--storage-driver=" + STORAGE_DRIVER, "--log-level=warn")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("dockerd.log").toFile()))
                .start();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (engine("version", "--format", "{{.Server.Version}}").exitCode() != 0) {
            if (!dockerd.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("private dockerd did not answer within " + PATIENCE.toSeconds() + "s:\n"
                        + String.join("\n", lines(root.resolve("dockerd.log"))));
            }
            DockerCli.sleep(100);
        }
        return Instant.now();
    }

    /** SIGTERM, as systemd would stop it; it stops its containerd too. */
    static void stopEngine() throws InterruptedException {
        dockerd.destroy();
        if (!dockerd.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            dockerd.destroyForcibly().waitFor();
            throw new AssertionError("private dockerd did not stop within " + PATIENCE.toSeconds() + "s of SIGTERM");
        }
    }

    static DockerCli.Result engine(String... args) {
        List<String> all = new ArrayList<>(List.of("-H", url));
        all.addAll(List.of(args));
        return DockerCli.exec(all.toArray(String[]::new));
    }

    static EngineEvents listen() throws IOException {
        EngineEvents events = new EngineEvents(Instant.now());
        listeners.add(events);
        return events;
    }

    /**
     * The private engine's own record of when this run's containers died and were destroyed: both
     * times from the engine's clock, so a delay needs no polling. One per engine life, as a restart
     * ends the stream; {@code --since} replays what happened before the CLI had subscribed.
     */
    static final class EngineEvents implements AutoCloseable {
        private final Process process;
        private final Map<String, Long> died = new ConcurrentHashMap<>();
        /** The sweeper claims a container by renaming it before its DELETE: when it decided. */
        private final Map<String, Long> claimed = new ConcurrentHashMap<>();
        private final Map<String, Long> destroyed = new ConcurrentHashMap<>();

        EngineEvents(Instant since) throws IOException {
            process = new ProcessBuilder("docker", "-H", url, "events",
                    "--since", since.getEpochSecond() + "." + String.format("%09d", since.getNano()),
                    "--filter", "type=container", "--filter", "label=" + docker.testLabel(),
                    "--format", "{{.TimeNano}} {{.Action}} {{.ID}}")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Thread reader = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    lines.lines().map(line -> line.split(" ")).filter(f -> f.length == 3).forEach(f -> {
                        switch (f[1]) {
                            case "die" -> died.put(f[2], Long.parseLong(f[0]));
                            case "rename" -> claimed.putIfAbsent(f[2], Long.parseLong(f[0]));
                            case "destroy" -> destroyed.put(f[2], Long.parseLong(f[0]));
                            default -> {
                            }
                        }
                    });
                } catch (IOException ignored) {
                    // The engine stopped or we closed it.
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        /**
         * From the container's death to the end of its removal (vfs deletes a whole root file system
         * copy, which takes a while); fails when it is not removed within the patience.
         */
        Duration removalDelay(String id) {
            awaitTrue("removal of " + id + " (the next --interval is an hour away)",
                    () -> died.containsKey(id) && destroyed.containsKey(id));
            return Duration.ofNanos(destroyed.get(id) - died.get(id));
        }

        /** For the log: when it died (from {@code since}), and how long after that the sweeper claimed it. */
        String timeline(String id, Instant since) {
            Duration removed = removalDelay(id);
            long sinceNanos = since.getEpochSecond() * 1_000_000_000L + since.getNano();
            Long claim = claimed.get(id);
            Duration decided = claim == null ? null : Duration.ofNanos(claim - died.get(id));
            // A sweep its die event asked for waits the grace; one sooner was the sweep on reconnect.
            String by = decided == null ? "" : decided.compareTo(GRACE) < 0 ? " (sweep on reconnect)" : " (its die event)";
            return "died " + ms(Duration.ofNanos(died.get(id) - sinceNanos)) + " after the engine answered, claimed "
                    + (decided == null ? "?" : ms(decided)) + by + " and removed " + ms(removed) + " after its death";
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    static void awaitTrue(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(100), what, done);
    }

    static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new AssertionError("reading " + file, e);
        }
    }

    static String ms(Duration duration) {
        return duration.toMillis() + " ms";
    }

    static DockerCli.Result run(String... command) {
        try {
            Process process = new ProcessBuilder(command).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            return new DockerCli.Result(process.waitFor(), out, err);
        } catch (IOException e) {
            return new DockerCli.Result(127, "", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Deepest first; lazily when busy, so the tree can go whatever a crashed engine left mounted. */
    static void unmountUnder(Path dir) throws IOException {
        String prefix = dir.toString();
        List<String> points = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4];
            if (point.equals(prefix) || point.startsWith(prefix + "/")) {
                points.add(point);
            }
        }
        points.sort(Comparator.comparingInt(String::length).reversed());
        for (String point : points) {
            if (run("umount", point).exitCode() != 0) {
                run("umount", "-l", point);
            }
        }
    }

    /** The cgroup parent the private engine made in each hierarchy; empty once its containers are gone. */
    static void removeCgroups() throws IOException {
        Path cgroups = Path.of("/sys/fs/cgroup");
        if (cgroupParent == null || !Files.isDirectory(cgroups)) {
            return;
        }
        List<Path> candidates = new ArrayList<>(List.of(cgroups.resolve(cgroupParent.substring(1))));
        try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(cgroups)) {
            hierarchies.forEach(h -> candidates.add(h.resolve(cgroupParent.substring(1))));
        }
        for (Path dir : candidates) {
            if (Files.isDirectory(dir)) {
                dir.toFile().delete();
            }
        }
    }
}
