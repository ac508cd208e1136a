package io.idlewatch.sweeper.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code idlewatch timeout WS DURATION|off}: the workspace's idle threshold, changed from the host. */
@Command(name = "timeout", mixinStandardHelpOptions = true,
        description = "Change a running workspace's idle timeout. Its agent enforces IDLEWATCH_MAX_TIMEOUT: "
                + "a value above it (or off, when a maximum is set) is refused with exit 2.")
final class TimeoutCommand extends AgentVerb implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "WS", description = "Workspace name (label io.idlewatch.workspace) or container id/name.")
    String workspace;

    @Parameters(index = "1", paramLabel = "DURATION|off", description = "e.g. 30m, 1h30m, 90s; off (or 0) never stops for idleness.")
    String value;

    @Override
    public Integer call() {
        return act(workspace, List.of("timeout", value));
    }
}
