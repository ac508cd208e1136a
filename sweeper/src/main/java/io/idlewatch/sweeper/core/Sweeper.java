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
import java.time.temporal.ChronoUnit;
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
 *
 * <p>Several sweeps may run at once (cron on two admin hosts, cron beside {@code watch}), and each
 * container must be reported removed by exactly one of them. A successful DELETE does not prove
 * that on either engine: Docker 20.10 answers 204 to a second DELETE that looked the container up
 * just before the first one deregistered it, and Podman to a DELETE that waited while another
 * removed it. So a sweep first <em>claims</em> the container by renaming it to its claim name,
 * {@code idlewatch-removing-<first 12 of its id>}, and only the claimant removes it. The rename
 * addresses the container by the name the sweep just saw, which makes it a compare-and-set: once
 * one sweep has renamed it, that name names nothing and every other sweep's rename is refused
 * (404). Addressed by ID it would prove nothing on Podman, which accepts a rename to the name a
 * container already has. (A name made only of hex digits could be read as an ID prefix, so such a
 * container is addressed by ID: on Docker the claim name, the same for every sweep, still makes
 * that exclusive, since Docker refuses a rename to the current name; on Podman it is not.)
 * A claimant whose
 * removal is refused (the container was started again) renames it back. A claim that stays on a
 * container the engine is not removing for {@link #CLAIM_STALE_AFTER} was left by a sweep that died
 * between claim and removal; a sweep that watched it that long takes it over by renaming it to the
 * other claim name, {@code …-2}.
 */
public final class Sweeper {

    /** The only states a container is removed in. */
    public static final List<String> REMOVABLE_STATES = List.of("exited", "created", "dead");
    /** Removals in flight at once: enough to keep the engine busy, few enough not to swamp it. */
    public static final int DEFAULT_PARALLELISM = 8;

    private static final Set<String> REMOVABLE = Set.copyOf(REMOVABLE_STATES);
    /** Docker's words for a removal that met its own storage driver half-way (see removeRetryingALayerRace). */
    static final String LAYER_RACE = "failed to remove root filesystem";
    private static final Duration LAYER_RACE_PAUSE = Duration.ofSeconds(1);
    /** The one removable state whose stop may have been unplanned (created never ran; dead keeps its rules). */
    private static final String EXITED = "exited";
    /** Enough of a keep label's value to recognise it in the report. */
    static final int MAX_SHOWN_LABEL_CHARS = 64;
    /** What the engine shows while a DELETE of the container is under way (someone else's, when we see it). */
    static final String REMOVAL_IN_PROGRESS = "removing";
    /** Every claim name starts so: what {@code docker ps -a} shows for a container a sweep is removing. */
    public static final String CLAIM_PREFIX = "idlewatch-removing-";
    /** Appended to the claim name when a stale claim is taken over, so that the rename changes the name. */
    static final String TAKEOVER_SUFFIX = "-2";
    /**
     * How long a sweep watches a claim on a container that the engine is not removing before it takes
     * the claim over. A live claimant leaves its claim without {@code removing} showing only between
     * its rename and its DELETE reaching the engine, or between a refused DELETE and its rename back:
     * two engine calls, each within the call limit (60 s). Three minutes is beyond both, so such a claim
     * belongs to a sweep that was killed or lost the engine; only a sweep frozen that long mid-removal
     * could still act on it.
     */
    public static final Duration CLAIM_STALE_AFTER = Duration.ofMinutes(3);
    /** The first pause between looks at someone else's claim: a live one is usually gone by then. */
    private static final Duration CLAIM_LOOK_FIRST = Duration.ofMillis(200);
    /** Pauses double up to this, so a stale claim costs a few dozen inspects, not thousands. */
    private static final Duration CLAIM_LOOK_MAX = Duration.ofSeconds(10);

    private final DockerApi docker;
    private final LabelSelector selector;
    private final SweepPolicy policy;
    private final int parallelism;
    private final Clock clock;
    private final Hooks hooks;
    private final Duration claimStaleAfter;

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
        this(docker, selector, policy, parallelism, clock, hooks, CLAIM_STALE_AFTER);
    }

    /** As above, with another time after which a claim counts as stale (tests). */
    public Sweeper(DockerApi docker, LabelSelector selector, SweepPolicy policy, int parallelism, Clock clock, Hooks hooks,
                   Duration claimStaleAfter) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1");
        }
        this.docker = docker;
        this.selector = selector;
        this.policy = policy;
        this.parallelism = parallelism;
        this.clock = clock;
        this.hooks = hooks;
        this.claimStaleAfter = claimStaleAfter;
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
        String keep = listed.labels().get(Labels.KEEP);
        if (Labels.keeps(keep)) {
            return ContainerOutcome.skipped(candidate, SkipReason.KEEP, "keep label (" + Labels.KEEP + "=" + quoted(keep) + ")");
        }
        if (stopRequested.getAsBoolean()) {
            return ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not looked at: stopping");
        }
        hooks.beforeRecheck(listed);

        ContainerDetails fresh = docker.inspect(listed.id());
        if (!selector.matches(fresh.labels())) {
            return ContainerOutcome.skipped(candidate, SkipReason.NOT_SELECTED, "labels do not match " + selector);
        }
        if (REMOVAL_IN_PROGRESS.equals(fresh.state())) {
            return ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "being removed by someone else");
        }
        boolean claiming = docker.removalNeedsClaim();
        if (claiming && isClaim(fresh)) {
            if (dryRun) {
                return ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "claimed by another sweep");
            }
            ClaimWatch watched = watchClaim(candidate, fresh, stopRequested);
            if (watched.outcome() != null) {
                return watched.outcome();
            }
            fresh = watched.stale();
        }
        if (!REMOVABLE.contains(fresh.state())) {
            return ContainerOutcome.skipped(candidate, SkipReason.NOT_REMOVABLE, "now " + fresh.state());
        }
        SweepPolicy.Effective settings = policy.forContainer(fresh.labels());
        // Why an exited one stopped decides how long it stays; created and dead ones keep their own rules.
        Optional<StopCause> cause = Optional.empty();
        if (EXITED.equals(fresh.state())) {
            WorkspaceStatus.StateRead record = WorkspaceStatus.readState(docker, fresh.id());
            if (record.read() == WorkspaceStatus.FileRead.UNREADABLE) {
                // The engine may have refused the read because someone else's removal has the container now:
                // that removal reports it, not this sweep as a kept one.
                ContainerDetails now = docker.inspect(fresh.id());
                if (REMOVAL_IN_PROGRESS.equals(now.state()) || claiming && isClaim(now)) {
                    return ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "being removed by someone else");
                }
            }
            cause = Optional.of(StopCause.of(fresh.exitCode(), fresh.started(), record));
        }
        Optional<StopCause> unplanned = cause.filter(c -> !c.planned());
        Age age = age(fresh, cause.map(settings::olderThan).orElse(settings.olderThan()));
        if (!age.required().isZero() && age.value().compareTo(age.required()) < 0) {
            Instant eligible = age.since().plus(age.required());
            if (unplanned.isPresent()) {
                return ContainerOutcome.skipped(candidate, SkipReason.UNPLANNED,
                        "kept, unplanned stop: " + unplanned.get().why() + "; " + age.describe() + ", kept until "
                                + eligible.truncatedTo(ChronoUnit.SECONDS) + " (" + Durations.formatShort(age.required()) + ")",
                        Optional.of(eligible));
            }
            return ContainerOutcome.skipped(candidate, SkipReason.TOO_YOUNG,
                    "too young: " + age.describe() + ", needs " + Durations.formatShort(age.required()),
                    Optional.of(eligible));
        }
        if (stopRequested.getAsBoolean()) {
            return ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not removed: stopping");
        }
        hooks.beforeRemove(fresh);

        String detail = age.describe() + unplanned.map(c -> ", unplanned stop: " + c.why()).orElse("") + ", "
                + Sizes.human(fresh.sizeRw());
        if (!dryRun) {
            if (claiming) {
                Optional<ContainerOutcome> refused = claim(candidate, fresh);
                if (refused.isPresent()) {
                    return refused.get();
                }
            }
            try {
                removeRetryingALayerRace(fresh.id(), settings.volumes());
            } catch (DockerException.NotFound gone) {
                // Someone else's removal finished between our inspect and our DELETE (`docker rm` by hand).
                return ContainerOutcome.skipped(candidate, SkipReason.GONE, "removed by someone else");
            } catch (DockerException.Conflict refused) {
                if (removalInProgress(refused)) {
                    return ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "being removed by someone else");
                }
                // Started again since our inspect: it keeps running, under the name it had.
                String giveBack = claiming ? giveBack(fresh) : "";
                return ContainerOutcome.skipped(candidate, SkipReason.CONFLICT, oneLine(refused) + giveBack);
            } catch (RuntimeException failed) {
                String giveBack = claiming ? giveBack(fresh) : "";
                return ContainerOutcome.failed(candidate, oneLine(failed) + giveBack);
            }
        }
        return ContainerOutcome.removed(candidate, detail, fresh.sizeRw());
    }

    /**
     * Docker 20.10 on overlay2 now and then fails a removal half-way on a loaded host ("driver
     * \"overlay2\" failed to remove root filesystem: … directory not empty") and leaves the container
     * {@code dead}, which a second DELETE a moment later removes. Anything else fails at once.
     */
    private void removeRetryingALayerRace(String id, boolean volumes) {
        try {
            docker.remove(id, volumes);
        } catch (DockerException.NotFound | DockerException.Conflict notALayerRace) {
            throw notALayerRace;
        } catch (DockerException failed) {
            if (failed.getMessage() == null || !failed.getMessage().contains(LAYER_RACE)) {
                throw failed;
            }
            try {
                Thread.sleep(LAYER_RACE_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failed;
            }
            docker.remove(id, volumes);
        }
    }

    /** The claim name of a container, or the take-over name when it carries that claim already. */
    static String claimName(String id, String currentName) {
        String claim = CLAIM_PREFIX + (id.length() > 12 ? id.substring(0, 12) : id);
        return claim.equals(currentName) ? claim + TAKEOVER_SUFFIX : claim;
    }

    /**
     * How a claim addresses the container: by the name the sweep saw (a compare-and-set, see the class
     * comment), unless that name could be taken for an ID or an ID prefix.
     */
    static String claimReference(ContainerDetails c) {
        String name = c.name();
        boolean couldBeAnId = name == null || name.isEmpty()
                || name.chars().allMatch(ch -> ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f');
        return couldBeAnId ? c.id() : name;
    }

    /** Whether the container carries one of its own claim names (a user's name that merely looks like one does not count). */
    static boolean isClaim(ContainerDetails c) {
        String claim = claimName(c.id(), null);
        return claim.equals(c.name()) || (claim + TAKEOVER_SUFFIX).equals(c.name());
    }

    /**
     * Claims the container for this sweep; empty when we hold it. Refused, the container is either
     * someone else's claim now (removed elsewhere), gone, or something we cannot tell: a conflict.
     */
    private Optional<ContainerOutcome> claim(Candidate candidate, ContainerDetails fresh) {
        try {
            docker.rename(claimReference(fresh), claimName(fresh.id(), fresh.name()));
            return Optional.empty();
        } catch (DockerException refused) {
            // Refused or not found: by the name we saw, a 404 means it was renamed (claimed) or removed.
            ContainerDetails now;
            try {
                now = docker.inspect(fresh.id());
            } catch (DockerException.NotFound gone) {
                return Optional.of(ContainerOutcome.skipped(candidate, SkipReason.GONE, "removed by someone else"));
            }
            if (isClaim(now) || REMOVAL_IN_PROGRESS.equals(now.state())) {
                return Optional.of(ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "claimed by another sweep"));
            }
            return Optional.of(ContainerOutcome.skipped(candidate, SkipReason.CONFLICT, "cannot claim: " + oneLine(refused)));
        }
    }

    /** Our claim ends without a removal: the container gets back the name it had. Empty, or what went wrong, for the report. */
    private String giveBack(ContainerDetails before) {
        try {
            docker.rename(before.id(), before.name());
            return "";
        } catch (RuntimeException e) {
            return "; left named " + claimName(before.id(), before.name()) + " (" + oneLine(e) + ")";
        }
    }

    /** Either how someone else's claim ended, or the container's fresh details once the claim is stale. */
    private record ClaimWatch(ContainerOutcome outcome, ContainerDetails stale) {
    }

    /**
     * Looks at someone else's claim, more and more slowly, until it ends or has stayed, on a container
     * the engine is not removing, for {@link #claimStaleAfter}. A claim renamed to the other claim name
     * was taken over by a live sweep: the watch starts again.
     */
    private ClaimWatch watchClaim(Candidate candidate, ContainerDetails claimed, BooleanSupplier stopRequested) {
        long since = System.nanoTime();
        Duration pause = CLAIM_LOOK_FIRST;
        ContainerDetails seen = claimed;
        while (true) {
            Duration left = claimStaleAfter.minusNanos(System.nanoTime() - since);
            if (left.isNegative() || left.isZero()) {
                return new ClaimWatch(null, seen);
            }
            if (stopRequested.getAsBoolean()) {
                return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not removed: stopping"), null);
            }
            try {
                Thread.sleep(Math.max(1, Math.min(pause.toMillis(), left.toMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.STOPPING, "not removed: stopping"), null);
            }
            pause = pause.multipliedBy(2).compareTo(CLAIM_LOOK_MAX) > 0 ? CLAIM_LOOK_MAX : pause.multipliedBy(2);
            ContainerDetails now;
            try {
                now = docker.inspect(claimed.id());
            } catch (DockerException.NotFound gone) {
                return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "removed by another sweep"), null);
            }
            if (REMOVAL_IN_PROGRESS.equals(now.state())) {
                return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.REMOVING, "being removed by another sweep"), null);
            }
            if (!now.name().equals(seen.name())) {
                if (isClaim(now)) {
                    since = System.nanoTime();
                    seen = now;
                    continue;
                }
                // The claimant's removal was refused and it gave the container back.
                if (!REMOVABLE.contains(now.state())) {
                    return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.NOT_REMOVABLE, "now " + now.state()), null);
                }
                return new ClaimWatch(ContainerOutcome.skipped(candidate, SkipReason.CONFLICT,
                        "another sweep claimed it and gave it back"), null);
            }
            seen = now;
        }
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

    /**
     * Docker's 409 for a DELETE that met another DELETE ({@code removal of container X is already
     * in progress}); only the DELETE the engine answered with success reports the removal.
     */
    static boolean removalInProgress(DockerException.Conflict refused) {
        String message = refused.getMessage();
        return message != null && message.contains("already in progress");
    }

    /** A label value as the report shows it: quoted, bounded (it came from whoever created the container). */
    static String quoted(String value) {
        String v = value.length() > MAX_SHOWN_LABEL_CHARS ? value.substring(0, MAX_SHOWN_LABEL_CHARS) + "..." : value;
        return !v.matches("[A-Za-z0-9._-]+") ? "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : v;
    }

    private static String oneLine(RuntimeException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s+", " ").strip();
    }
}
