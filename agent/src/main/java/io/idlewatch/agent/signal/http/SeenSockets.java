package io.idlewatch.agent.signal.http;

/**
 * The sockets of the last scan, by id (socket cookie), each with its
 * client→server byte count: whether a socket is new, and how many bytes its
 * client sent since. A socket keeps its cookie from its first SYN to the end
 * of its TIME_WAIT, so "not in the last scan" means a new connection.
 *
 * <p>One open-addressing table of (id, bytes and the parity of the scan that
 * last showed it): one lookup per socket, no per-socket allocation, and at
 * each {@link #begin} one pass that drops the sockets the scan just ended did
 * not show. So a scan costs time linear in the sockets, and memory is 16 bytes
 * a slot at a load of at most 3/4: 256 KiB for 10,000 connections. A table
 * that once held many shrinks back once they are gone.
 *
 * <p>Bounded by {@link #MAX_SOCKETS}: a workload can open as many sockets as its
 * descriptor limits allow, and the agent's heap is 24 MB. A socket beyond the
 * bound is not remembered (it reads as new every scan) and the scan is marked
 * {@link #overflowed}, which the http signal counts as activity.
 */
final class SeenSockets {
    /** Returned by {@link #see} for a socket the last scan did not show. */
    static final long NEW = Long.MIN_VALUE;
    /** Id 0 marks a free slot; a real cookie 0 (never handed out by the kernel) is stored as this. */
    private static final long ZERO_ID = 0x5EED_0000_0000_0001L;
    private static final int MIN_CAPACITY = 64;
    /**
     * The most sockets remembered: 131,072 slots of 16 bytes, 2 MiB (3 MiB for the moment a
     * table grows into the next). Far above a workspace's own (a 100,000-connection loopback
     * burst leaves under 30,000 sockets, the kernel reusing TIME_WAIT ports), far below the heap.
     */
    static final int MAX_SOCKETS = 65_536;

    // pairs (key, value); value = (bytes + 1) << 1 | parity of the scan that last showed it
    // (bytes is -1 when the source has no byte count)
    private long[] table = new long[2 * MIN_CAPACITY];
    private int count;
    private long parity;
    private boolean scanned; // a scan has begun since the last clear
    private boolean overflowed; // this scan showed a socket beyond MAX_SOCKETS

    /** Starts a scan: forgets the sockets the last scan did not show. */
    void begin() {
        if (scanned) {
            dropStale();
        }
        scanned = true;
        overflowed = false;
        parity ^= 1;
        int capacity = capacityFor(count);
        if (capacity * 4 <= table.length / 2) { // a quarter of the slots would do: give memory back
            table = rehash(table, capacity);
        }
    }

    /** Forgets every socket (after a source switch): every socket of the next scan is new. */
    void clear() {
        table = new long[2 * MIN_CAPACITY];
        count = 0;
        scanned = false;
    }

    /**
     * Records a socket of this scan.
     *
     * @return its byte count in the last scan, or {@link #NEW} when the last scan did not show it
     */
    long see(long id, long bytes) {
        long key = id == 0 ? ZERO_ID : id;
        long value = ((bytes + 1) << 1) | parity;
        int at = find(table, key);
        if (at >= 0) {
            long before = table[at + 1];
            table[at + 1] = value;
            return (before >> 1) - 1; // shown by the last scan (or twice by this one: the same socket)
        }
        if (count >= MAX_SOCKETS) {
            overflowed = true; // not remembered: the signal counts the scan as activity
            return NEW;
        }
        if ((count + 1) * 4 > (table.length / 2) * 3) { // load factor 3/4
            table = rehash(table, table.length);
            at = find(table, key);
        }
        at = -at - 1;
        table[at] = key;
        table[at + 1] = value;
        count++;
        return NEW;
    }

    /** Whether this scan showed more sockets than {@link #MAX_SOCKETS}. */
    boolean overflowed() {
        return overflowed;
    }

    /** Sockets remembered: those of the last scan and those this scan showed first. */
    int size() {
        return count;
    }

    /** Bytes the table holds now. */
    long tableBytes() {
        return table.length * 8L;
    }

    /** Slots in the table (for tests: that it shrinks back). */
    int capacity() {
        return table.length / 2;
    }

    /**
     * Removes every pair the scan just ended did not show, shifting back the
     * pairs after each so that no lookup needs a tombstone. The pass starts
     * after a free slot, so no run of slots wraps past where it began.
     */
    private void dropStale() {
        int slots = table.length / 2;
        int mask = slots - 1;
        int start = 0;
        while (table[2 * start] != 0) {
            start++; // the load factor leaves a free slot
        }
        for (int k = 1; k <= slots; k++) {
            int i = (start + k) & mask;
            while (table[2 * i] != 0 && (table[2 * i + 1] & 1) != parity) {
                remove(i, mask);
            }
        }
    }

    /** Empties slot {@code i}, moving back the later pairs of its run that may live there. */
    private void remove(int i, int mask) {
        count--;
        int hole = i;
        for (int j = (i + 1) & mask; table[2 * j] != 0; j = (j + 1) & mask) {
            int home = home(table[2 * j], mask);
            boolean stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (!stays) {
                table[2 * hole] = table[2 * j];
                table[2 * hole + 1] = table[2 * j + 1];
                hole = j;
            }
        }
        table[2 * hole] = 0;
        table[2 * hole + 1] = 0;
    }

    private static int capacityFor(int sockets) {
        int capacity = MIN_CAPACITY;
        while (capacity * 3 < sockets * 4 + 4) {
            capacity *= 2;
        }
        return capacity;
    }

    private static int home(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** The offset of {@code key}'s pair, or {@code -offset - 1} of the free pair where it would go. */
    private static int find(long[] table, long key) {
        int mask = table.length / 2 - 1;
        int i = home(key, mask);
        while (table[2 * i] != 0) {
            if (table[2 * i] == key) {
                return 2 * i;
            }
            i = (i + 1) & mask;
        }
        return -2 * i - 1;
    }

    /** The pairs of {@code old} in a new table of {@code slots} slots. */
    private static long[] rehash(long[] old, int slots) {
        long[] table = new long[2 * slots];
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
