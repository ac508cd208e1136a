package io.idlewatch.sweeper.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code idlewatch touch WS [--reason TEXT]}: counts as activity in the workspace now. */
@Command(name = "touch", mixinStandardHelpOptions = true,
        description = "Count as activity in a running workspace now: its idle time starts again from 0.")
final class TouchCommand extends AgentVerb implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "WS", description = "Workspace name (label io.idlewatch.workspace) or container id/name.")
    String workspace;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Shown by status as the last touch's reason.")
    String reason;

    @Override
    public Integer call() {
        List<String> args = new ArrayList<>(List.of("touch"));
        args.addAll(reason(reason));
        return act(workspace, args);
    }
}
