package io.idlewatch.images;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent image under rootful Podman, as under Docker: init duties (exit codes, signals, orphans
 * reaped, {@code docker stop}) and an idle stop with its record, a subset of AgentInitIT and
 * StopSequenceIT. Driven through the docker CLI against Podman's Docker-compatible socket
 * ({@code IDLEWATCH_PODMAN_HOST}, printed by scripts/podman-engine), the way a Docker user's tools
 * would drive it. Skipped, saying so, when that variable is not set.
 */
class PodmanAgentIT {

    static final String IMAGE = Box.AGENT_TEST_IMAGE;
    static final String HOST = System.getenv("IDLEWATCH_PODMAN_HOST");
    static final String LABEL = "io.idlewatch.test.podman=" + UUID.randomUUID();

    record Result(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void podman() throws Exception {
        Assumptions.assumeTrue(HOST != null && HOST.matches("(unix|tcp)://.+"),
                "no Podman socket: run with IDLEWATCH_PODMAN_HOST=$(scripts/podman-engine)");
        // The image was just built into Docker; copy it over if Podman's copy is older.
        Path script = Path.of("..", "scripts", "podman-engine").toAbsolutePath().normalize();
        Process copy = new ProcessBuilder(script.toString(), IMAGE).redirectErrorStream(true).start();
        String out = new String(copy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, copy.waitFor(), out);
    }

    @AfterAll
    static void cleanUp() {
        String ids = podman("ps", "-aq", "--filter", "label=" + LABEL).out().strip();
        if (!ids.isEmpty()) {
            List<String> rm = new ArrayList<>(List.of("rm", "-f"));
            rm.addAll(List.of(ids.split("\\s+")));
            podman(rm.toArray(String[]::new));
        }
    }

    /** The docker CLI against Podman's socket. */
    static Result podman(String... args) {
        List<String> command = new ArrayList<>(List.of("docker", "-H", HOST));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes();
            byte[] err = process.getErrorStream().readAllBytes();
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

    static String ok(String... args) {
        Result r = podman(args);
        assertEquals(0, r.exitCode(), "docker " + String.join(" ", args) + ": " + r.err());
        return r.out().strip();
    }

    /** {@code run} with our label; returns the CLI's result (attached: the container's exit code). */
    static Result run(List<String> options, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--label", LABEL));
        args.addAll(options);
        args.add(IMAGE);
        args.addAll(List.of(command));
        return podman(args.toArray(String[]::new));
    }

    static int awaitExit(String id, long seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String state = ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", id);
            if (state.startsWith("exited ")) {
                return Integer.parseInt(state.substring("exited ".length()));
            }
            sleep(200);
        }
        throw new AssertionError(id + " still up after " + seconds + " s: " + ok("inspect", "-f", "{{.State.Status}}", id));
    }

    /** The agent's state file through the archive endpoint (no exec), as the host CLI reads it. */
    static String stateFile(String id) throws IOException {
        Path dir = Files.createTempDirectory("podman-state");
        Path copy = dir.resolve("state.json");
        try {
            ok("cp", id + ":/run/idlewatch/state.json", copy.toString());
            return Files.readString(copy);
        } finally {
            Files.deleteIfExists(copy);
            Files.deleteIfExists(dir);
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void exitsWithTheWorkloadsCode_or128PlusItsSignal() {
        assertEquals(7, run(List.of(), "sh", "-c", "exit 7").exitCode());
        assertEquals(143, run(List.of(), "sh", "-c", "kill -s TERM $$; sleep 5").exitCode());
        Result missing = run(List.of(), "no-such-command");
        assertEquals(127, missing.exitCode(), missing.err());
    }

    @Test
    void orphansAreReaped() {
        // Fifty orphans exit after a second; the agent (PID 1) must reap them: no process left in state Z.
        Result r = run(List.of(), "bash", "-c", "for i in $(seq 50); do (sleep 1 &); done; sleep 4; "
                + "echo zombies=$(for f in /proc/[0-9]*/stat; do read -r l < $f 2>/dev/null && echo \"$l\"; done"
                + " | awk '$3==\"Z\"' | wc -l) sleeps=$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^sleep$')");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("zombies=0 sleeps=0"), r.out());
    }

    @Test
    void stopForwardsSigterm_andTheRecordSaysSignal() throws IOException {
        String id = ok("run", "-d", "--label", LABEL, IMAGE, "sleep", "infinity");
        sleep(3000); // the agent is up and has written its first record
        ok("stop", "-t", "20", id);
        assertEquals(143, awaitExit(id, 30));
        String state = stateFile(id);
        assertTrue(state.contains("\"state\":\"stopped\"") && state.contains("\"reason\":\"signal\""), state);
    }

    @Test
    void idleStopRunsPreStopAndExitsWithTheConfiguredCode() throws IOException {
        String id = ok("run", "-d", "--label", LABEL,
                "-e", "IDLEWATCH_TIMEOUT=4s", "-e", "IDLEWATCH_POLL_INTERVAL=1s", "-e", "IDLEWATCH_WARN_BEFORE=0",
                "-e", "IDLEWATCH_EXIT_CODE=7", "-e", "IDLEWATCH_PRE_STOP=echo pre-stop ran $((6*7)) >&2",
                IMAGE, "sleep", "infinity");
        assertEquals(7, awaitExit(id, 60));
        // Podman's conmon may still be writing the last lines to its log file when the exit is seen.
        String logs = "";
        // "ran 42": the config line quotes the command, only its output has the 42.
        for (int i = 0; i < 50 && !logs.contains("pre-stop ran 42"); i++, sleep(200)) {
            logs = podman("logs", id).err();
        }
        assertTrue(logs.contains("idlewatch: stopping: idle ") && logs.indexOf("pre-stop ran 42") > logs.indexOf("stopping: idle"),
                logs);
        String state = stateFile(id);
        assertTrue(state.contains("\"reason\":\"idle\""), state);
    }
}
