package io.idlewatch.agent.signal.http;

import java.util.Arrays;

/**
 * Catches connections from outside to a watched port that open and close
 * between two polls, by accounting for the network namespace's accepts.
 *
 * <p>A poll only sees the sockets that exist at that moment. When the server
 * closes first, its TIME_WAIT socket stays 60 s with its port, and the http
 * signal sees it like any other socket. When the client closes first (curl
 * after its answer, a browser tab, a load balancer's probe) or resets, the
 * server's socket is gone within milliseconds and the TIME_WAIT, if any, is
 * the client's, outside the container. The kernel still counts the accept
 * ({@code Tcp: PassiveOpens}), but that count names no port. So:
 * <ul>
 *   <li>every accept that a dump explains is credited: a server-side socket
 *       (its local port listens) first seen in this scan, or a loopback
 *       connection first seen (either side; both sides share a key (server
 *       port, client port) and count once; a key keeps each side's cookie, so
 *       a client port the kernel reuses is a new connection; keys are
 *       forgotten two minutes after they were last seen);</li>
 *   <li>the agent's own probe connections are subtracted by their count
 *       ({@link OwnClientPorts}), not by their sockets, which a server that
 *       keeps writing can make vanish (it resets the probe's TIME_WAIT);</li>
 *   <li>local resets ({@code TCPAbortOnClose + TCPAbortOnData}: a socket here
 *       closed with unread data or SO_LINGER 0, leaving no TIME_WAIT anywhere)
 *       are forgiven as long as in-container clients account for them: such a
 *       client (bash's /dev/tcp probe) also made an active open here
 *       ({@code Tcp: ActiveOpens}) that neither the agent's probe nor a loopback
 *       connection seen in a dump explains. A server here that resets a client
 *       from outside (it answered before reading the request) has no active
 *       open to go with it, so that connection still counts;</li>
 *   <li>what is left ({@code unexplained}) is connections from outside that
 *       left nothing here. It names no port, so it is only counted when every
 *       listener reachable from outside (bound to an address other than
 *       loopback) serves a watched port: then each such connection was to a
 *       watched port. When another port listens for outside clients too
 *       ({@link #strangerPort}), the unexplained accepts cannot be placed and
 *       are not counted: a short connection to a port that is not watched
 *       never counts. That is the one case left undecided: a short connection
 *       from outside to a watched port that its client closes or resets
 *       before the next poll, while another port listens for outside clients,
 *       goes uncounted (a connection held across a poll, any client bytes, or
 *       a server that closes first are still counted).</li>
 * </ul>
 * Each scan reads the own-connect count, the reset counters, then
 * {@code PassiveOpens} ({@code pb}), dumps, and reads {@code PassiveOpens}
 * again ({@code pa}): {@code unexplained = (pb − baseline) − credited − own − forgiven resets}.
 * The order makes each subtracted term count only accepts already in {@code pb},
 * so a race raises {@code unexplained} for one scan; of the accepts first seen in
 * this dump, up to {@code pa − pb} may have come after {@code pb} and are credited
 * at the next scan instead. A change is only reported once it holds for two scans
 * (the median of the last three values): a one-scan rise (a race) or dip (an own
 * probe counted a moment before the kernel counted its accept) never fires, and a
 * real short connection fires one poll later, dated back to the scan that counted
 * it ({@link HttpSignal}). Over-explaining for good (a reset of an outgoing
 * connection, or of a connection a dump also saw) lowers the level; the confirmed
 * level follows it down, so such a dip hides at most the short connections of the
 * same or the next interval.
 *
 * <p>Bounded: at most {@link #MAX_LOOPBACK} loopback connections remembered
 * (1 MiB) and {@link #MAX_CANDIDATES} candidate sockets a scan (1 MiB), whatever
 * the workload does. Before the table grows, connections no recent scan showed
 * make room; a new loopback connection that still finds no room is not
 * accounted, and the scan is marked {@link #overflowed}: the http signal counts
 * it as activity and starts the accounting over. The table shrinks back as its
 * connections are forgotten.
 */
