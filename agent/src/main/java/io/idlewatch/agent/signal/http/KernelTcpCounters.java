package io.idlewatch.agent.signal.http;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The network namespace's cumulative TCP counters that the http signal's
 * accept accounting needs, from {@code <proc>/net/snmp} and
 * {@code <proc>/net/netstat} (the files {@code nstat} reads):
 * <ul>
 *   <li>{@code Tcp: PassiveOpens}: connections accepted in this network
 *       namespace, on every port, from every peer, since it was created;</li>
 *   <li>{@code TcpExt: TCPAbortOnClose + TCPAbortOnData}: connections that a
 *       local socket ended with a reset (closed with unread data, or with
 *       SO_LINGER 0), which leaves no TIME_WAIT socket on either side;</li>
 *   <li>{@code Tcp: ActiveOpens}: connections made from this network
 *       namespace, to anywhere (what tells an in-container client's reset
 *       from a reset of a client from outside).</li>
 * </ul>
 * Both files are read into one reused buffer and parsed without building
 * strings.
 */
public final class KernelTcpCounters {
    private static final byte[] TCP = ascii("Tcp:");
    private static final byte[] TCP_EXT = ascii("TcpExt:");
    private static final byte[] PASSIVE_OPENS = ascii("PassiveOpens");
    private static final byte[] ACTIVE_OPENS = ascii("ActiveOpens");
    private static final byte[] ABORT_ON_CLOSE = ascii("TCPAbortOnClose");
    private static final byte[] ABORT_ON_DATA = ascii("TCPAbortOnData");

    private final Path snmp;
    private final Path netstat;
    private byte[] buf = new byte[8192];
    private int len;

    public KernelTcpCounters(Path procRoot) {
        this.snmp = procRoot.resolve("net/snmp");
        this.netstat = procRoot.resolve("net/netstat");
    }

    /** {@code Tcp: PassiveOpens} of this network namespace. */
    public long passiveOpens() throws IOException {
        read(snmp);
        return field(buf, len, TCP, PASSIVE_OPENS, snmp);
    }

    /** {@code Tcp: ActiveOpens} of this network namespace: connections made from here. */
    public long activeOpens() throws IOException {
        read(snmp);
        return field(buf, len, TCP, ACTIVE_OPENS, snmp);
    }

    /** {@code TcpExt: TCPAbortOnClose + TCPAbortOnData} of this network namespace. */
    public long resets() throws IOException {
        read(netstat);
        return field(buf, len, TCP_EXT, ABORT_ON_CLOSE, netstat) + field(buf, len, TCP_EXT, ABORT_ON_DATA, netstat);
    }

    private void read(Path file) throws IOException {
        len = 0;
        try (InputStream in = new FileInputStream(file.toFile())) {
            int n;
            while ((n = in.read(buf, len, buf.length - len)) > 0) {
                len += n;
                if (len == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
            }
        }
    }

    /**
     * The value of column {@code name} in the table whose two lines start with
     * {@code prefix} (a header line of names, then a line of values), as in
     * /proc/net/snmp and /proc/net/netstat.
     */
    static long field(byte[] b, int len, byte[] prefix, byte[] name, Object file) throws IOException {
        int header = -1;
        for (int at = 0; at < len; at = nextLine(b, len, at)) {
            if (!startsWith(b, len, at, prefix)) {
                continue;
            }
            if (header < 0) {
                header = at;
                continue;
            }
            int column = column(b, len, header, name);
            if (column < 0) {
                break;
            }
            int t = token(b, len, at, column);
            if (t < 0) {
                break;
            }
            long v = 0;
            int digits = 0;
            for (int i = t; i < len && b[i] >= '0' && b[i] <= '9'; i++, digits++) {
                v = v * 10 + (b[i] - '0');
            }
            if (digits == 0) {
                break;
            }
            return v;
        }
        throw new IOException("no " + new String(prefix, StandardCharsets.US_ASCII) + " "
                + new String(name, StandardCharsets.US_ASCII) + " in " + file);
    }

    /** Index of the token equal to {@code name} on the line at {@code line}, the prefix being token 0. */
    private static int column(byte[] b, int len, int line, byte[] name) {
        int i = line;
        int index = 0;
        while (i < len && b[i] != '\n') {
            while (i < len && b[i] == ' ') {
                i++;
            }
            int start = i;
            while (i < len && b[i] != ' ' && b[i] != '\n') {
                i++;
            }
            if (i > start) {
                if (i - start == name.length && startsWith(b, len, start, name)) {
                    return index;
                }
                index++;
            }
        }
        return -1;
    }

    /** Start of token {@code index} on the line at {@code line}, or -1. */
    private static int token(byte[] b, int len, int line, int index) {
        int i = line;
        int n = 0;
        while (i < len && b[i] != '\n') {
            while (i < len && b[i] == ' ') {
                i++;
            }
            if (i >= len || b[i] == '\n') {
                break;
            }
            if (n++ == index) {
                return i;
            }
            while (i < len && b[i] != ' ' && b[i] != '\n') {
                i++;
            }
        }
        return -1;
    }

    private static int nextLine(byte[] b, int len, int at) {
        while (at < len && b[at] != '\n') {
            at++;
        }
        return at + 1;
    }

    private static boolean startsWith(byte[] b, int len, int at, byte[] p) {
        if (at + p.length > len) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (b[at + i] != p[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
