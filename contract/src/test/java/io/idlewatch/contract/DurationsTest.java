package io.idlewatch.contract;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({"90s,90000", "30m,1800000", "4h,14400000", "1h30m,5400000", "500ms,500", "45,45000", "0,0",
        "1d,86400000", "1h0m5s,3605000", "+10s,10000", "1s500ms,1500", " 5m ,300000"})
    void parses(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"30x|unknown unit 'x'", "-5m|negative durations are not allowed",
        "1.5h|fractions are not supported", "abc|not a duration", "m|not a duration", "10s5|missing unit after 5",
        "5 m|unexpected ' '", "99999999999999h|too large: at most 3650d (about 10 years)", "3651d|too large: at most 3650d (about 10 years)", "200000d|too large: at most 3650d (about 10 years)", "999999999999999d|too large: at most 3650d (about 10 years)", "3650d1ms|too large: at most 3650d (about 10 years)", "10s-|unexpected '-'"})
    void rejects(String text, String reason) {
        assertEquals(reason, assertThrows(IllegalArgumentException.class, () -> Durations.parse(text)).getMessage());
    }

    @Test
    void theMaximumItselfIsAllowedAndSafeInNanoseconds() {
        assertEquals(Durations.MAX, Durations.parse("3650d"));
        assertEquals(Durations.MAX, Durations.parse("87600h"));
        // every later computation adds it to a monotonic clock reading in nanoseconds
        Math.addExact(Long.MAX_VALUE / 2, Durations.MAX.toNanos());
    }

    @ParameterizedTest
    @CsvSource({"0,0s", "500,500ms", "90000,1m30s", "5400000,1h30m", "5405000,1h30m", "190000000,2d4h", "3600000,1h"})
    void formatsShort(long millis, String text) {
        assertEquals(text, Durations.formatShort(Duration.ofMillis(millis)));
    }

    @Test
    void emptyIsNotADuration() {
        assertEquals("empty duration",
                assertThrows(IllegalArgumentException.class, () -> Durations.parse(" ")).getMessage());
    }

    @ParameterizedTest
    @CsvSource({"0,0s,0s", "500,500ms,500ms", "90000,1m30s,1m30s", "1800000,30m,30m0s", "5400000,1h30m,1h30m0s",
        "86400000,1d,24h0m0s", "3605000,1h5s,1h0m5s", "45000,45s,45s"})
    void formats(long millis, String compact, String measured) {
        assertEquals(compact, Durations.format(Duration.ofMillis(millis)));
        assertEquals(measured, Durations.formatMeasured(Duration.ofMillis(millis)));
        assertEquals(Duration.ofMillis(millis), Durations.parse(compact), "compact form parses back");
    }

    @Test
    void agoTextsDropMilliseconds() {
        assertEquals("30m12s", Durations.formatSeconds(1_812_345));
        assertEquals("2h", Durations.formatSeconds(7_200_999));
    }
}
