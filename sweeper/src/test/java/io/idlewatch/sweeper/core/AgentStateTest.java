package io.idlewatch.sweeper.core;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentStateTest {

    static Optional<AgentState> parse(String json) {
        return AgentState.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsTheFullFormat() {
        AgentState state = parse("""
                {"version":1,"workspace":"alpha","state":"stopped","updated":"2026-11-22T07:00:00Z",
                 "started":"2026-11-22T06:00:00Z","idle_ms":123000,"timeout_ms":1800000,"max_lifetime_ms":null,
                 "lifetime_left_ms":null,"last_activity":"2026-11-22T06:58:00Z","last_activity_signal":"http",
                 "signals":{"cpu":{"enabled":true,"last_fired":null,"degraded":false,"detail":"2%"}},
                 "stop":{"reason":"lifetime","at":"2026-11-22T07:00:00Z","exit_code":0,"detail":"cap 1h reached"}}
                """).orElseThrow();

        assertEquals(Optional.of("alpha"), state.workspace());
        assertEquals(Optional.of(Duration.ofSeconds(123)), state.idle());
        assertEquals(Optional.of(Duration.ofMinutes(30)), state.timeout());
        assertEquals(Optional.empty(), state.lifetimeLeft());
        assertEquals(Optional.of(Instant.parse("2026-11-22T06:58:00Z")), state.lastActivity());
        assertEquals(Optional.of("lifetime"), state.stop().flatMap(AgentState.Stop::reason));
        assertEquals(Optional.of(0), state.stop().flatMap(AgentState.Stop::exitCode));
    }

    @Test
    void toleratesMissingWrongAndUnknownFields() {
        AgentState state = parse("{\"idle_ms\":\"soon\",\"updated\":\"yesterday\",\"stop\":\"idle\",\"new\":[1]}").orElseThrow();
        assertEquals(Optional.empty(), state.idle());
        assertEquals(Optional.empty(), state.updated());
        assertEquals(Optional.empty(), state.stop());
        assertTrue(parse("{}").isPresent());
    }

    @Test
    void somethingThatIsNotAnObjectIsNoState() {
        assertEquals(Optional.empty(), parse("[1,2]"));
        assertEquals(Optional.empty(), parse("{\"torn\": "));
        assertEquals(Optional.empty(), parse(""));
    }
}
