package io.idlewatch.agent.init;

/** posix_spawn refused the command; carries the shell's exit code for it (127 or 126). */
public final class SpawnException extends Exception {
    private final int exitCode;

    SpawnException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