final class AcceptLedger {
    static final long FORGET_NANOS = 120_000_000_000L;
    /**
     * How many scans a listener for outside clients on another port keeps the
     * unexplained accepts uncounted after it was last seen: a rise is reported two
     * scans after the interval it happened in, so a listener seen in any of those
     * scans may have taken it.
     */
    static final int STRANGER_SCANS = 3;
    /**
     * The most loopback connections remembered: 16,384 slots of 64 bytes, 1 MiB. Before the
     * table grows or when it is full, it forgets the connections none of the last three scans
     * showed, so this bounds the loopback connections alive at once, not those of the
     * two minutes a connection is otherwise remembered.
     */
    static final int MAX_LOOPBACK = 8_192;
    /** The most candidate sockets (new, or loopback) one scan keeps: 16 bytes each, 1 MiB. */
    static final int MAX_CANDIDATES = 65_536;
    private static final int MIN_SLOTS = 64;
    private static final long IS_NEW = 1L << 33;

    private static final int SYN_SENT = 2;
    private static final int SYN_RECV = 3;
    private static final int CLOSE = 7;
    private static final int NEW_SYN_RECV = 12;

    private final int[] watched;
    private final OwnClientPorts own;

    // this scan: listening ports, and the candidate sockets (ports packed, id)
    private final long[] listening = new long[65536 / 64];
    private int[] listeningPorts = new int[16];
    private int listeningCount;
    private long[] candPorts = new long[64];
    private long[] candIds = new long[64];
    private int candCount;
    private int outsideNew; // new connections from outside to a port already known to listen
    private int strangerPort;
    private long strangerScan = Long.MIN_VALUE / 2;

    // Loopback connections: open addressing, STRIDE longs a slot, key 0 = empty. A slot holds the key
    // (server port, client port), when it was last seen (monotonic nanos), each side's socket id
    // (0 = that side not seen yet) and the scan that last showed that side.
    private static final int KEY = 0;
    private static final int SEEN = 1;
    private static final int SERVER_ID = 2;
    private static final int CLIENT_ID = 3;
    private static final int SERVER_SCAN = 4;
    private static final int CLIENT_SCAN = 5;
    private static final int CREDIT_SCAN = 6; // the scan that credited it as a client's accept; 0 = not credited
    private static final int OWN = 7;         // 1: the agent's own probe connection, never credited
    private static final int STRIDE = 8;
    private long[] table = new long[64 * STRIDE];
    private long scanNo;
    private int size;
    /** The scan that last made room by forgetting connections no recent scan showed. */
    private long evictedScan;
    /** This scan showed a new connection the bounds left no room for. */
    private boolean overflowed;

    private boolean baselined;
    private long passive0;
    private long resets0;
    private long active0;
    private long inside;     // loopback connections first seen by a dump (each an active open here too)
    private long own0;
    private long ownSeen;    // own connects looked at so far
    private long credited;   // accepts first seen by a dump and known to be counted in pb
    private long deferred;   // first seen by the last dump, maybe accepted after its pb: credited next scan
    private long older;      // unexplained two scans ago
    private long last;       // unexplained at the last scan
    private long confirmed;  // median of the last three: what two scans agree on

    // first new loopback connection of this scan to a watched port
    private int newLoopbackServerPort;

    /** @param watched the http signal's ports; {@code own} the agent's own probe connections */
    AcceptLedger(int[] watched, OwnClientPorts own) {
        this.watched = watched.clone();
        this.own = own;
    }

    /** Starts a scan. */
    void begin() {
        for (int i = 0; i < listeningCount; i++) {
            int p = listeningPorts[i];
            listening[p >>> 6] &= ~(1L << p);
        }
        listeningCount = 0;
        if (candIds.length > 64 && candIds.length > 4 * candCount) {
            candIds = new long[64]; // a burst of new sockets is over: give the memory back
            candPorts = new long[64];
        }
        candCount = 0;
        overflowed = false;
        outsideNew = 0;
        newLoopbackServerPort = 0;
    }

