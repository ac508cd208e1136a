package io.idlewatch.sweeper.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The duration syntax shared with the agent: {@code 90s}, {@code 30m}, {@code 4h}, {@code 1h30m},
 * {@code 500ms}; a bare integer is seconds. Parsing and human formatting live together so that
 * what we print can always be read back.
 */
public final class Durations {

    public static final String EXAMPLE = "\"10m\", \"1h30m\", \"90s\" or \"500ms\"";

    private static final Pattern BARE_SECONDS = Pattern.compile("\\d+");
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|d|h|m|s)(?![a-zA-Z])");
    private static final Pattern UNKNOWN_UNIT = Pattern.compile("\\d+([a-zA-Z]+)");

    private Durations() {
    }

    /** Thrown with a message that says what is wrong with the value, without naming where it came from. */
    public static final class InvalidDurationException extends IllegalArgumentException {
        InvalidDurationException(String message) {
            super(message);
        }
    }

    public static Duration parse(String text) {
        String value = text == null ? "" : text.strip();
        if (value.isEmpty()) {
            throw invalid(text, "empty");
        }
        if (value.startsWith("-")) {
            throw invalid(text, "negative");
        }
        if (BARE_SECONDS.matcher(value).matches()) {
            return Duration.ofSeconds(Long.parseLong(value));
        }
        Matcher part = PART.matcher(value);
        Duration total = Duration.ZERO;
        int end = 0;
        while (part.lookingAt()) {
            long amount = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            });
            end = part.end();
            part.region(end, value.length());
        }
        if (end != value.length()) {
            Matcher unit = UNKNOWN_UNIT.matcher(value.substring(end));
            throw invalid(text, unit.lookingAt()
                    ? "unknown unit \"" + unit.group(1) + "\""
                    : "cannot read \"" + value.substring(end) + "\"");
        }
        return total;
    }

    private static InvalidDurationException invalid(String text, String why) {
        return new InvalidDurationException(
                "\"" + text + "\" is not a duration (" + why + "); use e.g. " + EXAMPLE);
    }

    /** Two most significant units, e.g. {@code 1h30m}, {@code 23m}, {@code 45s}, {@code 2d4h}. */
    public static String format(Duration duration) {
        if (duration.isNegative()) {
            return "-" + format(duration.negated());
        }
        long seconds = duration.toSeconds();
        if (seconds == 0) {
            return duration.isZero() ? "0s" : duration.toMillis() + "ms";
        }
        long[] amounts = {seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60};
        String[] units = {"d", "h", "m", "s"};
        StringBuilder out = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < amounts.length && shown < 2; i++) {
            if (amounts[i] > 0) {
                out.append(amounts[i]).append(units[i]);
                shown++;
            } else if (shown > 0) {
                break;
            }
        }
        return out.toString();
    }
}
