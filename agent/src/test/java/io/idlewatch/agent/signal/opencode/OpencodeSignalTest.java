package io.idlewatch.agent.signal.opencode;

import com.sun.net.httpserver.HttpServer;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import io.idlewatch.agent.signal.Fixtures;
import io.idlewatch.agent.signal.http.OwnClientPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Against a tiny in-test HTTP server that answers /session/status like opencode. */
class OpencodeSignalTest extends ActivitySignalContract {
    private final List<HttpServer> servers = new ArrayList<>();
    private final List<String> authorizations = new ArrayList<>();

    /** What the fake opencode answers: status code, body, type, and whether to use chunked encoding. */
    private static final class Answer {
        volatile int status = 200;
        volatile String body;
        volatile String contentType = "application/json";
        volatile boolean chunked;

        Answer(String body) {
            this.body = body;
        }
    }

    private int serve(Answer answer, String password) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/session/status", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            synchronized (authorizations) {
                authorizations.add(String.valueOf(auth));
            }
            int status = answer.status;
            if (password != null && !("Basic " + Base64.getEncoder().encodeToString(
                    ("opencode:" + password).getBytes(StandardCharsets.UTF_8))).equals(auth)) {
                status = 401; // as opencode's basicAuth (Hono) answers: a Basic challenge
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"Secure Area\"");
            }
            byte[] body = answer.body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", answer.contentType);
            exchange.sendResponseHeaders(status, answer.chunked ? 0 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    private static String body(String name) throws IOException {
        return Files.readString(Fixtures.resource("opencode/" + name));
    }

    private static OpencodeSignal signal(int port, String password) {
        return new OpencodeSignal("127.0.0.1", new int[] {port}, "opencode", password, OpencodeSignal.DEADLINE,
                new OwnClientPorts());
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    protected String expectedName() {
        return "opencode";
    }

    @Override
    protected boolean firesWhileActivityLasts() {
        return true;
    }

    @Override
    protected Fixture quietFixture(java.nio.file.Path dir) throws Exception {
        Answer answer = new Answer(body("idle.json"));
        int port = serve(answer, null);
        OpencodeSignal signal = signal(port, null);
        return fixture(signal, () -> answer.body = body("busy.json"), () -> answer.body = body("empty.json"));
    }

    /** An opencode recognised by a good answer that then fails with 500. */
    @Override
    protected ActivitySignal brokenSignal(java.nio.file.Path dir) throws Exception {
        Answer answer = new Answer("{}");
        OpencodeSignal s = signal(serve(answer, null), null);
        assertFalse(s.sample(0).fired());
        answer.status = 500;
        answer.body = "{\"name\":\"UnknownError\"}";
        return s;
    }

    @Test
    void busyAndRetryingSessionsCount() throws Exception {
        Answer answer = new Answer(body("busy.json"));
        OpencodeSignal s = signal(serve(answer, null), null);
        ActivitySignal.Reading r = s.sample(0);
        assertTrue(r.fired());
        assertEquals("opencode 1 busy session", r.detail());
        answer.body = body("retry.json");
        assertTrue(s.sample(1).fired(), "a retry inside a message string must not read as idle");
        answer.body = body("nested-idle.json");
        assertFalse(s.sample(2).fired(), "a nested busy inside extra data is not the session's type");
        assertEquals("opencode 1 session, none busy", s.sample(3).detail());
    }

    @Test
    void chunkedAnswersAreRead() throws Exception {
        Answer answer = new Answer(body("busy.json"));
        answer.chunked = true;
        assertTrue(signal(serve(answer, null), null).sample(0).fired());
    }

    @Test
    void nothingListeningMeansOpencodeIsNotRunningNotBroken() throws Exception {
        ActivitySignal.Reading r = signal(closedPort(), null).sample(0);
        assertFalse(r.fired());
        assertEquals("opencode not running", r.detail());
    }

    /**
     * opencode behind a password the agent gets wrong answers 401 with a Basic challenge: degraded even
     * on a port never recognised (a misconfigured sensor must not let a busy workspace stop).
     */
    @Test
    void sendsBasicAuthAsOpencodeExpects() throws Exception {
        Answer answer = new Answer(body("busy.json"));
        int port = serve(answer, "s3cret");
        assertTrue(signal(port, "s3cret").sample(0).fired());
        assertEquals("Basic b3BlbmNvZGU6czNjcmV0", authorizations.get(0)); // opencode:s3cret
        IOException wrong = assertThrows(IOException.class, () -> signal(port, "wrong").sample(1));
        assertEquals("opencode on port " + port + " answered HTTP 401 (check OPENCODE_SERVER_PASSWORD)",
                wrong.getMessage());
    }

    @Test
    void noPasswordSendsNoAuthorization() throws Exception {
        signal(serve(new Answer("{}"), null), null).sample(0);
        assertEquals(List.of("null"), authorizations);
    }

    /** A 401 without opencode's Basic challenge is some other program's: not opencode. */
    @Test
    void a401WithoutABasicChallengeIsNotOpencode() throws Exception {
        Answer answer = new Answer("{\"error\":\"token required\"}");
        answer.status = 401;
        ActivitySignal.Reading r = signal(serve(answer, null), null).sample(0);
        assertFalse(r.fired());
        assertEquals("opencode not running", r.detail());
    }

    @Test
    void unreadableBodiesFromARecognisedOpencodeAreFailures() throws Exception {
        for (String bad : List.of("html.txt", "truncated.json")) {
            Answer answer = new Answer(body("idle.json"));
            int port = serve(answer, null);
            OpencodeSignal s = signal(port, null);
            assertFalse(s.sample(0).fired());
            answer.body = body(bad);
            IOException e = assertThrows(IOException.class, () -> s.sample(1), bad);
            assertTrue(e.getMessage().startsWith("opencode on port " + port + ": unreadable /session/status"),
                    e.getMessage());
        }
    }

    /** A JSON API that is not opencode (any 200 JSON that is not a session map, or a 500) is quiet until recognised. */
    @Test
    void unreadableOrFailingAnswersFromANeverRecognisedPortAreQuiet() throws Exception {
        Answer json = new Answer("{\"error\":\"not found\"}");
        Answer truncated = new Answer(body("truncated.json"));
        Answer error = new Answer("{\"name\":\"UnknownError\"}");
        error.status = 500;
        for (Answer other : List.of(json, truncated, error)) {
            ActivitySignal.Reading r = signal(serve(other, null), null).sample(0);
            assertFalse(r.fired());
            assertEquals("opencode not running", r.detail());
        }
    }

    /** A dev server on a shared port (404, or its HTML page for every path) is not a broken opencode. */
    @Test
    void otherProgramsOnThePortAreNotOpencodeNotFailures() throws Exception {
        Answer notFound = new Answer("<html>no such page</html>");
        notFound.status = 404;
        notFound.contentType = "text/html";
        Answer page = new Answer(body("html.txt"));
        page.contentType = "text/html; charset=utf-8";
        Answer stream = new Answer(": heartbeat\n\n");
        stream.contentType = "text/event-stream";
        for (Answer other : List.of(notFound, page, stream)) {
            ActivitySignal.Reading r = signal(serve(other, null), null).sample(0);
            assertFalse(r.fired());
            assertEquals("opencode not running", r.detail());
        }
        int busy = serve(new Answer(body("busy.json")), null);
        OpencodeSignal both = new OpencodeSignal("127.0.0.1", new int[] {serve(page, null), busy}, "opencode", null,
                OpencodeSignal.DEADLINE, new OwnClientPorts());
        assertEquals("opencode 1 busy session", both.sample(0).detail());
    }

    @Test
    void sumsOverPortsAndSkipsThoseWithoutOpencode() throws Exception {
        int a = serve(new Answer(body("busy.json")), null);
        int b = serve(new Answer("{\"x\":{\"type\":\"busy\"},\"y\":{\"type\":\"retry\",\"attempt\":1}}"), null);
        OpencodeSignal s = new OpencodeSignal("127.0.0.1", new int[] {a, closedPort(), b}, "opencode", null,
                OpencodeSignal.DEADLINE, new OwnClientPorts());
        assertEquals("opencode 3 busy sessions", s.sample(0).detail());
    }

    @Test
    void probePortsAreRecordedForTheHttpSignal() throws Exception {
        OwnClientPorts own = new OwnClientPorts();
        int port = serve(new Answer("{}"), null);
        new OpencodeSignal("127.0.0.1", new int[] {port}, "opencode", null, OpencodeSignal.DEADLINE, own).sample(0);
        boolean any = false;
        for (int p = 1024; p < 65536 && !any; p++) {
            any = own.contains(p);
        }
        assertTrue(any);
    }

    /**
     * A busy state that sticks: /session/status says busy for ever and nothing else changes. It
     * counts for the stall time, then stops counting and says so; a change in the session's
     * latest message (a command printing, a model streaming) counts as progress again.
     */
    @Test
    void aBusyStateWithNoProgressStopsCountingAfterTheStall() throws Exception {
        String busy = "{\"ses_1\":{\"type\":\"busy\"}}";
        int port = serve(new Answer(busy), null);
        String[] message = {"[{\"parts\":[{\"type\":\"tool\",\"output\":\"tick 1\"}]}]"};
        List<String> asked = new ArrayList<>();
        servers.get(0).createContext("/session/ses_1/message", exchange -> {
            synchronized (asked) {
                asked.add(exchange.getRequestURI().toString());
            }
            byte[] body = message[0].getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        OpencodeSignal s = new OpencodeSignal("127.0.0.1", new int[] {port}, "opencode", null,
                OpencodeSignal.DEADLINE, OpencodeSignal.RECHECK, java.time.Duration.ofMinutes(30), new OwnClientPorts());
        long minute = 60_000_000_000L;
        assertTrue(s.sample(0).fired());
        assertTrue(s.sample(29 * minute).fired(), "unchanged for 29m: still counts");
        ActivitySignal.Reading r = s.sample(42 * minute);
        assertFalse(r.fired(), r.detail());
        assertEquals("opencode 1 session busy but unchanged for 42m (IDLEWATCH_OPENCODE_STALL 30m): not counted",
                r.detail());
        message[0] = "[{\"parts\":[{\"type\":\"tool\",\"output\":\"tick 1\\ntick 2\"}]}]";
        assertTrue(s.sample(43 * minute).fired(), "the latest message changed: progress");
        assertTrue(s.sample(72 * minute).fired());
        assertFalse(s.sample(73 * minute).fired());
        synchronized (asked) {
            assertTrue(asked.contains("/session/ses_1/message?limit=1"), asked.toString());
        }
    }

    /** The fake opencode of the review: nothing but /session/status (404 elsewhere) is no progress. */
    @Test
    void aServerThatAnswersOnlyTheStatusStallsToo() throws Exception {
        int port = serve(new Answer("{\"ses_1\":{\"type\":\"busy\"},\"../x\":{\"type\":\"busy\"}}"), null);
        OpencodeSignal s = new OpencodeSignal("127.0.0.1", new int[] {port}, "opencode", null,
                OpencodeSignal.DEADLINE, OpencodeSignal.RECHECK, java.time.Duration.ofSeconds(20), new OwnClientPorts());
        long second = 1_000_000_000L;
        assertTrue(s.sample(0).fired());
        assertTrue(s.sample(19 * second).fired());
        ActivitySignal.Reading r = s.sample(21 * second);
        assertFalse(r.fired(), r.detail());
        assertTrue(r.detail().startsWith("opencode 2 sessions busy but unchanged for 21s"), r.detail());
        // a retry whose attempt changes is progress: the status itself changed
    }
}
