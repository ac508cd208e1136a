package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Box.eventually;
import static io.idlewatch.images.Watched.POLL;
import static io.idlewatch.images.Watched.TIMEOUT;
import static io.idlewatch.images.Watched.keepsRunningUntil;
import static io.idlewatch.images.Watched.sleep;
import static io.idlewatch.images.Watched.stopsInWindow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each activity signal both ways, in real containers with a 20 s threshold and a
 * 2 s poll: what counts keeps the container running well past the threshold (and
 * the stop follows once it ends); what does not count lets it stop on time. The
 * tests mostly wait, so they run side by side.
 */
@Execution(ExecutionMode.CONCURRENT)
class SignalsIT {
    static final String SOCAT_IMAGE = Box.SOCAT_IMAGE;
    /** Past the latest moment an idle container would have stopped (timeout + poll + slack = 30 s). */
    private static final Duration WELL_PAST = TIMEOUT.multipliedBy(2);

    // ---- cpu ----

    @Test
    void busyLoopKeepsItRunningForThreeThresholds() {
        // niced a little, to leave other tests room; at nice 19 a loaded host gave it under 10% of a core
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).cmd("nice", "-n", "5", "bash", "-c", "while :; do :; done")
                .start()) {
            keepsRunningUntil(box, Watched.startedAt(box).plus(TIMEOUT.multipliedBy(3)), "busy loop");
            String cpu = Watched.signal(box.exec("cat", Watched.STATE_FILE), "cpu");
            assertTrue(cpu.matches(".*\"detail\":\"cpu [0-9]+% of a core\".*"), cpu);
        }
    }

    @Test
    void lightPeriodicJobDoesNotKeepItRunning() {
        // 50 ms of work every 5 s: 1% of a core, under the 10% threshold
        String job = "while :; do timeout 0.05 bash -c 'while :; do :; done'; echo job ran; sleep 5; done";
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).cmd("bash", "-c", job).start()) {
            stopsInWindow(box, Watched.startedAt(box), 0);
            assertTrue(box.logs().split("job ran", -1).length > 4, "the job ran every 5 s: " + box.logs());
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    // ---- exec ----

    @Test
    void longExecKeepsItRunningUntilItEnds() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).cmd("sleep", "infinity").start()) {
            Instant started = Watched.startedAt(box);
            box.exec("sleep", "45"); // returns when it ends
            Instant execEnded = Instant.now();
            assertTrue(box.running(), "running while the exec ran");
            // the exec signal last fired at the poll before it ended, at most one poll earlier
            stopsInWindow(box, execEnded.minus(POLL), 0);
            // its last firing is at most a poll before the exec ended: the stop comes after 45 s + timeout - poll
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(Duration.ofSeconds(45).plus(TIMEOUT).minus(POLL)) > 0, "ran " + ran);
            assertTrue(Watched.stateFile(box).contains("\"exec\":{\"enabled\":true,\"last_fired\":\"20"),
                    "exec fired");
            assertTrue(started.isBefore(execEnded));
        }
    }

    @Test
    void shortExecsEveryFiveSecondsDoNotKeepItRunning() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).cmd("sleep", "infinity").start()) {
            AtomicInteger execs = new AtomicInteger();
            daemon(() -> {
                try {
                    while (box.running()) {
                        box.exec("sleep", "0.1");
                        execs.incrementAndGet();
                        sleep(Duration.ofSeconds(5));
                    }
                } catch (RuntimeException | AssertionError stopped) {
                    // the container stopped between the check and the exec
                }
            });
            stopsInWindow(box, Watched.startedAt(box), 0);
            assertTrue(execs.get() >= 4, "execs made: " + execs.get());
        }
    }

    // ---- tty ----

    @Test
    void typingInATerminalEveryTenSecondsKeepsItRunning() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).cmd("sleep", "infinity").start();
             TtySession tty = TtySession.open(box)) {
            eventually(Duration.ofSeconds(15), "a prompt", () -> tty.screen().contains("#"));
            Instant until = Instant.now().plus(WELL_PAST);
            Instant lastKey = Instant.now();
            while (Instant.now().isBefore(until)) {
                assertTrue(box.running(), "stopped while someone typed\n" + box.logs());
                lastKey = Instant.now(); // before it arrives: the window's lower bound stays safe
                tty.type("x");
                sleep(Duration.ofSeconds(10));
            }
            keepsRunningUntil(box, until, "typing every 10 s");
            // the terminal stays open; once typing stops the container stops
            stopsInWindow(box, lastKey, 0);
            assertTrue(Watched.stateFile(box).contains("\"tty\":{\"enabled\":true,\"last_fired\":\"20"), "tty fired");
        }
    }

    @Test
    void silentTerminalDoesNotKeepItRunningAndSeesTheNotice() {
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).env("IDLEWATCH_WARN_BEFORE", "10s").cmd("sleep", "infinity")
                .start()) {
            Instant opening = Instant.now(); // a terminal opening is activity; then nothing
            try (TtySession tty = TtySession.open(box)) {
                eventually(Duration.ofSeconds(15), "a prompt", () -> tty.screen().contains("#"));
                stopsInWindow(box, opening, 0);
                eventually(Duration.ofSeconds(5), "the notice on the terminal",
                        () -> tty.screen().contains("idlewatch: this workspace has been idle for"));
                assertTrue(tty.screen().contains("type anything here, or run `idlewatch touch`, to keep it running"),
                        tty.screen());
            }
        }
    }

    // ---- http ----

    /** Over one kept-alive connection, as browsers and opencode's clients talk: the client's bytes count. */
    @Test
    void requestsFromTheHostEveryTenSecondsKeepItRunning() throws Exception {
        try (Box box = Watched.idle(SOCAT_IMAGE).publish(4096).cmd("serve", "http-ok").start()) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + box.hostPort(4096) + "/");
            // docker's proxy accepts before the server listens: wait for a real answer first
            eventually(Duration.ofSeconds(10), "the server answers", () -> {
                try {
                    return send(client, uri).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            });
            keptRunningByARequestEveryTenSeconds(box, Watched.startedAt(box).plus(WELL_PAST), 4,
                    () -> send(client, uri).statusCode() == 200);
        }
    }

    /** What a request every 10 s does. */
    private interface Request {
        /** Whether the server answered 200. */
        boolean answered() throws Exception;
    }

    /**
     * Makes a request every 10 s until {@code until}: the container keeps running, the
     * server saw at least {@code requests} of them from outside, and the idle stop follows
     * the last one on time.
     */
    private static void keptRunningByARequestEveryTenSeconds(Box box, Instant until, int requests, Request request)
            throws Exception {
        Instant lastRequest = null;
        while (Instant.now().isBefore(until)) {
            lastRequest = Instant.now();
            assertTrue(request.answered(), "request answered with 200");
            sleep(Duration.ofSeconds(10));
        }
        keepsRunningUntil(box, until, "a request every 10 s");
        // through docker's port publishing the client is the bridge gateway, not loopback
        // (the loopback peers are the agent's own opencode probe)
        String logs = box.logs();
        long outside = logs.lines().filter(l -> l.startsWith("peer ") && !l.startsWith("peer 127.")).count();
        assertTrue(outside >= requests, "requests from outside the container: " + logs);
        stopsInWindow(box, lastRequest, 0);
    }

    /**
     * One-shot connections, as {@code curl} makes them: request, answer, and the client
     * closes first. The server's socket is gone within milliseconds, between two polls,
     * and the TIME_WAIT stays with the client, outside the container; the kernel's count
     * of accepted connections still shows each one.
     */
    @Test
    void oneShotRequestsFromTheHostEveryTenSecondsKeepItRunning() throws Exception {
        try (Box box = Watched.idle(SOCAT_IMAGE).publish(4096).cmd("serve", "http-ok").start()) {
            int port = box.hostPort(4096);
            // docker's proxy accepts before the server listens: wait for a real answer first
            eventually(Duration.ofSeconds(10), "the server answers", () -> oneShot(port));
            keptRunningByARequestEveryTenSeconds(box, Watched.startedAt(box).plus(TIMEOUT.multipliedBy(3)), 6,
                    () -> oneShot(port));
        }
    }

    /** GET / on a new connection, the whole answer read, then the client closes first; false on any failure. */
    private static boolean oneShot(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            StringBuilder answer = new StringBuilder();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[256];
            int n;
            // http-ok keeps the connection open: the answer ends with its 3-byte body
            while (!answer.toString().endsWith("\r\n\r\nok\n") && (n = in.read(buf)) > 0) {
                answer.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
            }
            return answer.toString().startsWith("HTTP/1.1 200 ") && answer.toString().endsWith("ok\n");
        } catch (IOException e) {
            return false;
        }
    }

    /** Enough server bytes to show the stream was alive through most of the idle time (nominally 10). */
    private static final int MIN_HEARTBEATS = 5;

    @Test
    void eventStreamWithOnlyServerHeartbeatsDoesNotKeepItRunning() throws Exception {
        try (Box box = Watched.idle(SOCAT_IMAGE).publish(4096).cmd("serve", "http-events").start();
             EventStream events = EventStream.open(box.hostPort(4096))) {
            StringBuffer received = new StringBuffer(); // counted whole: a heartbeat may straddle two reads
            InputStream in = events.socket().getInputStream();
            daemon(() -> {
                byte[] buf = new byte[256];
                try {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        received.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
                    }
                } catch (IOException ignored) {
                    // the container stopped
                }
            });
            stopsInWindow(box, events.requested(), 0);
            int heartbeats = received.toString().split(": heartbeat", -1).length - 1;
            // one every 2 s over the 20 s threshold is 10; a loaded host runs the server's loop late
            assertTrue(heartbeats >= MIN_HEARTBEATS, "heartbeats received on the open stream: " + heartbeats);
        }
    }

    /** A GET on a held-open event stream, and when it was sent. */
    private record EventStream(Socket socket, Instant requested) implements AutoCloseable {
        /** Retried while docker's proxy accepts before the server listens. */
        static EventStream open(int port) throws IOException {
            Instant deadline = Instant.now().plusSeconds(10);
            while (true) {
                Instant requested = Instant.now();
                Socket s = new Socket("127.0.0.1", port);
                try {
                    s.getOutputStream().write(("GET /global/event HTTP/1.1\r\nHost: localhost\r\n"
                            + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    s.setSoTimeout(3000);
                    byte[] status = new byte[12];
                    int n = s.getInputStream().readNBytes(status, 0, status.length);
                    s.setSoTimeout(0);
                    if (n == status.length && new String(status, StandardCharsets.US_ASCII).equals("HTTP/1.1 200")) {
                        return new EventStream(s, requested);
                    }
                } catch (IOException reset) {
                    // the proxy gave up on a server not listening yet
                }
                s.close();
                if (Instant.now().isAfter(deadline)) {
                    throw new AssertionError("no event stream on port " + port);
                }
                sleep(Duration.ofMillis(300));
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * bash's /dev/tcp probe reads the status line and closes with the rest unread: a reset,
     * no TIME_WAIT on either side. Its accepts are explained by the kernel's reset count
     * (and the agent's own probe of port 4096 every poll by its TIME_WAIT), so neither counts.
     */
    @Test
    void inContainerLoopbackProbeDoesNotKeepItRunning() {
        String workload = "serve http-ok & sleep 1; while :; do probe; sleep 5; done";
        try (Box box = Watched.idle(SOCAT_IMAGE).cmd("bash", "-c", workload).start()) {
            stopsInWindow(box, Watched.startedAt(box), 0);
            assertTrue(box.logs().split("probe: HTTP/1.1 200 OK", -1).length > 4, "probes answered: " + box.logs());
        }
    }

    // ---- a failing sensor ----

    @Test
    void brokenOpencodeIsDegradedAndNeverStopsTheContainer() {
        try (Box box = Watched.idle(SOCAT_IMAGE).cmd("serve", "http-500").start()) {
            keepsRunningUntil(box, Watched.startedAt(box).plus(WELL_PAST), "a degraded sensor");
            String state = box.exec("cat", Watched.STATE_FILE);
            String opencode = Watched.signal(state, "opencode");
            assertTrue(opencode.contains("\"degraded\":true") && opencode.contains("answered HTTP 500"), state);
            assertTrue(box.logs().contains("idlewatch: signal opencode degraded (counts as activity)"), box.logs());
            // its probes are loopback clients of our own: the http signal never saw them
            assertFalse(Watched.signal(state, "http").contains("\"last_fired\":\"20"), state);
        }
    }

    private static HttpResponse<String> send(HttpClient client, URI uri) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "signals-it");
        t.setDaemon(true);
        t.start();
        return t;
    }

}