    /** Forgets the baseline: the next {@link #end} starts over (after a source switch). */
    void reset() {
        baselined = false;
    }

    /** A LISTEN socket of the scan, with the address it is bound to. */
    void listener(int family, int port, byte[] bound) {
        if (!isListening(port)) {
            listening[port >>> 6] |= 1L << port;
            if (listeningCount == listeningPorts.length) {
                listeningPorts = Arrays.copyOf(listeningPorts, listeningCount * 2);
            }
            listeningPorts[listeningCount++] = port;
        }
        if (!HttpSignal.isLoopback(family, bound) && !isWatched(port)) {
            strangerPort = port;
            strangerScan = scanNo + 1; // the scan under way
        }
    }

    /** One other socket of the scan, any port; {@code isNew} when the last scan did not show it. */
    void socket(int family, int state, int localPort, byte[] remote, int remotePort, long id, boolean isNew) {
        if (state == SYN_SENT || state == SYN_RECV || state == CLOSE || state == NEW_SYN_RECV) {
            return; // not (yet) an accepted connection: a request socket's child gets another cookie
        }
        boolean loopback = HttpSignal.isLoopback(family, remote);
        if (!loopback && !isNew) {
            return; // a known connection (or an outgoing one): nothing to credit
        }
        if (!loopback && isListening(localPort)) {
            // a new connection from outside: counted, not kept (a dump lists a family's listeners
            // first, so this is nearly every one; the rest wait for the end of the scan)
            outsideNew++;
            return;
        }
        if (candCount == MAX_CANDIDATES) {
            overflowed |= isNew; // a new socket that cannot be accounted
            return;
        }
        if (candCount == candIds.length) {
            candIds = Arrays.copyOf(candIds, candCount * 2);
            candPorts = Arrays.copyOf(candPorts, candCount * 2);
        }
        candPorts[candCount] = ((long) localPort << 17) | ((long) remotePort << 1) | (loopback ? 1 : 0)
                | (isNew ? IS_NEW : 0);
        candIds[candCount] = id;
        candCount++;
    }

    boolean isListening(int port) {
        return (listening[port >>> 6] & (1L << port)) != 0;
    }

    /**
     * An unwatched port with a listener reachable from outside, seen in this scan or
     * the last {@value #STRANGER_SCANS} − 1; 0 when there is none. While there is one,
     * the unexplained accepts are not counted.
     */
    int strangerPort() {
        return scanNo - strangerScan < STRANGER_SCANS ? strangerPort : 0;
    }

