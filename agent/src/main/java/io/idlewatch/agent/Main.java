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
import io.idlewatch.agent.init.InitException;
import io.idlewatch.agent.init.SignalChannel;
import io.idlewatch.agent.init.SpawnException;
import io.idlewatch.agent.init.Supervisor;
import io.idlewatch.agent.posix.Signals;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.SystemPaths;
import io.idlewatch.agent.signal.cpu.ClientCpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code idlewatch -- CMD [ARGS...]}: PID 1 of a workspace container.
 * Read top to bottom, it is the order the agent runs in:
 * config → signals → spawn → sensors and state → socket → loop { forward, reap, sample, decide } → exit.
 * {@code idlewatch status|touch|timeout|inhibit} are clients of that agent's control socket.
 */
public final class Main {
    static final int EXIT_USAGE = 2;
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
        // 0. A client subcommand talks to the running agent and is done.
        if (args.length > 0 && ControlCommands.isControlCommand(args[0])) {
            if (args[0].equals("inhibit") && !signalsBlockedByLauncher()) {
                Log.info("signals are not blocked; run inhibit through /opt/idlewatch/bin/idlewatch, not java");
                return EXIT_USAGE;
            }
            return ControlCommands.run(args, STATE_DIRS, workloadEnvironment(), System.out, System.err);
        }

        // 1. Arguments: `-- CMD...`, or CMD directly as tini accepts it.
        List<String> command = commandOf(args);
        if (command == null) {
            System.err.println("usage: idlewatch -- CMD [ARGS...]\n"
                    + "       idlewatch status [--json] | touch [--reason TEXT] | timeout DURATION|off"
                    + " | stop [--reason TEXT]\n"
                    + "       idlewatch inhibit [--reason TEXT] -- CMD [ARGS...]");
            return EXIT_USAGE;
        }

        long startNanos = System.nanoTime();
        // 2. Configuration: any bad value stops us here, before anything is spawned.
        AgentConfig config;
        try {
            config = AgentConfig.fromEnvironment();
        } catch (ConfigException e) {
            System.err.println("idlewatch: " + e.getMessage());
            return EXIT_USAGE;
        }
        System.err.println(config.describe());
        config.warnings().forEach(w -> Log.info(w));

