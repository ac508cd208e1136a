package io.idlewatch.sweeper.docker;

import io.idlewatch.sweeper.config.HostEnvironment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Where the engine is and why we think so. Resolution follows the docker CLI: {@code --host},
 * {@code DOCKER_HOST}, the current context ({@code DOCKER_CONTEXT}, else {@code currentContext}
 * in config.json), then the default socket.
 */
public record DockerEndpoint(String url, String source, String context, Path dockerConfigDir) {

    public static final String DEFAULT_URL = "unix:///var/run/docker.sock";

    @Override
    public String toString() {
        return url + " (from " + source + ")";
    }

    public static DockerEndpoint resolve(String hostFlag, HostEnvironment env) {
        Path configDir = env.get("DOCKER_CONFIG").map(Path::of).orElse(env.home().resolve(".docker"));
        if (hostFlag != null && !hostFlag.isBlank()) {
            return new DockerEndpoint(hostFlag, "--host", null, configDir);
        }
        Optional<String> dockerHost = env.get("DOCKER_HOST");
        if (dockerHost.isPresent()) {
            return new DockerEndpoint(dockerHost.get(), "DOCKER_HOST", null, configDir);
        }
        Optional<String> contextVariable = env.get("DOCKER_CONTEXT");
        String contextOrigin = "DOCKER_CONTEXT";
        Optional<String> context = contextVariable;
        if (context.isEmpty()) {
            Path configJson = configDir.resolve("config.json");
            context = currentContext(configJson);
            contextOrigin = configJson + " currentContext";
        }
        if (context.isPresent() && !context.get().equals("default")) {
            return fromContext(context.get(), contextOrigin, configDir);
        }
        return new DockerEndpoint(DEFAULT_URL, "default; no --host, DOCKER_HOST or docker context set", null, configDir);
    }

    private static Optional<String> currentContext(Path configJson) {
        try {
            JsonNode name = new ObjectMapper().readTree(configJson.toFile()).path("currentContext");
            return name.isTextual() && !name.asText().isBlank() ? Optional.of(name.asText()) : Optional.empty();
        } catch (IOException unreadable) {
            // No config.json (or one the docker CLI could not read either) means no context.
            return Optional.empty();
        }
    }

    private static DockerEndpoint fromContext(String name, String origin, Path configDir) {
        Path meta = configDir.resolve("contexts/meta").resolve(sha256(name)).resolve("meta.json");
        String source = "docker context \"" + name + "\" (" + origin + ", " + meta + ")";
        try {
            JsonNode host = new ObjectMapper().readTree(meta.toFile()).path("Endpoints").path("docker").path("Host");
            if (host.isTextual() && !host.asText().isBlank()) {
                return new DockerEndpoint(host.asText(), source, name, configDir);
            }
            throw new DockerUnreachableException("docker context \"" + name + "\" (" + origin
                    + ") has no docker endpoint in " + meta, null);
        } catch (IOException missing) {
            throw new DockerUnreachableException("docker context \"" + name + "\" (" + origin
                    + ") not found: cannot read " + meta, missing);
        }
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
