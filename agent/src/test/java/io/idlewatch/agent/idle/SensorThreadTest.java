package io.idlewatch.agent.idle;

import io.idlewatch.agent.signal.ActivitySignal;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sensors on their own threads, with a deadline: real threads and real time, in well under a second each. */
class SensorThreadTest {

    /** A sensor that hangs until released, like a read that a hostile server trickles forever. */
    static final class HangingSignal implements ActivitySignal {
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean hang = true;

        @Override
        public String name() {
            return "opencode";
        }

        @Override
        public Reading sample(long monotonicNanos) throws Exception {
            if (hang) {
                release.await();
            }
            return Reading.fired("opencode 1 busy session");
        }
    }

    @Test
    void aHangingSensorMissesItsDeadlineAndLaterSamplesDoNotQueueBehindIt() throws Exception {
        HangingSignal hanging = new HangingSignal();
        SensorThread runner = new SensorThread(hanging, 200);
        long t0 = System.nanoTime();
        Exception first = assertThrows(SensorThread.SampleMissed.class, () -> runner.sample(hanging, 0));
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(took >= 190 && took < 1000, "missed after the deadline, not later: " + took + " ms");
        assertEquals("no reading within 200 ms", first.getMessage());

        t0 = System.nanoTime();
        Exception second = assertThrows(SensorThread.SampleMissed.class, () -> runner.sample(hanging, 1));
        assertTrue((System.nanoTime() - t0) / 1_000_000 < 100, "still stuck: fails at once");
        assertTrue(second.getMessage().contains("the previous sample has not finished"), second.getMessage());

        hanging.hang = false;
        hanging.release.countDown();
        ActivitySignal.Reading r = null;
        for (int i = 0; i < 50 && r == null; i++) {
            try {
                r = runner.sample(hanging, 2);
            } catch (SensorThread.SampleMissed stillBusy) {
                Thread.sleep(20);
            }
        }
        assertTrue(r != null && r.fired(), "recovers once the stuck sample ends");
    }

    @Test
    void anErrorInASensorIsThatSensorsFailureOnly() {
        ActivitySignal oom = new ActivitySignal() {
            @Override
            public String name() {
                return "cpu";
            }

            @Override
            public Reading sample(long monotonicNanos) {
                throw new OutOfMemoryError("Java heap space");
            }
        };
        SensorThread runner = new SensorThread(oom, 1000);
        Exception e = assertThrows(SensorThread.SampleMissed.class, () -> runner.sample(oom, 0));
        assertTrue(e.getMessage().contains("OutOfMemoryError"), e.getMessage());
        // and the thread is still there for the next sample
        assertThrows(SensorThread.SampleMissed.class, () -> runner.sample(oom, 1));
    }

    /** The trickling-server attack against the tracker: status and touch answer while a sensor hangs. */
    @Test
    void statusAndTouchAnswerWhileASensorHangs() throws Exception {
        HangingSignal hanging = new HangingSignal();
        List<String> log = new ArrayList<>();
        IdleTracker t = new IdleTracker(List.of(hanging), Clock.SYSTEM, Duration.ofMinutes(5), null, null,
                Duration.ZERO, 0, line -> {
                    synchronized (log) {
                        log.add(line);
                    }
                }, Duration.ofSeconds(1), s -> new SensorThread(s, 1500));
        Thread poller = new Thread(t::poll);
        poller.start();
        Thread.sleep(100); // the poll is now waiting for the hung sensor
        long t0 = System.nanoTime();
        IdleTracker.Status s = t.status();
        t.touch("still here");
        long took = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(took < 100, "status and touch took " + took + " ms while a sensor hung");
        assertEquals("running", s.state());
        poller.join(5000);
        assertFalse(poller.isAlive());
        IdleTracker.SignalStatus opencode = t.status().signals().get(4);
        assertTrue(opencode.degraded(), "missed its deadline: degraded for that sample");
        assertEquals("degraded: no reading within 1500 ms", opencode.detail());
        hanging.release.countDown();
    }

    @Test
    void aSensorThreadThatCannotStartDegradesAndIsRetried() throws Exception {
        // Simulated through a runner factory that fails like Thread.start under a full pids limit.
        ScriptedSignal cpu = new ScriptedSignal("cpu");
        boolean[] fail = {true};
        List<String> log = new ArrayList<>();
        IdleTracker t = new IdleTracker(List.of(cpu), Clock.SYSTEM, Duration.ofMinutes(5), null, null,
                Duration.ZERO, 0, log::add, Duration.ofSeconds(1), s -> (signal, now) -> {
                    if (fail[0]) {
                        throw new OutOfMemoryError("unable to create native thread: possibly out of memory");
                    }
                    return signal.sample(now);
                });
        t.poll();
        assertTrue(t.status().signals().get(0).degraded());
        fail[0] = false;
        t.poll();
        assertFalse(t.status().signals().get(0).degraded());
        assertEquals(2, log.size(), "one line degraded, one recovered: " + log);
        assertTrue(TimeUnit.SECONDS.toMillis(1) > 0);
    }
}
