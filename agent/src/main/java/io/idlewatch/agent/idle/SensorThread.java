package io.idlewatch.agent.idle;

import io.idlewatch.agent.signal.ActivitySignal;

/**
 * Runs one sensor's samples on a thread of its own, so that no sensor can hold up the idle
 * decision, the lifetime cap or the control socket: the idle thread hands it a sample and waits at
 * most a deadline for the reading. A sensor that misses the deadline (a hung {@code /proc} read, a
 * server that trickles its answer) is degraded for that sample; while it is still stuck, later
 * samples are degraded at once instead of queueing behind it.
 *
 * <p>The thread is started on the first sample, not before: a workload that fills the container's
 * pids limit costs the sensor (degraded, tried again next poll), never the agent.
 */
final class SensorThread implements IdleTracker.SensorRunner {
    /**
     * How long one sensor may take for one sample. The slowest healthy sensor (the opencode probe,
     * bounded at well under a second per port; a 10,000-socket dump is ~40 ms) fits with room;
     * status and touch never wait for it either way.
     */
    static final long DEADLINE_MILLIS = 2000;
    /** Sensors are shallow readers; the default stack would be reserved five times for nothing. */
    private static final long STACK_BYTES = 256 * 1024;

    private final ActivitySignal signal;
    private final long deadlineMillis;
    private final Object lock = new Object();
    private Thread thread;
    /** Set by the caller, taken by the sensor thread. */
    private boolean requested;
    private long requestNanos;
    /** A sample is running (requested or taken and not yet finished). */
    private boolean busy;
    private long busySinceNanos;
    private ActivitySignal.Reading reading;
    private Throwable failure;
    private long generation;

    SensorThread(ActivitySignal signal) {
        this(signal, DEADLINE_MILLIS);
    }

    SensorThread(ActivitySignal signal, long deadlineMillis) {
        this.signal = signal;
        this.deadlineMillis = deadlineMillis;
    }

    @Override
    public ActivitySignal.Reading sample(ActivitySignal ignored, long monotonicNanos) throws Exception {
        long deadline;
        long mine;
        synchronized (lock) {
            if (busy) {
                throw new SampleMissed("no reading for " + (System.nanoTime() - busySinceNanos) / 1_000_000
                        + " ms: the previous sample has not finished");
            }
            startThreadIfNeeded();
            requested = true;
            requestNanos = monotonicNanos;
            busy = true;
            busySinceNanos = System.nanoTime();
            reading = null;
            failure = null;
            mine = ++generation;
            lock.notifyAll();
            deadline = System.nanoTime() + deadlineMillis * 1_000_000L;
            while (busy && generation == mine) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SampleMissed("no reading within " + deadlineMillis + " ms");
                }
                lock.wait(left / 1_000_000L + 1);
            }
            if (failure instanceof Exception e) {
                throw e;
            }
            if (failure != null) {
                // An Error in a sensor (OutOfMemoryError included) is that sensor's failure only.
                throw new SampleMissed(failure.toString());
            }
            return reading;
        }
    }

    private void startThreadIfNeeded() throws SampleMissed {
        if (thread != null && thread.isAlive()) {
            return;
        }
        Thread t = new Thread(null, this::serve, "idlewatch-sensor-" + signal.name(), STACK_BYTES);
        t.setDaemon(true);
        try {
            t.start();
        } catch (Throwable noThread) { // OutOfMemoryError: unable to create native thread (pids limit)
            throw new SampleMissed("cannot start its thread: " + noThread.getMessage());
        }
        thread = t;
    }

    private void serve() {
        while (true) {
            long now;
            synchronized (lock) {
                while (!requested) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                requested = false;
                now = requestNanos;
            }
            ActivitySignal.Reading r = null;
            Throwable t = null;
            try {
                r = signal.sample(now);
            } catch (Throwable e) {
                t = e;
            }
            synchronized (lock) {
                reading = r;
                failure = t;
                busy = false;
                lock.notifyAll();
            }
        }
    }

    /** The sensor gave no reading in time, or could not run: degraded for this sample. */
    static final class SampleMissed extends Exception {
        SampleMissed(String message) {
            super(message, null, false, false);
        }
    }
}
