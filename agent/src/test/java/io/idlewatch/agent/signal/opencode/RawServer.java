package io.idlewatch.agent.signal.opencode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback server written as the workspace's attacker would: raw sockets, any bytes, any pace.
 * Its behaviour can be switched while it runs (the same port turning into opencode, or away from it).
 */
final class RawServer implements AutoCloseable {
    /** What the server does with one accepted connection; runs on a thread of its own. */
    @FunctionalInterface
    interface Behaviour {
        void serve(Socket client) throws Exception;
    }

    private final ServerSocket server;
    private final List<Socket> clients = new ArrayList<>();
    final AtomicInteger accepted = new AtomicInteger();
    volatile Behaviour behaviour;

    RawServer(Behaviour behaviour) throws IOException {
        this(0, behaviour);
    }

    /** On {@code port} (0: any), with SO_REUSEADDR so a port just closed can be taken again. */
    RawServer(int port, Behaviour behaviour) throws IOException {
        this.behaviour = behaviour;
        server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        Thread t = new Thread(this::acceptLoop, "raw-server-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (true) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException closed) {
                return;
            }
            accepted.incrementAndGet();
            synchronized (clients) {
                clients.add(c);
            }
            Behaviour b = behaviour;
            Thread t = new Thread(() -> {
                try (c) {
                    b.serve(c);
                } catch (Exception gone) {
                    // the probe hung up: expected
                }
            }, "raw-client");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (clients) {
            for (Socket c : clients) {
                c.close();
            }
        }
    }

    // ---- behaviours ----

    /** Reads the request head (up to the blank line). */
    static void readRequest(Socket c) throws IOException {
        InputStream in = c.getInputStream();
        int state = 0;
        int b;
        while (state < 4 && (b = in.read()) >= 0) {
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : 0;
        }
    }

    /** Reads (and drops) whatever comes until the probe hangs up. */
    static void untilHangUp(Socket c) throws IOException {
        InputStream in = c.getInputStream();
        byte[] buf = new byte[1024];
        while (in.read(buf) >= 0) {
            // keep reading
        }
    }

    /** Reads everything and never answers. */
    static Behaviour silent() {
        return RawServer::untilHangUp;
    }

    /** Sends back whatever it receives. */
    static Behaviour echo() {
        return c -> c.getInputStream().transferTo(c.getOutputStream());
    }

    /**
     * One byte every 100 ms, forever: a response that would read as a busy opencode if it ever
     * ended, followed by endless padding of its read-to-close body.
     */
    static Behaviour trickle() {
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"s\":{\"type\":\"busy\"}}")
                .getBytes(StandardCharsets.US_ASCII);
        return c -> {
            readRequest(c);
            OutputStream out = c.getOutputStream();
            for (long i = 0; ; i++) {
                out.write(i < head.length ? head[(int) i] : ' ');
                out.flush();
                Thread.sleep(100);
            }
        };
    }

    /** A status line, then headers as fast as the socket takes them, forever. */
    static Behaviour endlessHeaders() {
        return c -> {
            readRequest(c);
            OutputStream out = c.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII));
            for (long i = 0; ; i++) {
                out.write(("X-Flood-" + i + ": aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        };
    }

    /** A JSON body without Content-Length that never ends, as fast as the socket takes it. */
    static Behaviour hugeBody() {
        return c -> {
            readRequest(c);
            OutputStream out = c.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{".getBytes(StandardCharsets.US_ASCII));
            byte[] entry = "\"ses\":{\"type\":\"busy\"},".getBytes(StandardCharsets.US_ASCII);
            byte[] block = new byte[entry.length * 400];
            for (int i = 0; i < 400; i++) {
                System.arraycopy(entry, 0, block, i * entry.length, entry.length);
            }
            while (true) {
                out.write(block);
            }
        };
    }

    /** Claims a body of 10 GB. */
    static Behaviour hugeContentLength() {
        return c -> {
            readRequest(c);
            OutputStream out = c.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            untilHangUp(c);
        };
    }

    /** Accepts and resets the connection. */
    static Behaviour reset() {
        return c -> c.setSoLinger(true, 0);
    }

    /** A well-formed HTTP answer. */
    static Behaviour answer(int status, String contentType, String body, String... headers) {
        return c -> {
            readRequest(c);
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n")
                    .append("Content-Type: ").append(contentType).append("\r\n")
                    .append("Content-Length: ").append(b.length).append("\r\n");
            for (String extra : headers) {
                h.append(extra).append("\r\n");
            }
            h.append("Connection: close\r\n\r\n");
            OutputStream out = c.getOutputStream();
            out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
        };
    }

    /** opencode answering /session/status with {@code json}. */
    static Behaviour opencode(String json) {
        return answer(200, "application/json", json);
    }
}
