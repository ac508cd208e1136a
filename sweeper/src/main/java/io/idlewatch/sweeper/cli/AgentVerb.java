package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.core.WorkspaceAgent;
import io.idlewatch.sweeper.docker.DockerApi;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.List;

/**
 * What {@code timeout}, {@code touch} and {@code stop} share: find the workspace, run the agent's
 * client in it, print the agent's answer. Failures surface as {@link WorkspaceAgent} exceptions,
 * which {@link Cli} turns into one line and exit 2 (unknown workspace, refused) or 4 (no agent).
 */
abstract class AgentVerb {

    @ParentCommand
    IdlewatchCommand parent;

    @Spec
    CommandSpec spec;

    /** Runs {@code idlewatch ARGS…} in the workspace's container; prints {@code WS (id): answer}. */
    int act(String workspace, List<String> clientArgs) {
        try (DockerApi docker = parent.connect()) {
            WorkspaceAgent agent = new WorkspaceAgent(docker);
            WorkspaceAgent.Target target = agent.resolve(workspace);
            String answer = agent.run(target, clientArgs);
            // The answer was written inside the container: one sanitised line.
            spec.commandLine().getOut().println(TerminalText.line(target.display() + ": " + answer));
            spec.commandLine().getOut().flush();
            return ExitCodes.OK;
        }
    }

    /** {@code --reason TEXT} as the client takes it, or nothing. */
    static List<String> reason(String reason) {
        return reason == null ? List.of() : List.of("--reason", reason);
    }
}
