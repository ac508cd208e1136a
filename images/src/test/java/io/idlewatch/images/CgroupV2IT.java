package io.idlewatch.images;

import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Watched.TIMEOUT;
import static io.idlewatch.images.Watched.keepsRunningUntil;
import static io.idlewatch.images.Watched.sleep;
import static io.idlewatch.images.Watched.stopsInWindow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu signal under cgroup v2, next to SignalsIT's v1 runs. This engine is cgroup v1 in hybrid
 * mode, with the unified (v2) hierarchy at {@value #UNIFIED}, where every container is placed too.
 * A container started with {@code --cgroup-parent=/P} sits in {@code P/<id>} there; P holds only
 * it. Given {@code P}'s directory at /sys/fs/cgroup in a private cgroup namespace, it sees the
 * kernel's v2 {@code cpu.stat} of its own cgroup, as on a v2 host (Docker's default there); given
 * the whole hierarchy in the host namespace, it finds itself at {@code /P/<id>}, as on a v2 host
 * with {@code --cgroupns=host}. Either way there is no v1 accounting in the container, so every
 * reading is the v2 one. Needs root on the engine's host (the parent cgroup is made here).
 */
@Execution(ExecutionMode.CONCURRENT)
class CgroupV2IT {
    static final String UNIFIED = "/sys/fs/cgroup/unified";
    private static final String IDLEWATCH = "/opt/idlewatch/bin/idlewatch";

    enum Namespace { PRIVATE, HOST }

    /** A parent cgroup in the unified hierarchy, for one test; removed (with Docker's v1 twins) after. */
    static final class Parent implements AutoCloseable {
        final String name = "idlewatch-it-" + UUID.randomUUID().toString().substring(0, 8);

        Parent() throws IOException {
            Files.createDirectory(Path.of(UNIFIED, name));
        }

        Path dir() {
            return Path.of(UNIFIED, name);
        }

        /** The kernel's cumulative usage of the parent (the container and nothing else), in µs. */
        long usageUsec() throws IOException {
            for (String line : Files.readAllLines(dir().resolve("cpu.stat"))) {
                if (line.startsWith("usage_usec ")) {
                    return Long.parseLong(line.substring("usage_usec ".length()).trim());
                }
            }
            throw new IOException("no usage_usec in " + dir());
        }

