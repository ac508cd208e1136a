package io.idlewatch.agent.config;

import java.time.Duration;

/**
 * Durations as users write them: {@code 90s}, {@code 30m}, {@code 4h},
 * {@code 1h30m}, {@code 500ms}, {@code 2d}; a bare integer is seconds.
 * Parsed by hand: this runs once at start-up but also for every
 * {@code idlewatch timeout} request, and a regex engine is not worth its
 * footprint here.
 */
public final class Durations {
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
        }
        long totalMillis = 0;
        int i = 0;
        int n = s.length();
        boolean any = false;
        while (i < n) {
            int start = i;
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                char c = s.charAt(i);
                if (c == '.' || c == ',') {
                    throw new IllegalArgumentException("fractions are not supported");
                }
                throw new IllegalArgumentException(any ? "unexpected '" + c + "'" : "not a duration");
            }
            if (i - start > 12) {
                throw new IllegalArgumentException("too large");
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
                                ? "unexpected '" + s.charAt(i) + "'" : "missing unit after " + number);
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
                throw new IllegalArgumentException("too large");
            }
            any = true;
        }
        return Duration.ofMillis(totalMillis);
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
