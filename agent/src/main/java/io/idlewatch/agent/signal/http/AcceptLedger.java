package io.idlewatch.agent.signal.http;

import java.util.Arrays;

/**
 * Netns-wide accept accounting: catches the connections that open and close
 * between two polls.
 *
 * <p>A poll only sees the sockets that exist at that moment. When a client
 * opens a connection, sends its request, reads the answer and closes first,
 * the server's socket goes CLOSE_WAIT → LAST_ACK → gone within milliseconds;
 * only the side that closed first keeps a TIME_WAIT socket (60 s), and for a
 * client outside the container that side is outside our network namespace.
 * The kernel still counts the accept ({@code Tcp: PassiveOpens}). So each
 * sample compares that counter with the accepted connections the dumps have
 * shown so far:
 * <ul>
 *   <li>a socket (not LISTEN, SYN_SENT, SYN_RECV or CLOSE) whose local port
 *       is a listening port is the server side of an accepted connection;</li>
 *   <li>a socket with a loopback peer whose local port is not a listening
 *       port is the client side of a connection accepted in this namespace
 *       (its TIME_WAIT lingers 60 s when an in-container client closed
 *       first, as curl does and as the agent's own opencode probe does);</li>
 *   <li>the two sides of one loopback connection share a key (server port,
 *       client port) and count once; other connections are keyed by socket
 *       cookie. A loopback key also keeps each side's cookie (TIME_WAIT keeps
 *       it): another socket on the same side with the same ports is a new
 *       connection that reused the client port, which loopback allows even
 *       while the old one is in TIME_WAIT ({@code tcp_tw_reuse=2}, the
 *       default). Keys are forgotten two minutes after they were last seen.</li>
 * </ul>
 * Each scan reads the reset counters, then {@code PassiveOpens} ({@code pb}),
 * dumps, and reads {@code PassiveOpens} again ({@code pa}):
 * {@code unexplained = (pb − baseline) − accepts credited − resets}, where
 * resets ({@code TCPAbortOnClose + TCPAbortOnData}) forgive connections
 * that a local socket ended with a reset, leaving no TIME_WAIT anywhere: a
 * loopback client that closes with unread data (bash's /dev/tcp reading one
 * line) or with SO_LINGER 0. They are only forgiven when loopback clients do
 * not count; with loopback counting on there is nothing to forgive.
 *
 * <p>The order makes every term a lower bound of the same moment, so a race
 * can only raise {@code unexplained} for one scan, never lower it: a reset
 * counted before {@code pb} is of a connection accepted before it; and of the
 * accepts first seen in this dump, up to {@code pa − pb} may have come after
 * {@code pb} (the dump takes time, and a busy host can deschedule the agent in
 * the middle of it), so that many are credited at the next scan instead.
 * A rise is only reported once the next scan confirms it (the lower of the
 * last two values goes up): a race's one-scan rise never fires, a real short
 * connection fires one poll later, dated back to the scan that counted it
 * ({@link HttpSignal}). (The first version credited everything at
 * once; two scans in a row that each saw a connection accepted after
 * {@code pb}, which a health check in phase with the poll makes likely, then
 * looked like a connection opened and closed between polls.) Over-explaining
 * (a reset of an outgoing connection, or of a connection a dump also saw)
 * lowers {@code unexplained} for good; the confirmed level follows it down,
 * so such a dip hides at most the short connections of the same or the next
 * interval.
 *
 * <p>Limits: an unexplained accept says neither port nor peer, so a short
 * connection from outside to ANY listening port of the container counts
 * (a Kubernetes or load-balancer health check on another port included),
 * and so does a reset-closed connection that the forgiveness cannot tell
 * from an outside one (a connection reset by the outside client is not
 * forgiven: it is activity). A connection the server itself resets while
 * loopback clients do not count is forgiven even from outside.
 */
final class AcceptLedger {
    static final long FORGET_NANOS = 120_000_000_000L;
    private static final long LOOPBACK_KEY = 1L << 62;

    private static final int SYN_SENT = 2;
    private static final int SYN_RECV = 3;
    private static final int CLOSE = 7;
    private static final int NEW_SYN_RECV = 12;

    /** Which loopback accepts {@link #newLoopbackServerPort} reports. */
    interface LoopbackFilter {
        boolean counts(int serverPort, int clientPort);
    }

    private final boolean forgiveResets;
    private final LoopbackFilter loopbackFilter;

    // this scan: listening ports, and the candidate sockets (ports packed, id)
    private final long[] listening = new long[65536 / 64];
    private int[] listeningPorts = new int[16];
    private int listeningCount;
    private long[] candPorts = new long[64];
    private long[] candIds = new long[64];
    private int candCount;

