package io.idlewatch.agent.control;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request framing, every way its reads can fall, without sockets or threads. */
class RequestFramerTest {
    private static final int MAX = ControlProtocol.MAX_LINE;

    private static byte[] xs(int n, boolean newline) {
        byte[] b = new byte[n + (newline ? 1 : 0)];
        Arrays.fill(b, (byte) 'x');
        if (newline) {
            b[n] = '\n';
        }
        return b;
    }

    /** Feeds {@code data} in reads of {@code chunk} bytes; the last result. */
    private static RequestFramer.Result feed(RequestFramer f, byte[] data, int chunk) {
        RequestFramer.Result r = RequestFramer.Result.MORE;
        for (int at = 0; at < data.length; at += chunk) {
            r = f.feed(data, at, Math.min(chunk, data.length - at));
            if (r != RequestFramer.Result.MORE) {
                return r;
            }
        }
        return r;
    }

    /** Attack: one byte over the limit, newline right after, split at every point: always refused, never thrown. */
    @Test
    void attackOneByteOverTheLimitIsRefusedWhereverTheReadsSplit() {
        byte[] line = xs(MAX + 1, true);
        for (int split = 0; split <= line.length; split += (split < 200 || split > line.length - 9000) ? 1 : 997) {
            RequestFramer f = new RequestFramer(MAX);
            RequestFramer.Result r = f.feed(line, 0, split);
            if (r == RequestFramer.Result.MORE) {
                r = f.feed(line, split, line.length - split);
            }
            assertEquals(RequestFramer.Result.TOO_LONG, r, "split at " + split);
            assertNull(f.finish(), "nothing left to answer at EOF");
        }
    }

    /** Attack: 2 MB in reads of every size the kernel might hand out: refused, and the buffer never passes the limit. */
    @Test
    void attackTwoMegabytesInManyReads() {
        byte[] data = xs(2 * 1024 * 1024, true);
        for (int chunk : new int[] {1, 7, 4096, 8192, 65535, 65536, 65537, data.length}) {
            RequestFramer f = new RequestFramer(MAX);
            assertEquals(RequestFramer.Result.TOO_LONG, feed(f, data, chunk), "chunk " + chunk);
            assertTrue(f.buffered() <= MAX);
        }
    }

    @Test
    void exactlyTheLimitIsALineWhereverTheReadsSplit() {
        byte[] line = xs(MAX, true);
        for (int chunk : new int[] {1, 3, 8192, MAX, MAX + 1}) {
            RequestFramer f = new RequestFramer(MAX);
            assertEquals(RequestFramer.Result.LINE, feed(f, line, chunk), "chunk " + chunk);
            assertEquals(MAX, f.line().length());
        }
    }

    @Test
    void bytesAfterTheNewlineAreIgnored() {
        RequestFramer f = new RequestFramer(MAX);
        byte[] b = "idlewatch/1 status\nmore\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(RequestFramer.Result.LINE, f.feed(b, 0, b.length));
        assertEquals("idlewatch/1 status", f.line());
        assertEquals(RequestFramer.Result.LINE, f.feed(b, 0, b.length));
        assertNull(f.finish());
    }

    @Test
    void eofEndsALineWithoutNewline() {
        RequestFramer f = new RequestFramer(MAX);
        byte[] b = "idlewatch/1 touch".getBytes(StandardCharsets.US_ASCII);
        assertEquals(RequestFramer.Result.MORE, f.feed(b, 0, 5));
        assertEquals(RequestFramer.Result.MORE, f.feed(b, 5, b.length - 5));
        assertEquals("idlewatch/1 touch", f.finish());
        assertNull(new RequestFramer(MAX).finish(), "nothing said");
    }

    /** A connection that says nothing costs no buffer. */
    @Test
    void silentConnectionHoldsNoBuffer() {
        RequestFramer f = new RequestFramer(MAX);
        assertEquals(0, f.buffered());
        assertEquals(RequestFramer.Result.MORE, f.feed(new byte[0], 0, 0));
        assertEquals(0, f.buffered());
    }
}
