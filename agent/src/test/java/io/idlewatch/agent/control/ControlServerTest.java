package io.idlewatch.agent.control;

import io.idlewatch.agent.idle.FakeClock;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateFile;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.QuietSignal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server on a real Unix socket in a temp directory, against a tracker on a clock the test moves. */
class ControlServerTest {
    private static final long TIMEOUT_MILLIS = 300;

    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final List<String> log = new ArrayList<>();
    private IdleTracker tracker;
    private ControlServer server;

    @BeforeEach
    void start() throws IOException {
        ActivitySignal quiet = new QuietSignal();
        tracker = new IdleTracker(List.of(quiet), clock, Duration.ofSeconds(20), Duration.ofHours(2), null,
                Duration.ZERO, 0, log::add);
        server = ControlServer.bind(dir.resolve("agent.sock"),
                new ControlService(tracker, new StateFile(dir, "ws")), log::add, TIMEOUT_MILLIS);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private void advance(Duration d) {
        clock.advance(d);
    }

    private int client(String... args) {
        return client(new ByteArrayOutputStream(), new ByteArrayOutputStream(), args);
    }

    /** A command line as the native client runs it: its exit code, what it prints into out and err. */
    private int client(ByteArrayOutputStream out, ByteArrayOutputStream err, String... args) {
        CliClient.Result r = CliClient.run(dir.resolve("agent.sock"), args);
        out.writeBytes(r.out().getBytes(StandardCharsets.UTF_8));
        err.writeBytes(r.err().getBytes(StandardCharsets.UTF_8));
        return r.code();
    }

    @Test
    void socketIsOpenToEveryUser() throws IOException {
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("agent.sock"))));
    }

    @Test
    void statusShowsIdleTimeAndSignals() {
        advance(Duration.ofSeconds(7));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, client(out, new ByteArrayOutputStream(), "status"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("idle: 7s / 20s (stops in 13s)\nlifetime left: no limit\n"), text);
        assertTrue(text.contains("\ncpu: never\nexec: off\n"), text);
        assertTrue(text.endsWith("holds: none\n"), text);
    }

    @Test
    void statusJsonIsTheStateFileObject() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, client(out, new ByteArrayOutputStream(), "status", "--json"));
        String json = out.toString(StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"version\":1,\"workspace\":\"ws\",\"state\":\"running\""), json);
        assertTrue(json.endsWith("}\n") && json.indexOf('\n') == json.length() - 1, json);
    }

    @Test
    void touchResetsIdleTime() {
        advance(Duration.ofSeconds(15));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, client(out, new ByteArrayOutputStream(), "touch", "--reason", "reading docs"));
        assertEquals("idlewatch: idle time reset to 0s (timeout 20s)\n", out.toString(StandardCharsets.UTF_8));
        assertEquals(0, tracker.idleMillis());
        assertEquals("touch", tracker.status().lastActivitySignal());
    }

    @Test
    void timeoutChangesTheThresholdWithinTheCeiling() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, client(out, new ByteArrayOutputStream(), "timeout", "1h"));
        assertEquals("idlewatch: timeout 1h (was 20s)\n", out.toString(StandardCharsets.UTF_8));
        assertEquals(Duration.ofHours(1), tracker.timeout());

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, client(new ByteArrayOutputStream(), err, "timeout", "3h"));
        assertEquals("idlewatch: cannot set the timeout to 3h: IDLEWATCH_MAX_TIMEOUT is 2h;"
                + " use a duration of at most 2h\n", err.toString(StandardCharsets.UTF_8));
        assertEquals(2, client(new ByteArrayOutputStream(), new ByteArrayOutputStream(), "timeout", "off"));
        assertEquals(2, client(new ByteArrayOutputStream(), new ByteArrayOutputStream(), "timeout", "5x"));
        assertEquals(Duration.ofHours(1), tracker.timeout(), "refusals change nothing");
    }

    @Test
    void usageErrorsExit2WithTheUsageLine() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(2, client(new ByteArrayOutputStream(), err, "status", "--yaml"));
        assertEquals("idlewatch: status: unknown argument \"--yaml\"\nusage: idlewatch status [--json]\n",
                err.toString(StandardCharsets.UTF_8));
        assertEquals(2, client("touch", "--reason"));
        assertEquals(2, client("timeout"));
        assertEquals(2, client("inhibit", "--reason", "x"));
    }

    @Test
    void holdLastsExactlyAsLongAsItsConnection() throws Exception {
        try (SocketChannel c = connect()) {
            send(c, ControlProtocol.request("hold", Map.of("reason", "build")));
            assertTrue(readLine(c).startsWith("ok \"holding inhibit-"));
            advance(Duration.ofMinutes(5));
            assertEquals(IdleTracker.Decision.CONTINUE, tracker.poll());
            assertEquals(1, tracker.status().holds());
        }
        eventually(() -> tracker.status().holds() == 0);
        advance(Duration.ofSeconds(21));
        assertEquals(IdleTracker.Decision.STOP_IDLE, tracker.poll());
    }

    @Test
    void hugeLineIsRefusedAndClosedAndOthersAreStillServed() throws Exception {
        try (SocketChannel c = connect()) {
            byte[] garbage = new byte[ControlProtocol.MAX_LINE + 1];
            java.util.Arrays.fill(garbage, (byte) 'x');
            send(c, new String(garbage, StandardCharsets.US_ASCII));
            String line = readLine(c);
            assertEquals("error request longer than 65536 bytes; expected one line \"idlewatch/1 VERB [ARGS]\"", line);
        }
        assertEquals(0, client("status"));
    }

    @Test
    void garbageLineGetsAnError() throws Exception {
        try (SocketChannel c = connect()) {
            send(c, "GET / HTTP/1.1\r\n\r\n");
            assertTrue(readLine(c).startsWith("error not a idlewatch/1 request"));
        }
    }

    /**
     * Older clients send {@code cpu_ms} (their own CPU) with every request: accepted whatever its
     * value, even by {@code cli}, which refuses keys it does not know, and ignored: the answer is
     * the one without it. That the cpu signal ignores it too is CpuSignalTest's.
     */
    @Test
    void cpuMsFromOlderClientsIsAcceptedAndIgnored() throws Exception {
        for (String request : new String[] {"idlewatch/1 status format=json", "idlewatch/1 status format=text",
                "idlewatch/1 cli a0=status&a1=--json", "idlewatch/1 cli a0=timeout&a1=20s"}) {
            String plain = exchange(request);
            assertTrue(plain.startsWith("ok ") || plain.startsWith("cli 0 "), request + " -> " + plain);
            for (String arg : new String[] {"cpu_ms=250", "cpu_ms=abc", "cpu_ms=-5", "cpu_ms=99999999999", "cpu_ms="}) {
                assertEquals(plain, exchange(request + "&" + arg), request + "&" + arg);
            }
        }
        assertTrue(exchange("idlewatch/1 cli a0=status&cpu_ms=70&x=1").startsWith("error cli takes a0"));
    }

    /** One request on its own connection; everything the server sends until it closes. */
    private String exchange(String request) throws IOException {
        try (SocketChannel c = connect()) {
            send(c, request + "\n");
            java.io.InputStream in = java.nio.channels.Channels.newInputStream(c);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void silentClientTimesOutWithoutStallingOthers() throws Exception {
        try (SocketChannel silent = connect()) {
            long start = System.nanoTime();
            assertEquals(0, client("touch"), "served while the silent one waits");
            assertEquals("error no request within " + TIMEOUT_MILLIS + " ms", readLine(silent));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis >= TIMEOUT_MILLIS - 50 && millis < TIMEOUT_MILLIS + 2000, millis + " ms");
        }
    }

    @Test
    void staleSocketFromAnEarlierRunIsReplaced() throws Exception {
        server.close();
        Files.writeString(dir.resolve("agent.sock"), "stale");
        server = ControlServer.bind(dir.resolve("agent.sock"), new ControlService(tracker, new StateFile(dir, null)), log::add, TIMEOUT_MILLIS);
        server.start();
        assertEquals(0, client("status"));
    }

    // ---- attacks on the socket (a workspace user may be hostile) ----

    /** 2 MB in many small writes, newline at the very end: one refusal line, closed, others served. */
    @Test
    void attackHugeRequestSplitOverManyWritesIsRefusedOnceAndClosed() throws Exception {
        try (SocketChannel c = connect()) {
            byte[] chunk = new byte[4096];
            java.util.Arrays.fill(chunk, (byte) 'x');
            boolean cut = false;
            for (int i = 0; i < 2 * 1024 * 1024 / chunk.length && !cut; i++) {
                cut = !sendOrCut(c, chunk);
            }
            sendOrCut(c, new byte[] {'\n'});
            assertEquals(TOO_LONG, readLine(c));
            assertClosed(c);
        }
        assertEquals(0, client("status"));
    }

    /** The newline comes in the very read that passes the limit (it threw ArrayIndexOutOfBounds). */
    @Test
    void attackNewlineInTheReadThatCrossesTheLimit() throws Exception {
        int max = ControlProtocol.MAX_LINE;
        for (int[] split : new int[][] {{max - 100, 200}, {max, 1}, {max - 8000, 8100}}) {
            int before = split[0];
            try (SocketChannel c = connect()) {
                byte[] first = new byte[before];
                java.util.Arrays.fill(first, (byte) 'x');
                sendOrCut(c, first);
                Thread.sleep(100); // the server reads what is there: the rest arrives in a later read
                byte[] rest = new byte[split[1] + 1];
                java.util.Arrays.fill(rest, (byte) 'x');
                rest[split[1]] = '\n';
                sendOrCut(c, rest);
                assertEquals(TOO_LONG, readLine(c), "first " + before + " bytes");
                assertClosed(c);
            }
        }
        assertTrue(log.stream().noneMatch(l -> l.contains("Exception")), log.toString());
        assertEquals(0, client("status"));
    }

    /** Exactly the limit, newline after it, in two reads: still a request (refused as garbage, not as too long). */
    @Test
    void requestOfExactlyTheLimitIsStillRead() throws Exception {
        try (SocketChannel c = connect()) {
            byte[] first = new byte[ControlProtocol.MAX_LINE - 10];
            java.util.Arrays.fill(first, (byte) 'x');
            sendOrCut(c, first);
            Thread.sleep(100);
            sendOrCut(c, "xxxxxxxxxx\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readLine(c).startsWith("error not a idlewatch/1 request"));
        }
    }

    /** Slowloris: 200 connections that never send a byte do not lock out a status client. */
    @Test
    void attackManySilentConnectionsDoNotLockOthersOut() throws Exception {
        restart(60_000); // the silent ones would otherwise just time out
        List<SocketChannel> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++) {
                silent.add(connect());
            }
            long start = System.nanoTime();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, client(new ByteArrayOutputStream(), err, "status"), err.toString(StandardCharsets.UTF_8));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 2000, millis + " ms");
            // the oldest silent ones were pushed out, each told why
            assertTrue(readLine(silent.get(0)).startsWith("error too many connections"), "told why");
            assertClosed(silent.get(0));
        } finally {
            for (SocketChannel c : silent) {
                c.close();
            }
        }
    }

    /** Holds have their own limit; past it a clear refusal, the others stay; closing one frees a place. */
    @Test
    void attackHoldsPastTheLimitAreRefusedAndTheOthersStay() throws Exception {
        restart(60_000);
        List<SocketChannel> holds = new ArrayList<>();
        List<SocketChannel> silent = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_HOLDS; i++) {
                holds.add(hold("build " + i));
            }
            eventually(() -> tracker.status().holds() == MAX_HOLDS);
            try (SocketChannel extra = connect()) {
                send(extra, ControlProtocol.request("hold", Map.of("reason", "one too many")));
                assertEquals("error too many holds: " + MAX_HOLDS + " inhibit commands already hold the workspace"
                        + " active; run this one after one of them ends", readLine(extra));
                assertClosed(extra);
            }
            assertEquals(MAX_HOLDS, tracker.status().holds(), "existing holds stay");

            // holds do not use up the places of requests: a full table of silent ones, and status still works
            for (int i = 0; i < 100; i++) {
                silent.add(connect());
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(0, client(out, new ByteArrayOutputStream(), "status"));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("holds: " + MAX_HOLDS), out.toString());

            holds.remove(0).close();
            eventually(() -> tracker.status().holds() == MAX_HOLDS - 1);
            holds.add(hold("after one ended"));
            eventually(() -> tracker.status().holds() == MAX_HOLDS);
        } finally {
            for (SocketChannel c : holds) {
                c.close();
            }
            for (SocketChannel c : silent) {
                c.close();
            }
        }
        eventually(() -> tracker.status().holds() == 0);
    }

    /** Long hold texts are cut where they enter: 32 of them still fit a status answer the client reads. */
    @Test
    void attackLongHoldTextsStillLeaveStatusReadable() throws Exception {
        restart(60_000);
        String longText = "y".repeat(30_000);
        List<SocketChannel> holds = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_HOLDS; i++) {
                try {
                    SocketChannel c = connect();
                    holds.add(c);
                    send(c, ControlProtocol.request("hold", Map.of("reason", longText, "command", longText)));
                    assertTrue(readLine(c).startsWith("ok \"holding inhibit-"));
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, client(out, err, "status"), err.toString(StandardCharsets.UTF_8));
            assertTrue(out.size() < 16 * 1024, out.size() + " bytes");
            assertEquals(0, client(out, err, "touch", "--reason", longText));
            assertTrue(tracker.status().toString().length() < 16 * 1024);
        } finally {
            for (SocketChannel c : holds) {
                c.close();
            }
        }
    }

    private static final int MAX_HOLDS = ControlService.MAX_HOLDS;
    private static final String TOO_LONG = "error request longer than 65536 bytes; expected one line \"idlewatch/1 VERB [ARGS]\"";

    private void restart(long timeoutMillis) throws IOException {
        server.close();
        server = ControlServer.bind(dir.resolve("agent.sock"),
                new ControlService(tracker, new StateFile(dir, "ws")), log::add, timeoutMillis);
        server.start();
    }

    private SocketChannel hold(String reason) throws IOException {
        SocketChannel c = connect();
        send(c, ControlProtocol.request("hold", Map.of("reason", reason)));
        String answer = readLine(c);
        assertTrue(answer.startsWith("ok \"holding inhibit-"), answer);
        return c;
    }

    /** Writes all of it, or false when the server has closed on us. */
    private static boolean sendOrCut(SocketChannel c, byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            while (b.hasRemaining()) {
                c.write(b);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The server closed the connection: end of stream (or reset) after its one line. */
    private static void assertClosed(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16);
        int n;
        try {
            c.configureBlocking(true);
            n = c.read(b);
        } catch (IOException e) {
            n = -1;
        }
        assertEquals(-1, n, "closed by the server");
    }

    private SocketChannel connect() throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        c.connect(UnixDomainSocketAddress.of(dir.resolve("agent.sock")));
        return c;
    }

    private static void send(SocketChannel c, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        try {
            while (b.hasRemaining()) {
                c.write(b);
            }
        } catch (IOException e) {
            // the server may close on us mid-way (too long): its answer is what the test reads
        }
    }

    private static String readLine(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (c.read(b) > 0) {
            for (int i = 0; i < b.position(); i++) {
                if (b.get(i) == '\n') {
                    return new String(b.array(), 0, i, StandardCharsets.UTF_8);
                }
            }
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    private static void eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(10);
        }
    }
}
