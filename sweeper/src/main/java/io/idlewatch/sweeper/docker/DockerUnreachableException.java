package io.idlewatch.sweeper.docker;

/** The engine did not answer, or answered in a way we cannot use (exit code 3). */
public final class DockerUnreachableException extends RuntimeException {

    public DockerUnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
