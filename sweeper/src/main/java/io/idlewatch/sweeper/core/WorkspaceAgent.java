package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;
import io.idlewatch.contract.StateRecord;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerException;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The host verbs ({@code idlewatch timeout|touch|stop WS}): find the workspace's container and run
 * the agent's own client in it through the Engine API's exec, so the image needs no shell. The
 * agent decides (it enforces {@code IDLEWATCH_MAX_TIMEOUT}); we pass its answer on.
 *
 * <p>Everything the exec prints comes from inside the container, so from whoever controls the
 * image: it is bounded here and sanitised by the caller before it reaches a terminal.
 */
public final class WorkspaceAgent {

    /** The agent's launcher, where every workspace image puts it (SPEC §1). */
    public static final String CLIENT = "/opt/idlewatch/bin/idlewatch";
    /**
     * The agent's answers are one short line; a client that prints more is not ours, and more
     * than this is read and dropped so it cannot fill our memory.
     */
    public static final int MAX_OUTPUT_BYTES = 16 * 1024;
    /**
     * How long the exec may take: the engine's exec into a possibly busy container (tens of ms
     * here, seconds under load), the native client and one request on the control socket, which
     * the client itself bounds (30 s for an answer). A hung one is reported, never waited on forever.
     */
    public static final Duration EXEC_LIMIT = Duration.ofSeconds(30);
    /** Longer is no workspace name or container id; it would only be quoted back at the user. */
    static final int MAX_REFERENCE_CHARS = 256;
    /** What an id prefix looks like: lower-case hex, as the engine prints ids. */
    static final String ID_PREFIX = "[0-9a-f]{1,64}";
    /** Exit codes of the in-container client (agent ControlCommands): agent unreachable; usage or refused. */
    static final int CLIENT_UNREACHABLE = 1;
    static final int CLIENT_REFUSED = 2;
    /** What the engine's exec reports when the command cannot start: not executable, not found. */
    static final int EXEC_CANNOT_RUN = 126;
    static final int EXEC_NOT_FOUND = 127;
    /** The verb whose success ends the container, and with it the client the exec is running. */
    static final String STOP = "stop";
    /** Exec exit codes 128+N: the client was ended by signal N (up to 64, Linux' last signal). */
    static final int SIGNALLED_MIN = 129;
    static final int SIGNALLED_MAX = 128 + 64;

    private final DockerApi docker;

    public WorkspaceAgent(DockerApi docker) {
        this.docker = docker;
    }

    /** The container a verb acts on. */
    public record Target(String id, String name, String workspace, String state) {
        /** {@code ws-alpha (3f2a1b9c4d5e)}, or the container's name when it has no workspace label. */
        public String display() {
            String shortId = id.length() > 12 ? id.substring(0, 12) : id;
            return (workspace != null ? workspace : name) + " (" + shortId + ")";
        }
    }

    /**
     * The name matches no managed container, or more than one (several running containers of one
     * workspace, an id prefix shared by several): exit 4, with what was looked for.
     */
    public static final class UnknownWorkspace extends RuntimeException {
        UnknownWorkspace(String message) {
            super(message);
        }
    }

    /** The agent answered no (a timeout above the maximum, a stop already under way): exit 2, its line. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    /** Nothing to talk to: not running, no agent in the container, or an agent that does not answer. */
    public static final class NoAgent extends RuntimeException {
        NoAgent(String message) {
            super(message);
        }
    }

    /**
     * The managed container (label {@value Labels#MANAGED}{@code =true}) that {@code reference}
     * names, looked for only among managed containers, in this order: a workspace name (label
     * {@value Labels#WORKSPACE}), a container's exact name, its full id, an id prefix that only one
     * of them has. A workspace name with several containers picks the running one; several running
     * is ambiguous. Never the engine's own lookup by name or id prefix: that matches any container,
     * and a host verb must not exec into something that is not a workspace.
     *
     * @throws UnknownWorkspace nothing managed, or more than one, answers to it
     */
    public Target resolve(String reference) {
        if (reference == null || reference.isBlank() || reference.length() > MAX_REFERENCE_CHARS
                || reference.chars().anyMatch(Character::isISOControl)) {
            throw new UnknownWorkspace("not a workspace name or container id: \"" + reference
                    + "\" (e.g. ws-alpha, or an id from 'idlewatch ps')");
        }
        LabelSelector managed = LabelSelector.managedAnd(List.of());
        // The engine's filter, checked again on our side.
        List<ContainerSummary> workspaces = docker.list(managed.filters(), List.of()).stream()
                .filter(c -> managed.matches(c.labels())).toList();
        List<ContainerSummary> named = workspaces.stream()
                .filter(c -> reference.equals(c.labels().get(Labels.WORKSPACE))).toList();
        if (!named.isEmpty()) {
            List<ContainerSummary> running = named.stream().filter(c -> "running".equals(c.state())).toList();
            if (running.size() > 1) {
                throw new UnknownWorkspace("workspace " + reference + " has " + running.size() + " running containers ("
                        + String.join(", ", running.stream().map(ContainerSummary::shortId).toList())
                        + "); name one by container id");
            }
            ContainerSummary pick = running.isEmpty()
                    ? named.stream().max(Comparator.comparing(ContainerSummary::created)).orElseThrow()
                    : running.get(0);
            return target(pick);
        }
        Optional<ContainerSummary> exact = workspaces.stream()
                .filter(c -> reference.equals(c.name()) || reference.equals(c.id())).findFirst();
        if (exact.isPresent()) {
            return target(exact.get());
        }
        if (reference.matches(ID_PREFIX)) {
            List<ContainerSummary> prefixed = workspaces.stream().filter(c -> c.id().startsWith(reference)).toList();
            if (prefixed.size() == 1) {
                return target(prefixed.get(0));
            }
            if (prefixed.size() > 1) {
                throw new UnknownWorkspace("container id prefix " + reference + " matches " + prefixed.size()
                        + " workspaces (" + String.join(", ", prefixed.stream().map(ContainerSummary::shortId).toList())
                        + "); give more of the id");
            }
        }
        throw new UnknownWorkspace("no workspace named " + reference + ": no container labelled "
                + Labels.MANAGED + "=true has that workspace name, container name, id or id prefix");
    }

