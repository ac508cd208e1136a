package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.AgentState;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerEndpoint;
import io.idlewatch.sweeper.docker.DockerException;
import io.idlewatch.sweeper.docker.DockerUnreachableException;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
        assertEquals("idlewatch: " + bad + ":2: defaults.older_than: \"5 minutes\": unexpected ' '; "
                + "use a duration like 30m, 1h30m or 90s\n", run("sweep", "--config", bad.toString()).err());
        assertEquals("idlewatch sweep: Invalid value for option '--older-than': \"10x\": unknown unit 'x'; "
                + "use a duration like 30m, 1h30m or 90s (see 'idlewatch sweep --help')\n", run("sweep", "--older-than", "10x").err());
    }

    static String finalRecord(String reason, Instant at) {
        return "{\"version\":1,\"state\":\"stopped\",\"updated\":\"" + at + "\",\"idle_ms\":0,"
                + "\"stop\":{\"reason\":\"" + reason + "\",\"at\":\"" + at + "\",\"exit_code\":0,\"detail\":\"the container got SIGTERM\"}}";
    }

    @Test
    void aStopNobodyDecidedIsKept_sweepAndPsSayUntilWhen_andTheFlagOrConfigKeyShortensIt() throws IOException {
        var stopped = docker.add("ws-stopped", "exited", HOUR_AGO, "io.idlewatch.workspace=stopped").finished(HOUR_AGO, 143);
        docker.stateFiles.put(stopped.id, utf8(finalRecord("signal", HOUR_AGO)));
        var idle = docker.add("ws-idle", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.stateFiles.put(idle.id, utf8(finalRecord("idle", HOUR_AGO)));

        Run sweep = run("sweep");

        assertEquals(0, sweep.exitCode(), sweep.toString());
        assertEquals(List.of("ws-idle"), docker.removed);
        // One line per container as each is done (in any order), then the summary.
        assertEquals(java.util.Set.of(
                "removed  000000000002  ws-idle  exited (0) 1h ago, 0B",
                "skipped  000000000001  ws-stopped  kept, unplanned stop: signal (stopped from outside: docker stop, engine"
                        + " shutdown or host reboot); exited (143) 1h ago, kept until 2026-11-23T06:00:00Z (1d)"),
                java.util.Set.copyOf(sweep.outLines().subList(0, 2)));
        assertEquals("removed 1, skipped 1 (1 unplanned stop), failed 0, reclaimed 0B", sweep.outLines().get(2));

        Run ps = run("ps", "--all");
        assertTrue(ps.outLines().get(1).matches("stopped +000000000001 +exited .* signal: the container got SIGTERM"
                + " +2026-11-23T06:00:00Z"), ps.out());
        JsonNode row = new ObjectMapper().readTree(run("ps", "--all", "--json").out()).get(0);
        assertFalse(row.path("planned_stop").asBoolean(true));
        assertEquals("2026-11-23T06:00:00Z", row.path("kept_until").asText());

        // The config key (per workspace, like older_than), then the flag over it.
        Path config = home.resolve("config.toml");
        Files.writeString(config, "[workspaces.stopped]\nunplanned_older_than = \"2h\"\n");
        Run ps2h = run("ps", "--all", "--config", config.toString());
        assertTrue(ps2h.outLines().get(1).endsWith("2026-11-22T08:00:00Z"), ps2h.out());
        run("sweep", "--config", config.toString());
        assertEquals(List.of("ws-idle"), docker.removed, "2h from its exit is not yet");
        Run flag = run("sweep", "--config", config.toString(), "--unplanned-older-than", "30m");
        assertEquals(List.of("ws-idle", "ws-stopped"), docker.removed, flag.toString());
        assertTrue(flag.out().startsWith("removed  000000000001  ws-stopped  exited (143) 1h ago, unplanned stop: signal"),
                flag.out());
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
        docker.stateFiles.put(crashed.id, "{\"state\":\"stopped\",\"stop\":{\"reason\":\"workload-exit\",\"at\":\"2026-11-22T06:00:00Z\",\"exit_code\":3}}"
                .getBytes(StandardCharsets.UTF_8));

        Run running = run("ps");
        Run all = run("ps", "--all");

        assertEquals(0, running.exitCode(), running.toString());
        assertEquals(List.of(
                "NAME       CONTAINER      STATE     IDLE                    LAST ACTIVITY    LIFETIME LEFT   STOPPED   KEPT UNTIL",
                "alpha      000000000001   running   idle: 23m / 30m         23m ago (http)   2h              -         -",
                "garbage    000000000003   running   state file unreadable   -                -               -         -",
                "no-agent   000000000002   running   -                       -                -               -         -"),
                running.outLines());
        List<String> lines = all.outLines();
        assertEquals(6, lines.size(), all.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("beta ") && l.contains("idle: 30m / off") && l.matches(".* idle +-")), all.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("crashed ") && l.matches(".* workload exit 3 +-")), all.out());
        assertTrue(docker.calls.stream().noneMatch(c -> c.contains("exec")), docker.calls.toString());
    }

    @Test
    void psJsonParses() throws IOException {
        var ws = docker.add("ws", "running", HOUR_AGO, "io.idlewatch.workspace=alpha");
        docker.stateFiles.put(ws.id, "{\"state\":\"running\",\"updated\":\"2026-11-22T06:59:59Z\",\"idle_ms\":5000,\"timeout_ms\":60000}"
                .getBytes(StandardCharsets.UTF_8));
        docker.add("bare", "running", HOUR_AGO);

        Run run = run("ps", "--json");

        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(2, json.size());
        assertEquals("alpha", json.get(0).path("name").asText());
        assertEquals(5000, json.get(0).path("idle_ms").asLong());
        assertEquals("live", json.get(0).path("record").asText());
        assertTrue(json.get(1).path("agent").isNull());
        assertEquals("none", json.get(1).path("record").asText());
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void psShowsIdleTimeOnlyFromALiveOrFinalRecord() throws IOException {
        var hung = docker.add("hung", "running", HOUR_AGO);
        docker.stateFiles.put(hung.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:57:00Z\",\"idle_ms\":60000,"
                + "\"timeout_ms\":1800000,\"lifetime_left_ms\":3600000}"));
        var slow = docker.add("slow-poll", "running", HOUR_AGO);
        docker.stateFiles.put(slow.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:58:00Z\",\"poll_interval_ms\":60000,"
                + "\"idle_ms\":60000,\"timeout_ms\":1800000}"));
        var paused = docker.add("paused", "paused", HOUR_AGO);
        docker.stateFiles.put(paused.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:55:00Z\",\"idle_ms\":1000}"));
        var killed = docker.add("killed", "exited", HOUR_AGO).finished(HOUR_AGO, 137);
        docker.stateFiles.put(killed.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:00:00Z\",\"idle_ms\":1500000,"
                + "\"timeout_ms\":1800000,\"last_activity\":\"2026-11-22T05:35:00Z\",\"last_activity_signal\":\"tty\"}"));
        docker.add("bare", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        var thawed = docker.add("thawed", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.stateFiles.put(thawed.id, utf8("{\"state\":\"stopped\",\"idle_ms\":1800000,\"timeout_ms\":1800000,"
                + "\"stop\":{\"reason\":\"idle\",\"at\":\"2026-11-22T06:00:00Z\",\"exit_code\":0,\"frozen_ms\":312345}}"));
        docker.add("never", "created", HOUR_AGO);
        var huge = docker.add("huge", "running", HOUR_AGO);
        docker.stateFiles.put(huge.id, new byte[AgentState.MAX_FILE_BYTES + 1]);
        var gone = docker.add("gone", "exited", HOUR_AGO).finished(HOUR_AGO, 1);
        docker.inspectFailures.put(gone.id, new DockerException.NotFound("No such container", null));

        Run run = run("ps", "--all");

        assertEquals(0, run.exitCode(), run.toString());
        assertEquals(EXPECTED_PS, normalise(run.outLines()), run.out());

        JsonNode json = new ObjectMapper().readTree(run("ps", "--all", "--json").out());
        Map<String, JsonNode> byName = new java.util.HashMap<>();
        json.forEach(row -> byName.put(row.path("name").asText(), row));
        assertEquals("none", byName.get("bare").path("record").asText());
        assertEquals(0, byName.get("bare").path("exit_code").asInt());
        assertEquals("too-large", byName.get("huge").path("record").asText());
        assertEquals("stale", byName.get("hung").path("record").asText());
        assertTrue(byName.get("hung").path("idle_ms").isNull(), "no idle time from a stale record");
        assertTrue(byName.get("hung").path("lifetime_left_ms").isNull());
        assertEquals("2026-11-22T06:57:00Z", byName.get("hung").path("updated").asText());
        assertEquals("stale", byName.get("killed").path("record").asText());
        assertEquals(137, byName.get("killed").path("exit_code").asInt());
        assertEquals("live", byName.get("slow-poll").path("record").asText());
        assertEquals("final", byName.get("thawed").path("record").asText());
        assertEquals(312345, byName.get("thawed").path("stop_frozen_ms").asLong());
        assertTrue(byName.get("hung").path("exit_code").isNull(), "running: no exit code");
    }

    /**
     * A sensor degraded without a break for longer than the idle timeout keeps the workspace up
     * for good (a broken sensor counts as activity): ps says so, so an operator can see it.
     */
    @Test
    void psSaysWhenASensorHasBeenDegradedLongerThanTheTimeout() throws IOException {
        var wedged = docker.add("wedged", "running", HOUR_AGO);
        docker.stateFiles.put(wedged.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T07:00:00Z\","
                + "\"poll_interval_ms\":5000,\"idle_ms\":0,\"timeout_ms\":1800000,\"signals\":{"
                + "\"http\":{\"enabled\":true,\"degraded\":true,\"degraded_since\":\"2026-11-22T06:55:00Z\"},"
                + "\"opencode\":{\"enabled\":true,\"degraded\":true,\"degraded_since\":\"2026-11-22T06:18:00Z\","
                + "\"detail\":\"degraded: opencode on port 4096: no complete answer within 500 ms\"}}}"));

        Run run = run("ps");

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(normalise(run.outLines()).contains(
                "wedged | 000000000001 | running | idle: 0s / 30m, opencode degraded 42m | - | - | - | -"), run.out());
        JsonNode json = new ObjectMapper().readTree(run("ps", "--json").out());
        assertEquals("[\"opencode\"]", json.get(0).path("degraded_past_timeout").toString(), json.toString());
    }

    /** The workspace's init wrote the record itself: its agent is down, and ps says so instead of "stale". */
    @Test
    void psSaysWhenTheInitReportsTheAgentDown() {
        var down = docker.add("down", "running", HOUR_AGO);
        docker.stateFiles.put(down.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:57:00Z\",\"idle_ms\":0,"
                + "\"agent\":\"down: killed by SIGKILL; failed 10 times in 120s, not restarted for 600s\\u001b[2J\"}"));
        var up = docker.add("up", "running", HOUR_AGO);
        docker.stateFiles.put(up.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:57:00Z\",\"idle_ms\":0,"
                + "\"agent\":\"restarted 2 times, last at 2026-11-22T06:50:00Z\"}"));

        Run run = run("ps");

        assertEquals(0, run.exitCode(), run.toString());
        List<String> lines = normalise(run.outLines());
        assertTrue(lines.get(1).startsWith("down | 000000000001 | running | agent down (updated 3m ago): killed by SIGKILL;"
                + " failed 10 times"), run.out());
        assertFalse(run.out().contains("\u001b"), run.out());
        assertEquals("up | 000000000002 | running | stale (updated 3m ago) | - | - | - | -", lines.get(2), run.out());
    }

    static final List<String> EXPECTED_PS = List.of(
            "NAME | CONTAINER | STATE | IDLE | LAST ACTIVITY | LIFETIME LEFT | STOPPED | KEPT UNTIL",
            "bare | 000000000005 | exited | - | - | - | no final record (exit 0) | -",
            "gone | 000000000009 | exited | - | - | - | no final record (exit code unknown) | -",
            "huge | 000000000008 | running | state file too large | - | - | - | -",
            "hung | 000000000001 | running | stale (updated 3m ago) | - | - | - | -",
            // Killed with no final record: sweep keeps it for the unplanned age (24h) from its exit.
            "killed | 000000000004 | exited | - | 1h25m ago (tty) | - | no final record (agent killed, exit 137) | 2026-11-23T06:00:00Z",
            "never | 000000000007 | created | - | - | - | never started | -",
            "paused | 000000000003 | paused | paused (updated 5m ago) | - | - | - | -",
            "slow-poll | 000000000002 | running | idle: 1m / 30m | - | - | - | -",
            "thawed | 000000000006 | exited | idle: 30m / 30m | - | - | idle (after frozen 5m12s) | -");

    /** Columns separated by two or more spaces: the assertion is about content, not alignment. */
    static List<String> normalise(List<String> lines) {
        return lines.stream().map(l -> l.replaceAll(" {2,}", " | ")).toList();
    }

    static final String OSC52 = "\u001b]52;c;Y3VybCBodHRwOi8vZXZpbCB8IHNo\u0007";

    @Test
    void psPrintsNothingATerminalWouldObey_andJsonStaysExactAndValid() throws IOException {
        // What a hostile workspace can write: escapes as JSON escapes, C1 and bidi characters raw.
        String json = "{\"state\":\"stopped\",\"workspace\":\"" + "\\u001b]52;c;Y3VybA==\\u0007ws" + "\","
                + "\"last_activity\":\"2026-11-22T06:00:00Z\",\"last_activity_signal\":\"\u009b31mhttp\u202Egnp.exe\","
                + "\"idle_ms\":1,\"stop\":{\"reason\":\"\\u001b[2Jsignal\",\"detail\":\"\\u001b[1A\\u001b[2K\u009d0;x\u009cok\\n\\u0007\"}}";
        var hostile = docker.add("ws\u001b[31m-red\u202E", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.stateFiles.put(hostile.id, utf8(json));
        var labelled = docker.add("plain", "running", HOUR_AGO, "io.idlewatch.workspace=" + OSC52 + "\u2066evil\u2069");
        docker.stateFiles.put(labelled.id, utf8("{\"state\":\"running\",\"updated\":\"2026-11-22T06:59:59Z\","
                + "\"last_activity\":\"2026-11-22T06:59:00Z\",\"last_activity_signal\":\"\\u001b]0;title\\u0007http\"}"));

        Run table = run("ps", "--all");
        Run jsonRun = run("ps", "--all", "--json");

        assertEquals(0, table.exitCode(), table.toString());
        assertNoTerminalControls(table.out());
        assertTrue(table.outLines().get(1).startsWith("ws "), table.out());
        assertTrue(table.outLines().get(1).endsWith("signal: ok ?   2026-11-23T06:00:00Z"), table.out());
        assertTrue(table.out().contains("(http?gnp.exe)"), table.out());
        assertNoTerminalControls(jsonRun.out());
        JsonNode rows = new ObjectMapper().readTree(jsonRun.out());
        assertEquals("\u001b]52;c;Y3VybA==\u0007ws", rows.get(0).path("agent").path("workspace").asText(), "exact data in JSON");
        assertEquals("ws\u001b[31m-red\u202E", rows.get(0).path("container").asText());
        assertEquals(OSC52 + "\u2066evil\u2069", rows.get(1).path("name").asText());
        assertTrue(jsonRun.out().chars().allMatch(c -> c >= 0x20 && c < 0x7F || c == '\n'), "pure ASCII");
    }

    @Test
    void sweepLinesAndErrorsPrintNothingATerminalWouldObey() throws IOException {
        var a = docker.add("ws\u001b]52;c;AAAA\u0007\u009b2J", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("ws-b\u202E", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailures.put(a.id, new DockerException("engine says: \u001b[2J\ncontainer busy", null));

        Run run = run("sweep");
        Run json = run("sweep", "--json", "--dry-run");

        assertEquals(1, run.exitCode(), run.toString());
        assertNoTerminalControls(run.out());
        assertTrue(run.out().contains("engine says:  container busy"), run.out());
        assertEquals(3, run.outLines().size(), "one line per container, whatever the names hold");
        assertNoTerminalControls(json.out());
        new ObjectMapper().readTree(json.out());

        Run bad = run("sweep", "--label", "=\u001b]52;c;AAAA\u0007", "--older-than", "1\u001b[2J");
        assertEquals(2, bad.exitCode());
        assertNoTerminalControls(bad.err());
        assertEquals(1, bad.err().lines().count(), bad.err());
    }

    static void assertNoTerminalControls(String output) {
        output.codePoints().forEach(cp -> {
            assertFalse(cp == 0x1B || cp == 0x07 || cp >= 0x80 && cp <= 0x9F, "control U+" + Integer.toHexString(cp) + " in\n" + output);
            assertFalse(cp >= 0x202A && cp <= 0x202E || cp >= 0x2066 && cp <= 0x2069, "bidi control in\n" + output);
        });
        for (byte b : output.getBytes(StandardCharsets.UTF_8)) {
            assertFalse(b == 0x1B || b == 0x07 || b == (byte) 0x9B, "byte " + b);
        }
    }

    @Test
    void overflowingDurationFlagsExitTwoNamingTheFlag() {
        for (String[] args : List.of(
                new String[] {"sweep", "--older-than", "999999999999999d"},
                new String[] {"sweep", "--older-than", "3651d"},
                new String[] {"sweep", "--older-than", "99999999999999999"},
                new String[] {"sweep", "--older-than=9223372036854775807ms"},
                new String[] {"watch", "--interval", "3651d"},
                new String[] {"watch", "--grace", "87601h"},
                new String[] {"watch", "--interval", "1d".repeat(4000)})) {
            Run run = run(args);
            String flag = args[1].startsWith("--older-than") ? "--older-than" : args[1];
            assertEquals(2, run.exitCode(), String.join(" ", args) + "\n" + run);
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().contains("Invalid value for option '" + flag + "'") && run.err().contains("too large: at most 3650d"),
                    run.err());
            assertFalse(run.err().contains("Exception"), run.err());
            assertTrue(run.err().length() < 1200, "bounded");
        }
        assertTrue(connectedTo.isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"90s,1m30s", "30m,30m", "1h30m,1h30m", "500ms,500ms", "45,45s", "2d,2d", "' 10m ',10m", "3650d,3650d"})
    void durationFlagsUseTheSharedSyntax(String flag, String shown) {
        docker.add("ws-a", "exited", NOW).finished(NOW, 0);

        Run run = run("sweep", "--dry-run", "--older-than", flag);

        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(run.out().contains("needs " + shown), run.out());
    }
}
