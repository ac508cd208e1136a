package io.idlewatch.agent.control;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code idlewatch status|touch|timeout|inhibit|stop …}: the launcher's client
 * subcommands. One class per subcommand; here, the dispatch and the one place
 * failures become exit codes: 0 ok, 1 agent not reachable, 2 usage error or
 * refused by the agent (inhibit: CMD's own code).
 */
public final class ControlCommands {
    public static final int EXIT_OK = 0;
    public static final int EXIT_UNREACHABLE = 1;
    public static final int EXIT_USAGE = 2;
    public static final List<String> NAMES = List.of("status", "touch", "timeout", "inhibit", "stop");
    /** Answered from the jar itself, with no agent running: handled here for the same exit codes. */
    public static final String VERSION = "--version";

    /** Bad arguments: exit 2 with the message and the usage line. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    /** The agent said no: exit 2 with its message. */
    static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    /** Answers a request without a connection: the agent running a client command for the native client. */
    @FunctionalInterface
    interface InProcess {
        ControlProtocol.Answer call(String verb, Map<String, String> args);
    }

    /**
     * What every subcommand needs: where the socket may be (or, inside the agent, the service itself)
     * and where to write.
     */
    record Context(List<Path> socketPaths, InProcess inProcess, Map<String, String> environment, PrintStream out,
                   PrintStream err) {
        /** One request on its own connection; an error answer is a refusal. */
        String call(String verb, Map<String, String> args) throws ControlClient.UnreachableException, IOException,
                RefusedException {
            if (inProcess != null) {
                return okPayload(inProcess.call(verb, args));
            }
            try (ControlClient client = ControlClient.connect(socketPaths)) {
                return okPayload(client.call(verb, args));
            }
        }

        static String okPayload(ControlProtocol.Answer answer) throws RefusedException {
            if (!answer.ok()) {
                throw new RefusedException(answer.payload());
            }
            return answer.payload();
        }
    }

    private ControlCommands() {
    }

    public static boolean isControlCommand(String arg) {
        return NAMES.contains(arg) || VERSION.equals(arg);
    }

    /**
     * @param args        the whole command line, subcommand first
     * @param stateDirs   the agent's possible state directories, where its socket is
     * @param environment CMD's environment for inhibit
     */
    public static int run(String[] args, List<Path> stateDirs, Map<String, String> environment, PrintStream out,
                          PrintStream err) {
        return run(args, new Context(ControlProtocol.socketPaths(stateDirs), null, environment, out, err));
    }

    /**
     * A client command the native client ({@code bin/idlewatch status …}) sent whole: run here, in
     * the agent, against the service itself; the client prints what this writes and exits with the code.
     * Inhibit runs a command, so it stays in the client.
     */
    static int runInAgent(List<String> argv, InProcess service, PrintStream out, PrintStream err) {
        if (argv.isEmpty() || argv.get(0).equals("inhibit") || !isControlCommand(argv.get(0))) {
            err.println("idlewatch: unknown command; expected one of status, touch, timeout, stop, --version");
            return EXIT_USAGE;
        }
        return run(argv.toArray(new String[0]), new Context(List.of(), service, Map.of(), out, err));
    }

    private static int run(String[] args, Context ctx) {
        PrintStream err = ctx.err();
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        Callable<Integer> command = switch (args[0]) {
            case "status" -> new StatusCommand(ctx, rest);
            case "touch" -> new ReasonCommand(ctx, ControlProtocol.TOUCH, rest);
            case "timeout" -> new TimeoutCommand(ctx, rest);
            case "inhibit" -> () -> {
                throw new UsageException("inhibit runs in /opt/idlewatch/bin/idlewatch, not in the agent");
            };
            case "stop" -> new ReasonCommand(ctx, ControlProtocol.STOP, rest);
            case VERSION -> new VersionCommand(ctx, rest);
            default -> throw new IllegalArgumentException(args[0]);
        };
        try {
            return command.call();
        } catch (UsageException e) {
            err.println("idlewatch: " + e.getMessage());
            err.println(usage(args[0]));
            return EXIT_USAGE;
        } catch (RefusedException e) {
            err.println("idlewatch: " + e.getMessage());
            return EXIT_USAGE;
        } catch (ControlClient.UnreachableException e) {
            err.println("idlewatch: " + e.getMessage());
            return EXIT_UNREACHABLE;
        } catch (Exception e) {
            err.println("idlewatch: " + args[0] + " failed: " + (e.getMessage() == null ? e : e.getMessage()));
            return EXIT_UNREACHABLE;
        }
    }

    static String usage(String command) {
        return "usage: " + switch (command) {
            case "status" -> "idlewatch status [--json]";
            case "touch" -> "idlewatch touch [--reason TEXT]";
            case "timeout" -> "idlewatch timeout DURATION|off   (e.g. 30m, 1h30m, 90s)";
            case "stop" -> "idlewatch stop [--reason TEXT]";
            case VERSION -> "idlewatch --version";
            default -> "idlewatch inhibit [--reason TEXT] -- CMD [ARGS...]";
        };
    }

    /** {@code --reason TEXT} or {@code --reason=TEXT} at {@code args[i]}; null when args[i] is something else. */
    static String reasonAt(List<String> args, int i) throws UsageException {
        String a = args.get(i);
        if (a.startsWith("--reason=")) {
            return a.substring("--reason=".length());
        }
        if (a.equals("--reason")) {
            if (i + 1 >= args.size()) {
                throw new UsageException("--reason needs a text");
            }
            return args.get(i + 1);
        }
        return null;
    }
}
