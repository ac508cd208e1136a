package io.idlewatch.sweeper.cli;

import io.idlewatch.contract.Durations;
import io.idlewatch.sweeper.core.WorkspaceAgent;
import io.idlewatch.sweeper.core.WorkspaceStart;
import io.idlewatch.sweeper.docker.DockerApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code idlewatch start WS}: start a stopped workspace, as a connection under {@code watch --wake} would, and wait for its agent. */
@Command(name = "start", mixinStandardHelpOptions = true,
        description = "Start a stopped workspace and wait until its agent answers; its record says it was woken "
                + "(via start). Works whether or not 'idlewatch watch --wake' holds the workspace's ports.")
final class StartCommand extends AgentVerb implements Callable<Integer> {

    static final Duration DEFAULT_WAIT = Duration.ofSeconds(60);

    @Parameters(index = "0", paramLabel = "WS", description = "Workspace name (label io.idlewatch.workspace) or container id/name.")
    String workspace;

    @Option(names = "--timeout", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "How long to wait for the agent to answer. Default 60s.")
    Duration timeout = DEFAULT_WAIT;

    @Override
    public Integer call() {
        if (timeout.isZero()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--timeout must be more than 0; " + Durations.EXAMPLE);
        }
        try (DockerApi docker = parent.connect()) {
            WorkspaceAgent.Target target = new WorkspaceAgent(docker).resolve(workspace);
            String was = target.state();
            String status = new WorkspaceStart(docker, parent.context.clock()).start(target, timeout);
            // The status line was written inside the container: one sanitised line.
            spec.commandLine().getOut().println(TerminalText.line(target.display() + ": "
                    + ("running".equals(was) ? "already running; " : "started; ") + status));
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        }
    }
}
