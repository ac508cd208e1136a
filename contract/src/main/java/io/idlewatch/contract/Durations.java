package io.idlewatch.contract;

import java.time.Duration;

/**
 * Durations as users write them, the same in the agent (environment, TOML, control requests) and
 * the host CLI (flags, config): {@code 90s}, {@code 30m}, {@code 4h}, {@code 1h30m}, {@code 500ms},
 * {@code 2d}; a bare integer is seconds; at most {@link #MAX} (3650d, about ten years).
 *
 * <p>The maximum is what keeps every later computation safe: a duration is turned into
 * nanoseconds and added to monotonic clock readings, and {@code Long.MAX_VALUE} nanoseconds is
 * only 292 years. Ten years is longer than any container lives, and far from any overflow.
 *
 * <p>Parsed by hand: this runs once at start-up but also for every {@code idlewatch timeout}
 * request, and a regex engine is not worth its footprint in the agent.
 */
public final class Durations {
    /** The longest duration anyone may write: 3650 days. */
    public static final Duration MAX = Duration.ofDays(3650);
    /** How {@link #MAX} is spelled in messages. */
    public static final String MAX_TEXT = "3650d (about 10 years)";
    /** Appended to every duration error. */
    public static final String EXAMPLE = "use a duration like 30m, 1h30m or 90s";

    private Durations() {
    }

    /**
     * Parses a duration.
     *
     * @throws IllegalArgumentException with a short reason (no setting name; the caller adds it)
     */
    public static Duration parse(String text) {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty duration");
        }
        if (s.charAt(0) == '-') {
            throw new IllegalArgumentException("negative durations are not allowed");
        }
        if (s.charAt(0) == '+') {
            s = s.substring(1);
            if (s.isEmpty()) {
                throw new IllegalArgumentException("not a duration"); // "+" alone was 0s: a timeout "off"
            }
        }
        long totalMillis = 0;
        int i = 0;
        int n = s.length();
        boolean any = false;
        while (i < n) {
            int start = i;
            while (i < n && s.charAt(i) >= '0' && s.charAt(i) <= '9') { // ASCII only: "٣s" is not 3s
                i++;
            }
            if (i == start) {
                char c = s.charAt(i);
                if (c == '.' || c == ',') {
                    throw new IllegalArgumentException("fractions are not supported");
                }
                throw new IllegalArgumentException(any ? "unexpected " + quoted(c) : "not a duration");
            }
            if (i - start > 12) {
                throw tooLarge();
            }
            long number = Long.parseLong(s, start, i, 10);
            if (i < n && (s.charAt(i) == '.' || s.charAt(i) == ',')) {
                throw new IllegalArgumentException("fractions are not supported");
            }
            int unitStart = i;
            while (i < n && Character.isLetter(s.charAt(i))) {
                i++;
            }
            String unit = s.substring(unitStart, i);
            long unitMillis;
            switch (unit) {
                case "":
                    if (any || i < n) {
                        throw new IllegalArgumentException(i < n
                                ? "unexpected " + quoted(s.charAt(i)) : "missing unit after " + number);
                    }
                    unitMillis = 1000; // a bare integer is seconds
                    break;
                case "ms":
                    unitMillis = 1;
                    break;
                case "s":
                    unitMillis = 1000;
                    break;
                case "m":
                    unitMillis = 60_000;
                    break;
                case "h":
                    unitMillis = 3_600_000;
                    break;
                case "d":
                    unitMillis = 86_400_000;
                    break;
                default:
                    throw new IllegalArgumentException("unknown unit '" + unit + "'");
            }
            try {
                totalMillis = Math.addExact(totalMillis, Math.multiplyExact(number, unitMillis));
            } catch (ArithmeticException e) {
                throw tooLarge();
            }
            if (totalMillis > MAX.toMillis()) {
                throw tooLarge();
            }
            any = true;
        }
        return Duration.ofMillis(totalMillis);
    }

    /** A character of the input for a message: a control character would break its one line. */
    private static String quoted(char c) {
        return Character.isISOControl(c) ? String.format("character U+%04X", (int) c) : "'" + c + "'";
    }

    private static IllegalArgumentException tooLarge() {
        return new IllegalArgumentException("too large: at most " + MAX_TEXT);
    }

    /**
     * The two most significant units, for tables: {@code 1h30m}, {@code 23m}, {@code 45s}, {@code 2d4h}.
     * Approximate on purpose (the host CLI's columns); {@link #format} is exact.
     */
    public static String formatShort(Duration duration) {
        if (duration.isNegative()) {
            return "-" + formatShort(duration.negated());
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

    /** Compact form for humans and for re-parsing: {@code 1h30m}, {@code 45s}, {@code 500ms}, {@code 0s}. */
    public static String format(Duration d) {
        return format(d.toMillis(), false);
    }

    /**
     * Like {@link #format} but with every unit below the largest one spelled out
     * ({@code 30m0s}, {@code 1h0m5s}); used for measured times, which are rarely round.
     */
    public static String formatMeasured(Duration d) {
        return format(d.toMillis(), true);
    }

    /** Compact form truncated to whole seconds ({@code 31m}, {@code 30m12s}), for "ago" texts. */
    public static String formatSeconds(long millis) {
        return format(millis < 1000 ? millis : millis / 1000 * 1000, false);
    }

    private static String format(long millis, boolean spelled) {
        if (millis < 0) {
            return "-" + format(-millis, spelled);
        }
        if (millis == 0) {
            return "0s";
        }
        if (millis < 1000) {
            return millis + "ms";
        }
        StringBuilder b = new StringBuilder(12);
        long days = millis / 86_400_000;
        long hours = millis / 3_600_000 % 24;
        long minutes = millis / 60_000 % 60;
        long seconds = millis / 1000 % 60;
        long ms = millis % 1000;
        if (days > 0) {
            // days are folded into hours when spelled out so 25h reads naturally
            if (spelled) {
                hours += days * 24;
            } else {
                b.append(days).append('d');
            }
        }
        boolean started = b.length() > 0;
        if (hours > 0 || (spelled && started)) {
            b.append(hours).append('h');
            started = true;
        }
        if (minutes > 0 || (spelled && started)) {
            b.append(minutes).append('m');
            started = true;
        }
        if (seconds > 0 || (spelled && started)) {
            b.append(seconds).append('s');
        }
        if (ms > 0 && !spelled) {
            b.append(ms).append("ms");
        }
        return b.toString();
    }
}
