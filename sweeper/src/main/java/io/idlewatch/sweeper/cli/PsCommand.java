package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.idlewatch.contract.Durations;
import io.idlewatch.sweeper.config.ConfigException;
import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.config.HostConfigLoader;
import io.idlewatch.sweeper.core.AgentState;
import io.idlewatch.sweeper.core.StopCause;
import io.idlewatch.sweeper.core.SweepPolicy;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.core.WakePolicy;
import io.idlewatch.sweeper.core.WorkspaceStatus;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.PortBinding;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code idlewatch ps}: every workspace's idle state, read without touching the workspace. */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = "List workspaces (io.idlewatch.managed=true): idle time, last activity, lifetime left, "
                + "and why stopped ones stopped. Reads each agent's state file through the archive API, "
                + "so looking never counts as activity.")
final class PsCommand implements Callable<Integer> {

    static final String UNKNOWN = "-";
    private static final String[] HEADER = {"NAME", "CONTAINER", "STATE", "IDLE", "LAST ACTIVITY", "LIFETIME LEFT", "STOPPED", "KEPT UNTIL"};

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

    @Option(names = "--config", paramLabel = "FILE",
            description = "Host config (TOML) whose unplanned_older_than says until when a workspace stopped from "
                    + "outside is kept. Default: as sweep's.")
    Path config;

    @Override
    public Integer call() {
        LabelSelector selector;
        try {
            selector = LabelSelector.managedAnd(labels);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
        // What sweep would do with an exited workspace depends on the host config: read as sweep reads it.
        SweepPolicy policy = new SweepPolicy(HostConfigLoader.load(config, parent.context.env()), Optional.empty(),
                Optional.empty(), parent.context.createdGrace());
        PrintWriter out = spec.commandLine().getOut();
        try (DockerApi docker = parent.connect()) {
            List<WorkspaceStatus> workspaces = WorkspaceStatus.list(docker, selector, all, Sweeper.DEFAULT_PARALLELISM);
            Instant now = parent.context.clock().instant();
            Map<String, WakePolicy.Verdict> wake = wakeVerdicts(docker, workspaces);
            if (json) {
                out.println(JsonOutput.write(json(workspaces, wake, now, policy)));
            } else {
                // The WAKE column only where there is something to say: tables without wakes stay as they were.
                boolean wakeColumn = !wake.isEmpty() || workspaces.stream().anyMatch(w -> woken(w).isPresent());
                List<String[]> rows = new ArrayList<>();
                rows.add(wakeColumn ? append(HEADER, "WAKE") : HEADER);
                workspaces.forEach(w -> rows.add(cells(wakeColumn
                        ? append(row(w, now, policy), wakeCell(w, wake.get(w.container().id()), now))
                        : row(w, now, policy))));
                printTable(rows, out);
            }
            out.flush();
            return ExitCodes.OK;
        }
    }

    static String[] row(WorkspaceStatus w, Instant now) {
        return row(w, now, SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()));
    }

    static String[] row(WorkspaceStatus w, Instant now, SweepPolicy policy) {
        Optional<AgentState> agent = w.agent();
        WorkspaceStatus.Record record = w.record(now);
        return new String[] {
                w.displayName(),
                w.container().shortId(),
                w.container().state(),
                idleColumn(w, record, now),
                agent.flatMap(a -> a.lastActivity().map(at -> Durations.formatShort(Duration.between(at, now)) + " ago"
                        + a.lastActivitySignal().map(s -> " (" + s + ")").orElse(""))).orElse(UNKNOWN),
                record == WorkspaceStatus.Record.LIVE
                        ? agent.flatMap(AgentState::lifetimeLeft).map(Durations::formatShort).orElse(UNKNOWN) : UNKNOWN,
                w.up() ? UNKNOWN : stopped(w, record),
                w.keptUntil(policy).map(until -> until.truncatedTo(ChronoUnit.SECONDS).toString()).orElse(UNKNOWN),
        };
    }

    /** For each workspace labelled io.idlewatch.wake=true: whether a connection would wake it now, and on what. */
    static Map<String, WakePolicy.Verdict> wakeVerdicts(DockerApi docker, List<WorkspaceStatus> workspaces) {
        Map<String, WakePolicy.Verdict> verdicts = new HashMap<>();
        for (WorkspaceStatus w : workspaces) {
            if (!WakePolicy.labelled(w.container().labels())) {
                continue;
            }
            List<PortBinding> bindings;
            try {
                bindings = docker.network(w.container().id()).bindings();
            } catch (RuntimeException gone) {
                continue; // removed meanwhile: its row says what it can
            }
            verdicts.put(w.container().id(), WakePolicy.judge(w.container().labels(), w.container().state(), w.agent(), bindings));
        }
        return verdicts;
    }

