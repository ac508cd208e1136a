package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.signal.ActivitySignal;

import java.time.Duration;

/**
 * Fires when the workload's CPU — the container's cgroup usage minus the
 * agent's own — averaged over the last minute exceeds the threshold (a fraction of one
 * core). Before a minute of history exists the average is over what exists;
 * the very first sample only sets the baseline.
 */
public final class CpuSignal implements ActivitySignal {
    public static final Duration WINDOW = Duration.ofMinutes(1);

    private final ContainerCpu cgroup;
    private final ProcessCpuReader agentCpu;
    private final long agentPid;
    private final double threshold;
    private final long windowNanos;

    // ring of (monotonic time, workload usage) samples covering the window plus one baseline
    private long[] times = new long[16];
    private long[] usages = new long[16];
    private int head;
    private int size;

    /**
     * @param threshold fraction of one core (0.1 = 10%)
     * @param agentPid  the agent's own pid, whose CPU is not the workload's
     */
    public CpuSignal(ContainerCpu cgroup, ProcessCpuReader agentCpu, long agentPid, double threshold) {
        this(cgroup, agentCpu, agentPid, threshold, WINDOW);
    }

    CpuSignal(ContainerCpu cgroup, ProcessCpuReader agentCpu, long agentPid, double threshold, Duration window) {
        this.cgroup = cgroup;
        this.agentCpu = agentCpu;
        this.agentPid = agentPid;
        this.threshold = threshold;
        this.windowNanos = window.toNanos();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Reading sample(long now) throws Exception {
        long usage = cgroup.usageNanos() - agentCpu.cpuNanos(agentPid);
        push(now, usage);
        // drop samples so that exactly one remains at or before the window's start
        while (size >= 2 && times[index(1)] <= now - windowNanos) {
            head = index(1);
            size--;
        }
        if (size < 2) {
            // where the readings come from, for the state file until the next sample
            return Reading.quiet("cpu measuring: " + cgroup.source());
        }
        long elapsed = now - times[head];
        long used = Math.max(0, usage - usages[head]);
        double cores = elapsed <= 0 ? 0 : (double) used / elapsed;
        String detail = "cpu " + percent(cores) + " of a core";
        return cores > threshold ? Reading.fired(detail) : Reading.quiet(detail);
    }

    private static String percent(double cores) {
        double pct = cores * 100;
        long tenths = Math.round(pct * 10);
        if (pct >= 10 || tenths % 10 == 0) {
            return Math.round(pct) + "%";
        }
        return tenths / 10 + "." + tenths % 10 + "%";
    }

    private int index(int i) {
        return (head + i) % times.length;
    }

    private void push(long now, long usage) {
        if (size == times.length) {
            long[] t = new long[times.length * 2];
            long[] u = new long[times.length * 2];
            for (int i = 0; i < size; i++) {
                t[i] = times[index(i)];
                u[i] = usages[index(i)];
            }
            times = t;
            usages = u;
            head = 0;
        }
        int at = index(size);
        times[at] = now;
        usages[at] = usage;
        size++;
    }
}
