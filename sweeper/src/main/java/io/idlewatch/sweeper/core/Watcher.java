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
 */
public final class Watcher {

    /** How long to wait for the engine again after a failed sweep or a broken event stream. */
    static final Duration RETRY = Duration.ofSeconds(30);

    private final DockerApi docker;
    private final Sweeper sweeper;
    private final Duration interval;
    private final Duration grace;
    private final Clock clock;
    private final Listener listener;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private volatile boolean stopping;
    private Instant nextSweep;
    private boolean eventsBroken;

    /** Where the watcher reports; called from the watcher's thread except {@link #onEach}. */
    public interface Listener {
        void onEach(ContainerOutcome outcome);

        void onReport(SweepReport report);

        void onProblem(String line);
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
        } finally {
            lock.unlock();
        }
        try {
            while (!stopping) {
                if (events == null) {
                    events = subscribe();
                }
                if (!awaitNextSweep()) {
                    break;
                }
                Instant next = sweepOnce(dryRun);
                lock.lock();
                try {
                    // A die event during the sweep may already have asked for an earlier one.
                    nextSweep = earliest(nextSweep, next);
                    if (eventsBroken) {
                        closeQuietly(events);
                        events = null;
                        eventsBroken = false;
                    }
                } finally {
                    lock.unlock();
                }
            }
        } finally {
            closeQuietly(events);
        }
    }

    private Closeable subscribe() {
        try {
            return docker.onContainerDie(sweeper.selector().filters(), this::onDie, failure -> {
                if (stopping) {
                    return;
                }
                listener.onProblem("Docker event stream broke (" + failure.getMessage() + "); retrying, periodic sweeps go on");
                lock.lock();
                try {
                    eventsBroken = true;
                    nextSweep = earliest(nextSweep, clock.instant().plus(RETRY));
                    wake.signalAll();
                } finally {
                    lock.unlock();
                }
            });
        } catch (RuntimeException unavailable) {
            listener.onProblem("cannot follow Docker events: " + unavailable.getMessage() + "; periodic sweeps go on");
            lock.lock();
            try {
                eventsBroken = true;
            } finally {
                lock.unlock();
            }
            return null;
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

    /** Sleeps until the next sweep is due; false when asked to stop meanwhile. */
    private boolean awaitNextSweep() {
        lock.lock();
        try {
            while (!stopping) {
                Duration left = Duration.between(clock.instant(), nextSweep);
                if (left.isNegative() || left.isZero()) {
                    nextSweep = Instant.MAX;
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

    /** One sweep; returns when the next one is due by schedule. */
    private Instant sweepOnce(boolean dryRun) {
        try {
            SweepReport report = sweeper.sweep(dryRun, listener::onEach, () -> stopping);
            listener.onReport(report);
            Instant next = clock.instant().plus(interval);
            return report.nextEligible().map(eligible -> earliest(eligible, next)).orElse(next);
        } catch (RuntimeException failure) {
            listener.onProblem("sweep failed: " + failure.getMessage());
            Duration retry = interval.compareTo(RETRY) < 0 ? interval : RETRY;
            return clock.instant().plus(retry);
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