    // The remembered connections: open addressing, STRIDE longs a slot, key 0 = empty. A slot holds
    // the key, when it was last seen (monotonic nanos), and for a loopback key each side's socket id
    // (0 = that side not seen yet) and the scan that last showed that side.
    private static final int KEY = 0;
    private static final int SEEN = 1;
    private static final int SERVER_ID = 2;
    private static final int CLIENT_ID = 3;
    private static final int SERVER_SCAN = 4;
    private static final int CLIENT_SCAN = 5;
    private static final int STRIDE = 6;
    private long[] table = new long[256 * STRIDE];
    private long[] spare = new long[256 * STRIDE];
    private long scanNo;
    private int size;

    private boolean baselined;
    private long passive0;
    private long resets0;
    private long credited;   // accepts first seen by a dump and known to be counted in pb
    private long deferred;   // first seen by the last dump, maybe accepted after its pb: credited next scan
    private long last;       // unexplained at the last scan
    private long confirmed;  // min(last two unexplained): what two scans agree on

    // first new loopback accept of this scan that the filter picks
    private int newLoopbackServerPort;
    private int newLoopbackClientPort;

    /**
     * @param forgiveResets  subtract local resets (when loopback clients do not count)
     * @param loopbackFilter picks the new loopback accepts worth reporting; null for none
     */
    AcceptLedger(boolean forgiveResets, LoopbackFilter loopbackFilter) {
        this.forgiveResets = forgiveResets;
        this.loopbackFilter = loopbackFilter;
    }

    /** Starts a scan. */
    void begin() {
        for (int i = 0; i < listeningCount; i++) {
            int p = listeningPorts[i];
            listening[p >>> 6] &= ~(1L << p);
        }
        listeningCount = 0;
        candCount = 0;
        newLoopbackServerPort = 0;
        newLoopbackClientPort = 0;
    }

    /** Forgets the baseline: the next {@link #end} starts over (after a source switch). */
    void reset() {
        baselined = false;
    }

    /** One socket of the scan, any state, any port. */
    void socket(int family, int state, int localPort, byte[] remote, int remotePort, long id) {
        if (state == InetDiag.TCP_LISTEN) {
            if (!isListening(localPort)) {
                listening[localPort >>> 6] |= 1L << localPort;
                if (listeningCount == listeningPorts.length) {
                    listeningPorts = Arrays.copyOf(listeningPorts, listeningCount * 2);
                }
                listeningPorts[listeningCount++] = localPort;
            }
            return;
        }
        if (state == SYN_SENT || state == SYN_RECV || state == CLOSE || state == NEW_SYN_RECV) {
            return; // not (yet) an accepted connection: a request socket's child gets another cookie
        }
        if (candCount == candIds.length) {
            candIds = Arrays.copyOf(candIds, candCount * 2);
            candPorts = Arrays.copyOf(candPorts, candCount * 2);
        }
        boolean loopback = HttpSignal.isLoopback(family, remote);
        candPorts[candCount] = ((long) localPort << 17) | ((long) remotePort << 1) | (loopback ? 1 : 0);
        candIds[candCount] = id;
        candCount++;
    }

    boolean isListening(int port) {
        return (listening[port >>> 6] & (1L << port)) != 0;
    }

    /**
     * Ends a scan.
     *
     * @param resets        {@code TCPAbortOnClose + TCPAbortOnData}, read first
     * @param passiveBefore {@code Tcp: PassiveOpens}, read after the resets and before the dump
     * @param passiveAfter  {@code Tcp: PassiveOpens}, read after the dump
     * @return how many accepts newly went unexplained, confirmed by two scans (0 on the first scan)
     */
    long end(long resets, long passiveBefore, long passiveAfter, long now) {
        boolean first = !baselined;
        long fresh = 0;
        scanNo++;
        // which sides of known loopback connections this scan shows, before deciding what is new
        for (int i = 0; i < candCount; i++) {
            long ports = candPorts[i];
            if ((ports & 1) == 0) {
                continue;
            }
            int localPort = (int) (ports >>> 17);
            int remotePort = (int) (ports >>> 1) & 0xFFFF;
            boolean serverSide = isListening(localPort);
            int at = find(loopbackKey(serverSide ? localPort : remotePort, serverSide ? remotePort : localPort));
            if (at >= 0) {
                table[at + (serverSide ? SERVER_SCAN : CLIENT_SCAN)] = scanNo;
            }
        }
        for (int i = 0; i < candCount; i++) {
            long ports = candPorts[i];
            int localPort = (int) (ports >>> 17);
            int remotePort = (int) (ports >>> 1) & 0xFFFF;
            boolean loopback = (ports & 1) != 0;
            long key;
            int server;
            int client;
            boolean serverSide = isListening(localPort);
            if (serverSide) {
                server = localPort;
                client = remotePort;
            } else if (loopback) {
                server = remotePort;
                client = localPort;
            } else {
                continue; // an outgoing connection
            }
            key = loopback ? loopbackKey(server, client) : candIds[i];
            if (touch(key == 0 ? 1 : key, now, loopback, serverSide, candIds[i]) && !first) {
                fresh++;
                if (loopback && newLoopbackServerPort == 0 && loopbackFilter != null
                        && loopbackFilter.counts(server, client)) {
                    newLoopbackServerPort = server;
                    newLoopbackClientPort = client;
                }
            }
        }
        expire(now);
        if (first) {
            // the baseline is the counter after the dump: everything this dump saw is in it
            baselined = true;
            passive0 = passiveAfter;
            resets0 = resets;
            credited = 0;
            deferred = 0;
            last = 0;
            confirmed = 0;
            return 0;
        }
        long late = Math.min(fresh, Math.max(0, passiveAfter - passiveBefore));
        credited += deferred + fresh - late;
        deferred = late;
        long unexplained = passiveBefore - passive0 - credited - (forgiveResets ? resets - resets0 : 0);
        long agreed = Math.min(unexplained, last);
        last = unexplained;
        long rise = agreed - confirmed;
        confirmed = agreed;
        return Math.max(0, rise);
    }

