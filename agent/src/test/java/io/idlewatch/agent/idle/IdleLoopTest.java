package io.idlewatch.agent.idle;

import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.tty.TtySignal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The glue: notice to terminals on WARN (ignored by the tty signal), state file every poll. */
class IdleLoopTest {
    @TempDir
    Path tmp;

    private Path devWithTerminals(String... names) throws Exception {
        Path pts = Files.createDirectories(tmp.resolve("dev/pts"));
        Files.writeString(pts.resolve("ptmx"), "");
        for (String n : names) {
            Files.writeString(pts.resolve(n), "");
            Files.setLastModifiedTime(pts.resolve(n), FileTime.fromMillis(1_700_000_000_000L));
        }
        return tmp.resolve("dev");
    }

    /** Reads a fake terminal without moving its access time (which the tty signal would take for input). */
    private static String peek(Path file) throws Exception {
        FileTime atime = (FileTime) Files.getAttribute(file, "lastAccessTime");
        String text = Files.readString(file);
        Files.setAttribute(file, "lastAccessTime", atime);
        return text;
    }

    @Test
    void theNoticeReachesEveryTerminalAndIsNotTakenForAPerson() throws Exception {
        Path dev = devWithTerminals("0", "1");
        FakeClock clock = new FakeClock();
        TtySignal tty = new TtySignal(dev);
        AgentConfig config = AgentConfig.load(Map.of("IDLEWATCH_TIMEOUT", "30m", "IDLEWATCH_SIGNALS", "tty",
                "IDLEWATCH_WORKSPACE", "demo", "IDLEWATCH_POLL_INTERVAL", "4m"), tmp);
        List<String> log = new ArrayList<>();
        IdleLoop loop = IdleLoop.create(config, List.of(tty), clock, dev, tmp.resolve("run"), log::add);

        clock.advance(Duration.ofMinutes(24));
        assertEquals(IdleTracker.Decision.CONTINUE, loop.poll());
        clock.advance(Duration.ofMinutes(1));
        assertEquals(IdleTracker.Decision.WARN, loop.poll(), () -> loop.tracker().status().toString());
        for (String n : List.of("0", "1")) {
            String text = peek(dev.resolve("pts/" + n));
            assertTrue(text.contains("will stop in 5m (timeout 30m)"), text);
            assertTrue(text.contains("`idlewatch touch`"), text);
        }
        assertEquals("", peek(dev.resolve("pts/ptmx")));

        clock.advance(Duration.ofMinutes(1));
        assertEquals(IdleTracker.Decision.CONTINUE, loop.poll(), "the agent's own write is not activity");
        clock.advance(Duration.ofMinutes(4));
        assertEquals(IdleTracker.Decision.STOP_IDLE, loop.poll());
        assertTrue(loop.tracker().stopLine().startsWith("idlewatch: stopping: idle 30m0s >= timeout 30m"));
        String state = Files.readString(tmp.resolve("run/state.json"));
        assertTrue(state.startsWith("{\"version\":1,\"workspace\":\"demo\",\"state\":\"stopping\","), state);
        assertTrue(state.contains("\"stop\":{\"reason\":\"idle\","), state);
        assertEquals(List.of(), log);
    }

    @Test
    void anUnwritableStateDirIsLoggedOnceAndNeverStopsTheLoop() throws Exception {
        Files.writeString(tmp.resolve("not-a-dir"), "");
        FakeClock clock = new FakeClock();
        List<String> log = new ArrayList<>();
        IdleTracker tracker = new IdleTracker(List.<ActivitySignal>of(), clock, null, null, null, Duration.ZERO, 0,
                log::add);
        IdleLoop loop = new IdleLoop(tracker, null, new StateFile(tmp.resolve("not-a-dir/sub"), null), log::add);
        loop.poll();
        loop.poll();
        assertEquals(1, log.size());
        assertTrue(log.get(0).startsWith("idlewatch: writing " + tmp.resolve("not-a-dir/sub/state.json") + " failed"));
    }

    @Test
    void aMissingPtsDirectoryIsNotAnError() {
        TerminalNotifier n = new TerminalNotifier(tmp.resolve("nodev"), null);
        assertEquals(0, n.notifyAll("hello"));
        assertFalse(Files.exists(tmp.resolve("nodev")));
    }
}
