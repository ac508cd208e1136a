package io.idlewatch.images;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static io.idlewatch.images.Watched.POLL;
import static io.idlewatch.images.Watched.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docker pause} (the cgroup freezer) for longer than the idle timeout, then
 * {@code docker unpause}: whoever unpaused the workspace did so to use it, so it keeps running
 * (no stop within a poll interval of the unpause), then stops a whole timeout later when left
 * alone, and the record says how long it had been frozen.
 */
class FreezeIT {
    private static final Duration FROZEN = TIMEOUT.plusSeconds(10);

    @Test
    void unpauseCountsAsUse() {
        // no signal that could fire: only the unpause can keep it running
        try (Box box = Watched.idle(AGENT_TEST_IMAGE).env("IDLEWATCH_SIGNALS", "exec").cmd("sleep", "infinity")
                .start()) {
            Box.eventually(Duration.ofSeconds(20), "the agent writes its state",
                    () -> box.exec("cat", Watched.STATE_FILE).contains("\"state\":\"running\""));
            Watched.sleep(Duration.ofSeconds(5)); // idle for a while before the freeze
            Box.docker().pauseContainerCmd(box.id).exec();
            Watched.sleep(FROZEN);
            Box.docker().unpauseContainerCmd(box.id).exec();
            Instant unpaused = Instant.now();

            Watched.keepsRunningUntil(box, unpaused.plus(POLL).plusSeconds(10), "unpaused after " + FROZEN.toSeconds()
                    + "s frozen");
            // left alone: the resume was the last activity, at most a poll after the unpause
            Watched.stopsInWindow(box, unpaused, 0);
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(state.contains("\"last_activity_signal\":\"resume\""), state);
            long frozen = Long.parseLong(Watched.stopField(state, "frozen_ms"));
            assertTrue(frozen >= FROZEN.toMillis() - 3_000 && frozen <= FROZEN.toMillis() + 5_000,
                    "frozen_ms " + frozen + " for a " + FROZEN.toSeconds() + "s pause");
            assertTrue(box.logs().contains("idlewatch: resumed after "), box.logs());
        }
    }
}
