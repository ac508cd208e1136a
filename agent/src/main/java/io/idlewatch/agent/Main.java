package io.idlewatch.agent;

import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.agent.config.ConfigException;
import io.idlewatch.agent.control.ControlCommands;
import io.idlewatch.agent.control.ControlProtocol;
import io.idlewatch.agent.control.ControlServer;
import io.idlewatch.agent.control.ControlService;
import io.idlewatch.agent.idle.Clock;
import io.idlewatch.agent.idle.IdleLoop;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateDirectory;
import io.idlewatch.agent.idle.StateFile;
import io.idlewatch.agent.init.InitLink;
import io.idlewatch.agent.init.PreStop;
import io.idlewatch.agent.posix.Signals;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.SystemPaths;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java agent: the companion of a workspace's init ({@code bin/idlewatch}, PID 1, which spawns
 * the workload and then us). Read top to bottom, it is the order the agent runs in:
 * hello → config → sensors and state → ready → socket → loop { the init's news, sample, decide } → done.
 * The agent decides, the init acts: forwarding, reaping and the stop's TERM/KILL are the init's.
 * {@code idlewatch status|touch|timeout|stop|inhibit} (the native launcher) are clients of this agent's
 * control socket; {@code idlewatch --version} starts this class on its own to read the jar's manifest.
 */
public final class Main {
    static final int EXIT_USAGE = 2;
    /** How the init starts us: {@code java … Main --companion}, its socket as standard input. */
    static final String COMPANION = "--companion";
    /** How often the main thread looks after the agent's other threads when nothing wakes it. */
    static final long TICK_MILLIS = 5000;
    /**
     * The lifetime counts from PID 1's start; the engine records the container's start a little
     * later (tens of ms), so a cap acted on to the millisecond would look early in its record.
     */
    static final long CAP_LAG_MILLIS = 200;
    /** What any other start gets, on one line, with exit code 2. */
    static final String NOT_ALONE = "idlewatch: the agent is started by its init, /opt/idlewatch/bin/idlewatch;"
            + " in a container, the commands are idlewatch status|touch|timeout|stop|inhibit|--version";
    /** Tests only: see {@link #testOnlyOutOfMemory}. */
    public static final String TEST_OOM_VARIABLE = "IDLEWATCH_TEST_OOM_AFTER";
    /** Where the state file goes when /run/idlewatch cannot be made (non-root user, read-only /run). */
    static final Path FALLBACK_STATE_DIR = Path.of("/tmp/idlewatch");
    /** Where the state file and the control socket go, in order of preference. */
    static final List<Path> STATE_DIRS = List.of(StateFile.DEFAULT_DIR, FALLBACK_STATE_DIR);

    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args);
        // Everything is written and flushed; skip the JVM's orderly shutdown (no hooks of ours),
        // so a container stops as soon as its workload is gone.
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(code);
    }

    static int run(String[] args) {
        // 0. The launcher's `idlewatch --version`: answered from this jar, no agent needed.
        if (args.length > 0 && args[0].equals(ControlCommands.VERSION)) {
            return ControlCommands.version(List.of(args).subList(1, args.length), System.out, System.err);
        }
        // 1. Otherwise we are the init's companion: it started us with its socket as our standard input.
        InitLink opened;
        try {
            opened = args.length == 1 && args[0].equals(COMPANION) ? InitLink.open() : null;
        } catch (IOException e) {
            opened = null;
        }
        if (opened == null) {
            System.err.println(NOT_ALONE);
            return EXIT_USAGE;
        }
        try (InitLink link = opened) {
            return companion(link);
        } catch (IOException e) {
            Log.info("the init's socket: " + e.getMessage());
            return 1;
        }
    }

    /**
     * The agent as the init's companion: config → hello → sensors and state → ready → socket → loop
     * { the init's news, restart what could not start, the lifetime cap } until the init says done.
     */
    private static int companion(InitLink link) throws IOException {
        // 2. The init says when the container started and how often we were restarted.
        InitLink.Hello hello = null;
        long helloDeadline = System.nanoTime() + 10_000_000_000L;
        while (hello == null) {
            for (InitLink.Message m : link.await(1000)) {
                if (!(m instanceof InitLink.Hello h)) {
                    throw new IOException("expected hello first, got " + m);
                }
                hello = h;
            }
            if (hello == null && System.nanoTime() > helloDeadline) {
                throw new IOException("no hello from the init");
            }
        }

        // 3. Configuration: any bad value stops us here; the init then spawns nothing and exits 2.
        AgentConfig config;
        try {
            config = AgentConfig.fromEnvironment();
        } catch (ConfigException e) {
            System.err.println("idlewatch: " + e.getMessage());
            return EXIT_USAGE;
        }
        if (hello.restarts() == 0) {
            System.err.println(config.describe());
            config.warnings().forEach(w -> Log.info(w));
            // A wake's note, left by the host before it started the container, is taken by the first
            // agent of the run only: a restarted agent would find what the workload wrote since.
            io.idlewatch.agent.idle.WakeFile.take(STATE_DIRS, java.time.Instant.now(), System.err::println);
        } else {
            String note = "restarted " + hello.restarts() + (hello.restarts() == 1 ? " time" : " times") + ", last at "
                    + java.time.Instant.ofEpochMilli(System.currentTimeMillis()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            StateFile.agentNote(note);
            Log.info("agent " + note + "; idle time counts from now, the lifetime from the container's start");
        }

        // 4. Activity signals and the idle loop, with the state file the host reads.
        List<ActivitySignal> sensors = io.idlewatch.agent.signal.Signals.create(
                config, SystemPaths.DEFAULT, ProcessHandle.current().pid());
        Path stateDir = StateDirectory.choose(STATE_DIRS, System.err::println);
        IdleLoop idle = IdleLoop.create(config, sensors, Clock.SYSTEM, SystemPaths.DEFAULT.dev(),
                stateDir, System.err::println);
        long sinceStartMillis = Math.max(0, System.nanoTime() / 1_000_000L - hello.startedMonoMillis());
        idle.tracker().lifetimeFrom(System.nanoTime() - sinceStartMillis * 1_000_000L, hello.startedEpochMillis());
        link.ready(config.stopGrace().toMillis(), config.maxLifetime() == null ? 0 : config.maxLifetime().toMillis(),
                config.exitCode());

        // 5. The control socket and the idle thread; whatever cannot start now (a full pids limit)
        //    is retried every turn of the loop, and never stops it.
        Background background = new Background(idle, config, link, stateDir);
        background.tick();
        testOnlyOutOfMemory(hello);

        // 6. The init's news, the lifetime cap, retries; until the init says everything is gone.
        //    Woken by the init's lines; otherwise every few seconds (a thread to restart), or when
        //    the cap is due.
        while (true) {
            long untilCap = idle.tracker().millisUntilLifetime();
            long wait = untilCap >= TICK_MILLIS ? TICK_MILLIS : untilCap + CAP_LAG_MILLIS;
            for (InitLink.Message m : link.await(wait)) {
                if (m instanceof InitLink.SignalCame s) {
                    background.stopping("signal", 128 + s.signal(), "the container got " + Signals.name(s.signal()));
                    link.ack();
                } else if (m instanceof InitLink.Exited e) {
                    String end = e.killedBy() > 0 ? "was killed by " + Signals.name(e.killedBy()) + " (" + e.exitCode() + ")"
                            : "exited with " + e.exitCode();
                    if (e.lastForwarded() > 0) {
                        background.stopping("signal", e.exitCode(), "the container got " + Signals.name(e.lastForwarded())
                                + "; the workload " + end);
                    } else {
                        background.stopping("workload-exit", e.exitCode(), "the workload " + end);
                    }
                    link.ack();
                } else if (m instanceof InitLink.Done) {
                    // 7. Say why we stopped, where the host can read it without exec.
                    idle.tracker().markStopped();
                    idle.writeState();
                    background.close();
                    link.ack();
                    return 0;
                } else {
                    throw new IOException("unexpected " + m);
                }
            }
            background.tick();
            background.checkLifetime();
        }
    }

    /**
     * Tests only: IDLEWATCH_TEST_OOM_AFTER=DURATION makes the first agent of a container run out of
     * memory that long after it started (the init must restart it and keep the workload running).
     */
    private static void testOnlyOutOfMemory(InitLink.Hello hello) {
        String after = System.getenv(TEST_OOM_VARIABLE);
        if (after == null || after.isEmpty() || hello.restarts() > 0) {
            return;
        }
        long millis = io.idlewatch.contract.Durations.parse(after).toMillis();
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                return;
            }
            List<long[]> hog = new java.util.ArrayList<>();
            while (true) {
                hog.add(new long[1 << 20]);
            }
        }, "idlewatch-test-oom");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The agent's two threads (the control socket, the idle loop), started and kept going from the
     * main thread, and the stops it asks the init for.
     */
    private static final class Background {
        private final IdleLoop idle;
        private final AgentConfig config;
        private final InitLink link;
        private final Path stateDir;
        private final java.util.concurrent.atomic.AtomicBoolean stopAsked = new java.util.concurrent.atomic.AtomicBoolean();
        private ControlServer control;
        private boolean controlStarted;
        private boolean controlGivenUp;
        private Thread idleThread;
        /** What has failed to start so far: logged once each, however often it is retried. */
        private final java.util.Set<String> failedToStart = new java.util.HashSet<>();

        Background(IdleLoop idle, AgentConfig config, InitLink link, Path stateDir) {
            this.idle = idle;
            this.config = config;
            this.link = link;
            this.stateDir = stateDir;
        }

        /** Once per turn of the loop (at least every second): retry what could not start. */
        void tick() {
            if (!stopAsked.get() && (idleThread == null || !idleThread.isAlive())) {
                startIdleThread();
            }
            if (!controlStarted && !controlGivenUp) {
                startControlServer();
            }
        }

        /** The lifetime cap, on this thread's clock: neither a dead nor a stuck idle thread can keep a capped workspace running. */
        void checkLifetime() {
            IdleTracker.StopInfo stop = idle.tracker().stopIfLifetimeReached();
            if (stop != null) {
                idle.writeState();
                askForStop(stop);
            }
        }

        /** A stop the agent did not decide: recorded before the init signals anything. */
        void stopping(String reason, int exitCode, String detail) {
            idle.tracker().markStopping(reason, exitCode, detail);
            idle.tracker().markExitCode(exitCode, detail);
            idle.writeState();
        }

        /**
         * The stop is recorded; the pre-stop runs (bounded by the grace) on a thread of its own, then
         * the init runs TERM, grace, KILL.
         */
        private void askForStop(IdleTracker.StopInfo stop) {
            if (!stopAsked.compareAndSet(false, true)) {
                return;
            }
            Log.info("stopping: " + stop.detail());
            Runnable sequence = () -> {
                PreStop.run(config.preStop(), config.stopGrace().toMillis(), workloadEnvironment());
                try {
                    link.stop(config.exitCode(), config.stopGrace().toMillis());
                } catch (IOException e) {
                    Log.info("asking the init to stop failed: " + e.getMessage());
                }
            };
            try {
                Thread t = new Thread(sequence, "idlewatch-stop");
                t.setDaemon(true);
                t.start();
            } catch (Throwable e) { // no thread to spare: run it here
                sequence.run();
            }
        }

        /**
         * {@code idlewatch stop}, on the control thread: record the stop (reason manual) where the
         * host reads it, then ask the init for the same sequence an idle stop runs.
         */
        private String stopManually(String reason) {
            IdleTracker.StopInfo stop = idle.tracker().stopManually(reason);
            if (stop == null) {
                IdleTracker.StopInfo under = idle.tracker().stopInfo();
                throw new IllegalStateException("already stopping" + (under == null ? "" : " (" + under.reason() + ")"));
            }
            idle.writeState();
            askForStop(stop);
            boolean preStop = config.preStop() != null && !config.preStop().isEmpty();
            return "stopping now (manual): " + (preStop ? "IDLEWATCH_PRE_STOP, " : "") + "SIGTERM, SIGKILL after "
                    + io.idlewatch.contract.Durations.formatShort(config.stopGrace()) + "; exit code " + config.exitCode();
        }

        /**
         * Serves {@code idlewatch status|touch|timeout|inhibit} on its own thread. A socket that
         * cannot be bound costs the commands, not the workspace: log it and carry on.
         */
        private void startControlServer() {
            if (stateDir == null) {
                controlGivenUp = true;
                return;
            }
            Path socket = stateDir.resolve(ControlProtocol.SOCKET_NAME);
            if (control == null) {
                try {
                    control = ControlServer.bind(socket,
                            new ControlService(idle.tracker(), new StateFile(stateDir, config.workspace()),
                                    this::stopManually),
                            System.err::println);
                } catch (IOException | RuntimeException e) {
                    Log.info("control socket " + socket + " failed: " + e.getMessage()
                            + "; idlewatch status/touch/timeout/inhibit will not work");
                    controlGivenUp = true;
                    return;
                } catch (Throwable e) { // no memory or descriptor now: try again next turn
                    threadFailure("control socket " + socket, e);
                    return;
                }
            }
            try {
                control.start();
                controlStarted = true;
                if (failedToStart.remove("control socket thread")) {
                    Log.info("control socket thread started");
                }
            } catch (Throwable e) { // OutOfMemoryError: unable to create native thread (pids limit)
                threadFailure("control socket thread", e);
            }
        }

        /** Samples every poll interval on its own thread, so a slow sensor never delays the init's news. */
        private void startIdleThread() {
            Thread thread = new Thread(this::idleLoop, "idlewatch-idle");
            thread.setDaemon(true);
            try {
                thread.start();
                idleThread = thread;
                if (failedToStart.remove("idle thread")) {
                    Log.info("idle thread started");
                }
            } catch (Throwable e) {
                threadFailure("idle thread", e);
            }
        }

        private void idleLoop() {
            long pollMillis = config.pollInterval().toMillis();
            String lastFailure = null;
            while (true) {
                try {
                    IdleTracker.Decision decision = idle.poll();
                    if (decision.isStop()) {
                        askForStop(idle.tracker().stopInfo());
                        return;
                    }
                    lastFailure = null;
                } catch (Throwable t) { // the loop goes on whatever one poll ran into
                    String what = t.getClass().getSimpleName() + ": " + t.getMessage();
                    if (!what.equals(lastFailure)) {
                        Log.info("idle loop: a poll failed (" + what + "); carrying on");
                    }
                    lastFailure = what;
                }
                try {
                    Thread.sleep(pollMillis);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** One line per kind of failure, not one per retry. */
        private void threadFailure(String what, Throwable e) {
            if (failedToStart.add(what)) {
                Log.info(what + " could not start (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                        + "); the workload keeps running, retrying every second");
            }
        }

        void close() {
            if (control != null) {
                control.close();
            }
        }
    }

    private static Map<String, String> workloadEnvironment() {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        AgentConfig.LAUNCHER_VARIABLES.forEach(env::remove);
        return env;
    }
}
