package io.idlewatch.agent;

import io.idlewatch.agent.init.InitException;
import io.idlewatch.agent.init.SignalChannel;
import io.idlewatch.agent.init.SpawnException;
import io.idlewatch.agent.init.Supervisor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code idlewatch -- CMD [ARGS...]}: PID 1 of a workspace container.
 * Read top to bottom, it is the order the agent runs in.
 */
public final class Main {
    static final int EXIT_USAGE = 2;
    /** Set by the launcher for the JVM only; the workload must not inherit them. */
    private static final List<String> LAUNCHER_ENV = List.of("_JAVA_SR_SIGNUM", "IDLEWATCH_LAUNCHER");

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        // 1. Arguments: `-- CMD...`, or CMD directly as tini accepts it.
        List<String> command = commandOf(args);
        if (command == null) {
            System.err.println("usage: idlewatch -- CMD [ARGS...]");
            return EXIT_USAGE;
        }

        // 2. Signals: the launcher blocked them all; make sure, or forwarding would silently not happen.
        if (!signalsBlockedByLauncher()) {
            Log.info("signals are not blocked; start the agent through /opt/idlewatch/bin/idlewatch, not java");
            return EXIT_USAGE;
        }
        long graceMillis = 10_000;
        try (SignalChannel signals = SignalChannel.open()) {
            Supervisor supervisor = new Supervisor(signals, graceMillis);
            supervisor.becomeSubreaperUnlessPid1();

            // 3. Spawn the workload in its own process group.
            try {
                supervisor.spawn(command, workloadEnvironment());
            } catch (SpawnException e) {
                Log.info(e.getMessage());
                return e.exitCode();
            }

            // 4. Forward, reap, until the workload ends; then TERM/KILL the survivors.
            Supervisor.Outcome outcome = supervisor.run();
            return outcome.exitCode();
        } catch (InitException e) {
            Log.info(e.getMessage());
            return 1;
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
        LAUNCHER_ENV.forEach(env::remove);
        return env;
    }

    /** SigBlk in /proc/self/status covers SIGTERM when the launcher did its part. */
    private static boolean signalsBlockedByLauncher() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigBlk:")) {
                    long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (mask & (1L << (15 - 1))) != 0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return true; // cannot tell: trust the launcher
        }
        return true;
    }
}