    private static Optional<io.idlewatch.contract.StateRecord.Wake> woken(WorkspaceStatus w) {
        return w.up() ? w.agent().flatMap(AgentState::woken) : Optional.empty();
    }

    /**
     * {@code woken 3m ago via 127.0.0.1:8080/tcp from 10.0.0.5:50312} for a running workspace a wake
     * started; for a stopped labelled one, {@code on connect to 127.0.0.1:8080} or why not.
     */
    static String wakeCell(WorkspaceStatus w, WakePolicy.Verdict verdict, Instant now) {
        Optional<io.idlewatch.contract.StateRecord.Wake> woken = woken(w);
        if (woken.isPresent()) {
            var wake = woken.get();
            return "woken " + Durations.formatShort(Duration.between(wake.at(), now).abs()) + " ago via " + wake.via()
                    + (wake.from() == null ? "" : " from " + wake.from());
        }
        if (verdict == null) {
            return UNKNOWN;
        }
        if (w.up()) {
            return verdict.ports().isEmpty() && !verdict.unfixed().isEmpty()
                    ? "never: no fixed host port (" + String.join(", ", verdict.unfixed().stream().map(PortBinding::display).toList()) + ")"
                    : verdict.ports().isEmpty() ? "never: no published TCP port" : "after an idle stop";
        }
        return verdict.wakeable()
                ? "on connect to " + String.join(", ", verdict.ports().stream().map(PortBinding::hostAddress).toList())
                : "no: " + verdict.why().orElse("?");
    }

    private static String[] append(String[] row, String cell) {
        String[] longer = Arrays.copyOf(row, row.length + 1);
        longer[row.length] = cell;
        return longer;
    }

    /** Idle time only from a record that is live (or final, as of the stop); else what the record is. */
    private static String idleColumn(WorkspaceStatus w, WorkspaceStatus.Record record, Instant now) {
        java.util.Optional<String> down = w.up() ? w.agent().flatMap(AgentState::agentDown) : java.util.Optional.empty();
        if (down.isPresent() && (record == WorkspaceStatus.Record.LIVE || record == WorkspaceStatus.Record.STALE)) {
            // the init keeps the workload running; what it says about the agent comes last (cells are cut)
            return "agent down (" + updated(w, now) + ")" + down.get().substring("down".length());
        }
        return switch (record) {
            case LIVE, FINAL -> idle(w.agent().orElseThrow()) + degradedPastTimeout(w.agent().orElseThrow());
            case STALE -> w.up() ? (w.container().state().equals("paused") ? "paused" : "stale")
                    + " (" + updated(w, now) + ")" : UNKNOWN;
            case NONE -> UNKNOWN;
            case TOO_LARGE -> "state file too large";
            case UNREADABLE -> "state file unreadable";
        };
    }

    private static String updated(WorkspaceStatus w, Instant now) {
        return w.sinceUpdate(now).map(age -> age.isNegative()
                ? "updated " + Durations.formatShort(age.negated()) + " ahead"
                : "updated " + Durations.formatShort(age) + " ago").orElse("no update time");
    }

    /**
     * {@code , opencode degraded 42m}: a sensor degraded without a break for longer than the idle
     * timeout, which alone keeps the workspace running (a broken sensor counts as activity).
     */
    static String degradedPastTimeout(AgentState agent) {
        StringBuilder b = new StringBuilder();
        agent.degradedPastTimeout().forEach((name, d) -> b.append(", ").append(name).append(" degraded ")
                .append(Durations.formatShort(d)));
        return b.toString();
    }

    /** {@code idle: 23m / 30m}, or {@code idle: 23m / off}; as of the agent's last write (every poll). */
    static String idle(AgentState agent) {
        return agent.idle().map(idle -> "idle: " + Durations.formatShort(idle) + " / "
                + agent.timeout().map(Durations::formatShort).orElse("off")).orElse(UNKNOWN);
    }

    /** Why a container that is not up stopped: the agent's final record, else the engine's exit code. */
    private static String stopped(WorkspaceStatus w, WorkspaceStatus.Record record) {
        if (w.container().state().equals("created")) {
            return "never started";
        }
        return switch (record) {
            case FINAL -> w.agent().flatMap(AgentState::stop).map(PsCommand::why).orElse("unknown");
            case STALE, NONE -> "no final record (" + exit(w.exitCode()) + ")";
            case TOO_LARGE, UNREADABLE, LIVE -> "unknown (" + exit(w.exitCode()) + ")";
        };
    }

    /** {@code agent killed, exit 137} for a death by signal (128+N), else {@code exit N}. */
    private static String exit(Optional<Integer> code) {
        if (code.isEmpty()) {
            return "exit code unknown";
        }
        int c = code.get();
        return (c > 128 && c <= 128 + 64 ? "agent killed, " : "") + "exit " + c;
    }

