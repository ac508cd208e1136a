package io.idlewatch.sweeper.core;

import java.util.Locale;

/** Byte counts the way the docker CLI prints them (decimal units, {@code 4.1kB}). */
public final class Sizes {

    private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB"};

    private Sizes() {
    }

    public static String human(long bytes) {
        double value = bytes;
        int unit = 0;
        while (value >= 1000 && unit < UNITS.length - 1) {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? bytes + "B" : String.format(Locale.ROOT, "%.3g%s", value, UNITS[unit]);
    }
}
