package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import io.idlewatch.agent.signal.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The http signal over fabricated sock_diag replies: every scan renders the
 * fake socket table to netlink bytes and parses them with {@link InetDiag},
 * so the parser is exercised on each sample.
 */
class HttpSignalTest extends ActivitySignalContract {
    private static final int ESTABLISHED = 1;

    /** A mutable socket table served as netlink replies. */
    static final class FakeNetlink implements TcpSocketSource {
        record Sock(int family, int state, int localPort, byte[] remote, int remotePort, long cookie, Long bytes) {
        }

        final List<Sock> sockets = new ArrayList<>();
        IOException failure;
        /** When set, the loopback and ssh counters grow on every scan (traffic that must not count). */
        boolean churn;
        /** Runs as the dump starts: what happens between the counter reads before and after it. */
        Runnable duringScan;
        private int round;

        void put(Sock s) {
            sockets.removeIf(x -> x.cookie == s.cookie);
            sockets.add(s);
        }

        @Override
        public void scan(TcpSocketVisitor visitor) throws IOException {
            if (failure != null) {
                throw failure;
            }
            if (churn) {
                churn(this, ++round);
            }
            if (duringScan != null) {
                duringScan.run();
            }
            NetlinkReplies r = new NetlinkReplies();
            for (Sock s : sockets) {
                r.socket(s.family, s.state, s.localPort, s.remote, s.remotePort, s.cookie, s.bytes);
            }
            assertTrue(InetDiag.parse(r.done().buffer(), visitor, new byte[16]));
        }

        @Override
        public String describe() {
            return "netlink";
        }
    }

    static FakeNetlink.Sock sock(byte[] remote, int localPort, long cookie, long bytes) {
        return new FakeNetlink.Sock(remote.length == 4 ? 2 : 10, ESTABLISHED, localPort, remote, 50000, cookie, bytes);
    }

    /**
     * A browser at 172.17.0.1 with an open event stream, a loopback health
     * check whose bytes grow every scan, and ssh traffic on another port.
     */
    static FakeNetlink quietTable() {
        FakeNetlink n = new FakeNetlink();
        n.put(sock(NetlinkReplies.v4(172, 17, 0, 1), 4096, 0x1_0000_0001L, 812));
        n.put(sock(NetlinkReplies.v4(127, 0, 0, 1), 4096, 2, 100));
        n.put(sock(NetlinkReplies.v6Loopback(), 4096, 3, 100));
        n.put(sock(NetlinkReplies.v4(10, 0, 0, 9), 22, 4, 5000));
        return n;
    }

    static void churn(FakeNetlink n, int round) {
        n.put(sock(NetlinkReplies.v4(127, 0, 0, 1), 4096, 2, 100 + round * 50L));
        n.put(sock(NetlinkReplies.v6Loopback(), 4096, 3, 100 + round * 50L));
        n.put(sock(NetlinkReplies.v4(10, 0, 0, 9), 22, 4, 5000 + round * 700L));
    }

    @Override
    protected String expectedName() {
        return "http";
    }

    @Override
    protected Fixture quietFixture(Path dir) {
        FakeNetlink n = quietTable();
        n.churn = true;
        HttpSignal signal = new HttpSignal(new int[] {4096}, false, n, null, new OwnClientPorts());
        return fixture(signal, () -> n.put(sock(NetlinkReplies.v4(172, 17, 0, 1), 4096, 0x1_0000_0001L, 814)), null);
    }

    @Override
    protected ActivitySignal brokenSignal(Path dir) {
        FakeNetlink n = new FakeNetlink();
        n.failure = new IOException("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed: errno 97");
        return new HttpSignal(new int[] {4096}, false, n, new ProcNetTcpSource(dir.resolve("no-proc")),
                new OwnClientPorts());
    }

    @Test
    void clientBytesAreReportedWithThePeer() throws Exception {
        FakeNetlink n = quietTable();
        HttpSignal s = new HttpSignal(new int[] {4096}, false, n, null, new OwnClientPorts());
        s.sample(0);
        n.put(sock(NetlinkReplies.v4(172, 17, 0, 1), 4096, 0x1_0000_0001L, 814));
        ActivitySignal.Reading r = s.sample(1);
        assertTrue(r.fired());
        assertEquals("http 2 client bytes from 172.17.0.1", r.detail());
        assertEquals("http 1 connection, no client bytes", s.sample(2).detail());
    }

    @Test
    void aNewConnectionFiresEvenBeforeItSendsAnything() throws Exception {
        FakeNetlink n = quietTable();
        HttpSignal s = new HttpSignal(new int[] {4096}, false, n, null, new OwnClientPorts());
        s.sample(0);
        n.put(new FakeNetlink.Sock(10, 3 /* SYN_RECV */, 4096, NetlinkReplies.v4Mapped(192, 0, 2, 7), 40000, 77,
                null));
        ActivitySignal.Reading r = s.sample(1);
        assertTrue(r.fired());
        assertEquals("http new connection from 192.0.2.7 to port 4096", r.detail());
    }

