package io.idlewatch.sweeper.config;

/** A usage or configuration error (exit code 2); the message is the one line the user sees. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }
}
