package io.idlewatch.contract;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The agent's state file, {@code /run/idlewatch/state.json}: what the agent writes every poll and
 * the host CLI ({@code idlewatch ps}) reads, live or from a stopped container. One JSON object on
 * one line:
 *
 * <pre>
 * {"version":1,"workspace":"NAME"|null,"state":"running"|"stopping"|"stopped",
 *  "updated":ISO,"started":ISO,"poll_interval_ms":N|null,"idle_ms":N,"timeout_ms":N|null,"max_lifetime_ms":N|null,
 *  "lifetime_left_ms":N|null,"last_activity":ISO|null,"last_activity_signal":NAME|null,
 *  "signals":{"cpu":{"enabled":B,"last_fired":ISO|null,"last_fired_detail":S|null,"degraded":B,
 *                    ["degraded_since":ISO,]"detail":S},…},
 *  "stop":null|{"reason":"idle"|"lifetime"|"workload-exit"|"signal"|"manual","at":ISO,"exit_code":N,"detail":S,
 *          "frozen_ms":N|null},
 *  "woken":{"at":ISO,"via":S,"from":S|null}}    (only in the records of a run a wake started)
 * </pre>
 *
 * Times are ISO-8601 UTC to the second, durations whole milliseconds. {@code poll_interval_ms} lets
 * the host tell a live record from a stale one; {@code frozen_ms} says the stop came right after the
 * container was frozen ({@code docker pause}) that long.
 *
 * <p>This record is the schema both sides compile against: the agent builds one and writes it with
 * {@link #appendJson} (by hand: the format is fixed and small, and the agent carries no JSON
 * library); the host reads the file through the {@code FIELD_*} names below into one. A null
 * component is a JSON null (none, off, never); the host's reader also makes a field null when it
 * cannot trust it (wrong type, out of range).
 */