    private static Target target(ContainerSummary c) {
        return new Target(c.id(), c.name(), c.labels().get(Labels.WORKSPACE), c.state());
    }

    /**
     * Runs {@code idlewatch ARGS…} in the target and returns the agent's answer line.
     *
     * @throws Refused  the agent (or its client's argument check) said no
     * @throws NoAgent  not running, no agent, or an agent that does not answer
     */
    public String run(Target target, List<String> args) {
        if (!"running".equals(target.state())) {
            throw new NoAgent(target.display() + " is " + target.state() + ", not running: there is no agent to ask");
        }
        List<String> command = new ArrayList<>(args.size() + 1);
        command.add(CLIENT);
        command.addAll(args);
        DockerApi.ExecResult result;
        try {
            result = docker.exec(target.id(), command, MAX_OUTPUT_BYTES, EXEC_LIMIT);
        } catch (DockerException.NotFound gone) {
            throw new NoAgent(target.display() + " is gone");
        } catch (DockerException.Conflict notRunning) {
            // Not running or paused: the engine's sentence says which.
            throw new NoAgent(target.display() + ": " + notRunning.getMessage());
        }
        String out = firstLine(result.stdout());
        String err = firstLine(result.stderr());
        String said = err.isEmpty() ? out : err;
        if (STOP.equals(args.get(0)) && (result.exitCode() == 0 || stopEndedTheClient(target, result.exitCode()))) {
            // The container's end may also cut the client's answer short on its way to us.
            return out.isEmpty() ? "stopping now (" + StateRecord.Stop.REASON_MANUAL + "; the container ended before the agent's answer reached us)" : out;
        }
        return switch (result.exitCode()) {
            case 0 -> out;
            case CLIENT_REFUSED -> throw new Refused(target.display() + ": " + said);
            case CLIENT_UNREACHABLE -> throw new NoAgent("the idlewatch agent in " + target.display()
                    + " does not answer: " + said);
            // Docker prints the runtime's reason on stdout: "OCI runtime exec failed: ... no such file or directory".
            case EXEC_CANNOT_RUN, EXEC_NOT_FOUND -> throw new NoAgent("no idlewatch agent in " + target.display()
                    + ": " + CLIENT + " cannot run there (" + said + ")");
            default -> throw new NoAgent(CLIENT + " in " + target.display() + " exited " + result.exitCode()
                    + (said.isEmpty() ? "" : ": " + said));
        };
    }

    /**
     * A stop that worked kills the client that asked for it: when the agent, as PID 1, has stopped
     * the workload it exits, and the engine ends every process left in the container, the exec'd
     * client included, often before its answer reached us (Docker reports 137 and no output). So a
     * client killed by a signal, or one whose exit code the engine could not tell (-1), counts as
     * success exactly when the agent's state file, written before the sequence starts, records the
     * manual stop.
     */
    private boolean stopEndedTheClient(Target target, int exitCode) {
        if (!(exitCode >= SIGNALLED_MIN && exitCode <= SIGNALLED_MAX || exitCode < 0)) {
            return false;
        }
        try {
            Optional<byte[]> file = docker.readFile(target.id(), AgentState.PATH, AgentState.MAX_FILE_BYTES)
                    .or(() -> docker.readFile(target.id(), AgentState.FALLBACK_PATH, AgentState.MAX_FILE_BYTES));
            return file.flatMap(AgentState::parse).flatMap(AgentState::stop).flatMap(AgentState.Stop::reason)
                    .filter(StateRecord.Stop.REASON_MANUAL::equals).isPresent();
        } catch (RuntimeException unreadable) {
            // No proof the stop began: the caller reports the killed client as it is.
            return false;
        }
    }

    /**
     * The first non-blank line, without the client's own {@code idlewatch: } prefix (the host adds
     * its own). Undecodable bytes become U+FFFD; the caller strips control characters.
     */
    static String firstLine(byte[] output) {
        String text = new String(output, StandardCharsets.UTF_8);
        for (String line : text.split("\r?\n|\r")) {
            if (!line.isBlank()) {
                String l = line.strip();
                return l.startsWith("idlewatch: ") ? l.substring("idlewatch: ".length()) : l;
            }
        }
        return "";
    }
}
