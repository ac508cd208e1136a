package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.testing.Await;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static io.idlewatch.sweeper.testing.DockerCli.exists;
import static io.idlewatch.sweeper.testing.DockerCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which stops a sweep takes at once and which it keeps, with the real agent (images/test/workload)
 * in real containers: a stop somebody or something decided (an idle stop, {@code idlewatch stop},
 * the workload's own exit) goes after {@code --older-than}; a stop nobody decided ({@code docker
 * stop}, a SIGKILL with no final record) stays for the unplanned age, and sweep and {@code ps}
 * say until when. The keep label keeps for anything but an explicit no.
 */
class UnplannedStopIT {

    static final DockerCli docker = new DockerCli();
    static final String STATE_FILE = "/run/idlewatch/state.json";
    /** The agent JVM's start on 2 busy cores, then an idle timeout and a stop: how long any wait here may take. */
    static final Duration PATIENCE = Duration.ofSeconds(60);
    /** The unplanned age this test shortens the default 24h to. */
    static final Duration SHORT_UNPLANNED = Duration.ofSeconds(3);
    static Path emptyConfig;

    @BeforeAll
    static void engine() throws IOException {
        DockerCli.assumeEngine();
        // This machine's host config must not change what the sweeps here do.
        emptyConfig = Files.createTempFile("idlewatch-unplanned-it-", ".toml");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        docker.cleanUp();
        if (emptyConfig != null) {
            Files.deleteIfExists(emptyConfig);
        }
    }

    static Run idlewatch(String testCase, String verb, String... args) {
        return Run.of(CliContext.system(), Stream.concat(Stream.of(verb, "--label", docker.testLabel(),
                "--label", "io.idlewatch.case=" + testCase, "--config", emptyConfig.toString()), Stream.of(args))
                .toArray(String[]::new));
    }

    /**
     * A workspace with the real agent as PID 1 and no activity signal (nothing here may keep it
     * busy or stop it early); waits for its first state file unless it is meant to stop by itself.
     */
    static String workspace(String testCase, String name, boolean await, List<String> env, String... command) {
        List<String> options = new ArrayList<>(List.of("-d", "--label", "io.idlewatch.workspace=" + name,
                "-e", "IDLEWATCH_POLL_INTERVAL=1s", "-e", "IDLEWATCH_SIGNALS=none"));
        env.forEach(e -> options.addAll(List.of("-e", e)));
        String id = docker.container(DockerCli.WORKLOAD_IMAGE, "run", testCase, options, command);
        if (await) {
            awaitTrue("the agent's first state file in " + name,
                    () -> DockerCli.exec("exec", id, "test", "-s", STATE_FILE).exitCode() == 0);
        }
        return id;
    }

