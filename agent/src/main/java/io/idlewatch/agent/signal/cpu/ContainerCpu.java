package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.signal.ProcFiles;
import oshi.software.common.os.linux.LinuxCgroupInfo;
import oshi.software.os.CgroupInfo;
import oshi.util.linux.ProcPath;
import oshi.util.linux.SysPath;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Cumulative CPU time of the container's cgroup, in nanoseconds, through OSHI's native-free Linux
 * cgroup reader ({@link LinuxCgroupInfo}: cgroup v2 {@code usage_usec} of {@code cpu.stat}, v1
 * {@code cpuacct.usage}). Because the counter is cumulative, processes that start and end between
 * two samples are counted too. OSHI reads {@code /proc} and {@code /sys} where its configuration
 * says ({@code oshi.util.proc.path}, {@code oshi.util.sys.path}: one root per JVM, which tests
 * point at fixture trees).
 *
 * <p>{@link LinuxCgroupInfo} is made here directly rather than through
 * {@code oshi.nativefree.SystemInfo}'s operating system: that object's class initialisers run
 * {@code uname -o} and {@code getconf} twice through {@code Runtime.exec}, whose process reaper
 * start processes at every start of the agent for nothing; the cgroup reader is
 * the same class either way.
 *
 * <p><b>The one workaround for OSHI</b> ({@link #whereOshiDoesNotLook}): OSHI returns 0 when it
 * finds no file, and it looks in the wrong place in two cases. (1) cgroup v1 in the host cgroup
 * namespace, Docker's default on v1 hosts: {@code /proc/self/cgroup} says {@code /docker/<id>},
 * but Docker mounts that cgroup's own directory at {@code /sys/fs/cgroup/cpuacct}, so OSHI's
 * {@code /sys/fs/cgroup/cpuacct/docker/<id>/cpuacct.usage} does not exist. (2) It takes cgroup v2
 * only from a one-line {@code /proc/self/cgroup}, so on a hybrid host a container given the
 * unified hierarchy at {@code /sys/fs/cgroup} is read as v1. A 0 is never a real reading (the
 * agent itself has used CPU by its first sample), so on a 0 the mounted tree is looked at instead:
 * v2 {@code cpu.stat} at the own {@code 0::} path or the mount's root, then the v1 mount roots.
 */
public final class ContainerCpu {
    private static final String[] V1_DIRS = {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"};
    private static final byte[] USAGE_USEC = "usage_usec ".getBytes(StandardCharsets.US_ASCII);

    private final CgroupInfo oshi;
    private final Path cgroupRoot = Path.of(SysPath.CGROUP);
    private final Path selfCgroup = Path.of(ProcPath.SELF_CGROUP);
    private final byte[] buf = new byte[2048];
    /** Where readings come from, once one came; null until then. */
    private String source;
    /** The workaround's file, or null while OSHI serves. */
    private Path file;
    private boolean v2;

    public ContainerCpu() {
        this.oshi = new LinuxCgroupInfo();
    }

    /** Cumulative container CPU time in nanoseconds. */
    public long usageNanos() throws IOException {
        if (file != null) {
            return readWorkaround();
        }
        long ns = oshi.getCpuUsage();
        if (ns > 0) {
            if (source == null) {
                source = "cgroup v" + oshi.getVersion() + " (OSHI)";
            }
            return ns;
        }
        if (source != null) {
            // OSHI served before: its file went away
            throw new IOException("OSHI read no cgroup CPU usage (" + source + ")");
        }
        whereOshiDoesNotLook();
        return readWorkaround();
    }

    /** Where the readings come from, e.g. {@code cgroup v2 (OSHI)}; null before the first. */
    public String source() {
        return source;
    }

    private void whereOshiDoesNotLook() throws IOException {
        String own = ownCgroups();
        String v2Path = ownPath(own);
        if (v2Path != null && Files.isRegularFile(cgroupRoot.resolve(v2Path).resolve("cpu.stat"))) {
            use(cgroupRoot.resolve(v2Path).resolve("cpu.stat"), true);
            return;
        }
        if (Files.isRegularFile(cgroupRoot.resolve("cgroup.controllers"))
                && Files.isRegularFile(cgroupRoot.resolve("cpu.stat"))) {
            use(cgroupRoot.resolve("cpu.stat"), true);
            return;
        }
        for (String dir : V1_DIRS) {
            Path usage = cgroupRoot.resolve(dir).resolve("cpuacct.usage");
            if (Files.isRegularFile(usage)) {
                use(usage, false);
                return;
            }
        }
        throw new NoSuchFileException(cgroupRoot.toString(), null,
                "no cgroup CPU accounting (OSHI found none; nor cpu.stat or cpuacct/cpuacct.usage here)");
    }

    private void use(Path f, boolean isV2) {
        file = f;
        v2 = isV2;
        source = "cgroup v" + (isV2 ? 2 : 1) + " " + f + " (OSHI found none)";
    }

    private long readWorkaround() throws IOException {
        int n = ProcFiles.read(file, buf);
        if (!v2) {
            long ns = ProcFiles.parseLong(buf, 0, n);
            if (ns < 0) {
                throw new IOException("no number in " + file);
            }
            return ns;
        }
        for (int i = 0; i + USAGE_USEC.length < n; i++) {
            if ((i == 0 || buf[i - 1] == '\n') && startsWith(i)) {
                long us = ProcFiles.parseLong(buf, i + USAGE_USEC.length, n);
                if (us >= 0) {
                    return us * 1000;
                }
            }
        }
        throw new IOException("no usage_usec in " + file);
    }

    private boolean startsWith(int at) {
        for (int j = 0; j < USAGE_USEC.length; j++) {
            if (buf[at + j] != USAGE_USEC[j]) {
                return false;
            }
        }
        return true;
    }

    private String ownCgroups() {
        try {
            return Files.readString(selfCgroup, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    /** The relative path of the v2 line {@code 0::/path} of /proc/self/cgroup; null if none or the root. */
    static String ownPath(String cgroupFile) {
        for (String line : cgroupFile.split("\n")) {
            if (line.startsWith("0::")) {
                String p = line.substring(3).trim();
                while (p.startsWith("/")) {
                    p = p.substring(1);
                }
                return p.isEmpty() ? null : p;
            }
        }
        return null;
    }
}
