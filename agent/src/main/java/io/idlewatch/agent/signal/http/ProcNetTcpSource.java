package io.idlewatch.agent.signal.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The fallback when netlink is unavailable: {@code <proc>/net/tcp} and
 * {@code tcp6}. These tables have no byte counters, so only new connections
 * and unread bytes (rx_queue) are visible; the http signal says so in its
 * detail. Listening (0A) and TIME_WAIT (06) rows are passed on too, for the
 * accept accounting. Addresses there are 32-bit words printed in host (little-endian)
 * order.
 */
public final class ProcNetTcpSource implements TcpSocketSource {
    private final Path procRoot;
    private final byte[] remote = new byte[16];
    private final String[] fields = new String[10];

    public ProcNetTcpSource(Path procRoot) {
        this.procRoot = procRoot;
    }

    @Override
    public void scan(TcpSocketVisitor visitor) throws IOException {
        Path v4 = procRoot.resolve("net/tcp");
        Path v6 = procRoot.resolve("net/tcp6");
        if (!Files.exists(v4) && !Files.exists(v6)) {
            throw new NoSuchFileException(v4.toString(), null, "neither net/tcp nor net/tcp6 exists");
        }
        if (Files.exists(v4)) {
            table(v4, InetDiag.AF_INET, visitor);
        }
        if (Files.exists(v6)) {
            table(v6, InetDiag.AF_INET6, visitor);
        }
    }

    private void table(Path file, int family, TcpSocketVisitor visitor) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String header = r.readLine();
            if (header == null || !header.trim().startsWith("sl")) {
                throw new IOException("unexpected header in " + file);
            }
            String line;
            while ((line = r.readLine()) != null) {
                row(line, family, visitor, file);
            }
        }
    }

    // "  0: 0100007F:1000 0200A8C0:D431 01 00000000:00000000 00:00000000 00000000  1000 0 12345 ..."
    private void row(String line, int family, TcpSocketVisitor visitor, Path file) throws IOException {
        String[] f = fields;
        if (split(line, f) < 10) {
            throw new IOException("short line in " + file + ": " + line.trim());
        }
        try {
            int localPort = Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
            int state = Integer.parseInt(f[3], 16);
            // a listener has no peer: pass the address it is bound to instead (see TcpSocketVisitor)
            String rem = state == InetDiag.TCP_LISTEN ? f[1] : f[2];
            int colon = rem.indexOf(':');
            int words = family == InetDiag.AF_INET6 ? 4 : 1;
            if (colon != words * 8) {
                throw new IOException("bad address in " + file + ": " + rem);
            }
            long hash = 1469598103934665603L;
            for (int w = 0; w < words; w++) {
                long word = Long.parseLong(rem.substring(w * 8, w * 8 + 8), 16);
                for (int b = 0; b < 4; b++) { // host order is little-endian on every supported target
                    remote[w * 4 + b] = (byte) (word >>> (8 * b));
                    hash = (hash ^ remote[w * 4 + b]) * 1099511628211L;
                }
            }
            int remotePort = Integer.parseInt(f[2].substring(f[2].indexOf(':') + 1), 16);
            long rxQueue = Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
            // no cookie here: the 4-tuple names a connection for as long as it exists
            long id = ((hash ^ remotePort) * 1099511628211L) ^ ((long) localPort << 48);
            visitor.socket(family, state, localPort, remote, remotePort, id, -1, rxQueue);
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IOException("cannot parse " + file + ": " + line.trim());
        }
    }

    /** Splits on spaces into {@code out} (at most out.length fields, no regex); returns the count. */
    static int split(String line, String[] out) {
        int n = 0;
        int i = 0;
        int len = line.length();
        while (n < out.length) {
            while (i < len && line.charAt(i) == ' ') {
                i++;
            }
            if (i >= len) {
                break;
            }
            int start = i;
            while (i < len && line.charAt(i) != ' ') {
                i++;
            }
            out[n++] = line.substring(start, i);
        }
        return n;
    }

    /** The /proc root this source reads (the network namespace's counters sit next to the tables). */
    public Path procRoot() {
        return procRoot;
    }

    @Override
    public String describe() {
        return "/proc/net/tcp";
    }
}
