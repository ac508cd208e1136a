package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.control.ControlService;
import io.idlewatch.agent.idle.FakeClock;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateFile;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.QuietSignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import io.idlewatch.agent.signal.Fixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import oshi.util.linux.ProcPath;
import oshi.util.linux.SysPath;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu signal on fixture trees, read by OSHI itself: OSHI's /proc and /sys root is one setting
 * per JVM, so this class points it at {@link #ROOT} before any OSHI class loads, and each test
 * lays its tree out there (tests in a class run one at a time).
 */
class CpuSignalTest extends ActivitySignalContract {
    private static final long AGENT_PID = 42;
    private static final long SEC = TimeUnit.SECONDS.toNanos(1);
    /** OSHI's root for this JVM: ROOT/proc and ROOT/sys. */
    private static final Path ROOT;

    static {
        try {
            ROOT = Files.createTempDirectory("oshi-root");
            Files.createDirectories(ROOT.resolve("proc"));
            Files.createDirectories(ROOT.resolve("sys"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.setProperty("oshi.util.proc.path", ROOT.resolve("proc").toString());
        System.setProperty("oshi.util.sys.path", ROOT.resolve("sys").toString());
    }

    private static Path proc() {
        return ROOT.resolve("proc");
    }

    private static Path cgroup() {
        return ROOT.resolve("sys/fs/cgroup");
    }

    /**
     * A fresh tree: the agent's /proc/42/stat, /proc/filesystems with cgroup2, and a cgroup v2
     * container in its own namespace (one line in /proc/self/cgroup, cpu.stat at the root).
     */
    @BeforeEach
    void layOutV2() throws IOException {
        assertEquals(proc().toString(), ProcPath.PROC, "OSHI was loaded before this class pointed it at fixtures");
        assertEquals(ROOT.resolve("sys") + "/", SysPath.SYS);
        try (Stream<Path> all = Files.walk(ROOT)) {
            all.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(ROOT)).forEach(p -> p.toFile().delete());
        }
        Fixtures.copy("cpu/proc", proc());
        Files.writeString(proc().resolve("filesystems"), "nodev\tsysfs\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\n");
        selfCgroup("0::/\n");
        Files.createDirectories(cgroup());
        Files.writeString(cgroup().resolve("cgroup.controllers"), "cpu io memory pids\n");
        setUsageUsec(120_000_000L);
    }

    private static void selfCgroup(String lines) throws IOException {
        Files.createDirectories(proc().resolve("self"));
        Files.writeString(proc().resolve("self/cgroup"), lines);
    }

    @Override
    protected String expectedName() {
        return "cpu";
    }

    /** The v2 tree; activity = half a core for one step. */
    @Override
    protected Fixture quietFixture(Path dir) throws Exception {
        CpuSignal signal = v2Signal(0.10);
        return fixture(signal, () -> setUsageUsec(120_000_000L + STEP / 1000 / 2), null);
    }

    /** No cgroup CPU accounting anywhere: OSHI reads 0, and nothing is mounted for the workaround. */
    @Override
    protected ActivitySignal brokenSignal(Path dir) throws IOException {
        Files.delete(cgroup().resolve("cpu.stat"));
        return v2Signal(0.1);
    }

    private static CpuSignal v2Signal(double threshold) {
        return new CpuSignal(new ContainerCpu(), new ProcessCpuReader(proc()), AGENT_PID, threshold);
    }

    private static void setUsageUsec(long usec) throws IOException {
        setUsageUsec(cgroup(), usec);
    }

    private static void setUsageUsec(Path dir, long usec) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cpu.stat"), "usage_usec " + usec + "\nuser_usec 1\nsystem_usec 1\n");
    }

    private static void setAgentTicks(long utime, long stime) throws IOException {
        Files.writeString(proc().resolve("42/stat"), "42 (java) S 0 42 42 0 -1 4194560 100 0 0 0 " + utime + " "
                + stime + " 0 0 20 0 12 0 100 90000000 4000 18446744073709551615\n");
    }

    private static void setV1Usage(Path dir, long nanos) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cpuacct.usage"), nanos + "\n");
    }

    /** A cgroup v1 tree (a tmpfs of controller mounts) in place of the v2 one. */
    private static void v1Mounts() throws IOException {
        Files.delete(cgroup().resolve("cpu.stat"));
        Files.delete(cgroup().resolve("cgroup.controllers"));
    }

    @Test
    void firstSampleOnlySetsTheBaseline() throws Exception {
        ActivitySignal.Reading r = v2Signal(0.1).sample(SEC);
        assertFalse(r.fired());
        assertEquals("cpu measuring: cgroup v2 (OSHI)", r.detail());
    }

    @Test
    void averagesOverWhatExistsBeforeAMinuteOfHistory() throws Exception {
        CpuSignal signal = v2Signal(0.1);
        signal.sample(0);
        setUsageUsec(120_000_000L + 1_000_000L); // one core-second in 5 s = 20%
        ActivitySignal.Reading r = signal.sample(5 * SEC);
        assertTrue(r.fired());
        assertEquals("cpu 20% of a core", r.detail());
    }

    @Test
    void aShortBurstIsAveragedOverTheMinute() throws Exception {
        CpuSignal signal = v2Signal(0.1);
        long usage = 120_000_000L;
        signal.sample(0);
        // 3 s of one full core, then nothing: 3/60 = 5% over the minute, under 10%
        usage += 3_000_000L;
        setUsageUsec(usage);
        assertTrue(signal.sample(5 * SEC).fired(), "60% over the first 5 s");
        for (long t = 10; t <= 60; t += 5) {
            signal.sample(t * SEC);
        }
        ActivitySignal.Reading r = signal.sample(65 * SEC);
        assertFalse(r.fired(), r.detail());
        assertEquals("cpu 0% of a core", r.detail());
    }

    @Test
    void steadyLoadKeepsFiringAndUsesTheLastMinute() throws Exception {
        CpuSignal signal = v2Signal(0.1);
        long usage = 120_000_000L;
        signal.sample(0);
        for (long t = 5; t <= 300; t += 5) {
            usage += 1_500_000L; // 30% of a core
            setUsageUsec(usage);
            ActivitySignal.Reading r = signal.sample(t * SEC);
            assertTrue(r.fired(), "t=" + t + " " + r.detail());
            assertEquals("cpu 30% of a core", r.detail());
        }
    }

    @Test
    void theAgentsOwnCpuIsNotTheWorkloads() throws Exception {
        CpuSignal signal = v2Signal(0.1);
        signal.sample(0);
        // the container used 2 s in 5 s, all of it the agent's (200 ticks = 2 s)
        setUsageUsec(120_000_000L + 2_000_000L);
        setAgentTicks(150 + 150, 50 + 50);
        ActivitySignal.Reading r = signal.sample(5 * SEC);
        assertFalse(r.fired(), r.detail());
        assertEquals("cpu 0% of a core", r.detail());
    }

    /**
     * Requests that carry {@code cpu_ms} (older clients claiming their own CPU) are served and
     * change nothing: a loop of them claiming 2 s each hides none of a workload of 20% of a core.
     */
    @Test
    void cpuMsInControlRequestsIsAcceptedAndIgnored() throws Exception {
        FakeClock trackerClock = new FakeClock();
        ActivitySignal quiet = new QuietSignal();
        ControlService service = new ControlService(new IdleTracker(List.of(quiet), trackerClock,
                Duration.ofMinutes(5), null, null, Duration.ZERO, 0, line -> { }),
                new StateFile(Path.of("/nonexistent"), null));
        CpuSignal signal = v2Signal(0.10);
        long usage = 120_000_000L;
        signal.sample(0);
        for (long ms = 100; ms <= 120_000; ms += 100) {
            trackerClock.advance(Duration.ofMillis(100));
            usage += 20_000L; // 20% of a core: 20 ms of every 100
            String request = ms % 200 == 0 ? "idlewatch/1 status format=json&cpu_ms=2000"
                    : "idlewatch/1 cli a0=status&cpu_ms=2000"; // "this request's client used 2 s"
            String answer = service.handle(request).line();
            assertTrue(answer.startsWith(ms % 200 == 0 ? "ok {" : "cli 0 "), request + " -> " + answer);
            if (ms % 5000 == 0) {
                setUsageUsec(usage);
                ActivitySignal.Reading r = signal.sample(ms * 1_000_000L);
                assertTrue(r.fired(), "ms=" + ms + " " + r.detail());
                assertEquals("cpu 20% of a core", r.detail(), "ms=" + ms);
            }
        }
    }

    @Test
    void thresholdIsStrictlyExceeded() throws Exception {
        CpuSignal signal = v2Signal(0.1);
        signal.sample(0);
        setUsageUsec(120_000_000L + 1_000_000L); // exactly 10%
        ActivitySignal.Reading r = signal.sample(10 * SEC);
        assertFalse(r.fired(), r.detail());
        assertEquals("cpu 10% of a core", r.detail());
    }

    @Test
    void firstDetailSaysWhereReadingsComeFrom() throws Exception {
        assertEquals("cpu measuring: cgroup v2 (OSHI)", v2Signal(0.1).sample(SEC).detail());
    }

    // ---- what OSHI reads itself ----

    @Test
    void oshiReadsCgroupV2UsageUsec() throws Exception {
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(120_000_000_000L, cpu.usageNanos());
        assertEquals("cgroup v2 (OSHI)", cpu.source());
        setUsageUsec(120_000_001L);
        assertEquals(120_000_001_000L, cpu.usageNanos(), "a fresh reading each time");
    }

    /** A v2 host with the host cgroup namespace: the whole hierarchy is mounted, the own path is followed. */
    @Test
    void oshiFollowsTheOwnV2PathInTheHostNamespace() throws Exception {
        selfCgroup("0::/system.slice/docker-abc.scope\n");
        setUsageUsec(cgroup().resolve("system.slice/docker-abc.scope"), 5);
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(5_000L, cpu.usageNanos());
        assertEquals("cgroup v2 (OSHI)", cpu.source());
    }

    /** cgroup v1 in a private cgroup namespace, separate and joined cpu/cpuacct mounts. */
    @Test
    void oshiReadsCgroupV1PrivateNamespaces() throws Exception {
        v1Mounts();
        selfCgroup("2:cpuacct:/\n1:cpu:/\n0::/\n");
        setV1Usage(cgroup().resolve("cpuacct"), 120_000_000_000L);
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(120_000_000_000L, cpu.usageNanos());
        assertEquals("cgroup v1 (OSHI)", cpu.source());

        selfCgroup("3:cpu,cpuacct:/\n0::/\n");
        setV1Usage(cgroup().resolve("cpu,cpuacct"), 7L);
        assertEquals(7L, new ContainerCpu().usageNanos());
    }

    // ---- the workaround: where OSHI does not look ----

    /**
     * Docker's default on a v1 host: the host cgroup namespace, with the container's own cgroup
     * mounted at the controller's root. OSHI looks under cpuacct/docker/abc and reads 0.
     */
    @Test
    void v1HostNamespaceReadsTheMountedOwnCgroup() throws Exception {
        v1Mounts();
        selfCgroup("2:cpuacct:/docker/abc\n1:cpu:/docker/abc\n0::/docker/abc\n");
        setV1Usage(cgroup().resolve("cpuacct"), 9_000L);
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(9_000L, cpu.usageNanos());
        assertEquals("cgroup v1 " + cgroup().resolve("cpuacct/cpuacct.usage") + " (OSHI found none)", cpu.source());
        setV1Usage(cgroup().resolve("cpuacct"), 10_000L);
        assertEquals(10_000L, cpu.usageNanos());
    }

    /** A hybrid host's /proc/self/cgroup (v1 lines too) with the unified hierarchy mounted: OSHI says v1. */
    @Test
    void unifiedHierarchyOnAHybridHostIsReadAsV2() throws Exception {
        selfCgroup("2:cpuacct:/\n1:cpu:/\n0::/\n");
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(120_000_000_000L, cpu.usageNanos());
        assertEquals("cgroup v2 " + cgroup().resolve("cpu.stat") + " (OSHI found none)", cpu.source());
    }

    /** The same in the host namespace: the own 0:: path, not the root (which is the whole machine). */
    @Test
    void unifiedHierarchyInTheHostNamespaceFollowsTheOwnPath() throws Exception {
        selfCgroup("2:cpuacct:/P/abc\n1:cpu:/P/abc\n0::/P/abc\n");
        setUsageUsec(cgroup().resolve("P/abc"), 3);
        ContainerCpu cpu = new ContainerCpu();
        assertEquals(3_000L, cpu.usageNanos());
        assertEquals("cgroup v2 " + cgroup().resolve("P/abc/cpu.stat") + " (OSHI found none)", cpu.source());
    }

    /** Once OSHI served, a 0 is its file gone: an error (the signal is degraded), not "no CPU used". */
    @Test
    void aFileThatGoesAwayIsAnError() throws Exception {
        ContainerCpu cpu = new ContainerCpu();
        cpu.usageNanos();
        Files.delete(cgroup().resolve("cpu.stat"));
        assertThrows(IOException.class, cpu::usageNanos);
    }

    @Test
    void ownPathIsTheV2Line() {
        assertEquals("P/abc", ContainerCpu.ownPath("2:cpuacct:/x\n0::/P/abc\n"));
        assertEquals(null, ContainerCpu.ownPath("0::/\n"));
        assertEquals(null, ContainerCpu.ownPath("2:cpuacct:/x\n"));
    }

    // ---- the agent's own CPU ----

    @Test
    void agentCpuIsUtimePlusStimeInTicks() throws Exception {
        assertEquals(Duration.ofSeconds(2).toNanos(), new ProcessCpuReader(proc()).cpuNanos(42));
    }

    @Test
    void commandNamesWithSpacesAndParensDoNotShiftFields() throws Exception {
        Path proc = tmp.resolve("proc");
        Files.createDirectories(proc.resolve("7"));
        Files.writeString(proc.resolve("7/stat"),
                "7 (my (odd) cmd) S 0 7 7 0 -1 4194560 100 0 0 0 30 20 0 0 20 0 1 0 100 9 9 1\n");
        assertEquals(Duration.ofMillis(500).toNanos(), new ProcessCpuReader(proc).cpuNanos(7));
    }
}
