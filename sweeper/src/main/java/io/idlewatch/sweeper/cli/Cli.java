package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.ConfigException;
import io.idlewatch.sweeper.core.WorkspaceAgent;
import io.idlewatch.sweeper.docker.DockerUnreachableException;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Builds the command line and maps every failure to one human line on stderr and an exit code
 * of SPEC §4 — never a stack trace.
 */
public final class Cli {

    private Cli() {
    }

    public static int run(String[] args, CliContext context, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new IdlewatchCommand(context))
                .setOut(out)
                .setErr(err)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler((e, arguments) -> {
                    CommandLine command = e.getCommandLine();
                    // The message quotes the argument as given: one line, nothing a terminal acts on.
                    String problem = TerminalText.line(e.getMessage());
                    err.println(command.getCommandName().equals("idlewatch")
                            ? "idlewatch: " + problem + " (see 'idlewatch --help')"
                            : "idlewatch " + command.getCommandName() + ": " + problem
                              + " (see 'idlewatch " + command.getCommandName() + " --help')");
                    err.flush();
                    return ExitCodes.USAGE;
                })
                .setExecutionExceptionHandler((e, command, parseResult) -> {
                    // Messages may quote container names, labels, engine answers: one sanitised line.
                    err.println("idlewatch: " + TerminalText.line(message(e)));
                    err.flush();
                    return exitCode(e);
                });
        return commandLine.execute(args);
    }

    static int exitCode(Exception e) {
        if (e instanceof ConfigException || e instanceof CommandLine.ParameterException) {
            return ExitCodes.USAGE;
        }
        if (e instanceof DockerUnreachableException) {
            return ExitCodes.DOCKER_UNREACHABLE;
        }
        if (e instanceof WorkspaceAgent.Refused) {
            return ExitCodes.USAGE;
        }
        if (e instanceof WorkspaceAgent.NoAgent || e instanceof WorkspaceAgent.UnknownWorkspace) {
            return ExitCodes.NO_AGENT;
        }
        return ExitCodes.REMOVAL_FAILED;
    }

    private static String message(Exception e) {
        String text = e.getMessage();
        if (e instanceof ConfigException || e instanceof DockerUnreachableException
                || e instanceof WorkspaceAgent.UnknownWorkspace || e instanceof WorkspaceAgent.Refused
                || e instanceof WorkspaceAgent.NoAgent) {
            return text;
        }
        return "unexpected " + e.getClass().getSimpleName() + (text == null ? "" : ": " + text);
    }
}
