package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.idlewatch.images.Box.eventually;
import static io.idlewatch.images.Watched.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real setup idlewatch is for: the opencode workspace image, hardened as in
 * examples/compose/compose.yaml (non-root, cap_drop ALL, pids limit, tty, loopback
 * publish, health check), used the two ways people use it — remote mode (clients on
 * the host through the published port) and exec mode (`docker exec -it … opencode
 * attach`) — and then forgotten. Short thresholds (20 s, poll 2 s).
 */
@Execution(ExecutionMode.CONCURRENT)
class WorkspaceIT {
    static final String WORKSPACE_IMAGE = Box.WORKSPACE_IMAGE;
    /** opencode's own start-up CPU counts for a while; every "it stops" wait allows for it. */
    static final Duration STOP_WAIT = Duration.ofSeconds(150);

    /** The compose example's hardening, applied to a test container. */
    static Box.Spec hardened() {
        return Watched.idle(WORKSPACE_IMAGE)
                .user("1000:1000").capDropAll().pidsLimit(512).tty()
                .label("io.idlewatch.managed", "true").label("io.idlewatch.workspace", "it-" + System.nanoTime())
                .publish(4096);
    }

    @Test
    void hostRequestsKeepItRunningThenItStops() {
        try (Box box = hardened().start()) {
            int port = box.hostPort(4096);
            awaitHealthy(port);
            // A request every 8 s, each on a connection the client holds a little (as browsers and
            // opencode's clients do) and then closes. One-shot connections that live only
            // between two polls are SignalsIT's; counting them through the kernel's accept
            // counter is best effort (see the README).
            Instant until = Instant.now().plus(TIMEOUT.multipliedBy(3));
            Instant last = Instant.now();
            while (Instant.now().isBefore(until)) {
                assertTrue(box.running(), "stopped while a client was using it\n" + box.logs());
                // the activity is the request's bytes, sent at once; holding the connection after is not
                Instant sent = Instant.now();
                assertTrue(clientClosesFirst(port, "GET /session HTTP/1.1").startsWith("HTTP/1.1 200"));
                last = sent;
                Watched.sleep(Duration.ofSeconds(8));
            }
            Watched.stopsInWindow(box, last, 0);
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    @Test
    void anIdleEventStreamFromTheHostDoesNotKeepItRunning() throws IOException {
        try (Box box = hardened().start()) {
            int port = box.hostPort(4096);
            awaitHealthy(port);
            try (Socket stream = new Socket("127.0.0.1", port)) {
                stream.getOutputStream().write(("GET /event HTTP/1.1\r\nHost: localhost\r\n"
                        + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                InputStream in = stream.getInputStream();
                StringBuilder seen = new StringBuilder();
                Thread reader = new Thread(() -> {
                    byte[] buf = new byte[4096];
                    try {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            synchronized (seen) {
                                seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                            }
                        }
                    } catch (IOException closed) {
                        // the container stopped
                    }
                });
                reader.setDaemon(true);
                reader.start();
                int code = box.awaitExit(STOP_WAIT);
                assertEquals(0, code, box.logs());
                synchronized (seen) {
                    assertTrue(seen.toString().contains("server.heartbeat") || seen.toString().contains("server.connected"),
                            "the stream was open and the server wrote to it: " + seen);
                }
            }
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
        }
    }

    @Test
    void theHealthCheckAloneNeverKeepsItRunning() {
        // The image's check, every 2 s instead of 30 s: loopback clients are not activity.
        try (Box box = hardened().healthcheck(Duration.ofSeconds(2),
                "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:4096/global/health").start()) {
            eventually(OpencodeIT.OPENCODE_START, "healthy", () ->
                    box.inspect().getState().getHealth() != null
                            && "healthy".equals(box.inspect().getState().getHealth().getStatus()));
            assertEquals(0, box.awaitExit(STOP_WAIT), box.logs());
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(Watched.signal(state, "http").contains("\"last_fired\":null"), state);
        }
    }

    @Test
    void attachedTerminalKeepsItRunningWhileTypedIntoThenStops() {
        try (Box box = hardened().start()) {
            awaitHealthy(box.hostPort(4096));
            try (TtySession attach = TtySession.open(box, "-e TERM=xterm-256color",
                    "opencode attach http://localhost:4096")) {
                Instant until = Instant.now().plus(TIMEOUT.multipliedBy(3));
                Instant last = Instant.now();
                while (Instant.now().isBefore(until)) {
                    assertTrue(box.running(), "stopped while someone typed\n" + box.logs());
                    attach.type("x");
                    Watched.sleep(Duration.ofMillis(300));
                    attach.type("\u007f"); // backspace: leave the prompt as it was
                    last = Instant.now();
                    Watched.sleep(Duration.ofSeconds(8));
                }
                assertTrue(attach.alive(), "opencode attach still running: " + attach.screen());
                // Left silent, with the TUI still open. The TUI's own echo of the last keys is
                // terminal output too, and terminal times move in 8 s steps: one step more slack.
                assertEquals(0, box.awaitExit(Duration.ofSeconds(90)), box.logs());
                Instant finished = Watched.finishedAt(box);
                assertTrue(!finished.isBefore(last.plus(TIMEOUT)), "stopped before the timeout");
                assertTrue(finished.isBefore(Watched.latestStop(last).plusSeconds(8)),
                        "stopped " + Duration.between(last.plus(TIMEOUT), finished).toMillis() + " ms after the timeout");
            }
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(Watched.signal(state, "tty").contains("\"last_fired\":\"20"), state);
        }
    }

    @Test
    void afterTheStopIdlewatchPsSaysWhyAndSweepRemovesIt() throws Exception {
        String name = "it-ps-" + System.nanoTime();
        Box box = Watched.idle(WORKSPACE_IMAGE).label("io.idlewatch.managed", "true")
                .label("io.idlewatch.workspace", name).start();
        try {
            assertEquals(0, box.awaitExit(STOP_WAIT), box.logs());
            String ps = cli("ps", "--all", "--label", "io.idlewatch.workspace=" + name);
            assertTrue(ps.contains(name) && ps.contains("idle"), ps);
            String sweep = cli("sweep", "--label", "io.idlewatch.workspace=" + name);
            assertTrue(sweep.contains("removed 1"), sweep);
            assertFalse(Box.docker().listContainersCmd().withShowAll(true)
                    .withLabelFilter(List.of("io.idlewatch.workspace=" + name)).exec().iterator().hasNext());
        } finally {
            box.close();
        }
    }

    /** Runs the host CLI built in this reactor (sweeper/bin/idlewatch) and returns its output. */
    static String cli(String... args) throws IOException, InterruptedException {
        Path launcher = Path.of(System.getProperty("user.dir")).resolveSibling("sweeper").resolve("bin/idlewatch");
        assertTrue(Files.isExecutable(launcher), launcher + " missing");
        List<String> command = new java.util.ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    static void awaitHealthy(int port) {
        eventually(OpencodeIT.OPENCODE_START, "opencode answers /global/health", () -> {
            try {
                return oneShot(port, "GET /global/health HTTP/1.1").contains("\"healthy\":true");
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /**
     * One request on a kept-alive connection that we, the client, close once the answer
     * stopped coming: the server's socket is gone at once (no TIME_WAIT on its side), the
     * case a poll can only catch through the kernel's count of accepted connections.
     */
    static String clientClosesFirst(int port, String requestLine) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write((requestLine + "\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(2500);
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                try {
                    int n = s.getInputStream().read(buf);
                    if (n < 0) {
                        break;
                    }
                    got.write(buf, 0, n);
                } catch (java.net.SocketTimeoutException quiet) {
                    if (got.size() > 0) {
                        break;
                    }
                }
            }
            return got.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One request on its own connection, closed by us (the client) once answered. */
    static String oneShot(int port, String requestLine) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
