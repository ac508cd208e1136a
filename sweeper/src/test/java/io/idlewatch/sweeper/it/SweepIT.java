package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.ContainerDetails;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static io.idlewatch.sweeper.testing.DockerCli.exists;
import static io.idlewatch.sweeper.testing.DockerCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code idlewatch sweep} against the real engine, every container made for real. */
class SweepIT {

    static final DockerCli docker = new DockerCli();
    /** Between two containers' finishes in the older-than test: twice the slowest start of a sweep on a loaded host. */
    static final Duration FINISH_GAP = Duration.ofSeconds(20);

    @BeforeAll
    static void engine() {
        DockerCli.assumeEngine();
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    /** A sweep limited to this run's containers of one case. */
    static Run sweep(CliContext context, String testCase, String... args) {
        String[] all = Stream.concat(Stream.of("sweep", "--label", docker.testLabel(), "--label", "io.idlewatch.case=" + testCase),
                Stream.of(args)).toArray(String[]::new);
        return Run.of(context, all);
    }

    static String withoutAge(String line) {
        return line.replaceAll("\\d+\\w* ago", "AGE ago");
    }

    static String exited(String testCase, String... options) {
        String id = docker.container("run", testCase, List.of(options), "true");
        DockerCli.awaitState(id, "exited");
        return id;
    }

    @Test
    void onlyExitedCreatedAndDeadGo_neverRunningPausedRestartingOrKept() {
        String c = "states";
        String exited = exited(c);
        String created = docker.container("create", c, List.of());
        String failedStart = docker.container("run", c, List.of(), "/no/such/command");
        String running = docker.container("run", c, List.of("-d"), "sleep", "300");
        String paused = docker.container("run", c, List.of("-d"), "sleep", "300");
        ok("pause", paused);
        String restarting = docker.container("run", c, List.of("-d", "--restart", "always"), "bash", "-c", "exit 1");
        DockerCli.awaitRestarting(restarting);
        String kept = exited(c, "--label", "io.idlewatch.keep=true");
        assertEquals("created", DockerCli.state(failedStart));

        // Created containers are only removed after 2 minutes; this test may not wait that long.
        Run run = sweep(CliContext.system().withCreatedGrace(Duration.ZERO), c);

        assertEquals(0, run.exitCode(), run.toString());
        assertFalse(exists(exited), run.out());
        assertFalse(exists(created), run.out());
        assertFalse(exists(failedStart), run.out());
        assertEquals("running", DockerCli.state(running));
        assertEquals("paused", DockerCli.state(paused));
        assertTrue(exists(restarting));
        assertEquals("exited", DockerCli.state(kept));
        if (!DockerCli.PODMAN) {
            // Podman records no exit code for a start that failed: its line says "created" only.
            assertTrue(run.out().contains("created (start failed, exit 127)"), run.out());
        }
        assertTrue(run.out().contains("skipped  " + kept.substring(0, 12)), run.out());
        String summary = run.outLines().get(run.outLines().size() - 1);
        if (DockerCli.PODMAN) {
            // Podman lists a container between its exit and its restart as exited (it says "stopped"); the
            // fresh inspect sees its restart policy and skips it. Whether the list caught it so is timing.
            assertTrue(summary.startsWith("removed 3, skipped ") && summary.contains("1 keep label") && summary.contains("failed 0"),
                    run.out());
        } else {
            assertTrue(summary.startsWith("removed 3, skipped 1 (1 keep label), failed 0"), run.out());
        }
    }

    @Test
    void aJustCreatedContainerSurvives_evenAFailedStart() {
        String c = "young-created";
        String created = docker.container("create", c, List.of());
        String failedStart = docker.container("run", c, List.of(), "/no/such/command");

        Run run = sweep(CliContext.system(), c, "--older-than", "0");

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(exists(created) && exists(failedStart));
        assertTrue(run.out().contains("too young: created"), run.out());
        assertTrue(run.out().contains("needs 2m"), run.out());
    }

    @Test
    void aContainerRestartedBetweenListAndRecheckSurvives() {
        String c = "restart-before-recheck";
        // Exits at once the first time, keeps running when started again.
        String restarted = docker.container("run", c, List.of(), "bash", "-c", "test -f /once && exec sleep 300; touch /once");
        String other = exited(c);

        Run run = sweep(CliContext.system().withHooks(new Sweeper.Hooks() {
            @Override
            public void beforeRecheck(ContainerSummary listed) {
                if (listed.id().equals(restarted)) {
                    ok("start", restarted);
                }
            }
        }), c);

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("running", DockerCli.state(restarted));
        assertFalse(exists(other));
        assertTrue(run.out().contains("skipped  " + restarted.substring(0, 12) + "  ") && run.out().contains("now running"), run.out());
    }

    @Test
    void aContainerRestartedAfterTheRecheckIsRefusedByTheEngineAndSkipped() {
        String c = "restart-before-remove";
        String restarted = docker.container("run", c, List.of(), "bash", "-c", "test -f /once && exec sleep 300; touch /once");

        Run run = sweep(CliContext.system().withHooks(new Sweeper.Hooks() {
            @Override
            public void beforeRemove(ContainerDetails inspected) {
                ok("start", restarted);
            }
        }), c);

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("running", DockerCli.state(restarted));
        // The engine's own words (Podman refuses with a 500 that idlewatch reads as Docker's 409).
        assertTrue(run.out().contains(DockerCli.PODMAN ? "as it is running"
                : "You cannot remove a running container"), run.out());
        assertTrue(run.out().contains("skipped 1 (1 conflict)"), run.out());
    }

    @Test
    void olderThanCountsFromEachContainersFinish() {
        String c = "older-than";
        String early = exited(c);
        String late = docker.container("run", c, List.of(), "sleep", Long.toString(FINISH_GAP.toSeconds()));
        DockerCli.awaitState(late, "exited");
        String justCreated = docker.container("create", c, List.of());
        // Halfway between the two finishes, measured from the late one's finish as the engine recorded
        // it: the sweep may start up to FINISH_GAP / 2 later (a loaded host) and still see the same order.
        Instant lateFinished = Instant.parse(ok("inspect", "-f", "{{.State.FinishedAt}}", late));
        Duration olderThan = Duration.between(lateFinished, Instant.now()).plus(FINISH_GAP.dividedBy(2));

        Run run = sweep(CliContext.system(), c, "--older-than", Math.max(1, olderThan.toSeconds()) + "s");

        assertEquals(0, run.exitCode(), run.toString());
        assertFalse(exists(early), run.out());
        assertTrue(exists(late), run.out());
        assertTrue(exists(justCreated), run.out());
        assertTrue(run.out().contains("skipped 2 (2 too young)"), run.out());
    }

    @Test
    void volumesRemovesTheAnonymousVolumeAndKeepsTheNamedOne() {
        String c = "volumes";
        String named = "idlewatch-it-" + docker.runId;
        String id = exited(c, "-v", "/anonymous", "-v", named + ":/named");
        String anonymous = ok("inspect", "-f", "{{range .Mounts}}{{if eq .Destination \"/anonymous\"}}{{.Name}}{{end}}{{end}}", id);
        assertFalse(anonymous.isEmpty());
        try {
            Run run = sweep(CliContext.system(), c, "--volumes");

            assertEquals(0, run.exitCode(), run.toString());
            assertFalse(exists(id));
            assertNotEquals(0, DockerCli.exec("volume", "inspect", anonymous).exitCode(), "anonymous volume removed");
            assertEquals(0, DockerCli.exec("volume", "inspect", named).exitCode(), "named volume kept");
        } finally {
            DockerCli.exec("volume", "rm", named);
        }
    }

    @Test
    void withoutVolumesTheAnonymousVolumeStays() {
        String c = "no-volumes";
        String id = exited(c, "-v", "/anonymous");
        String anonymous = ok("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", id);
        try {
            assertEquals(0, sweep(CliContext.system(), c).exitCode());
            assertFalse(exists(id));
            assertEquals(0, DockerCli.exec("volume", "inspect", anonymous).exitCode());
        } finally {
            DockerCli.exec("volume", "rm", anonymous);
        }
    }

    @Test
    void dryRunPrintsTheSameLinesAndRemovesNothing_andJsonParses() throws IOException {
        String c = "dry-run";
        String big = docker.container("run", c, List.of(), "bash", "-c", "head -c 2000000 /dev/zero > /big");
        DockerCli.awaitState(big, "exited");
        String small = exited(c);
        String kept = exited(c, "--label", "io.idlewatch.keep=true");

        Run dry = sweep(CliContext.system(), c, "--dry-run");
        assertTrue(exists(big) && exists(small) && exists(kept), dry.out());
        Run dryJson = sweep(CliContext.system(), c, "--dry-run", "--json");
        assertTrue(exists(big) && exists(small));
        Run real = sweep(CliContext.system(), c);

        assertEquals(0, dry.exitCode(), dry.toString());
        assertTrue(dry.outLines().stream().allMatch(l -> l.endsWith(" (dry run)")), dry.out());
        // Identical but for the ages, which moved on between the runs.
        assertEquals(real.outLines().stream().map(SweepIT::withoutAge).sorted().toList(),
                dry.outLines().stream().map(l -> withoutAge(l.replace(" (dry run)", ""))).sorted().toList());
        assertFalse(exists(big) || exists(small));
        assertTrue(exists(kept));

        JsonNode json = new ObjectMapper().readTree(dryJson.out());
        assertTrue(json.path("dry_run").asBoolean());
        assertEquals(2, json.path("summary").path("removed").asInt());
        assertEquals(1, json.path("summary").path("skipped_by_reason").path("keep").asInt());
        assertTrue(json.path("summary").path("reclaimed_bytes").asLong() >= 2_000_000, dryJson.out());
        assertTrue(real.outLines().get(real.outLines().size() - 1).matches(".*reclaimed 2(\\.\\d+)?MB"), real.out());
    }
}