    static void awaitTrue(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(200), what, done);
    }

    static void awaitExited(String id) {
        awaitTrue(id + " exited", () -> DockerCli.state(id).equals("exited"));
    }

    static String line(Run run, String id) {
        return run.outLines().stream().filter(l -> l.contains("  " + id.substring(0, 12) + "  ")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + id + ":\n" + run.out()));
    }

    @Test
    void decidedStopsGoAtOnce_stopsFromOutsideAndKillsAreKeptUntilTheUnplannedAge() throws IOException {
        String c = "planned-" + docker.runId.substring(0, 8);
        String idleName = c + "-idle";
        String idle = workspace(c, idleName, false, List.of("IDLEWATCH_TIMEOUT=3s", "IDLEWATCH_WARN_BEFORE=0"));
        String workloadExit = workspace(c, c + "-exit", false, List.of(), "sleep", "3");
        String manualName = c + "-manual";
        String manual = workspace(c, manualName, true, List.of());
        String dockerStopped = workspace(c, c + "-docker-stop", true, List.of());
        String killed = workspace(c, c + "-killed", true, List.of());

        Run stop = Run.of(CliContext.system(), "stop", manualName);
        assertEquals(0, stop.exitCode(), stop.toString());
        ok("stop", dockerStopped);
        // SIGKILL to PID 1: the agent writes nothing more; its last record is a running one.
        ok("kill", "-s", "KILL", killed);
        for (String id : List.of(idle, workloadExit, manual, dockerStopped, killed)) {
            awaitExited(id);
        }

        Run sweep = idlewatch(c, "sweep");

        assertEquals(0, sweep.exitCode(), sweep.toString());
        Map<String, String> removed = new LinkedHashMap<>(Map.of("idle", idle, "workload exit", workloadExit, "manual", manual));
        removed.forEach((what, id) -> {
            assertFalse(exists(id), what + " stop removed: " + sweep.out());
            assertTrue(line(sweep, id).startsWith("removed  "), line(sweep, id));
        });
        for (String id : List.of(dockerStopped, killed)) {
            assertEquals("exited", DockerCli.state(id), sweep.out());
            assertTrue(line(sweep, id).matches("skipped  \\S+  \\S+  kept, unplanned stop: .*, kept until "
                    + "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(1d\\)"), line(sweep, id));
        }
        if (!DockerCli.PODMAN) {
            // Podman 4.3's compat stop may kill at once, leaving no final record: kept all the same.
            assertTrue(line(sweep, dockerStopped).contains("unplanned stop: signal (stopped from outside"), line(sweep, dockerStopped));
        }
        assertTrue(line(sweep, killed).contains("no final record"), line(sweep, killed));
        assertTrue(sweep.outLines().get(sweep.outLines().size() - 1).startsWith("removed 3, skipped 2 (2 unplanned stop), failed 0"),
                sweep.out());

        // ps says the same, and until when: a day after each one's exit.
        Run ps = Run.of(CliContext.system(), "ps", "--all", "--json", "--label", docker.testLabel(),
                "--label", "io.idlewatch.case=" + c, "--config", emptyConfig.toString());
        JsonNode rows = new ObjectMapper().readTree(ps.out());
        assertEquals(2, rows.size(), ps.out());
        for (JsonNode row : rows) {
            Instant finished = Instant.parse(ok("inspect", "-f", "{{.State.FinishedAt}}", row.path("id").asText()));
            assertFalse(row.path("planned_stop").asBoolean(true), row.toString());
            assertEquals(finished.plus(Duration.ofDays(1)).getEpochSecond(),
                    Instant.parse(row.path("kept_until").asText()).getEpochSecond(), row.toString());
        }

        // Once older than a (shortened) unplanned age, they go too.
        awaitTrue("both older than " + SHORT_UNPLANNED, () -> List.of(dockerStopped, killed).stream().allMatch(id ->
                Instant.parse(ok("inspect", "-f", "{{.State.FinishedAt}}", id)).plus(SHORT_UNPLANNED).isBefore(Instant.now())));
        Run later = idlewatch(c, "sweep", "--unplanned-older-than", SHORT_UNPLANNED.toSeconds() + "s");
        assertEquals(0, later.exitCode(), later.toString());
        assertFalse(exists(dockerStopped) || exists(killed), later.out());
        assertTrue(line(later, dockerStopped).startsWith("removed  ") && line(later, dockerStopped).contains(", unplanned stop: "),
                later.out());
    }

    @Test
    void theKeepLabelKeepsForAnyValueButANo() {
        String c = "keep-" + docker.runId.substring(0, 8);
        Map<String, String> kept = new LinkedHashMap<>();
        for (String value : List.of("1", "yes", "TRUE", "ture")) {
            kept.put(value, docker.container("run", c, List.of("--label", "io.idlewatch.keep=" + value), "true"));
        }
        String no = docker.container("run", c, List.of("--label", "io.idlewatch.keep=false"), "true");
        kept.values().forEach(UnplannedStopIT::awaitExited);
        awaitExited(no);

        Run sweep = idlewatch(c, "sweep");

        assertEquals(0, sweep.exitCode(), sweep.toString());
        assertFalse(exists(no), sweep.out());
        kept.forEach((value, id) -> {
            assertEquals("exited", DockerCli.state(id), value);
            assertTrue(line(sweep, id).endsWith("keep label (io.idlewatch.keep=" + value + ")"), line(sweep, id));
        });
    }
}
