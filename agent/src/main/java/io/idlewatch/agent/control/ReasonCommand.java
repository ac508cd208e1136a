package io.idlewatch.agent.control;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The client verbs that take only {@code [--reason TEXT]}:
 * {@code idlewatch touch} (counts as activity now) and {@code idlewatch stop} (the agent's stop
 * sequence now — pre-stop, SIGTERM, grace, SIGKILL, exit with {@code IDLEWATCH_EXIT_CODE} —
 * recorded with reason {@code manual}; returns once the agent has started it).
 */
final class ReasonCommand implements Callable<Integer> {
    private final ControlCommands.Context ctx;
    private final String verb;
    private final List<String> args;

    /** @param verb {@link ControlProtocol#TOUCH} or {@link ControlProtocol#STOP} */
    ReasonCommand(ControlCommands.Context ctx, String verb, List<String> args) {
        this.ctx = ctx;
        this.verb = verb;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        String reason = null;
        for (int i = 0; i < args.size(); i++) {
            reason = ControlCommands.reasonAt(args, i);
            if (reason == null) {
                throw new ControlCommands.UsageException(verb + ": unknown argument \"" + args.get(i) + "\"");
            }
            i += args.get(i).equals("--reason") ? 1 : 0;
        }
        Map<String, String> request = new LinkedHashMap<>();
        request.put("reason", ControlProtocol.clip(reason)); // the agent keeps no more
        ctx.out().println("idlewatch: " + ControlProtocol.text(ctx.call(verb, request)));
        return ControlCommands.EXIT_OK;
    }
}
