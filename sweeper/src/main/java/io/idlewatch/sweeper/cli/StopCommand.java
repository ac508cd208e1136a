package io.idlewatch.sweeper.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code idlewatch stop WS [--reason TEXT]}: the agent's own stop sequence now, reason manual. */
@Command(name = "stop", mixinStandardHelpOptions = true,
        description = "Stop a running workspace the way an idle stop does: IDLEWATCH_PRE_STOP, SIGTERM, "
                + "SIGKILL after the grace, exit with IDLEWATCH_EXIT_CODE; recorded as manual, so 'ps --all' says why. "
                + "Returns once the agent has started the sequence.")
final class StopCommand extends AgentVerb implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "WS", description = "Workspace name (label io.idlewatch.workspace) or container id/name.")
    String workspace;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Kept in the stop record beside 'manual'.")
    String reason;

    @Override
    public Integer call() {
        List<String> args = new ArrayList<>(List.of("stop"));
        args.addAll(reason(reason));
        return act(workspace, args);
    }
}
