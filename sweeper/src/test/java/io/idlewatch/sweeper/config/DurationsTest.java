package io.idlewatch.sweeper.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({"90s,PT1M30S", "30m,PT30M", "4h,PT4H", "1h30m,PT1H30M", "500ms,PT0.5S", "45,PT45S", "0,PT0S",
            "2d,PT48H", "' 10m ',PT10M"})
    void parsesTheSharedSyntax(String text, String expected) {
        assertEquals(Duration.parse(expected), Durations.parse(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "-5|\"-5\" is not a duration (negative)",
            "-1h|\"-1h\" is not a duration (negative)",
            "10x|\"10x\" is not a duration (unknown unit \"x\")",
            "5min|\"5min\" is not a duration (unknown unit \"min\")",
            "1.5h|\"1.5h\" is not a duration (cannot read \"1.5h\")",
            "h|\"h\" is not a duration (cannot read \"h\")",
            "''|\"\" is not a duration (empty)"})
    void rejectsWithTheValueAndAnExample(String text, String start) {
        String message = assertThrows(Durations.InvalidDurationException.class, () -> Durations.parse(text)).getMessage();
        assertEquals(start + "; use e.g. \"10m\", \"1h30m\", \"90s\" or \"500ms\"", message);
    }

    @ParameterizedTest
    @CsvSource({"PT23M,23m", "PT1H30M,1h30m", "PT1H0M5S,1h", "PT45S,45s", "PT0S,0s", "PT0.25S,250ms", "PT52H,2d4h"})
    void formatsTwoUnits(String duration, String expected) {
        assertEquals(expected, Durations.format(Duration.parse(duration)));
    }
}