    @Test
    void loopbackCountsOnlyWhenEnabled() throws Exception {
        FakeNetlink n = quietTable();
        HttpSignal s = new HttpSignal(new int[] {4096}, true, n, null, new OwnClientPorts());
        s.sample(0);
        churn(n, 1);
        ActivitySignal.Reading r = s.sample(1);
        assertTrue(r.fired());
        assertEquals("http 50 client bytes from 127.0.0.1", r.detail());
    }

    @Test
    void theAgentsOwnProbeNeverCounts() throws Exception {
        FakeNetlink n = new FakeNetlink();
        OwnClientPorts own = new OwnClientPorts();
        HttpSignal s = new HttpSignal(new int[] {4096}, true, n, null, own);
        s.sample(0);
        own.add(43210);
        n.put(new FakeNetlink.Sock(2, 6 /* TIME_WAIT */, 4096, NetlinkReplies.v4(127, 0, 0, 1), 43210, 9, null));
        assertFalse(s.sample(1).fired());
    }

    @Test
    void otherPortsAndListenersAreIgnored() throws Exception {
        FakeNetlink n = new FakeNetlink();
        HttpSignal s = new HttpSignal(new int[] {4096, 8080}, false, n, null, new OwnClientPorts());
        s.sample(0);
        n.put(new FakeNetlink.Sock(2, 10, 4096, NetlinkReplies.v4(0, 0, 0, 0), 0, 1, null));
        n.put(sock(NetlinkReplies.v4(10, 1, 1, 1), 9090, 2, 10));
        assertFalse(s.sample(1).fired());
        n.put(sock(NetlinkReplies.v4(10, 1, 1, 1), 8080, 3, 10));
        assertTrue(s.sample(2).fired());
    }

    @Test
    void fallsBackToProcNetTcpAndSaysItIsDegraded() throws Exception {
        Path proc = Fixtures.copy("http/proc", tmp.resolve("proc"));
        FakeNetlink n = new FakeNetlink();
        n.failure = new IOException("socket(AF_NETLINK, NETLINK_SOCK_DIAG) failed: errno 97");
        HttpSignal s = new HttpSignal(new int[] {4096}, false, n, new ProcNetTcpSource(proc), new OwnClientPorts());
        ActivitySignal.Reading first = s.sample(0);
        assertFalse(first.fired());
        assertEquals("http 1 connection, no client bytes (degraded: netlink failed (socket(AF_NETLINK,"
                + " NETLINK_SOCK_DIAG) failed: errno 97), using /proc/net/tcp)", first.detail());
        assertFalse(s.sample(1).fired());

        // unread request bytes from the browser
        String tcp = Files.readString(proc.resolve("net/tcp"));
        Files.writeString(proc.resolve("net/tcp"), tcp.replace(
                "010011AC:D431 01 00000000:00000000", "010011AC:D431 01 00000000:000000C8"));
        ActivitySignal.Reading r = s.sample(2);
        assertTrue(r.fired());
        assertTrue(r.detail().startsWith("http 200 unread client bytes from 172.17.0.1 (degraded: "), r.detail());

        // a new connection
        Files.writeString(proc.resolve("net/tcp"), tcp + "   4: 020011AC:1000 050011AC:C000 01 00000000:00000000"
                + " 00:00000000 00000000  1000        0 1005 1 0000000000000000 20 4 30 10 -1\n");
        ActivitySignal.Reading n2 = s.sample(3);
        assertTrue(n2.fired());
        assertTrue(n2.detail().startsWith("http new connection from 172.17.0.5 to port 4096"), n2.detail());
    }

    @Test
    void procNetTcpParsesBothFamilies() throws Exception {
        Path proc = Fixtures.copy("http/proc", tmp.resolve("proc"));
        List<String> seen = new ArrayList<>();
        new ProcNetTcpSource(proc).scan((family, state, localPort, remote, remotePort, id, bytes, rxQueue) ->
                seen.add(family + " " + state + " " + localPort + " "
                        + HttpSignal.isLoopback(family, remote) + " " + remotePort + " " + bytes + " " + rxQueue));
        assertEquals(List.of("2 10 4096 false 0 -1 0", "2 1 4096 false 54321 -1 0", "2 1 4096 true 40960 -1 16",
                "2 1 22 false 54528 -1 64", "10 10 4096 false 0 -1 0", "10 1 4096 true 45056 -1 0"), seen);
    }

    @Test
    void loopbackAddresses() {
        assertTrue(HttpSignal.isLoopback(2, NetlinkReplies.v4(127, 1, 2, 3)));
        assertFalse(HttpSignal.isLoopback(2, NetlinkReplies.v4(172, 17, 0, 1)));
        assertTrue(HttpSignal.isLoopback(10, NetlinkReplies.v6Loopback()));
        assertTrue(HttpSignal.isLoopback(10, NetlinkReplies.v4Mapped(127, 0, 0, 1)));
        assertFalse(HttpSignal.isLoopback(10, NetlinkReplies.v4Mapped(10, 0, 0, 1)));
        byte[] any = new byte[16];
        assertFalse(HttpSignal.isLoopback(10, any));
        byte[] global = new byte[16];
        global[0] = 0x20;
        global[1] = 0x01;
        global[15] = 1;
        assertFalse(HttpSignal.isLoopback(10, global));
    }
}
