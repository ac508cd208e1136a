package io.idlewatch.agent.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Tests only: what the native client ({@code bin/idlewatch status|touch|timeout|stop}, launcher.c
 * cli_main) does with a real server. It sends the whole command line as one {@code cli} request,
 * {@code idlewatch/1 cli a0=status&a1=--json}, and turns the answer into its exit code, standard
 * output and standard error: {@code cli EXIT OUT_BYTES ERR_BYTES\n} and the bytes as they are, or
 * {@code error MESSAGE} (exit 2, the message on standard error).
 */
final class CliClient {
    private static final long ANSWER_WAIT_NANOS = 30_000_000_000L;

    /** What the client would exit with and print. */
    record Result(int code, String out, String err) {
    }

    private CliClient() {
    }

    /** Runs one command line against the agent listening at {@code socket}. */
    static Result run(Path socket, String... argv) {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer request = ByteBuffer.wrap(request(argv).getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining()) {
                channel.write(request);
            }
            return parse(readToEnd(channel));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The request line, newline included, as launcher.c form-encodes it (space as '+', UTF-8 bytes as %XX). */
    static String request(String... argv) {
        StringBuilder b = new StringBuilder("idlewatch/1 cli ");
        for (int i = 0; i < argv.length; i++) {
            b.append(i > 0 ? "&" : "").append('a').append(i).append('=');
            for (byte x : argv[i].getBytes(StandardCharsets.UTF_8)) {
                char c = (char) (x & 0xff);
                if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-_.*".indexOf(c) >= 0) {
                    b.append(c);
                } else if (c == ' ') {
                    b.append('+');
                } else {
                    b.append('%').append(String.format("%02X", (int) c));
                }
            }
        }
        return b.append('\n').toString();
    }

    /** The whole answer: after a {@code cli} answer, the server closes the connection. */
    private static byte[] readToEnd(SocketChannel channel) throws IOException {
        channel.configureBlocking(false);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuffer in = ByteBuffer.allocate(8192);
        long deadline = System.nanoTime() + ANSWER_WAIT_NANOS;
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            while (true) {
                in.clear();
                int n = channel.read(in);
                if (n < 0) {
                    return all.toByteArray();
                }
                all.write(in.array(), 0, n);
                if (n == 0) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new IOException("the agent did not finish its answer within 30s: " + all);
                    }
                    selector.select(left);
                    selector.selectedKeys().clear();
                }
            }
        }
    }

    private static Result parse(byte[] answer) throws IOException {
        int newline = 0;
        while (newline < answer.length && answer[newline] != '\n') {
            newline++;
        }
        String header = new String(answer, 0, newline, StandardCharsets.UTF_8);
        if (header.startsWith("error ")) {
            return new Result(ControlCommands.EXIT_USAGE, "", "idlewatch: " + header.substring(6) + "\n");
        }
        String[] f = header.split(" ");
        if (newline == answer.length || f.length != 4 || !f[0].equals("cli")) {
            throw new IOException("unexpected answer from the agent: " + header);
        }
        int outBytes = Integer.parseInt(f[2]);
        int errBytes = Integer.parseInt(f[3]);
        if (newline + 1 + outBytes + errBytes != answer.length) {
            throw new IOException("the answer's header says " + (outBytes + errBytes) + " bytes, "
                    + (answer.length - newline - 1) + " followed: " + header);
        }
        return new Result(Integer.parseInt(f[1]),
                new String(answer, newline + 1, outBytes, StandardCharsets.UTF_8),
                new String(answer, newline + 1 + outBytes, errBytes, StandardCharsets.UTF_8));
    }
}
