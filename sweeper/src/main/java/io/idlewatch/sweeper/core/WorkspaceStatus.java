package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One workspace as {@code ps} shows it: the engine's view plus, when there is one, the agent's
 * state file. The file is read through the archive endpoint, never with exec, so looking does
 * not count as activity in the workspace.
 */
public record WorkspaceStatus(ContainerSummary container, Optional<AgentState> agent) {

    /** What {@code ps} lists by default: workspaces that are up. */
    public static final List<String> UP_STATES = List.of("running", "paused", "restarting");

    public String displayName() {
        String label = container.labels().get(Labels.WORKSPACE);
        if (label != null && !label.isBlank()) {
            return label;
        }
        return agent.flatMap(AgentState::workspace).orElse(container.name());
    }

    public static List<WorkspaceStatus> list(DockerApi docker, LabelSelector selector, boolean all, int parallelism) {
        List<ContainerSummary> listed = docker.list(selector.filters(), all ? List.of() : UP_STATES).stream()
                .filter(c -> selector.matches(c.labels()))
                .filter(c -> all || UP_STATES.contains(c.state()))
                .toList();
        List<WorkspaceStatus> statuses = new ArrayList<>(Parallel.map(listed, parallelism, "idlewatch-ps",
                container -> new WorkspaceStatus(container, readAgentState(docker, container))));
        statuses.sort(Comparator.comparing(WorkspaceStatus::displayName).thenComparing(s -> s.container().id()));
        return statuses;
    }

    private static Optional<AgentState> readAgentState(DockerApi docker, ContainerSummary container) {
        try {
            return docker.readFile(container.id(), AgentState.PATH)
                    .or(() -> docker.readFile(container.id(), AgentState.FALLBACK_PATH))
                    .flatMap(AgentState::parse);
        } catch (RuntimeException unreadable) {
            // A workspace whose state cannot be read shows as unknown; it never fails the listing.
            return Optional.empty();
        }
    }
}
