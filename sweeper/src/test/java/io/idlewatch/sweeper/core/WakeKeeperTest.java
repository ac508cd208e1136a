package io.idlewatch.sweeper.core;

import io.idlewatch.contract.WakeNote;
import io.idlewatch.sweeper.docker.PortBinding;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.FakeDocker.FakeContainer;
import io.idlewatch.sweeper.testing.FakeDocker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keeper over the fake engine, with a local server standing in for the workspace's port: what a
 * client sees through a wake, whatever the server does while it starts.
 */
class WakeKeeperTest {

    /** The held "host" port and the workspace's "container" port, both on loopback, in this branch's range. */
    static final int HOST_PORT = 47200;
    static final int CONTAINER_PORT = 47201;
    static final Duration PATIENCE = Duration.ofSeconds(30);
    static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

    final FakeDocker docker = new FakeDocker();
    final List<String> lines = new CopyOnWriteArrayList<>();
    final List<Boolean> wakes = new CopyOnWriteArrayList<>();
    final List<String> received = new CopyOnWriteArrayList<>();
    WakeKeeper keeper;
    ServerSocket workspace;

    @AfterEach
    void tearDown() throws IOException {
        if (keeper != null) {
            keeper.close();
        }
        if (workspace != null) {
            workspace.close();
        }
    }

    /** A workspace its agent stopped for idleness, publishing 127.0.0.1:HOST_PORT->CONTAINER_PORT, wakeable. */
    FakeContainer stoppedIdle() {
        FakeContainer c = docker.add("ws", "exited", NOW.minusSeconds(3600), "io.idlewatch.workspace=ws",
                "io.idlewatch.wake=true");
        docker.stateFiles.put(c.id, ("{\"version\":1,\"state\":\"stopping\",\"updated\":\"" + NOW + "\",\"idle_ms\":1000,"
                + "\"stop\":{\"reason\":\"idle\",\"at\":\"" + NOW + "\",\"exit_code\":0}}").getBytes(StandardCharsets.UTF_8));
        docker.bindings.put(c.id, List.of(new PortBinding(CONTAINER_PORT, "tcp", "127.0.0.1", HOST_PORT)));
        docker.addresses.put(c.id, List.of("127.0.0.1"));
        return c;
    }

    void keep() {
        keeper = new WakeKeeper(docker, LabelSelector.managedAnd(List.of()), PATIENCE, Clock.systemUTC(),
                new WakeKeeper.Listener() {
                    @Override
                    public void onLine(String line) {
                        lines.add(line);
                    }

                    @Override
                    public void onWake(String workspace, boolean ok) {
                        wakes.add(ok);
                    }
                });
        keeper.start();
        await("the hold", () -> lines.stream().anyMatch(l -> l.startsWith("holding 127.0.0.1:" + HOST_PORT)));
    }

