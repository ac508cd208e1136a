package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;

import io.idlewatch.contract.Durations;
import io.idlewatch.sweeper.core.ContainerOutcome.Candidate;
import io.idlewatch.sweeper.core.ContainerOutcome.SkipReason;
import io.idlewatch.sweeper.docker.ContainerDetails;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerException;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One sweep: list the labelled containers in a removable state, then for each — several at once,
 * a few at a time — look again, decide, and remove without force.
 *
 * <p>Every check is made on our side on fresh data, because the list is already old when a
 * container's turn comes: the engine's filters are re-checked, a fresh inspect must still show a
 * removable state, and the removal itself is not forced, so a container started in between is
 * refused by the engine (a conflict, reported as a skip).
 */
public final class Sweeper {

    /** The only states a container is removed in. */
    public static final List<String> REMOVABLE_STATES = List.of("exited", "created", "dead");
    /** Removals in flight at once: enough to keep the engine busy, few enough not to swamp it. */
    public static final int DEFAULT_PARALLELISM = 8;

    private static final Set<String> REMOVABLE = Set.copyOf(REMOVABLE_STATES);

    private final DockerApi docker;
    private final LabelSelector selector;
    private final SweepPolicy policy;
    private final int parallelism;
    private final Clock clock;
    private final Hooks hooks;

    /** Test seams around the window between listing and removing. */
    public interface Hooks {
        Hooks NONE = new Hooks() {
        };

        /** After the list, before the fresh inspect. */
        default void beforeRecheck(ContainerSummary listed) {
        }

        /** After the fresh inspect decided to remove, before the removal. */
        default void beforeRemove(ContainerDetails inspected) {
        }
    }

    public Sweeper(DockerApi docker, LabelSelector selector, SweepPolicy policy, int parallelism, Clock clock, Hooks hooks) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1");
        }
        this.docker = docker;
        this.selector = selector;
        this.policy = policy;
        this.parallelism = parallelism;
        this.clock = clock;
        this.hooks = hooks;
    }

    public LabelSelector selector() {
        return selector;
    }

    /**
     * Sweeps once. {@code onEach} sees every outcome as it happens (from worker threads, one at a
     * time). Once {@code stopRequested} answers true no further removal starts; the ones under way
     * finish.
     */
    public SweepReport sweep(boolean dryRun, Consumer<ContainerOutcome> onEach, BooleanSupplier stopRequested) {
        List<ContainerSummary> listed = docker.list(selector.filters(), REMOVABLE_STATES);
        Object printing = new Object();
        List<ContainerOutcome> outcomes = Parallel.map(listed, parallelism, "idlewatch-sweep", container -> {
            ContainerOutcome outcome = consider(container, dryRun, stopRequested);
            synchronized (printing) {
                onEach.accept(outcome);
            }
            return outcome;
        });
        return new SweepReport(dryRun, outcomes);
    }

    private ContainerOutcome consider(ContainerSummary listed, boolean dryRun, BooleanSupplier stopRequested) {
        Candidate candidate = new Candidate(listed.id(), listed.name(), listed.labels().get(Labels.WORKSPACE));
        try {
            return decideAndRemove(candidate, listed, dryRun, stopRequested);
        } catch (DockerException.NotFound gone) {
            return ContainerOutcome.skipped(candidate, SkipReason.GONE, "already gone");
        } catch (RuntimeException failure) {
            return ContainerOutcome.failed(candidate, oneLine(failure));
        }
    }

    private ContainerOutcome decideAndRemove(Candidate candidate, ContainerSummary listed, boolean dryRun,
                                             BooleanSupplier stopRequested) {
        if (!selector.matches(listed.labels())) {
            return ContainerOutcome.skipped(candidate, SkipReason.NOT_SELECTED, "labels do not match " + selector);
        }
        if ("true".equals(listed.labels().get(Labels.KEEP))) {
            return ContainerOutcome.skipped(candidate, SkipReason.KEEP, "keep label (" + Labels.KEEP + "=true)");
        }
        if (stopRequested.getAsBoolean()) {
            return ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not looked at: stopping");
        }
        hooks.beforeRecheck(listed);

        ContainerDetails fresh = docker.inspect(listed.id());
        if (!selector.matches(fresh.labels())) {
            return ContainerOutcome.skipped(candidate, SkipReason.NOT_SELECTED, "labels do not match " + selector);
        }
        if (!REMOVABLE.contains(fresh.state())) {
            return ContainerOutcome.skipped(candidate, SkipReason.NOT_REMOVABLE, "now " + fresh.state());
        }
        SweepPolicy.Effective settings = policy.forContainer(fresh.labels());
        Age age = age(fresh, settings.olderThan());
        if (!age.required().isZero() && age.value().compareTo(age.required()) < 0) {
            return ContainerOutcome.skipped(candidate, SkipReason.TOO_YOUNG,
                    "too young: " + age.describe() + ", needs " + Durations.formatShort(age.required()),
                    Optional.of(age.since().plus(age.required())));
        }
        if (stopRequested.getAsBoolean()) {
            return ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not removed: stopping");
        }
        hooks.beforeRemove(fresh);

        String detail = age.describe() + ", " + Sizes.human(fresh.sizeRw());
        if (!dryRun) {
            try {
                docker.remove(fresh.id(), settings.volumes());
            } catch (DockerException.Conflict refused) {
                return ContainerOutcome.skipped(candidate, SkipReason.CONFLICT, oneLine(refused));
            }
        }
        return ContainerOutcome.removed(candidate, detail, fresh.sizeRw());
    }

    /** How long a container has been idle: since it finished, or since it was created if it never ran. */
    private record Age(String what, Instant since, Duration value, Duration required) {
        String describe() {
            return what + " " + Durations.formatShort(value) + " ago";
        }
    }

    private Age age(ContainerDetails c, Duration olderThan) {
        Instant now = clock.instant();
        if (c.state().equals("created")) {
            Duration required = olderThan.compareTo(policy.createdGrace()) > 0 ? olderThan : policy.createdGrace();
            String what = c.exitCode() != 0 ? "created (start failed, exit " + c.exitCode() + ")" : "created";
            return new Age(what, c.created(), Duration.between(c.created(), now), required);
        }
        Optional<Instant> finished = c.finished();
        Instant since = finished.orElse(c.created());
        String what = c.state() + (finished.isPresent() ? " (" + c.exitCode() + ")" : ", never finished, created");
        return new Age(what, since, Duration.between(since, now), olderThan);
    }

    private static String oneLine(RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s+", " ").strip();
    }
}
