package io.idlewatch.agent.idle;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock tests move by hand; safe to read from the threads a test starts (a control server's).
 * Wall time moves with the monotonic time, from {@link #EPOCH}.
 */
public final class FakeClock implements Clock {
    public static final long EPOCH = 1_795_330_800_000L; // 2026-11-22T07:00:00Z
    private static final long START_NANOS = 1_000_000_000L;

    private final AtomicLong nanos = new AtomicLong(START_NANOS);
    private final long perLook;

    /** A clock that moves only when told. */
    public FakeClock() {
        this(Duration.ZERO);
    }

    /** A clock that also moves on by {@code perLook} every time its monotonic time is read. */
    public FakeClock(Duration perLook) {
        this.perLook = perLook.toNanos();
    }

    @Override
    public long nanoTime() {
        return nanos.getAndAdd(perLook);
    }

    @Override
    public long epochMillis() {
        return EPOCH + (nanos.get() - START_NANOS) / 1_000_000;
    }

    public void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }
}
