package io.idlewatch.agent.control;

import io.idlewatch.agent.init.SignalChannel;
import io.idlewatch.agent.init.SpawnException;
import io.idlewatch.agent.init.Spawner;
import io.idlewatch.agent.posix.LibC;
import io.idlewatch.agent.posix.Signals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code idlewatch inhibit [--reason TEXT] -- CMD…}: runs CMD and keeps the
 * workspace active exactly as long as it runs. The hold is this process's
 * connection to the agent: when it closes — CMD ended, or this process died,
 * even of SIGKILL — the agent releases the hold; nothing can leak it.
 *
 * <p>Like the agent, and for the same reason, it spawns CMD with posix_spawn
 * (never ProcessBuilder, whose reaper thread would race our waitpid), in a
 * process group of its own, and forwards the signals it gets to that group;
 * the launcher has blocked them all so they arrive on a signalfd.
 */
final class InhibitCommand implements Callable<Integer> {
    private static final int TICK_MILLIS = 1000;

    private final ControlCommands.Context ctx;
    private final List<String> args;

    InhibitCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        // 1. Arguments: [--reason TEXT] [--] CMD...
        String reason = null;
        int i = 0;
        while (i < args.size() && !args.get(i).equals("--")) {
            String r = ControlCommands.reasonAt(args, i);
            if (r == null) {
                if (args.get(i).startsWith("-")) {
                    throw new ControlCommands.UsageException("inhibit: unknown option \"" + args.get(i) + "\"");
                }
                break; // CMD without "--"
            }
            reason = r;
            i += args.get(i).equals("--reason") ? 2 : 1;
        }
        if (i < args.size() && args.get(i).equals("--")) {
            i++;
        }
        List<String> command = args.subList(i, args.size());
        if (command.isEmpty() || command.get(0).isEmpty()) {
            throw new ControlCommands.UsageException("inhibit needs a command to run");
        }

        // 2. The hold: held for as long as this connection is open.
        Map<String, String> request = new LinkedHashMap<>();
        request.put("reason", ControlProtocol.clip(reason)); // the agent keeps no more: never too long a request
        request.put("pid", Long.toString(ProcessHandle.current().pid()));
        request.put("command", ControlProtocol.clip(String.join(" ", command)));
        try (ControlClient hold = ControlClient.connect(ctx.socketPaths());
             SignalChannel signals = SignalChannel.open()) {
            ControlCommands.Context.okPayload(hold.call(ControlProtocol.HOLD, request));

            // 3. Run CMD; forward signals to its group until it exits.
            int pid;
            try {
                pid = Spawner.spawn(command, ctx.environment(), true);
            } catch (SpawnException e) {
                ctx.err().println("idlewatch: " + e.getMessage());
                return e.exitCode();
            }
            return waitFor(pid, signals);
        }
    }

    private static int waitFor(int pid, SignalChannel signals) {
        int[] status = new int[1];
        while (true) {
            for (int sig : signals.await(TICK_MILLIS)) {
                if (sig != Signals.SIGCHLD && LibC.kill(-pid, sig) != 0) {
                    LibC.kill(pid, sig); // CMD left its group (setsid): signal it alone
                }
            }
            int got = LibC.waitpid(pid, status, LibC.WNOHANG);
            if (got == pid) {
                int s = status[0];
                return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
            }
            if (got < 0 && LibC.errno() != LibC.EINTR) {
                return 1; // ECHILD: cannot happen for our own child
            }
        }
    }
}
