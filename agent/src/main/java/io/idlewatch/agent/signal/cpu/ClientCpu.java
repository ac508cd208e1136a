package io.idlewatch.agent.signal.cpu;

import java.util.function.LongSupplier;

/**
 * CPU that the agent's own control clients ({@code idlewatch status}, {@code timeout}, ...) say
 * they used before their request: a JVM start each, about 70 ms, inside the container's cgroup.
 * It is not the workload's, so {@link CpuSignal} leaves it out; otherwise a status line polling
 * every second would be about 7 % of a core and could keep a workspace alive by itself.
 *
 * <p>A claim is the client's word, and any workspace user can send one. So what is credited is a
 * budget over time, not per claim (a loop of claims would otherwise hide any amount of the
 * workload's CPU): a token bucket that fills at {@link #RATE_NANOS_PER_SECOND} and holds at most
 * {@link #BURST_NANOS}. A claim beyond what the bucket holds is credited only in part, and the
 * rest counts as the workload's: a client can make the workspace look idler only by that much,
 * and a wrong claim at worst makes it look busier.
 */
public final class ClientCpu {
    /**
     * Client CPU credited per second of wall time, at most: 50 ms, 5 % of a core, half the default
     * 10 % threshold. A hostile client can hide at most that much of the workload's CPU; a real one,
     * a status line polling every 2 s (70 ms each, 35 ms/s), is left out entirely, and one polling
     * every second (70 ms/s) is left out but for 2 % of a core, still well under the threshold.
     */
    public static final long RATE_NANOS_PER_SECOND = 50_000_000L;
    /**
     * What the bucket holds, and holds at the start: 5 s of the rate, 250 ms, so a few clients in a
     * row (a script's status, touch and timeout: 3 x 70 ms) are credited in full.
     */
    public static final long BURST_NANOS = 5 * RATE_NANOS_PER_SECOND;
    /** Wall time that fills an empty bucket. */
    private static final long FILL_NANOS = BURST_NANOS * 1_000_000_000L / RATE_NANOS_PER_SECOND;

    private final LongSupplier clock;
    /**
     * The bucket, as the time at which it would be full again (GCRA): crediting {@code c} moves it
     * on by {@code c / rate}; it is never further than {@link #FILL_NANOS} ahead of now. Exact
     * arithmetic on one number, so no rounding adds up across many small claims.
     */
    private long fullAt;
    private volatile long credited;

    /** On the monotonic clock. */
    public ClientCpu() {
        this(System::nanoTime);
    }

    /** @param nanoTime a monotonic clock in nanoseconds (injected by tests) */
    public ClientCpu(LongSupplier nanoTime) {
        this.clock = nanoTime;
        this.fullAt = nanoTime.getAsLong();
    }

    /**
     * Records one client's claim; negative claims are ignored, and no more is credited than the
     * budget holds now.
     *
     * @return the part credited
     */
    public synchronized long add(long claimedNanos) {
        if (claimedNanos <= 0) {
            return 0;
        }
        long now = clock.getAsLong();
        if (fullAt - now < 0) {
            fullAt = now; // full: a quiet time does not save up more than the burst
        }
        long room = Math.max(0, FILL_NANOS - (fullAt - now)); // in wall time: 0..FILL_NANOS
        long available = room * RATE_NANOS_PER_SECOND / 1_000_000_000L; // 0..BURST_NANOS: no overflow
        long credit = Math.min(claimedNanos, available);
        fullAt += credit * 1_000_000_000L / RATE_NANOS_PER_SECOND; // credit <= BURST_NANOS: no overflow
        credited += credit;
        return credit;
    }

    /** Everything credited so far. */
    public long nanos() {
        return credited;
    }
}
