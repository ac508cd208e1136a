package io.idlewatch.sweeper.cli;

import io.idlewatch.contract.Durations;
import io.idlewatch.sweeper.config.HostConfigLoader;
import picocli.CommandLine;

import java.time.Duration;

/** Option value parsing, with messages that name the value and a good example. */
final class Converters {

    private Converters() {
    }

    /**
     * A duration flag ({@code --older-than}, {@code --interval}, {@code --grace}) through the shared
     * parser, which bounds it (at most {@link Durations#MAX}) so nothing later can overflow. picocli
     * adds the flag's name to the message: one line, exit code 2.
     */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(durationProblem(quoted(value), e));
            }
        }
    }

    /** The value as the user wrote it, in quotes, cut short: the reason after it must stay readable. */
    static String quoted(String value) {
        return "\"" + (value.length() > MAX_QUOTED ? value.substring(0, MAX_QUOTED) + "..." : value) + "\"";
    }

    /** How much of a bad value a message repeats. */
    static final int MAX_QUOTED = 40;

    /** {@code "6x": unknown unit 'x'; use a duration like 30m, 1h30m or 90s}: the shape the agent uses too. */
    static String durationProblem(String shownValue, IllegalArgumentException e) {
        return HostConfigLoader.oneLine(shownValue + ": " + e.getMessage() + "; " + Durations.EXAMPLE);
    }

    static final class LabelConverter implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (value.isBlank() || value.startsWith("=")) {
                throw new CommandLine.TypeConversionException(
                        "\"" + value + "\" is not a label filter; use KEY=VALUE or KEY, e.g. io.idlewatch.workspace=NAME");
            }
            return value;
        }
    }
}
