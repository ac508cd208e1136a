package io.idlewatch.agent.control;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code idlewatch stop [--reason TEXT]}: the agent's stop sequence now (pre-stop command, SIGTERM,
 * grace, SIGKILL, exit with {@code IDLEWATCH_EXIT_CODE}), recorded with reason {@code manual}.
 * Returns once the agent has started it; the container exits when the sequence ends.
 */
final class StopCommand implements Callable<Integer> {
    private final ControlCommands.Context ctx;
    private final List<String> args;

    StopCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        String reason = null;
        for (int i = 0; i < args.size(); i++) {
            reason = ControlCommands.reasonAt(args, i);
            if (reason == null) {
                throw new ControlCommands.UsageException("stop: unknown argument \"" + args.get(i) + "\"");
            }
            i += args.get(i).equals("--reason") ? 1 : 0;
        }
        Map<String, String> request = new LinkedHashMap<>();
        request.put("reason", ControlProtocol.clip(reason));
        ctx.out().println("idlewatch: " + ControlProtocol.text(ctx.call(ControlProtocol.STOP, request)));
        return ControlCommands.EXIT_OK;
    }
}
