package io.idlewatch.agent.idle;

/**
 * The idle loop's time source (HikariCP's ClockSource idea): idle time is
 * measured on the monotonic clock, wall time only labels events for humans
 * and the state file. Tests inject a fake and run in milliseconds.
 */
public interface Clock {
    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /** Wall-clock milliseconds since the epoch, as {@link System#currentTimeMillis()}. */
    long epochMillis();

    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochMillis() {
            return System.currentTimeMillis();
        }
    };
}
