package io.idlewatch.agent.control;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code idlewatch status [--json]}: how long idle, each signal's last firing, holds, lifetime left. */
final class StatusCommand implements Callable<Integer> {
    private final ControlCommands.Context ctx;
    private final List<String> args;

    StatusCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        boolean json = false;
        for (String a : args) {
            if (a.equals("--json")) {
                json = true;
            } else {
                throw new ControlCommands.UsageException("status: unknown argument \"" + a + "\"");
            }
        }
        String payload = ctx.call(ControlProtocol.STATUS, Map.of("format", json ? "json" : "text"));
        ctx.out().print(json ? payload + "\n" : ControlProtocol.text(payload));
        ctx.out().flush();
        return ControlCommands.EXIT_OK;
    }
}
