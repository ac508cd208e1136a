package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.Log;
import io.idlewatch.agent.signal.ActivitySignal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Fires when a client sent bytes to, or opened a connection to, one of the
 * HTTP ports since the previous sample. Only client→server bytes count
 * ({@code tcpi_bytes_received} of the server's socket), so an open event
 * stream carrying nothing but server heartbeats stays idle. Loopback peers
 * (health checks, in-container probes, and kubectl port-forward, which
 * arrives as a loopback client) count only when enabled, and the agent's own
 * opencode probe never does.
 *
 * <p>Each scan sees every TCP socket once and looks each up once
 * ({@link SeenSockets}): linear in the sockets. A socket on a watched port
 * that the last scan did not show is a new connection, TIME_WAIT included, so
 * a short connection the server closed is seen for the minute its TIME_WAIT
 * lasts. One its client closed or reset first leaves nothing here; the
 * kernel's accept count still shows it, and {@link AcceptLedger} counts the
 * accepts no socket explains, as long as no other port listens for outside
 * clients (see there). The first sample is the baseline. When netlink fails
 * the signal falls back to /proc/net/tcp for good, sees new connections and
 * unread bytes only, and says so in its detail (degraded but working).
 */
public final class HttpSignal implements ActivitySignal {
    private static final int NEW = 1;
    private static final int BYTES = 2;
    private static final int UNREAD = 3;
    /** A drop in the tables' size worth handing back to the system (see {@link #giveMemoryBack}). */
    private static final long GIVE_BACK_BYTES = 1024 * 1024;

    private final int[] ports;
    private final boolean loopback;
    private final OwnClientPorts own;
    private TcpSocketSource source;
    private final TcpSocketSource fallback;
    private final KernelTcpCounters counters;
    private final AcceptLedger ledger;
    private final SeenSockets seen = new SeenSockets();
    private String degraded;
    private String countersFailed;

    private int connections;
    private boolean baselined;
    /** Over a bound since this scan's predecessor: said once in the log, every scan in the detail. */
    private boolean overBound;
    /** The tables' largest size since they last gave memory back, and the full GCs still to run. */
    private long peakTableBytes;
    private int gcsLeft;
    private long lastSample;

    // first evidence found in the current scan
    private int event;
    private long eventBytes;
    private int eventFamily;
    private int eventPort;
    private int eventRemotePort;
    private final byte[] eventRemote = new byte[16];

    private final TcpSocketVisitor visitor = this::socket;

    /**
     * Reads the kernel's TCP counters from the fallback's /proc root when the
     * fallback is a {@link ProcNetTcpSource}; without one, no accept accounting.
     *
     * @param source   usually {@link NetlinkTcpSource}
     * @param fallback usually {@link ProcNetTcpSource}; null for none
     */
    public HttpSignal(int[] ports, boolean loopback, TcpSocketSource source, TcpSocketSource fallback,
                      OwnClientPorts own) {
        this(ports, loopback, source, fallback, own,
                fallback instanceof ProcNetTcpSource proc ? new KernelTcpCounters(proc.procRoot()) : null);
    }

    /**
     * @param counters the network namespace's TCP counters for the accept accounting; null for none
     */
    public HttpSignal(int[] ports, boolean loopback, TcpSocketSource source, TcpSocketSource fallback,
                      OwnClientPorts own, KernelTcpCounters counters) {
        this.ports = ports.clone();
        this.loopback = loopback;
        this.source = source;
        this.fallback = fallback;
        this.own = own;
        this.counters = counters;
        this.ledger = new AcceptLedger(ports, own);
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public Reading sample(long monotonicNanos) throws IOException {
        // own connects, resets and ActiveOpens, PassiveOpens, the dump, PassiveOpens again (see AcceptLedger)
        long ownConnects = own.connects();
        long resets = counters == null ? -1 : resets();
        long active = resets < 0 ? -1 : activeOpens();
        long passive = active < 0 ? -1 : passiveOpens();
        scan();
        if (event != 0 && isLoopback(eventFamily, eventRemote) && own.contains(eventRemotePort)) {
            // the agent's probe, which recorded its port only after the dump showed its socket
            event = 0;
        }
        long unexplained = 0;
        if (passive >= 0) {
            long passiveAfter = passiveOpens();
            unexplained = passiveAfter < 0 ? 0
                    : ledger.end(ownConnects, resets, active, passive, passiveAfter, monotonicNanos);
        }
        boolean bound = seen.overflowed() || ledger.overflowed();
        if (bound) {
            ledger.reset(); // it missed connections: start the accounting over
        }
        giveMemoryBack();
        boolean first = !baselined;
        baselined = true;
        long previousSample = lastSample;
        lastSample = monotonicNanos;

        int stranger = ledger.strangerPort();
        String suffix = (stranger == 0 || counters == null ? ""
                : ", connections from outside closed between polls not counted (port " + stranger
                + " listens too)")
                + (degraded == null && countersFailed == null ? ""
                : " (degraded: " + (degraded == null ? countersFailed
                : countersFailed == null ? degraded : degraded + "; " + countersFailed) + ")");
        if (bound) {
            String why = "http more than " + (seen.overflowed() ? SeenSockets.MAX_SOCKETS + " sockets"
                    : AcceptLedger.MAX_LOOPBACK + " loopback connections") + " at once, beyond what the sensor"
                    + " tracks: counted as activity" + suffix;
            if (!overBound) {
                Log.info(why);
            }
            overBound = true;
            return Reading.fired(why);
        }
        if (overBound) {
            overBound = false;
            Log.info("http back within the sensor's bounds");
        }
        if (first) {
            return quiet(connections, suffix);
        }
        if (event == 0 && loopback && ledger.newLoopbackServerPort() != 0) {
            return Reading.fired("http new loopback connection to port " + ledger.newLoopbackServerPort() + suffix);
        }
        if (event == 0 && unexplained > 0 && stranger == 0) {
            // confirmed now, counted by the previous sample: the activity was then
            return Reading.firedAt("http " + unexplained + (unexplained == 1 ? " connection" : " connections")
                    + " opened and closed between polls (counted by the kernel)" + suffix, previousSample);
        }
        if (event == 0) {
            return quiet(connections, suffix);
        }
        String from = address(eventFamily, eventRemote);
        return Reading.fired(switch (event) {
            case NEW -> "http new connection from " + from + " to port " + eventPort + suffix;
            case BYTES -> "http " + eventBytes + " client bytes from " + from + suffix;
            default -> "http " + eventBytes + " unread client bytes from " + from + suffix;
        });
    }

    /**
     * Tables that held a burst shrink back as it goes; the JVM returns the heap they took to the
     * system only after a full collection (the launcher has it keep at most 30% free), which a
     * quiet agent may not need for hours: so a drop of a MiB or more is followed by one full
     * collection on each of the next two samples (a few milliseconds on this heap).
     */
    private void giveMemoryBack() {
        long bytes = seen.tableBytes() + ledger.tableBytes();
        if (bytes >= peakTableBytes) {
            peakTableBytes = bytes;
        } else if (peakTableBytes - bytes >= GIVE_BACK_BYTES) {
            peakTableBytes = bytes;
            gcsLeft = 2;
        }
        if (gcsLeft > 0) {
            gcsLeft--;
            System.gc();
        }
    }

    /** One dump, through the fallback for good when the source fails. */
    private void scan() throws IOException {
        begin();
        try {
            source.scan(visitor);
        } catch (IOException e) {
            if (fallback == null || source == fallback) {
                throw e;
            }
            degraded = source.describe() + " failed (" + e.getMessage() + "), using " + fallback.describe();
            source = fallback;
            baselined = false;
            seen.clear();
            ledger.reset();
            begin();
            source.scan(visitor);
        }
    }

    private void begin() {
        event = 0;
        connections = 0;
        seen.begin();
        ledger.begin();
    }

    private static Reading quiet(int connections, String suffix) {
        return Reading.quiet("http " + connections + (connections == 1 ? " connection" : " connections")
                + ", no client bytes" + suffix);
    }

    /** One of the kernel's TCP counters, read from {@link #counters}. */
    private interface Counter {
        long read(KernelTcpCounters counters) throws IOException;
    }

    /** {@code Tcp: PassiveOpens}, or -1 (accounting off, noted for the detail) when it cannot be read. */
    private long passiveOpens() {
        return counter(KernelTcpCounters::passiveOpens);
    }

    /** {@code Tcp: ActiveOpens}, or -1 (accounting off, noted for the detail) when it cannot be read. */
    private long activeOpens() {
        return counter(KernelTcpCounters::activeOpens);
    }

    /** {@code TCPAbortOnClose + TCPAbortOnData}, or -1 (accounting off, noted) when they cannot be read. */
    private long resets() {
        return counter(KernelTcpCounters::resets);
    }

    private long counter(Counter counter) {
        try {
            long v = counter.read(counters);
            countersFailed = null;
            return v;
        } catch (IOException e) {
            countersFailed(e);
            return -1;
        }
    }

    private void countersFailed(IOException e) {
        countersFailed = "kernel TCP counters unreadable (" + e.getMessage()
                + "), connections opened and closed between polls go unseen";
        ledger.reset();
    }

    private void socket(int family, int state, int localPort, byte[] remote, int remotePort, long id,
                        long bytesReceived, long rxQueue) {
        if (state == InetDiag.TCP_LISTEN) {
            ledger.listener(family, localPort, remote);
            return;
        }
        long before = seen.see(id, bytesReceived);
        ledger.socket(family, state, localPort, remote, remotePort, id, before == SeenSockets.NEW);
        if (!isWatched(localPort)) {
            return;
        }
        boolean isLoopback = isLoopback(family, remote);
        if (isLoopback && (!loopback || own.contains(remotePort))) {
            return;
        }
        connections++;
        if (event != 0) {
            return;
        }
        if (before == SeenSockets.NEW) {
            note(NEW, 0, family, remote, localPort, remotePort);
        } else if (bytesReceived > before && before >= 0) {
            note(BYTES, bytesReceived - before, family, remote, localPort, remotePort);
        } else if (bytesReceived < 0 && rxQueue > 0) {
            note(UNREAD, rxQueue, family, remote, localPort, remotePort);
        }
    }

    private void note(int kind, long bytes, int family, byte[] remote, int port, int remotePort) {
        event = kind;
        eventRemotePort = remotePort;
        eventBytes = bytes;
        eventFamily = family;
        eventPort = port;
        System.arraycopy(remote, 0, eventRemote, 0, family == InetDiag.AF_INET6 ? 16 : 4);
    }

    private boolean isWatched(int port) {
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }

    /** 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
    public static boolean isLoopback(int family, byte[] a) {
        if (family == InetDiag.AF_INET) {
            return a[0] == 127;
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        if (a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
            return a[12] == 127;
        }
        if (a[10] != 0 || a[11] != 0 || a[12] != 0 || a[13] != 0 || a[14] != 0) {
            return false;
        }
        return a[15] == 1;
    }

    private static String address(int family, byte[] a) {
        try {
            return InetAddress.getByAddress(Arrays.copyOf(a, family == InetDiag.AF_INET6 ? 16 : 4)).getHostAddress();
        } catch (UnknownHostException e) {
            return "?";
        }
    }
}
