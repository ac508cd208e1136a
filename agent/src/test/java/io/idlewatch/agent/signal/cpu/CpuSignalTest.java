package io.idlewatch.agent.signal.cpu;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import io.idlewatch.agent.signal.Fixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuSignalTest extends ActivitySignalContract {
    private static final long AGENT_PID = 42;
    private static final long SEC = TimeUnit.SECONDS.toNanos(1);

    @Override
    protected String expectedName() {
        return "cpu";
    }

    /** cgroup v2 tree plus the agent's /proc/42/stat; activity = half a core for one step. */
    @Override
    protected Fixture quietFixture(Path dir) throws Exception {
        Path root = Fixtures.copy("cpu", dir);
        CpuSignal signal = v2Signal(root, 0.10);
        return fixture(signal, () -> setUsageUsec(root, 120_000_000L + STEP / 1000 / 2), null);
    }

    @Override
    protected ActivitySignal brokenSignal(Path dir) {
        return new CpuSignal(new CgroupCpuReader(dir.resolve("missing"), dir.resolve("missing-proc")),
                new ProcessCpuReader(dir.resolve("missing-proc")), AGENT_PID, new ClientCpu(), 0.1);
    }

    private static CpuSignal v2Signal(Path root, double threshold) {
        return v2Signal(root, new ClientCpu(), threshold);
    }

    private static CpuSignal v2Signal(Path root, ClientCpu clients, double threshold) {
        return new CpuSignal(new CgroupCpuReader(root.resolve("v2"), root.resolve("proc")),
                new ProcessCpuReader(root.resolve("proc")), AGENT_PID, clients, threshold);
    }

    private static void setUsageUsec(Path root, long usec) throws IOException {
        Files.writeString(root.resolve("v2/cpu.stat"), "usage_usec " + usec + "\nuser_usec 1\nsystem_usec 1\n");
    }

    private static void setAgentTicks(Path root, long utime, long stime) throws IOException {
        Files.writeString(root.resolve("proc/42/stat"), "42 (java) S 0 42 42 0 -1 4194560 100 0 0 0 " + utime + " "
                + stime + " 0 0 20 0 12 0 100 90000000 4000 18446744073709551615\n");
    }

    @Test
    void firstSampleOnlySetsTheBaseline() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        ActivitySignal.Reading r = v2Signal(root, 0.1).sample(SEC);
        assertFalse(r.fired());
        assertEquals("cpu measuring", r.detail());
    }

    @Test
    void averagesOverWhatExistsBeforeAMinuteOfHistory() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        CpuSignal signal = v2Signal(root, 0.1);
        signal.sample(0);
        setUsageUsec(root, 120_000_000L + 1_000_000L); // one core-second in 5 s = 20%
        ActivitySignal.Reading r = signal.sample(5 * SEC);
        assertTrue(r.fired());
        assertEquals("cpu 20% of a core", r.detail());
    }

    @Test
    void aShortBurstIsAveragedOverTheMinute() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        CpuSignal signal = v2Signal(root, 0.1);
        long usage = 120_000_000L;
        signal.sample(0);
        // 3 s of one full core, then nothing: 3/60 = 5% over the minute, under 10%
        usage += 3_000_000L;
        setUsageUsec(root, usage);
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
        Path root = Fixtures.copy("cpu", tmp);
        CpuSignal signal = v2Signal(root, 0.1);
        long usage = 120_000_000L;
        signal.sample(0);
        for (long t = 5; t <= 300; t += 5) {
            usage += 1_500_000L; // 30% of a core
            setUsageUsec(root, usage);
            ActivitySignal.Reading r = signal.sample(t * SEC);
            assertTrue(r.fired(), "t=" + t + " " + r.detail());
            assertEquals("cpu 30% of a core", r.detail());
        }
    }

    @Test
    void theAgentsOwnCpuIsNotTheWorkloads() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        CpuSignal signal = v2Signal(root, 0.1);
        signal.sample(0);
        // the container used 2 s in 5 s, all of it the agent's (200 ticks = 2 s)
        setUsageUsec(root, 120_000_000L + 2_000_000L);
        setAgentTicks(root, 150 + 150, 50 + 50);
        ActivitySignal.Reading r = signal.sample(5 * SEC);
        assertFalse(r.fired(), r.detail());
        assertEquals("cpu 0% of a core", r.detail());
    }

    /** A status line polling `idlewatch status` every 2 s: each client's JVM start is reported and left out. */
    @Test
    void cpuTheControlClientsReportIsNotTheWorkloads() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        AtomicLong clock = new AtomicLong(0);
        ClientCpu clients = new ClientCpu(clock::get);
        CpuSignal signal = v2Signal(root, clients, 0.03);
        long usage = 120_000_000L;
        signal.sample(0);
        for (long t = 1; t <= 90; t++) {
            clock.set(t * SEC);
            usage += 5_000L; // 0.5% of a core of the workload's
            if (t % 2 == 0) {
                usage += 70_000L; // a client's JVM start, reported
                clients.add(70_000_000L);
            }
            setUsageUsec(root, usage);
            if (t % 5 == 0) {
                ActivitySignal.Reading r = signal.sample(t * SEC);
                assertFalse(r.fired(), "t=" + t + " " + r.detail());
                assertEquals("cpu 0.5% of a core", r.detail(), "t=" + t);
            }
        }
        // without the reports the same clients are 4% of a core and would keep the workspace alive
        for (long t = 91; t <= 160; t++) {
            usage += 5_000L + (t % 2 == 0 ? 70_000L : 0);
            setUsageUsec(root, usage);
            if (t % 5 == 0) {
                signal.sample(t * SEC);
            }
        }
        ActivitySignal.Reading r = signal.sample(165 * SEC);
        assertTrue(r.fired(), r.detail());
    }

    /** Attack: a loop of requests claiming 2 s each cannot hide a workload of 20% of a core. */
    @Test
    void claimsCannotHideMoreThanTheClientBudget() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        AtomicLong clock = new AtomicLong(0);
        ClientCpu clients = new ClientCpu(clock::get);
        CpuSignal signal = v2Signal(root, clients, 0.10);
        long usage = 120_000_000L;
        signal.sample(0);
        ActivitySignal.Reading r = null;
        for (long ms = 10; ms <= 120_000; ms += 10) {
            clock.set(ms * 1_000_000L);
            usage += 2_000L; // 20% of a core: 2 ms of every 10
            clients.add(2_000_000_000L); // "this request's client used 2 s"
            if (ms % 5000 == 0) {
                setUsageUsec(root, usage);
                r = signal.sample(ms * 1_000_000L);
            }
        }
        assertTrue(r.fired(), r.detail()); // 20% - at most 5% hidden - the burst spread over the minute
    }

    @Test
    void thresholdIsStrictlyExceeded() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        CpuSignal signal = v2Signal(root, 0.1);
        signal.sample(0);
        setUsageUsec(root, 120_000_000L + 1_000_000L); // exactly 10%
        ActivitySignal.Reading r = signal.sample(10 * SEC);
        assertFalse(r.fired(), r.detail());
        assertEquals("cpu 10% of a core", r.detail());
    }

    @Test
    void readsCgroupV1AndTheJoinedMount() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        CgroupCpuReader v1 = new CgroupCpuReader(root.resolve("v1"), root.resolve("proc"));
        assertEquals(120_000_000_000L, v1.usageNanos());
        assertEquals(root.resolve("v1/cpuacct/cpuacct.usage"), v1.file());
        CgroupCpuReader joined = new CgroupCpuReader(root.resolve("v1joined"), root.resolve("proc"));
        assertEquals(120_000_000_000L, joined.usageNanos());
        CgroupCpuReader v2 = new CgroupCpuReader(root.resolve("v2"), root.resolve("proc"));
        assertEquals(120_000_000_000L, v2.usageNanos());
    }

    @Test
    void followsTheOwnCgroupPathWhenTheHostHierarchyIsMounted() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        Path nested = root.resolve("v2/system.slice/docker-abc.scope");
        Files.createDirectories(nested);
        Files.writeString(nested.resolve("cpu.stat"), "usage_usec 5\n");
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/self/cgroup"), "0::/system.slice/docker-abc.scope\n");
        CgroupCpuReader reader = new CgroupCpuReader(root.resolve("v2"), root.resolve("proc"));
        assertEquals(5_000L, reader.usageNanos());
        assertEquals(nested.resolve("cpu.stat"), reader.file());
    }

    @Test
    void agentCpuIsUtimePlusStimeInTicks() throws Exception {
        Path root = Fixtures.copy("cpu", tmp);
        assertEquals(Duration.ofSeconds(2).toNanos(), new ProcessCpuReader(root.resolve("proc")).cpuNanos(42));
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
