package io.idlewatch.sweeper.core;

import java.math.BigDecimal;
import java.math.MathContext;

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
        if (unit == 0) {
            return bytes + "B";
        }
        // Three significant digits without trailing zeros, as docker prints them: 4.1kB, 12.3MB, 100MB.
        return new BigDecimal(value).round(new MathContext(3)).stripTrailingZeros().toPlainString() + UNITS[unit];
    }
}
