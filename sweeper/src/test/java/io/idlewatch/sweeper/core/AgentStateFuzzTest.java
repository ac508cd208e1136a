package io.idlewatch.sweeper.core;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import io.idlewatch.sweeper.docker.ContainerSummary;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The state file as a hostile workspace writes it: any bytes. {@link AgentState#parse} documents
 * no exception at all, and neither does judging the record it yields.
 */
class AgentStateFuzzTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");

    @FuzzTest(maxDuration = "15s")
    void parse(@NotNull byte[] data) {
        Optional<AgentState> state = AgentState.parse(data);
        if (state.isEmpty()) {
            return;
        }
        for (String containerState : new String[] {"running", "exited"}) {
            WorkspaceStatus row = new WorkspaceStatus(new ContainerSummary("id", "name", containerState, Map.of(), NOW),
                    WorkspaceStatus.FileRead.PRESENT, state, Optional.of(137), Optional.empty());
            row.record(NOW);
            row.sinceUpdate(NOW);
            row.displayName();
        }
    }
}
