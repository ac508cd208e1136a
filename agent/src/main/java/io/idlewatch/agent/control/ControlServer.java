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
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The control socket: the JDK's own Unix-domain channels, one thread, one
 * selector. Requests are answered in memory, so one thread serves everyone.
 *
 * <p>The socket is open to every user of the workspace, and any of them may be
 * hostile; no client can hold the thread up or grow the agent without bound:
 * <ul>
 * <li>a request is at most {@link ControlProtocol#MAX_LINE} bytes however its reads
 *     fall ({@link RequestFramer}), and arrives within {@link #REQUEST_TIMEOUT_MILLIS};
 * <li>at most {@link #MAX_PENDING} connections wait for their request; a newcomer
 *     pushes out the oldest of them, so silent connections cannot lock anyone out;
 * <li>holds ({@code inhibit}) are not waiting for anything: they have their own
 *     limit, {@link ControlService#MAX_HOLDS}, and do not take request places;
 * <li>each turn of the loop reads at most one buffer per connection and accepts at
 *     most {@link #BACKLOG} connections, so no client can monopolise it;
 * <li>answers go out with one non-blocking write.
 * </ul>
 * The idle loop never touches the socket.
 */
public final class ControlServer implements AutoCloseable {
    /** A real client writes its request right after connecting; 5 s is ages for that. */
    public static final long REQUEST_TIMEOUT_MILLIS = 5000;
    /**
     * Connections waiting for their request line. A real client spends microseconds in
     * this table (it writes its request as soon as it is connected, and it is read as
     * soon as it is accepted), so 64 is far beyond real concurrency; it bounds the
     * request buffers to 64 x {@link ControlProtocol#MAX_LINE} = 4 MiB of the agent's
     * 24 MiB heap, at worst. When the table is full the oldest waiting connection is
     * closed with an error line to make room: refusing the newcomer instead would let
     * 64 connections that never say anything (slowloris) lock every client out; this
     * way such a client only ever pushes out its own connections.
     */
    public static final int MAX_PENDING = 64;
    /**
     * The listen backlog, and the most connections accepted per turn of the loop: a
     * flood of connects cannot push out the connections already accepted before their
     * requests are read in the same turn.
     */
    static final int BACKLOG = 16;
    /** The server thread's stack: the selector loop is shallow. */
    private static final long STACK_BYTES = 128 * 1024;

    private final Path path;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final ControlService service;
    private final Consumer<String> log;
    private final long timeoutNanos;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(8192);
    /** Waiting for their request, oldest first (so also in deadline order). */
    private final Set<Connection> pending = new LinkedHashSet<>();
    /** Holding the workspace active until they close. */
    private final Set<Connection> holding = new HashSet<>();
    private volatile boolean closed;

    /** One client: its request so far, its deadline, the hold it carries. */
    private static final class Connection {
        final SocketChannel channel;
        final long deadline;
        final RequestFramer framer = new RequestFramer(ControlProtocol.MAX_LINE);
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
            server.bind(UnixDomainSocketAddress.of(path), BACKLOG);
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
        Iterator<Connection> oldest = pending.iterator();
        if (!oldest.hasNext()) {
            return 0; // no deadline: wait for the next event
        }
        return Math.max(1, (oldest.next().deadline - System.nanoTime()) / 1_000_000 + 1);
    }

    private void acceptAll() throws IOException {
        for (int i = 0; i < BACKLOG; i++) {
            SocketChannel ch = server.accept();
            if (ch == null) {
                return;
            }
            ch.configureBlocking(false);
            if (pending.size() >= MAX_PENDING) {
                Connection oldest = pending.iterator().next();
                answer(oldest, ControlProtocol.error("too many connections waiting for a request (" + MAX_PENDING
                        + "); this one was the oldest and is closed; try again"));
                close(oldest);
            }
            Connection c = new Connection(ch, System.nanoTime() + timeoutNanos);
            pending.add(c);
            ch.register(selector, SelectionKey.OP_READ, c);
            read(c); // a real client's request is usually there already: serve it now
        }
    }

    /** One read per turn: a client that keeps writing cannot keep the thread from the others. */
    private void read(Connection c) {
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
            String line = c.holdId == null ? c.framer.finish() : null;
            if (line != null) {
                request(c, line); // a request without its final newline
            } else {
                close(c);
            }
            return;
        }
        if (c.holdId != null) {
            return; // a holding client has nothing more to say; ignore whatever it sends
        }
        switch (c.framer.feed(readBuffer.array(), 0, n)) {
            case LINE -> request(c, c.framer.line());
            case TOO_LONG -> {
                answer(c, ControlProtocol.error("request longer than " + ControlProtocol.MAX_LINE
                        + " bytes; expected one line \"" + ControlProtocol.VERSION + " VERB [ARGS]\""));
                close(c);
            }
            case MORE -> {
                // wait for the rest
            }
        }
    }

    private void request(Connection c, String line) {
        ControlService.Reply reply = service.handle(line);
        boolean sent = answer(c, reply.line());
        if (reply.holdId() != null && sent) {
            c.holdId = reply.holdId(); // stays open; released at EOF
            pending.remove(c);
            holding.add(c);
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

    private void expire() {
        long now = System.nanoTime();
        while (!pending.isEmpty()) {
            Connection c = pending.iterator().next(); // the oldest: the first deadline
            if (now - c.deadline < 0) {
                return;
            }
            answer(c, ControlProtocol.error("no request within " + timeoutNanos / 1_000_000 + " ms"));
            close(c);
        }
    }

    private void close(Connection c) {
        pending.remove(c);
        holding.remove(c);
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
