package io.idlewatch.agent.idle;

import io.idlewatch.agent.Log;
import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.tty.TtySignal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * One poll of the agent's loop: sample and decide ({@link IdleTracker}),
 * write the notice to the terminals on WARN, and rewrite the state file.
 * Main calls {@link #poll()} every poll interval and starts the stop sequence
 * when the decision says so, logging {@link IdleTracker#stopLine()}.
 */
public final class IdleLoop {
    private final IdleTracker tracker;
    private final TerminalNotifier notifier;
    private final StateFile stateFile;
    private final Consumer<String> log;
    private boolean stateFileFailing;

    /**
     * @param notifier  null for no notices
     * @param stateFile null for no state file
     */
    public IdleLoop(IdleTracker tracker, TerminalNotifier notifier, StateFile stateFile, Consumer<String> log) {
        this.tracker = tracker;
        this.notifier = notifier;
        this.stateFile = stateFile;
        this.log = log;
    }

    /**
     * Wires the loop for a real container.
     *
     * @param devRoot  usually /dev (terminals for the notice)
     * @param stateDir usually {@link StateFile#DEFAULT_DIR}; null for no state file
     * @param log      where the agent's one-line messages go (stderr)
     */
    public static IdleLoop create(AgentConfig config, List<ActivitySignal> signals, Clock clock, Path devRoot,
                                  Path stateDir, Consumer<String> log) {
        IdleTracker tracker = IdleTracker.fromConfig(config, signals, clock, log);
        TtySignal tty = null;
        for (ActivitySignal s : signals) {
            if (s instanceof TtySignal t) {
                tty = t;
            }
        }
        return new IdleLoop(tracker, new TerminalNotifier(devRoot, tty), stateDir == null ? null : new StateFile(stateDir, config.workspace()),
                log);
    }

    public IdleTracker tracker() {
        return tracker;
    }

    /** Samples, decides, notifies on WARN, writes the state file. */
    public IdleTracker.Decision poll() {
        IdleTracker.Decision d = tracker.poll();
        if (Log.isVerbose()) { // the agent's own footprint, for tests and benchmarks that watch it
            Runtime rt = Runtime.getRuntime();
            Log.debug("memory: heap " + rt.totalMemory() / 1024 + " KiB committed, "
                    + (rt.totalMemory() - rt.freeMemory()) / 1024 + " KiB used");
        }
        if (d == IdleTracker.Decision.WARN && notifier != null) {
            notifier.notifyAll(tracker.warningText());
        }
        writeState();
        return d;
    }

    /**
     * Rewrites the state file now (after markStopping/markStopped); failures are logged once.
     * The one way the file is written: the snapshot is taken under the same lock as the write, so
     * writes happen in snapshot order and an older snapshot can never overtake the final record.
     */
    public synchronized void writeState() {
        if (stateFile == null) {
            return;
        }
        try {
            stateFile.write(tracker.status());
            if (stateFileFailing) {
                log.accept("idlewatch: state file " + stateFile.path() + " written again");
            }
            stateFileFailing = false;
        } catch (IOException | RuntimeException e) {
            if (!stateFileFailing) {
                log.accept("idlewatch: writing " + stateFile.path() + " failed: " + e.getClass().getSimpleName()
                        + ": " + e.getMessage());
            }
            stateFileFailing = true;
        }
    }
}
