package io.idlewatch.agent.control;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code idlewatch touch [--reason TEXT]}: counts as activity now. */
final class TouchCommand implements Callable<Integer> {
    private final ControlCommands.Context ctx;
    private final List<String> args;

    TouchCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        String reason = null;
        for (int i = 0; i < args.size(); i++) {
            reason = ControlCommands.reasonAt(args, i);
            if (reason == null) {
                throw new ControlCommands.UsageException("touch: unknown argument \"" + args.get(i) + "\"");
            }
            i += args.get(i).equals("--reason") ? 1 : 0;
        }
        Map<String, String> request = new LinkedHashMap<>();
        request.put("reason", ControlProtocol.clip(reason)); // the agent keeps no more
        ctx.out().println("idlewatch: " + ControlProtocol.text(ctx.call(ControlProtocol.TOUCH, request)));
        return ControlCommands.EXIT_OK;
    }
}
