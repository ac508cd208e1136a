package io.idlewatch.sweeper.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The real engine through the docker CLI, for integration tests: every container is made for real
 * from the one local image and carries {@code io.idlewatch.managed=true} plus this run's own
 * {@code io.idlewatch.test} label, so a sweep limited to that label touches nothing else.
 *
 * <p>The engine is whatever {@code DOCKER_HOST} names, for the docker CLI and the CLI under test
 * alike. sweeper/pom.xml runs the engine-facing ITs twice: against Docker, and (execution
 * {@code podman}, system property {@value #ENGINE_PROPERTY}{@code =podman}) with {@code DOCKER_HOST}
 * set to {@code $IDLEWATCH_PODMAN_HOST}, the socket scripts/podman-engine prints. The docker CLI
 * then speaks to Podman's Docker-compatible API, as a Docker user's tools would.
 */
public final class DockerCli {

    public static final String IMAGE = "localhost/idlewatch/debian:bookworm";
    /** Debian with the real agent as entrypoint (images/test/workload), for tests that need a live agent. */
    public static final String WORKLOAD_IMAGE = "localhost/idlewatch/test-workload:" + imageTag();
    /** The test workload with socat's tiny HTTP servers (images/test/socat). */
    public static final String SOCAT_IMAGE = "localhost/idlewatch/test-socat:" + imageTag();
    /** The example opencode workspace (images/workspace). */
    public static final String WORKSPACE_IMAGE = "localhost/idlewatch/workspace:" + imageTag();
    /** The tag images/build.sh gave the images: IDLEWATCH_IMAGE_TAG, default latest. */
    static String imageTag() {
        String tag = System.getenv("IDLEWATCH_IMAGE_TAG");
        return tag == null || tag.isBlank() ? "latest" : tag;
    }

    public static final String ENGINE_PROPERTY = "idlewatch.engine";
    /** True when this run is against Podman (where a few engine answers differ; see EngineDialect). */
    public static final boolean PODMAN = "podman".equals(System.getProperty(ENGINE_PROPERTY));

    public final String runId = UUID.randomUUID().toString();

    public record Result(int exitCode, String out, String err) {
        public String trimmed() {
            return out.strip();
        }
    }

    /**
     * In a Podman run, skips the class (naming what to do) when no Podman socket was given; from
     * each IT class's {@code @BeforeAll}. A Docker run needs nothing: scripts/docker-engine saw to it.
     */
    public static void assumeEngine() {
        String host = System.getenv("DOCKER_HOST");
        // An unset IDLEWATCH_PODMAN_HOST reaches us as Maven's unresolved "${env.IDLEWATCH_PODMAN_HOST}".
        Assumptions.assumeTrue(!PODMAN || host != null && host.matches("(unix|tcp)://.+"),
                "no Podman socket: run with IDLEWATCH_PODMAN_HOST=$(scripts/podman-engine)");
        if (PODMAN) {
            copyImagesToPodman();
        }
    }

    private static boolean copied;

    /**
     * The images are built into Docker (images/build.sh, in pre-integration-test or by scripts/build);
     * scripts/podman-engine copies them into Podman's store when Podman's copy is missing or older.
     * Once per test JVM, before the first Podman class runs.
     */
    private static synchronized void copyImagesToPodman() {
        if (copied) {
            return;
        }
        java.nio.file.Path script = java.nio.file.Path.of("..", "scripts", "podman-engine").toAbsolutePath().normalize();
        try {
            ProcessBuilder builder = new ProcessBuilder(script.toString(), IMAGE, WORKLOAD_IMAGE, SOCAT_IMAGE,
                    WORKSPACE_IMAGE).redirectErrorStream(true);
            // Read the images from Docker, not from the Podman socket this run's DOCKER_HOST names.
            builder.environment().remove("DOCKER_HOST");
            Process copy = builder.start();
            String out = new String(copy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (copy.waitFor() != 0 || out.contains("not copied")) {
                throw new IllegalStateException("cannot copy the test images into Podman: " + out.strip());
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while copying the test images into Podman", e);
        }
        copied = true;
    }

    /** The endpoint the CLI under test is expected to name: DOCKER_HOST, else Docker's default socket. */
    public static String endpoint() {
        String host = System.getenv("DOCKER_HOST");
        return host == null || host.isBlank() ? "unix:///var/run/docker.sock" : host;
    }

    public String testLabel() {
        return "io.idlewatch.test=" + runId;
    }

    public static Result exec(String... args) {
        List<String> command = new ArrayList<>();
        command.add("docker");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            var out = process.getInputStream().readAllBytes();
            var err = process.getErrorStream().readAllBytes();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            return new Result(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static String ok(String... args) {
        Result result = exec(args);
        if (result.exitCode() != 0) {
            throw new IllegalStateException("docker " + String.join(" ", args) + " failed: " + result.err());
        }
        return result.trimmed();
    }

    /** {@code docker <verb> --label managed --label test [extra options] IMAGE command...}; returns the id. */
    public String container(String verb, String testCase, List<String> options, String... command) {
        return container(IMAGE, verb, testCase, options, command);
    }

    /** As {@link #container(String, String, List, String...)}, from another of the local images. */
    public String container(String image, String verb, String testCase, List<String> options, String... command) {
        List<String> args = new ArrayList<>(List.of(verb, "--label", "io.idlewatch.managed=true", "--label", testLabel(),
                "--label", "io.idlewatch.case=" + testCase));
        args.addAll(options);
        args.add(image);
        args.addAll(List.of(command));
        Result result = exec(args.toArray(String[]::new));
        String id = result.trimmed();
        if (result.exitCode() != 0 || id.isEmpty()) {
            // `docker run` of a command that cannot start leaves a created container behind and prints no id.
            id = ok("ps", "-aq", "--no-trunc", "--latest", "--filter", "label=" + testLabel(),
                    "--filter", "label=io.idlewatch.case=" + testCase);
        }
        return id.lines().reduce((a, b) -> b).orElseThrow();
    }

    public static String state(String id) {
        Result result = exec("inspect", "-f", "{{.State.Status}}", id);
        return result.exitCode() == 0 ? result.trimmed() : "gone";
    }

    public static boolean exists(String id) {
        return !state(id).equals("gone");
    }

    /** Waits until the container reaches the state (or a timeout fails the test). */
    public static void awaitState(String id, String wanted) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!state(id).equals(wanted)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(id + " never reached " + wanted + ", is " + state(id));
            }
            sleep(100);
        }
    }

    /**
     * Waits until a {@code --restart} container is restarting: Docker's {@code restarting} state,
     * or under Podman (which has no such state: it restarts at once) a restart counted.
     */
    public static void awaitRestarting(String id) {
        if (!PODMAN) {
            awaitState(id, "restarting");
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (exec("inspect", "-f", "{{.RestartCount}}", id).trimmed().matches("0|")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(id + " never restarted, is " + state(id));
            }
            sleep(100);
        }
    }

    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Removes everything this run made, whatever state it is in. */
    public void cleanUp() {
        String ids = exec("ps", "-aq", "--filter", "label=" + testLabel()).trimmed();
        if (!ids.isEmpty()) {
            for (String id : ids.split("\\s+")) {
                exec("unpause", id);
            }
            List<String> args = new ArrayList<>(List.of("rm", "-f", "-v"));
            args.addAll(List.of(ids.split("\\s+")));
            exec(args.toArray(String[]::new));
        }
    }
}
