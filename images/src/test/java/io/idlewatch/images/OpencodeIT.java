package io.idlewatch.images;

import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.model.ContainerConfig;
import com.github.dockerjava.api.model.ExposedPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.idlewatch.images.Box.eventually;
import static io.idlewatch.images.Watched.POLL;
import static io.idlewatch.images.Watched.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example workspace image with the real opencode server (from npm) as the
 * workload: a busy session keeps it running, an idle server stops.
 */
@Execution(ExecutionMode.CONCURRENT)
class OpencodeIT {
    static final String WORKSPACE_IMAGE = Box.WORKSPACE_IMAGE;
    /**
     * How long opencode may take to answer after its container starts: about 8 s on an idle host,
     * several times that on a loaded one (its first start also creates its database).
     */
    static final Duration OPENCODE_START = Duration.ofSeconds(120);
    /** How long the session's shell command keeps opencode busy. */
    private static final Duration BUSY = Duration.ofSeconds(50);

    @Test
    void busySessionKeepsTheWorkspaceRunningUntilItEnds() throws Exception {
        try (Box box = Watched.idle(WORKSPACE_IMAGE).publish(4096).start()) {
            OpencodeApi opencode = new OpencodeApi(box);
            opencode.awaitHealthy(OPENCODE_START);

            // A shell command in a session makes it busy with no model configured.
            String session = opencode.newSession();
            CompletableFuture<HttpResponse<String>> shell =
                    opencode.shell(session, "sleep " + BUSY.toSeconds(), BUSY.plusSeconds(60));
            Instant busySince = Instant.now();
            // From here on the host sends nothing: only opencode's own status can keep it running.
            // A port that answered like something else while opencode was starting (slow, or not
            // ready) is re-checked every OpencodeSignal.RECHECK (10 s): the busy session shows by then.
            String[] state = {""};
            eventually(Duration.ofSeconds(40), "the opencode signal sees the busy session", () -> {
                state[0] = box.exec("cat", Watched.STATE_FILE);
                return Watched.signal(state[0], "opencode").contains("opencode 1 busy session");
            });

            Watched.keepsRunningUntil(box, busySince.plus(BUSY).minusSeconds(2), "a busy opencode session");
            assertEquals(200, shell.get().statusCode(), "the shell command finished");
            Instant busyEnded = Instant.now();
            // the opencode signal last fired at the poll before the session went idle
            Watched.stopsInWindow(box, busyEnded.minus(POLL), 0);
            String after = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(after, "reason"));
            assertTrue(Watched.signal(after, "opencode").contains("\"last_fired\":\"20"), after);
        }
    }

    /**
     * An untouched server stops. Not within timeout + poll + slack of the start:
     * opencode's own start-up burns a few CPU seconds, and the cpu signal's
     * one-minute average counts them, so the idle period starts some 10-30 s later.
     */
    @Test
    void idleServerStops() {
        try (Box box = Watched.idle(WORKSPACE_IMAGE).start()) {
            int code = box.awaitExit(Duration.ofSeconds(120));
            String logs = box.logs();
            assertEquals(0, code, logs);
            assertTrue(logs.contains("opencode server listening on http://0.0.0.0:4096"), logs);
            Duration ran = Watched.ranFor(box);
            assertTrue(ran.compareTo(TIMEOUT) >= 0, "ran " + ran);
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertTrue(Watched.signal(state, "opencode").contains("none busy"), state);
            System.out.printf("idle opencode workspace stopped after %d ms%n", ran.toMillis());
        }
    }

    @Test
    void imageCarriesTheContract() {
        InspectImageResponse image = Box.docker().inspectImageCmd(WORKSPACE_IMAGE).exec();
        ContainerConfig c = image.getConfig();
        assertEquals("true", c.getLabels().get("io.idlewatch.managed"));
        assertTrue(Arrays.asList(c.getEnv()).contains("IDLEWATCH_TIMEOUT=30m"), Arrays.toString(c.getEnv()));
        assertEquals("dev", c.getUser());
        assertArrayEquals(new String[] {"/opt/idlewatch/bin/idlewatch", "--"}, c.getEntrypoint());
        assertEquals(List.of("opencode", "serve", "--port", "4096", "--hostname", "0.0.0.0"),
                Arrays.asList(c.getCmd()));
        assertTrue(Arrays.asList(c.getExposedPorts()).contains(ExposedPort.tcp(4096)));
        assertTrue(String.join(" ", c.getHealthcheck().getTest()).contains("http://127.0.0.1:4096/global/health"));
        assertEquals(30_000_000_000L, c.getHealthcheck().getInterval());
    }
}
