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
 *       cookie. Keys are forgotten two minutes after they were last seen.</li>
 * </ul>
 * {@code unexplained = (PassiveOpens − baseline) − accepts seen − resets},
 * where resets ({@code TCPAbortOnClose + TCPAbortOnData}) forgive connections
 * that a local socket ended with a reset, leaving no TIME_WAIT anywhere: a
 * loopback client that closes with unread data (bash's /dev/tcp reading one
 * line) or with SO_LINGER 0. They are only forgiven when loopback clients do
 * not count; with loopback counting on there is nothing to forgive.
 *
 * <p>It fires when {@code unexplained} rises above the higher of its last two
 * values. The counter is read before the dump and the kernel counts an accept
 * before the socket becomes visible, so a connection can be seen one sample
 * before it is counted: that only dips {@code unexplained} for one sample,
 * which the two-sample mark absorbs. Over-explaining (a reset of an outgoing
 * connection, or of a connection the dump also saw) lowers it for good; the
 * mark follows it down after two samples, so such a dip can hide at most one
 * interval's short connections instead of all later ones.
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

    // key → last seen (monotonic nanos); open addressing, key 0 = empty
    private long[] keys = new long[256];
    private long[] lastSeen = new long[256];
    private long[] spareKeys = new long[256];
    private long[] spareSeen = new long[256];
    private int size;

    private boolean baselined;
    private long passive0;
    private long resets0;
    private long seen;
    private long last;
    private long beforeLast;

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
     * @param passiveOpens {@code Tcp: PassiveOpens}, read before the scan
     * @param resets       {@code TCPAbortOnClose + TCPAbortOnData}, read after the scan
     * @return how many accepts newly went unexplained (0 on the first scan)
     */
    long end(long passiveOpens, long resets, long now) {
        boolean first = !baselined;
        for (int i = 0; i < candCount; i++) {
            long ports = candPorts[i];
            int localPort = (int) (ports >>> 17);
            int remotePort = (int) (ports >>> 1) & 0xFFFF;
            boolean loopback = (ports & 1) != 0;
            long key;
            int server;
            int client;
            if (isListening(localPort)) {
                server = localPort;
                client = remotePort;
            } else if (loopback) {
                server = remotePort;
                client = localPort;
            } else {
                continue; // an outgoing connection
            }
            key = loopback ? LOOPBACK_KEY | ((long) server << 16) | client : candIds[i];
            if (touch(key == 0 ? 1 : key, now) && !first) {
                seen++;
                if (loopback && newLoopbackServerPort == 0 && loopbackFilter != null
                        && loopbackFilter.counts(server, client)) {
                    newLoopbackServerPort = server;
                    newLoopbackClientPort = client;
                }
            }
        }
        expire(now);
        if (first) {
            baselined = true;
            passive0 = passiveOpens;
            resets0 = resets;
            seen = 0;
            last = 0;
            beforeLast = 1; // a connection seen now but counted next time must not fire
            return 0;
        }
        long unexplained = passiveOpens - passive0 - seen - (forgiveResets ? resets - resets0 : 0);
        long mark = Math.max(last, beforeLast);
        beforeLast = last;
        last = unexplained;
        return Math.max(0, unexplained - mark);
    }

    /** Server port of the first loopback connection (picked by the filter) this scan showed first, or 0. */
    int newLoopbackServerPort() {
        return newLoopbackServerPort;
    }

    /** Client port of that connection. */
    int newLoopbackClientPort() {
        return newLoopbackClientPort;
    }

    /** Records {@code key} as seen now; true when it is new. */
    private boolean touch(long key, long now) {
        if ((size + 1) * 2 > keys.length) {
            rehash(keys.length * 2, Long.MIN_VALUE);
        }
        int mask = keys.length - 1;
        int i = slot(key, mask);
        while (keys[i] != 0) {
            if (keys[i] == key) {
                lastSeen[i] = now;
                return false;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        lastSeen[i] = now;
        size++;
        return true;
    }

    private void expire(long now) {
        long cutoff = now - FORGET_NANOS;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != 0 && lastSeen[i] < cutoff) {
                rehash(keys.length, cutoff);
                return;
            }
        }
    }

    /** Rebuilds the table with {@code capacity} slots, dropping keys last seen before {@code cutoff}. */
    private void rehash(int capacity, long cutoff) {
        if (spareKeys.length != capacity) {
            spareKeys = new long[capacity];
            spareSeen = new long[capacity];
        } else {
            Arrays.fill(spareKeys, 0);
        }
        int mask = capacity - 1;
        int n = 0;
        for (int j = 0; j < keys.length; j++) {
            long k = keys[j];
            if (k == 0 || lastSeen[j] < cutoff) {
                continue;
            }
            int i = slot(k, mask);
            while (spareKeys[i] != 0) {
                i = (i + 1) & mask;
            }
            spareKeys[i] = k;
            spareSeen[i] = lastSeen[j];
            n++;
        }
        long[] t = keys;
        keys = spareKeys;
        spareKeys = t;
        t = lastSeen;
        lastSeen = spareSeen;
        spareSeen = t;
        size = n;
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
