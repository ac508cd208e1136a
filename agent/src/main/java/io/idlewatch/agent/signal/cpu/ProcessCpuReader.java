package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.signal.ProcFiles;

import java.io.IOException;
import java.nio.file.Path;

/**
 * CPU time (user + system, all threads) of one process from
 * {@code <proc>/<pid>/stat} fields 14 and 15, in clock ticks of 1/100 s
 * (USER_HZ is 100 on every Linux ABI the agent runs on).
 */
public final class ProcessCpuReader {
    /** Nanoseconds per USER_HZ tick. */
    public static final long NANOS_PER_TICK = 10_000_000L;

    private final Path procRoot;
    private final byte[] buf = new byte[1024];

    public ProcessCpuReader(Path procRoot) {
        this.procRoot = procRoot;
    }

    /** utime + stime of {@code pid}, in nanoseconds. */
    public long cpuNanos(long pid) throws IOException {
        Path stat = procRoot.resolve(Long.toString(pid)).resolve("stat");
        int n = ProcFiles.read(stat, buf);
        int after = ProcFiles.afterComm(buf, n);
        // fields after "(comm)" start at field 3 (state); utime is field 14, stime 15
        int utimeAt = after < 0 ? -1 : ProcFiles.field(buf, after, n, 14 - 3);
        int stimeAt = utimeAt < 0 ? -1 : ProcFiles.field(buf, utimeAt, n, 1);
        long utime = utimeAt < 0 ? -1 : ProcFiles.parseLong(buf, utimeAt, n);
        long stime = stimeAt < 0 ? -1 : ProcFiles.parseLong(buf, stimeAt, n);
        if (utime < 0 || stime < 0) {
            throw new IOException("cannot read utime/stime from " + stat);
        }
        return (utime + stime) * NANOS_PER_TICK;
    }
}
