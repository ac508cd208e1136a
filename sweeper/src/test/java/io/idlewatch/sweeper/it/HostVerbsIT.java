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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static io.idlewatch.sweeper.testing.DockerCli.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code idlewatch timeout|touch|stop WS} against real workspaces running the real agent
 * (images/test/workload): what the host asks is what the agent inside then reports, and each
 * failure is one line with the documented exit code. The CLI runs in-process, as in PsIT; the
 * agent's side is read with the docker CLI (its own status command, its state file, its log).
 */
class HostVerbsIT {

    static final DockerCli docker = new DockerCli();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String STATE_FILE = "/run/idlewatch/state.json";
    static final String SOCKET = "/run/idlewatch/agent.sock";
    static final String CLIENT = "/opt/idlewatch/bin/idlewatch";
    /** Short, so idle time visibly grows and a touch shows within a test's patience. */
    static final String POLL = "1s";
    /** The agent JVM's start on 2 busy cores, and a few polls: how long any wait here may take. */
    static final Duration PATIENCE = Duration.ofSeconds(30);
    /** Idle time the touch test waits for first, so that a reset is unmistakable. */
    static final long GROWN_IDLE_MS = 3_000;
    /** Idle time right after a touch: at most a poll or two, on a loaded host. */
    static final long TOUCHED_IDLE_MS = 2_500;
    static final int EXIT_CODE = 7;

    /** Unique on a shared engine: other runs' workspaces may have any common name. */
    static final String NAME = "verbs-" + docker.runId.substring(0, 8);
    static final String STOP_NAME = NAME + "-stop";
    static String workspace;

    @BeforeAll
    static void workspace() {
        DockerCli.assumeEngine();
        workspace = agentWorkspace("verbs", NAME, "-e", "IDLEWATCH_TIMEOUT=30m", "-e", "IDLEWATCH_MAX_TIMEOUT=1h");
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    /** A running workspace with the real agent (PID 1) and its control socket up. */
    static String agentWorkspace(String testCase, String name, String... env) {
        // Only the verbs are under test: the cpu signal (the agent's own start, the execs that read
        // the state file, on a loaded host) would reset the idle time that the touch test waits for.
        List<String> options = new ArrayList<>(List.of("-d", "--label", "io.idlewatch.workspace=" + name,
                "-e", "IDLEWATCH_POLL_INTERVAL=" + POLL, "-e", "IDLEWATCH_SIGNALS=tty"));
        options.addAll(List.of(env));
        String id = docker.container(DockerCli.WORKLOAD_IMAGE, "run", testCase, options);
        await("the agent's socket in " + name, () -> DockerCli.exec("exec", id, "test", "-S", SOCKET).exitCode() == 0);
        await("the agent's first state file in " + name, () -> DockerCli.exec("exec", id, "test", "-s", STATE_FILE).exitCode() == 0);
        return id;
    }

    static void await(String what, BooleanSupplier done) {
        Await.until(PATIENCE, Duration.ofMillis(200), what, done);
    }

    /** The agent's own state file, read inside (a short exec is no activity: exec counts after 10 s). */
    static JsonNode stateFile(String id) {
        try {
            return JSON.readTree(ok("exec", id, "cat", STATE_FILE));
        } catch (IOException e) {
            throw new AssertionError("state file of " + id + " is not JSON", e);
        }
    }

    static JsonNode awaitStateFile(String id, String what, Predicate<JsonNode> wanted) {
        JsonNode[] last = new JsonNode[1];
        try {
            await(what, () -> wanted.test(last[0] = stateFile(id)));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last state file: " + last[0]);
        }
        return last[0];
    }

    static Run idlewatch(String... args) {
        return Run.of(CliContext.system(), args);
    }

    static String shortId(String id) {
        return id.substring(0, 12);
    }

    /** The agent's own {@code idlewatch status}: {@code idle: 3s / 45m (stops in 44m57s)} first. */
    static String statusFirstLine(String id) {
        return ok("exec", id, CLIENT, "status").lines().findFirst().orElse("");
    }

    @Test
    void timeoutByWorkspaceNameChangesWhatTheAgentReports() {
        Run run = idlewatch("timeout", NAME, "45m");

        assertEquals(0, run.exitCode(), run.toString());
        // Only this test changes the threshold; the others leave it at the 30m it started with.
        assertEquals(NAME + " (" + shortId(workspace) + "): timeout 45m (was 30m)\n", run.out());
        assertTrue(statusFirstLine(workspace).matches("idle: \\S+ / 45m .*"), statusFirstLine(workspace));
        awaitStateFile(workspace, "timeout_ms 45m in the state file", s -> s.path("timeout_ms").asLong() == 2_700_000);
    }

    @Test
    void timeoutAboveTheMaximumIsRefusedWithExit2AndOneLine_byContainerId() {
        String before = statusFirstLine(workspace).replaceAll("^idle: \\S+ / (\\S+) .*", "$1");

        for (String value : List.of("2h", "off")) {
            Run run = idlewatch("timeout", workspace, value);

            assertEquals(2, run.exitCode(), run.toString());
            assertEquals("", run.out());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().startsWith("idlewatch: " + NAME + " (" + shortId(workspace) + "): "), run.err());
            assertTrue(run.err().contains("IDLEWATCH_MAX_TIMEOUT is 1h"), run.err());
        }
        assertTrue(statusFirstLine(workspace).matches("idle: \\S+ / " + before + " .*"), "threshold unchanged: " + before);
    }