    static String why(AgentState.Stop stop) {
        String reason = stop.reason().orElse("unknown");
        String why = switch (reason) {
            case "idle" -> "idle";
            case "lifetime" -> "lifetime cap";
            case "manual" -> "manual"; // idlewatch stop, from the host or inside; its reason is in the state file
            case "workload-exit" -> "workload exit " + stop.exitCode().map(String::valueOf).orElse("?");
            default -> reason + stop.detail().map(d -> ": " + d).orElse("");
        };
        return stop.frozen().map(f -> why + " (after frozen " + Durations.format(Duration.ofSeconds(f.toSeconds())) + ")")
                .orElse(why);
    }

    private static ArrayNode json(List<WorkspaceStatus> workspaces, Map<String, WakePolicy.Verdict> wake, Instant now,
                                   SweepPolicy policy) {
        ArrayNode array = JsonOutput.mapper().createArrayNode();
        for (WorkspaceStatus w : workspaces) {
            ObjectNode o = array.addObject();
            WorkspaceStatus.Record record = w.record(now);
            boolean idleValid = record == WorkspaceStatus.Record.LIVE || record == WorkspaceStatus.Record.FINAL;
            o.put("name", w.displayName());
            o.put("id", w.container().id());
            o.put("container", w.container().name());
            o.put("state", w.container().state());
            o.put("record", record.json());
            o.put("problem", w.problem().orElse(null));
            o.put("exit_code", w.exitCode().orElse(null));
            Optional<AgentState> agent = w.agent();
            o.put("updated", agent.flatMap(AgentState::updated).map(Instant::toString).orElse(null));
            o.put("idle_ms", idleValid ? agent.flatMap(AgentState::idle).map(Duration::toMillis).orElse(null) : null);
            o.put("timeout_ms", agent.flatMap(AgentState::timeout).map(Duration::toMillis).orElse(null));
            o.put("last_activity", agent.flatMap(AgentState::lastActivity).map(Instant::toString).orElse(null));
            o.put("last_activity_signal", agent.flatMap(AgentState::lastActivitySignal).orElse(null));
            var degraded = o.putArray("degraded_past_timeout"); // sensors that alone keep it running
            agent.ifPresent(a -> a.degradedPastTimeout().keySet().forEach(degraded::add));
            o.put("lifetime_left_ms", record == WorkspaceStatus.Record.LIVE
                    ? agent.flatMap(AgentState::lifetimeLeft).map(Duration::toMillis).orElse(null) : null);
            o.put("stop_reason", agent.flatMap(AgentState::stop).flatMap(AgentState.Stop::reason).orElse(null));
            o.put("stop_frozen_ms", agent.flatMap(AgentState::stop).flatMap(AgentState.Stop::frozen)
                    .map(Duration::toMillis).orElse(null));
            Optional<StopCause> cause = w.stopCause();
            o.put("planned_stop", cause.map(StopCause::planned).orElse(null));
            o.put("stop_cause", cause.map(StopCause::why).orElse(null));
            o.put("kept_until", w.keptUntil(policy).map(t -> t.truncatedTo(ChronoUnit.SECONDS).toString()).orElse(null));
            ObjectNode woken = woken(w).map(k -> {
                ObjectNode n = JsonOutput.mapper().createObjectNode();
                n.put("at", k.at().toString());
                n.put("via", k.via());
                n.put("from", k.from());
                return n;
            }).orElse(null);
            o.set("woken", woken);
            WakePolicy.Verdict verdict = wake.get(w.container().id());
            if (verdict != null) {
                ObjectNode v = o.putObject("wake");
                v.put("wakeable", verdict.wakeable());
                v.put("why_not", verdict.why().orElse(null));
                ArrayNode ports = v.putArray("ports");
                verdict.ports().forEach(p -> ports.add(p.hostAddress()));
                ArrayNode unfixed = v.putArray("unfixed");
                verdict.unfixed().forEach(p -> unfixed.add(p.display()));
            } else {
                o.putNull("wake");
            }
            o.set("agent", agent.map(AgentState::raw).orElse(null));
        }
        return array;
    }

    /** Every cell through the one sanitiser: names, labels and most texts come from the workspace. */
    private static String[] cells(String[] row) {
        String[] safe = new String[row.length];
        for (int i = 0; i < row.length; i++) {
            safe[i] = TerminalText.cell(row[i]);
        }
        return safe;
    }

    private static void printTable(List<String[]> rows, PrintWriter out) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].codePointCount(0, row[i].length()));
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(row[i]);
                if (i < row.length - 1) {
                    line.append(" ".repeat(widths[i] + 3 - row[i].codePointCount(0, row[i].length())));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
