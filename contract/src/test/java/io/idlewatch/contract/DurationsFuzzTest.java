package io.idlewatch.contract;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any text: a duration within {@link Durations#MAX}, or an IllegalArgumentException with a
 * one-line message; nothing else. Durations reach the agent from its environment, its file and
 * every {@code idlewatch timeout} request.
 *
 * <p>Runs its regression inputs (src/test/resources/.../DurationsFuzzTestInputs/parse) in every
 * test run; fuzzes with JAZZER_FUZZ=1 (see the fuzz commands in the README of scripts/).
 */
class DurationsFuzzTest {

    /** The input is the text's UTF-8 bytes, so a regression input is a plain text file. */
    @FuzzTest(maxDuration = "10m")
    void parse(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            assertOneLine(e.getMessage());
            return;
        }
        assertNotNull(d);
        assertFalse(d.isNegative(), text);
        assertTrue(d.compareTo(Durations.MAX) <= 0, text + " -> " + d);
        assertTrue(text.chars().anyMatch(c -> c >= '0' && c <= '9'), "a duration without an ASCII digit: \"" + text + "\"");
        // what is printed can be read back, to the same value (formatMeasured drops milliseconds on purpose)
        assertEquals(d, Durations.parse(Durations.format(d)), text);
        assertEquals(d.toSeconds(), Durations.parse(Durations.formatMeasured(d)).toSeconds(), text);
    }

    static void assertOneLine(String message) {
        assertNotNull(message);
        assertFalse(message.isEmpty());
        assertTrue(message.indexOf('\n') < 0 && message.indexOf('\r') < 0, "not one line: " + message);
    }
}
