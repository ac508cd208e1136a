package io.idlewatch.agent.control;


import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The control socket: the JDK's own Unix-domain channels, one thread, one
 * selector. Requests are answered in memory, so one thread serves everyone;
 * no client can hold it up: a request must arrive whole within
 * {@link #REQUEST_TIMEOUT_MILLIS} and {@link ControlProtocol#MAX_LINE} bytes,
 * answers go out with one non-blocking write, and at most
 * {@link #MAX_CONNECTIONS} are open. The idle loop never touches the socket.
 */
public final class ControlServer implements AutoCloseable {
    public static final long REQUEST_TIMEOUT_MILLIS = 5000;
    public static final int MAX_CONNECTIONS = 64;
    /** The server thread's stack: the selector loop is shallow. */
    private static final long STACK_BYTES = 128 * 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final ControlService service;
    private final Consumer<String> log;
    private final long timeoutNanos;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(8192);
    private final Set<Connection> connections = new HashSet<>();
    private volatile boolean closed;

    /** One client: its request so far, its deadline, the hold it carries. */
    private static final class Connection {
        final SocketChannel channel;
        final long deadline;
        byte[] line = new byte[256];
        int length;
        String holdId;

        Connection(SocketChannel channel, long deadline) {
            this.channel = channel;
            this.deadline = deadline;
        }
    }

    private ControlServer(Path path, ServerSocketChannel server, Selector selector, ControlService service,
                          Consumer<String> log, long timeoutMillis) {
        this.path = path;
        this.server = server;
        this.selector = selector;
        this.service = service;
        this.log = log;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
    }

    /**
     * Binds {@code path} (replacing a stale socket from an earlier run), open to
     * every user (0666): the workspace's user must reach an agent running as root.
     */
    public static ControlServer bind(Path path, ControlService service, Consumer<String> log) throws IOException {
        return bind(path, service, log, REQUEST_TIMEOUT_MILLIS);
    }

    static ControlServer bind(Path path, ControlService service, Consumer<String> log, long timeoutMillis)
            throws IOException {
        Files.createDirectories(path.getParent());
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(path), 16);
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
            server.configureBlocking(false);
            Selector selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            return new ControlServer(path, server, selector, service, log, timeoutMillis);
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Serves on a daemon thread of its own. */
    public void start() {
        Thread t = new Thread(null, this::serve, "idlewatch-control", STACK_BYTES);
        t.setDaemon(true);
        t.start();
    }

    private void serve() {
        while (!closed) {
            try {
                selector.select(nextTimeoutMillis());
                Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.isAcceptable()) {
                        acceptAll();
                    } else if (key.isReadable()) {
                        read((Connection) key.attachment());
                    }
                }
                expire();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    log.accept("idlewatch: control socket: " + e); // keep serving; one bad turn is not fatal
                }
            }
        }
    }

    private long nextTimeoutMillis() {
        long next = Long.MAX_VALUE;
        for (Connection c : connections) {
            if (c.holdId == null) {
                next = Math.min(next, c.deadline);
            }
        }
        if (next == Long.MAX_VALUE) {
            return 0; // no deadline: wait for the next event
        }
        return Math.max(1, (next - System.nanoTime()) / 1_000_000 + 1);
    }

    private void acceptAll() throws IOException {
        SocketChannel ch;
        while ((ch = server.accept()) != null) {
            ch.configureBlocking(false);
            if (connections.size() >= MAX_CONNECTIONS) {
                answerAndClose(ch, ControlProtocol.error("too many connections (" + MAX_CONNECTIONS + "); try again"));
                continue;
            }
            Connection c = new Connection(ch, System.nanoTime() + timeoutNanos);
            connections.add(c);
            ch.register(selector, SelectionKey.OP_READ, c);
        }
    }

    private void read(Connection c) {
        while (true) {
            readBuffer.clear();
            int n;
            try {
                n = c.channel.read(readBuffer);
            } catch (IOException e) {
                n = -1; // reset by the peer: same as a close
            }
            if (n == 0) {
                return;
            }
            if (n < 0) {
                if (c.holdId == null && c.length > 0) {
                    request(c, new String(c.line, 0, c.length, StandardCharsets.UTF_8)); // no final newline
                } else {
                    close(c);
                }
                return;
            }
            if (c.holdId != null) {
                continue; // a holding client has nothing more to say; ignore whatever it sends
            }
            byte[] data = readBuffer.array();
            for (int i = 0; i < n; i++) {
                if (data[i] == '\n') {
                    append(c, data, i);
                    request(c, new String(c.line, 0, c.length, StandardCharsets.UTF_8));
                    return;
                }
            }
            if (c.length + n > ControlProtocol.MAX_LINE) {
                answer(c, ControlProtocol.error("request longer than " + ControlProtocol.MAX_LINE
                        + " bytes; expected one line \"" + ControlProtocol.VERSION + " VERB [ARGS]\""));
                close(c);
                return;
            }
            append(c, data, n);
        }
    }

    private static void append(Connection c, byte[] data, int n) {
        if (c.length + n > c.line.length) {
            c.line = java.util.Arrays.copyOf(c.line, Math.min(ControlProtocol.MAX_LINE,
                    Math.max(c.line.length * 2, c.length + n)));
        }
        System.arraycopy(data, 0, c.line, c.length, n);
        c.length += n;
    }

    private void request(Connection c, String line) {
        c.line = null;
        ControlService.Reply reply = service.handle(line);
        boolean sent = answer(c, reply.line());
        if (reply.holdId() != null && sent) {
            c.holdId = reply.holdId(); // stays open; released at EOF
            return;
        }
        if (reply.holdId() != null) {
            service.release(reply.holdId());
        }
        close(c);
    }

    /** One non-blocking write; a client that cannot take a short line loses it. */
    private static boolean answer(Connection c, String line) {
        return write(c.channel, line);
    }

    private static boolean write(SocketChannel ch, String line) {
        ByteBuffer out = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
        try {
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void answerAndClose(SocketChannel ch, String line) {
        write(ch, line);
        try {
            ch.close();
        } catch (IOException ignored) {
            // gone already
        }
    }

    private void expire() {
        long now = System.nanoTime();
        for (Connection c : connections.toArray(new Connection[0])) {
            if (c.holdId == null && now - c.deadline >= 0) {
                answer(c, ControlProtocol.error("no request within " + timeoutNanos / 1_000_000 + " ms"));
                close(c);
            }
        }
    }

    private void close(Connection c) {
        connections.remove(c);
        try {
            c.channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        if (c.holdId != null) {
            String id = c.holdId;
            c.holdId = null;
            service.release(id);
        }
    }

    /** Stops serving and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        try {
            selector.close(); // wakes and ends the server thread
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // exiting anyway
        }
    }
}
