package io.idlewatch.sweeper.docker;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads at most {@code limit} bytes from a stream the other side controls; asking for more throws
 * {@link LimitReached} instead of reading on. Closing does not close the underlying stream (whose
 * owner decides whether to drain or abort it).
 */
final class BoundedInputStream extends FilterInputStream {

    /** The stream had more than the limit to give. */
    static final class LimitReached extends IOException {
        LimitReached(long limit) {
            super("more than " + limit + " bytes");
        }
    }

    private final long limit;
    private long read;

    BoundedInputStream(InputStream in, long limit) {
        super(in);
        this.limit = limit;
    }

    @Override
    public int read() throws IOException {
        if (read >= limit) {
            return probeBeyondLimit();
        }
        int b = super.read();
        if (b >= 0) {
            read++;
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (read >= limit) {
            return probeBeyondLimit();
        }
        int n = super.read(buffer, offset, (int) Math.min(length, limit - read));
        if (n > 0) {
            read += n;
        }
        return n;
    }

    /** At the limit: a clean end of stream is fine, one more byte is too many. */
    private int probeBeyondLimit() throws IOException {
        if (super.read() < 0) {
            return -1;
        }
        throw new LimitReached(limit);
    }

    @Override
    public long skip(long n) throws IOException {
        // Through read, so skipped bytes count too (tar skips padding and unwanted entries).
        byte[] scratch = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public void close() {
        // The owner of the underlying stream closes (or aborts) it.
    }
}