        // 3. Signals: the launcher blocked them all; make sure, or forwarding would silently not happen.
        if (!signalsBlockedByLauncher()) {
            Log.info("signals are not blocked; start the agent through /opt/idlewatch/bin/idlewatch, not java");
            return EXIT_USAGE;
        }
        // A wake's note (the host's, or a forged one) is taken before any workload process of this run exists.
        io.idlewatch.agent.idle.WakeFile.take(STATE_DIRS, java.time.Instant.now(), System.err::println);
        try (SignalChannel signals = SignalChannel.open()) {
            Supervisor supervisor = new Supervisor(signals, config.stopGrace().toMillis());
            supervisor.becomeSubreaperUnlessPid1();

            // 4. Spawn the workload in its own process group, as early as we can.
            int spawnFailure = 0;
            String spawnMessage = null;
            try {
                supervisor.spawn(command, workloadEnvironment());
            } catch (SpawnException e) {
                spawnFailure = e.exitCode();
                spawnMessage = e.getMessage();
                Log.info(spawnMessage);
            }

            // 5. Activity signals and the idle loop, with the state file the host reads.
            ClientCpu clientCpu = new ClientCpu();
            List<ActivitySignal> sensors = io.idlewatch.agent.signal.Signals.create(
                    config, SystemPaths.DEFAULT, ProcessHandle.current().pid(), clientCpu);
            Path stateDir = StateDirectory.choose(STATE_DIRS, System.err::println);
            IdleLoop idle = IdleLoop.create(config, sensors, Clock.SYSTEM, SystemPaths.DEFAULT.dev(),
                    stateDir, System.err::println);
            if (spawnMessage != null) {
                idle.tracker().markStopping("workload-exit", spawnFailure, spawnMessage);
                idle.tracker().markStopped();
                idle.writeState();
                return spawnFailure;
            }
            Log.debug("spawned " + (System.nanoTime() - startNanos) / 1_000_000 + " ms after main()");

            // 6. The control socket and the idle thread; whatever cannot start now (a full pids
            //    limit) is retried on every turn of the supervisor's loop, and never stops it.
            Background background = new Background(idle, config, supervisor, clientCpu, stateDir);
            supervisor.setEvents(background);
            background.tick();

            // 7. Forward, reap, enforce the lifetime cap, and let the idle thread ask for a stop;
            //    then TERM/KILL the survivors.
            Supervisor.Outcome outcome = supervisor.run();

            // 8. Say why we stopped, where the host can read it without exec.
            if (outcome.stoppedBy() == null) {
                idle.tracker().markExitCode(outcome.exitCode(), null);
            }
            idle.tracker().markStopped();
            idle.writeState();
            background.close();
            return outcome.exitCode();
        } catch (InitException e) {
            Log.info(e.getMessage());
            return 1;
        }
    }

    /**
     * The agent's two threads (the control socket, the idle loop), started and kept going from the
     * supervisor's thread, and what the supervisor tells the rest of the agent.
     */
    private static final class Background implements Supervisor.Events {
        private final IdleLoop idle;
        private final AgentConfig config;
        private final Supervisor supervisor;
        private final ClientCpu clientCpu;
        private final Path stateDir;
        private ControlServer control;
        private boolean controlStarted;
        private boolean controlGivenUp;
        private Thread idleThread;
        /** What has failed to start so far: logged once each, however often it is retried. */
        private final java.util.Set<String> failedToStart = new java.util.HashSet<>();

        Background(IdleLoop idle, AgentConfig config, Supervisor supervisor, ClientCpu clientCpu, Path stateDir) {
            this.idle = idle;
            this.config = config;
            this.supervisor = supervisor;
            this.clientCpu = clientCpu;
            this.stateDir = stateDir;
        }

        @Override
        public void tick() {
            if (idleThread == null || !idleThread.isAlive()) {
                startIdleThread();
            }
            if (!controlStarted && !controlGivenUp) {
                startControlServer();
            }
        }

        @Override
        public Supervisor.StopRequest dueStop() {
            IdleTracker.StopInfo stop = idle.tracker().stopIfLifetimeReached();
            if (stop == null) {
                return null;
            }
            idle.writeState();
            return request(stop);
        }

        @Override
        public void stopping(String reason, int exitCode, String detail) {
            idle.tracker().markStopping(reason, exitCode, detail);
            idle.tracker().markExitCode(exitCode, detail);
            idle.writeState();
        }

        /**
         * {@code idlewatch stop}, on the control thread: record the stop (reason manual) where the
         * host reads it, then hand the supervisor the same sequence an idle stop runs.
         */
        private String stopManually(String reason) {
            IdleTracker.StopInfo stop = idle.tracker().stopManually(reason);
            if (stop == null) {
                IdleTracker.StopInfo under = idle.tracker().stopInfo();
                throw new IllegalStateException("already stopping" + (under == null ? "" : " (" + under.reason() + ")"));
            }
            idle.writeState();
            supervisor.requestStop(request(stop));
            boolean preStop = config.preStop() != null && !config.preStop().isEmpty();
            return "stopping now (manual): " + (preStop ? "IDLEWATCH_PRE_STOP, " : "") + "SIGTERM, SIGKILL after "
                    + io.idlewatch.contract.Durations.formatShort(config.stopGrace()) + "; exit code " + config.exitCode();
        }

        private Supervisor.StopRequest request(IdleTracker.StopInfo stop) {
            return new Supervisor.StopRequest(stop.detail(), config.preStop(), config.stopGrace().toMillis(),
                    config.exitCode());
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
                                    clientCpu, this::stopManually),
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

        /** Samples every poll interval on its own thread, so a slow sensor never delays the init duties. */
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
                        supervisor.requestStop(request(idle.tracker().stopInfo()));
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

    private static List<String> commandOf(String[] args) {
        int from = (args.length > 0 && args[0].equals("--")) ? 1 : 0;
        if (from >= args.length || args[from].isEmpty()) {
            return null;
        }
        return Arrays.asList(args).subList(from, args.length);
    }

    private static Map<String, String> workloadEnvironment() {
        Map<String, String> env = new LinkedHashMap<>(System.getenv());
        AgentConfig.LAUNCHER_VARIABLES.forEach(env::remove);
        return env;
    }

    /** SigBlk in /proc/self/status covers SIGTERM when the launcher did its part. */
    private static boolean signalsBlockedByLauncher() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigBlk:")) {
                    long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (mask & (1L << (Signals.SIGTERM - 1))) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return true; // cannot tell: trust the launcher
        }
        return true;
    }
}
