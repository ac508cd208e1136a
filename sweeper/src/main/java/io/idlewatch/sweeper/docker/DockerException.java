package io.idlewatch.sweeper.docker;

/** An engine answer the sweeper acts on; anything else surfaces as a plain failure. */
public class DockerException extends RuntimeException {

    public DockerException(String message, Throwable cause) {
        super(message, cause);
    }

    /** 404: the container is already gone. */
    public static final class NotFound extends DockerException {
        public NotFound(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** 409: someone else is acting on the container, or it is running again. */
    public static final class Conflict extends DockerException {
        public Conflict(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A file read from a container is larger than the reader's limit; nothing past the limit was read. */
    public static final class TooLarge extends DockerException {
        private final long size;

        public TooLarge(String message, long size) {
            super(message, null);
            this.size = size;
        }

        /** The size the archive header claimed, or -1 when only the content showed it. */
        public long size() {
            return size;
        }
    }
}
