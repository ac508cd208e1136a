package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;
import io.idlewatch.contract.StateLink;
import io.idlewatch.contract.StateRecord;

import io.idlewatch.sweeper.docker.ContainerDetails;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One workspace as {@code ps} shows it: the engine's view plus, when there is one, the agent's
 * state file (and, for a container that is not up, its exit code from a fresh inspect). The file is
 * read through the archive endpoint, never with exec, so looking does not count as activity in the
 * workspace. Whatever goes wrong reading one workspace is that row's problem only.
 */
public record WorkspaceStatus(ContainerSummary container, FileRead read, Optional<AgentState> agent,
                              Optional<Integer> exitCode, Optional<String> problem, Optional<ContainerDetails> details) {

    /** Without a fresh inspect (a workspace that is up). */
    public WorkspaceStatus(ContainerSummary container, FileRead read, Optional<AgentState> agent,
                           Optional<Integer> exitCode, Optional<String> problem) {
        this(container, read, agent, exitCode, problem, Optional.empty());
    }

    /**
     * For an exited workspace, whether its stop was decided, as the sweep judges it (the same
     * record, the same rules); empty for any other state or when the fresh inspect failed.
     */
    public Optional<StopCause> stopCause() {
        return details.filter(d -> "exited".equals(d.state()))
                .map(d -> StopCause.of(d.exitCode(), d.started(), new StateRead(read, agent, problem)));
    }

    /**
     * Until when {@code sweep} under {@code policy} keeps an exited workspace whose stop nobody
     * decided; empty for a decided stop and for any other state.
     */
    public Optional<Instant> keptUntil(SweepPolicy policy) {
        Optional<StopCause> unplanned = stopCause().filter(c -> !c.planned());
        if (unplanned.isEmpty()) {
            return Optional.empty();
        }
        ContainerDetails d = details.orElseThrow();
        Instant since = d.finished().orElse(d.created());
        return Optional.of(since.plus(policy.forContainer(d.labels()).olderThan(unplanned.get())));
    }

    /** What {@code ps} lists by default: workspaces that are up. */
    public static final List<String> UP_STATES = List.of("running", "paused", "restarting");
    /** A record younger than this many poll intervals is live... */
    static final int STALE_POLLS = 3;
    /** ...or younger than one poll interval plus this, whichever is longer (a busy host writes late). */
    static final Duration STALE_SLACK = Duration.ofSeconds(30);

    /** How reading the state file went. */
    public enum FileRead { PRESENT, ABSENT, TOO_LARGE, UNREADABLE }

    /** What the state file's record is worth now; {@link #json()} is its name in {@code --json}. */
    public enum Record {
        /** The agent is writing it: idle time as of the last poll. */
        LIVE,
        /** Not updated for several polls (agent hung or frozen), or an exited container's last running record. */
        STALE,
        /** The agent's last record, written as it stopped. */
        FINAL,
        /** No state file. */
        NONE,
        TOO_LARGE,
        UNREADABLE;

        public String json() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public boolean up() {
        return UP_STATES.contains(container.state());
    }

    /** The record's worth as of {@code now}. */
    public Record record(Instant now) {
        switch (read) {
            case ABSENT:
                return Record.NONE;
            case TOO_LARGE:
                return Record.TOO_LARGE;
            case UNREADABLE:
                return Record.UNREADABLE;
            default:
                break;
        }
        AgentState state = agent.orElseThrow();
        boolean stopped = state.state().filter("stopped"::equals).isPresent();
        if (!up()) {
            return stopped ? Record.FINAL : Record.STALE;
        }
        return fresh(state, now) ? (stopped ? Record.FINAL : Record.LIVE) : Record.STALE;
    }

    /** How long since the agent last wrote, when it said. */
    public Optional<Duration> sinceUpdate(Instant now) {
        return agent.flatMap(AgentState::updated).map(updated -> Duration.between(updated, now));
    }

    /** Written within max(3 polls, 1 poll + 30 s) of now (either way: a clock ahead is no better). */
    static boolean fresh(AgentState state, Instant now) {
        if (state.updated().isEmpty()) {
            return false;
        }
        Duration poll = state.pollInterval();
        Duration threshold = poll.multipliedBy(STALE_POLLS);
        Duration slack = poll.plus(STALE_SLACK);
        if (slack.compareTo(threshold) > 0) {
            threshold = slack;
        }
        Duration age = Duration.between(state.updated().get(), now).abs();
        return age.compareTo(threshold) <= 0;
    }

    /** The label, else (if the file is readable) the name the agent reports, else the container's name. */
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
                container -> look(docker, container)));
        statuses.sort(Comparator.comparing(WorkspaceStatus::displayName).thenComparing(s -> s.container().id()));
        return statuses;
    }

    private static WorkspaceStatus look(DockerApi docker, ContainerSummary container) {
        WorkspaceStatus read = readAgentState(docker, container);
        if (UP_STATES.contains(container.state())) {
            return read;
        }
        // The engine's exit code says what the agent could not: e.g. 137, killed from the host.
        Optional<ContainerDetails> details;
        try {
            details = Optional.of(docker.inspect(container.id()));
        } catch (RuntimeException gone) {
            details = Optional.empty();
        }
        return new WorkspaceStatus(container, read.read, read.agent, details.map(ContainerDetails::exitCode), read.problem,
                details);
    }

    /**
     * The record the agent also keeps as the target of {@link StateLink#NAME} beside its state
     * file, read with a stat (about 1 ms, against some 45 ms for an archive of the file on Docker).
     * Empty, and the file is read instead, for anything but a well-formed record there: no link
     * (an older agent, a record too long for one), an endpoint that cannot stat, or an error.
     */
    static Optional<AgentState> readLink(DockerApi docker, String id, String dir) {
        Optional<String> target;
        try {
            target = docker.linkTarget(id, dir + "/" + StateLink.NAME);
        } catch (RuntimeException e) {
            return Optional.empty(); // the archive read that follows says what is wrong, if anything
        }
        // Docker and Podman report the target resolved in the directory; an engine may report it as written
        String encoded = target.map(t -> t.startsWith(dir + "/") ? t.substring(dir.length() + 1) : t).orElse(null);
        if (encoded == null) {
            return Optional.empty();
        }
        // as the agent writes it (its format version, a state, the time it wrote), else the file has a say
        return StateLink.decode(encoded).flatMap(AgentState::parse)
                .filter(a -> Integer.valueOf(StateRecord.FORMAT_VERSION).equals(a.record().version())
                        && a.state().isPresent() && a.updated().isPresent());
    }

    private static WorkspaceStatus readAgentState(DockerApi docker, ContainerSummary container) {
        StateRead read = readState(docker, container.id());
        return new WorkspaceStatus(container, read.read(), read.agent(), Optional.empty(), read.problem());
    }

    /** What reading one container's state file gave: how it went, the record if any, and the problem if not. */
    public record StateRead(FileRead read, Optional<AgentState> agent, Optional<String> problem) {
    }

    /**
     * The agent's record in one container, running or not: the link first, else the file, each at
     * its usual place then its fallback. Bounded and strict; never throws.
     */
    public static StateRead readState(DockerApi docker, String id) {
        Optional<AgentState> linked = readLink(docker, id, StateRecord.DIR)
                .or(() -> readLink(docker, id, StateRecord.FALLBACK_DIR));
        if (linked.isPresent()) {
            return new StateRead(FileRead.PRESENT, linked, Optional.empty());
        }
        Optional<byte[]> content;
        try {
            content = docker.readFile(id, AgentState.PATH, AgentState.MAX_FILE_BYTES)
                    .or(() -> docker.readFile(id, AgentState.FALLBACK_PATH, AgentState.MAX_FILE_BYTES));
        } catch (DockerException.TooLarge tooLarge) {
            return new StateRead(FileRead.TOO_LARGE, Optional.empty(),
                    Optional.of("state file too large (" + (tooLarge.size() >= 0 ? Sizes.human(tooLarge.size()) + ", " : "")
                            + "limit " + Sizes.human(AgentState.MAX_FILE_BYTES) + ")"));
        } catch (RuntimeException unreadable) {
            // A workspace whose state cannot be read shows as such; it never fails the listing.
            return new StateRead(FileRead.UNREADABLE, Optional.empty(),
                    Optional.of("state file unreadable: " + unreadable.getMessage()));
        }
        if (content.isEmpty()) {
            return new StateRead(FileRead.ABSENT, Optional.empty(), Optional.empty());
        }
        Optional<AgentState> state = AgentState.parse(content.get());
        return state.isPresent()
                ? new StateRead(FileRead.PRESENT, state, Optional.empty())
                : new StateRead(FileRead.UNREADABLE, Optional.empty(),
                        Optional.of("state file unreadable: not one well-formed JSON object within bounds"));
    }
}
