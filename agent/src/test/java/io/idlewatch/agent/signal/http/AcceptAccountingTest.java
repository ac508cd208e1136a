package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.Fixtures;
import io.idlewatch.agent.signal.http.HttpSignalTest.FakeNetlink;
import io.idlewatch.agent.signal.http.HttpSignalTest.FakeNetlink.Sock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accept accounting of the http signal: fake {@code net/snmp} and
 * {@code net/netstat} files for the kernel's counters, fabricated sock_diag
 * dumps (parsed by {@link InetDiag}) for the sockets.
 */
class AcceptAccountingTest {
    private static final int ESTABLISHED = 1;
    private static final int SYN_RECV = 3;
    private static final int TIME_WAIT = 6;
    private static final int LISTEN = 10;
    private static final long SECOND = 1_000_000_000L;
    private static final String BETWEEN_POLLS = "http 1 connection opened and closed between polls (counted by the kernel)";

    @TempDir
    Path tmp;

    private Path proc;
    private long passiveOpens = 40;
    private long resets = 8;
    private long activeOpens = 7;
    private FakeNetlink net;
    private OwnClientPorts own;
    private long clock;

    @BeforeEach
    void setUp() throws IOException {
        proc = tmp.resolve("proc");
        Files.createDirectories(proc.resolve("net"));
        writeCounters();
        net = new FakeNetlink();
        net.put(new Sock(10, LISTEN, 4096, new byte[16], 0, 1, null)); // opencode on [::]:4096
        // sshd on 127.0.0.1:22: loopback only, so every listener reachable from outside is watched
        // and the unexplained accepts count (the sockets on port 22 below feed the accounting)
        net.put(new Sock(2, LISTEN, 22, NetlinkReplies.v4(127, 0, 0, 1), 0, 2, null));
        own = new OwnClientPorts();
    }

    private void writeCounters() throws IOException {
        Files.writeString(proc.resolve("net/snmp"), "Ip: Forwarding DefaultTTL\nIp: 1 64\n"
                + "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets\n"
                + "Tcp: 1 200 120000 -1 " + activeOpens + " " + passiveOpens + " 0 0\n"
                + "Udp: InDatagrams NoPorts\nUdp: 3 0\n");
        // split between the two reset counters, in an order unlike /proc's, to check names are looked up
        Files.writeString(proc.resolve("net/netstat"), "TcpExt: SyncookiesSent TCPAbortOnClose TCPAbortOnMemory"
                + " TCPAbortOnData\nTcpExt: 0 " + (resets - resets / 2) + " 9 " + resets / 2 + "\n"
                + "IpExt: InNoRoutes\nIpExt: 0\n");
    }

    private HttpSignal signal(boolean loopback) {
        return new HttpSignal(new int[] {4096}, loopback, net, null, own, new KernelTcpCounters(proc));
    }

    private ActivitySignal.Reading sample(HttpSignal s) throws IOException {
        clock += 5 * SECOND;
        return s.sample(clock);
    }

    private void accepted(int n) throws IOException {
        passiveOpens += n;
        writeCounters();
    }

    /** Connections made from inside the container to a server in it: an active open and an accept each. */
    private void connectedFromInside(int n) throws IOException {
        activeOpens += n;
        accepted(n);
    }

    private void reset(int n) throws IOException {
        resets += n;
        writeCounters();
    }

    /** The client side of a loopback connection to port 4096 (what curl or a probe in the container leaves). */
    private static Sock loopbackClient(int state, int clientPort, long cookie) {
        return new Sock(2, state, clientPort, NetlinkReplies.v4(127, 0, 0, 1), 4096, cookie, null);
    }

    /** The server side of a loopback connection on port 4096. */
    private static Sock loopbackServer(int state, int clientPort, long cookie) {
        return new Sock(10, state, 4096, NetlinkReplies.v4Mapped(127, 0, 0, 1), clientPort, cookie, null);
    }

    private void remove(long cookie) {
        net.sockets.removeIf(x -> x.cookie() == cookie);
    }

