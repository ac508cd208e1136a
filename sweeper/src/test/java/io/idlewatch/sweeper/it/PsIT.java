package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

import static io.idlewatch.sweeper.testing.DockerCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code idlewatch ps} against real containers. The agent is not in the image yet, so the
 * containers write a state file of the agent's format themselves.
 */
class PsIT {

    static final DockerCli docker = new DockerCli();
    static String idleRunning;
    static String bare;
    static String stopped;

    static String stateFileCommand(String json) {
        return "mkdir -p /run/idlewatch && printf '%s' '" + json + "' > /run/idlewatch/state.json.tmp"
                + " && mv /run/idlewatch/state.json.tmp /run/idlewatch/state.json";
    }

    @BeforeAll
    static void workspaces() {
        DockerCli.assumeEngine();
        String now = Instant.now().toString();
        idleRunning = docker.container("run", "ps", List.of("-d", "--label", "io.idlewatch.workspace=alpha"),
                "bash", "-c", stateFileCommand("{\"version\":1,\"workspace\":\"alpha\",\"state\":\"running\",\"updated\":\"" + now
                        // A long poll interval: the record must stay live (not stale) for the whole class.
                        + "\",\"poll_interval_ms\":600000,\"idle_ms\":1380000,\"timeout_ms\":1800000,\"lifetime_left_ms\":null,\"last_activity\":null}")
                        + " && exec sleep 300");
        bare = docker.container("run", "ps", List.of("-d", "--label", "io.idlewatch.workspace=bare"), "sleep", "300");
        stopped = docker.container("run", "ps", List.of("--label", "io.idlewatch.workspace=gamma"),
                "bash", "-c", stateFileCommand("{\"state\":\"stopped\",\"idle_ms\":1800000,\"timeout_ms\":1800000,"
                        // Stopped during this run, as an agent's final record says: the time from inside, after the start.
                        + "\"stop\":{\"reason\":\"idle\",\"at\":\"'\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"'\",\"exit_code\":0}}"));
        DockerCli.awaitState(stopped, "exited");
        // The file is written by the container's own command; wait until it is there.
        for (int i = 0; i < 50 && DockerCli.exec("cp", idleRunning + ":/run/idlewatch/state.json", "/dev/null").exitCode() != 0; i++) {
            DockerCli.sleep(100);
        }
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    static Run ps(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "ps";
        all[1] = "--label";
        all[2] = docker.testLabel();
        System.arraycopy(args, 0, all, 3, args.length);
        return Run.of(CliContext.system(), all);
    }

    @Test
    void showsRunningWorkspacesWithIdleTime_andUnknownWithoutAStateFile() {
        Run run = ps();

        assertEquals(0, run.exitCode(), run.toString());
        List<String> lines = run.outLines();
        assertEquals(3, lines.size(), run.out());
        assertTrue(lines.get(1).startsWith("alpha ") && lines.get(1).contains(idleRunning.substring(0, 12))
                && lines.get(1).contains("running") && lines.get(1).contains("idle: 23m / 30m"), run.out());
        assertTrue(lines.get(2).matches("bare +" + bare.substring(0, 12) + " +running +- +- +- +- +-"), run.out());
    }

    @Test
    void allAddsStoppedWorkspacesWithWhyTheyStopped() {
        Run run = ps("--all");

        assertEquals(4, run.outLines().size(), run.out());
        String gamma = run.outLines().stream().filter(l -> l.startsWith("gamma ")).findFirst().orElseThrow();
        assertTrue(gamma.contains("exited") && gamma.contains("idle: 30m / 30m") && gamma.matches(".* idle +-"), run.out());
    }

    @Test
    void jsonParses() throws IOException {
        JsonNode json = new ObjectMapper().readTree(ps("--all", "--json").out());

        assertEquals(3, json.size());
        assertEquals("alpha", json.get(0).path("name").asText());
        assertEquals(1380000, json.get(0).path("idle_ms").asLong());
        assertTrue(json.get(1).path("agent").isNull());
        assertEquals("idle", json.get(2).path("stop_reason").asText());
        assertEquals("live", json.get(0).path("record").asText());
        assertEquals("none", json.get(1).path("record").asText());
        assertEquals("final", json.get(2).path("record").asText());
        assertEquals(0, json.get(2).path("exit_code").asInt());
    }

    @Test
    void psNeverExecsIntoAWorkspace() {
        for (int i = 0; i < 3; i++) {
            assertEquals(0, ps("--all").exitCode());
        }
        for (String id : List.of(idleRunning, bare, stopped)) {
            // Docker says null for none, Podman [].
            assertTrue(List.of("null", "[]").contains(ok("inspect", "-f", "{{json .ExecIDs}}", id)), "exec sessions of " + id);
        }
    }
}
