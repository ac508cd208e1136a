package io.idlewatch.agent.signal.cpu;

import java.util.concurrent.atomic.AtomicLong;

/**
 * CPU that the agent's own control clients ({@code idlewatch status}, {@code timeout}, ...) say
 * they used before their request: a JVM start each, about 70 ms, inside the container's cgroup.
 * It is not the workload's, so {@link CpuSignal} leaves it out; otherwise a status line polling
 * every second would be about 7 % of a core and could keep a workspace alive by itself.
 *
 * <p>A client can only make the workspace look idler, never busier, and one claim is capped, so a
 * wrong or hostile claim costs at most {@link #MAX_PER_CLIENT_NANOS} of the workload's CPU.
 */
public final class ClientCpu {
    public static final long MAX_PER_CLIENT_NANOS = 2_000_000_000L;

    private final AtomicLong nanos = new AtomicLong();

    /** Records one client's claim; negative claims are ignored, large ones capped. */
    public void add(long claimedNanos) {
        if (claimedNanos > 0) {
            nanos.addAndGet(Math.min(claimedNanos, MAX_PER_CLIENT_NANOS));
        }
    }

    /** Everything recorded so far. */
    public long nanos() {
        return nanos.get();
    }
}
