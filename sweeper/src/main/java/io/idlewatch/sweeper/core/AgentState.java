package io.idlewatch.sweeper.core;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.contract.Durations;
import io.idlewatch.contract.StateRecord;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's state file ({@code /run/idlewatch/state.json}), read into the schema the agent
 * writes it from ({@link StateRecord}, in module contract) through that schema's field names. The
 * file lives in the workspace, so its author may be hostile: it is parsed strictly and within
 * bounds (size, nesting, string and number lengths, tokens; no duplicate keys, nothing after the
 * object), and every field is type- and range-checked. A field that fails its check is unknown
 * (null in {@link #record}, empty here); a file that is not one well-formed object is no state at
 * all. Nothing thrown while reading it escapes {@link #parse}.
 *
 * @param raw    the object as read (for {@code ps --json})
 * @param record every field the agent writes, null where the file says null or could not be trusted
 */
public record AgentState(JsonNode raw, StateRecord record) {

    public static final String PATH = StateRecord.DIR + "/" + StateRecord.FILE_NAME;
    /** Where the agent writes it when /run is not writable for its user (non-root, read-only /run). */
    public static final String FALLBACK_PATH = StateRecord.FALLBACK_DIR + "/" + StateRecord.FILE_NAME;

    /**
     * The most of a state file we read, and the most the engine may send us for it. The real file is
     * about 2 KB (a dozen fields and five signals); 256 KiB leaves room for any honest growth and
     * keeps {@code ps} over hundreds of workspaces at a few MB however large a hostile file is.
     */
    public static final int MAX_FILE_BYTES = 256 * 1024;
    /** Written by the workspace's init, not the agent: whether the agent is up (see {@link #agentDown}). */
    static final String FIELD_AGENT = "agent";
    /** The real file nests three deep (root, signals, one signal). */
    static final int MAX_NESTING = 16;
    /** Details are sentences of the agent's own; a string longer than this is not one. */
    static final int MAX_STRING_CHARS = 16 * 1024;
    /** Enough for any long ({@code -9223372036854775808}); longer numbers are not ours. */
    static final int MAX_NUMBER_CHARS = 20;
    /** Keys are short snake_case names and signal names. */
    static final int MAX_NAME_CHARS = 256;
    /** The real file has about a hundred tokens. */
    static final long MAX_TOKENS = 20_000;
    /** A text field we use (name, state, reason, detail) longer than this is unknown. */
    static final int MAX_FIELD_CHARS = 4096;
    /** What older agents did not write: their poll interval was the default. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);
    /** The agent refuses a shorter poll interval. */
    static final Duration MIN_POLL_INTERVAL = Duration.ofMillis(100);
    /** Times outside this window are not the agent's clock; outside it, arithmetic could overflow. */
    static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
    static final Instant LATEST = Instant.parse("2200-01-01T00:00:00Z");

    private static final ObjectMapper JSON = new ObjectMapper(new JsonFactoryBuilder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxDocumentLength(MAX_FILE_BYTES)
                    .maxNestingDepth(MAX_NESTING)
                    .maxStringLength(MAX_STRING_CHARS)
                    .maxNumberLength(MAX_NUMBER_CHARS)
                    .maxNameLength(MAX_NAME_CHARS)
                    .maxTokenCount(MAX_TOKENS)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Empty when the bytes are not one well-formed JSON object within the bounds above. */
    public static Optional<AgentState> parse(byte[] content) {
        if (content == null || content.length > MAX_FILE_BYTES) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            // Strict UTF-8 first: Jackson reads some invalid sequences (overlong NUL) leniently.
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(content)).toString();
            root = JSON.readTree(text);
        } catch (IOException | RuntimeException unreadable) {
            // Malformed, torn, over a bound, not UTF-8 (CharacterCodingException): all the same to the reader.
            return Optional.empty();
        }
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        return Optional.of(new AgentState(root, read(root)));
    }

    /** Every field of the schema, each checked on its own. */
    private static StateRecord read(JsonNode root) {
        JsonNode stop = root.path(StateRecord.FIELD_STOP);
        return new StateRecord(
                version(root, StateRecord.FIELD_VERSION),
                text(root, StateRecord.FIELD_WORKSPACE),
                state(root, StateRecord.FIELD_STATE),
                instant(root, StateRecord.FIELD_UPDATED),
                instant(root, StateRecord.FIELD_STARTED),
                pollInterval(root, StateRecord.FIELD_POLL_INTERVAL_MS),
                millis(root, StateRecord.FIELD_IDLE_MS),
                millis(root, StateRecord.FIELD_TIMEOUT_MS),
                millis(root, StateRecord.FIELD_MAX_LIFETIME_MS),
                millis(root, StateRecord.FIELD_LIFETIME_LEFT_MS),
                instant(root, StateRecord.FIELD_LAST_ACTIVITY),
                text(root, StateRecord.FIELD_LAST_ACTIVITY_SIGNAL),
                signals(root.path(StateRecord.FIELD_SIGNALS)),
                stop.isObject()
                        ? new StateRecord.Stop(
                                text(stop, StateRecord.Stop.FIELD_REASON),
                                instant(stop, StateRecord.Stop.FIELD_AT),
                                exitCode(stop, StateRecord.Stop.FIELD_EXIT_CODE),
                                text(stop, StateRecord.Stop.FIELD_DETAIL),
                                millis(stop, StateRecord.Stop.FIELD_FROZEN_MS))
                        : null,
                woken(root.path(StateRecord.FIELD_WOKEN)));
    }

    /** The wake that started this run; only with a time and a {@code via}, else none. */
    private static StateRecord.Wake woken(JsonNode woken) {
        if (!woken.isObject()) {
            return null;
        }
        Instant at = instant(woken, StateRecord.Wake.FIELD_AT);
        String via = text(woken, StateRecord.Wake.FIELD_VIA);
        return at == null || via == null ? null : new StateRecord.Wake(at, via, text(woken, StateRecord.Wake.FIELD_FROM));
    }

    /** The signals in the file's order; an entry that is not an object, or has no usable name, is left out. */
    private static List<StateRecord.Signal> signals(JsonNode signals) {
        List<StateRecord.Signal> list = new ArrayList<>();
        if (!signals.isObject()) {
            return list;
        }
        for (Map.Entry<String, JsonNode> e : signals.properties()) {
            String name = e.getKey();
            JsonNode s = e.getValue();
            if (!s.isObject() || name.isBlank() || name.length() > MAX_FIELD_CHARS) {
                continue;
            }
            list.add(new StateRecord.Signal(name,
                    bool(s, StateRecord.Signal.FIELD_ENABLED),
                    instant(s, StateRecord.Signal.FIELD_LAST_FIRED),
                    text(s, StateRecord.Signal.FIELD_LAST_FIRED_DETAIL),
                    bool(s, StateRecord.Signal.FIELD_DEGRADED),
                    text(s, StateRecord.Signal.FIELD_DETAIL),
                    instant(s, StateRecord.Signal.FIELD_DEGRADED_SINCE)));
        }
        return list;
    }

    public Optional<String> workspace() {
        return Optional.ofNullable(record.workspace());
    }

    /** running, stopping or stopped; anything else is unknown. */
    /**
     * What the workspace's init says about its agent when the init wrote the record itself, e.g.
     * {@code down: killed by SIGKILL; failed 10 times in 120s, not restarted for 600s}; empty otherwise.
     */
    public Optional<String> agentDown() {
        return Optional.ofNullable(text(raw, FIELD_AGENT)).filter(a -> a.startsWith("down"));
    }

    public Optional<String> state() {
        return Optional.ofNullable(record.state());
    }

    public Optional<Instant> updated() {
        return Optional.ofNullable(record.updated());
    }

    /** The agent's poll interval; older agents (and a value below the agent's minimum) mean the default. */
    public Duration pollInterval() {
        return record.pollInterval() == null ? DEFAULT_POLL_INTERVAL : record.pollInterval();
    }

    public Optional<Duration> idle() {
        return Optional.ofNullable(record.idle());
    }

    public Optional<Duration> timeout() {
        return Optional.ofNullable(record.timeout());
    }

    public Optional<Duration> lifetimeLeft() {
        return Optional.ofNullable(record.lifetimeLeft());
    }

    public Optional<Instant> lastActivity() {
        return Optional.ofNullable(record.lastActivity());
    }

    public Optional<String> lastActivitySignal() {
        return Optional.ofNullable(record.lastActivitySignal());
    }

    /**
     * Each signal degraded without a break for longer than the idle timeout, as of the agent's last
     * write, with how long: a broken sensor counts as activity, so such a workspace never stops.
     */
    public Map<String, Duration> degradedPastTimeout() {
        Map<String, Duration> out = new java.util.LinkedHashMap<>();
        Optional<Duration> timeout = timeout();
        Optional<Instant> at = updated();
        if (timeout.isEmpty() || at.isEmpty()) {
            return out;
        }
        for (StateRecord.Signal s : record.signals()) {
            if (Boolean.TRUE.equals(s.degraded()) && s.degradedSince() != null) {
                Duration d = Duration.between(s.degradedSince(), at.get());
                if (d.compareTo(timeout.get()) > 0) {
                    out.put(s.name(), d);
                }
            }
        }
        return out;
    }

    /** Each degraded signal with how long it has been degraded without a break (when the agent says). */
    public Map<String, Duration> degradedFor() {
        Map<String, Duration> out = new java.util.LinkedHashMap<>();
        Optional<Instant> at = updated();
        for (StateRecord.Signal s : record.signals()) {
            if (at.isPresent() && Boolean.TRUE.equals(s.degraded()) && s.degradedSince() != null) {
                Duration d = Duration.between(s.degradedSince(), at.get());
                out.put(s.name(), d.isNegative() ? Duration.ZERO : d);
            }
        }
        return out;
    }

    /** This run of the agent was started by a wake (watch --wake, idlewatch start). */
    public Optional<StateRecord.Wake> woken() {
        return Optional.ofNullable(record.woken());
    }

    public Optional<Stop> stop() {
        return Optional.ofNullable(record.stop()).map(Stop::new);
    }

    /** The record's {@link StateRecord.Stop}, each field empty where it is null. */
    public record Stop(StateRecord.Stop record) {
        public Optional<String> reason() {
            return Optional.ofNullable(record.reason());
        }

        public Optional<Instant> at() {
            return Optional.ofNullable(record.at());
        }

        /** 0 to 255, as a process has one. */
        public Optional<Integer> exitCode() {
            return Optional.ofNullable(record.exitCode());
        }

        public Optional<String> detail() {
            return Optional.ofNullable(record.detail());
        }

        /** The stop followed a freeze this long. */
        public Optional<Duration> frozen() {
            return Optional.ofNullable(record.frozen());
        }
    }

    /** Text that is not blank and not over {@link #MAX_FIELD_CHARS}. */
    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            return null;
        }
        String text = value.textValue();
        return text.isBlank() || text.length() > MAX_FIELD_CHARS ? null : text;
    }

    /** One of the schema's states. */
    private static String state(JsonNode node, String field) {
        String state = text(node, field);
        return state != null && StateRecord.STATES.contains(state) ? state : null; // List.of: no contains(null)
    }

    /** A whole number of milliseconds from 0 to {@link Durations#MAX}: what the agent can mean. */
    private static Duration millis(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
            return null;
        }
        long ms = value.longValue();
        return ms >= 0 && ms <= Durations.MAX.toMillis() ? Duration.ofMillis(ms) : null;
    }

    /** At least what the agent accepts; a shorter one is not the agent's, so unknown (the default). */
    private static Duration pollInterval(JsonNode node, String field) {
        Duration poll = millis(node, field);
        return poll == null || poll.compareTo(MIN_POLL_INTERVAL) < 0 ? null : poll;
    }

    /** An exit code as a process has one: 0 to 255. */
    private static Integer exitCode(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
            return null;
        }
        int code = value.intValue();
        return code >= 0 && code <= 255 ? code : null;
    }

    /** The schema's version: a positive whole number. */
    private static Integer version(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isIntegralNumber() && value.canConvertToInt() && value.intValue() > 0
                ? value.intValue() : null;
    }

    private static Boolean bool(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isBoolean() ? value.booleanValue() : null;
    }

    private static Instant instant(JsonNode node, String field) {
        String text = text(node, field);
        if (text == null) {
            return null;
        }
        try {
            Instant t = Instant.parse(text);
            return t.isBefore(EARLIEST) || !t.isBefore(LATEST) ? null : t;
        } catch (DateTimeException unreadable) {
            return null;
        }
    }
}
