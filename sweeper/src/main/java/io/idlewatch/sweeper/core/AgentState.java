package io.idlewatch.sweeper.core;

import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.contract.Durations;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * The agent's state file ({@code /run/idlewatch/state.json}; schema in the agent's
 * {@code StateFile}). The file lives in the workspace, so its author may be hostile: it is parsed
 * strictly and within bounds (size, nesting, string and number lengths, tokens; no duplicate keys,
 * nothing after the object), and every field is type- and range-checked. A field that fails its
 * check is unknown; a file that is not one well-formed object is no state at all. Nothing thrown
 * while reading it escapes {@link #parse}.
 */
public record AgentState(
        JsonNode raw,
        Optional<String> workspace,
        Optional<String> state,
        Optional<Instant> updated,
        Duration pollInterval,
        Optional<Duration> idle,
        Optional<Duration> timeout,
        Optional<Duration> lifetimeLeft,
        Optional<Instant> lastActivity,
        Optional<String> lastActivitySignal,
        Optional<Stop> stop) {

    public static final String PATH = "/run/idlewatch/state.json";
    /** Where the agent writes it when /run is not writable for its user (non-root, read-only /run). */
    public static final String FALLBACK_PATH = "/tmp/idlewatch/state.json";

    /**
     * The most of a state file we read, and the most the engine may send us for it. The real file is
     * about 2 KB (a dozen fields and five signals); 256 KiB leaves room for any honest growth and
     * keeps {@code ps} over hundreds of workspaces at a few MB however large a hostile file is.
     */
    public static final int MAX_FILE_BYTES = 256 * 1024;
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

    public static final Set<String> STATES = Set.of("running", "stopping", "stopped");

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

    /** Why and when the agent stopped its workload; {@code frozen} when the stop followed a freeze. */
    public record Stop(Optional<String> reason, Optional<Instant> at, Optional<Integer> exitCode, Optional<String> detail,
                       Optional<Duration> frozen) {
    }

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
        JsonNode stop = root.path("stop");
        return Optional.of(new AgentState(
                root,
                text(root, "workspace"),
                text(root, "state").filter(STATES::contains),
                instant(root, "updated"),
                millis(root, "poll_interval_ms").filter(p -> p.compareTo(MIN_POLL_INTERVAL) >= 0)
                        .orElse(DEFAULT_POLL_INTERVAL),
                millis(root, "idle_ms"),
                millis(root, "timeout_ms"),
                millis(root, "lifetime_left_ms"),
                instant(root, "last_activity"),
                text(root, "last_activity_signal"),
                stop.isObject()
                        ? Optional.of(new Stop(text(stop, "reason"), instant(stop, "at"), exitCode(stop, "exit_code"),
                                text(stop, "detail"), millis(stop, "frozen_ms")))
                        : Optional.empty()));
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            return Optional.empty();
        }
        String text = value.textValue();
        return text.isBlank() || text.length() > MAX_FIELD_CHARS ? Optional.empty() : Optional.of(text);
    }

    /** A whole number of milliseconds from 0 to {@link Durations#MAX}: what the agent can mean. */
    private static Optional<Duration> millis(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
            return Optional.empty();
        }
        long ms = value.longValue();
        return ms >= 0 && ms <= Durations.MAX.toMillis() ? Optional.of(Duration.ofMillis(ms)) : Optional.empty();
    }

    /** An exit code as a process has one: 0 to 255. */
    private static Optional<Integer> exitCode(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isIntegralNumber() || !value.canConvertToInt()) {
            return Optional.empty();
        }
        int code = value.intValue();
        return code >= 0 && code <= 255 ? Optional.of(code) : Optional.empty();
    }

    private static Optional<Instant> instant(JsonNode node, String field) {
        try {
            return text(node, field).map(Instant::parse).filter(t -> !t.isBefore(EARLIEST) && t.isBefore(LATEST));
        } catch (DateTimeException unreadable) {
            return Optional.empty();
        }
    }
}