        @Override
        public void close() throws IOException {
            // Docker made P in each v1 hierarchy too; an empty cgroup is removed with rmdir
            try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(Path.of("/sys/fs/cgroup"))) {
                for (Path h : hierarchies) {
                    Path p = h.resolve(name);
                    for (int i = 0; i < 50 && Files.isDirectory(p); i++) {
                        try {
                            Files.delete(p);
                        } catch (IOException busy) {
                            sleep(Duration.ofMillis(100)); // the container's cgroup is still going
                        }
                    }
                }
            }
        }
    }

    private static Box.Spec v2(Namespace ns, Parent parent) {
        Box.Spec spec = Watched.idle(AGENT_TEST_IMAGE).cgroupParent("/" + parent.name);
        return ns == Namespace.PRIVATE
                ? spec.cgroupns("private").bindReadOnly(parent.dir().toString(), "/sys/fs/cgroup")
                : spec.cgroupns("host").bindReadOnly(UNIFIED, "/sys/fs/cgroup");
    }

    /** What the container sees: v2 accounting where the agent looks, and no v1 accounting at all. */
    private static void seesOnlyV2(Box box, Namespace ns) {
        String self = box.exec("cat", "/proc/self/cgroup");
        String v2Line = self.lines().filter(l -> l.startsWith("0::")).findFirst().orElse("");
        String cpuStat = ns == Namespace.PRIVATE ? "/sys/fs/cgroup/cpu.stat"
                : "/sys/fs/cgroup" + v2Line.substring(3) + "/cpu.stat";
        assertTrue(ns == Namespace.PRIVATE ? v2Line.equals("0::/") : v2Line.matches("0::/idlewatch-it-\\w+/\\w+"),
                self);
        assertTrue(box.exec("cat", cpuStat).startsWith("usage_usec "), cpuStat);
        Box.ExecResult v1 = box.execAs(null, "sh", "-c", "ls /sys/fs/cgroup/cpuacct /sys/fs/cgroup/cpu,cpuacct");
        assertTrue(v1.exitCode() != 0, "no v1 accounting: " + v1.output());
    }

    @ParameterizedTest
    @EnumSource(Namespace.class)
    void busyLoopKeepsItRunning(Namespace ns) throws IOException {
        try (Parent parent = new Parent();
             // niced a little, to leave other tests room; at nice 19 a loaded host gave it under 10% of a core
             Box box = v2(ns, parent).cmd("nice", "-n", "5", "bash", "-c", "while :; do :; done").start()) {
            seesOnlyV2(box, ns);
            long kernel0 = parent.usageUsec();
            Instant t0 = Instant.now();
            keepsRunningUntil(box, Watched.startedAt(box).plus(TIMEOUT.multipliedBy(2)), "busy loop, cgroup v2 " + ns);
            String cpu = Watched.signal(box.exec("cat", Watched.STATE_FILE), "cpu");
            double kernel = (parent.usageUsec() - kernel0) * 1000.0 / Duration.between(t0, Instant.now()).toNanos();
            assertTrue(cpu.matches(".*\"last_fired_detail\":\"cpu [0-9]+% of a core\".*"), cpu);
            // what the agent saw is the kernel's count (less its own): over the threshold, and what the
            // kernel says within a margin (a niced loop on a loaded machine gets what it gets)
            int seen = Integer.parseInt(cpu.replaceAll(".*\"detail\":\"cpu ([0-9.]+)%? of a core.*", "$1")
                    .replaceAll("\\..*", ""));
            assertTrue(seen >= 10 && Math.abs(seen - kernel * 100) <= 15,
                    "agent saw " + seen + "%, the kernel " + kernel + " cores");
        }
    }

    /**
     * At a 1 % threshold: the agent's own start (a JVM, about half a second of CPU in the first
     * 20 s, 2.5 %) is in the same cgroup and would keep it running were it counted.
     */
    @ParameterizedTest
    @EnumSource(Namespace.class)
    void idleStopsOnTimeAndTheAgentsOwnCpuIsNotCounted(Namespace ns) throws IOException {
        try (Parent parent = new Parent();
             Box box = v2(ns, parent).env("IDLEWATCH_CPU_THRESHOLD", "1%").cmd("sleep", "infinity").start()) {
            seesOnlyV2(box, ns);
            stopsInWindow(box, Watched.startedAt(box), 0);
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
            assertTrue(parent.usageUsec() > 200_000, "the agent used CPU the kernel counted: " + parent.usageUsec());
        }
    }

    @ParameterizedTest
    @EnumSource(Namespace.class)
    void lightPeriodicJobDoesNotKeepItRunning(Namespace ns) throws IOException {
        // 50 ms of work every 5 s: 1% of a core, under the 10% threshold
        String job = "while :; do timeout 0.05 bash -c 'while :; do :; done'; echo job ran; sleep 5; done";
        try (Parent parent = new Parent(); Box box = v2(ns, parent).cmd("bash", "-c", job).start()) {
            stopsInWindow(box, Watched.startedAt(box), 0);
            assertTrue(box.logs().split("job ran", -1).length > 4, "the job ran every 5 s: " + box.logs());
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    /**
     * A status line polling every second at a 4 % threshold (ControlIT's case on v1): each client
     * is native, a few milliseconds inside the container, which the signal counts.
     */
    @ParameterizedTest
    @EnumSource(Namespace.class)
    void controlClientsCpuIsNotCounted(Namespace ns) throws IOException {
        try (Parent parent = new Parent();
             Box box = v2(ns, parent).env("IDLEWATCH_CPU_THRESHOLD", "4%").cmd("sleep", "infinity").start()) {
            Instant started = Watched.startedAt(box);
            int polls = 0;
            while (box.running() && Instant.now().isBefore(started.plus(TIMEOUT.multipliedBy(3)))) {
                if (box.execAs(null, IDLEWATCH, "status").exitCode() == 0) {
                    polls++;
                }
                sleep(Duration.ofSeconds(1));
            }
            stopsInWindow(box, started, 0);
            assertTrue(polls >= 3, "status answered " + polls + " times");
            assertTrue(box.logs().contains("stopping: idle "), box.logs());
        }
    }
}
