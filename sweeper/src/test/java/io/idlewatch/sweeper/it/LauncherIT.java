package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.testing.DockerCli;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped launcher ({@code bin/idlewatch} running the shaded jar), as cron or systemd would run it. */
class LauncherIT {

    static final DockerCli docker = new DockerCli();
    static final String LAUNCHER = System.getProperty("idlewatch.launcher", "bin/idlewatch");

    @TempDir
    Path dir;

    @BeforeAll
    static void engine() {
        DockerCli.assumeEngine();
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    record Result(int exitCode, String out, String err) {
    }

    static Process start(Map<String, String> env, ProcessBuilder.Redirect err, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(LAUNCHER));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        // The engine under test (Podman's socket in that run), unless the test names another.
        builder.environment().remove("DOCKER_HOST");
        if (DockerCli.PODMAN) {
            builder.environment().put("DOCKER_HOST", DockerCli.endpoint());
        }
        builder.environment().putAll(env);
        builder.redirectError(err);
        return builder.start();
    }

    static Result run(Map<String, String> env, String... args) throws Exception {
        Process process = start(env, ProcessBuilder.Redirect.PIPE, args);
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return new Result(process.exitValue(), out, err);
    }

    @Test
    void unreachableDockerExitsThreeWithOneLineNamingEndpointAndSource() throws Exception {
        Result flag = run(Map.of(), "sweep", "--host", "unix:///nonexistent/docker.sock");
        assertEquals(3, flag.exitCode());
        assertEquals("idlewatch: cannot reach Docker at unix:///nonexistent/docker.sock (from --host): No such file or directory\n",
                flag.err());

        Result env = run(Map.of("DOCKER_HOST", "tcp://127.0.0.1:1"), "ps");
        assertEquals(3, env.exitCode());
        assertTrue(env.err().startsWith("idlewatch: cannot reach Docker at tcp://127.0.0.1:1 (from DOCKER_HOST): "), env.err());
        assertEquals(1, env.err().lines().count());
        assertEquals("", env.out());
    }

    @Test
    void badConfigExitsTwoNamingFileLineAndKey() throws Exception {
        Path config = dir.resolve("config.toml");
        Files.writeString(config, "[defaults]\nolder_than = \"10m\"\n\n[workspaces.x]\nvolume = true\n");

        Result result = run(Map.of(), "sweep", "--config", config.toString());

        assertEquals(2, result.exitCode());
        assertEquals("idlewatch: " + config + ":5: workspaces.x.volume: unknown key; allowed here: older_than, unplanned_older_than, volumes\n",
                result.err());
    }

    @Test
    void jsonFromTheLauncherParses() throws Exception {
        String id = docker.container("run", "json", List.of(), "true");
        DockerCli.awaitState(id, "exited");

        Result result = run(Map.of(), "sweep", "--json", "--label", docker.testLabel());

        assertEquals(0, result.exitCode(), result.err());
        assertEquals(1, new ObjectMapper().readTree(result.out()).path("summary").path("removed").asInt(), result.out());
        assertFalse(DockerCli.exists(id));
    }

    @Test
    void watchSweepsWhenAContainerDiesAndStopsCleanlyOnSigterm() throws Exception {
        Path err = dir.resolve("watch.err");
        Process watch = start(Map.of(), ProcessBuilder.Redirect.to(err.toFile()), "watch", "--label", docker.testLabel(), "--grace", "500ms", "--interval", "1h");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(watch.getInputStream(), StandardCharsets.UTF_8))) {
                out.lines().forEach(lines::add);
            } catch (IOException ignored) {
                // The process ended.
            }
        });
        reader.start();
        try {
            String first = lines.poll(30, TimeUnit.SECONDS);
            assertNotNull(first, "watch started");
            assertTrue(first.startsWith("watching " + (DockerCli.PODMAN ? DockerCli.endpoint() : "unix:///var/run/docker.sock")
                    + " for io.idlewatch.managed=true," + docker.testLabel()), first);

            String id = docker.container("run", "watch", List.of("-d"), "sleep", "1");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (DockerCli.exists(id) && System.nanoTime() < deadline) {
                DockerCli.sleep(200);
            }
            assertFalse(DockerCli.exists(id), "removed after it died: " + lines);

            // Process.destroy() would send SIGTERM too, but it also closes our end of stdout.
            assertEquals(0, new ProcessBuilder("kill", "-TERM", Long.toString(watch.pid())).start().waitFor());
            assertTrue(watch.waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, watch.exitValue(), Files.readString(err));
            assertEquals("", Files.readString(err));
            reader.join(5000);
            List<String> all = new ArrayList<>(lines);
            assertTrue(all.stream().anyMatch(l -> l.startsWith("removed  " + id.substring(0, 12))), all.toString());
            assertEquals("stopped", all.get(all.size() - 1));
        } finally {
            watch.destroyForcibly();
        }
    }
}
