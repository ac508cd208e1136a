package io.idlewatch.sweeper.docker;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A time limit on one engine call made by the current thread: when it expires, the thread is
 * interrupted. docker-java's Unix-socket transport reads from a blocking {@code SocketChannel},
 * which ignores socket timeouts but is interruptible: the interrupt closes the channel and the
 * read fails at once. (TCP sockets ignore interrupts; there the transport's response timeout, set to
 * the same value, ends the read.) Closing the deadline clears an interrupt it delivered, so the
 * thread goes on as if nothing happened, apart from the call's failure.
 */
final class Deadline implements AutoCloseable {

    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final Thread caller = Thread.currentThread();
    private final Duration limit;
    private final long startNanos = System.nanoTime();
    private final ScheduledFuture<?> alarm;
    private boolean done;
    private boolean expired;

    Deadline(Duration limit) {
        this.limit = limit;
        this.alarm = TIMER.schedule(this::expire, limit.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "idlewatch-deadline");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    Duration limit() {
        return limit;
    }

    private synchronized void expire() {
        if (!done) {
            expired = true;
            caller.interrupt();
        }
    }

    /** True once the limit has passed, whether or not the interrupt has landed yet. */
    synchronized boolean expired() {
        return expired || System.nanoTime() - startNanos >= limit.toNanos();
    }

    @Override
    public void close() {
        boolean interrupted;
        synchronized (this) {
            done = true;
            interrupted = expired;
        }
        alarm.cancel(false);
        if (interrupted) {
            Thread.interrupted();
        }
    }
}