    @Test
    void touchByWorkspaceNameResetsTheIdleTime() {
        JsonNode grown = awaitStateFile(workspace, "idle time to grow past " + GROWN_IDLE_MS + " ms",
                s -> s.path("idle_ms").asLong() >= GROWN_IDLE_MS);

        Run run = idlewatch("touch", NAME, "--reason", "x");

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith(NAME + " (" + shortId(workspace) + "): idle time reset to 0s"), run.out());
        JsonNode touched = awaitStateFile(workspace, "the touch in the state file",
                s -> "touch".equals(s.path("last_activity_signal").asText()) && s.path("idle_ms").asLong() < grown.path("idle_ms").asLong());
        assertTrue(touched.path("idle_ms").asLong() <= TOUCHED_IDLE_MS, touched.toString());
    }

    @Test
    void stopByContainerIdRunsTheAgentsStopSequenceRecordedAsManual() throws IOException {
        String marker = "pre-stop ran for " + docker.runId;
        String id = agentWorkspace("verbs-stop", STOP_NAME, "-e", "IDLEWATCH_TIMEOUT=30m",
                "-e", "IDLEWATCH_PRE_STOP=echo '" + marker + "'", "-e", "IDLEWATCH_EXIT_CODE=" + EXIT_CODE,
                "-e", "IDLEWATCH_STOP_GRACE=2s");

        Run run = idlewatch("stop", shortId(id), "--reason", "itest-y");

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith(STOP_NAME + " (" + shortId(id) + "): stopping now (manual"), run.out());
        assertEquals(Integer.toString(EXIT_CODE), ok("wait", id));
        DockerCli.Result logs = DockerCli.exec("logs", id);
        assertTrue((logs.out() + logs.err()).lines().anyMatch(marker::equals), "pre-stop's line in the log:\n" + logs);

        Run table = idlewatch("ps", "--all", "--label", docker.testLabel());
        String row = table.outLines().stream().filter(l -> l.startsWith(STOP_NAME + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + STOP_NAME + ": " + table));
        // A decided stop: sweep would take it at once, so nothing in KEPT UNTIL.
        assertTrue(row.matches(STOP_NAME + " +" + shortId(id) + " +exited .* manual +-"), row);

        JsonNode all = JSON.readTree(idlewatch("ps", "--all", "--json", "--label", docker.testLabel()).out());
        JsonNode entry = null;
        for (JsonNode e : all) {
            entry = e.path("id").asText().equals(id) ? e : entry;
        }
        assertTrue(entry != null, all.toString());
        assertEquals("final", entry.path("record").asText(), entry.toString());
        assertEquals("manual", entry.path("stop_reason").asText(), entry.toString());
        assertEquals("manual", entry.path("agent").path("stop").path("reason").asText(), entry.toString());
        assertEquals(EXIT_CODE, entry.path("exit_code").asInt(), entry.toString());
        assertTrue(entry.path("agent").path("stop").path("detail").asText().contains("itest-y"), entry.toString());
    }

    @Test
    void aContainerWithoutTheAgentIsExit4WithOneLine() {
        String plain = docker.container("run", "verbs-plain", List.of("-d"), "sleep", "300");

        Run run = idlewatch("touch", plain);

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("", run.out());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("idlewatch: no idlewatch agent in "), run.err());
        assertTrue(run.err().contains("(" + shortId(plain) + "): " + CLIENT + " cannot run there ("), run.err());
    }

    @Test
    void anExitedWorkspaceIsExit4AndSoIsAnUnknownOne() {
        String exited = docker.container(DockerCli.WORKLOAD_IMAGE, "run", "verbs-exited",
                List.of("--label", "io.idlewatch.workspace=" + NAME + "-exited"), "true");
        DockerCli.awaitState(exited, "exited");

        Run stopped = idlewatch("touch", NAME + "-exited");
        Run unknown = idlewatch("touch", NAME + "-nobody");

        assertEquals(4, stopped.exitCode(), stopped.toString());
        assertEquals("idlewatch: " + NAME + "-exited (" + shortId(exited) + ") is exited, not running: there is no agent to ask\n",
                stopped.err());
        assertEquals(4, unknown.exitCode(), unknown.toString());
        assertEquals("idlewatch: no workspace named " + NAME + "-nobody: no container labelled io.idlewatch.managed=true has"
                + " that workspace name, container name, id or id prefix\n", unknown.err());
    }

    @Test
    void aContainerWithoutTheManagedLabelIsNeverActedOn_evenWithAnAgentInIt() {
        // The real agent, answering, but not a workspace: only this run's label, for the clean-up.
        String name = NAME + "-unmanaged";
        String id = ok("run", "-d", "--name", name, "--label", docker.testLabel(), "-e", "IDLEWATCH_POLL_INTERVAL=" + POLL,
                DockerCli.WORKLOAD_IMAGE).strip();
        await("the agent's first state file in " + name, () -> DockerCli.exec("exec", id, "test", "-s", STATE_FILE).exitCode() == 0);

        for (String reference : List.of(name, shortId(id), id)) {
            for (List<String> verb : List.of(List.of("timeout", reference, "5m"), List.of("touch", reference),
                    List.of("stop", reference))) {
                Run run = idlewatch(verb.toArray(String[]::new));

                assertEquals(4, run.exitCode(), verb + ": " + run);
                assertEquals("", run.out());
                assertEquals("idlewatch: no workspace named " + reference + ": no container labelled io.idlewatch.managed=true"
                        + " has that workspace name, container name, id or id prefix\n", run.err(), verb.toString());
            }
        }
        assertEquals("running", DockerCli.state(id), "not stopped");
        JsonNode state = stateFile(id);
        assertEquals("running", state.path("state").asText(), state.toString());
        assertTrue(state.path("timeout_ms").isNull(), "timeout untouched: " + state);
        assertTrue(!"touch".equals(state.path("last_activity_signal").asText()), "not touched: " + state);
    }
}
