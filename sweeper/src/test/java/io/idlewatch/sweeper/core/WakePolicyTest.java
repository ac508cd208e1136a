package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.docker.PortBinding;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WakePolicyTest {

    static final Map<String, String> LABELLED = Map.of("io.idlewatch.wake", "true");
    static final List<PortBinding> FIXED = List.of(new PortBinding(4096, "tcp", "127.0.0.1", 8080));

    static Optional<AgentState> stoppedFor(String reason) {
        return AgentState.parse(("{\"version\":1,\"state\":\"stopped\",\"stop\":{\"reason\":\"" + reason + "\"}}")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void onlyAnIdleStopOfALabelledWorkspaceWithAFixedPortWakes() {
        WakePolicy.Verdict yes = WakePolicy.judge(LABELLED, "exited", stoppedFor("idle"), FIXED);
        assertTrue(yes.wakeable());
        assertEquals(FIXED, yes.ports());

        for (String reason : List.of("manual", "signal", "lifetime", "workload-exit")) {
            WakePolicy.Verdict no = WakePolicy.judge(LABELLED, "exited", stoppedFor(reason), FIXED);
            assertEquals(Optional.of("stopped (" + reason + "), not idle"), no.why());
        }
        assertEquals(Optional.of("no stop record from its agent"),
                WakePolicy.judge(LABELLED, "exited", Optional.empty(), FIXED).why());
        assertEquals(Optional.of("running"), WakePolicy.judge(LABELLED, "running", stoppedFor("idle"), FIXED).why());
        assertFalse(WakePolicy.judge(Map.of(), "exited", stoppedFor("idle"), FIXED).wakeable());
        assertFalse(WakePolicy.judge(Map.of("io.idlewatch.wake", "yes"), "exited", stoppedFor("idle"), FIXED).wakeable());
        assertTrue(WakePolicy.judge(Map.of("io.idlewatch.wake", "TRUE"), "exited", stoppedFor("idle"), FIXED).wakeable());
    }

    @Test
    void aPortTheEnginePicksAtEachStartCannotWake() {
        List<PortBinding> unfixed = List.of(new PortBinding(4096, "tcp", "", 0), new PortBinding(53, "udp", "", 5353));
        WakePolicy.Verdict v = WakePolicy.judge(LABELLED, "exited", stoppedFor("idle"), unfixed);
        assertEquals(Optional.of("no fixed host port ((any port)->4096/tcp): publish with -p HOSTPORT:PORT"), v.why());
        assertEquals(Optional.of("no published TCP port"),
                WakePolicy.judge(LABELLED, "exited", stoppedFor("idle"), List.of()).why());
    }
}
