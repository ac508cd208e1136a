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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code idlewatch watch --wake} (the shipped launcher, its own JVM) over real workspaces: socat HTTP
 * servers (images/test/socat) under the real agent, published on fixed host ports, stopping themselves
 * for idleness. A client connecting to a stopped one is answered by it, through one start however
 * many connect at once, and the agent's record says it was woken; a workspace stopped by hand
 * ({@code idlewatch stop}, {@code docker stop}) or without the label refuses connections as before
 * and stays stopped.
 *
 * <p>The watcher is limited to this run's label and sweeps only what is an hour old, so nothing here is
 * removed under the test and nothing else on the engine is touched.
 */
class WakeIT {

    static final DockerCli docker = new DockerCli();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SOCAT_IMAGE = DockerCli.SOCAT_IMAGE;
    /** The example workspace: the real opencode under the real agent (images/workspace). */
    static final String WORKSPACE_IMAGE = DockerCli.WORKSPACE_IMAGE;
    static final String LAUNCHER = System.getProperty("idlewatch.launcher", "bin/idlewatch");
    /** A JVM starting, a container stopping and starting, on 2 busy cores. */
    static final Duration PATIENCE = Duration.ofSeconds(60);
    /** This class's ports (47000-47999 is this branch's range); Podman's run gets its own. */
    static final int BASE_PORT = DockerCli.PODMAN ? 47150 : 47100;
    /** Short: the workspace stops for idleness within the test, and again after each wake. */
    static final String IDLE_TIMEOUT = "4s";
    static final String PREFIX = "wake-" + docker.runId.substring(0, 8);

    static Process watcher;
    static final List<String> lines = new CopyOnWriteArrayList<>();
    static Path errFile;

