package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerEndpoint;
import io.idlewatch.sweeper.docker.DockerException;
import io.idlewatch.sweeper.docker.DockerUnreachableException;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole CLI in-process, with a fake engine: exit codes, messages, output formats. */
class CliTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");
    static final Instant HOUR_AGO = NOW.minus(Duration.ofHours(1));

    @TempDir
    Path home;

    final FakeDocker docker = new FakeDocker();
    final List<DockerEndpoint> connectedTo = new ArrayList<>();

    CliContext context(Map<String, String> variables) {
        return new CliContext(new HostEnvironment(variables, home, home.resolve("etc")), endpoint -> {
            connectedTo.add(endpoint);
            docker.version();
            return docker;
        }, Clock.fixed(NOW, ZoneOffset.UTC), Sweeper.Hooks.NONE, Duration.ofMinutes(2));
    }

    Run run(String... args) {
        return Run.of(context(Map.of()), args);
    }

    @Test
    void sweepPrintsOneLinePerContainerAndASummary() {
        docker.add("ws-a", "exited", HOUR_AGO).finished(HOUR_AGO, 0).size(4100);
        docker.add("ws-b", "exited", HOUR_AGO, "io.idlewatch.keep=true").finished(HOUR_AGO, 0);

        Run run = run("sweep");

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(List.of(
                "removed  000000000001  ws-a  exited (0) 1h ago, 4.1kB",
                "skipped  000000000002  ws-b  keep label (io.idlewatch.keep=true)"),
                run.outLines().subList(0, 2).stream().sorted().toList(), "lines come in the order containers finish");
        assertEquals("removed 1, skipped 1 (1 keep label), failed 0, reclaimed 4.1kB", run.outLines().get(2));
        assertEquals("", run.err());
    }

    @Test
    void dryRunPrintsTheSameLinesAndRemovesNothing() {
        docker.add("ws-a", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("ws-b", "created", HOUR_AGO);
        docker.add("ws-c", "created", NOW.minusSeconds(5));

        Run dry = run("sweep", "--dry-run");
        assertEquals(3, docker.containers.size());
        Run real = run("sweep");

        assertEquals(0, dry.exitCode());
        assertTrue(dry.outLines().stream().allMatch(line -> line.endsWith(" (dry run)")), dry.out());
        assertEquals(real.outLines().stream().sorted().toList(),
                dry.outLines().stream().map(line -> line.replace(" (dry run)", "")).sorted().toList());
        assertEquals(1, docker.containers.size());
    }

    @Test
    void jsonParsesAndCountsEverything() throws IOException {
        docker.add("ws-a", "exited", HOUR_AGO).finished(HOUR_AGO, 0).size(10);
        docker.add("ws-b", "created", NOW.minusSeconds(5));
        docker.add("ws-c", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailures.put(docker.byName("ws-c").id, new DockerException("boom", null));

        Run run = run("sweep", "--json");

        assertEquals(1, run.exitCode());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(3, json.path("containers").size());
        assertEquals(1, json.path("summary").path("removed").asInt());
        assertEquals(1, json.path("summary").path("skipped_by_reason").path("too-young").asInt());
        assertEquals(1, json.path("summary").path("failed").asInt());
        assertEquals(10, json.path("summary").path("reclaimed_bytes").asLong());
        assertEquals("too-young", json.path("containers").get(1).path("reason").asText());
    }

    @Test
    void someRemovalsFailedExitsOne() {
        docker.add("ws-a", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("ws-b", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailures.put(docker.byName("ws-a").id, new DockerException("device busy", null));

        Run run = run("sweep");

        assertEquals(1, run.exitCode());
        assertTrue(run.out().contains("failed   000000000001  ws-a  device busy"), run.out());
        assertFalse(docker.exists("ws-b"));
    }

    @Test
    void nothingToDoExitsZero() {
        Run run = run("sweep");
        assertEquals(0, run.exitCode());
        assertEquals("removed 0, skipped 0, failed 0, reclaimed 0B\n", run.out());
    }

    @Test
    void labelsAreAndedWithTheDefaultSelector() {
        docker.add("ws-a", "exited", HOUR_AGO, "team=x").finished(HOUR_AGO, 0);
        docker.add("ws-b", "exited", HOUR_AGO, "team=y").finished(HOUR_AGO, 0);

        assertEquals(0, run("sweep", "--label", "team=x", "--label", "team").exitCode());

        assertEquals(List.of("ws-a"), docker.removed);
    }

    @Test
    void unreachableDockerExitsThreeNamingTheEndpointAndItsSource() {
        docker.unreachable = new DockerUnreachableException("cannot reach Docker at tcp://x:1 (from DOCKER_HOST): Connection refused", null);

        Run run = Run.of(context(Map.of("DOCKER_HOST", "tcp://x:1")), "sweep");

        assertEquals(3, run.exitCode());
        assertEquals("idlewatch: cannot reach Docker at tcp://x:1 (from DOCKER_HOST): Connection refused\n", run.err());
        assertEquals("tcp://x:1 (from DOCKER_HOST)", connectedTo.get(0).toString());
    }

    @Test
    void aBrokenContextExitsThree() throws IOException {
        Files.createDirectories(home.resolve(".docker"));
        Files.writeString(home.resolve(".docker/config.json"), "{\"currentContext\":\"lost\"}");

        Run run = run("ps");

        assertEquals(3, run.exitCode());
        assertTrue(run.err().startsWith("idlewatch: docker context \"lost\""), run.err());
        assertEquals(1, run.err().lines().count());
    }

    @Test
    void usageAndConfigErrorsExitTwoWithOneLine() throws IOException {
        Path bad = home.resolve("bad.toml");
        Files.writeString(bad, "[defaults]\nolder_than = \"5 minutes\"\n");
        for (String[] args : List.of(
                new String[] {"sweep", "--older-than", "-1m"},
                new String[] {"sweep", "--older-than", "10x"},
                new String[] {"watch", "--interval", "0"},
                new String[] {"sweep", "--label", "=x"},
                new String[] {"sweep", "--nope"},
                new String[] {"sweep", "--parallel", "0"},
                new String[] {"sweep", "--config", home.resolve("missing.toml").toString()},
                new String[] {"sweep", "--config", bad.toString()},
                new String[] {})) {
            Run run = run(args);
            assertEquals(2, run.exitCode(), String.join(" ", args) + "\n" + run);
            assertEquals(1, run.err().lines().count(), run.err());
            assertFalse(run.err().contains("Exception"), run.err());
        }
        assertTrue(connectedTo.isEmpty(), "no Docker call before the arguments are good");
        assertEquals("idlewatch: " + bad + ":2: defaults.older_than: \"5 minutes\" is not a duration (cannot read \"5 minutes\"); "
                + "use e.g. \"10m\", \"1h30m\", \"90s\" or \"500ms\"\n", run("sweep", "--config", bad.toString()).err());
        String flag = run("sweep", "--older-than", "10x").err();
        assertTrue(flag.contains("--older-than") && flag.contains("\"10x\"") && flag.contains("\"10m\""), flag);
    }

    @Test
    void configFromXdgAppliesAndFlagsOverrideIt() throws IOException {
        Path xdg = home.resolve("xdg/idlewatch/config.toml");
        Files.createDirectories(xdg.getParent());
        Files.writeString(xdg, "[defaults]\nolder_than = \"2h\"\n[workspaces.fast]\nolder_than = \"0s\"\n");
        docker.add("slow", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("fast", "exited", HOUR_AGO, "io.idlewatch.workspace=fast").finished(HOUR_AGO, 0);
        CliContext context = context(Map.of("XDG_CONFIG_HOME", home.resolve("xdg").toString()));

        Run run = Run.of(context, "sweep");
        assertEquals(List.of("fast"), docker.removed, run.toString());

        Run.of(context, "sweep", "--older-than", "30m");
        assertEquals(List.of("fast", "slow"), docker.removed);
    }

    @Test
    void psShowsIdleStateWithoutExec_andUnknownWhereThereIsNoStateFile() {
        var ws = docker.add("ws-a-1", "running", HOUR_AGO, "io.idlewatch.workspace=alpha");
        docker.stateFiles.put(ws.id, ("{\"version\":1,\"workspace\":\"alpha\",\"state\":\"running\","
                + "\"updated\":\"2026-11-22T06:59:58Z\",\"idle_ms\":1380000,\"timeout_ms\":1800000,"
                + "\"lifetime_left_ms\":7200000,\"last_activity\":\"2026-11-22T06:37:00Z\",\"last_activity_signal\":\"http\","
                + "\"future_field\":{\"x\":1}}").getBytes(StandardCharsets.UTF_8));
        docker.add("no-agent", "running", HOUR_AGO);
        var garbage = docker.add("garbage", "running", HOUR_AGO);
        docker.stateFiles.put(garbage.id, "not json".getBytes(StandardCharsets.UTF_8));
        var stopped = docker.add("stopped", "exited", HOUR_AGO, "io.idlewatch.workspace=beta").finished(HOUR_AGO, 0);
        docker.stateFiles.put(stopped.id, ("{\"state\":\"stopped\",\"idle_ms\":1800000,\"timeout_ms\":null,"
                + "\"stop\":{\"reason\":\"idle\",\"at\":\"2026-11-22T06:00:00Z\",\"exit_code\":0}}").getBytes(StandardCharsets.UTF_8));
        var crashed = docker.add("crashed", "exited", HOUR_AGO).finished(HOUR_AGO, 3);
        docker.stateFiles.put(crashed.id, "{\"stop\":{\"reason\":\"workload-exit\",\"exit_code\":3}}".getBytes(StandardCharsets.UTF_8));

        Run running = run("ps");
        Run all = run("ps", "--all");

        assertEquals(0, running.exitCode(), running.toString());
        assertEquals(List.of(
                "NAME       CONTAINER      STATE     IDLE              LAST ACTIVITY    LIFETIME LEFT   STOPPED",
                "alpha      000000000001   running   idle: 23m / 30m   23m ago (http)   2h              -",
                "garbage    000000000003   running   -                 -                -               -",
                "no-agent   000000000002   running   -                 -                -               -"),
                running.outLines());
        List<String> lines = all.outLines();
        assertEquals(6, lines.size(), all.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("beta ") && l.contains("idle: 30m / off") && l.endsWith("idle")), all.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("crashed ") && l.endsWith("workload exit 3")), all.out());
        assertTrue(docker.calls.stream().noneMatch(c -> c.contains("exec")), docker.calls.toString());
    }

    @Test
    void psJsonParses() throws IOException {
        var ws = docker.add("ws", "running", HOUR_AGO, "io.idlewatch.workspace=alpha");
        docker.stateFiles.put(ws.id, "{\"idle_ms\":5000,\"timeout_ms\":60000}".getBytes(StandardCharsets.UTF_8));
        docker.add("bare", "running", HOUR_AGO);

        Run run = run("ps", "--json");

        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(2, json.size());
        assertEquals("alpha", json.get(0).path("name").asText());
        assertEquals(5000, json.get(0).path("idle_ms").asLong());
        assertTrue(json.get(1).path("agent").isNull());
    }
}
