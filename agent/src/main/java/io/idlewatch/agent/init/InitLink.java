package io.idlewatch.agent.init;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's end of its socket to the init (PID 1, {@code bin/idlewatch}), which the init gives
 * it as standard input. The init acts, the agent decides; one line each way, parsed strictly on
 * both sides (the init's side is {@code images/agent/launcher.c}, which documents the protocol):
 *
 * <pre>
 * init -> agent   hello STARTED_MONO_MS STARTED_EPOCH_MS RESTARTS | signal N | exited CODE SIG TERMSIG | done CODE
 * agent -> init   ready GRACE_MS LIFETIME_MS EXIT_CODE | stop CODE GRACE_MS | ack
 * </pre>
 */
public final class InitLink implements AutoCloseable {
    /** Lines are short; a longer one means the other side is not the init. */
    static final int MAX_LINE = 128;

    /** A line from the init. */
    public sealed interface Message permits Hello, SignalCame, Exited, Done {
    }

    /** The first line: when the container started (CLOCK_MONOTONIC and wall clock), and how often the agent was restarted. */
    public record Hello(long startedMonoMillis, long startedEpochMillis, int restarts) implements Message {
    }

    /** A stop signal came from outside; the init forwards it once the agent acknowledged. */
    public record SignalCame(int signal) implements Message {
    }

    /** The workload ended: its exit code, the last signal forwarded to it (0: none), the signal that killed it (0: none). */
    public record Exited(int exitCode, int lastForwarded, int killedBy) implements Message {
    }

    /** Everything is gone: the final record, then exit. */
    public record Done(int exitCode) implements Message {
    }

    private final SocketChannel channel;
    private final Selector selector;
    private final ByteBuffer in = ByteBuffer.allocate(256);
    private final byte[] line = new byte[MAX_LINE];
    private int lineLength;

    private InitLink(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    /** The init's socket, our standard input; null when there is none (not started by the init). */
    public static InitLink open() throws IOException {
        Channel inherited = System.inheritedChannel();
        if (!(inherited instanceof SocketChannel socket)) {
            return null;
        }
        return new InitLink(socket);
    }

    /**
     * Waits up to {@code millis} for lines from the init.
     *
     * @return the messages that arrived, possibly none
     * @throws IOException when the init closed the socket or sent something that is not the protocol
     */
    public List<Message> await(long millis) throws IOException {
        selector.select(Math.max(1, millis));
        selector.selectedKeys().clear();
        List<Message> out = new ArrayList<>(2);
        while (true) {
            in.clear();
            int n = channel.read(in);
            if (n < 0) {
                throw new IOException("the init closed its socket");
            }
            if (n == 0) {
                return out;
            }
            for (int i = 0; i < n; i++) {
                byte b = in.get(i);
                if (b == '\n') {
                    out.add(parse(new String(line, 0, lineLength, StandardCharsets.US_ASCII)));
                    lineLength = 0;
                } else if (b < 0x20 || b > 0x7e || lineLength == MAX_LINE) {
                    throw new IOException("the init sent a line that is not the protocol");
                } else {
                    line[lineLength++] = b;
                }
            }
        }
    }

    /** One line, without its newline. */
    static Message parse(String text) throws IOException {
        String[] f = text.split(" ", -1);
        switch (f[0]) {
            case "hello":
                if (f.length == 4) {
                    return new Hello(number(f[1]), number(f[2]), (int) Math.min(number(f[3]), Integer.MAX_VALUE));
                }
                break;
            case "signal":
                if (f.length == 2) {
                    return new SignalCame(signal(f[1]));
                }
                break;
            case "exited":
                if (f.length == 4) {
                    return new Exited(code(f[1]), signalOrNone(f[2]), signalOrNone(f[3]));
                }
                break;
            case "done":
                if (f.length == 2) {
                    return new Done(code(f[1]));
                }
                break;
            default:
                break;
        }
        throw new IOException("not a line of the init's protocol: \"" + text + "\"");
    }

    /** Decimal, no sign, at most 15 digits. */
    static long number(String s) throws IOException {
        if (s.isEmpty() || s.length() > 15) {
            throw new IOException("not a number: \"" + s + "\"");
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                throw new IOException("not a number: \"" + s + "\"");
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static int code(String s) throws IOException {
        long v = number(s);
        if (v > 255) {
            throw new IOException("not an exit code: " + s);
        }
        return (int) v;
    }

    private static int signal(String s) throws IOException {
        long v = number(s);
        if (v < 1 || v > 64) {
            throw new IOException("not a signal: " + s);
        }
        return (int) v;
    }

    private static int signalOrNone(String s) throws IOException {
        return s.equals("0") ? 0 : signal(s);
    }

    public void ready(long graceMillis, long lifetimeMillis, int exitCode) throws IOException {
        send("ready " + graceMillis + " " + lifetimeMillis + " " + exitCode);
    }

    public void stop(int exitCode, long graceMillis) throws IOException {
        send("stop " + exitCode + " " + graceMillis);
    }

    public void ack() throws IOException {
        send("ack");
    }

    /** From any thread; a line is far below the socket's buffer, so a write never waits for long. */
    private synchronized void send(String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.US_ASCII));
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (out.hasRemaining()) {
            if (channel.write(out) == 0) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("the init does not read its socket");
                }
                Thread.onSpinWait();
            }
        }
    }

    @Override
    public void close() {
        try {
            selector.close();
            channel.close();
        } catch (IOException ignored) {
            // exiting anyway
        }
    }
}