    @BeforeAll
    static void watcher() throws IOException {
        DockerCli.assumeEngine();
        errFile = Files.createTempFile("wake-it", ".err");
        List<String> command = new ArrayList<>(List.of(LAUNCHER, "watch", "--wake", "--wake-timeout", "60s",
                "--label", docker.testLabel(), "--older-than", "1h", "--interval", "1h", "--grace", "500ms"));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("DOCKER_HOST");
        if (DockerCli.PODMAN) {
            builder.environment().put("DOCKER_HOST", DockerCli.endpoint());
        }
        builder.redirectError(errFile.toFile());
        watcher = builder.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(watcher.getInputStream(), StandardCharsets.UTF_8))) {
                out.lines().forEach(lines::add);
            } catch (IOException | java.io.UncheckedIOException ignored) {
                // the watcher ended
            }
        });
        reader.setDaemon(true);
        reader.start();
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (watcher != null) {
            watcher.destroy(); // SIGTERM
            assertTrue(watcher.waitFor(30, TimeUnit.SECONDS), "watcher did not stop on SIGTERM");
            assertEquals(0, watcher.exitValue(), "watcher exit; stderr: " + Files.readString(errFile));
        }
        docker.cleanUp();
    }

    /** An HTTP server workspace on 127.0.0.1:PORT that stops itself after {@link #IDLE_TIMEOUT} without a client. */
    static String server(String name, int port, boolean wakeLabel) {
        return server(name, port, wakeLabel, IDLE_TIMEOUT);
    }

    static String server(String name, int port, boolean wakeLabel, String idleTimeout) {
        List<String> options = new ArrayList<>(List.of("-d", "--label", "io.idlewatch.workspace=" + name,
                "-p", "127.0.0.1:" + port + ":4096",
                "-e", "IDLEWATCH_TIMEOUT=" + idleTimeout, "-e", "IDLEWATCH_POLL_INTERVAL=1s",
                // Only the clients count: the wake's own connection keeps it up for a while after.
                "-e", "IDLEWATCH_SIGNALS=http"));
        if (wakeLabel) {
            options.addAll(List.of("--label", "io.idlewatch.wake=true"));
        }
        // Each start of the workload leaves a line in the container's own layer: the count of starts,
        // independent of the engine's event stream (Podman's can drop events).
        return docker.container(SOCAT_IMAGE, "run", "wake", options, "bash", "-c",
                "echo start >> " + STARTS_FILE + "; exec serve http-ok");
    }

    /** Where {@link #server} counts its workload's starts. */
    static final String STARTS_FILE = "/var/tmp/workload-starts";

    /** How often a running {@link #server}'s workload has started, by its own count. */
    static long startsInside(String id) {
        return DockerCli.ok("exec", id, "cat", STARTS_FILE).lines().filter(l -> l.strip().equals("start")).count();
    }

    static void await(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(100), what, done, () -> "; watcher said:\n" + String.join("\n", lines));
    }

    static void awaitLine(String what, String fragment) {
        await(what, () -> lines.stream().anyMatch(l -> l.contains(fragment)));
    }

    static long countLines(String fragment) {
        return lines.stream().filter(l -> l.contains(fragment)).count();
    }

    /** One GET on a fresh connection; the status line and body, or the failure. */
    static String get(int port) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout((int) PATIENCE.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder got = new StringBuilder();
            // http-ok answers "HTTP/1.1 200 OK ... \r\n\r\nok\n" and keeps the connection.
            while (!got.toString().endsWith("\r\n\r\nok\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                got.append((char) b);
            }
            return got.toString();
        }
    }

    /** The starts the engine reported for the container since {@code since}. */
    static long starts(String id, Instant since) {
        String events = DockerCli.ok("events", "--since", String.valueOf(since.getEpochSecond()),
                "--until", String.valueOf(Instant.now().getEpochSecond() + 1),
                "--filter", "container=" + id, "--filter", "event=start", "--format", "{{.Action}}");
        return events.lines().filter(l -> l.strip().equals("start")).count();
    }

    /** The agent's record in a running container (a short exec is no activity). */
    static JsonNode stateFile(String id) throws IOException {
        return JSON.readTree(DockerCli.ok("exec", id, "cat", "/run/idlewatch/state.json"));
    }

    static void awaitIdleStop(String id, String name, int port) {
        DockerCli.awaitState(id, "exited");
        awaitLine("the watcher to hold " + name, "holding 127.0.0.1:" + port + " for " + name);
    }

    @Test
    void aConnectionWakesTheWorkspaceAndTenAtOnceShareOneStart() throws Exception {
        String name = PREFIX + "-http";
        int port = BASE_PORT + 1;
        String id = server(name, port, true);
        awaitIdleStop(id, name, port);

        // One client: answered by the workspace itself, through the wake.
        String answer = get(port);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("ok\n"), answer);
        assertEquals("running", DockerCli.state(id));
        // The workload starts before the agent, so the server may answer before the agent has taken
        // the wake's note into the record: wait for the record.
        JsonNode woken = stateFile(id).path("woken");
        for (int i = 0; i < 100 && woken.path("via").asText().isEmpty(); i++) {
            DockerCli.sleep(100);
            woken = stateFile(id).path("woken");
        }
        assertEquals("127.0.0.1:" + port + "/tcp", woken.path("via").asText(), woken.toString());
        assertTrue(woken.path("from").asText().startsWith("127.0.0.1:"), woken.toString());
        assertEquals(2, startsInside(id), "its first start, then one wake");
        awaitLine("the wake's line", "woke " + name);

        // Idle again; then ten clients at once.
        awaitIdleStop(id, name, port);
        await("the second hold", () -> countLines("holding 127.0.0.1:" + port + " for " + name) == 2);
        ExecutorService pool = Executors.newFixedThreadPool(10);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            answers.add(pool.submit(() -> {
                go.await();
                return get(port);
            }));
        }
        go.countDown();
        for (Future<String> f : answers) {
            String a = f.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertTrue(a.startsWith("HTTP/1.1 200 OK") && a.endsWith("ok\n"), a);
        }
        pool.shutdown();
        assertEquals(3, startsInside(id), "one start for ten clients");
        assertEquals(2, countLines("woke " + name));

        // ps shows the wake (once the agent, which starts after the workload, has recorded it).
        Run ps = null;
        JsonNode row = null;
        for (int i = 0; i < 100 && (row == null || row.path("woken").path("via").asText().isEmpty()); i++) {
            if (i > 0) {
                DockerCli.sleep(100);
            }
            ps = Run.of(CliContext.system(), "ps", "--json", "--label", docker.testLabel());
            assertEquals(0, ps.exitCode(), ps.toString());
            row = null;
            for (JsonNode w : JSON.readTree(ps.out())) {
                if (w.path("name").asText().equals(name)) {
                    row = w;
                }
            }
        }
        assertNotNull(row, ps.out());
        assertEquals("127.0.0.1:" + port + "/tcp", row.path("woken").path("via").asText(), row.toString());
    }

    @Test
    void noWakeAfterIdlewatchStopDockerStopOrWithoutTheLabel() throws Exception {
        String manual = PREFIX + "-manual";
        String stopped = PREFIX + "-dockerstop";
        String unlabelled = PREFIX + "-nolabel";
        String manualId = server(manual, BASE_PORT + 2, true);
        String stoppedId = server(stopped, BASE_PORT + 3, true);
        String unlabelledId = server(unlabelled, BASE_PORT + 4, false);
        await("the agent in " + manual, () -> DockerCli.exec("exec", manualId, "test", "-S", "/run/idlewatch/agent.sock").exitCode() == 0);
        // The manual stop from inside (the host verb's own behaviour is HostVerbsIT's): recorded as manual all the same.
        DockerCli.exec("exec", manualId, "/opt/idlewatch/bin/idlewatch", "stop");
        DockerCli.ok("stop", stoppedId);
        DockerCli.awaitState(manualId, "exited");
        DockerCli.awaitState(stoppedId, "exited");
        DockerCli.awaitState(unlabelledId, "exited");
        awaitLine("the watcher's verdict on " + manual, "not holding " + manual + " (" + manualId.substring(0, 12)
                + "): stopped (manual), not idle");
        awaitLine("the watcher's verdict on " + stopped, "not holding " + stopped + " (" + stoppedId.substring(0, 12) + "): ");
        Instant before = Instant.now().minusSeconds(1);

        for (int port = BASE_PORT + 2; port <= BASE_PORT + 4; port++) {
            int p = port;
            assertThrows(ConnectException.class, () -> get(p), "port " + p + " should refuse");
        }
        // Nothing starts them later either (a wake would have begun at the connection).
        DockerCli.sleep(3_000);
        for (String id : List.of(manualId, stoppedId, unlabelledId)) {
            assertEquals("exited", DockerCli.state(id));
            assertEquals(0, starts(id, before));
        }
        assertEquals(0, countLines("holding 127.0.0.1:" + (BASE_PORT + 4)));
    }

    @Test
    void startVerbWakesAStoppedWorkspaceWhetherOrNotTheWatcherHoldsIt() throws Exception {
        String plain = PREFIX + "-start";
        String held = PREFIX + "-startheld";
        // Long enough for the checks after each start, before the next idle stop.
        String plainId = server(plain, BASE_PORT + 5, false, "10s");
        String heldId = server(held, BASE_PORT + 6, true, "10s");
        DockerCli.awaitState(plainId, "exited");
        awaitIdleStop(heldId, held, BASE_PORT + 6);

        Run started = Run.of(CliContext.system(), "start", plain);
        assertEquals(0, started.exitCode(), started.toString());
        assertTrue(started.out().startsWith(plain + " (" + plainId.substring(0, 12) + "): started; idle: "), started.out());
        assertEquals("running", DockerCli.state(plainId));
        assertEquals("start", stateFile(plainId).path("woken").path("via").asText());
        Run again = Run.of(CliContext.system(), "start", plain);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains("already running; idle: "), again.out());

        // The engine cannot bind a port the watcher holds: start goes through the watcher's wake.
        Run startedHeld = Run.of(CliContext.system(), "start", held);
        assertEquals(0, startedHeld.exitCode(), startedHeld.toString());
        assertEquals("running", DockerCli.state(heldId));
        assertEquals("127.0.0.1:" + (BASE_PORT + 6) + "/tcp", stateFile(heldId).path("woken").path("via").asText());

    }

    /**
     * opencode accepts and reads connections for a while before it answers any (about a second, several
     * on a loaded host) and never answers those: the wake must wait for an answer, not for an accept.
     */
    @Test
    void curlOfOpencodesApiWakesTheOpencodeWorkspace() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(DockerCli.exec("image", "inspect", WORKSPACE_IMAGE).exitCode() == 0,
                "no " + WORKSPACE_IMAGE + " in this engine: images/build.sh workspace (Podman: scripts/podman-engine "
                        + WORKSPACE_IMAGE + ")");
        String name = PREFIX + "-opencode";
        int port = BASE_PORT + 7;
        String id = docker.container(WORKSPACE_IMAGE, "run", "wake", List.of("-d",
                "--label", "io.idlewatch.workspace=" + name, "--label", "io.idlewatch.wake=true",
                "-p", "127.0.0.1:" + port + ":4096",
                // Only clients and busy sessions count (opencode's own start is busy); 30s: opencode starts within
                // it on a loaded host, else the agent would stop it again before it answers.
                "-e", "IDLEWATCH_TIMEOUT=30s", "-e", "IDLEWATCH_POLL_INTERVAL=1s", "-e", "IDLEWATCH_SIGNALS=http,opencode"));
        await("the idle stop of " + name, () -> DockerCli.state(id).equals("exited"));
        awaitLine("the watcher to hold " + name, "holding 127.0.0.1:" + port + " for " + name);

        // curl, as a user would: no retry, the wake timeout is the only patience needed.
        Process curl = new ProcessBuilder("curl", "-sS", "--max-time", "60", "http://127.0.0.1:" + port + "/global/health")
                .redirectErrorStream(true).start();
        String reply = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(curl.waitFor(90, TimeUnit.SECONDS));
        assertEquals(0, curl.exitValue(), reply);
        assertTrue(reply.contains("\"healthy\":true"), "opencode's own reply: " + reply);
        assertEquals("running", DockerCli.state(id));
        // The workload starts before the agent, so the server may answer before the agent has taken
        // the wake's note into the record: wait for the record.
        JsonNode woken = stateFile(id).path("woken");
        for (int i = 0; i < 100 && woken.path("via").asText().isEmpty(); i++) {
            DockerCli.sleep(100);
            woken = stateFile(id).path("woken");
        }
        assertEquals("127.0.0.1:" + port + "/tcp", woken.path("via").asText(), woken.toString());
    }
}
