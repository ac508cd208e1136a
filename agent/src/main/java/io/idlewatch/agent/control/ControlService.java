package io.idlewatch.agent.control;

import io.idlewatch.contract.Durations;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateFile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each request does to the idle tracker. Every call is short and in
 * memory; the server runs them on its one thread. Holds are keyed by the
 * connection that asked for them and released when it closes.
 */
public final class ControlService {
    /** An answer line, and the hold the connection now carries (null for none). */
    public record Reply(String line, String holdId) {
        static Reply of(String line) {
            return new Reply(line, null);
        }
    }

    /**
     * Open holds ({@code inhibit}s running at once). Each is a connection, so a file
     * descriptor of PID 1, and a line of every status answer; 32 concurrent inhibits is
     * far beyond real use (one per long build or download), yet small enough that their
     * lines keep a status answer short. One hold already keeps the workspace active, so
     * refusing more never changes whether it stops.
     */
    public static final int MAX_HOLDS = 32;

    /**
     * Starts the agent's stop sequence with reason {@code manual} ({@code idlewatch stop}). Returns
     * the line for the user, or throws {@link IllegalStateException} with the refusal (a stop is
     * already under way).
     */
    @FunctionalInterface
    public interface ManualStop {
        String stop(String reason);

        /** For a service with no supervisor behind it (tests of the other verbs). */
        ManualStop UNAVAILABLE = reason -> {
            throw new IllegalStateException("stop is not available in this agent");
        };
    }

    private final IdleTracker tracker;
    private final StateFile json;
    private final ManualStop manualStop;
    private final Map<String, String> holds = new LinkedHashMap<>();
    private long nextHold = 1;

    /** @param json renders the status object exactly like the state file */
    public ControlService(IdleTracker tracker, StateFile json) {
        this(tracker, json, ManualStop.UNAVAILABLE);
    }

    /** @param manualStop what {@code idlewatch stop} sets off: the supervisor's stop sequence */
    public ControlService(IdleTracker tracker, StateFile json, ManualStop manualStop) {
        this.tracker = tracker;
        this.json = json;
        this.manualStop = manualStop;
    }

    /** Answers one request line (without its newline). */
    public Reply handle(String line) {
        ControlProtocol.Request r;
        try {
            r = ControlProtocol.parseRequest(line);
        } catch (IllegalArgumentException e) {
            return Reply.of(ControlProtocol.error(e.getMessage()));
        }
        return switch (r.verb()) {
            case ControlProtocol.STATUS -> status(r);
            case ControlProtocol.TOUCH -> touch(r);
            case ControlProtocol.TIMEOUT -> timeout(r);
            case ControlProtocol.HOLD -> hold(r);
            case ControlProtocol.STOP -> stop(r);
            case ControlProtocol.CLI -> cli(r);
            default -> Reply.of(ControlProtocol.error("unknown command " + r.verb()));
        };
    }

    private Reply status(ControlProtocol.Request r) {
        IdleTracker.Status s = tracker.status();
        if ("text".equals(r.arg("format"))) {
            List<String> list;
            synchronized (this) {
                list = new ArrayList<>(holds.values());
            }
            return Reply.of(ControlProtocol.okMessage(StatusText.render(s, list)));
        }
        return Reply.of(ControlProtocol.ok(json.render(s).strip()));
    }