    /**
     * Ends a scan.
     *
     * @param ownConnects   {@link OwnClientPorts#connects()}, read first
     * @param resets        {@code TCPAbortOnClose + TCPAbortOnData}, read next
     * @param activeOpens   {@code Tcp: ActiveOpens}, read with them
     * @param passiveBefore {@code Tcp: PassiveOpens}, read after those and before the dump
     * @param passiveAfter  {@code Tcp: PassiveOpens}, read after the dump
     * @return how many accepts newly went unexplained, confirmed by two scans (0 on the first scan)
     */
    long end(long ownConnects, long resets, long activeOpens, long passiveBefore, long passiveAfter, long now) {
        boolean first = !baselined;
        long fresh = first ? 0 : outsideNew;
        scanNo++;
        // which sides of known loopback connections this scan shows, before deciding what is new
        for (int i = 0; i < candCount; i++) {
            long ports = candPorts[i];
            if ((ports & 1) == 0) {
                continue;
            }
            int localPort = (int) (ports >>> 17) & 0xFFFF;
            int remotePort = (int) (ports >>> 1) & 0xFFFF;
            boolean serverSide = isListening(localPort);
            int at = find(loopbackKey(serverSide ? localPort : remotePort, serverSide ? remotePort : localPort));
            if (at >= 0) {
                table[at + (serverSide ? SERVER_SCAN : CLIENT_SCAN)] = scanNo;
            }
        }
        for (int i = 0; i < candCount; i++) {
            long ports = candPorts[i];
            int localPort = (int) (ports >>> 17) & 0xFFFF;
            int remotePort = (int) (ports >>> 1) & 0xFFFF;
            boolean serverSide = isListening(localPort);
            if ((ports & 1) == 0) {
                if (serverSide && !first) {
                    fresh++; // a new accepted connection from outside
                }
                continue; // else an outgoing connection
            }
            int server = serverSide ? localPort : remotePort;
            int client = serverSide ? remotePort : localPort;
            if (touch(loopbackKey(server, client), now, serverSide, candIds[i], own.contains(client),
                    (ports & IS_NEW) != 0) && !first) {
                fresh++;
                inside++;
                if (newLoopbackServerPort == 0 && isWatched(server)) {
                    newLoopbackServerPort = server;
                }
            }
        }
        credited -= uncreditOwn(ownConnects);
        expire(now);
        if (first) {
            // the baseline is the counter after the dump: everything this dump saw is in it
            baselined = true;
            passive0 = passiveAfter;
            resets0 = resets;
            active0 = activeOpens;
            inside = 0;
            own0 = ownConnects;
            ownSeen = ownConnects;
            credited = 0;
            deferred = 0;
            older = 0;
            last = 0;
            confirmed = 0;
            return 0;
        }
        long late = Math.min(fresh, Math.max(0, passiveAfter - passiveBefore));
        credited += deferred + fresh - late;
        deferred = late;
        // A reset is forgiven only while in-container clients account for it: such a connection was
        // also an active open here, one that neither the agent's probe nor a loopback connection a dump
        // showed explains. A short connection from outside that its server resets (an answer sent
        // before the request was read) opens nothing actively here, so it still counts.
        long insideUnexplained = Math.max(0, (activeOpens - active0) - (ownConnects - own0) - inside);
        long forgiven = Math.min(resets - resets0, insideUnexplained);
        long unexplained = passiveBefore - passive0 - credited - (ownConnects - own0) - forgiven;
        long agreed = Math.max(Math.min(older, last), Math.min(Math.max(older, last), unexplained));
        older = last;
        last = unexplained;
        long rise = agreed - confirmed;
        confirmed = agreed;
        return Math.max(0, rise);
    }

    /**
     * Whether this scan showed a new connection the bounds ({@link #MAX_LOOPBACK},
     * {@link #MAX_CANDIDATES}) left no room for: the accounting cannot be trusted and
     * the caller counts the scan as activity and calls {@link #reset}.
     */
    boolean overflowed() {
        return overflowed;
    }

    /** Server port of the first loopback connection to a watched port this scan showed first, or 0. */
    int newLoopbackServerPort() {
        return newLoopbackServerPort;
    }

    private boolean isWatched(int port) {
        for (int p : watched) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }

