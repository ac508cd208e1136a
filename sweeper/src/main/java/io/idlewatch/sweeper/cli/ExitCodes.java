package io.idlewatch.sweeper.cli;

/** The exit codes of SPEC §4. */
public final class ExitCodes {

    /** Done, including nothing to do. */
    public static final int OK = 0;
    /** Some removals failed (the rest were still attempted). */
    public static final int REMOVAL_FAILED = 1;
    /** Usage or config error. */
    public static final int USAGE = 2;
    /** Docker unreachable, or an engine too old for our API version. */
    public static final int DOCKER_UNREACHABLE = 3;
    /**
     * The host verbs ({@code timeout}, {@code touch}, {@code stop}): no such workspace among the
     * managed containers, or no agent to act on — the container is not running, has no {@code /opt/idlewatch/bin/idlewatch}, or its agent does not answer.
     */
    public static final int NO_AGENT = 4;

    private ExitCodes() {
    }
}
