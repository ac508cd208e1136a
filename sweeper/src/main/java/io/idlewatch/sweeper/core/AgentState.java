package io.idlewatch.sweeper.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The agent's state file ({@code /run/idlewatch/state.json}), read tolerantly: the agent evolves
 * separately, so a missing or malformed field leaves that field unknown instead of failing.
 */
public record AgentState(
        JsonNode raw,
        Optional<String> workspace,
        Optional<String> state,
        Optional<Instant> updated,
        Optional<Duration> idle,
        Optional<Duration> timeout,
        Optional<Duration> lifetimeLeft,
        Optional<Instant> lastActivity,
        Optional<String> lastActivitySignal,
        Optional<Stop> stop) {

    public static final String PATH = "/run/idlewatch/state.json";
    /** Where the agent writes it when /run is not writable for its user (non-root, read-only /run). */
    public static final String FALLBACK_PATH = "/tmp/idlewatch/state.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why and when the agent stopped its workload. */
    public record Stop(Optional<String> reason, Optional<Instant> at, Optional<Integer> exitCode, Optional<String> detail) {
    }

    /** Empty when the bytes are not a JSON object at all (not our agent, or a torn write). */
    public static Optional<AgentState> parse(byte[] content) {
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (IOException unreadable) {
            return Optional.empty();
        }
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        JsonNode stop = root.path("stop");
        return Optional.of(new AgentState(
                root,
                text(root, "workspace"),
                text(root, "state"),
                instant(root, "updated"),
                millis(root, "idle_ms"),
                millis(root, "timeout_ms"),
                millis(root, "lifetime_left_ms"),
                instant(root, "last_activity"),
                text(root, "last_activity_signal"),
                stop.isObject()
                        ? Optional.of(new Stop(text(stop, "reason"), instant(stop, "at"),
                                stop.path("exit_code").canConvertToInt() && stop.path("exit_code").isNumber()
                                        ? Optional.of(stop.path("exit_code").intValue()) : Optional.empty(),
                                text(stop, "detail")))
                        : Optional.empty()));
    }

    private static Optional<String> text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isTextual() && !value.asText().isBlank() ? Optional.of(value.asText()) : Optional.empty();
    }

    private static Optional<Duration> millis(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isNumber() && value.asLong() >= 0 ? Optional.of(Duration.ofMillis(value.asLong())) : Optional.empty();
    }

    private static Optional<Instant> instant(JsonNode node, String field) {
        try {
            return text(node, field).map(Instant::parse);
        } catch (DateTimeParseException unreadable) {
            return Optional.empty();
        }
    }
}
