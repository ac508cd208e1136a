package io.idlewatch.agent.control;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlProtocolTest {

    @Test
    void requestRoundTripsArgumentsWithSpacesNewlinesAndAmpersands() {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("reason", "fix & test\nnow = 100%");
        args.put("pid", "42");
        args.put("skipped", null);
        String line = ControlProtocol.request("hold", args);
        assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, line);
        ControlProtocol.Request r = ControlProtocol.parseRequest(line.strip());
        assertEquals("hold", r.verb());
        assertEquals(Map.of("reason", "fix & test\nnow = 100%", "pid", "42"), r.args());
    }

    @Test
    void requestWithoutArguments() {
        assertEquals("idlewatch/1 status\n", ControlProtocol.request("status", Map.of()));
        assertEquals(Map.of(), ControlProtocol.parseRequest("idlewatch/1 status").args());
    }

    @Test
    void wrongVersionOrGarbageIsRefusedWithTheExpectedForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlProtocol.parseRequest("idlewatch/2 status"));
        assertEquals("not a idlewatch/1 request; expected \"idlewatch/1 VERB [ARGS]\" with VERB one of"
                + " status, touch, timeout, hold, stop, cli", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ControlProtocol.parseRequest("\u0000\u0001garbage"));
        assertThrows(IllegalArgumentException.class, () -> ControlProtocol.parseRequest(""));
    }

    @Test
    void unknownVerbIsQuotedSafely() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlProtocol.parseRequest("idlewatch/1 rm\u0007 -rf"));
        assertEquals("unknown command \"rm?\"; known: status, touch, timeout, hold, stop, cli", e.getMessage());
    }

    @Test
    void answers() {
        assertEquals("ok {\"a\":1}\n", ControlProtocol.ok("{\"a\":1}"));
        assertEquals("error two lines\n", ControlProtocol.error("two\nlines"));
        ControlProtocol.Answer ok = ControlProtocol.parseAnswer("ok \"x\"");
        assertTrue(ok.ok());
        assertEquals("\"x\"", ok.payload());
        ControlProtocol.Answer error = ControlProtocol.parseAnswer("error nope");
        assertFalse(error.ok());
        assertEquals("nope", error.payload());
        assertThrows(IllegalArgumentException.class, () -> ControlProtocol.parseAnswer("HTTP/1.1 400"));
    }

    @Test
    void messagesSurviveTheJsonStringEncoding() {
        String text = "idle: 3s / 20s\ncpu: \"never\" \\ tab\there \u0001 \u2028";
        String line = ControlProtocol.okMessage(text);
        assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
        assertEquals(text, ControlProtocol.text(ControlProtocol.parseAnswer(line.strip()).payload()));
        assertEquals("{\"a\":1}", ControlProtocol.text("{\"a\":1}"), "an object is printed as it is");
    }

    /** Free text is cut where it enters, without splitting a character, and escape sequences are defused. */
    @Test
    void clipCutsAndDefusesFreeText() {
        assertEquals(null, ControlProtocol.clip(null));
        assertEquals("npm ci", ControlProtocol.clip("npm ci"));
        assertEquals("?]0;owned??[2J two?lines", ControlProtocol.clip("\u001b]0;owned\u0007\u001b[2J two\nlines"));
        String cut = ControlProtocol.clip("x".repeat(196) + "\uD83D\uDE00" + "y".repeat(100));
        assertEquals("x".repeat(196) + "...", cut);
        assertEquals(ControlProtocol.MAX_TEXT, ControlProtocol.clip("z".repeat(100_000)).length());
    }

    @Test
    void badPercentEscapeIsRefusedOnOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlProtocol.parseRequest("idlewatch/1 touch reason=%\n1"));
        assertEquals("bad %-escape in \"reason=%?1\"; arguments are URL-encoded, e.g. reason=build%20step",
                e.getMessage());
    }
}
