package io.idlewatch.agent.signal.http;

import java.util.Arrays;

/**
 * The sockets of the last scan and of the current one, by id (socket cookie),
 * each with its client→server byte count: whether a socket is new, and how many
 * bytes its client sent since. Two open-addressing tables (id, bytes) swapped at
 * each scan, so one lookup per socket and no per-socket allocation: a scan costs
 * time linear in the sockets. A socket keeps its cookie from its first SYN to
 * the end of its TIME_WAIT, so "not in the last scan" means a new connection.
 */
final class SeenSockets {
    /** Returned by {@link #see} for a socket the last scan did not show. */
    static final long NEW = Long.MIN_VALUE;
    /** Id 0 marks a free slot; a real cookie 0 (never handed out by the kernel) is stored as this. */
    private static final long ZERO_ID = 0x5EED_0000_0000_0001L;
    private static final int MIN_CAPACITY = 64;

    private long[] last = new long[2 * MIN_CAPACITY];
    private int lastCount;
    private long[] current = new long[2 * MIN_CAPACITY];
    private int currentCount;

    /** Starts a scan: what was current becomes the last scan. */
    void begin() {
        long[] t = last;
        last = current;
        lastCount = currentCount;
        current = t;
        currentCount = 0;
        // sized for the last scan's sockets: a table that once held 10,000 shrinks back after they close
        int capacity = capacityFor(lastCount);
        if (current.length != 2 * capacity) {
            current = new long[2 * capacity];
        } else {
            Arrays.fill(current, 0);
        }
    }

    /** Forgets both scans (after a source switch): every socket of the next scan is new. */
    void clear() {
        Arrays.fill(last, 0);
        lastCount = 0;
        Arrays.fill(current, 0);
        currentCount = 0;
    }

    /**
     * Records a socket of this scan.
     *
     * @return its byte count in the last scan, or {@link #NEW} when the last scan did not show it
     */
    long see(long id, long bytes) {
        long key = id == 0 ? ZERO_ID : id;
        if ((currentCount + 1) * 4 > (current.length / 2) * 3) { // load factor 3/4
            current = rehash(current, current.length);
        }
        int at = find(current, key);
        if (at < 0) {
            at = -at - 1;
            current[at] = key;
            currentCount++;
        }
        current[at + 1] = bytes;
        int before = find(last, key);
        return before < 0 ? NEW : last[before + 1];
    }

    /** Sockets in the current scan. */
    int size() {
        return currentCount;
    }

    private static int capacityFor(int sockets) {
        int capacity = MIN_CAPACITY;
        while (capacity * 3 < sockets * 4 + 4) {
            capacity *= 2;
        }
        return capacity;
    }

    /** The offset of {@code key}'s pair, or {@code -offset - 1} of the free pair where it would go. */
    private static int find(long[] table, long key) {
        int mask = table.length / 2 - 1;
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (table[2 * i] != 0) {
            if (table[2 * i] == key) {
                return 2 * i;
            }
            i = (i + 1) & mask;
        }
        return -2 * i - 1;
    }

    private static long[] rehash(long[] old, int oldLength) {
        long[] table = new long[oldLength * 2];
        for (int j = 0; j < old.length; j += 2) {
            if (old[j] != 0) {
                int at = -find(table, old[j]) - 1;
                table[at] = old[j];
                table[at + 1] = old[j + 1];
            }
        }
        return table;
    }
}
