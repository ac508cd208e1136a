package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.docker.DockerEndpoint;
import io.idlewatch.sweeper.docker.DockerJavaApi;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.FakeEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code watch} across an engine restart, with the real client (docker-java over a Unix socket)
 * against an engine a test can stop and start again: a server on the same socket path that keeps
 * its containers across the restart, as dockerd does, and streams die events in chunks. The real
 * dockerd is restarted by hand at most (it carries everyone's containers on this machine).
 */
class WatcherRestartTest {

    static final Duration GRACE = Duration.ofSeconds(1);
    /** Scheduling slack on a loaded 2-core machine; the point is "within the grace", not "at the next interval". */
    static final Duration SLACK = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    final SimulatedEngine state = new SimulatedEngine();
    final List<String> problems = new CopyOnWriteArrayList<>();
    final List<SweepReport> reports = new CopyOnWriteArrayList<>();
    final List<Boolean> streamStates = new CopyOnWriteArrayList<>();
    FakeEngine engine;
    Watcher watcher;
    Thread thread;

    @AfterEach
    void tearDown() throws Exception {
        if (watcher != null) {
            watcher.requestStop();
            thread.join(10_000);
        }
        state.down();
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void afterARestartTheStreamIsBack_andAContainerThatExitsIsRemovedWithinTheGrace() throws Exception {
        engine = state.start(dir);
        DockerJavaApi docker = DockerJavaApi.connect(
                DockerEndpoint.resolve(engine.url(), new HostEnvironment(Map.of(), dir, dir.resolve("etc"))),
                false, dir.toString(), Duration.ofSeconds(10));
        Sweeper sweeper = new Sweeper(docker, LabelSelector.managedAnd(List.of()),
                SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()), 4, Clock.systemUTC(), Sweeper.Hooks.NONE);
        watcher = new Watcher(docker, sweeper, Duration.ofHours(1), GRACE, Clock.systemUTC(), new Watcher.Listener() {
            @Override
            public void onEach(ContainerOutcome outcome) {
            }

            @Override
            public void onReport(SweepReport report) {
                reports.add(report);
            }

            @Override
            public void onProblem(String line) {
                problems.add(line);
            }

            @Override
            public void onEventStream(boolean connected) {
                streamStates.add(connected);
            }
        });
        thread = new Thread(() -> watcher.run(false), "watcher");
        thread.start();
        await("the first event stream", () -> state.streams.size() == 1);
        // The start's own sweep follows the subscription; on a loaded host it may not have listed yet,
        // and a list that meets the outage below is a failed sweep, said as such.
        await("the first sweep", () -> !reports.isEmpty());

        // The restart: every connection cut, the socket gone for a while, then a new daemon.
        engine.close();
        state.down();
        state.add("died-while-down");
        Thread.sleep(1500);
        engine = state.start(dir);

        await("the stream back", () -> problems.stream().anyMatch(p -> p.startsWith("Docker event stream back after")));
        assertTrue(state.removedAt.containsKey("died-while-down"), "the reconnect sweeps for what died meanwhile");

        Instant exited = Instant.now();
        state.die("exits-after-restart");
        await("its removal", () -> state.removedAt.containsKey("exits-after-restart"));
        Duration took = Duration.between(exited, state.removedAt.get("exits-after-restart"));

        assertTrue(took.compareTo(GRACE.plus(SLACK)) < 0, "removed " + took + " after its exit, grace " + GRACE);
        assertTrue(took.compareTo(GRACE.minusMillis(100)) >= 0, "the grace is still given: " + took);
        assertEquals(1, problems.stream().filter(p -> p.startsWith("Docker event stream broke")).count(), problems.toString());
        assertEquals(1, problems.stream().filter(p -> p.startsWith("Docker event stream back")).count(), problems.toString());
        assertEquals(2, problems.size(), "nothing else said during the outage: " + problems);
        assertEquals(List.of(false, true, false, true), streamStates);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(Duration.ofSeconds(30), Duration.ofMillis(20), what, condition);
    }

    /**
     * The engine's state, which outlives a restart, and the answers the sweeper and the watcher
     * need: version, list, inspect, rename (the claim), DELETE, and a chunked event stream.
     */
    static final class SimulatedEngine {
        final Map<String, String> exited = new ConcurrentHashMap<>();
        final Map<String, Instant> removedAt = new ConcurrentHashMap<>();
        final List<OutputStream> streams = new CopyOnWriteArrayList<>();
        private volatile CountDownLatch up = new CountDownLatch(1);

        FakeEngine start(Path dir) throws IOException {
            up = new CountDownLatch(1);
            CountDownLatch mine = up;
            return FakeEngine.start(dir.resolve("e"), (method, path, out) -> handle(method, path, out, mine));
        }

        void down() {
            up.countDown();
            streams.clear();
        }

        String add(String name) {
            exited.put(name, name);
            return name;
        }

        void die(String name) throws IOException {
            add(name);
            String event = "{\"status\":\"die\",\"id\":\"" + id(name) + "\",\"from\":\"img\",\"Type\":\"container\","
                    + "\"Action\":\"die\",\"Actor\":{\"ID\":\"" + id(name) + "\",\"Attributes\":{\"io.idlewatch.managed\":\"true\"}},"
                    + "\"time\":" + Instant.now().getEpochSecond() + "}\n";
            for (OutputStream stream : streams) {
                synchronized (stream) {
                    stream.write(event.getBytes(StandardCharsets.UTF_8));
                    stream.flush();
                }
            }
        }

        static String id(String name) {
            return String.format("%64s", Integer.toHexString(name.hashCode())).replace(' ', '0');
        }

        private String nameOf(String id) {
            return exited.keySet().stream().filter(n -> id(n).equals(id) || n.equals(id)).findFirst().orElse(null);
        }

        private void handle(String method, String path, OutputStream out, CountDownLatch mine)
                throws IOException, InterruptedException {
            String p = path.replaceFirst("^/v[0-9.]+", "");
            if (p.startsWith("/version")) {
                FakeEngine.version(out);
            } else if (p.startsWith("/events")) {
                OutputStream chunks = FakeEngine.chunked(out, "application/json");
                out.flush();
                streams.add(chunks);
                mine.await(); // until this engine goes down; its connections are cut then
            } else if (p.startsWith("/containers/json")) {
                StringBuilder b = new StringBuilder("[");
                for (String name : exited.keySet()) {
                    b.append(b.length() > 1 ? "," : "").append("{\"Id\":\"").append(id(name)).append("\",\"Names\":[\"/")
                            .append(name).append("\"],\"State\":\"exited\",\"Labels\":{\"io.idlewatch.managed\":\"true\"},")
                            .append("\"Created\":").append(Instant.now().getEpochSecond() - 60).append('}');
                }
                FakeEngine.json(out, 200, b.append(']').toString());
            } else if (p.startsWith("/containers/") && p.contains("/archive")) {
                // the sweep's look for an agent's final record: these containers have none
                FakeEngine.json(out, 404, "{\"message\":\"Could not find the file in container\"}");
            } else if (p.startsWith("/containers/") && method.equals("GET")) {
                String name = nameOf(p.substring("/containers/".length(), p.indexOf("/json")));
                if (name == null) {
                    FakeEngine.json(out, 404, "{\"message\":\"No such container\"}");
                    return;
                }
                String finished = Instant.now().minusSeconds(1).toString();
                FakeEngine.json(out, 200, "{\"Id\":\"" + id(name) + "\",\"Name\":\"/" + name + "\",\"Created\":\""
                        + Instant.now().minusSeconds(60) + "\",\"State\":{\"Status\":\"exited\",\"StartedAt\":\""
                        + Instant.now().minusSeconds(30) + "\",\"FinishedAt\":\"" + finished + "\",\"ExitCode\":0},"
                        + "\"Config\":{\"Labels\":{\"io.idlewatch.managed\":\"true\"}},"
                        + "\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\"}},\"SizeRw\":0}");
            } else if (p.startsWith("/containers/") && p.contains("/rename") && method.equals("POST")) {
                // the sweep's claim before its DELETE (the name itself plays no part here)
                String name = nameOf(p.substring("/containers/".length(), p.indexOf("/rename")));
                String status = name == null ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                        : "HTTP/1.1 204 No Content\r\n";
                out.write((status + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            } else if (p.startsWith("/containers/") && method.equals("DELETE")) {
                String ref = p.substring("/containers/".length());
                String name = nameOf(ref.contains("?") ? ref.substring(0, ref.indexOf('?')) : ref);
                if (name == null) {
                    FakeEngine.json(out, 404, "{\"message\":\"No such container\"}");
                    return;
                }
                exited.remove(name);
                removedAt.put(name, Instant.now());
                out.write("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            } else {
                FakeEngine.json(out, 404, "{\"message\":\"page not found\"}");
            }
        }
    }

    @Test
    void theSimulatedEngineAnswersLikeOne() throws Exception {
        // The test above is only as good as its engine: a sweep through the real client removes what it lists.
        engine = state.start(dir);
        state.add("one");
        try (DockerJavaApi docker = DockerJavaApi.connect(
                DockerEndpoint.resolve(engine.url(), new HostEnvironment(Map.of(), dir, dir.resolve("etc"))),
                false, dir.toString(), Duration.ofSeconds(10))) {
            SweepReport report = new Sweeper(docker, LabelSelector.managedAnd(List.of()),
                    SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()), 1, Clock.systemUTC(),
                    Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);
            assertEquals("removed 1, skipped 0, failed 0, reclaimed 0B", report.summaryLine());
            assertFalse(state.exited.containsKey("one"));
        }
    }
}