    /** A whole client command from the native client, run here; the answer carries its output and exit code. */
    private Reply cli(ControlProtocol.Request r) {
        List<String> argv = new ArrayList<>();
        for (int i = 0; i < ControlProtocol.MAX_CLI_ARGS; i++) {
            String a = r.arg("a" + i);
            if (a == null) {
                break;
            }
            argv.add(a);
        }
        int ignored = 0;
        for (String key : ControlProtocol.IGNORED_KEYS) {
            ignored += r.arg(key) == null ? 0 : 1;
        }
        if (r.args().size() > argv.size() + ignored) {
            return Reply.of(ControlProtocol.error("cli takes a0, a1, ... (at most " + ControlProtocol.MAX_CLI_ARGS
                    + "), nothing else"));
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code;
        try (java.io.PrintStream o = new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8);
             java.io.PrintStream e = new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8)) {
            code = ControlCommands.runInAgent(argv, (verb, args) -> ControlProtocol.parseAnswer(
                    handle(ControlProtocol.request(verb, args).strip()).line().stripTrailing()), o, e);
        }
        return Reply.of(ControlProtocol.cliAnswer(code, out.toString(java.nio.charset.StandardCharsets.UTF_8),
                err.toString(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private Reply touch(ControlProtocol.Request r) {
        String reason = ControlProtocol.clip(r.arg("reason"));
        tracker.touch(reason == null || reason.isBlank() ? "idlewatch touch" : reason);
        return Reply.of(ControlProtocol.okMessage("idle time reset to 0s (timeout "
                + StatusText.duration(tracker.timeout()) + ")"));
    }

    private Reply timeout(ControlProtocol.Request r) {
        String value = r.arg("value");
        if (value == null || value.isBlank()) {
            return Reply.of(ControlProtocol.error("timeout needs a value: " + Durations.EXAMPLE + ", or off"));
        }
        Duration before = tracker.timeout();
        try {
            tracker.setTimeout(value);
        } catch (IllegalArgumentException e) {
            return Reply.of(ControlProtocol.error(e.getMessage()));
        }
        Duration now = tracker.timeout();
        String msg = "timeout " + StatusText.duration(now) + " (was " + StatusText.duration(before) + ")";
        if (now == null) {
            msg += ": the workspace no longer stops for idleness";
        } else if (tracker.idleMillis() >= now.toMillis()) {
            msg += ": already idle " + Durations.formatSeconds(tracker.idleMillis()) + ", stopping at the next poll";
        }
        return Reply.of(ControlProtocol.okMessage(msg));
    }

    /**
     * Allowed from inside the container as from the host: stopping early escapes no limit (the
     * lifetime cap and the maximum timeout only ever bring a stop closer), and anyone who can reach
     * the socket could end the workload with kill anyway.
     */
    private Reply stop(ControlProtocol.Request r) {
        String reason = ControlProtocol.clip(r.arg("reason"));
        try {
            return Reply.of(ControlProtocol.okMessage(manualStop.stop(reason == null || reason.isBlank() ? null : reason)));
        } catch (IllegalStateException refused) {
            return Reply.of(ControlProtocol.error(refused.getMessage()));
        }
    }

    private Reply hold(ControlProtocol.Request r) {
        String id;
        String reason = r.arg("reason");
        String pid = r.arg("pid");
        String what = ControlProtocol.clip((pid == null ? "" : "pid " + pid + ": ")
                + (reason == null || reason.isBlank() ? String.valueOf(r.arg("command")) : reason));
        synchronized (this) {
            if (holds.size() >= MAX_HOLDS) {
                return Reply.of(ControlProtocol.error("too many holds: " + MAX_HOLDS + " inhibit commands already"
                        + " hold the workspace active; run this one after one of them ends"));
            }
            id = "inhibit-" + nextHold++;
            holds.put(id, what);
        }
        tracker.hold(id, what);
        return new Reply(ControlProtocol.okMessage("holding " + id + ": the workspace stays active until"
                + " this connection closes"), id);
    }

    /** The connection that carried {@code holdId} closed. */
    public void release(String holdId) {
        synchronized (this) {
            holds.remove(holdId);
        }
        tracker.release(holdId);
    }

    /** Current holds, for tests and status. */
    public synchronized int holds() {
        return holds.size();
    }

    /** What {@code idlewatch status} prints for {@code s} with these holds. */
    public static String statusText(IdleTracker.Status s, java.util.Collection<String> holds) {
        return StatusText.render(s, holds);
    }
}
