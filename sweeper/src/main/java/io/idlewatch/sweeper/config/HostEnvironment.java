package io.idlewatch.sweeper.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What the CLI reads from the host besides its arguments: environment variables, the home
 * directory and {@code /etc}. Tests point it at a temporary tree.
 */
public record HostEnvironment(Map<String, String> variables, Path home, Path etc) {

    public static HostEnvironment system() {
        return new HostEnvironment(System.getenv(), Path.of(System.getProperty("user.home")), Path.of("/etc"));
    }

    /** A variable's value, treating set-but-empty as unset (as the docker CLI does). */
    public Optional<String> get(String name) {
        String value = variables.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
