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

    private static void readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length);
    }
}
