package io.idlewatch.agent.signal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Small-file reading for /proc and cgroup files into a caller-owned buffer,
 * so a poll does not allocate a fresh array per file. Numbers are parsed
 * straight from the bytes.
 */
public final class ProcFiles {
    private ProcFiles() {
    }

    /**
     * Reads up to {@code buf.length} bytes of the file.
     *
     * @return the number of bytes read
     */
    public static int read(Path file, byte[] buf) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer bb = ByteBuffer.wrap(buf);
            while (bb.hasRemaining()) {
                if (ch.read(bb) < 0) {
                    break;
                }
            }
            return bb.position();
        }
    }

    /** Parses an unsigned decimal starting at {@code from}; stops at the first non-digit. -1 when none. */
    public static long parseLong(byte[] b, int from, int to) {
        long v = 0;
        boolean any = false;
        for (int i = from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            v = v * 10 + d;
            any = true;
        }
        return any ? v : -1;
    }

    /** Index of the first byte of the n-th (0-based) space-separated field at or after {@code from}, or -1. */
    public static int field(byte[] b, int from, int to, int n) {
        int i = from;
        while (i < to && b[i] == ' ') {
            i++;
        }
        for (int f = 0; f < n; f++) {
            while (i < to && b[i] != ' ' && b[i] != '\n') {
                i++;
            }
            while (i < to && b[i] == ' ') {
                i++;
            }
        }
        return i < to ? i : -1;
    }

    /** Index of the last ')' in a /proc/&lt;pid&gt;/stat line (the command may contain spaces and parens). */
    public static int afterComm(byte[] b, int len) {
        for (int i = len - 1; i >= 0; i--) {
            if (b[i] == ')') {
                return i + 1;
            }
        }
        return -1;
    }

    /** Fixed-point seconds like "5034.27" as milliseconds; -1 when not a number. */
    public static long parseSecondsAsMillis(byte[] b, int from, int to) {
        long whole = 0;
        long frac = 0;
        int fracDigits = 0;
        boolean any = false;
        boolean dot = false;
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c == '.' && !dot) {
                dot = true;
            } else if (c >= '0' && c <= '9') {
                any = true;
                if (!dot) {
                    whole = whole * 10 + (c - '0');
                } else if (fracDigits < 3) {
                    frac = frac * 10 + (c - '0');
                    fracDigits++;
                }
            } else {
                break;
            }
        }
        if (!any) {
            return -1;
        }
        while (fracDigits++ < 3) {
            frac *= 10;
        }
        return whole * 1000 + frac;
    }
}
