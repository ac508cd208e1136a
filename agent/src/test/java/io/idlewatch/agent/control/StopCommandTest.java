package io.idlewatch.agent.control;

import io.idlewatch.agent.idle.FakeClock;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateFile;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.QuietSignal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code idlewatch stop} from the client through a real socket to the tracker: the stop is recorded
 * with reason manual and handed on once; a second stop, or one after an idle stop, is refused.
 */
class StopCommandTest {
    @TempDir
    Path dir;

    private final FakeClock clock = new FakeClock();
    private final List<IdleTracker.StopInfo> handedOn = new CopyOnWriteArrayList<>();
    private IdleTracker tracker;
    private ControlServer server;

    @BeforeEach
    void start() throws IOException {
        ActivitySignal quiet = new QuietSignal();
        tracker = new IdleTracker(List.of(quiet), clock, Duration.ofSeconds(20), null, null, Duration.ZERO, 7, s -> { });
        // What Main's Background does, minus the supervisor: record, then hand on.
        ControlService.ManualStop stop = reason -> {
            IdleTracker.StopInfo info = tracker.stopManually(reason);
            if (info == null) {
                throw new IllegalStateException("already stopping (" + tracker.stopInfo().reason() + ")");
            }
            handedOn.add(info);
            return "stopping now (manual)";
        };
        server = ControlServer.bind(dir.resolve("agent.sock"),
                new ControlService(tracker, new StateFile(dir, "ws"), stop), s -> { }, 300);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** A command line as the native client runs it. */
    private CliClient.Result client(String... args) {
        return CliClient.run(dir.resolve("agent.sock"), args);
    }

    @Test
    void stopIsRecordedAsManualWithTheReasonAndTheConfiguredExitCode() {
        clock.advance(Duration.ofSeconds(5));

        CliClient.Result r = client("stop", "--reason", "done for the day");

        assertEquals(0, r.code(), r.toString());
        assertEquals("idlewatch: stopping now (manual)\n", r.out());
        assertEquals(1, handedOn.size());
        IdleTracker.StopInfo info = tracker.stopInfo();
        assertEquals("manual", info.reason());
        assertEquals(7, info.exitCode());
        assertTrue(info.detail().startsWith("manual stop: done for the day (idle 5s"), info.detail());
        assertEquals("stopping", tracker.status().state());
    }

    @Test
    void aSecondStopIsRefusedWithExit2AndHandsNothingOn() {
        assertEquals(0, client("stop").code());

        CliClient.Result again = client("stop", "--reason=again");

        assertEquals(2, again.code());
        assertEquals("idlewatch: already stopping (manual)\n", again.err());
        assertEquals(1, handedOn.size());
    }

    @Test
    void anIdleStopUnderWayKeepsItsReason() {
        clock.advance(Duration.ofSeconds(21));
        assertTrue(tracker.poll().isStop());

        CliClient.Result r = client("stop");

        assertEquals(2, r.code());
        assertEquals("idlewatch: already stopping (idle)\n", r.err());
        assertEquals("idle", tracker.stopInfo().reason());
        assertTrue(handedOn.isEmpty());
    }

    @Test
    void controlCharactersInTheReasonNeverReachTheRecord() {
        assertEquals(0, client("stop", "--reason", "bye\u001b[2J\nnow").code());
        assertTrue(tracker.stopInfo().detail().startsWith("manual stop: bye?[2J?now"), tracker.stopInfo().detail());
    }

    @Test
    void unknownArgumentsAreAUsageError() {
        CliClient.Result r = client("stop", "--now");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("usage: idlewatch stop [--reason TEXT]"), r.err());
        assertNull(tracker.stopInfo());
    }

    /** The native client's request: the whole command line, run in the agent; the answer frames out, err and the code. */
    private String cli(String request) throws IOException {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(dir.resolve("agent.sock")))) {
            ch.write(java.nio.ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
            java.io.InputStream in = java.nio.channels.Channels.newInputStream(ch);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theNativeClientsCommandLineRunsInTheAgent() throws IOException {
        String answer = cli("idlewatch/1 cli a0=stop&a1=--reason&a2=end+of+day\n");

        assertEquals("cli 0 33 0\nidlewatch: stopping now (manual)\n", answer);
        assertEquals("manual stop: end of day", tracker.stopInfo().detail().substring(0, 23));
        String refused = cli("idlewatch/1 cli a0=stop\n");
        assertEquals("cli 2 0 37\nidlewatch: already stopping (manual)\n", refused);
        String usage = cli("idlewatch/1 cli a0=status&a1=--jsn\n");
        assertTrue(usage.startsWith("cli 2 0 "), usage);
        assertTrue(usage.contains("status: unknown argument \"--jsn\""), usage);
        assertTrue(cli("idlewatch/1 cli a0=inhibit&a1=sleep\n").startsWith("cli 2 0 "));
        assertTrue(cli("idlewatch/1 cli a0=status&x=1\n").startsWith("error "));
    }
}
