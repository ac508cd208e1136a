package io.idlewatch.sweeper.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition, looking every {@code step}; past the patience, fails saying what it waited for. */
public final class Await {
    private Await() {
    }

    public static void until(Duration patience, Duration step, String what, BooleanSupplier done) {
        until(patience, step, what, done, () -> "");
    }

    /** As above; {@code more} is added to the failure (what a watcher printed, say). */
    public static void until(Duration patience, Duration step, String what, BooleanSupplier done,
            Supplier<String> more) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + patience.toMillis() / 1000.0 + "s for " + what + more.get());
            }
            try {
                Thread.sleep(step.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }
}
