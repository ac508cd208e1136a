package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

import static io.idlewatch.images.Box.eventually;
import static io.idlewatch.images.Watched.POLL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A busy state that sticks stops counting after IDLEWATCH_OPENCODE_STALL; one that makes
 * progress by opencode's own API (the real opencode 1.18.34 running a command that prints) keeps
 * counting however long it lasts.
 */
@Execution(ExecutionMode.CONCURRENT)
class OpencodeStallIT {
    private static final Duration STALL = Duration.ofSeconds(30);


    /** A fake opencode: /session/status says busy for ever, and nothing else ever changes. */
    @Test
    void aSessionBusyForEverWithNoProgressStopsAfterTheStall() {
        try (Box box = Watched.idle(Box.SOCAT_IMAGE)
                .env("IDLEWATCH_SIGNALS", "opencode")
                .env("IDLEWATCH_OPENCODE_STALL", STALL.toSeconds() + "s")
                .cmd("serve", "opencode-busy")
                .start()) {
            Instant started = Watched.startedAt(box);
            eventually(Duration.ofSeconds(20), "the opencode signal sees the busy session", () -> busySeen(box));
            // it counts while within the stall: not stopped a timeout after the start
            Watched.keepsRunningUntil(box, started.plus(STALL), "a busy session within the stall time");
            eventually(Duration.ofSeconds(15), "status says the busy state stopped counting",
                    () -> box.exec("/opt/idlewatch/bin/idlewatch", "status").contains("busy but unchanged for"));
            // its last firing was the last poll before the stall ran out, at least the start + stall - poll
            Watched.stopsInWindow(box, started.plus(STALL).minus(POLL), 0);
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(Watched.signal(state, "opencode").contains("busy but unchanged for"), state);
        }
    }

    /**
     * The real opencode with a command that prints for longer than the stall and the timeout
     * together: its latest message changes, so the busy session counts all along.
     */
    @Test
    void aRealSessionMakingProgressIsNeverStopped() throws Exception {
        Duration stall = Duration.ofSeconds(15);
        Duration busy = Duration.ofSeconds(60);
        try (Box box = Watched.idle(Box.WORKSPACE_IMAGE)
                .env("IDLEWATCH_SIGNALS", "opencode")
                .env("IDLEWATCH_OPENCODE_STALL", stall.toSeconds() + "s")
                .publish(4096).start()) {
            OpencodeApi opencode = new OpencodeApi(box);
            opencode.awaitHealthy(OpencodeIT.OPENCODE_START);
            String session = opencode.newSession();
            StringBuilder ticks = new StringBuilder();
            for (long i = 1; i <= busy.toSeconds() / 3; i++) {
                ticks.append(' ').append(i);
            }
            // a tick every 3 s (opencode's shell wrapper does not take $(...) here)
            String command = "for i in" + ticks + "; do echo tick $i; sleep 3; done";
            CompletableFuture<HttpResponse<String>> shell = opencode.shell(session, command, busy.plusSeconds(60));
            Instant busySince = Instant.now();
            // only the opencode signal counts here, and opencode's start-up took part of the timeout:
            // a touch gives the signal a whole timeout to see the session (a port probed while opencode
            // was starting is re-checked every 10 s)
            box.exec("/opt/idlewatch/bin/idlewatch", "touch", "--reason", "test: session started");
            eventually(Duration.ofSeconds(18), "the opencode signal sees the busy session", () -> busySeen(box));
            Watched.keepsRunningUntil(box, busySince.plus(busy).minusSeconds(2), "a busy session that prints");
            assertEquals(200, shell.get().statusCode(), "the command finished");
            Instant ended = Instant.now();
            Watched.stopsInWindow(box, ended.minus(POLL), 0);
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(!box.logs().contains("busy but unchanged"), box.logs());
        }
    }

    /** The state file (once there is one) says the opencode signal last fired for a busy session. */
    private static boolean busySeen(Box box) {
        String state = box.exec("cat", Watched.STATE_FILE);
        return state.contains("\"last_fired_detail\":\"opencode 1 busy session\"");
    }
}
