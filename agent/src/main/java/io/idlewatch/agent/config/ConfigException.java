package io.idlewatch.agent.config;

/**
 * A bad configuration value. The message is one line that names the setting,
 * the value and an example of a good one, so it can be printed as-is before
 * the agent exits with code 2.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Line breaks in {@code message} (a quoted bad value may hold them) are written as \\n and \\r. */
    public ConfigException(String message) {
        super(message.replace("\n", "\\n").replace("\r", "\\r"), null, false, false);
    }
}
