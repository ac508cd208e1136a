package io.idlewatch.agent.control;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code idlewatch status|touch|timeout|stop|--version}, run in the agent for the native client
 * ({@code bin/idlewatch}), which prints what they write and exits with their code; and
 * {@code --version} for the JVM the launcher starts to answer it. One class per subcommand; here,
 * the dispatch and the one place failures become exit codes: 0 ok, 1 failed, 2 usage error or
 * refused by the agent.
 */
public final class ControlCommands {
    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    /** Answered from the jar itself, with no agent running. */
    public static final String VERSION = "--version";
    /** What the agent runs; {@code inhibit} holds a connection while it runs a command, so it stays in the client. */
    static final List<String> NAMES = List.of("status", "touch", "timeout", "stop", VERSION);

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

    /** The agent's control service, answering one request. */
    @FunctionalInterface
    interface Service {
        ControlProtocol.Answer call(String verb, Map<String, String> args);
    }

    /** What every subcommand needs: the service to ask and where to write. */
    record Context(Service service, PrintStream out, PrintStream err) {
        /** One request; an error answer is a refusal. */
        String call(String verb, Map<String, String> args) throws RefusedException {
            ControlProtocol.Answer answer = service.call(verb, args);
            if (!answer.ok()) {
                throw new RefusedException(answer.payload());
            }
            return answer.payload();
        }
    }

    private ControlCommands() {
    }

    /**
     * {@code idlewatch --version [ARGS]}: the launcher execs the JVM with it; answered from this
     * jar's manifest, no agent needed.
     */
    public static int version(List<String> args, PrintStream out, PrintStream err) {
        return run(VERSION, args, new Context(null, out, err));
    }

    /**
     * A client command the native client ({@code bin/idlewatch status …}) sent whole: run here, in
     * the agent, against the service itself.
     */
    static int runInAgent(List<String> argv, Service service, PrintStream out, PrintStream err) {
        if (argv.isEmpty() || !NAMES.contains(argv.get(0))) {
            err.println("idlewatch: unknown command; expected one of " + String.join(", ", NAMES));
            return EXIT_USAGE;
        }
        return run(argv.get(0), argv.subList(1, argv.size()), new Context(service, out, err));
    }

    private static int run(String name, List<String> args, Context ctx) {
        Callable<Integer> command = switch (name) {
            case "status" -> new StatusCommand(ctx, args);
            case "touch" -> new ReasonCommand(ctx, ControlProtocol.TOUCH, args);
            case "timeout" -> new TimeoutCommand(ctx, args);
            case "stop" -> new ReasonCommand(ctx, ControlProtocol.STOP, args);
            case VERSION -> new VersionCommand(ctx, args);
            default -> throw new IllegalArgumentException(name);
        };
        PrintStream err = ctx.err();
        try {
            return command.call();
        } catch (UsageException e) {
            err.println("idlewatch: " + e.getMessage());
            err.println(usage(name));
            return EXIT_USAGE;
        } catch (RefusedException e) {
            err.println("idlewatch: " + e.getMessage());
            return EXIT_USAGE;
        } catch (Exception e) {
            err.println("idlewatch: " + name + " failed: " + (e.getMessage() == null ? e : e.getMessage()));
            return EXIT_FAILED;
        }
    }

    static String usage(String command) {
        return "usage: " + switch (command) {
            case "status" -> "idlewatch status [--json]";
            case "touch" -> "idlewatch touch [--reason TEXT]";
            case "timeout" -> "idlewatch timeout DURATION|off   (e.g. 30m, 1h30m, 90s)";
            case "stop" -> "idlewatch stop [--reason TEXT]";
            case VERSION -> "idlewatch --version";
            default -> throw new IllegalArgumentException(command);
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
