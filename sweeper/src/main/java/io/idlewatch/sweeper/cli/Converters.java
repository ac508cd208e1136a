package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.Durations;
import picocli.CommandLine;

import java.time.Duration;

/** Option value parsing, with messages that name the value and a good example. */
final class Converters {

    private Converters() {
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return Durations.parse(value);
            } catch (Durations.InvalidDurationException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
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
