package io.idlewatch.agent.signal.opencode;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.http.OwnClientPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probe against servers the workspace user may run on a watched port: none may hold a sample past
 * the deadline, and none that never answered like opencode may count as activity (degraded included).
 */
class OpencodeHostileServerTest {
    private static final long DEADLINE_MS = OpencodeSignal.DEADLINE.toMillis();
    /** Scheduling, connect and close on a busy test machine. */
    private static final long SLACK_MS = 300;
    private static final long RECHECK = OpencodeSignal.RECHECK.toNanos();
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final String BUSY = "{\"ses_a1\":{\"type\":\"busy\"}}";
    private static final String IDLE = "{\"ses_a1\":{\"type\":\"idle\"}}";

    private final List<RawServer> servers = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (RawServer s : servers) {
            s.close();
        }
    }

    private RawServer server(RawServer.Behaviour b) throws IOException {
        RawServer s = new RawServer(b);
        servers.add(s);
        return s;
    }

    private static OpencodeSignal signal(int... ports) {
        return new OpencodeSignal(ports, "opencode", null, new OwnClientPorts());
    }

    private static Map<String, RawServer.Behaviour> attackers() {
        Map<String, RawServer.Behaviour> m = new LinkedHashMap<>();
        m.put("trickle", RawServer.trickle());
        m.put("silent", RawServer.silent());
        m.put("echo", RawServer.echo());
        m.put("endless headers", RawServer.endlessHeaders());
        m.put("huge body", RawServer.hugeBody());
        m.put("huge Content-Length", RawServer.hugeContentLength());
        m.put("reset", RawServer.reset());
        return m;
    }

    /** Waits until the closed listener is really gone (its close is asynchronous when a thread is in accept). */
    private static void awaitRefused(int port) throws Exception {
        long until = System.nanoTime() + 2 * SECOND;
        while (System.nanoTime() < until) {
            try (java.net.Socket probe = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port)) {
                Thread.sleep(10);
            } catch (java.net.ConnectException refused) {
                return;
            }
        }
        throw new AssertionError("port " + port + " still accepts after close");
    }

    /** Samples, failing the test if the sample took longer than {@code maxMs}. */
    private static ActivitySignal.Reading timed(OpencodeSignal s, long now, long maxMs, String what)
            throws IOException {
        long t0 = System.nanoTime();
        try {
            return s.sample(now);
        } finally {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms <= maxMs, what + ": the sample took " + ms + " ms, more than " + maxMs);
        }
    }

    @Test
    void attackersOnANeverRecognisedPortAreQuietAndBounded() throws Exception {
        for (Map.Entry<String, RawServer.Behaviour> a : attackers().entrySet()) {
            RawServer srv = server(a.getValue());
            OpencodeSignal s = signal(srv.port());
            ActivitySignal.Reading r = timed(s, 0, DEADLINE_MS + SLACK_MS, a.getKey());
            assertFalse(r.fired(), a.getKey());
            assertEquals("opencode not running", r.detail(), a.getKey());
            assertEquals(1, srv.accepted.get(), a.getKey());

            // Not opencode: left alone until the re-check (so it costs one deadline per RECHECK at most)...
            r = timed(s, RECHECK - 1, SLACK_MS, a.getKey() + " before the re-check");
            assertFalse(r.fired(), a.getKey());
            assertEquals(1, srv.accepted.get(), a.getKey() + ": probed again before the re-check");
            // ...then probed again, still quiet and bounded.
            r = timed(s, RECHECK, DEADLINE_MS + SLACK_MS, a.getKey() + " at the re-check");
            assertFalse(r.fired(), a.getKey());
            assertEquals(2, srv.accepted.get(), a.getKey() + ": not re-checked");
        }
    }

    @Test
    void manyAttackersCannotMakeOneSampleMissTheSensorDeadline() throws Exception {
        int n = 5;
        int[] ports = new int[n];
        List<RawServer> silent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RawServer srv = server(i % 2 == 0 ? RawServer.silent() : RawServer.trickle());
            silent.add(srv);
            ports[i] = srv.port();
        }
        OpencodeSignal s = signal(ports);
        long budget = OpencodeSignal.DEADLINES_PER_SAMPLE * DEADLINE_MS;
        assertFalse(timed(s, 0, budget + SLACK_MS, "first sample").fired());
        assertFalse(timed(s, 5 * SECOND, budget + SLACK_MS, "second sample").fired());
        for (RawServer srv : silent) {
            assertEquals(1, srv.accepted.get(), "every port is probed once within two samples");
        }
    }

    /** A recognised opencode that fails any way is a degraded sensor, within the deadline too. */
    @Test
    void aRecognisedOpencodeThatFailsIsDegraded() throws Exception {
        Map<String, RawServer.Behaviour> failures = new LinkedHashMap<>();
        failures.put("trickle", RawServer.trickle());
        failures.put("silent", RawServer.silent());
        failures.put("endless headers", RawServer.endlessHeaders());
        failures.put("huge body", RawServer.hugeBody());
        failures.put("reset", RawServer.reset());
        failures.put("500", RawServer.answer(500, "application/json", "{\"name\":\"UnknownError\"}"));
        failures.put("401", RawServer.answer(401, "text/plain", "Unauthorized", "WWW-Authenticate: Basic realm=\"x\""));
        failures.put("unreadable JSON", RawServer.opencode("{\"ses_a1\":{\"type\":"));
        for (Map.Entry<String, RawServer.Behaviour> f : failures.entrySet()) {
            RawServer srv = server(RawServer.opencode(IDLE));
            OpencodeSignal s = signal(srv.port());
            assertEquals("opencode 1 session, none busy", s.sample(0).detail());
            srv.behaviour = f.getValue();
            IOException e = assertThrows(IOException.class,
                    () -> timed(s, 5 * SECOND, DEADLINE_MS + SLACK_MS, f.getKey()), f.getKey());
            assertTrue(e.getMessage().startsWith("opencode on port " + srv.port()), e.getMessage());
            // still degraded at the next poll (recognised ports are probed at every sample)
            assertThrows(IOException.class, () -> s.sample(10 * SECOND), f.getKey());
            srv.behaviour = RawServer.opencode(BUSY);
            assertTrue(s.sample(15 * SECOND).fired(), f.getKey() + ": recovered");
        }
    }

    /**
     * opencode exiting (nothing listening any more) is quiet at once, not degraded: nothing there can be
     * busy, and a crashed opencode must not keep the workspace forever. A refused port is probed at every
     * sample, so opencode started again is seen at the next poll.
     */
    @Test
    void aRecognisedOpencodeThatGoesAwayIsNotRunningAndIsSeenAgainAtOnce() throws Exception {
        RawServer srv = server(RawServer.opencode(BUSY));
        int port = srv.port();
        OpencodeSignal s = signal(port);
        assertTrue(s.sample(0).fired());
        srv.close();
        awaitRefused(port);
        ActivitySignal.Reading r = timed(s, 5 * SECOND, SLACK_MS, "refused");
        assertFalse(r.fired());
        assertEquals("opencode not running", r.detail());
        assertEquals("opencode not running", s.sample(10 * SECOND).detail());
        RawServer again = new RawServer(port, RawServer.opencode(BUSY));
        servers.add(again);
        assertTrue(s.sample(10 * SECOND + 1).fired(), "picked up at the next poll, no re-check wait");
    }

    /** Another program taking over a recognised port (a dev server's 404, or an echo) is not opencode. */
    @Test
    void aRecognisedPortTakenByAnotherProgramIsQuiet() throws Exception {
        for (RawServer.Behaviour other : List.of(RawServer.answer(404, "text/html", "<html>no</html>"),
                RawServer.answer(200, "text/html", "<html>dev</html>"), RawServer.echo())) {
            RawServer srv = server(RawServer.opencode(IDLE));
            OpencodeSignal s = signal(srv.port());
            assertFalse(s.sample(0).fired());
            srv.behaviour = other;
            ActivitySignal.Reading r = timed(s, 5 * SECOND, DEADLINE_MS + SLACK_MS, "other");
            assertFalse(r.fired());
            assertEquals("opencode not running", r.detail());
            // and after that it is an ordinary never-recognised port: a later failure is quiet too
            srv.behaviour = RawServer.silent();
            assertEquals("opencode not running", s.sample(5 * SECOND + RECHECK).detail());
        }
    }

    /** A port that was not opencode and becomes a busy opencode is picked up within the re-check period. */
    @Test
    void aPortThatBecomesOpencodeIsPickedUpWithinTheRecheck() throws Exception {
        RawServer srv = server(RawServer.silent());
        OpencodeSignal s = signal(srv.port());
        assertFalse(timed(s, 0, DEADLINE_MS + SLACK_MS, "silent").fired());
        srv.behaviour = RawServer.opencode(BUSY);
        assertFalse(s.sample(RECHECK / 2).fired(), "not yet re-checked");
        ActivitySignal.Reading r = s.sample(RECHECK);
        assertTrue(r.fired(), r.detail());
        assertEquals("opencode 1 busy session", r.detail());
        assertTrue(s.sample(RECHECK + 5 * SECOND).fired(), "recognised: probed at every sample");
    }

    /**
     * A 401 with opencode's Basic challenge is degraded even on a never-recognised port (opencode behind
     * a password the agent gets wrong), at every sample; without the challenge it is some other program.
     */
    @Test
    void a401WithABasicChallengeIsDegradedEvenIfNeverRecognised() throws Exception {
        RawServer srv = server(RawServer.answer(401, "text/plain", "Unauthorized",
                "WWW-Authenticate: Basic realm=\"Secure Area\""));
        OpencodeSignal s = signal(srv.port());
        IOException e = assertThrows(IOException.class, () -> s.sample(0));
        assertEquals("opencode on port " + srv.port() + " answered HTTP 401 (check OPENCODE_SERVER_PASSWORD)",
                e.getMessage());
        assertThrows(IOException.class, () -> s.sample(5 * SECOND));
        srv.behaviour = RawServer.answer(401, "application/json", "{\"error\":\"token\"}",
                "WWW-Authenticate: Bearer");
        assertFalse(s.sample(10 * SECOND).fired());
    }

    /** A recognised port and a hostile one: the hostile one neither fires nor hides the busy session. */
    @Test
    void aHostilePortBesideOpencodeChangesNothing() throws Exception {
        RawServer oc = server(RawServer.opencode(BUSY));
        RawServer bad = server(RawServer.trickle());
        OpencodeSignal s = signal(bad.port(), oc.port());
        assertEquals("opencode 1 busy session", timed(s, 0, DEADLINE_MS + SLACK_MS, "both").detail());
        oc.behaviour = RawServer.opencode(IDLE);
        assertEquals("opencode 1 session, none busy", timed(s, 5 * SECOND, SLACK_MS, "both").detail());
    }
}
