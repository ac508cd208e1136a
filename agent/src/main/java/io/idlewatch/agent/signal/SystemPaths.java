package io.idlewatch.agent.signal;

import java.nio.file.Path;

/**
 * Where the kernel's views are mounted (OSHI's ProcPath idea): tests point
 * these at fixture trees, production uses {@link #DEFAULT}. The cgroup tree is
 * read through OSHI, whose root is its own per-JVM setting
 * ({@code oshi.util.sys.path}, {@code oshi.util.proc.path}).
 */
public record SystemPaths(Path proc, Path dev) {
    public static final SystemPaths DEFAULT = new SystemPaths(Path.of("/proc"), Path.of("/dev"));
}
