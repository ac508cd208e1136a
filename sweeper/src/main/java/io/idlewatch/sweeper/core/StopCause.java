package io.idlewatch.sweeper.core;

import io.idlewatch.contract.StateRecord;
import io.idlewatch.sweeper.core.WorkspaceStatus.StateRead;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;

/**
 * Whether an exited workspace's stop was decided — by the agent (idle, lifetime), by someone on
 * purpose ({@code idlewatch stop}) or by the workload itself ending — or happened to it: stopped
 * from outside ({@code docker stop}, an engine shutdown, a host reboot), killed with no final
 * record (SIGKILL, OOM, an engine crash). Only a decided stop may go after {@code older_than}; the
 * others hold someone's work that nobody chose to drop, and wait for the longer unplanned age.
 *
 * <p>The record comes from inside the workspace, so it is only believed where believing it keeps
 * the container longer or concerns no one but the workspace itself: anything unreadable, a stop
 * that is not a decided one, or a record left by an earlier run of the container is unplanned.
 *
 * @param planned whether the stop was decided
 * @param why     what the sweeper and {@code ps} say about it, e.g. {@code signal (stopped from outside)}
 */
public record StopCause(boolean planned, String why) {

    /** The final-record reasons of a decided stop (SPEC §4). */
    public static final Set<String> PLANNED_REASONS = Set.of(StateRecord.Stop.REASON_IDLE, StateRecord.Stop.REASON_LIFETIME,
            StateRecord.Stop.REASON_MANUAL, StateRecord.Stop.REASON_WORKLOAD_EXIT);
    /** Exit codes 128+N: the process was ended by signal N (up to 64, Linux' last signal). */
    static final int SIGNALLED_MIN = 129;
    static final int SIGNALLED_MAX = 128 + 64;

    /**
     * The cause of an exited container's stop.
     *
     * @param exitCode the engine's exit code for it
     * @param started  when the engine last started it, to tell this run's record from an earlier one's
     * @param read     its agent's state file as read just now
     */
    public static StopCause of(int exitCode, Optional<Instant> started, StateRead read) {
        switch (read.read()) {
            case ABSENT:
                // No agent ever wrote here: the engine's exit code is all there is.
                return exitCode >= SIGNALLED_MIN && exitCode <= SIGNALLED_MAX
                        ? new StopCause(false, "no agent, killed by signal " + (exitCode - 128) + " (exit " + exitCode + ")")
                        : new StopCause(true, "no agent, exit " + exitCode);
            case TOO_LARGE:
            case UNREADABLE:
                return new StopCause(false, "state file unreadable (exit " + exitCode + ")");
            default:
                break;
        }
        AgentState agent = read.agent().orElseThrow();
        Optional<AgentState.Stop> stop = agent.stop();
        boolean stopRecorded = agent.state().filter(s -> !s.equals(StateRecord.STATE_RUNNING)).isPresent() && stop.isPresent();
        if (!stopRecorded) {
            return new StopCause(false, "no final record, agent killed (exit " + exitCode + ")");
        }
        Optional<Instant> at = stop.get().at();
        // The record is written to the container's writable layer, so it outlives a restart: a stop
        // recorded before this run started is the previous run's, and says nothing about this one.
        Optional<Instant> run = started.map(s -> s.truncatedTo(ChronoUnit.SECONDS));
        if (at.isEmpty() || run.isPresent() && at.get().isBefore(run.get())) {
            return new StopCause(false, "no final record for this run, agent killed (exit " + exitCode + ")");
        }
        String reason = stop.get().reason().orElse("unknown");
        if (PLANNED_REASONS.contains(reason)) {
            return new StopCause(true, reason);
        }
        if (reason.equals(StateRecord.Stop.REASON_SIGNAL)) {
            return new StopCause(false, "signal (stopped from outside: docker stop, engine shutdown or host reboot)");
        }
        return new StopCause(false, "unknown stop reason");
    }
}
