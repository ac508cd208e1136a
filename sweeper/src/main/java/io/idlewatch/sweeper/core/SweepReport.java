package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.core.ContainerOutcome.Action;
import io.idlewatch.sweeper.core.ContainerOutcome.SkipReason;

import java.time.Instant;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Everything one sweep did, for the summary line, the JSON output and the exit code. */
public record SweepReport(boolean dryRun, List<ContainerOutcome> outcomes) {

    public SweepReport {
        outcomes = outcomes.stream()
                .sorted(Comparator.comparing(ContainerOutcome::name).thenComparing(ContainerOutcome::id))
                .toList();
    }

    public long count(Action action) {
        return outcomes.stream().filter(o -> o.action() == action).count();
    }

    public Map<SkipReason, Long> skippedByReason() {
        return outcomes.stream().filter(o -> o.action() == Action.SKIPPED)
                .collect(Collectors.groupingBy(ContainerOutcome::skipReason,
                        () -> new EnumMap<>(SkipReason.class), Collectors.counting()));
    }

    public long reclaimedBytes() {
        return outcomes.stream().mapToLong(ContainerOutcome::reclaimedBytes).sum();
    }

    /** The earliest moment a container skipped as too young becomes old enough. */
    public Optional<Instant> nextEligible() {
        return outcomes.stream().map(ContainerOutcome::eligibleAt).flatMap(Optional::stream).min(Comparator.naturalOrder());
    }

    public boolean anyFailed() {
        return count(Action.FAILED) > 0;
    }

    /** {@code removed 3, skipped 2 (1 keep label, 1 too young), failed 0, reclaimed 4.1kB}. */
    public String summaryLine() {
        String skipped = skippedByReason().entrySet().stream()
                .map(e -> e.getValue() + " " + e.getKey().label)
                .collect(Collectors.joining(", "));
        return "removed " + count(Action.REMOVED)
                + ", skipped " + count(Action.SKIPPED) + (skipped.isEmpty() ? "" : " (" + skipped + ")")
                + ", failed " + count(Action.FAILED)
                + ", reclaimed " + Sizes.human(reclaimedBytes());
    }
}
