package io.idlewatch.agent.signal.opencode;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.http.OwnClientPorts;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/**
 * Asks opencode's own API whether a session is busy: {@code GET /session/status}
 * on 127.0.0.1 at each configured port, plain HTTP/1.1 over a socket (the
 * jlinked runtime has no java.net.http). Fires while any session's type is not
 * "idle" (busy, or retrying a model call).
 *
 * <p>Nothing listening on a port means opencode is not running there — the
 * workspace may not use it — so that is quiet, not a failure. So is another
 * program on the port (the ports are shared with the http signal, e.g. a dev
 * server on 8080): it answers 404, or 200 with something that is not JSON
 * (an HTML page, an event stream), and is skipped; were it a failure, such a
 * port would keep the workspace running forever. An HTTP error (401: wrong
 * OPENCODE_SERVER_PASSWORD; 5xx) or an unreadable JSON body is a failure, so
 * the loop reports the sensor degraded.
 */
public final class OpencodeSignal implements ActivitySignal {
    public static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final int MAX_BODY = 1 << 20;

    private final String host;
    private final int[] ports;
    private final String authorization;
    private final int timeoutMillis;
    private final OwnClientPorts own;
    private final int[] counts = new int[2];

    /**
     * @param password OPENCODE_SERVER_PASSWORD, or null when opencode runs without auth
     * @param own      where the probe's local ports are recorded so the http signal ignores them
     */
    public OpencodeSignal(int[] ports, String username, String password, OwnClientPorts own) {
        this("127.0.0.1", ports, username, password, TIMEOUT, own);
    }

    public OpencodeSignal(String host, int[] ports, String username, String password, Duration timeout,
                          OwnClientPorts own) {
        this.host = host;
        this.ports = ports.clone();
        this.authorization = password == null ? null : "Basic " + Base64.getEncoder()
                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
        this.timeoutMillis = (int) timeout.toMillis();
        this.own = own;
    }

    @Override
    public String name() {
        return "opencode";
    }

    @Override
    public Reading sample(long monotonicNanos) throws IOException {
        int sessions = 0;
        int busy = 0;
        int running = 0;
        for (int port : ports) {
            String body = get(port);
            if (body == null) {
                continue;
            }
            running++;
            try {
                SessionStatusJson.count(body, counts);
            } catch (IOException e) {
                throw new IOException("opencode on port " + port + ": unreadable /session/status: " + e.getMessage());
            }
            sessions += counts[0];
            busy += counts[1];
        }
        if (running == 0) {
            return Reading.quiet("opencode not running");
        }
        if (busy > 0) {
            return Reading.fired("opencode " + busy + " busy " + (busy == 1 ? "session" : "sessions"));
        }
        return Reading.quiet("opencode " + sessions + (sessions == 1 ? " session" : " sessions") + ", none busy");
    }

    /** The body of a 200 answer, or null when nothing, or something other than opencode, listens on the port. */
    private String get(int port) throws IOException {
        try (Socket socket = new Socket()) {
            try {
                socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            } catch (ConnectException refused) {
                return null;
            }
            own.add(socket.getLocalPort());
            socket.setSoTimeout(timeoutMillis);
            StringBuilder req = new StringBuilder(160)
                    .append("GET /session/status HTTP/1.1\r\nHost: ").append(host).append(':').append(port)
                    .append("\r\nAccept: application/json\r\nUser-Agent: idlewatch-agent\r\nConnection: close\r\n");
            if (authorization != null) {
                req.append("Authorization: ").append(authorization).append("\r\n");
            }
            req.append("\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return response(socket.getInputStream(), port);
        }
    }

    private String response(InputStream raw, int port) throws IOException {
        HttpReader in = new HttpReader(new java.io.BufferedInputStream(raw, 4096));
        String status = in.line();
        if (status == null || !status.startsWith("HTTP/1.") || status.length() < 12) {
            throw new IOException("opencode on port " + port + ": not an HTTP answer");
        }
        int code;
        try {
            code = Integer.parseInt(status.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("opencode on port " + port + ": bad status line");
        }
        long length = -1;
        boolean chunked = false;
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
                    throw new IOException("opencode on port " + port + ": bad Content-Length");
                }
            } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.toLowerCase().contains("chunked")) {
                chunked = true;
            } else if (name.equalsIgnoreCase("Content-Type")) {
                contentType = value.toLowerCase();
            }
        }
        if (code == 404 || code == 200 && contentType != null && !contentType.contains("json")) {
            return null; // another program on this port: not opencode, not a failure
        }
        if (code != 200) {
            throw new IOException("opencode on port " + port + " answered HTTP " + code
                    + (code == 401 ? " (check OPENCODE_SERVER_PASSWORD)" : ""));
        }
        if (length > MAX_BODY) {
            throw new IOException("opencode on port " + port + ": body too large");
        }
        byte[] body = chunked ? in.chunked(MAX_BODY) : in.body(length, MAX_BODY);
        return new String(body, StandardCharsets.UTF_8);
    }

    /** Just enough HTTP/1.1 response reading: lines, Content-Length bodies, chunked bodies, read-to-close. */
    private static final class HttpReader {
        private final InputStream in;

        HttpReader(InputStream in) {
            this.in = in;
        }

        String line() throws IOException {
            StringBuilder b = new StringBuilder(64);
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    int n = b.length();
                    return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
                }
                if (b.length() > 8192) {
                    throw new IOException("header line too long");
                }
                b.append((char) c);
            }
            return b.length() == 0 ? null : b.toString();
        }

        byte[] body(long length, int max) throws IOException {
            if (length >= 0) {
                byte[] b = in.readNBytes((int) length);
                if (b.length != length) {
                    throw new IOException("body shorter than Content-Length");
                }
                return b;
            }
            byte[] b = in.readNBytes(max + 1);
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
                if (n == 0) {
                    return out.toByteArray();
                }
                if (out.size() + n > max) {
                    throw new IOException("body too large");
                }
                byte[] chunk = in.readNBytes(n);
                if (chunk.length != n) {
                    throw new IOException("truncated chunk");
                }
                out.write(chunk);
                line();
            }
        }
    }
}