    /** Server port of the first loopback connection (picked by the filter) this scan showed first, or 0. */
    int newLoopbackServerPort() {
        return newLoopbackServerPort;
    }

    /** Client port of that connection. */
    int newLoopbackClientPort() {
        return newLoopbackClientPort;
    }

    /**
     * Records {@code key} as seen now; true when it is a connection not seen before. For a
     * loopback key, {@code id} is this side's socket id: a different one on a side already seen
     * is a new connection on the same ports.
     */
    private boolean touch(long key, long now, boolean loopback, boolean serverSide, long id) {
        if ((size + 1) * 2 > capacity()) {
            rehash(capacity() * 2, Long.MIN_VALUE);
        }
        int at = find(key);
        if (at < 0) {
            at = -at - 1;
            table[at + KEY] = key;
            table[at + SEEN] = now;
            table[at + SERVER_ID] = loopback && serverSide ? id : 0;
            table[at + CLIENT_ID] = loopback && !serverSide ? id : 0;
            table[at + SERVER_SCAN] = loopback && serverSide ? scanNo : 0;
            table[at + CLIENT_SCAN] = loopback && !serverSide ? scanNo : 0;
            size++;
            return true;
        }
        table[at + SEEN] = now;
        if (!loopback || id == 0) {
            return false;
        }
        int mine = at + (serverSide ? SERVER_ID : CLIENT_ID);
        int theirs = at + (serverSide ? CLIENT_ID : SERVER_ID);
        boolean theyShowNow = table[at + (serverSide ? CLIENT_SCAN : SERVER_SCAN)] == scanNo;
        if (table[mine] == id || (table[mine] == 0 && (table[theirs] == 0 || theyShowNow))) {
            table[mine] = id; // this side again, or the first sight of the peer of one shown now
            return false;
        }
        // the port was reused: another socket on this side, or a first sight of this side
        // while the old connection's other side is gone
        table[mine] = id;
        if (!theyShowNow) {
            table[theirs] = 0; // the old connection's other side is gone; one shown now is this one's
        }
        return true;
    }

    private static long loopbackKey(int server, int client) {
        return LOOPBACK_KEY | ((long) server << 16) | client;
    }

    private int capacity() {
        return table.length / STRIDE;
    }

    /** The offset of {@code key}'s slot, or {@code -offset - 1} of the free slot where it would go. */
    private int find(long key) {
        int mask = capacity() - 1;
        int i = slot(key, mask);
        while (table[i * STRIDE + KEY] != 0) {
            if (table[i * STRIDE + KEY] == key) {
                return i * STRIDE;
            }
            i = (i + 1) & mask;
        }
        return -i * STRIDE - 1;
    }

    private void expire(long now) {
        long cutoff = now - FORGET_NANOS;
        for (int at = 0; at < table.length; at += STRIDE) {
            if (table[at + KEY] != 0 && table[at + SEEN] < cutoff) {
                rehash(capacity(), cutoff);
                return;
            }
        }
    }

    /** Rebuilds the table with {@code capacity} slots, dropping keys last seen before {@code cutoff}. */
    private void rehash(int capacity, long cutoff) {
        if (spare.length != capacity * STRIDE) {
            spare = new long[capacity * STRIDE];
        } else {
            Arrays.fill(spare, 0);
        }
        long[] old = table;
        table = spare;
        spare = old;
        size = 0;
        for (int j = 0; j < old.length; j += STRIDE) {
            if (old[j + KEY] != 0 && old[j + SEEN] >= cutoff) {
                System.arraycopy(old, j, table, -find(old[j + KEY]) - 1, STRIDE);
                size++;
            }
        }
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** Accepted connections remembered (for tests). */
    int remembered() {
        return size;
    }
}
