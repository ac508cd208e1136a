package io.idlewatch.agent.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.idlewatch.agent.idle.Clock;
import io.idlewatch.agent.idle.FakeClock;
import io.idlewatch.agent.idle.IdleTracker;
import io.idlewatch.agent.idle.StateFile;
import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.QuietSignal;
import io.idlewatch.contract.Durations;
import org.junit.jupiter.api.BeforeAll;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any request line a client can send: parsed into a known verb or refused with an
 * IllegalArgumentException of one line, and answered by the service with exactly one line,
 * {@code ok ...} or {@code error ...}; nothing thrown, whatever the bytes.
 *
 * <p>The input is the line's bytes (UTF-8, as the server decodes them), so a regression input
 * in src/test/resources/.../ControlRequestFuzzTestInputs/handle is the request as sent.
 */
class ControlRequestFuzzTest {
    private static IdleTracker tracker;
    private static ControlService service;
    private static Duration maxTimeout = Duration.ofHours(2);

    @BeforeAll
    static void service() throws Exception {
        Path dir = Files.createTempDirectory("idlewatch-fuzz");
        dir.toFile().deleteOnExit();
        Clock clock = new FakeClock(Duration.ofMillis(1)); // time moves on a little with every look
        ActivitySignal quiet = new QuietSignal();
        tracker = new IdleTracker(List.of(quiet), clock, Duration.ofSeconds(20), maxTimeout, null,
                Duration.ZERO, 0, line -> { });
        service = new ControlService(tracker, new StateFile(dir, "ws"));
    }

    @FuzzTest(maxDuration = "10m")
    void handle(byte[] bytes) {
        String line = new String(bytes, StandardCharsets.UTF_8);

        ControlProtocol.Request r = null;
        try {
            r = ControlProtocol.parseRequest(line);
        } catch (IllegalArgumentException e) {
            assertOneLine(e.getMessage());
        }
        if (r != null) {
            assertTrue(ControlProtocol.VERBS.contains(r.verb()), r.verb());
        }

        ControlService.Reply reply = service.handle(line);
        String answer = reply.line();
        assertNotNull(answer);
        assertTrue(answer.startsWith("ok ") || answer.startsWith("error "), answer);
        assertTrue(answer.endsWith("\n") && answer.indexOf('\n') == answer.length() - 1, "one line: " + answer);
        assertFalse(answer.indexOf('\r') >= 0, "one line: " + answer);
        assertTrue(answer.length() < 16 * 1024, "a short answer: " + answer.length());
        if (answer.startsWith("ok ") && r != null && (r.verb().equals("touch") || r.verb().equals("hold"))) {
            // what the client said is shown to every user: no escape sequences, no line breaks
            String text = ControlProtocol.text(ControlProtocol.parseAnswer(
                    service.handle("idlewatch/1 status format=text").line().strip()).payload());
            assertTrue(text.chars().noneMatch(c -> c != '\n' && Character.isISOControl(c)), text);
        }
        if (reply.holdId() != null) {
            service.release(reply.holdId()); // its connection closes
        }
        Duration timeout = tracker.timeout();
        assertTrue(timeout == null || timeout.compareTo(maxTimeout) <= 0 && timeout.compareTo(Durations.MAX) <= 0,
                "timeout " + timeout);
    }

    static void assertOneLine(String message) {
        assertNotNull(message);
        assertFalse(message.isEmpty());
        assertTrue(message.indexOf('\n') < 0 && message.indexOf('\r') < 0, "not one line: " + message);
    }
}
