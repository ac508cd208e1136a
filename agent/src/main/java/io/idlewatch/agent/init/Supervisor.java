package io.idlewatch.agent.init;

import io.idlewatch.agent.Log;
import io.idlewatch.agent.posix.LibC;
import io.idlewatch.agent.posix.Signals;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The init duties, in the order tini does them: forward signals to the workload's group,
 * reap every zombie, and once the workload is gone, TERM then KILL whatever survives.
 * Runs on one thread; other threads only {@link #requestStop ask} it to stop the workload.
 */
public final class Supervisor {
    /** Why the supervisor stopped the workload itself (idle, lifetime cap); null when it didn't. */
    public record StopRequest(String reason, List<String> preStop, long graceMillis, int exitCode) {
    }

    /** How the workload ended. */
    public record Outcome(int exitCode, StopRequest stoppedBy, int workloadStatus, int forwardedSignal) {
    }

    /**
     * What the supervisor tells (and asks) the rest of the agent from its own thread. Nothing here
     * may depend on the idle thread being alive or quick: it is how the init duties and the
     * lifetime cap keep working when it is not.
     */
    public interface Events {
        /** Once per turn of the loop (at least every second): retry what could not start. */
        void tick();

        /** The lifetime cap, checked on the supervisor's own clock: a stop request when due, else null. */
        StopRequest dueStop();

        /**
         * A stop the supervisor did not request is under way (reason {@code signal} or
         * {@code workload-exit}); called before any process is signalled, so the record is written
         * even when the engine's SIGKILL ends the agent mid-way.
         */
        void stopping(String reason, int exitCode, String detail);
    }

    /** For tests and callers that need none of it. */
    public static final Events NO_EVENTS = new Events() {
        @Override
        public void tick() {
        }

        @Override
        public StopRequest dueStop() {
            return null;
        }

        @Override
        public void stopping(String reason, int exitCode, String detail) {
        }
    };

    private static final int TICK_MILLIS = 1000;
    /** After docker stop's grace is spent on the workload, survivors still get this long to exit. */
    private static final long MIN_SURVIVOR_GRACE_MILLIS = 500;

    private final SignalChannel signals;
    private final boolean pid1;
    private final long graceMillis;
    private final AtomicReference<StopRequest> stopRequest = new AtomicReference<>();
    private final int[] status = new int[1];

    private int workloadPid;
    private Map<String, String> workloadEnv = Map.of();
    private int workloadStatus = -1;
    private int helperPid = -1;
    private int helperStatus = -1;
    /** The last reap found no child at all (ECHILD). */
    private boolean childless;
    /** The last signal passed on to the workload, 0 for none: tells "docker stop" from a workload that just ended. */
    private int lastForwarded;
    /**
     * Set when a SIGTERM came from outside ({@code docker stop}): by then the workload and every
     * survivor must be gone, so that the whole sequence and the final record fit in the engine's
     * stop timeout. 0 when no TERM came.
     */
    private long termDeadlineNanos;
    private boolean termDeadlineSet;
    private Events events = NO_EVENTS;

    public Supervisor(SignalChannel signals, long graceMillis) {
        this.signals = signals;
        this.pid1 = LibC.getpid() == 1;
        this.graceMillis = graceMillis;
    }

    public void setEvents(Events events) {
        this.events = events;
    }

    /** Not PID 1 (docker run --init, a shell): orphans must still come to us. */
    public void becomeSubreaperUnlessPid1() throws InitException {
        if (!pid1 && LibC.prctl(LibC.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
            throw new InitException(LibC.failed("prctl(PR_SET_CHILD_SUBREAPER)", LibC.errno()));
        }
    }

    public int spawn(List<String> argv, Map<String, String> env) throws SpawnException {
        workloadEnv = env;
        workloadPid = Spawner.spawn(argv, env, true);
        Log.debug("spawned " + argv.get(0) + " as pid " + workloadPid);
        return workloadPid;
    }

    /** From any thread: stop the workload now (pre-stop, TERM, grace, KILL) and exit with the request's code. */
    public void requestStop(StopRequest request) {
        if (stopRequest.compareAndSet(null, request)) {
            signals.wake();
        }
    }

    /**
     * Forwards and reaps until the workload ends or a stop is requested (by the idle thread, or by
     * the lifetime cap checked here); then cleans up.
     */
    public Outcome run() {
        while (workloadStatus < 0) {
            forward(signals.await(TICK_MILLIS));
            reap();
            tick();
            StopRequest request = stopRequest.get();
            if (request == null && workloadStatus < 0) {
                StopRequest due = dueStop();
                if (due != null) {
                    stopRequest.compareAndSet(null, due);
                    request = stopRequest.get();
                }
            }
            if (request != null && workloadStatus < 0) {
                stopWorkload(request);
                terminateSurvivors();
                return new Outcome(request.exitCode(), request, workloadStatus, lastForwarded);
            }
            if (termDeadlineSet && workloadStatus < 0 && System.nanoTime() - termDeadlineNanos >= 0) {
                Log.info("workload still running " + graceMillis + " ms after SIGTERM, sending SIGKILL");
                signalGroup(Signals.SIGKILL);
                waitFor(() -> workloadStatus >= 0, 2000);
            }
        }
        int code = exitCodeOf(workloadStatus);
        if (lastForwarded > 0) {
            events.stopping("signal", code, "the container got " + Signals.name(lastForwarded)
                    + "; the workload " + describeEnd(workloadStatus));
        } else {
            events.stopping("workload-exit", code, "the workload " + describeEnd(workloadStatus));
        }
        terminateSurvivors();
        return new Outcome(code, null, workloadStatus, lastForwarded);
    }

    /** A hook must never take the init duties down with it. */
    private void tick() {
        try {
            events.tick();
        } catch (Throwable t) {
            Log.info("supervisor tick failed: " + t);
        }
    }

    private StopRequest dueStop() {
        try {
            return events.dueStop();
        } catch (Throwable t) {
            Log.info("lifetime check failed: " + t);
            return null;
        }
    }

    private static String describeEnd(int waitStatus) {
        int termsig = waitStatus & 0x7f;
        return termsig == 0 ? "exited with " + ((waitStatus >> 8) & 0xff)
                : "was killed by " + Signals.name(termsig) + " (" + (128 + termsig) + ")";
    }

    /** The shell's convention: the exit code, or 128 + the signal that killed it. */
    public static int exitCodeOf(int waitStatus) {
        int termsig = waitStatus & 0x7f;
        return termsig == 0 ? (waitStatus >> 8) & 0xff : 128 + termsig;
    }

    private void forward(int[] received) {
        for (int sig : received) {
            if (sig == Signals.SIGCHLD) {
                continue;
            }
            Log.debug("forwarding " + Signals.name(sig) + " to process group " + workloadPid);
            if (sig != Signals.SIGWINCH && sig != Signals.SIGCONT && sig != Signals.SIGURG) {
                lastForwarded = sig;
            }
            if (sig == Signals.SIGTERM && !termDeadlineSet && stopRequest.get() == null && workloadStatus < 0) {
                // docker stop: say so where the host reads it before anything is signalled, then give
                // the workload and the survivors one grace between them, inside the engine's timeout.
                termDeadlineSet = true;
                termDeadlineNanos = System.nanoTime() + graceMillis * 1_000_000L;
                try {
                    events.stopping("signal", 128 + Signals.SIGTERM, "the container got SIGTERM");
                } catch (Throwable t) {
                    Log.info("recording the stop failed: " + t);
                }
            }
            if (LibC.kill(-workloadPid, sig) != 0 && LibC.errno() != LibC.ESRCH) {
                Log.info(LibC.failed("kill(" + Signals.name(sig) + ")", LibC.errno()));
            }
        }
    }

    /** Reaps every exited child; notes the workload's and the helper's status, and whether any child is left. */
    private void reap() {
        while (true) {
            int pid = LibC.waitpid(-1, status, LibC.WNOHANG);
            if (pid > 0) {
                if (pid == workloadPid) {
                    workloadStatus = status[0];
                    Log.debug("workload exited: " + describe(status[0]));
                } else if (pid == helperPid) {
                    helperStatus = status[0];
                }
                continue;
            }
            if (pid < 0 && LibC.errno() == LibC.EINTR) {
                continue;
            }
            childless = pid < 0; // ECHILD: no children left at all
            return;
        }
    }

    /** Idle or lifetime stop: pre-stop (bounded by the grace), TERM to the group, grace, KILL. */
    private void stopWorkload(StopRequest request) {
        Log.info("stopping: " + request.reason());
        if (request.preStop() != null && !request.preStop().isEmpty()) {
            runPreStop(request.preStop(), request.graceMillis());
        }
        signalGroup(Signals.SIGTERM);
        if (!waitFor(() -> workloadStatus >= 0, request.graceMillis())) {
            Log.info("workload still running after " + request.graceMillis() + " ms, sending SIGKILL");
            signalGroup(Signals.SIGKILL);
            waitFor(() -> workloadStatus >= 0, 2000);
        }
    }

    private void runPreStop(List<String> command, long limitMillis) {
        try {
            helperPid = Spawner.spawn(command, workloadEnv, false); // the workload's environment
        } catch (SpawnException e) {
            Log.info("pre-stop: " + e.getMessage());
            return;
        }
        if (waitFor(() -> helperStatus >= 0, limitMillis)) {
            Log.info("pre-stop exited " + exitCodeOf(helperStatus));
        } else {
            Log.info("pre-stop still running after " + limitMillis + " ms; killing it");
            LibC.kill(helperPid, Signals.SIGKILL);
        }
    }

    /**
     * After the workload: TERM to every process left (as PID 1: all of them; as a
     * subreaper: the workload's group and our children), then KILL after the grace.
     */
    private void terminateSurvivors() {
        reap();
        if (childless) {
            return; // nothing left
        }
        Log.debug("terminating surviving processes");
        signalSurvivors(Signals.SIGTERM);
        long grace = graceMillis;
        if (termDeadlineSet) { // what is left of the grace since docker stop's TERM, and a moment
            grace = Math.max(MIN_SURVIVOR_GRACE_MILLIS, (termDeadlineNanos - System.nanoTime()) / 1_000_000L);
        }
        if (!waitFor(() -> childless, grace)) {
            Log.info("processes still running after " + grace + " ms, sending SIGKILL");
            signalSurvivors(Signals.SIGKILL);
            waitFor(() -> childless, 2000);
        }
    }

    private void signalGroup(int sig) {
        if (LibC.kill(-workloadPid, sig) != 0 && LibC.errno() != LibC.ESRCH) {
            Log.info(LibC.failed("kill(" + Signals.name(sig) + ")", LibC.errno()));
        }
    }

    private void signalSurvivors(int sig) {
        if (pid1) {
            LibC.kill(-1, sig); // every process but us
            return;
        }
        LibC.kill(-workloadPid, sig);
        for (int child : ProcTree.childrenOf(LibC.getpid())) {
            LibC.kill(child, sig);
        }
    }

    /** Keeps forwarding signals and reaping until the condition holds or the time is up. */
    private boolean waitFor(java.util.function.BooleanSupplier done, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (true) {
            reap();
            if (done.getAsBoolean()) {
                return true;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return false;
            }
            forward(signals.await((int) Math.min(left, 100)));
        }
    }

    private static String describe(int waitStatus) {
        int termsig = waitStatus & 0x7f;
        return termsig == 0 ? "exit code " + ((waitStatus >> 8) & 0xff) : "killed by " + Signals.name(termsig);
    }
}