public record StateRecord(
        Integer version,
        String workspace,
        String state,
        Instant updated,
        Instant started,
        Duration pollInterval,
        Duration idle,
        Duration timeout,
        Duration maxLifetime,
        Duration lifetimeLeft,
        Instant lastActivity,
        String lastActivitySignal,
        List<Signal> signals,
        Stop stop,
        Wake woken) {

    /** Where the agent writes the file, and the host looks first. */
    public static final String DIR = "/run/idlewatch";
    /** Where it goes when {@link #DIR} cannot be made (non-root agent, read-only /run). */
    public static final String FALLBACK_DIR = "/tmp/idlewatch";
    public static final String FILE_NAME = "state.json";

    /** The {@code version} this schema writes; a reader takes any, field by field. */
    public static final int FORMAT_VERSION = 1;

    public static final String STATE_RUNNING = "running";
    /** A stop is decided or under way; {@link #stop} says why. */
    public static final String STATE_STOPPING = "stopping";
    /** The agent's last record, written as it exits. */
    public static final String STATE_STOPPED = "stopped";
    public static final List<String> STATES = List.of(STATE_RUNNING, STATE_STOPPING, STATE_STOPPED);

    public static final String FIELD_VERSION = "version";
    public static final String FIELD_WORKSPACE = "workspace";
    public static final String FIELD_STATE = "state";
    public static final String FIELD_UPDATED = "updated";
    public static final String FIELD_STARTED = "started";
    public static final String FIELD_POLL_INTERVAL_MS = "poll_interval_ms";
    public static final String FIELD_IDLE_MS = "idle_ms";
    public static final String FIELD_TIMEOUT_MS = "timeout_ms";
    public static final String FIELD_MAX_LIFETIME_MS = "max_lifetime_ms";
    public static final String FIELD_LIFETIME_LEFT_MS = "lifetime_left_ms";
    public static final String FIELD_LAST_ACTIVITY = "last_activity";
    public static final String FIELD_LAST_ACTIVITY_SIGNAL = "last_activity_signal";
    /** An object: signal name to {@link Signal}, in the agent's order. */
    public static final String FIELD_SIGNALS = "signals";
    /** Null while running, else a {@link Stop}. */
    public static final String FIELD_STOP = "stop";
    /** Null unless this run of the agent was started by a wake ({@link WakeNote}). */
    public static final String FIELD_WOKEN = "woken";

    public StateRecord {
        signals = signals == null ? List.of() : List.copyOf(signals);
    }

    /** A record of a run that was not woken. */
    public StateRecord(Integer version, String workspace, String state, Instant updated, Instant started,
                       Duration pollInterval, Duration idle, Duration timeout, Duration maxLifetime,
                       Duration lifetimeLeft, Instant lastActivity, String lastActivitySignal, List<Signal> signals,
                       Stop stop) {
        this(version, workspace, state, updated, started, pollInterval, idle, timeout, maxLifetime, lifetimeLeft,
                lastActivity, lastActivitySignal, signals, stop, null);
    }

    /**
     * This run was started by a wake: when, through what ({@code 0.0.0.0:8080/tcp} for a connection
     * to a published port, {@code start} for {@code idlewatch start}) and, for a connection, the
     * client's address.
     */
    public record Wake(Instant at, String via, String from) {
        public static final String FIELD_AT = "at";
        public static final String FIELD_VIA = "via";
        public static final String FIELD_FROM = "from";
    }

    /**
     * One activity signal: {@code detail} is its latest reading, {@code lastFiredDetail} what it saw
     * when it last fired. A degraded signal (its sensor failed) counts as activity;
     * {@code degradedSince} is when its current unbroken run of failures began (written only while
     * degraded), so the host can tell a sensor that keeps a workspace up for good.
     */
    public record Signal(String name, Boolean enabled, Instant lastFired, String lastFiredDetail, Boolean degraded,
                         String detail, Instant degradedSince) {
        public static final String FIELD_DEGRADED_SINCE = "degraded_since";

        public Signal(String name, Boolean enabled, Instant lastFired, String lastFiredDetail, Boolean degraded,
                      String detail) {
            this(name, enabled, lastFired, lastFiredDetail, degraded, detail, null);
        }

        public static final String FIELD_ENABLED = "enabled";
        public static final String FIELD_LAST_FIRED = "last_fired";
        public static final String FIELD_LAST_FIRED_DETAIL = "last_fired_detail";
        public static final String FIELD_DEGRADED = "degraded";
        public static final String FIELD_DETAIL = "detail";

        public Signal {
            Objects.requireNonNull(name, "a signal's name is its key"); // a null key would be no JSON
        }
    }

    /**
     * Why and when the agent stopped its workload, the exit code it ends with, and, when the stop
     * came right after a freeze, how long the container had been frozen.
     */
    public record Stop(String reason, Instant at, Integer exitCode, String detail, Duration frozen) {
        /** Idle for the whole timeout. */
        public static final String REASON_IDLE = "idle";
        /** The lifetime cap was reached, activity or not. */
        public static final String REASON_LIFETIME = "lifetime";
        /** The workload ended by itself. */
        public static final String REASON_WORKLOAD_EXIT = "workload-exit";
        /** The container got a signal ({@code docker stop}, {@code docker kill}). */
        public static final String REASON_SIGNAL = "signal";
        /** {@code idlewatch stop}. */
        public static final String REASON_MANUAL = "manual";
        public static final List<String> REASONS =
                List.of(REASON_IDLE, REASON_LIFETIME, REASON_WORKLOAD_EXIT, REASON_SIGNAL, REASON_MANUAL);

        public static final String FIELD_REASON = "reason";
        public static final String FIELD_AT = "at";
        public static final String FIELD_EXIT_CODE = "exit_code";
        public static final String FIELD_DETAIL = "detail";
        public static final String FIELD_FROZEN_MS = "frozen_ms";
    }

    /** The file's text: the object on one line, then a newline. */
    public String fileText() {
        StringBuilder b = new StringBuilder(1024);
        appendJson(b);
        return b.append('\n').toString();
    }

    /** Appends the object (no newline): the file's one line, and {@code idlewatch status --json}. */
    public void appendJson(StringBuilder b) {
        b.append('{');
        name(b, FIELD_VERSION).append(version);
        b.append(',');
        name(b, FIELD_WORKSPACE);
        appendString(b, workspace);
        b.append(',');
        name(b, FIELD_STATE);
        appendString(b, state);
        b.append(',');
        name(b, FIELD_UPDATED);
        time(b, updated);
        b.append(',');
        name(b, FIELD_STARTED);
        time(b, started);
        b.append(',');
        millis(name(b, FIELD_POLL_INTERVAL_MS), pollInterval);
        b.append(',');
        millis(name(b, FIELD_IDLE_MS), idle);
        b.append(',');
        millis(name(b, FIELD_TIMEOUT_MS), timeout);
        b.append(',');
        millis(name(b, FIELD_MAX_LIFETIME_MS), maxLifetime);
        b.append(',');
        millis(name(b, FIELD_LIFETIME_LEFT_MS), lifetimeLeft);
        b.append(',');
        name(b, FIELD_LAST_ACTIVITY);
        time(b, lastActivity);
        b.append(',');
        name(b, FIELD_LAST_ACTIVITY_SIGNAL);
        appendString(b, lastActivitySignal);
        b.append(',');
        name(b, FIELD_SIGNALS).append('{');
        for (int i = 0; i < signals.size(); i++) {
            Signal sig = signals.get(i);
            b.append(i == 0 ? "" : ",");
            appendString(b, sig.name());
            b.append(":{");
            name(b, Signal.FIELD_ENABLED).append(sig.enabled());
            b.append(',');
            name(b, Signal.FIELD_LAST_FIRED);
            time(b, sig.lastFired());
            b.append(',');
            name(b, Signal.FIELD_LAST_FIRED_DETAIL);
            appendString(b, sig.lastFiredDetail());
            b.append(',');
            name(b, Signal.FIELD_DEGRADED).append(sig.degraded());
            b.append(',');
            if (sig.degradedSince() != null) { // only while degraded; detail stays the last member
                name(b, Signal.FIELD_DEGRADED_SINCE);
                time(b, sig.degradedSince());
                b.append(',');
            }
            name(b, Signal.FIELD_DETAIL);
            appendString(b, sig.detail());
            b.append('}');
        }
        b.append("},");
        name(b, FIELD_STOP);
        if (stop == null) {
            b.append("null");
        } else {
            b.append('{');
            name(b, Stop.FIELD_REASON);
            appendString(b, stop.reason());
            b.append(',');
            name(b, Stop.FIELD_AT);
            time(b, stop.at());
            b.append(',');
            name(b, Stop.FIELD_EXIT_CODE).append(stop.exitCode());
            b.append(',');
            name(b, Stop.FIELD_DETAIL);
            appendString(b, stop.detail());
            b.append(',');
            millis(name(b, Stop.FIELD_FROZEN_MS), stop.frozen());
            b.append('}');
        }
        // Only a woken run says so: every other record stays as it always was.
        if (woken != null) {
            b.append(',');
            name(b, FIELD_WOKEN);
            b.append('{');
            name(b, Wake.FIELD_AT);
            time(b, woken.at());
            b.append(',');
            name(b, Wake.FIELD_VIA);
            appendString(b, woken.via());
            b.append(',');
            name(b, Wake.FIELD_FROM);
            appendString(b, woken.from());
            b.append('}');
        }
        b.append('}');
    }

    /** {@code "name":}; names are ours, plain ASCII, never escaped. */
    private static StringBuilder name(StringBuilder b, String name) {
        return b.append('"').append(name).append("\":");
    }

    private static void millis(StringBuilder b, Duration d) {
        if (d == null) {
            b.append("null");
        } else {
            b.append(d.toMillis());
        }
    }

    /** ISO-8601 UTC to the second (the host needs no finer), or null. */
    private static void time(StringBuilder b, Instant t) {
        if (t == null) {
            b.append("null");
        } else {
            b.append('"').append(Instant.ofEpochSecond(t.getEpochSecond())).append('"');
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /**
     * A JSON string (or null), escaped per RFC 8259; U+2028 and U+2029 escaped too, so the line is
     * also a JavaScript literal. The agent's control-socket answers use it as well.
     */
    public static void appendString(StringBuilder b, String s) {
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
                        b.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
