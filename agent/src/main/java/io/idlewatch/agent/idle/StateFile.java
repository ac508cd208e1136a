package io.idlewatch.agent.idle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * {@code /run/idlewatch/state.json}: the agent's state for the host CLI
 * ({@code idlewatch ps}) and for post-mortem reading of a stopped container
 * ({@code docker cp}), so the host can tell without exec that and why it
 * stopped. Rewritten every poll, atomically (temp file in the same
 * directory, then rename), by hand: the format is fixed and small.
 *
 * <pre>
 * {"version":1,"workspace":"NAME"|null,"state":"running"|"stopping"|"stopped",
 *  "updated":ISO,"started":ISO,"poll_interval_ms":N|null,"idle_ms":N,"timeout_ms":N|null,"max_lifetime_ms":N|null,
 *  "lifetime_left_ms":N|null,"last_activity":ISO|null,"last_activity_signal":NAME|null,
 *  "signals":{"cpu":{"enabled":B,"last_fired":ISO|null,"last_fired_detail":S|null,"degraded":B,"detail":S},…},
 *  "stop":null|{"reason":"idle"|"lifetime"|"workload-exit"|"signal","at":ISO,"exit_code":N,"detail":S,
 *          "frozen_ms":N|null}}
 * </pre>
 *
 * {@code poll_interval_ms} lets the host tell a live record from a stale one; {@code frozen_ms}
 * says the stop came right after the container was frozen ({@code docker pause}) that long.
 *
 * <p>The directory may be writable by the workspace's user (a non-root agent shares its user), so
 * the temp file is created afresh ({@code O_EXCL}: never through a planted link) and renamed over.
 */
public final class StateFile {
    public static final Path DEFAULT_DIR = Path.of("/run/idlewatch");
    public static final String NAME = "state.json";
    public static final int VERSION = 1;

    private final Path file;
    private final Path temp;
    private final String workspace;
    private final StringBuilder json = new StringBuilder(1024);

    /** @param workspace {@code IDLEWATCH_WORKSPACE}, or null */
    public StateFile(Path dir, String workspace) {
        this.file = dir.resolve(NAME);
        this.temp = dir.resolve(NAME + ".tmp");
        this.workspace = workspace;
    }

    public Path path() {
        return file;
    }

    /** Writes {@code status} atomically, creating the directory if needed. */
    public void write(IdleTracker.Status status) throws IOException {
        String text = render(status, workspace);
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(temp); // a link or a leftover, never followed
        Files.write(temp, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The file's text for {@code status}: one JSON object on one line. */
    public String render(IdleTracker.Status s) {
        return render(s, workspace);
    }

    private synchronized String render(IdleTracker.Status s, String workspace) {
        StringBuilder b = json;
        b.setLength(0);
        b.append("{\"version\":").append(VERSION);
        b.append(",\"workspace\":");
        string(b, workspace);
        b.append(",\"state\":");
        string(b, s.state());
        b.append(",\"updated\":");
        time(b, s.nowEpochMillis());
        b.append(",\"started\":");
        time(b, s.startedEpochMillis());
        b.append(",\"poll_interval_ms\":")
                .append(s.pollInterval() == null ? "null" : Long.toString(s.pollInterval().toMillis()));
        b.append(",\"idle_ms\":").append(s.idleMillis());
        b.append(",\"timeout_ms\":").append(s.timeout() == null ? "null" : Long.toString(s.timeout().toMillis()));
        b.append(",\"max_lifetime_ms\":")
                .append(s.maxLifetime() == null ? "null" : Long.toString(s.maxLifetime().toMillis()));
        b.append(",\"lifetime_left_ms\":")
                .append(s.lifetimeLeftMillis() < 0 ? "null" : Long.toString(s.lifetimeLeftMillis()));
        b.append(",\"last_activity\":");
        time(b, s.lastActivityEpochMillis());
        b.append(",\"last_activity_signal\":");
        string(b, s.lastActivitySignal());
        b.append(",\"signals\":{");
        boolean first = true;
        for (IdleTracker.SignalStatus sig : s.signals()) {
            b.append(first ? "" : ",");
            first = false;
            string(b, sig.name());
            b.append(":{\"enabled\":").append(sig.enabled());
            b.append(",\"last_fired\":");
            time(b, sig.lastFiredEpochMillis());
            b.append(",\"last_fired_detail\":");
            string(b, sig.lastFiredDetail());
            b.append(",\"degraded\":").append(sig.degraded());
            b.append(",\"detail\":");
            string(b, sig.detail());
            b.append('}');
        }
        b.append("},\"stop\":");
        IdleTracker.StopInfo stop = s.stop();
        if (stop == null) {
            b.append("null");
        } else {
            b.append("{\"reason\":");
            string(b, stop.reason());
            b.append(",\"at\":");
            time(b, stop.atEpochMillis());
            b.append(",\"exit_code\":").append(stop.exitCode());
            b.append(",\"detail\":");
            string(b, stop.detail());
            b.append(",\"frozen_ms\":").append(stop.frozenMillis() < 0 ? "null" : Long.toString(stop.frozenMillis()));
            b.append('}');
        }
        b.append("}\n");
        return b.toString();
    }

    /** ISO-8601 UTC to the second, or null for a negative time. */
    private static void time(StringBuilder b, long epochMillis) {
        if (epochMillis < 0) {
            b.append("null");
        } else {
            b.append('"').append(Instant.ofEpochSecond(Math.floorDiv(epochMillis, 1000))).append('"');
        }
    }

    /** A JSON string (or null), escaped per RFC 8259; the control socket's answers use it too. */
    public static void string(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
