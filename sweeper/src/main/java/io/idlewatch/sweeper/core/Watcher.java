package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.docker.DockerApi;

import java.io.Closeable;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The long-running mode: a sweep shortly after a labelled container dies (Docker events), one
 * every interval for whatever the events missed, and one as soon as a container skipped as too
 * young becomes old enough. {@link #requestStop()} (SIGTERM) lets the removals under way finish
 * and starts no new one.
 *
 * <p>When the event stream breaks (an engine restart, Podman ending an idle stream) the watcher
 * says so once, resubscribes with a growing backoff, and sweeps as soon as a new stream is open,
 * for the deaths it missed meanwhile; the outage ends, with one line, at the first sweep that
 * succeeds on a stream that has not broken since. Periodic sweeps go on throughout.
 */
public final class Watcher {

    /** The longest wait between two attempts to get the event stream back, and after a failed sweep. */
    static final Duration RETRY = Duration.ofSeconds(30);
    /**
     * The first wait before resubscribing: a restarted dockerd answers within a second or two, and
     * the containers that die meanwhile wait for the stream (their grace starts at the event).
     */
    static final Duration RECONNECT_FIRST = Duration.ofMillis(250);

    private final DockerApi docker;
    private final Sweeper sweeper;
    private final Duration interval;
    private final Duration grace;
    private final Clock clock;
    private final Listener listener;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private volatile boolean stopping;
    // Guarded by lock:
    private Instant nextSweep;
    /** Bumped at every subscription: a late error from an abandoned stream is not news. */
    private int generation;
    private boolean streamBroken;
    private Instant reconnectAt;
    private Duration backoff = RECONNECT_FIRST;
    /** Since when the stream has been down, null while it is up. */
    private Instant outageSince;

    /** Where the watcher reports; called from the watcher's thread except {@link #onEach}. */
    public interface Listener {
        void onEach(ContainerOutcome outcome);

        void onReport(SweepReport report);

        void onProblem(String line);

        /** The event stream is up (true) or down (false); at start and at every change. */
        default void onEventStream(boolean connected) {
        }

        /** A sweep could not run at all (the engine did not answer). */
        default void onSweepFailed() {
        }
    }

    public Watcher(DockerApi docker, Sweeper sweeper, Duration interval, Duration grace, Clock clock, Listener listener) {
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("interval must be more than 0");
        }
        this.docker = docker;
        this.sweeper = sweeper;
        this.interval = interval;
        this.grace = grace;
        this.clock = clock;
        this.listener = listener;
    }

    public void requestStop() {
        stopping = true;
        lock.lock();
        try {
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Runs until {@link #requestStop()}; the first sweep happens at once. */
    public void run(boolean dryRun) {
        Closeable events = null;
        lock.lock();
        try {
            nextSweep = clock.instant();
            reconnectAt = clock.instant();
        } finally {
            lock.unlock();
        }
        listener.onEventStream(false);
        try {
            while (!stopping) {
                if (events == null && due(reconnectAt())) {
                    events = subscribe();
                }
                if (!awaitNextSweep(events == null)) {
                    break;
                }
                if (due(nextSweepAt())) {
                    sweepDue(dryRun);
                }
                lock.lock();
                try {
                    if (streamBroken) {
                        closeQuietly(events);
                        events = null;
                        streamBroken = false;
                    }
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            closeQuietly(events);
        }
    }

    private void sweepDue(boolean dryRun) {
        int subscribedAs;
        lock.lock();
        try {
            nextSweep = Instant.MAX;
            subscribedAs = generation;
        } finally {
            lock.unlock();
        }
        boolean inOutage = outageSince() != null;
        SweepReport report = null;
        try {
            report = sweeper.sweep(dryRun, listener::onEach, () -> stopping);
        } catch (RuntimeException failure) {
            listener.onSweepFailed();
            // During an outage the break has been reported once; every retry failing too is no news.
            if (!inOutage) {
                listener.onProblem("sweep failed: " + failure.getMessage());
            }
        }
        String recovered = null;
        lock.lock();
        try {
            Instant now = clock.instant();
            Instant next;
            if (report == null) {
                next = now.plus(interval.compareTo(RETRY) < 0 ? interval : RETRY);
            } else {
                Instant periodic = now.plus(interval);
                next = report.nextEligible().map(eligible -> earliest(eligible, periodic)).orElse(periodic);
                // The engine answered on a stream opened before the sweep and still whole: it is back.
                if (outageSince != null && !streamBroken && subscribedAs == generation && generation > 0
                        && reconnectAt == null) {
                    recovered = "Docker event stream back after "
                            + io.idlewatch.contract.Durations.formatShort(Duration.between(outageSince, now))
                            + "; swept for what died meanwhile";
                    outageSince = null;
                    backoff = RECONNECT_FIRST;
                }
            }
            // A die event during the sweep may already have asked for an earlier one.
            nextSweep = earliest(nextSweep, next);
        } finally {
            lock.unlock();
        }
        if (report != null) {
            listener.onReport(report);
        }
        if (recovered != null) {
            listener.onProblem(recovered);
            listener.onEventStream(true);
        }
    }

    private Closeable subscribe() {
        int mine;
        lock.lock();
        try {
            mine = ++generation;
            reconnectAt = null;
            streamBroken = false;
            if (outageSince != null) {
                // Sweep at once for the deaths the stream missed; the sweep's success ends the outage.
                nextSweep = clock.instant();
            }
        } finally {
            lock.unlock();
        }
        try {
            Closeable stream = docker.onContainerDie(sweeper.selector().filters(), this::onDie,
                    failure -> broken(mine, failure, "Docker event stream broke ("));
            if (mine == 1 && outageSince() == null) {
                listener.onEventStream(true);
            }
            return stream;
        } catch (RuntimeException unavailable) {
            broken(mine, unavailable, "cannot follow Docker events (");
            return null;
        }
    }

    /** The stream of generation {@code which} failed or ended; {@code what} starts the outage's one line. */
    private void broken(int which, Throwable failure, String what) {
        if (stopping) {
            return;
        }
        String line = null;
        lock.lock();
        try {
            if (which != generation || streamBroken) {
                return;
            }
            streamBroken = true;
            Instant now = clock.instant();
            if (outageSince == null) {
                outageSince = now;
                line = what + failure.getMessage() + "); reconnecting, periodic sweeps go on";
            }
            reconnectAt = now.plus(backoff);
            Duration doubled = backoff.multipliedBy(2);
            backoff = doubled.compareTo(RETRY) < 0 ? doubled : RETRY;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        if (line != null) {
            listener.onEventStream(false);
            listener.onProblem(line);
        }
    }

    private void onDie(String containerId) {
        lock.lock();
        try {
            // The grace lets the engine settle: a restart policy may bring the container back.
            nextSweep = earliest(nextSweep, clock.instant().plus(grace));
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sleeps until a sweep is due, the stream broke, or (when {@code reconnecting}) the next
     * attempt to resubscribe is due; false when asked to stop meanwhile.
     */
    private boolean awaitNextSweep(boolean reconnecting) {
        lock.lock();
        try {
            while (!stopping) {
                Instant until = nextSweep;
                if (reconnecting && reconnectAt != null) {
                    until = earliest(until, reconnectAt);
                }
                Duration left = Duration.between(clock.instant(), until);
                if (left.isNegative() || left.isZero() || (streamBroken && !reconnecting)) {
                    return true;
                }
                try {
                    wake.awaitNanos(Math.min(left.toNanos(), TimeUnit.SECONDS.toNanos(60)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopping = true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    private boolean due(Instant at) {
        return at != null && !clock.instant().isBefore(at);
    }

    private Instant nextSweepAt() {
        lock.lock();
        try {
            return nextSweep;
        } finally {
            lock.unlock();
        }
    }

    private Instant reconnectAt() {
        lock.lock();
        try {
            return reconnectAt;
        } finally {
            lock.unlock();
        }
    }

    private Instant outageSince() {
        lock.lock();
        try {
            return outageSince;
        } finally {
            lock.unlock();
        }
    }

    private static Instant earliest(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) {
            return;
        }
        try {
            closeable.close();
        } catch (IOException | RuntimeException ignored) {
            // The stream is being abandoned either way.
        }
    }
}
