package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerApi.ExecResult;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.FakeDocker.FakeContainer;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code timeout|touch|stop WS} in-process against a fake engine whose exec answers as the agent's
 * client does: which container is picked, what is run there, and how each answer becomes an exit
 * code. The real agent in a real container is {@code HostVerbsIT}'s.
 */
class HostVerbsTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");

    @TempDir
    Path home;

    final FakeDocker docker = new FakeDocker();

    Run run(String... args) {
        CliContext context = new CliContext(new HostEnvironment(Map.of(), home, home.resolve("etc")), endpoint -> docker,
                Clock.fixed(NOW, ZoneOffset.UTC), Sweeper.Hooks.NONE, Duration.ofMinutes(2));
        return Run.of(context, args);
    }

    static ExecResult answer(int code, String out, String err) {
        return new ExecResult(code, out.getBytes(StandardCharsets.UTF_8), err.getBytes(StandardCharsets.UTF_8));
    }

    FakeContainer workspace(String name, String state) {
        return docker.add(name + "-1", state, NOW.minusSeconds(60), "io.idlewatch.workspace=" + name);
    }

    @Test
    void timeoutRunsTheAgentsClientInTheWorkspaceAndPrintsItsAnswer() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(0, "idlewatch: timeout 1h (was 30m)\n", ""));

        Run run = run("timeout", "alpha", "1h");

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("alpha (000000000001): timeout 1h (was 30m)\n", run.out());
        assertTrue(docker.calls.contains("exec " + ws.id + " /opt/idlewatch/bin/idlewatch timeout 1h"), docker.calls.toString());
    }

    @Test
    void theAgentsRefusalIsExit2WithItsOneLine() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(2, "", "idlewatch: cannot set the timeout to 3h: IDLEWATCH_MAX_TIMEOUT is 2h;"
                + " use a duration of at most 2h\n"));

        Run run = run("timeout", "alpha", "3h");

        assertEquals(2, run.exitCode(), run.toString());
        assertEquals("idlewatch: alpha (000000000001): cannot set the timeout to 3h: IDLEWATCH_MAX_TIMEOUT is 2h;"
                + " use a duration of at most 2h\n", run.err());
    }

    @Test
    void touchAndStopPassTheReason() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(0, "idlewatch: ok\n", ""));

        assertEquals(0, run("touch", "alpha", "--reason", "deploy").exitCode());
        assertEquals(0, run("stop", ws.id, "--reason", "done").exitCode());

        assertTrue(docker.calls.contains("exec " + ws.id + " /opt/idlewatch/bin/idlewatch touch --reason deploy"), docker.calls.toString());
        assertTrue(docker.calls.contains("exec " + ws.id + " /opt/idlewatch/bin/idlewatch stop --reason done"), docker.calls.toString());
    }

    @Test
    void aContainerWithoutTheAgentIsExit4() {
        workspace("plain", "running"); // the fake answers 126 and the runtime's sentence, as Docker does

        Run run = run("stop", "plain");

        assertEquals(4, run.exitCode(), run.toString());
        assertTrue(run.err().startsWith("idlewatch: no idlewatch agent in plain (000000000001): /opt/idlewatch/bin/idlewatch"
                + " cannot run there (OCI runtime exec failed:"), run.err());
        assertEquals(1, run.err().lines().count());
    }

    @Test
    void anAgentThatDoesNotAnswerIsExit4() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(1, "", "idlewatch: no agent socket at /run/idlewatch/agent.sock\n"));

        Run run = run("touch", "alpha");

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("idlewatch: the idlewatch agent in alpha (000000000001) does not answer: no agent socket at"
                + " /run/idlewatch/agent.sock\n", run.err());
    }

    /** Docker kills the exec'd client when the stop it asked for ends the container: 137, no output. */
    @Test
    void aStopThatKilledItsOwnClientIsSuccessWhenTheAgentRecordedIt() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(137, "", ""));
        docker.stateFiles.put(ws.id, ("{\"version\":1,\"state\":\"stopping\",\"updated\":\"" + NOW + "\",\"idle_ms\":1000,"
                + "\"stop\":{\"reason\":\"manual\",\"at\":\"" + NOW + "\",\"exit_code\":0}}").getBytes(StandardCharsets.UTF_8));

        Run run = run("stop", "alpha");

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().startsWith("alpha (000000000001): stopping now (manual"), run.out());
    }

    @Test
    void aKilledStopClientWithoutTheAgentsRecordIsStillExit4() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(137, "", ""));
        docker.stateFiles.put(ws.id, ("{\"version\":1,\"state\":\"running\",\"updated\":\"" + NOW + "\",\"idle_ms\":1000,"
                + "\"stop\":null}").getBytes(StandardCharsets.UTF_8));

        Run run = run("stop", "alpha");

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("idlewatch: /opt/idlewatch/bin/idlewatch in alpha (000000000001) exited 137\n", run.err());
    }

    @Test
    void anExitedWorkspaceIsExit4WithoutAnExec() {
        workspace("gone-home", "exited");

        Run run = run("touch", "gone-home");

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("idlewatch: gone-home (000000000001) is exited, not running: there is no agent to ask\n", run.err());
        assertTrue(docker.calls.stream().noneMatch(c -> c.startsWith("exec")), docker.calls.toString());
    }

    @Test
    void anUnknownNameIsExit4SayingWhatWasLookedFor() {
        Run run = run("stop", "nobody");

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("idlewatch: no workspace named nobody: no container labelled io.idlewatch.managed=true has that"
                + " workspace name, container name, id or id prefix\n", run.err());
    }

    @Test
    void anUnmanagedContainerIsNeverActedOn_byNameIdOrIdPrefix() {
        FakeContainer other = docker.add("someones-db", "running", NOW.minusSeconds(60));
        other.labels.remove("io.idlewatch.managed");
        docker.execs.put(other.id, cmd -> answer(0, "idlewatch: stopping now (manual)\n", ""));

        for (String reference : List.of("someones-db", other.id, other.id.substring(0, 6), other.id.substring(0, 12))) {
            for (List<String> verb : List.of(List.of("stop", reference), List.of("touch", reference),
                    List.of("timeout", reference, "1h"))) {
                Run run = run(verb.toArray(String[]::new));

                assertEquals(4, run.exitCode(), verb + ": " + run);
                assertTrue(run.err().startsWith("idlewatch: no workspace named " + reference + ": "), run.err());
            }
        }
        assertTrue(docker.calls.stream().noneMatch(c -> c.startsWith("exec")), docker.calls.toString());
    }

    @Test
    void aManagedContainerIsFoundByExactNameFullIdOrUniqueIdPrefix_andAnAmbiguousPrefixIsExit4() {
        FakeContainer ws = workspace("alpha", "running");
        FakeContainer twin = workspace("beta", "running"); // ids 000000000001ff… and 000000000002ff…
        docker.execs.put(ws.id, cmd -> answer(0, "idlewatch: ok\n", ""));

        for (String reference : List.of("alpha-1", ws.id, "000000000001", "000000000001ff")) {
            Run run = run("touch", reference);
            assertEquals(0, run.exitCode(), reference + ": " + run);
            assertEquals("alpha (000000000001): ok\n", run.out(), reference);
        }
        Run ambiguous = run("touch", "00000000000");

        assertEquals(4, ambiguous.exitCode(), ambiguous.toString());
        assertEquals("idlewatch: container id prefix 00000000000 matches 2 workspaces (000000000001, 000000000002);"
                + " give more of the id\n", ambiguous.err());
        assertTrue(docker.calls.stream().noneMatch(c -> c.startsWith("exec " + twin.id)), docker.calls.toString());
    }

    @Test
    void twoRunningContainersOfOneWorkspaceAreAmbiguous() {
        workspace("twin", "running");
        workspace("twin", "running");

        Run run = run("touch", "twin");

        assertEquals(4, run.exitCode(), run.toString());
        assertEquals("idlewatch: workspace twin has 2 running containers (000000000001, 000000000002); name one by"
                + " container id\n", run.err());
    }

    @Test
    void theRunningOneOfAWorkspacesContainersIsPicked() {
        workspace("alpha", "exited");
        FakeContainer live = workspace("alpha", "running");
        docker.execs.put(live.id, cmd -> answer(0, "idlewatch: idle time reset to 0s (timeout 30m)\n", ""));

        Run run = run("touch", "alpha");

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals("alpha (000000000002): idle time reset to 0s (timeout 30m)\n", run.out());
    }

    @Test
    void whatTheContainerPrintsReachesTheTerminalAsOneCleanLine() {
        FakeContainer ws = workspace("alpha", "running");
        docker.execs.put(ws.id, cmd -> answer(0, "\u001b]0;pwned\u0007\u001b[2Jok\u0000 done\nsecond line\n", ""));

        Run run = run("touch", "alpha");

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(1, run.out().lines().count(), run.out());
        assertTrue(run.out().chars().noneMatch(c -> c < 0x20 && c != '\n'), run.out());
        assertTrue(run.out().startsWith("alpha (000000000001): "), run.out());
    }

    @Test
    void aMissingDurationIsAUsageErrorBeforeAnyEngineCall() {
        Run run = run("timeout", "alpha");

        assertEquals(2, run.exitCode(), run.toString());
        assertTrue(docker.calls.isEmpty(), docker.calls.toString());
    }

    @Test
    void exitCode4IsDocumentedInHelp() {
        Run run = run("--help");
        assertTrue(run.out().contains("4  timeout/touch/stop: no such workspace among managed containers,"), run.out());
        assertTrue(List.of("timeout", "touch", "stop").stream().allMatch(v -> run.out().contains("  " + v + " ")), run.out());
    }
}