    // (a)
    @Test
    void anAcceptNoSocketExplainsFiresOnceThenQuiet() throws Exception {
        HttpSignal s = signal(false);
        assertFalse(sample(s).fired());
        assertFalse(sample(s).fired());
        accepted(1);
        assertFalse(sample(s).fired(), "reported once the next scan confirms it");
        ActivitySignal.Reading r = sample(s);
        assertTrue(r.fired());
        assertEquals(BETWEEN_POLLS, r.detail());
        assertEquals(clock - 5 * SECOND, r.atNanos(), "dated at the sample that counted it");
        for (int i = 0; i < 5; i++) {
            assertFalse(sample(s).fired());
        }
        accepted(3);
        assertFalse(sample(s).fired());
        assertEquals("http 3 connections opened and closed between polls (counted by the kernel)",
                sample(s).detail());
    }

    @Test
    void shortConnectionsCountOnlyWhileEveryListenerForOutsideClientsIsWatched() throws Exception {
        // a metrics server on 0.0.0.0:9090: an unexplained accept may be its scrape, never counted
        net.put(new Sock(2, LISTEN, 9090, NetlinkReplies.v4(0, 0, 0, 0), 0, 3, null));
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 6; i++) {
            accepted(1);
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), r.detail());
            assertEquals("http 0 connections, no client bytes, connections from outside closed between polls"
                    + " not counted (port 9090 listens too)", r.detail());
        }
        // the same on [::]:9090, and on 10.0.0.5:9090: reachable from outside too
        remove(3);
        net.put(new Sock(10, LISTEN, 9090, new byte[16], 0, 3, null));
        accepted(1);
        assertQuiet(s, 3);
        remove(3);
        net.put(new Sock(2, LISTEN, 9090, NetlinkReplies.v4(10, 0, 0, 5), 0, 3, null));
        accepted(1);
        assertQuiet(s, 3);
        // gone: after the scans that may still report its accepts, short connections count again
        remove(3);
        accepted(1);
        assertQuiet(s, AcceptLedger.STRANGER_SCANS);
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail());
    }

    @Test
    void aShortConnectionTheServerClosedIsSeenByItsTimeWaitOnTheWatchedPort() throws Exception {
        // counted by its port even while another port listens for outside clients
        net.put(new Sock(2, LISTEN, 9090, NetlinkReplies.v4(0, 0, 0, 0), 0, 3, null));
        HttpSignal s = signal(false);
        sample(s);
        accepted(1);
        net.put(new Sock(10, TIME_WAIT, 4096, NetlinkReplies.v4Mapped(192, 0, 2, 7), 40000, 300, null));
        ActivitySignal.Reading r = sample(s);
        assertTrue(r.fired());
        assertTrue(r.detail().startsWith("http new connection from 192.0.2.7 to port 4096"), r.detail());
        assertQuiet(s, 3);
        // on the other port: explained by its TIME_WAIT, and never counted
        accepted(1);
        net.put(new Sock(2, TIME_WAIT, 9090, NetlinkReplies.v4(192, 0, 2, 7), 40001, 301, null));
        assertQuiet(s, 3);
    }

    // (b)
    @Test
    void aLoopbackHealthCheckSeenOnlyAsTheClientsTimeWaitIsExplained() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 14; i++) { // a curl every poll; each TIME_WAIT lingers 60 s (12 polls)
            accepted(1);
            net.put(loopbackClient(TIME_WAIT, 41000 + i, 100 + i));
            if (i >= 12) {
                remove(100 + i - 12);
            }
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
    }

    @Test
    void bothSidesOfOneLoopbackConnectionCountOnce() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        accepted(1);
        net.put(loopbackClient(ESTABLISHED, 41000, 100));
        net.put(loopbackServer(ESTABLISHED, 41000, 101));
        assertFalse(sample(s).fired());
        remove(101);
        net.put(loopbackClient(TIME_WAIT, 41000, 100));
        assertFalse(sample(s).fired());
        // counted once: a short connection from outside still shows
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail());
    }

    /** Loopback may reuse a client port at once (tcp_tw_reuse=2): same ports, new sockets, a new connection. */
    @Test
    void aReusedLoopbackClientPortIsANewConnection() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 6; i++) {
            accepted(1);
            remove(100 + i - 1);
            net.put(loopbackClient(TIME_WAIT, 41000, 100 + i)); // the old TIME_WAIT taken over by the new one
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), "connection " + i + ": " + r.detail());
        }
        // a port a curl used, then the agent's probe (the server closes first): only the server's
        // TIME_WAIT shows, on the same ports, and it is a new connection
        accepted(1);
        remove(105);
        net.put(loopbackServer(TIME_WAIT, 41000, 200));
        assertQuiet(s, 3);
        // both sides of a new connection on a reused port, server side first, count once
        accepted(1);
        remove(200);
        net.sockets.add(0, loopbackServer(ESTABLISHED, 41000, 210));
        net.put(loopbackClient(ESTABLISHED, 41000, 211));
        assertFalse(sample(s).fired());
        remove(211);
        assertQuiet(s, 3);
        // the server side seen once too (its own cookie) is the same connection, not another
        accepted(1);
        net.put(loopbackServer(ESTABLISHED, 41002, 300));
        net.put(loopbackClient(ESTABLISHED, 41002, 301));
        assertFalse(sample(s).fired());
        remove(300);
        assertFalse(sample(s).fired());
        assertFalse(sample(s).fired());
    }

    @Test
    void aLoopbackClientThatResetsIsForgiven() throws Exception {
        // bash's /dev/tcp probe reads one line and closes with the rest unread: a reset, no TIME_WAIT anywhere
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 4; i++) {
            connectedFromInside(1);
            reset(1);
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
    }

    @Test
    void aClientFromOutsideThatTheServerResetsCounts() throws Exception {
        // a server that answers before reading the request, then closes: a reset, nothing left anywhere,
        // and no active open here to say it was an in-container client
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 4; i++) {
            accepted(1);
            reset(1);
            assertFalse(sample(s).fired(), "reported once the next scan confirms it");
            assertEquals(BETWEEN_POLLS, sample(s).detail(), "connection " + i);
        }
        // the gap left: the counters name no connection, so while the workload makes outgoing
        // connections (active opens) a reset from outside in the same interval is taken for an
        // in-container client's, and not counted (documented in docs/signals.md)
        activeOpens += 3;
        accepted(1);
        reset(1);
        assertQuiet(s, 3);
    }

    @Test
    void aServerSideTimeWaitExplainsItsAccept() throws Exception {
        // the server closed first (Connection: close): the TIME_WAIT is on our side, peer from outside
        HttpSignal s = signal(false);
        sample(s);
        accepted(1);
        net.put(new Sock(2, TIME_WAIT, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 300, null));
        assertFalse(sample(s).fired());
    }

    // (c)
    /** Accepted while the dump runs: after the counter read before it, and seen by it. */
    private void acceptedDuringTheDump(Sock... socks) {
        duringTheDump(socks.length, socks);
    }

    /** {@code accepts} counted while the next dump runs, which shows {@code socks}. */
    private void duringTheDump(int accepts, Sock... socks) {
        net.duringScan = () -> {
            try {
                accepted(accepts);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (Sock each : socks) {
                net.put(each);
            }
            net.duringScan = null;
        };
    }

    /** {@code samples} samples in a row, none of which fires. */
    private void assertQuiet(HttpSignal s, int samples) throws IOException {
        for (int i = 0; i < samples; i++) {
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
    }

    @Test
    void aConnectionSeenBeforeTheCounterBeforeTheDumpShowsItNeverFires() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        sample(s);
        acceptedDuringTheDump(loopbackClient(ESTABLISHED, 41000, 100),
                new Sock(2, ESTABLISHED, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 101, null));
        ActivitySignal.Reading seen = sample(s);
        assertFalse(seen.fired(), seen.detail());
        assertQuiet(s, 3);
        // and a real one right after still fires
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail());
    }

    /**
     * What made the first version fire with nothing but a health check: two scans in a row each
     * saw a connection accepted after the counter read before the dump (a check in phase with the
     * poll, or an agent descheduled in the middle of its dump).
     */
    @Test
    void aHealthCheckInPhaseWithThePollNeverFires() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 20; i++) {
            acceptedDuringTheDump(loopbackClient(TIME_WAIT, 41000 + i, 100 + i));
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), "check " + i + ": " + r.detail());
        }
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail(), "a real one still fires");
    }

    /** An accept the dump missed while another connection was first seen: a one-scan rise, never reported. */
    @Test
    void aRiseOneScanAloneDoesNotFire() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        accepted(1); // accepted before the counter read, seen now
        net.put(new Sock(2, ESTABLISHED, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 101, null));
        duringTheDump(1); // and one counted while the dump ran but not seen by it
        assertFalse(sample(s).fired(), "one scan's rise");
        net.put(new Sock(2, ESTABLISHED, 22, NetlinkReplies.v4(192, 0, 2, 8), 40001, 102, null)); // seen now
        assertQuiet(s, 3);
    }

    @Test
    void aRaceInTheFirstSampleDoesNotFire() throws Exception {
        HttpSignal s = signal(false);
        acceptedDuringTheDump(new Sock(2, ESTABLISHED, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 101, null));
        sample(s); // the baseline
        assertFalse(sample(s).fired());
        assertFalse(sample(s).fired());
        accepted(1);
        sample(s);
        assertTrue(sample(s).fired());
    }

    @Test
    void requestSocketsAndOutgoingConnectionsAreNotAccepts() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        // a SYN_RECV request socket: its child will get another cookie
        net.put(new Sock(2, SYN_RECV, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 400, null));
        // an outgoing connection to a remote port 22 and one in TIME_WAIT
        net.put(new Sock(2, ESTABLISHED, 50000, NetlinkReplies.v4(198, 51, 100, 1), 22, 401, null));
        net.put(new Sock(2, TIME_WAIT, 50001, NetlinkReplies.v4(198, 51, 100, 1), 443, 402, null));
        assertFalse(sample(s).fired());
        remove(400);
        net.put(new Sock(2, ESTABLISHED, 22, NetlinkReplies.v4(192, 0, 2, 7), 40000, 403, null));
        accepted(1);
        assertFalse(sample(s).fired(), "the child explains the accept");
        assertFalse(sample(s).fired(), "the child explains the accept");
        accepted(1);
        sample(s);
        assertTrue(sample(s).fired(), "nothing was counted for the request socket or the outgoing ones");
    }

    // (d)
    @Test
    void theAgentsOwnProbeEveryPollNeverFires() throws Exception {
        for (boolean loopback : new boolean[] {false, true}) {
            setUp();
            HttpSignal s = signal(loopback);
            sample(s);
            for (int i = 0; i < 30; i++) {
                // the probe runs after the http sample: its accept and its TIME_WAIT show at the next one
                int port = 43000 + i;
                own.add(port);
                accepted(1);
                // the client (the agent) or the server (opencode, Connection: close) closed first
                net.put(i % 3 == 0 ? loopbackServer(TIME_WAIT, port, 500 + i) : loopbackClient(TIME_WAIT, port, 500 + i));
                if (i >= 12) {
                    remove(500 + i - 12);
                }
                ActivitySignal.Reading r = sample(s);
                assertFalse(r.fired(), "loopback " + loopback + ", probe " + i + ": " + r.detail());
            }
        }
    }

    /**
     * A server that keeps writing after the probe closed resets the probe's TIME_WAIT: neither
     * side is left, and no reset counter moves. The own-connect count explains it.
     */
    @Test
    void anOwnProbeThatLeftNoSocketNeverFires() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        for (int i = 0; i < 10; i++) {
            own.add(43000 + i);
            accepted(1);
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), "probe " + i + ": " + r.detail());
        }
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail(), "a client's still counts");
    }

    /** The probe returned from connect() a moment before the kernel counted its accept: a one-scan dip. */
    @Test
    void anOwnProbeCountedBeforeItsAcceptNeverFires() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        sample(s);
        own.add(43000);
        assertFalse(sample(s).fired());
        accepted(1);
        assertQuiet(s, 4);
    }

    /**
     * The probe runs on its own thread at the same moment as the http sample: the dump may show
     * its socket before it has recorded its port (after the sample read the own-connect count, or
     * even after the whole sample). Taken back once recorded, so a client's short connection in
     * the same interval still counts. (With loopback clients counted, a probe socket whose port is
     * still unrecorded when the sample ends cannot be told from a client's: not tested.)
     */
    @Test
    void anOwnProbeSeenBeforeItRecordedItsPortHidesNothing() throws Exception {
        for (int mode = 0; mode < 3; mode++) {
            boolean loopback = mode == 1;
            boolean duringTheSample = mode < 2;
            setUp();
            HttpSignal s = signal(loopback);
            sample(s);
            sample(s);
            for (int i = 0; i < 6; i++) {
                int port = 43000 + i;
                accepted(2); // the probe's, and a client's from outside that closed at once
                net.put(loopbackServer(ESTABLISHED, port, 500 + i));
                if (duringTheSample) {
                    net.duringScan = () -> {
                        own.add(port);
                        net.duringScan = null;
                    };
                }
                ActivitySignal.Reading seen = sample(s);
                assertFalse(seen.fired(), "mode " + mode + ": " + seen.detail());
                if (!duringTheSample) {
                    own.add(port);
                }
                remove(500 + i);
                net.put(loopbackClient(TIME_WAIT, port, 600 + i));
                assertEquals(BETWEEN_POLLS, sample(s).detail(), "mode " + mode + ", round " + i);
                assertQuiet(s, 2);
            }
        }
    }

    // (e)
    @Test
    void withLoopbackOnLoopbackAcceptsFire() throws Exception {
        HttpSignal s = signal(true);
        sample(s);
        connectedFromInside(1);
        net.put(loopbackClient(TIME_WAIT, 41000, 100));
        ActivitySignal.Reading r = sample(s);
        assertTrue(r.fired());
        assertEquals("http new loopback connection to port 4096", r.detail());
        assertFalse(sample(s).fired());

        // a loopback client that resets left nothing to tell its port by: forgiven here too
        connectedFromInside(1);
        reset(1);
        assertQuiet(s, 3);

        // loopback clients of other ports only through the counter: explained, quiet
        connectedFromInside(1);
        net.put(new Sock(2, TIME_WAIT, 41001, NetlinkReplies.v4(127, 0, 0, 1), 22, 101, null));
        assertFalse(sample(s).fired());
    }

    @Test
    void withLoopbackOffLoopbackAcceptsDoNot() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        accepted(1);
        net.put(loopbackClient(TIME_WAIT, 41000, 100));
        assertFalse(sample(s).fired());
    }

    @Test
    void anOverExplainedDipHidesAtMostOneInterval() throws Exception {
        HttpSignal s = signal(false);
        sample(s);
        sample(s);
        activeOpens++;
        reset(1); // an outgoing connection reset by us: taken for an in-container client's, unexplained drops to -1 for good
        assertFalse(sample(s).fired());
        assertFalse(sample(s).fired());
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail());
    }

    @Test
    void keysAreForgottenTwoMinutesAfterTheyWereLastSeen() throws Exception {
        AcceptLedger ledger = new AcceptLedger(new int[] {4096}, new OwnClientPorts());
        byte[] lo = NetlinkReplies.v4(127, 0, 0, 1);
        byte[] any = NetlinkReplies.v4(0, 0, 0, 0);
        long now = 0;
        ledger.begin();
        ledger.listener(2, 4096, any);
        assertEquals(0, ledger.end(0, 0, 0, 0, 0, now));
        for (int scan = 0; scan < 2; scan++) { // 300 connections, then only the last 150 of them 15 s later
            now += 15 * SECOND;
            ledger.begin();
            ledger.listener(2, 4096, any);
            for (int i = scan * 150; i < 300; i++) {
                ledger.socket(2, TIME_WAIT, 20000 + i, lo, 4096, 10 + i, scan == 0);
            }
            assertEquals(0, ledger.end(0, 0, 0, 300, 300, now));
        }
        assertEquals(300, ledger.remembered());
        // two minutes after 15 s, the first 150 are forgotten, and the table is the size the rest need
        int slots = ledger.slots();
        now = 15 * SECOND + AcceptLedger.FORGET_NANOS + 1;
        ledger.begin();
        ledger.listener(2, 4096, any);
        assertEquals(0, ledger.end(0, 0, 0, 300, 300, now));
        assertEquals(150, ledger.remembered());
        assertEquals(slots / 2, ledger.slots());
        assertTrue(ledger.isListening(4096));
        assertFalse(ledger.isListening(4097));
        ledger.begin();
        assertFalse(ledger.isListening(4096), "listeners are per scan");
    }

    /** Before the table grows, connections none of the last three scans showed make room. */
    @Test
    void aTableThatWouldGrowForgetsConnectionsNoRecentScanShowed() throws Exception {
        AcceptLedger ledger = new AcceptLedger(new int[] {4096}, new OwnClientPorts());
        byte[] lo = NetlinkReplies.v4(127, 0, 0, 1);
        byte[] any = NetlinkReplies.v4(0, 0, 0, 0);
        long now = 0;
        for (int scan = 0; scan < 100; scan++) { // 100 scans, 20 new connections each, gone by the next
            now += SECOND;
            ledger.begin();
            ledger.listener(2, 4096, any);
            for (int i = 0; i < 20; i++) {
                int port = 20000 + scan * 20 + i;
                ledger.socket(2, TIME_WAIT, port, lo, 4096, port, true);
            }
            ledger.end(0, 0, 0, scan * 20L, scan * 20L, now);
            assertTrue(ledger.remembered() <= 80, "scan " + scan + ": " + ledger.remembered());
            assertFalse(ledger.overflowed());
        }
        assertTrue(ledger.slots() <= 256, ledger.toString());
    }

    // the counters themselves

    @Test
    void countersAreReadByName() throws Exception {
        Path fixture = Fixtures.resource("http/proc");
        KernelTcpCounters c = new KernelTcpCounters(fixture);
        assertEquals(40, c.passiveOpens());
        assertEquals(8, c.resets());
        KernelTcpCounters here = new KernelTcpCounters(proc);
        assertEquals(40, here.passiveOpens());
        assertEquals(8, here.resets());
    }

    @Test
    void aMissingCounterThrows() throws Exception {
        byte[] text = "Tcp: RtoAlgorithm ActiveOpens\nTcp: 1 3\n".getBytes(StandardCharsets.US_ASCII);
        assertThrows(IOException.class, () -> KernelTcpCounters.field(text, text.length,
                "Tcp:".getBytes(StandardCharsets.US_ASCII), "PassiveOpens".getBytes(StandardCharsets.US_ASCII), "x"));
        assertThrows(IOException.class, () -> new KernelTcpCounters(tmp.resolve("none")).passiveOpens());
    }

    @Test
    void unreadableCountersLeaveTheRestWorkingAndSaySo() throws Exception {
        Files.delete(proc.resolve("net/snmp"));
        HttpSignal s = signal(false);
        ActivitySignal.Reading first = sample(s);
        assertFalse(first.fired());
        assertTrue(first.detail().startsWith("http 0 connections, no client bytes (degraded: kernel TCP counters"
                + " unreadable ("), first.detail());
        net.put(new Sock(2, ESTABLISHED, 4096, NetlinkReplies.v4(192, 0, 2, 7), 40000, 600, 0L));
        assertTrue(sample(s).detail().startsWith("http new connection from 192.0.2.7 to port 4096 (degraded: "));
        writeCounters();
        assertEquals("http 1 connection, no client bytes", sample(s).detail(), "baselines again");
        assertFalse(sample(s).fired());
        accepted(1);
        sample(s);
        assertEquals(BETWEEN_POLLS, sample(s).detail());
    }

    @Test
    void theProcNetTcpFallbackCountsToo() throws Exception {
        Path root = Fixtures.copy("http/proc", tmp.resolve("fallback"));
        FakeNetlink broken = new FakeNetlink();
        broken.failure = new IOException("no netlink");
        HttpSignal s = new HttpSignal(new int[] {4096}, false, broken, new ProcNetTcpSource(root), own);
        assertFalse(sample(s).fired());
        assertFalse(sample(s).fired());
        String snmp = Files.readString(root.resolve("net/snmp"));
        Files.writeString(root.resolve("net/snmp"), snmp.replace("-1 12 40 0", "-1 12 41 0"));
        assertFalse(sample(s).fired(), "confirmed at the next scan");
        ActivitySignal.Reading r = sample(s);
        assertTrue(r.fired());
        assertTrue(r.detail().startsWith(BETWEEN_POLLS + " (degraded: netlink failed"), r.detail());
        // a loopback client's TIME_WAIT row (06) explains the next one
        Files.writeString(root.resolve("net/snmp"), snmp.replace("-1 12 40 0", "-1 12 42 0"));
        String tcp = Files.readString(root.resolve("net/tcp"));
        Files.writeString(root.resolve("net/tcp"), tcp + "   4: 0100007F:C123 0100007F:1000 06 00000000:00000000"
                + " 03:00000E2A 00000000     0        0 0 3 0000000000000000\n");
        assertQuiet(s, 2);
    }
}
