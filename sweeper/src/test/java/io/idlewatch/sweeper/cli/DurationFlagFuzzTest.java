package io.idlewatch.sweeper.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.testing.FakeDocker;
import io.idlewatch.sweeper.testing.Run;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any value of a duration flag through the whole CLI: it parses (exit 0), or it is a usage error
 * (exit 2) of exactly one stderr line that holds nothing a terminal acts on. Never exit 1 or 3,
 * never a stack trace.
 */
class DurationFlagFuzzTest {

    static final Instant NOW = Instant.parse("2026-11-22T07:00:00Z");

    static final CliContext CONTEXT = new CliContext(
            new HostEnvironment(Map.of(), Path.of("/nonexistent-home"), Path.of("/nonexistent-etc")),
            endpoint -> {
                FakeDocker docker = new FakeDocker();
                docker.add("ws", "exited", NOW).finished(NOW, 0);
                return docker;
            }, Clock.fixed(NOW, ZoneOffset.UTC), Sweeper.Hooks.NONE, Duration.ofMinutes(2));

    @FuzzTest(maxDuration = "15s")
    void olderThan(@NotNull String value) {
        Run run = Run.of(CONTEXT, "sweep", "--dry-run", "--older-than=" + value);

        assertTrue(run.exitCode() == 0 || run.exitCode() == 2, run::toString);
        if (run.exitCode() == 2) {
            assertEquals(1, run.err().lines().count(), run::toString);
            assertTrue(run.err().startsWith("idlewatch sweep: "), run::toString);
            assertFalse(run.err().contains("Exception"), run::toString);
            TerminalTextTest.assertInert(run.err().strip());
        } else {
            assertEquals("", run.err());
        }
    }
}
