package io.idlewatch.agent.control;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code idlewatch timeout DURATION|off}: the idle threshold, changed at
 * runtime. The agent enforces {@code IDLEWATCH_MAX_TIMEOUT} and validates the
 * value, so its refusal (exit 2) carries the one-line reason.
 */
final class TimeoutCommand implements Callable<Integer> {
    private final ControlCommands.Context ctx;
    private final List<String> args;

    TimeoutCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        if (args.size() != 1 || args.get(0).isBlank()) {
            throw new ControlCommands.UsageException("timeout needs exactly one value, a duration or off");
        }
        String answer = ctx.call(ControlProtocol.TIMEOUT, Map.of("value", args.get(0)));
        ctx.out().println("idlewatch: " + ControlProtocol.text(answer));
        return ControlCommands.EXIT_OK;
    }
}