    /**
     * Records {@code key} as seen now; true when it is a connection not seen before. {@code id}
     * is this side's socket id: a different one on a side already seen is a new connection on
     * the same ports.
     */
    private boolean touch(long key, long now, boolean serverSide, long id, boolean isOwn, boolean isNew) {
        int at = find(key);
        if (at < 0) {
            if ((size + 1) * 2 > capacity() && evictedScan != scanNo) {
                // full, or about to grow: first forget the connections none of the last three scans
                // showed (uncreditOwn looks that far back); once a scan, so a burst costs one
                // rebuild a scan, not one a socket
                evictedScan = scanNo;
                rehash(MIN_SLOTS, Long.MIN_VALUE, scanNo - 2);
            }
            if (size >= MAX_LOOPBACK) {
                overflowed |= isNew; // a socket seen before was accounted for when it was new
                return false;
            }
            if ((size + 1) * 2 > capacity()) {
                rehash(capacity() * 2, Long.MIN_VALUE, Long.MIN_VALUE);
            }
            at = -find(key) - 1;
            table[at + KEY] = key;
            table[at + SEEN] = now;
            table[at + SERVER_ID] = serverSide ? id : 0;
            table[at + CLIENT_ID] = serverSide ? 0 : id;
            table[at + SERVER_SCAN] = serverSide ? scanNo : 0;
            table[at + CLIENT_SCAN] = serverSide ? 0 : scanNo;
            size++;
            return credit(at, isOwn);
        }
        table[at + SEEN] = now;
        if (id == 0) {
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
        return credit(at, isOwn);
    }

    /** A new connection in slot {@code at}: a client's is credited (true), the agent's own never. */
    private boolean credit(int at, boolean isOwn) {
        if (isOwn && recentlyCredited(at)) {
            credited--; // its other side, seen before the probe recorded its port (see uncreditOwn)
        }
        table[at + OWN] = isOwn ? 1 : 0;
        table[at + CREDIT_SCAN] = isOwn || !baselined ? 0 : scanNo; // the baseline scan credits nothing
        return !isOwn;
    }

    /** Credited as a client's in this scan or the two before (a probe's port is recorded within that). */
    private boolean recentlyCredited(int at) {
        return table[at + OWN] == 0 && table[at + CREDIT_SCAN] > 0 && table[at + CREDIT_SCAN] >= scanNo - 2;
    }

    /**
     * The probe runs on its own thread, at the same moment as this scan: a dump may show its
     * socket before the probe has recorded its port, and credit it as a client's. Its connect is
     * subtracted by count all the same, so once the port is recorded, a connection on it that a
     * recent scan credited is taken back. Returns how many were.
     */
    private long uncreditOwn(long ownConnects) {
        long taken = 0;
        for (; ownSeen < ownConnects; ownSeen++) {
            int port = own.port(ownSeen);
            if (port == 0) {
                continue;
            }
            for (int at = 0; at < table.length; at += STRIDE) {
                if (table[at + KEY] != 0 && (int) (table[at + KEY] & 0xFFFF) == port && recentlyCredited(at)) {
                    table[at + OWN] = 1;
                    table[at + CREDIT_SCAN] = 0;
                    taken++;
                }
            }
        }
        return taken;
    }

    private static long loopbackKey(int server, int client) {
        return (1L << 62) | ((long) server << 16) | client;
    }

    private int capacity() {
        return table.length / STRIDE;
    }

    /** The offset of {@code key}'s slot, or {@code -offset - 1} of the free slot where it would go. */
    private int find(long key) {
        int mask = capacity() - 1;
        long h = key * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
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
                rehash(MIN_SLOTS, cutoff, Long.MIN_VALUE); // and back to the size the rest needs
                return;
            }
        }
    }

    private boolean keeps(long[] t, int j, long cutoff, long minScan) {
        return t[j + KEY] != 0 && t[j + SEEN] >= cutoff && Math.max(t[j + SERVER_SCAN], t[j + CLIENT_SCAN]) >= minScan;
    }

    /**
     * Rebuilds the table, dropping keys last seen before {@code cutoff} or shown by no scan since
     * {@code minScan}, with at least {@code minSlots} slots and room for the rest at a load of 1/2.
     */
    private void rehash(int minSlots, long cutoff, long minScan) {
        long[] old = table;
        int kept = 0;
        for (int j = 0; j < old.length; j += STRIDE) {
            if (keeps(old, j, cutoff, minScan)) {
                kept++;
            }
        }
        int slots = Math.max(minSlots, MIN_SLOTS);
        while (slots < kept * 2) { // a load of at most 1/2
            slots *= 2;
        }
        table = new long[slots * STRIDE];
        size = 0;
        for (int j = 0; j < old.length; j += STRIDE) {
            if (keeps(old, j, cutoff, minScan)) {
                System.arraycopy(old, j, table, -find(old[j + KEY]) - 1, STRIDE);
                size++;
            }
        }
    }

    /** Bytes the ledger's tables hold now. */
    long tableBytes() {
        return table.length * 8L + candIds.length * 16L;
    }

    @Override
    public String toString() {
        return "ledger: " + size + " of " + capacity() + " slots, " + candIds.length + " candidates";
    }

    /** Slots in the loopback table (for tests: that it shrinks back). */
    int slots() {
        return capacity();
    }

    /** Loopback connections remembered (for tests). */
    int remembered() {
        return size;
    }
}
