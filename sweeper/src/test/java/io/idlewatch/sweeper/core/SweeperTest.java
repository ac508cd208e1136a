package io.idlewatch.sweeper.core;

import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.core.ContainerOutcome.Action;
import io.idlewatch.sweeper.core.ContainerOutcome.SkipReason;
import io.idlewatch.sweeper.docker.ContainerDetails;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerException;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.FakeDocker.FakeContainer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweeperTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");
    static final Instant HOUR_AGO = NOW.minus(Duration.ofHours(1));

    final FakeDocker docker = new FakeDocker();

    Sweeper sweeper(Optional<Duration> olderThan, Sweeper.Hooks hooks) {
        return sweeper(SweepPolicy.of(HostConfig.NONE, olderThan, Optional.empty()), hooks);
    }

    Sweeper sweeper(SweepPolicy policy, Sweeper.Hooks hooks) {
        return new Sweeper(docker, LabelSelector.managedAnd(List.of()), policy, 4, Clock.fixed(NOW, ZoneOffset.UTC), hooks);
    }

    SweepReport sweep() {
        return sweeper(Optional.empty(), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);
    }

    static ContainerOutcome outcome(SweepReport report, String name) {
        return report.outcomes().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void removesExitedCreatedAndDeadOnly_evenWhenTheEngineIgnoresTheStateFilter() {
        docker.add("exited", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("created", "created", HOUR_AGO);
        docker.add("dead", "dead", HOUR_AGO).finished(HOUR_AGO, 137);
        docker.add("running", "running", HOUR_AGO);
        docker.add("paused", "paused", HOUR_AGO);
        docker.add("restarting", "restarting", HOUR_AGO);
        docker.add("removing", "removing", HOUR_AGO);
        docker.ignoreLabelFilters = true;

        SweepReport report = sweep();

        assertEquals(List.of("created", "dead", "exited"), docker.removed.stream().sorted().toList());
        for (String name : List.of("running", "paused", "restarting")) {
            assertEquals(SkipReason.NOT_REMOVABLE, outcome(report, name).skipReason(), name);
            assertTrue(docker.exists(name), name);
        }
        // Someone else's removal under way: theirs to report, and not "running again".
        assertEquals(SkipReason.REMOVING, outcome(report, "removing").skipReason());
        assertEquals("being removed by someone else", outcome(report, "removing").detail());
    }

    @Test
    void aDeleteThatMeetsAnotherRemovalIsSkippedAsRemovedElsewhere_notRunningAgainNorRemovedTwice() {
        docker.add("raced", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("raced-late", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        // Docker's answers when a second DELETE meets the first one, or arrives just after it.
        docker.removeFailures.put(docker.byName("raced").id, new DockerException.Conflict("cannot remove container x:"
                + " removal of container x is already in progress", null));
        docker.removeFailures.put(docker.byName("raced-late").id, new DockerException.NotFound("No such container: x", null));

        SweepReport report = sweep();

        assertEquals(0, report.count(ContainerOutcome.Action.REMOVED));
        assertEquals(SkipReason.REMOVING, outcome(report, "raced").skipReason());
        assertEquals(SkipReason.GONE, outcome(report, "raced-late").skipReason());
        assertEquals("removed by someone else", outcome(report, "raced-late").detail());
        assertEquals("removed 0, skipped 2 (1 already gone, 1 removed elsewhere), failed 0, reclaimed 0B", report.summaryLine());
    }

    static String claimOf(FakeContainer c) {
        return "idlewatch-removing-" + c.id.substring(0, 12);
    }

    Sweeper sweeper(Duration claimStaleAfter, Sweeper.Hooks hooks) {
        return new Sweeper(docker, LabelSelector.managedAnd(List.of()), SweepPolicy.of(HostConfig.NONE, Optional.empty(),
                Optional.empty()), 4, Clock.fixed(NOW, ZoneOffset.UTC), hooks, claimStaleAfter);
    }

    @Test
    void onDockerTheSweepClaimsTheContainerBeforeRemovingIt() {
        FakeContainer c = docker.add("claimed", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweep();

        assertEquals(List.of("claimed"), docker.removed);
        assertEquals(Action.REMOVED, outcome(report, "claimed").action());
        List<String> acting = docker.calls.stream().filter(call -> !call.startsWith("inspect") && !call.equals("list")
                && !call.startsWith("stat ") && !call.startsWith("read ")).toList();
        // The claim addresses the container by the name just seen: a compare-and-set on either engine.
        assertEquals(List.of("rename claimed " + claimOf(c), "remove " + c.id), acting);
    }

    @Test
    void aRefusedClaimIsAnotherSweepsRemoval_skippedAsRemovedElsewhere_andNeverDeleted() {
        FakeContainer c = docker.add("contended", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Optional.empty(), new Sweeper.Hooks() {
            @Override
            public void beforeRemove(ContainerDetails inspected) {
                // Another sweep, which saw it at the same time, claims it first.
                docker.rename(c.id, claimOf(c));
            }
        }).sweep(false, o -> { }, () -> false);

        ContainerOutcome outcome = outcome(report, "contended");
        assertEquals(SkipReason.REMOVING, outcome.skipReason());
        assertEquals("claimed by another sweep", outcome.detail());
        assertTrue(docker.calls.stream().noneMatch(call -> call.startsWith("remove")), docker.calls.toString());
        assertEquals(claimOf(c), c.name, "the other sweep's claim stands");
    }

    @Test
    void aClaimThatEndsWhileWatchedWasAnotherSweepsRemoval() throws Exception {
        FakeContainer c = docker.add("claimed-elsewhere", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.rename(c.id, claimOf(c));
        Thread claimant = new Thread(() -> {
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                return;
            }
            docker.remove(c.id, false);
        });
        claimant.start();

        long start = System.nanoTime();
        SweepReport report = sweeper(Duration.ofMinutes(1), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);
        claimant.join();

        ContainerOutcome outcome = outcome(report, claimOf(c));
        assertEquals(SkipReason.REMOVING, outcome.skipReason());
        assertEquals("removed by another sweep", outcome.detail());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(10)) < 0, "a live claim is not waited out");
        assertEquals(1, docker.calls.stream().filter(call -> call.startsWith("remove")).count(), "only the claimant's DELETE");
    }

    @Test
    void aStaleClaimIsTakenOverUnderTheOtherClaimName_andRemovedOnce() {
        FakeContainer c = docker.add("left-by-a-killed-sweep", "exited", HOUR_AGO).finished(HOUR_AGO, 0).size(2000);
        docker.rename(c.id, claimOf(c));

        SweepReport report = sweeper(Duration.ofMillis(500), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        ContainerOutcome outcome = outcome(report, claimOf(c));
        assertEquals(Action.REMOVED, outcome.action(), outcome.toString());
        assertEquals(2000, outcome.reclaimedBytes());
        assertTrue(docker.calls.contains("rename " + claimOf(c) + " " + claimOf(c) + "-2"), docker.calls.toString());
        assertEquals(List.of("left-by-a-killed-sweep"), docker.removed);
    }

    @Test
    void aTakenOverClaimRestartsTheWatch_andAClaimGivenBackIsJudgedByItsState() {
        FakeContainer c = docker.add("given-back", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.rename(c.id, claimOf(c));
        Thread others = new Thread(() -> {
            try {
                Thread.sleep(300);
                docker.rename(c.id, claimOf(c) + "-2");   // a sweep takes the claim over...
                Thread.sleep(800);
                c.state = "running";                    // ...its DELETE is refused: started again...
                docker.rename(c.id, "given-back");       // ...and it gives the name back.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        others.start();

        // 1s would be stale by the first claim's clock; the take-over started a new watch.
        SweepReport report = sweeper(Duration.ofSeconds(1), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        ContainerOutcome outcome = outcome(report, claimOf(c));
        assertEquals(SkipReason.NOT_REMOVABLE, outcome.skipReason(), outcome.toString());
        assertEquals("now running", outcome.detail());
        assertTrue(docker.calls.stream().noneMatch(call -> call.startsWith("remove")), docker.calls.toString());
    }

    @Test
    void dockersLayerRaceIsRemovedOnTheSecondTry_anyOtherFailureIsNotRetried() {
        FakeContainer raced = docker.add("raced-layer", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailuresOnce.put(raced.id, new DockerException("cannot remove container x: container x: driver "
                + "\"overlay2\" failed to remove root filesystem: unlinkat /var/lib/docker/overlay2/y: directory not empty", null));
        FakeContainer other = docker.add("other-failure", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailuresOnce.put(other.id, new DockerException("cannot remove container z: some other trouble", null));

        SweepReport report = sweep();

        assertEquals(Action.REMOVED, outcome(report, "raced-layer").action());
        assertEquals(2, docker.calls.stream().filter(call -> call.equals("remove " + raced.id)).count(), docker.calls.toString());
        assertEquals(Action.FAILED, outcome(report, "other-failure").action());
        assertEquals(1, docker.calls.stream().filter(call -> call.equals("remove " + other.id)).count(), docker.calls.toString());
    }

    @Test
    void aFailedDeleteGivesTheNameBack() {
        FakeContainer broken = docker.add("broken", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailures.put(broken.id, new DockerException("driver failed to remove root filesystem", null));

        SweepReport report = sweep();

        assertEquals(Action.FAILED, outcome(report, "broken").action());
        assertEquals("broken", broken.name);
        assertTrue(docker.calls.contains("rename " + broken.id + " broken"), docker.calls.toString());
    }

    @Test
    void aGiveBackThatFailsSaysWhichNameTheContainerIsLeftWith() {
        FakeContainer stuck = docker.add("stuck", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        // The claim goes through; then the engine goes away, for the DELETE and for the rename back.
        docker.removeFailures.put(stuck.id, new DockerException("connection reset", null));
        docker.renameFailures.put("stuck", new DockerException("connection refused", null));

        SweepReport report = sweep();

        ContainerOutcome outcome = outcome(report, "stuck");
        assertEquals(Action.FAILED, outcome.action());
        assertEquals("connection reset; left named " + claimOf(stuck) + " (connection refused)", outcome.detail());
        assertEquals(claimOf(stuck), stuck.name);
    }

    @Test
    void aNameThatOnlyLooksLikeAClaimIsNotOne() {
        docker.add("idlewatch-removing-0123456789ab", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Duration.ofHours(1), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        assertEquals(1, report.count(Action.REMOVED), "removed at once, not watched for an hour");
    }

    @Test
    void onPodmanTheClaimIsARenameByTheNameSeen_soASecondClaimantFindsNothingByThatName() {
        // Podman accepts a rename to a container's own name, so a second claim by ID would succeed too.
        docker.podmanRenames = true;
        FakeContainer c = docker.add("podman-one", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Duration.ofHours(1), new Sweeper.Hooks() {
            @Override
            public void beforeRemove(ContainerDetails inspected) {
                // Another sweep's claim lands between our inspect and our claim.
                docker.rename(c.id, claimOf(c));
            }
        }).sweep(false, o -> { }, () -> false);

        assertEquals(0, report.count(Action.REMOVED), report.toString());
        assertEquals(SkipReason.REMOVING, outcome(report, "podman-one").skipReason());
        assertTrue(docker.calls.contains("rename podman-one " + claimOf(c)), docker.calls.toString());
        assertTrue(docker.removed.isEmpty(), "the other sweep removes it, not this one");
    }

    @Test
    void aNameThatCouldBeAnIdPrefixIsClaimedById() {
        FakeContainer c = docker.add("cafe01", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        assertEquals(1, sweep().count(Action.REMOVED));

        assertTrue(docker.calls.contains("rename " + c.id + " " + claimOf(c)), docker.calls.toString());
    }

    @Test
    void aDryRunNeitherClaimsNorWaitsOnAClaim() {
        FakeContainer c = docker.add("claimed", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.rename(c.id, claimOf(c));
        docker.add("free", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Duration.ofHours(1), Sweeper.Hooks.NONE).sweep(true, o -> { }, () -> false);

        assertEquals(SkipReason.REMOVING, outcome(report, claimOf(c)).skipReason());
        assertEquals(Action.REMOVED, outcome(report, "free").action());
        assertEquals(1, docker.calls.stream().filter(call -> call.startsWith("rename")).count(), "only the test's own");
    }

    @Test
    void aStopEndsTheWatchOfAClaim() {
        FakeContainer c = docker.add("claimed", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.rename(c.id, claimOf(c));
        AtomicBoolean stop = new AtomicBoolean();
        Sweeper.Hooks stopAfterRecheck = new Sweeper.Hooks() {
            @Override
            public void beforeRecheck(ContainerSummary listed) {
                new Thread(() -> {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException ignored) {
                    }
                    stop.set(true);
                }).start();
            }
        };

        SweepReport report = sweeper(Duration.ofHours(1), stopAfterRecheck).sweep(false, o -> { }, stop::get);

        assertEquals(SkipReason.STOPPING, outcome(report, claimOf(c)).skipReason());
        assertTrue(docker.exists(claimOf(c)));
    }

    @Test
    void deadContainerThatNeverFinishedAgesFromCreation() {
        docker.add("dead-old", "dead", HOUR_AGO);
        docker.add("dead-new", "dead", NOW.minusSeconds(30));

        SweepReport report = sweeper(Optional.of(Duration.ofMinutes(10)), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        assertEquals(List.of("dead-old"), docker.removed);
        assertEquals(SkipReason.TOO_YOUNG, outcome(report, "dead-new").skipReason());
    }

    @Test
    void labelsAreRecheckedOnOurSideWhenTheEngineIgnoresTheFilter() {
        docker.add("ours", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        FakeContainer stranger = docker.add("stranger", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        stranger.labels.remove("io.idlewatch.managed");
        FakeContainer other = docker.add("other-workspace", "exited", HOUR_AGO, "io.idlewatch.workspace=b").finished(HOUR_AGO, 0);
        docker.ignoreLabelFilters = true;

        Sweeper selective = new Sweeper(docker, LabelSelector.managedAnd(List.of("io.idlewatch.workspace=a")),
                SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()), 4,
                Clock.fixed(NOW, ZoneOffset.UTC), Sweeper.Hooks.NONE);
        SweepReport report = selective.sweep(false, o -> { }, () -> false);

        assertEquals(List.of(), docker.removed);
        assertEquals(3, report.skippedByReason().get(SkipReason.NOT_SELECTED));
        assertTrue(docker.calls.stream().noneMatch(c -> c.startsWith("inspect")), "a stranger is not even inspected");
        assertTrue(docker.exists(stranger.name) && docker.exists(other.name));
    }

    @Test
    void anEmptySelectorIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LabelSelector(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new LabelSelector(List.of("=x")));
    }

    @Test
    void keepLabelIsNeverRemoved() {
        docker.add("kept", "exited", HOUR_AGO, "io.idlewatch.keep=true").finished(HOUR_AGO, 0);
        docker.add("not-kept", "exited", HOUR_AGO, "io.idlewatch.keep=false").finished(HOUR_AGO, 0);

        SweepReport report = sweep();

        assertEquals(List.of("not-kept"), docker.removed);
        assertEquals(SkipReason.KEEP, outcome(report, "kept").skipReason());
    }

    @Test
    void theKeepLabelFailsSafe_anyValueButTheFewNosKeeps_andTheReportSaysWhichValueItRead() {
        Map<String, String> keeps = Map.of("one", "1", "yes", "yes", "upper", "TRUE", "typo", "ture", "spaced", "no thanks");
        keeps.forEach((name, value) -> docker.add(name, "exited", HOUR_AGO, "io.idlewatch.keep=" + value).finished(HOUR_AGO, 0));
        for (String value : List.of("false", "0", "NO", "Off", "")) {
            docker.add("off-" + value, "exited", HOUR_AGO, "io.idlewatch.keep=" + value).finished(HOUR_AGO, 0);
        }

        SweepReport report = sweep();

        assertEquals(List.of("off-", "off-0", "off-NO", "off-Off", "off-false"), docker.removed.stream().sorted().toList());
        keeps.forEach((name, value) -> assertEquals(SkipReason.KEEP, outcome(report, name).skipReason(), name));
        assertEquals("keep label (io.idlewatch.keep=ture)", outcome(report, "typo").detail());
        assertEquals("keep label (io.idlewatch.keep=\"no thanks\")", outcome(report, "spaced").detail());
    }

    /** A record as the agent writes it when it stops (or, {@code stop} null, while it runs). */
    static byte[] record(String state, String reason, Instant at) {
        String stop = reason == null ? "null"
                : "{\"reason\":\"" + reason + "\",\"at\":\"" + at + "\",\"exit_code\":0,\"detail\":\"x\",\"frozen_ms\":null}";
        return ("{\"version\":1,\"workspace\":null,\"state\":\"" + state + "\",\"updated\":\"" + at + "\",\"started\":\""
                + at.minusSeconds(3600) + "\",\"poll_interval_ms\":5000,\"idle_ms\":0,\"timeout_ms\":null,\"max_lifetime_ms\":null,"
                + "\"lifetime_left_ms\":null,\"last_activity\":null,\"last_activity_signal\":null,\"signals\":{},\"stop\":" + stop + "}\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    FakeContainer stopped(String name, Instant finished, int exitCode, byte[] stateFile) {
        FakeContainer c = docker.add(name, "exited", finished.minus(Duration.ofDays(3))).finished(finished, exitCode);
        if (stateFile != null) {
            docker.stateFiles.put(c.id, stateFile);
        }
        return c;
    }

    @Test
    void decidedStopsGoAtOnce_stopsNobodyDecidedStayForTheUnplannedAge() {
        for (String reason : List.of("idle", "lifetime", "manual", "workload-exit")) {
            stopped("planned-" + reason, HOUR_AGO, 0, record("stopped", reason, HOUR_AGO));
        }
        stopped("docker-stopped", HOUR_AGO, 143, record("stopped", "signal", HOUR_AGO));
        stopped("agent-killed", HOUR_AGO, 137, record("running", null, HOUR_AGO.minusSeconds(2)));
        stopped("killed-mid-stop", HOUR_AGO, 137, record("stopping", "signal", HOUR_AGO));
        stopped("agentless-killed", HOUR_AGO, 137, null);
        stopped("agentless-exited", HOUR_AGO, 3, null);
        stopped("unreadable", HOUR_AGO, 0, "{not json".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // A final record of an earlier run, left in the writable layer; this run was SIGKILLed before writing its own.
        FakeContainer restarted = stopped("earlier-runs-record", HOUR_AGO, 137, record("stopped", "idle", HOUR_AGO.minusSeconds(600)));

        SweepReport report = sweep();

        assertEquals(List.of("agentless-exited", "planned-idle", "planned-lifetime", "planned-manual", "planned-workload-exit"),
                docker.removed.stream().sorted().toList());
        for (String kept : List.of("docker-stopped", "agent-killed", "killed-mid-stop", "agentless-killed", "unreadable",
                "earlier-runs-record")) {
            ContainerOutcome o = outcome(report, kept);
            assertEquals(SkipReason.UNPLANNED, o.skipReason(), kept);
            assertEquals(Optional.of(HOUR_AGO.plus(Duration.ofHours(24))), o.eligibleAt(), kept);
            assertTrue(o.detail().contains("kept until 2026-11-23T06:00:00Z (1d)"), o.detail());
        }
        assertEquals("kept, unplanned stop: signal (stopped from outside: docker stop, engine shutdown or host reboot);"
                + " exited (143) 1h ago, kept until 2026-11-23T06:00:00Z (1d)", outcome(report, "docker-stopped").detail());
        assertTrue(outcome(report, "agentless-killed").detail().contains("no agent, killed by signal 9 (exit 137)"),
                outcome(report, "agentless-killed").detail());
        assertTrue(outcome(report, "earlier-runs-record").detail().contains("no final record for this run"),
                outcome(report, "earlier-runs-record").detail());
        assertTrue(docker.exists(restarted.name));
        assertEquals("6 unplanned stop", report.summaryLine().replaceAll(".*\\((.*)\\).*", "$1"));
    }

    @Test
    void aRecordTheEngineWouldNotReadBecauseAnotherRemovalHasTheContainerIsThatRemovalsToReport() {
        FakeContainer claimed = stopped("claimed-meanwhile", HOUR_AGO, 0, null);
        FakeContainer removing = stopped("removing-meanwhile", HOUR_AGO, 0, null);
        FakeContainer unreadable = stopped("just-unreadable", HOUR_AGO, 0, null);
        for (FakeContainer c : List.of(claimed, removing, unreadable)) {
            docker.readFailures.put(c.id, new DockerException("cannot read: container is marked for removal", null));
        }
        docker.onRead.put(claimed.id, () -> claimed.name = Sweeper.claimName(claimed.id, claimed.name));
        docker.onRead.put(removing.id, () -> removing.state = "removing");

        SweepReport report = sweep();

        assertEquals(List.of(), docker.removed);
        assertEquals(SkipReason.REMOVING, outcome(report, "claimed-meanwhile").skipReason());
        assertEquals(SkipReason.REMOVING, outcome(report, "removing-meanwhile").skipReason());
        // Nobody else has it: a record that cannot be read keeps the container, as a stop nobody decided.
        assertEquals(SkipReason.UNPLANNED, outcome(report, "just-unreadable").skipReason());
    }

    @Test
    void anUnplannedStopGoesOnceOlderThanTheUnplannedAge_fromFlagOrConfig_andNeverBeforeOlderThan() {
        Instant dayAndAHalfAgo = NOW.minus(Duration.ofHours(36));
        stopped("old-signal", dayAndAHalfAgo, 143, record("stopped", "signal", dayAndAHalfAgo));
        stopped("fresh-signal", NOW.minusSeconds(90), 143, record("stopped", "signal", NOW.minusSeconds(90)));

        SweepReport byDefault = sweep();
        assertEquals(List.of("old-signal"), docker.removed);
        assertTrue(outcome(byDefault, "old-signal").detail().startsWith("exited (143) 1d12h ago, unplanned stop: signal"),
                outcome(byDefault, "old-signal").detail());
        assertEquals(SkipReason.UNPLANNED, outcome(byDefault, "fresh-signal").skipReason());

        SweepPolicy longOlderThan = new SweepPolicy(HostConfig.NONE, Optional.of(Duration.ofMinutes(10)), Optional.empty(),
                SweepPolicy.CREATED_GRACE, Optional.of(Duration.ofMinutes(1)));
        SweepReport older = sweeper(longOlderThan, Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);
        assertEquals(SkipReason.UNPLANNED, outcome(older, "fresh-signal").skipReason(), "older_than 10m still applies");
        assertTrue(outcome(older, "fresh-signal").detail().endsWith("(10m)"), outcome(older, "fresh-signal").detail());

        HostConfig config = new HostConfig(Optional.empty(), HostConfig.Settings.UNSET,
                Map.of("fast", new HostConfig.Settings(Optional.empty(), Optional.empty(), Optional.of(Duration.ofMinutes(1)))),
                Optional.empty());
        docker.containers.get(docker.byName("fresh-signal").id).labels.put("io.idlewatch.workspace", "fast");
        sweeper(SweepPolicy.of(config, Optional.empty(), Optional.empty()), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);
        assertEquals(List.of("old-signal", "fresh-signal"), docker.removed);
    }

    @Test
    void ageCountsFromFinishNotCreation_andCreatedFromCreation() {
        Instant longAgo = NOW.minus(Duration.ofDays(2));
        docker.add("finished-long-ago", "exited", longAgo).finished(NOW.minus(Duration.ofMinutes(20)), 0);
        docker.add("finished-just-now", "exited", longAgo).finished(NOW.minus(Duration.ofMinutes(5)), 0);
        docker.add("created-long-ago", "created", NOW.minus(Duration.ofMinutes(15)));

        SweepReport report = sweeper(Optional.of(Duration.ofMinutes(10)), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        assertEquals(List.of("created-long-ago", "finished-long-ago"), docker.removed.stream().sorted().toList());
        ContainerOutcome young = outcome(report, "finished-just-now");
        assertEquals(SkipReason.TOO_YOUNG, young.skipReason());
        assertEquals("too young: exited (0) 5m ago, needs 10m", young.detail());
        assertEquals(Optional.of(NOW.plus(Duration.ofMinutes(5))), report.nextEligible());
    }

    @Test
    void aCreatedContainerYoungerThanTwoMinutesIsNeverRemoved_evenWithOlderThanZero() {
        docker.add("just-created", "created", NOW.minusSeconds(100));
        docker.add("created-a-while-ago", "created", NOW.minusSeconds(121));

        SweepReport report = sweeper(Optional.of(Duration.ZERO), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        assertEquals(List.of("created-a-while-ago"), docker.removed);
        assertEquals("too young: created 1m40s ago, needs 2m", outcome(report, "just-created").detail());
    }

    @Test
    void aContainerRestartedBetweenListAndRemoveSurvives() {
        FakeContainer restarted = docker.add("restarted", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("left-alone", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Optional.empty(), new Sweeper.Hooks() {
            @Override
            public void beforeRecheck(ContainerSummary listed) {
                if (listed.id().equals(restarted.id)) {
                    restarted.state = "running";
                }
            }
        }).sweep(false, o -> { }, () -> false);

        assertEquals(List.of("left-alone"), docker.removed);
        assertEquals(SkipReason.NOT_REMOVABLE, outcome(report, "restarted").skipReason());
        assertEquals("now running", outcome(report, "restarted").detail());
    }

    @Test
    void aContainerRestartedAfterTheRecheckIsRefusedByTheEngineAndSkippedAsConflict() {
        FakeContainer restarted = docker.add("restarted-late", "exited", HOUR_AGO).finished(HOUR_AGO, 0);

        SweepReport report = sweeper(Optional.empty(), new Sweeper.Hooks() {
            @Override
            public void beforeRemove(ContainerDetails inspected) {
                restarted.state = "running";
            }
        }).sweep(false, o -> { }, () -> false);

        assertTrue(docker.exists("restarted-late"));
        ContainerOutcome outcome = outcome(report, "restarted-late");
        assertEquals(SkipReason.CONFLICT, outcome.skipReason());
        assertTrue(outcome.detail().contains("You cannot remove a running container"), outcome.detail());
        assertFalse(report.anyFailed());
    }

    @Test
    void notFoundMeansAlreadyGone_atInspectOrAtRemove() {
        FakeContainer vanishing = docker.add("vanishing", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("removed-by-someone-else", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.removeFailures.put(docker.byName("removed-by-someone-else").id, new DockerException.NotFound("No such container", null));

        SweepReport report = sweeper(Optional.empty(), new Sweeper.Hooks() {
            @Override
            public void beforeRecheck(ContainerSummary listed) {
                if (listed.id().equals(vanishing.id)) {
                    docker.containers.remove(vanishing.id);
                }
            }
        }).sweep(false, o -> { }, () -> false);

        assertEquals(2, report.skippedByReason().get(SkipReason.GONE));
        assertFalse(report.anyFailed());
    }

    @Test
    void oneFailureDoesNotStopTheRest_andEverythingIsCounted() {
        for (int i = 0; i < 10; i++) {
            docker.add("ws-" + i, "exited", HOUR_AGO).finished(HOUR_AGO, 0).size(1000);
        }
        docker.add("kept", "exited", HOUR_AGO, "io.idlewatch.keep=true");
        docker.removeFailures.put(docker.byName("ws-3").id, new DockerException("driver failed to remove root filesystem", null));

        SweepReport report = sweep();

        assertEquals(9, docker.removed.size());
        assertEquals(1, report.count(Action.FAILED));
        assertEquals("driver failed to remove root filesystem", outcome(report, "ws-3").detail());
        assertEquals("removed 9, skipped 1 (1 keep label), failed 1, reclaimed 9kB", report.summaryLine());
        assertEquals(9000, report.reclaimedBytes());
    }

    @Test
    void removalsRunSeveralAtOnceButBounded() {
        for (int i = 0; i < 24; i++) {
            docker.add("ws-" + i, "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        }
        docker.removalMillis = 30;

        long start = System.nanoTime();
        sweep();
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertEquals(24, docker.removed.size());
        assertEquals(4, docker.maxRemovalsInFlight.get());
        assertTrue(millis < 24 * 30, "parallel: " + millis + "ms");
    }

    @Test
    void noRemovalStartsOnceStopIsRequested() {
        for (int i = 0; i < 12; i++) {
            docker.add("ws-" + i, "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<ContainerOutcome> seen = new ArrayList<>();

        SweepReport report = sweeper(Optional.empty(), Sweeper.Hooks.NONE).sweep(false, o -> {
            seen.add(o);
            stop.set(true);
        }, stop::get);

        assertTrue(docker.removed.size() >= 1 && docker.removed.size() <= 4, "removed " + docker.removed.size());
        assertEquals(12 - docker.removed.size(), report.skippedByReason().get(SkipReason.STOPPING));
        assertEquals(12, seen.size());
    }

    @Test
    void dryRunDecidesTheSameAndRemovesNothing() {
        docker.add("a", "exited", HOUR_AGO).finished(HOUR_AGO, 0).size(5);
        docker.add("b", "exited", HOUR_AGO, "io.idlewatch.keep=true");

        SweepReport report = sweeper(Optional.empty(), Sweeper.Hooks.NONE).sweep(true, o -> { }, () -> false);

        assertEquals(List.of(), docker.removed);
        assertTrue(docker.calls.stream().noneMatch(c -> c.startsWith("remove")));
        assertEquals("removed 1, skipped 1 (1 keep label), failed 0, reclaimed 5B", report.summaryLine());
    }

    @Test
    void volumesFollowFlagThenWorkspaceTableThenDefaults() {
        docker.add("plain", "exited", HOUR_AGO).finished(HOUR_AGO, 0);
        docker.add("eph", "exited", HOUR_AGO, "io.idlewatch.workspace=eph").finished(HOUR_AGO, 0);
        HostConfig config = new HostConfig(Optional.of(Path.of("x.toml")),
                new HostConfig.Settings(Optional.empty(), Optional.of(false)),
                Map.of("eph", new HostConfig.Settings(Optional.empty(), Optional.of(true))), Optional.empty());

        sweeper(SweepPolicy.of(config, Optional.empty(), Optional.empty()), Sweeper.Hooks.NONE).sweep(false, o -> { }, () -> false);

        List<String> order = List.copyOf(docker.removed);
        assertTrue(docker.removedWithVolumes.get(order.indexOf("eph")));
        assertFalse(docker.removedWithVolumes.get(order.indexOf("plain")));
    }

    @Test
    void workspaceOlderThanOverridesDefaults_andTheFlagOverridesBoth() {
        HostConfig config = new HostConfig(Optional.empty(),
                new HostConfig.Settings(Optional.of(Duration.ofMinutes(10)), Optional.empty()),
                Map.of("fast", new HostConfig.Settings(Optional.of(Duration.ZERO), Optional.empty())), Optional.empty());

        SweepPolicy fileOnly = SweepPolicy.of(config, Optional.empty(), Optional.empty());
        assertEquals(Duration.ZERO, fileOnly.forContainer(Map.of("io.idlewatch.workspace", "fast")).olderThan());
        assertEquals(Duration.ofMinutes(10), fileOnly.forContainer(Map.of("io.idlewatch.workspace", "slow")).olderThan());
        assertEquals(Duration.ofMinutes(10), fileOnly.forContainer(Map.of()).olderThan());

        SweepPolicy flag = SweepPolicy.of(config, Optional.of(Duration.ofHours(1)), Optional.of(true));
        assertEquals(new SweepPolicy.Effective(Duration.ofHours(1), true, SweepPolicy.DEFAULT_UNPLANNED_OLDER_THAN),
                flag.forContainer(Map.of("io.idlewatch.workspace", "fast")));
    }
}
