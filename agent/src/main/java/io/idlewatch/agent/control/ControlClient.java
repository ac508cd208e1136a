package io.idlewatch.agent.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One connection to the agent's control socket: send a request line, read the answer line. */
final class ControlClient implements AutoCloseable {
    static final long ANSWER_TIMEOUT_MILLIS = 30_000;

    /** No agent at any of the socket paths. Exit code 1. */
    static final class UnreachableException extends Exception {
        UnreachableException(String message) {
            super(message);
        }
    }

    private final SocketChannel channel;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
    }

    /**
     * Connects to the first socket path that answers.
     */
    static ControlClient connect(List<Path> socketPaths) throws UnreachableException {
        // The agent binds its socket just after it spawns the workload (spawning first keeps
        // container start-up fast), so a workload whose first command is a client may be early.
        long deadline = System.nanoTime() + STARTUP_WAIT_NANOS;
        while (true) {
            try {
                return connectOnce(socketPaths);
            } catch (UnreachableException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static final long STARTUP_WAIT_NANOS = 1_500_000_000L;

    private static ControlClient connectOnce(List<Path> socketPaths) throws UnreachableException {
        StringBuilder tried = new StringBuilder();
        for (Path p : socketPaths) {
            SocketChannel ch = null;
            try {
                ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                ch.connect(UnixDomainSocketAddress.of(p));
                return new ControlClient(ch);
            } catch (IOException e) {
                closeQuietly(ch);
                tried.append(tried.length() == 0 ? "" : ", ").append(p).append(" (").append(reason(e)).append(')');
            }
        }
        throw new UnreachableException("cannot reach the agent at " + tried
                + "; the agent may not be running: idlewatch status works inside a container whose"
                + " entrypoint is /opt/idlewatch/bin/idlewatch");
    }

    /** Sends one request and waits for its answer. */
    ControlProtocol.Answer call(String verb, Map<String, String> args) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(ControlProtocol.request(verb, args).getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            channel.write(out);
        }
        try {
            return ControlProtocol.parseAnswer(readLine());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    private String readLine() throws IOException {
        channel.configureBlocking(false);
        ByteBuffer in = ByteBuffer.allocate(ControlProtocol.MAX_LINE);
        long deadline = System.nanoTime() + ANSWER_TIMEOUT_MILLIS * 1_000_000L;
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            while (true) {
                int n = channel.read(in);
                for (int i = in.position() - Math.max(n, 0); i < in.position(); i++) {
                    if (in.get(i) == '\n') {
                        return new String(in.array(), 0, i, StandardCharsets.UTF_8);
                    }
                }
                if (n < 0) {
                    throw new IOException("the agent closed the connection without answering");
                }
                if (!in.hasRemaining()) {
                    throw new IOException("the agent's answer is longer than " + ControlProtocol.MAX_LINE + " bytes");
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new IOException("no answer from the agent within " + ANSWER_TIMEOUT_MILLIS / 1000 + "s");
                }
                selector.select(left);
                selector.selectedKeys().clear();
            }
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
