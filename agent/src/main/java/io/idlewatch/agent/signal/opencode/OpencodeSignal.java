package io.idlewatch.agent.signal.opencode;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.http.OwnClientPorts;
import io.idlewatch.contract.Durations;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Asks opencode's own API whether a session is busy: {@code GET /session/status}
 * on 127.0.0.1 at each configured port, plain HTTP/1.1 over a socket (the
 * jlinked runtime has no java.net.http). Fires while any session's type is not
 * "idle" (busy, or retrying a model call).
 *
 * <p>Whoever listens on a watched port is untrusted: the workspace user can run
 * any server there. So every probe has a hard deadline ({@link #DEADLINE}, on
 * the monotonic clock, covering connect, request and the whole answer) and a
 * byte budget, and a port only counts as opencode once it has been
 * <em>recognised</em>: it gave a valid {@code /session/status} answer (200 and
 * the JSON opencode sends).
 * <ul>
 *   <li>Nothing listening: opencode is not running there. Quiet, and a port that
 *       was recognised is forgotten (opencode exited; it cannot be busy). Probed
 *       again at every sample: a refused loopback connect costs nothing, so an
 *       opencode (re)started on the port is seen at the next poll.</li>
 *   <li>Another program (404, a non-JSON 200 such as a dev server's page or an
 *       event stream, an answer that is not HTTP): not opencode. Quiet, forgotten,
 *       probed again after {@link #RECHECK}.</li>
 *   <li>Any other failure (timeout or trickle past the deadline, silence, reset,
 *       5xx, unreadable JSON, oversized answer): a <em>degraded</em> sensor if the
 *       port was recognised (an opencode that stops answering must never let the
 *       workspace stop); quiet and re-checked after {@link #RECHECK} if it never
 *       was, since a server that never answered like opencode cannot be told from
 *       one that is not opencode, and counting it would keep the workspace running
 *       forever.</li>
 *   <li>401 with a {@code WWW-Authenticate: Basic} challenge is what opencode
 *       answers when OPENCODE_SERVER_PASSWORD (or the user name) does not match:
 *       degraded even on a port never recognised, because opencode behind a
 *       password the agent gets wrong is exactly a sensor that cannot be read, and
 *       a busy session must not be stopped over a misconfiguration. A 401 without
 *       that challenge is not opencode's.</li>
 * </ul>
 *
 * <p>A busy state can stick (opencode has left {@code /session/status} busy after some
 * failures), so busy counts only while it makes progress by opencode's own API: the
 * {@code /session/status} entries change (a retry's attempt), or the latest message of a
 * busy session ({@code GET /session/ID/message?limit=1}: its parts grow as a model streams or
 * a command prints) changes. Measured against opencode 1.18.34: the session's own
 * {@code time.updated} does not move while a command runs, the latest message does. A port
 * whose busy sessions show no change for the stall time ({@code IDLEWATCH_OPENCODE_STALL})
 * stops counting and says {@code busy but unchanged for 42m} until something changes.
 */
public final class OpencodeSignal implements ActivitySignal {
    /**
     * The most one port's probe may take: connect, request, status line, headers and
     * body. opencode answers {@code /session/status} from memory in a few milliseconds
     * on loopback, so this is some 50 times a healthy answer even on a loaded host, yet
     * a hostile server (silent, trickling) costs the sample at most half a second.
     */
    public static final Duration DEADLINE = Duration.ofMillis(500);
    /**
     * How many per-port deadlines one whole sample may spend: 3 × 500 ms = 1.5 s, under
     * the 2 s the idle loop's sensor thread waits for any sensor's reading, so hostile
     * servers on many ports cannot make the whole sensor miss its reading (which would
     * count as activity). Recognised ports are probed first; a port left with less than
     * half a deadline of the budget waits for the next sample, where it is among the first.
     */
    static final int DEADLINES_PER_SAMPLE = 3;
    /** How long a port that is not opencode is left alone before it is probed again. */
    public static final Duration RECHECK = Duration.ofSeconds(10);
    /** Status line and headers together; opencode sends a few hundred bytes. */
    static final int MAX_HEADER_BYTES = 16 * 1024;
    /** Body; an entry is ~30 bytes per busy session, a retry's message a few hundred. */
    static final int MAX_BODY = 256 * 1024;
    /** Everything read from one connection, framing included: the hard bound. */
    static final int MAX_RESPONSE_BYTES = MAX_HEADER_BYTES + MAX_BODY + 16 * 1024;
    private static final int MAX_LINE = 8192;
    /** Busy sessions of one port whose latest message is looked at each sample. */
    static final int WATCHED_SESSIONS = 4;
    /** {@code IDLEWATCH_OPENCODE_STALL}'s default. */
    public static final Duration DEFAULT_STALL = Duration.ofMinutes(30);

    private final String host;
    private final int[] ports;
    private final String authorization;
    private final long deadlineNanos;
    private final long budgetNanos;
    private final long recheckNanos;
    private final OwnClientPorts own;
    private final PortState[] states;
    private final int[] counts = new int[2];
    private final long stallNanos;
    private final List<String> busyIds = new ArrayList<>(WATCHED_SESSIONS);

    /** What the signal remembers about one port between samples. */
    private static final class PortState {
        /** Gave a valid /session/status answer and has not been seen to be something else since. */
        boolean recognised;
        /** Not opencode as far as known: left alone until {@link #nextCheck} (loop clock). */
        boolean waiting;
        long nextCheck;
        /** Busy at the last sample, what its busy sessions looked like, and when that last changed. */
        boolean busy;
        long fingerprint;
        long progressAt;
    }

    /**
     * @param password OPENCODE_SERVER_PASSWORD, or null when opencode runs without auth
     * @param own      where the probe's local ports are recorded so the http signal ignores them
     */
    public OpencodeSignal(int[] ports, String username, String password, OwnClientPorts own) {
        this("127.0.0.1", ports, username, password, DEADLINE, own);
    }

    /** @param deadline the most one port's probe may take (see {@link #DEADLINE}) */
    public OpencodeSignal(String host, int[] ports, String username, String password, Duration deadline,
                          OwnClientPorts own) {
        this(host, ports, username, password, deadline, RECHECK, own);
    }

    OpencodeSignal(String host, int[] ports, String username, String password, Duration deadline,
                   Duration recheck, OwnClientPorts own) {
        this(host, ports, username, password, deadline, recheck, DEFAULT_STALL, own);
    }

    /** @param stall how long a busy state may show no progress and still count; null = for ever */
    public OpencodeSignal(int[] ports, String username, String password, Duration stall, OwnClientPorts own) {
        this("127.0.0.1", ports, username, password, DEADLINE, RECHECK, stall, own);
    }

    OpencodeSignal(String host, int[] ports, String username, String password, Duration deadline,
                   Duration recheck, Duration stall, OwnClientPorts own) {
        this.stallNanos = stall == null || stall.isZero() ? Long.MAX_VALUE : stall.toNanos();
        this.host = host;
        this.ports = ports.clone();
        this.authorization = password == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.deadlineNanos = Math.max(1_000_000L, deadline.toNanos());
        this.budgetNanos = DEADLINES_PER_SAMPLE * deadlineNanos;
        this.recheckNanos = recheck.toNanos();
        this.own = own;
        this.states = new PortState[this.ports.length];
        for (int i = 0; i < states.length; i++) {
            states[i] = new PortState();
        }
    }

    @Override
    public String name() {
        return "opencode";
    }

    @Override
    public Reading sample(long monotonicNanos) throws IOException {
        long start = System.nanoTime();
        int sessions = 0;
        int busy = 0;
        int stalled = 0;
        long stalledFor = 0;
        int running = 0;
        List<String> failures = new ArrayList<>(0);
        for (int i : order(monotonicNanos)) {
            int port = ports[i];
            PortState st = states[i];
            long now = System.nanoTime();
            long left = start + budgetNanos - now;
            if (left < deadlineNanos / 2) {
                // The sample's time is spent: this port waits for the next sample (among the first then).
                if (st.recognised) {
                    failures.add("opencode on port " + port + ": not probed, the sample ran out of time");
                } else if (!st.waiting) {
                    st.waiting = true; // due now: ahead of the ports probed at every sample
                    st.nextCheck = monotonicNanos;
                }
                continue;
            }
            Outcome o = probe(port, now + Math.min(deadlineNanos, left));
            switch (o.kind) {
                case OPENCODE -> {
                    st.recognised = true;
                    st.waiting = false;
                    running++;
                    sessions += o.sessions;
                    long unchanged = progress(st, port, o, monotonicNanos, start);
                    if (o.busy > 0 && unchanged >= stallNanos) {
                        stalled += o.busy;
                        stalledFor = Math.max(stalledFor, unchanged);
                    } else {
                        busy += o.busy;
                    }
                }
                case REFUSED -> {
                    st.recognised = false;
                    st.waiting = false;
                }
                case OTHER -> notOpencode(st, monotonicNanos);
                case AUTH -> {
                    st.waiting = false;
                    failures.add(o.message);
                }
                case FAILED -> {
                    if (st.recognised) {
                        failures.add(o.message);
                    } else {
                        notOpencode(st, monotonicNanos);
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException(failures.get(0)
                    + (failures.size() > 1 ? " (and " + (failures.size() - 1) + " more ports)" : ""));
        }
        if (running == 0) {
            return Reading.quiet("opencode not running");
        }
        if (busy > 0) {
            return Reading.fired("opencode " + busy + " busy " + (busy == 1 ? "session" : "sessions"));
        }
        if (stalled > 0) {
            return Reading.quiet("opencode " + stalled + (stalled == 1 ? " session" : " sessions")
                    + " busy but unchanged for " + Durations.formatSeconds(stalledFor / 1_000_000)
                    + " (IDLEWATCH_OPENCODE_STALL " + Durations.format(Duration.ofNanos(stallNanos))
                    + "): not counted");
        }
        return Reading.quiet("opencode " + sessions + (sessions == 1 ? " session" : " sessions") + ", none busy");
    }

    /**
     * Notes what the port's busy sessions look like now and returns how long that has not
     * changed (0 when it just did, or the port was not busy).
     */
    private long progress(PortState st, int port, Outcome o, long now, long sampleStart) {
        if (o.busy == 0) {
            st.busy = false;
            return 0;
        }
        long fp = o.statusHash;
        for (String id : o.busyIds) {
            long left = sampleStart + budgetNanos - System.nanoTime();
            if (left < deadlineNanos / 2) {
                // no time for every session: no evidence either way this sample (a partial
                // fingerprint would differ from a whole one and pass for progress)
                if (!st.busy) {
                    st.busy = true;
                    st.fingerprint = 0;
                    st.progressAt = now;
                }
                return now - st.progressAt;
            }
            fp = fp * 1_000_003L + lastMessage(port, id, System.nanoTime() + Math.min(deadlineNanos, left));
        }
        if (!st.busy || fp != st.fingerprint) {
            st.busy = true;
            st.fingerprint = fp;
            st.progressAt = now;
            return 0;
        }
        return now - st.progressAt;
    }

    /**
     * A fingerprint of session {@code id}'s latest message ({@code GET /session/ID/message?limit=1}),
     * read within the probe's bounds: its length and a hash of its first {@link #MAX_BODY} bytes.
     * Whatever goes wrong gives the same fixed value: no evidence of progress.
     */
    private long lastMessage(int port, String id, long deadline) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), millisLeft(deadline));
            own.add(socket.getLocalPort());
            OutputStream out = socket.getOutputStream();
            out.write(request("/session/" + id + "/message?limit=1", port).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            HttpReader in = new HttpReader(new BoundedInput(socket, deadline));
            String status = in.line();
            if (status == null || !status.startsWith("HTTP/1.1 200")) {
                return 1;
            }
            long length = -1;
            boolean chunked = false;
            String h;
            while ((h = in.line()) != null && !h.isEmpty()) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(h.substring(colon + 1).trim());
                } else if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("Transfer-Encoding")) {
                    chunked = true;
                }
            }
            in.bodyStarts();
            byte[] body = chunked ? in.chunked(MAX_BODY)
                    : length > MAX_BODY ? in.readNBytes(MAX_BODY) : in.body(length, MAX_BODY);
            return 31 * java.util.Arrays.hashCode(body) + length;
        } catch (IOException | RuntimeException e) {
            return 2;
        }
    }

    private String request(String path, int port) {
        StringBuilder req = new StringBuilder(200)
                .append("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host).append(':').append(port)
                .append("\r\nAccept: application/json\r\nUser-Agent: idlewatch-agent\r\nConnection: close\r\n");
        if (authorization != null) {
            req.append("Authorization: ").append(authorization).append("\r\n");
        }
        return req.append("\r\n").toString();
    }

    private void notOpencode(PortState st, long now) {
        st.recognised = false;
        st.waiting = true;
        st.nextCheck = now + recheckNanos;
    }

    /** Indexes of the ports to probe now: recognised ones first, then the others due longest. */
    private List<Integer> order(long now) {
        List<Integer> recognised = new ArrayList<>(ports.length);
        List<Integer> others = new ArrayList<>(ports.length);
        for (int i = 0; i < ports.length; i++) {
            PortState st = states[i];
            if (st.recognised) {
                recognised.add(i);
            } else if (!st.waiting || now - st.nextCheck >= 0) {
                others.add(i);
            }
        }
        others.sort((a, b) -> {
            PortState x = states[a];
            PortState y = states[b];
            if (x.waiting != y.waiting) {
                return x.waiting ? -1 : 1; // overdue re-checks before ports probed every sample
            }
            return x.waiting ? Long.compare(x.nextCheck - now, y.nextCheck - now) : 0;
        });
        recognised.addAll(others);
        return recognised;
    }

    private enum Kind { OPENCODE, REFUSED, OTHER, AUTH, FAILED }

    /** What one probe found. */
    private static final class Outcome {
        final Kind kind;
        final String message;
        final int sessions;
        final int busy;
        /** A hash of the /session/status body, and the first busy sessions' ids (opencode only). */
        final long statusHash;
        final List<String> busyIds;

        private Outcome(Kind kind, String message, int sessions, int busy, long statusHash, List<String> busyIds) {
            this.kind = kind;
            this.message = message;
            this.sessions = sessions;
            this.busy = busy;
            this.statusHash = statusHash;
            this.busyIds = busyIds;
        }

        static Outcome of(Kind kind, String message) {
            return new Outcome(kind, message, 0, 0, 0, List.of());
        }
    }

    /** One GET /session/status, all of it before {@code deadline} (System.nanoTime). Never throws. */
    private Outcome probe(int port, long deadline) {
        String where = "opencode on port " + port;
        try (Socket socket = new Socket()) {
            try {
                socket.connect(new InetSocketAddress(host, port), millisLeft(deadline));
            } catch (ConnectException refused) {
                return Outcome.of(Kind.REFUSED, where + ": nothing listening");
            }
            own.add(socket.getLocalPort());
            // A few hundred bytes into an empty send buffer of a fresh connection: never blocks.
            OutputStream out = socket.getOutputStream();
            out.write(request("/session/status", port).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return response(new BoundedInput(socket, deadline), where);
        } catch (SocketTimeoutException | DeadlineExceeded slow) {
            return Outcome.of(Kind.FAILED, where + ": no complete answer within "
                    + deadlineNanos / 1_000_000 + " ms");
        } catch (IOException e) {
            return Outcome.of(Kind.FAILED, where + ": " + (e.getMessage() == null
                    ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private Outcome response(BoundedInput raw, String where) throws IOException {
        HttpReader in = new HttpReader(raw);
        String status = in.line();
        if (status == null) {
            return Outcome.of(Kind.FAILED, where + ": connection closed without an answer");
        }
        if (!status.startsWith("HTTP/1.") || status.length() < 12 || status.charAt(8) != ' ') {
            return Outcome.of(Kind.OTHER, where + ": not an HTTP answer");
        }
        int code;
        try {
            code = Integer.parseInt(status.substring(9, 12));
        } catch (NumberFormatException e) {
            return Outcome.of(Kind.OTHER, where + ": not an HTTP answer");
        }
        long length = -1;
        boolean chunked = false;
        boolean basicChallenge = false;
        String contentType = null;
        String h;
        while ((h = in.line()) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                try {
                    length = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length");
                }
            } else if (name.equalsIgnoreCase("Transfer-Encoding")
                    && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                chunked = true;
            } else if (name.equalsIgnoreCase("Content-Type")) {
                contentType = value.toLowerCase(Locale.ROOT);
            } else if (name.equalsIgnoreCase("WWW-Authenticate")
                    && value.regionMatches(true, 0, "Basic", 0, 5)) {
                basicChallenge = true;
            }
        }
        if (h == null) {
            throw new IOException("connection closed in the headers");
        }
        if (code == 404 || code == 200 && contentType != null && !contentType.contains("json")) {
            return Outcome.of(Kind.OTHER, where + ": another program (HTTP " + code + ")");
        }
        if (code != 200) {
            String message = where + " answered HTTP " + code
                    + (code == 401 ? " (check OPENCODE_SERVER_PASSWORD)" : "");
            return Outcome.of(code == 401 && basicChallenge ? Kind.AUTH : Kind.FAILED, message);
        }
        if (length > MAX_BODY) {
            throw new IOException("body too large");
        }
        in.bodyStarts();
        byte[] body = chunked ? in.chunked(MAX_BODY) : in.body(length, MAX_BODY);
        busyIds.clear();
        try {
            SessionStatusJson.count(new String(body, StandardCharsets.UTF_8), counts, busyIds, WATCHED_SESSIONS);
        } catch (IOException e) {
            return Outcome.of(Kind.FAILED, where + ": unreadable /session/status: " + e.getMessage());
        }
        return new Outcome(Kind.OPENCODE, null, counts[0], counts[1], java.util.Arrays.hashCode(body),
                List.copyOf(busyIds));
    }

    private static int millisLeft(long deadline) throws DeadlineExceeded {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new DeadlineExceeded();
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, (left + 999_999) / 1_000_000));
    }

    /** The probe's deadline passed. */
    private static final class DeadlineExceeded extends IOException {
        DeadlineExceeded() {
            super("deadline passed", null);
        }
    }

    /**
     * The socket's input with the probe's deadline and byte budget applied to every read:
     * each read may block only until the deadline, so a server trickling a byte at a time
     * cannot stretch the probe, and no server can make it read more than
     * {@link #MAX_RESPONSE_BYTES}.
     */
    private static final class BoundedInput extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;
        private int read;

        BoundedInput(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (read >= MAX_RESPONSE_BYTES) {
                throw new IOException("answer larger than " + MAX_RESPONSE_BYTES + " bytes");
            }
            socket.setSoTimeout(millisLeft(deadline));
            int n = in.read(b, off, Math.min(len, MAX_RESPONSE_BYTES - read));
            if (n > 0) {
                read += n;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new DeadlineExceeded();
            }
            return n;
        }
    }

    /** Just enough HTTP/1.1 response reading: lines, Content-Length bodies, chunked bodies, read-to-close. */
    private static final class HttpReader {
        private final byte[] buf = new byte[4096];
        private final InputStream in;
        private int pos;
        private int end;
        /** Bytes of status line and headers so far; -1 once in the body (bounded by the input). */
        private int headerBytes;

        HttpReader(InputStream in) {
            this.in = in;
        }

        private int read() throws IOException {
            if (pos == end) {
                int n = in.read(buf, 0, buf.length);
                if (n <= 0) {
                    return -1;
                }
                pos = 0;
                end = n;
            }
            return buf[pos++] & 0xff;
        }

        private int read(byte[] b, int off, int len) throws IOException {
            if (pos < end) {
                int n = Math.min(len, end - pos);
                System.arraycopy(buf, pos, b, off, n);
                pos += n;
                return n;
            }
            return in.read(b, off, len);
        }

        private byte[] readNBytes(int n) throws IOException {
            byte[] b = new byte[n];
            int got = 0;
            while (got < n) {
                int r = read(b, got, n - got);
                if (r < 0) {
                    break;
                }
                got += r;
            }
            return got == n ? b : java.util.Arrays.copyOf(b, got);
        }

        /** A line of the status, headers or chunk framing; null at the end of the stream. */
        String line() throws IOException {
            StringBuilder b = new StringBuilder(64);
            int c;
            while ((c = read()) >= 0) {
                if (headerBytes >= 0 && ++headerBytes > MAX_HEADER_BYTES) {
                    throw new IOException("headers larger than " + MAX_HEADER_BYTES + " bytes");
                }
                if (c == '\n') {
                    int n = b.length();
                    return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
                }
                if (b.length() >= MAX_LINE) {
                    throw new IOException("header line too long");
                }
                b.append((char) c);
            }
            return b.length() == 0 ? null : b.toString();
        }

        /** The headers are over: from here on only {@link #MAX_RESPONSE_BYTES} bounds what is read. */
        void bodyStarts() {
            headerBytes = -1;
        }

        byte[] body(long length, int max) throws IOException {
            if (length >= 0) {
                byte[] b = readNBytes((int) length);
                if (b.length != length) {
                    throw new IOException("body shorter than Content-Length");
                }
                return b;
            }
            byte[] b = readNBytes(max + 1);
            if (b.length > max) {
                throw new IOException("body too large");
            }
            return b;
        }

        byte[] chunked(int max) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String size = line();
                if (size == null) {
                    throw new IOException("truncated chunked body");
                }
                int semi = size.indexOf(';');
                int n;
                try {
                    n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size");
                }
                if (n < 0) {
                    throw new IOException("bad chunk size");
                }
                if (n == 0) {
                    return out.toByteArray();
                }
                if (out.size() + (long) n > max) {
                    throw new IOException("body too large");
                }
                byte[] chunk = readNBytes(n);
                if (chunk.length != n) {
                    throw new IOException("truncated chunk");
                }
                out.write(chunk);
                line();
            }
        }
    }
}
