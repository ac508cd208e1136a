package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.idlewatch.sweeper.config.Durations;
import io.idlewatch.sweeper.config.ConfigException;
import io.idlewatch.sweeper.core.AgentState;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.core.WorkspaceStatus;
import io.idlewatch.sweeper.docker.DockerApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code idlewatch ps}: every workspace's idle state, read without touching the workspace. */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = "List workspaces (io.idlewatch.managed=true): idle time, last activity, lifetime left, "
                + "and why stopped ones stopped. Reads each agent's state file through the archive API, "
                + "so looking never counts as activity.")
final class PsCommand implements Callable<Integer> {

    static final String UNKNOWN = "-";
    private static final String[] HEADER = {"NAME", "CONTAINER", "STATE", "IDLE", "LAST ACTIVITY", "LIFETIME LEFT", "STOPPED"};
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParentCommand
    IdlewatchCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--all"}, description = "Include stopped workspaces (default: running ones only).")
    boolean all;

    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    @Option(names = "--label", paramLabel = "K=V", converter = Converters.LabelConverter.class,
            description = "Also require this label (KEY=VALUE or KEY); repeatable.")
    List<String> labels = new ArrayList<>();

    @Override
    public Integer call() {
        LabelSelector selector;
        try {
            selector = LabelSelector.managedAnd(labels);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        try (DockerApi docker = parent.connect()) {
            List<WorkspaceStatus> workspaces = WorkspaceStatus.list(docker, selector, all, Sweeper.DEFAULT_PARALLELISM);
            Instant now = parent.context.clock().instant();
            if (json) {
                out.println(json(workspaces).toString());
            } else {
                List<String[]> rows = new ArrayList<>();
                rows.add(HEADER);
                workspaces.forEach(w -> rows.add(row(w, now)));
                printTable(rows, out);
            }
            out.flush();
            return ExitCodes.OK;
        }
    }

    static String[] row(WorkspaceStatus w, Instant now) {
        Optional<AgentState> agent = w.agent();
        return new String[] {
                w.displayName(),
                w.container().shortId(),
                w.container().state(),
                agent.map(PsCommand::idle).orElse(UNKNOWN),
                agent.flatMap(a -> a.lastActivity().map(at -> Durations.format(Duration.between(at, now)) + " ago"
                        + a.lastActivitySignal().map(s -> " (" + s + ")").orElse(""))).orElse(UNKNOWN),
                running(w) ? agent.flatMap(AgentState::lifetimeLeft).map(Durations::format).orElse(UNKNOWN) : UNKNOWN,
                running(w) ? UNKNOWN : agent.flatMap(AgentState::stop).map(PsCommand::why).orElse("unknown"),
        };
    }

    /** {@code idle: 23m / 30m}, or {@code idle: 23m / off}; as of the agent's last write (every poll). */
    static String idle(AgentState agent) {
        return agent.idle().map(idle -> "idle: " + Durations.format(idle) + " / "
                + agent.timeout().map(Durations::format).orElse("off")).orElse(UNKNOWN);
    }

    static String why(AgentState.Stop stop) {
        String reason = stop.reason().orElse("unknown");
        return switch (reason) {
            case "idle" -> "idle";
            case "lifetime" -> "lifetime cap";
            case "workload-exit" -> "workload exit " + stop.exitCode().map(String::valueOf).orElse("?");
            default -> reason + stop.detail().map(d -> ": " + d).orElse("");
        };
    }

    private static boolean running(WorkspaceStatus w) {
        return WorkspaceStatus.UP_STATES.contains(w.container().state());
    }

    private static ArrayNode json(List<WorkspaceStatus> workspaces) {
        ArrayNode array = JSON.createArrayNode();
        for (WorkspaceStatus w : workspaces) {
            ObjectNode o = array.addObject();
            o.put("name", w.displayName());
            o.put("id", w.container().id());
            o.put("container", w.container().name());
            o.put("state", w.container().state());
            Optional<AgentState> agent = w.agent();
            o.put("idle_ms", agent.flatMap(AgentState::idle).map(Duration::toMillis).orElse(null));
            o.put("timeout_ms", agent.flatMap(AgentState::timeout).map(Duration::toMillis).orElse(null));
            o.put("last_activity", agent.flatMap(AgentState::lastActivity).map(Instant::toString).orElse(null));
            o.put("last_activity_signal", agent.flatMap(AgentState::lastActivitySignal).orElse(null));
            o.put("lifetime_left_ms", agent.flatMap(AgentState::lifetimeLeft).map(Duration::toMillis).orElse(null));
            o.put("stop_reason", agent.flatMap(AgentState::stop).flatMap(AgentState.Stop::reason).orElse(null));
            o.set("agent", agent.map(AgentState::raw).orElse(null));
        }
        return array;
    }

    private static void printTable(List<String[]> rows, PrintWriter out) {
        int[] widths = new int[HEADER.length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (widths[i] + 3) + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
