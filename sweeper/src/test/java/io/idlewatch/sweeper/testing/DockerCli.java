package io.idlewatch.sweeper.testing;

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
 */
public final class DockerCli {

    public static final String IMAGE = "localhost/idlewatch/debian:bookworm";

    public final String runId = UUID.randomUUID().toString();

    public record Result(int exitCode, String out, String err) {
        public String trimmed() {
            return out.strip();
        }
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
        List<String> args = new ArrayList<>(List.of(verb, "--label", "io.idlewatch.managed=true", "--label", testLabel(),
                "--label", "io.idlewatch.case=" + testCase));
        args.addAll(options);
        args.add(IMAGE);
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
