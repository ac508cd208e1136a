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

    @Test
    void readsTheNewFields() {
        AgentState state = parse("{\"state\":\"stopped\",\"poll_interval_ms\":2000,"
                + "\"stop\":{\"reason\":\"idle\",\"exit_code\":0,\"frozen_ms\":312000}}").orElseThrow();
        assertEquals(Duration.ofSeconds(2), state.pollInterval());
        assertEquals(Optional.of(Duration.ofSeconds(312)), state.stop().flatMap(AgentState.Stop::frozen));

        AgentState older = parse("{\"state\":\"running\",\"poll_interval_ms\":null,\"stop\":{\"frozen_ms\":null}}").orElseThrow();
        assertEquals(Duration.ofSeconds(5), older.pollInterval(), "older agents: the default");
        assertEquals(Optional.empty(), older.stop().flatMap(AgentState.Stop::frozen));
    }

    // The attacks: a workspace user writes /run/idlewatch/state.json.

    @Test
    void deepNestingIsNoState() {
        String deep = "{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertEquals(Optional.empty(), parse(deep));
        assertEquals(Optional.empty(), parse("{\"signals\":" + "{\"x\":".repeat(17) + "1" + "}".repeat(17) + "}"));
    }

    @Test
    void duplicateKeysAreNoState() {
        // Which "state" would a reader believe? Neither.
        assertEquals(Optional.empty(), parse("{\"state\":\"stopped\",\"state\":\"running\"}"));
        assertEquals(Optional.empty(), parse("{\"stop\":{\"reason\":\"idle\",\"reason\":\"lifetime\"}}"));
    }

    @Test
    void trailingTokensAreNoState() {
        assertEquals(Optional.empty(), parse("{\"state\":\"running\"} {\"state\":\"stopped\"}"));
        assertEquals(Optional.empty(), parse("{}]"));
        assertTrue(parse("{}\n").isPresent(), "the agent ends its line");
    }

    @Test
    void oversizedTokensAreNoState() {
        assertEquals(Optional.empty(), parse("{\"workspace\":\"" + "x".repeat(AgentState.MAX_STRING_CHARS + 1) + "\"}"));
        assertEquals(Optional.empty(), parse("{\"idle_ms\":" + "9".repeat(1000) + "}"));
        assertEquals(Optional.empty(), parse("{\"" + "k".repeat(1000) + "\":1}"));
        assertEquals(Optional.empty(), AgentState.parse(new byte[AgentState.MAX_FILE_BYTES + 1]));
        StringBuilder many = new StringBuilder("{\"a\":[");
        for (int i = 0; i < 30_000; i++) {
            many.append(i == 0 ? "" : ",").append('0');
        }
        assertEquals(Optional.empty(), parse(many.append("]}").toString()), "token count");
    }

    @Test
    void notUtf8OrNotJsonIsNoState() {
        assertEquals(Optional.empty(), AgentState.parse(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC0, (byte) 0x80, '"', '}'}));
        assertEquals(Optional.empty(), parse("{\"a\":NaN}"));
        assertEquals(Optional.empty(), parse("{'a':1}"));
        assertEquals(Optional.empty(), parse("{\"a\":1,}"));
        assertEquals(Optional.empty(), parse("null"));
    }

    @Test
    void fieldsOfTheWrongTypeOrOutOfRangeAreUnknown() {
        AgentState state = parse("""
                {"workspace":42,"state":"hacked","updated":"+1000000000-01-01T00:00:00Z","started":"1970-01-01T00:00:00Z",
                 "idle_ms":-1,"timeout_ms":1.5e3,"lifetime_left_ms":315360000001,"poll_interval_ms":0,
                 "last_activity":"1969-12-31T23:59:59Z","last_activity_signal":["http"],
                 "stop":{"reason":{"x":1},"at":"2026-13-01T00:00:00Z","exit_code":256,"detail":"","frozen_ms":"5m"}}
                """).orElseThrow();
        assertEquals(Optional.empty(), state.workspace());
        assertEquals(Optional.empty(), state.state(), "only running, stopping, stopped");
        assertEquals(Optional.empty(), state.updated(), "a year no clock shows (and Duration arithmetic would overflow)");
        assertEquals(Optional.empty(), state.idle());
        assertEquals(Optional.empty(), state.timeout(), "not a whole number");
        assertEquals(Optional.empty(), state.lifetimeLeft(), "over 3650d");
        assertEquals(AgentState.DEFAULT_POLL_INTERVAL, state.pollInterval(), "below the agent's minimum");
        assertEquals(Optional.empty(), state.lastActivity());
        assertEquals(Optional.empty(), state.lastActivitySignal());
        AgentState.Stop stop = state.stop().orElseThrow();
        assertEquals(Optional.empty(), stop.reason());
        assertEquals(Optional.empty(), stop.at());
        assertEquals(Optional.empty(), stop.exitCode(), "exit codes are 0-255");
        assertEquals(Optional.empty(), stop.detail());
        assertEquals(Optional.empty(), stop.frozen());
        assertEquals(Optional.empty(), parse("{\"stop\":{\"exit_code\":99999999999}}").orElseThrow().stop().flatMap(AgentState.Stop::exitCode));
    }
}
