package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.signal.ProcFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Cumulative CPU time of the container's cgroup, in nanoseconds. Because the
 * counter is cumulative, processes that start and end between two samples are
 * counted too.
 *
 * <ul>
 *   <li>cgroup v2: {@code usage_usec} in {@code <root>/cpu.stat}</li>
 *   <li>cgroup v1: {@code <root>/cpuacct/cpuacct.usage} (or the joined
 *       {@code cpu,cpuacct} mount), in nanoseconds</li>
 * </ul>
 * When the container shares the host's cgroup namespace, the mount shows the
 * whole hierarchy, so the agent's own cgroup path from
 * {@code <proc>/self/cgroup} is tried first.
 */
public final class CgroupCpuReader {
    private static final String[] V1_DIRS = {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"};
    private static final byte[] USAGE_USEC = "usage_usec ".getBytes(StandardCharsets.US_ASCII);

    private final Path cgroupRoot;
    private final Path procRoot;
    private final byte[] buf = new byte[2048];
    private Path file;
    private boolean v2;

    public CgroupCpuReader(Path cgroupRoot, Path procRoot) {
        this.cgroupRoot = cgroupRoot;
        this.procRoot = procRoot;
    }

    /** Cumulative container CPU time in nanoseconds. */
    public long usageNanos() throws IOException {
        if (file == null) {
            locate();
        }
        int n = ProcFiles.read(file, buf);
        if (!v2) {
            long ns = ProcFiles.parseLong(buf, 0, n);
            if (ns < 0) {
                throw new IOException("no number in " + file);
            }
            return ns;
        }
        for (int i = 0; i + USAGE_USEC.length < n; i++) {
            if ((i == 0 || buf[i - 1] == '\n') && matches(buf, i, USAGE_USEC)) {
                long us = ProcFiles.parseLong(buf, i + USAGE_USEC.length, n);
                if (us >= 0) {
                    return us * 1000;
                }
            }
        }
        throw new IOException("no usage_usec in " + file);
    }

    /** The file being read, once located (for details and tests). */
    public Path file() {
        return file;
    }

    private static boolean matches(byte[] b, int at, byte[] word) {
        for (int j = 0; j < word.length; j++) {
            if (b[at + j] != word[j]) {
                return false;
            }
        }
        return true;
    }

    private void locate() throws IOException {
        String own = ownCgroups();
        // v2 first: a unified hierarchy has cpu.stat at every level
        String v2Path = pathFor(own, "0", null);
        if (v2Path != null && Files.isRegularFile(cgroupRoot.resolve(v2Path).resolve("cpu.stat"))) {
            use(cgroupRoot.resolve(v2Path).resolve("cpu.stat"), true);
            return;
        }
        if (Files.isRegularFile(cgroupRoot.resolve("cpu.stat")) && !Files.exists(cgroupRoot.resolve("cpuacct"))) {
            use(cgroupRoot.resolve("cpu.stat"), true);
            return;
        }
        String v1Path = pathFor(own, null, "cpuacct");
        for (String dir : V1_DIRS) {
            Path base = cgroupRoot.resolve(dir);
            if (v1Path != null && Files.isRegularFile(base.resolve(v1Path).resolve("cpuacct.usage"))) {
                use(base.resolve(v1Path).resolve("cpuacct.usage"), false);
                return;
            }
            if (Files.isRegularFile(base.resolve("cpuacct.usage"))) {
                use(base.resolve("cpuacct.usage"), false);
                return;
            }
        }
        throw new NoSuchFileException(cgroupRoot.toString(), null,
                "no cgroup CPU accounting (looked for cpu.stat and cpuacct/cpuacct.usage)");
    }

    private void use(Path f, boolean isV2) {
        file = f;
        v2 = isV2;
    }

    private String ownCgroups() {
        try {
            return Files.readString(procRoot.resolve("self/cgroup"), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The relative cgroup path from /proc/self/cgroup lines "id:controllers:/path",
     * for hierarchy {@code id} or the one listing {@code controller}; null if none
     * or if it is the root.
     */
    static String pathFor(String cgroupFile, String id, String controller) {
        for (String line : cgroupFile.split("\n")) {
            int a = line.indexOf(':');
            int b = a < 0 ? -1 : line.indexOf(':', a + 1);
            if (b < 0) {
                continue;
            }
            boolean match = id != null ? line.substring(0, a).equals(id)
                    : (',' + line.substring(a + 1, b) + ',').contains(',' + controller + ',');
            if (match) {
                String p = line.substring(b + 1).trim();
                while (p.startsWith("/")) {
                    p = p.substring(1);
                }
                return p.isEmpty() ? null : p;
            }
        }
        return null;
    }
}
