package io.idlewatch.agent.control;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Cuts one request line out of the bytes a connection delivers, in however many
 * reads they come: the limit holds for the line as a whole, whichever read brings
 * the newline. No I/O and no threads, so every way of splitting a request can be
 * tested (and fuzzed) directly.
 *
 * <p>The buffer grows with what arrives, never past the limit: a connection that
 * says nothing costs no buffer at all.
 */
final class RequestFramer {
    /** What {@link #feed} found. */
    enum Result {
        /** No newline yet, and still within the limit. */
        MORE,
        /** The line is complete: {@link #line()}. */
        LINE,
        /** More than the limit arrived before a newline: refuse and close. */
        TOO_LONG
    }

    private static final byte[] EMPTY = new byte[0];

    private final int maxLine;
    private byte[] buffer = EMPTY;
    private int length;
    private Result result = Result.MORE;
    private String line;

    /** @param maxLine the longest line accepted, newline not counted */
    RequestFramer(int maxLine) {
        if (maxLine < 0) {
            throw new IllegalArgumentException("negative limit " + maxLine);
        }
        this.maxLine = maxLine;
    }

    /**
     * Takes the next bytes. Once the answer is {@link Result#LINE} or {@link Result#TOO_LONG}
     * it stays so, and later bytes are ignored (nothing may follow a request).
     */
    Result feed(byte[] data, int offset, int count) {
        if (result != Result.MORE) {
            return result;
        }
        int newline = -1;
        for (int i = offset; i < offset + count; i++) {
            if (data[i] == '\n') {
                newline = i;
                break;
            }
        }
        int take = newline < 0 ? count : newline - offset;
        if (take > maxLine - length) { // checked before any copy, whichever read brings the newline
            buffer = EMPTY;
            return result = Result.TOO_LONG;
        }
        if (length + take > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.min(maxLine, Math.max(256, Math.max(buffer.length * 2, length + take))));
        }
        System.arraycopy(data, offset, buffer, length, take);
        length += take;
        if (newline < 0) {
            return Result.MORE;
        }
        line = new String(buffer, 0, length, StandardCharsets.UTF_8);
        buffer = EMPTY;
        return result = Result.LINE;
    }

    /** The complete line, without its newline; null until {@link #feed} said {@link Result#LINE}. */
    String line() {
        return line;
    }

    /**
     * The peer closed its end: a request without its final newline is still a request.
     *
     * @return the line so far; null when nothing came, or {@link #feed} already ended the line
     */
    String finish() {
        if (result != Result.MORE || length == 0) {
            return null;
        }
        line = new String(buffer, 0, length, StandardCharsets.UTF_8);
        buffer = EMPTY;
        result = Result.LINE;
        return line;
    }

    /** Bytes held for the line so far (for tests: a silent connection holds none). */
    int buffered() {
        return buffer.length;
    }
}
