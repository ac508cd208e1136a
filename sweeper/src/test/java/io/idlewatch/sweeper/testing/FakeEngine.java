package io.idlewatch.sweeper.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Docker engine as far as the wire goes: an HTTP/1.1 server on a Unix socket whose answers the
 * test writes by hand, including the ones a real engine never gives (none at all, headers and then
 * nothing, an endless archive). One thread per connection; every answer closes its connection.
 */
public final class FakeEngine implements AutoCloseable {

    /** Answers one request by writing the whole response (status line onwards) to {@code out}. */
    public interface Handler {
        void handle(String method, String path, OutputStream out) throws IOException, InterruptedException;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Handler handler;
    private final List<SocketChannel> connections = new CopyOnWriteArrayList<>();
    public final List<String> requests = new CopyOnWriteArrayList<>();
    /** Body bytes the handlers managed to hand to the kernel: what a client was made to read, at most. */
    public final AtomicLong bytesWritten = new AtomicLong();
    private volatile boolean closed;

    private FakeEngine(Path socket, Handler handler) throws IOException {
        this.socket = socket;
        this.handler = handler;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread acceptor = new Thread(this::acceptLoop, "fake-engine");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static FakeEngine start(Path dir, Handler handler) throws IOException {
        Files.createDirectories(dir);
        return new FakeEngine(dir.resolve("engine.sock"), handler);
    }

    public String url() {
        return "unix://" + socket;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel connection = server.accept();
                connections.add(connection);
                Thread thread = new Thread(() -> serve(connection), "fake-engine-connection");
                thread.setDaemon(true);
                thread.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel connection) {
        try (connection) {
            InputStream in = Channels.newInputStream(connection);
            String head = readHead(in);
            if (head == null) {
                return;
            }
            String[] requestLine = head.substring(0, head.indexOf("\r\n")).split(" ");
            requests.add(requestLine[0] + " " + requestLine[1]);
            OutputStream out = new OutputStream() {
                final OutputStream raw = Channels.newOutputStream(connection);

                @Override
                public void write(int b) throws IOException {
                    raw.write(b);
                    bytesWritten.incrementAndGet();
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    raw.write(b, off, len);
                    bytesWritten.addAndGet(len);
                }
            };
            handler.handle(requestLine[0], requestLine[1], out);
            out.flush();
        } catch (IOException | InterruptedException | RuntimeException gone) {
            // The client went away (as it should, from an endless answer).
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            String text = head.toString(StandardCharsets.ISO_8859_1);
            if (text.endsWith("\r\n\r\n")) {
                return text;
            }
        }
        return null;
    }

    /** A complete JSON answer. */
    public static void json(OutputStream out, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
    }

    /** Headers of a body that ends when the connection does (as an archive may be sent). */
    public static void streamHeaders(OutputStream out, String contentType) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Headers of a chunked body, as the engine (Go's net/http) sends an archive, and the stream to
     * write the body to. Never finished: the connection's end is the body's.
     */
    public static OutputStream chunked(OutputStream out, String contentType) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nTransfer-Encoding: chunked\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return;
                }
                out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(b, off, len);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }

            @Override
            public void close() throws IOException {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        };
    }

    /** Holds the connection open, answering nothing more, until the client or the test gives up. */
    public static void stall() throws InterruptedException {
        Thread.sleep(Long.MAX_VALUE);
    }

    /** The version answer of a Docker 24 engine (API 1.43, down to 1.12). */
    public static void version(OutputStream out) throws IOException {
        json(out, 200, "{\"Version\":\"24.0.7\",\"ApiVersion\":\"1.43\",\"MinAPIVersion\":\"1.12\"}");
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (SocketChannel connection : connections) {
            connection.close();
        }
        Files.deleteIfExists(socket);
    }
}
