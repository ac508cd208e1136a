package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.signal.ActivitySignal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Collections;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The http signal against this machine's kernel through real sock_diag: a
 * server socket on an ephemeral port, a client from a non-loopback address
 * of this host when it has one (else loopback with loopback counting on).
 */
class NetlinkHostTest {
    private ServerSocket server;
    private Socket client;
    private Socket accepted;
    private NetlinkTcpSource source;

    @BeforeEach
    void open() throws IOException {
        source = new NetlinkTcpSource();
        try {
            source.scan((f, s, lp, r, rp, id, b, q) -> { });
        } catch (IOException e) {
            assumeTrue(false, "no sock_diag here: " + e.getMessage());
        }
        server = new ServerSocket();
        server.bind(new InetSocketAddress(0));
    }

    @AfterEach
    void close() throws IOException {
        for (AutoCloseable c : new AutoCloseable[] {client, accepted, server}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // test cleanup
            }
        }
        source.close();
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nif.isUp() || nif.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address) {
                    return a;
                }
            }
        }
        return null;
    }

    @Test
    void clientBytesFireAndServerBytesAloneDoNot() throws Exception {
        InetAddress address = nonLoopbackAddress();
        boolean loopback = address == null;
        InetAddress target = loopback ? InetAddress.getLoopbackAddress() : address;
        int port = server.getLocalPort();
        HttpSignal signal = new HttpSignal(new int[] {port}, loopback, source, null, new OwnClientPorts());
        assertFalse(signal.sample(0).fired(), "baseline");

        client = new Socket(target, port, target, 0); // the peer address the server sees is ours to choose
        accepted = server.accept();
        // what the server sees (NAT rules on a docker host may rewrite even local sources)
        String peer = accepted.getInetAddress().getHostAddress();
        assertEquals(loopback, accepted.getInetAddress().isLoopbackAddress());
        ActivitySignal.Reading connected = signal.sample(1);
        assertTrue(connected.fired(), connected.detail());
        assertEquals("http new connection from " + peer + " to port " + port, connected.detail());
        assertFalse(signal.sample(2).fired(), "nothing sent yet");

        OutputStream toServer = client.getOutputStream();
        toServer.write("GET / HTTP/1.1\r\n\r\n".getBytes());
        toServer.flush();
        readFully(accepted.getInputStream(), 18);
        ActivitySignal.Reading sent = signal.sample(3);
        assertTrue(sent.fired(), sent.detail());
        assertEquals("http 18 client bytes from " + peer, sent.detail());
        assertFalse(signal.sample(4).fired(), "no change since");

        // an event stream: only the server talks
        OutputStream toClient = accepted.getOutputStream();
        for (int i = 0; i < 3; i++) {
            toClient.write(": heartbeat\n\n".getBytes());
            toClient.flush();
            readFully(client.getInputStream(), 13);
            ActivitySignal.Reading heartbeat = signal.sample(5 + i);
            assertFalse(heartbeat.fired(), heartbeat.detail());
        }
    }

    @Test
    void loopbackClientsAreIgnoredByDefault() throws Exception {
        int port = server.getLocalPort();
        HttpSignal signal = new HttpSignal(new int[] {port}, false, source, null, new OwnClientPorts());
        signal.sample(0);
        client = new Socket(InetAddress.getLoopbackAddress(), port);
        accepted = server.accept();
        client.getOutputStream().write(new byte[100]);
        readFully(accepted.getInputStream(), 100);
        ActivitySignal.Reading r = signal.sample(1);
        assertFalse(r.fired(), r.detail());
    }

    /**
     * The client sends a request, reads the answer and closes first, all
     * between two polls, as curl does: only the client keeps a TIME_WAIT
     * socket. From a non-loopback address that socket does not explain the
     * accept (a client outside the container would hold it outside our
     * namespace), so the kernel's count of accepts fires the signal, one
     * sample later, once the next one confirms it. The
     * port is not an HTTP port: an unexplained accept names none.
     */
    /**
     * Counted when every listener of this host reachable from outside is the watched one (as in
     * a workspace serving only its port); when this host has others, not counted, and the detail
     * names one: the count names no port.
     */
    @Test
    void aConnectionItsClientClosedBetweenPollsIsCountedByTheKernelWhenOnlyWatchedPortsListen() throws Exception {
        InetAddress address = nonLoopbackAddress();
        assumeTrue(address != null, "no non-loopback address on this host");
        int port = server.getLocalPort();
        HttpSignal signal = new HttpSignal(new int[] {port}, false, source, null, new OwnClientPorts(),
                new KernelTcpCounters(Path.of("/proc")));
        signal.sample(0);
        String before = signal.sample(1).detail();
        oneShot(address, false);
        signal.sample(2); // counted; reported once the next sample confirms it
        ActivitySignal.Reading r = signal.sample(3);
        if (before.contains("listens too")) {
            assertFalse(r.fired(), r.detail());
            assertTrue(r.detail().matches(".*not counted \\(port [0-9]+ listens too\\)"), r.detail());
        } else {
            assertTrue(r.fired(), r.detail());
            assertTrue(r.detail().matches("http [0-9]+ connections? opened and closed between polls.*"), r.detail());
        }
    }

    /**
     * Another listener for outside clients beside the watched one: short connections to it,
     * closed by the client or by the server, never count; one the server closes on the watched
     * port does, by its TIME_WAIT.
     */
    @Test
    void shortConnectionsToAnotherPortNeverCountAndTheWatchedPortsTimeWaitDoes() throws Exception {
        InetAddress address = nonLoopbackAddress();
        assumeTrue(address != null, "no non-loopback address on this host");
        try (ServerSocket watched = new ServerSocket()) {
            watched.bind(new InetSocketAddress(0));
            HttpSignal signal = new HttpSignal(new int[] {watched.getLocalPort()}, false, source, null,
                    new OwnClientPorts(), new KernelTcpCounters(Path.of("/proc")));
            signal.sample(0);
            long t = 1;
            for (int i = 0; i < 4; i++) {
                oneShot(address, false);
                assertFalse(signal.sample(t++).fired());
                closedByTheServer(server, address);
                assertFalse(signal.sample(t++).fired());
            }
            assertFalse(signal.sample(t++).fired());
            closedByTheServer(watched, address);
            ActivitySignal.Reading r = signal.sample(t);
            assertTrue(r.fired(), r.detail());
            // (the peer shown is the address the kernel saw, which a host's NAT may have rewritten)
            assertTrue(r.detail().matches("http new connection from \\S+ to port " + watched.getLocalPort() + "\\b.*"),
                    r.detail());
        }
    }

    /** A connection to {@code listener} that its server closes first: the TIME_WAIT stays on the server's side. */
    private static void closedByTheServer(ServerSocket listener, InetAddress address) throws Exception {
        try (Socket c = new Socket(address, listener.getLocalPort(), address, 0)) {
            try (Socket a = listener.accept()) {
                a.getOutputStream().write("HTTP/1.0 200 OK\r\n\r\n".getBytes());
            }
            readFully(c.getInputStream(), 19);
            assertEquals(-1, c.getInputStream().read());
        }
    }

    /**
     * The same from a loopback client is explained by its own TIME_WAIT, and a
     * loopback client that resets (SO_LINGER 0) by the kernel's reset count.
     * This host's other programs may accept connections meanwhile, so one
     * quiet attempt out of five is enough.
     */
    @Test
    void loopbackClientsClosedBetweenPollsAreExplained() throws Exception {
        for (boolean reset : new boolean[] {false, true}) {
            HttpSignal signal = new HttpSignal(new int[] {1}, false, source, null, new OwnClientPorts(),
                    new KernelTcpCounters(Path.of("/proc")));
            signal.sample(0);
            signal.sample(1);
            String last = null;
            boolean quiet = false;
            for (int i = 0; i < 5 && !quiet; i++) {
                oneShot(InetAddress.getLoopbackAddress(), reset);
                ActivitySignal.Reading r = signal.sample(2 + i);
                last = r.detail();
                quiet = !r.fired();
            }
            assertTrue(quiet, (reset ? "reset: " : "TIME_WAIT: ") + last);
        }
    }

    /** A request and its answer over a connection the client closes first; returns once the server's socket is gone. */
    private void oneShot(InetAddress address, boolean reset) throws Exception {
        int port = server.getLocalPort();
        try (Socket c = new Socket(address, port, address, 0); Socket a = server.accept()) {
            c.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes());
            readFully(a.getInputStream(), 18);
            a.getOutputStream().write("HTTP/1.1 200 OK\r\n\r\n".getBytes());
            readFully(c.getInputStream(), 19);
            if (reset) {
                c.setSoLinger(true, 0);
            }
            c.close();
            int eof;
            try {
                eof = a.getInputStream().read();
            } catch (IOException connectionReset) {
                eof = -1;
            }
            assertEquals(-1, eof);
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        boolean[] serverSide = new boolean[1];
        do {
            serverSide[0] = false;
            source.scan((f, s, lp, r, rp, id, b, q) -> serverSide[0] |= lp == port && s != InetDiag.TCP_LISTEN
                    && s != 6);
            if (serverSide[0]) {
                Thread.sleep(10);
            }
        } while (serverSide[0] && System.nanoTime() < deadline);
        assertFalse(serverSide[0], "the server's socket went through LAST_ACK");
    }

    private static void readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length);
    }
}
