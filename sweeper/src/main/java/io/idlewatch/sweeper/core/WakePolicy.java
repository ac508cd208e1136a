package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;
import io.idlewatch.contract.StateRecord;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.PortBinding;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which stopped workspaces a connection may wake, and on which ports (SPEC §2, §4): labelled
 * {@value Labels#WAKE}{@code =true}, exited, and stopped by its agent for idleness. Any other stop —
 * {@code idlewatch stop}, {@code docker stop}, the lifetime cap, the workload's own end, no record at
 * all — was meant, so the workspace stays stopped. Only TCP bindings with a fixed host port can be
 * held: a binding whose port the engine picks at each start has no port to listen on meanwhile.
 */
public final class WakePolicy {

    private WakePolicy() {
    }

    /**
     * Whether a wake could start it, and through which bindings.
     *
     * @param why     the reason it cannot, for {@code ps} and the watcher's log; empty when it can
     * @param ports   the bindings a connection to which wakes it (TCP, fixed host port)
     * @param unfixed the TCP bindings that cannot wake it (no fixed host port)
     */
    public record Verdict(Optional<String> why, List<PortBinding> ports, List<PortBinding> unfixed) {
        public boolean wakeable() {
            return why.isEmpty();
        }
    }

    /** {@code io.idlewatch.wake=true} (any case); anything else, absent included, is no. */
    public static boolean labelled(Map<String, String> labels) {
        String value = labels.get(Labels.WAKE);
        return value != null && value.strip().toLowerCase(Locale.ROOT).equals("true");
    }

    public static Verdict judge(Map<String, String> labels, String state, Optional<AgentState> record,
                                List<PortBinding> bindings) {
        List<PortBinding> tcp = bindings.stream().filter(b -> b.protocol().equals("tcp")).toList();
        List<PortBinding> fixed = tcp.stream().filter(PortBinding::fixed).toList();
        List<PortBinding> unfixed = tcp.stream().filter(b -> !b.fixed()).toList();
        return new Verdict(whyNot(labels, state, record, fixed, unfixed), fixed, unfixed);
    }

    private static Optional<String> whyNot(Map<String, String> labels, String state, Optional<AgentState> record,
                                           List<PortBinding> fixed, List<PortBinding> unfixed) {
        if (!labelled(labels)) {
            return Optional.of("no " + Labels.WAKE + "=true label");
        }
        if (!"exited".equals(state)) {
            return Optional.of(state);
        }
        Optional<String> reason = record.flatMap(AgentState::stop).flatMap(AgentState.Stop::reason);
        if (reason.isEmpty()) {
            return Optional.of("no stop record from its agent");
        }
        if (!reason.get().equals(StateRecord.Stop.REASON_IDLE)) {
            return Optional.of("stopped (" + reason.get() + "), not idle");
        }
        if (fixed.isEmpty()) {
            return Optional.of(unfixed.isEmpty() ? "no published TCP port"
                    : "no fixed host port (" + String.join(", ", unfixed.stream().map(PortBinding::display).toList())
                      + "): publish with -p HOSTPORT:PORT");
        }
        return Optional.empty();
    }

    /** The agent's record and the directory it was found in (where a wake note goes). */
    public record Found(AgentState state, String dir) {
    }

    /** Reads the state file (the usual place, then the fallback); empty when absent or not a record. */
    public static Optional<Found> readRecord(DockerApi docker, String id) {
        for (String dir : List.of(StateRecord.DIR, StateRecord.FALLBACK_DIR)) {
            Optional<byte[]> content = docker.readFile(id, dir + "/" + StateRecord.FILE_NAME, AgentState.MAX_FILE_BYTES);
            if (content.isPresent()) {
                return AgentState.parse(content.get()).map(state -> new Found(state, dir));
            }
        }
        return Optional.empty();
    }
}