    /**
     * What the workspace serves once started: it listens at once, but the first {@code deaf}
     * connections are read and never answered (a server that has not attached its handler yet, as
     * opencode 1.18 for a while after it listens); the next ones get {@code reply} and the close.
     */
    void serveOnStart(int deaf, String reply) {
        docker.onStart = id -> {
            try {
                workspace = new ServerSocket();
                workspace.setReuseAddress(true);
                workspace.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), CONTAINER_PORT));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Thread server = new Thread(() -> {
                AtomicInteger n = new AtomicInteger();
                while (!workspace.isClosed()) {
                    try {
                        Socket s = workspace.accept();
                        boolean answer = n.incrementAndGet() > deaf;
                        Thread t = new Thread(() -> serve(s, answer, reply));
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            server.setDaemon(true);
            server.start();
        };
    }

    private void serve(Socket s, boolean answer, String reply) {
        try (s) {
            String request = readHead(s.getInputStream());
            if (!answer) {
                s.getInputStream().transferTo(OutputStreamNull.INSTANCE); // holds it, as a deaf server does
                return;
            }
            received.add(request);
            s.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
        } catch (IOException ignored) {
            // the other side went away
        }
    }

    private static final class OutputStreamNull extends java.io.OutputStream {
        static final OutputStreamNull INSTANCE = new OutputStreamNull();

        @Override
        public void write(int b) {
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (!got.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            got.write(b);
        }
        return got.toString(StandardCharsets.US_ASCII);
    }

    /** A client's request on the held port; everything it gets until the server's close. */
    static String request(String path) throws IOException {
        try (Socket client = new Socket()) {
            client.connect(new InetSocketAddress("127.0.0.1", HOST_PORT), 5_000);
            client.setSoTimeout((int) PATIENCE.toMillis());
            client.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    static void await(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(20), what, done);
    }

    @Test
    void aServerThatAcceptsBeforeItAnswersGetsTheClientsRequestOnceItAnswers() throws Exception {
        FakeContainer ws = stoppedIdle();
        serveOnStart(3, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        keep();

        String answer = request("/client");

        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("ok"), answer);
        // The client's request reached the server once, after the watcher's own probe was answered.
        assertEquals(1, received.stream().filter(r -> r.startsWith("GET /client ")).count(), received.toString());
        assertTrue(received.get(0).startsWith("HEAD / HTTP/1.1\r\n"), received.toString());
        assertEquals(1, docker.calls.stream().filter(c -> c.equals("start " + ws.id)).count());
        byte[] note = docker.putFiles.get(ws.id + ":/run/idlewatch/" + WakeNote.FILE_NAME);
        assertNotNull(note, docker.putFiles.keySet().toString());
        assertTrue(new String(note, StandardCharsets.UTF_8).contains("127.0.0.1:" + HOST_PORT + "/tcp"));
        await("the wake's verdict", () -> !wakes.isEmpty());
        assertEquals(List.of(true), wakes);
    }

    @Test
    void aServerClosingWithoutAReplyIsAnEndTheClientSeesAtOnce() throws Exception {
        stoppedIdle();
        docker.onStart = answersTheProbeOnlyThenClosesSilently();
        keep();

        long before = System.nanoTime();
        String answer = request("/close-me");

        assertEquals("", answer);
        assertTrue(System.nanoTime() - before < PATIENCE.toNanos() / 2, "the close reached the client late");
        assertEquals(1, received.size(), received.toString());
    }

    /** After the first request (the probe), which it answers, the server reads each, and a second later closes without a reply. */
    private java.util.function.Consumer<String> answersTheProbeOnlyThenClosesSilently() {
        AtomicInteger served = new AtomicInteger();
        return id -> {
            try {
                workspace = new ServerSocket();
                workspace.setReuseAddress(true);
                workspace.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), CONTAINER_PORT));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Thread server = new Thread(() -> {
                while (!workspace.isClosed()) {
                    try (Socket s = workspace.accept()) {
                        String request = readHead(s.getInputStream());
                        if (served.getAndIncrement() == 0) {
                            s.getOutputStream().write("HTTP/1.1 200 OK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        } else {
                            received.add(request);
                            Thread.sleep(1000); // a server going away while its client waits, as a stopping one does
                        }
                    } catch (InterruptedException e) {
                        return;
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            server.setDaemon(true);
            server.start();
        };
    }

    @Test
    void aStartTheEngineRefusesClosesTheConnectionAndLeavesTheWorkspaceAlone() throws Exception {
        FakeContainer ws = stoppedIdle();
        docker.startFailures.put(ws.id, new io.idlewatch.sweeper.docker.DockerException("port is already allocated", null));
        keep();

        // Closed with its request unread: the client sees a reset (or the end, had it read first).
        try {
            assertEquals("", request("/"));
        } catch (java.net.SocketException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("reset"), e.toString());
        }
        await("the wake's verdict", () -> !wakes.isEmpty());
        assertEquals(List.of(false), wakes);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cannot wake ws (") && l.contains("port is already allocated")),
                lines.toString());
        assertEquals("exited", ws.state);
        assertFalse(keeper.heldNow().containsKey(ws.id), "held again at once after a failed start");
    }
}
