package io.idlewatch.sweeper.core;

import java.time.Instant;
import java.util.Optional;

/** What one sweep did with one container, and why. */
public record ContainerOutcome(String id, String name, String workspace, Action action, SkipReason skipReason,
                               String detail, long reclaimedBytes, Optional<Instant> eligibleAt) {

    public enum Action { REMOVED, SKIPPED, FAILED }

    /** The reasons a listed container is left alone; the summary counts each. */
    public enum SkipReason {
        KEEP("keep label"),
        TOO_YOUNG("too young"),
        /** Exited without anyone deciding it (stopped from outside, killed): kept for the longer unplanned age. */
        UNPLANNED("unplanned stop"),
        NOT_REMOVABLE("running again"),
        GONE("already gone"),
        /**
         * Another removal (a second sweep, a watcher, {@code docker rm}) has it: another sweep's claim
         * is on it (see {@link Sweeper}), the engine shows it as {@code removing}, or refuses our
         * DELETE as already in progress. That removal is the one that reports it; counting it here
         * too would report one container removed twice.
         */
        REMOVING("removed elsewhere"),
        CONFLICT("conflict"),
        NOT_SELECTED("labels do not match"),
        STOPPING("stopping");

        public final String label;

        SkipReason(String label) {
            this.label = label;
        }
    }

    public String shortId() {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    static ContainerOutcome removed(Candidate c, String detail, long bytes) {
        return new ContainerOutcome(c.id(), c.name(), c.workspace(), Action.REMOVED, null, detail, bytes, Optional.empty());
    }

    static ContainerOutcome skipped(Candidate c, SkipReason reason, String detail) {
        return skipped(c, reason, detail, Optional.empty());
    }

    static ContainerOutcome skipped(Candidate c, SkipReason reason, String detail, Optional<Instant> eligibleAt) {
        return new ContainerOutcome(c.id(), c.name(), c.workspace(), Action.SKIPPED, reason, detail, 0, eligibleAt);
    }

    static ContainerOutcome failed(Candidate c, String detail) {
        return new ContainerOutcome(c.id(), c.name(), c.workspace(), Action.FAILED, null, detail, 0, Optional.empty());
    }

    /** The identity of a listed container, as far as an outcome needs it. */
    record Candidate(String id, String name, String workspace) {
    }
}
