package io.idlewatch.agent;

import java.io.PrintStream;

/** One-line messages on stderr, prefixed like tini's, so `docker logs` shows them next to the workload's. */
public final class Log {
    private static final PrintStream ERR = System.err;
    private static volatile boolean verbose = System.getenv("IDLEWATCH_VERBOSE") != null;

    private Log() {
    }

    public static void info(String message) {
        ERR.println("idlewatch: " + message);
        ERR.flush();
    }

    /** Whether {@code IDLEWATCH_VERBOSE} asked for debug lines. */
    public static boolean isVerbose() {
        return verbose;
    }

    public static void debug(String message) {
        if (verbose) {
            info(message);
        }
    }
}
