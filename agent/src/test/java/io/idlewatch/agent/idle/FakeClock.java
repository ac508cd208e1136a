package io.idlewatch.agent.idle;

import java.time.Duration;

/** A clock tests move by hand. */
final class FakeClock implements Clock {
    static final long EPOCH = 1_795_330_800_000L; // 2026-11-22T07:00:00Z

    private long nanos = 1_000_000_000L;
    private long wall = EPOCH;

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public long epochMillis() {
        return wall;
    }

    void advance(Duration d) {
        nanos += d.toNanos();
        wall += d.toMillis();
    }
}
