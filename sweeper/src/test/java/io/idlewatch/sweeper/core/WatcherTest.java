package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.FakeDocker;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Millisecond intervals and graces, so the loop runs for real in a fraction of a second. */
class WatcherTest {

    final FakeDocker docker = new FakeDocker();
    final List<SweepReport> reports = new CopyOnWriteArrayList<>();
    final List<String> problems = new CopyOnWriteArrayList<>();

    Watcher watcher(Duration interval, Duration grace, Optional<Duration> olderThan) {
        Sweeper sweeper = new Sweeper(docker, LabelSelector.managedAnd(List.of()),
                SweepPolicy.of(HostConfig.NONE, olderThan, Optional.empty()), 4, Clock.systemUTC(), Sweeper.Hooks.NONE);
        return new Watcher(docker, sweeper, interval, grace, Clock.systemUTC(), new Watcher.Listener() {
            @Override
            public void onEach(ContainerOutcome outcome) {
            }

            @Override
            public void onReport(SweepReport report) {
                reports.add(report);
            }

            @Override
            public void onProblem(String line) {
                problems.add(line);
            }
        });
    }

    Thread start(Watcher watcher) {
        Thread thread = new Thread(() -> watcher.run(false), "watcher-under-test");
        thread.start();
        return thread;
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Await.until(Duration.ofSeconds(5), Duration.ofMillis(5), what, condition);
    }

    @Test
    void aDieEventTriggersASweepAfterTheGrace_longBeforeTheInterval() throws InterruptedException {
        var ws = docker.add("ws", "running", Instant.now().minusSeconds(60));
        Watcher watcher = watcher(Duration.ofHours(1), Duration.ofMillis(200), Optional.empty());
        Thread thread = start(watcher);
        await("the first sweep and the event subscription", () -> reports.size() == 1 && docker.dieListeners.size() == 1);

        long died = System.nanoTime();
        docker.die(ws, Instant.now(), 0);
        await("removal after die", () -> docker.removed.contains("ws"));
        long waitedMillis = (System.nanoTime() - died) / 1_000_000;

        watcher.requestStop();
        thread.join(5000);
        assertFalse(thread.isAlive());
        assertTrue(waitedMillis >= 190, "the grace is honoured: " + waitedMillis + "ms");
        assertEquals(1, docker.closedEventStreams);
    }

    @Test
    void thePeriodicSweepCatchesWhatEventsMissed() throws InterruptedException {
        Watcher watcher = watcher(Duration.ofMillis(100), Duration.ofHours(1), Optional.empty());
        Thread thread = start(watcher);
        await("the first sweep", () -> reports.size() >= 1);

        // No event: the container just appears exited.
        docker.add("missed", "exited", Instant.now().minusSeconds(60)).finished(Instant.now().minusSeconds(30), 0);
        await("periodic removal", () -> docker.removed.contains("missed"));

        watcher.requestStop();
        thread.join(5000);
        assertFalse(thread.isAlive());
    }

    @Test
    void aTooYoungContainerIsSweptWhenItBecomesOldEnough() throws InterruptedException {
        docker.add("young", "exited", Instant.now().minusSeconds(60)).finished(Instant.now(), 0);
        Watcher watcher = watcher(Duration.ofHours(1), Duration.ofHours(1), Optional.of(Duration.ofMillis(300)));
        Thread thread = start(watcher);

        await("removal once old enough", () -> docker.removed.contains("young"));

        watcher.requestStop();
        thread.join(5000);
        assertTrue(reports.size() >= 2);
    }

    @Test
    void stopLetsTheRemovalsUnderWayFinishAndStartsNoNewOne() throws InterruptedException {
        for (int i = 0; i < 20; i++) {
            docker.add("ws-" + i, "exited", Instant.now().minusSeconds(60)).finished(Instant.now().minusSeconds(30), 0);
        }
        docker.removalMillis = 100;
        Watcher watcher = watcher(Duration.ofHours(1), Duration.ofHours(1), Optional.empty());
        Thread thread = start(watcher);
        await("removals under way", () -> docker.removalsInFlight.get() > 0);

        watcher.requestStop();
        thread.join(5000);

        assertFalse(thread.isAlive());
        assertEquals(0, docker.removalsInFlight.get(), "nothing abandoned mid-way");
        assertTrue(docker.removed.size() < 20, "stopped between removals: " + docker.removed.size());
        assertEquals(20 - docker.removed.size(), reports.get(0).skippedByReason().get(ContainerOutcome.SkipReason.STOPPING));
    }

    @Test
    void anUnreachableEngineIsReportedOnce_retried_andItsReturnReportedOnce() throws InterruptedException {
        docker.unreachable = new io.idlewatch.sweeper.docker.DockerUnreachableException("engine gone", null);
        Watcher watcher = watcher(Duration.ofMillis(50), Duration.ofHours(1), Optional.empty());
        Thread thread = start(watcher);
        await("the outage line", () -> problems.size() == 1);
        Thread.sleep(1500); // several reconnects and sweeps fail meanwhile: no news, no more lines
        assertEquals(1, problems.size(), problems.toString());

        docker.unreachable = null;
        await("a sweep after recovery", () -> !reports.isEmpty());
        await("the recovery line", () -> problems.size() == 2);
        assertEquals("cannot follow Docker events (engine gone); reconnecting, periodic sweeps go on", problems.get(0));
        assertTrue(problems.get(1).startsWith("Docker event stream back after "), problems.toString());
        watcher.requestStop();
        thread.join(5000);
        assertFalse(thread.isAlive());
    }
}
