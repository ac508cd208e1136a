package io.idlewatch.agent.signal;

import java.nio.file.Path;

/**
 * Where the kernel's views are mounted (OSHI's ProcPath idea): tests point
 * these at fixture trees, production uses {@link #DEFAULT}.
 */
public record SystemPaths(Path proc, Path cgroup, Path dev) {
    public static final SystemPaths DEFAULT = new SystemPaths(Path.of("/proc"), Path.of("/sys/fs/cgroup"), Path.of("/dev"));
}
