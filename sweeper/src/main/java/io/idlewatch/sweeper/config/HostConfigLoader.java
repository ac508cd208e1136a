package io.idlewatch.sweeper.config;

import io.idlewatch.contract.TomlNesting;

import io.idlewatch.contract.Durations;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds and reads the host config: {@code --config}, else
 * {@code $XDG_CONFIG_HOME/idlewatch/config.toml} (XDG's default {@code ~/.config}), else
 * {@code /etc/idlewatch/config.toml}. A missing default file is fine; a missing {@code --config}
 * file is an error. Every error names the file, the line and the key.
 */
public final class HostConfigLoader {

    static final String DEFAULTS = "defaults";
    static final String WORKSPACES = "workspaces";
    static final String OLDER_THAN = "older_than";
    static final String VOLUMES = "volumes";
    static final String INTERVAL = "interval";
    static final String UNPLANNED_OLDER_THAN = "unplanned_older_than";

    /**
     * A host config is a few lines; anything near this is a mistake (or not a config), and the TOML
     * parser holds the whole text in memory.
     */
    static final int MAX_FILE_BYTES = 64 * 1024;
    /** Arrays and inline tables nested deeper than this are refused before parsing (see checkNesting). */
    static final int MAX_NESTING = TomlNesting.MAX_DEPTH;

    private static final Set<String> WORKSPACE_KEYS = Set.of(OLDER_THAN, VOLUMES, UNPLANNED_OLDER_THAN);
    private static final Set<String> DEFAULTS_KEYS = Set.of(OLDER_THAN, VOLUMES, UNPLANNED_OLDER_THAN, INTERVAL);

    private HostConfigLoader() {
    }

    public static HostConfig load(Path explicit, HostEnvironment env) {
        if (explicit != null) {
            if (!Files.isRegularFile(explicit)) {
                throw new ConfigException("config file " + explicit + " (--config) not found");
            }
            return read(explicit);
        }
        Path xdgHome = env.get("XDG_CONFIG_HOME").map(Path::of).orElse(env.home().resolve(".config"));
        for (Path candidate : List.of(xdgHome.resolve("idlewatch/config.toml"), env.etc().resolve("idlewatch/config.toml"))) {
            if (Files.isRegularFile(candidate)) {
                return read(candidate);
            }
        }
        return HostConfig.NONE;
    }

    public static HostConfig read(Path file) {
        String text;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new ConfigException("config file " + file + " is larger than " + MAX_FILE_BYTES / 1024
                        + " KiB; a host config is a few lines");
            }
            text = Files.readString(file);
        } catch (IOException e) {
            // Includes a file that is not UTF-8 (MalformedInputException), which TOML requires.
            throw new ConfigException("cannot read config file " + file + ": " + e);
        }
        return parse(file, text);
    }

    /** {@code text} as the content of {@code file} (which only names it in messages). */
    static HostConfig parse(Path file, String text) {
        checkNesting(file, text);
        TomlParseResult toml;
        try {
            toml = Toml.parse(text);
        } catch (TomlParseError thrown) {
            // tomlj throws some errors (a bad escape in a quoted key) instead of listing them (found by fuzzing).
            throw syntaxError(file, thrown);
        } catch (RuntimeException | AssertionError internal) {
            // tomlj trips its own assertion on some bad escapes (with -ea; found by fuzzing): still bad TOML.
            throw new ConfigException(file + ": not valid TOML (the parser failed: "
                    + internal.getClass().getSimpleName() + "); check escapes in quoted keys and strings");
        }
        if (toml.hasErrors()) {
            throw syntaxError(file, toml.errors().get(0));
        }
        return new Reader(file, toml).read();
    }

    /**
     * tomlj parses arrays and inline tables recursively, so {@code a = [[[[…} a few thousand deep
     * overflows the stack (found by fuzzing). Our keys need no nesting at all; refuse depth beyond
     * {@link #MAX_NESTING} before parsing ({@link TomlNesting}, shared with the agent's file reader).
     */
    private static void checkNesting(Path file, String text) {
        int line = TomlNesting.tooDeepAt(text);
        if (line > 0) {
            throw new ConfigException(file + ":" + line + ": nested more than " + MAX_NESTING
                    + " deep; a host config needs no nesting");
        }
    }

    private static ConfigException syntaxError(Path file, TomlParseError error) {
        return new ConfigException(oneLine(file + ":" + error.position().line() + ": "
                + error.getMessage().replaceFirst(" \\(line \\d+, column \\d+\\)$", "")));
    }

    /** Line breaks shown as {@code \\n}: an error is one line. */
    public static String oneLine(String message) {
        return message.replace("\r", "\\r").replace("\n", "\\n").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
                .replace("\u0085", "\\u0085");
    }

    /** One pass over one parsed file, so that every error can say where it is. */
    private record Reader(Path file, TomlParseResult toml) {

        HostConfig read() {
            for (String key : toml.keySet()) {
                if (!key.equals(DEFAULTS) && !key.equals(WORKSPACES)) {
                    throw error(toml, List.of(key), key, "unknown key; expected [" + DEFAULTS + "] or [" + WORKSPACES + ".NAME]");
                }
            }
            HostConfig.Settings defaults = HostConfig.Settings.UNSET;
            Optional<Duration> interval = Optional.empty();
            if (toml.contains(List.of(DEFAULTS))) {
                TomlTable table = table(toml, DEFAULTS, DEFAULTS);
                checkKeys(table, DEFAULTS, DEFAULTS_KEYS);
                defaults = settings(table, DEFAULTS);
                interval = duration(table, DEFAULTS, INTERVAL);
                if (interval.isPresent() && interval.get().isZero()) {
                    throw error(table, List.of(INTERVAL), DEFAULTS + "." + INTERVAL,
                            "must be more than 0; use e.g. \"5m\"");
                }
            }
            Map<String, HostConfig.Settings> workspaces = new LinkedHashMap<>();
            if (toml.contains(List.of(WORKSPACES))) {
                TomlTable all = table(toml, WORKSPACES, WORKSPACES);
                for (String name : all.keySet()) {
                    String where = WORKSPACES + "." + name;
                    TomlTable table = table(all, name, where);
                    checkKeys(table, where, WORKSPACE_KEYS);
                    workspaces.put(name, settings(table, where));
                }
            }
            return new HostConfig(Optional.of(file), defaults, workspaces, interval);
        }

        private TomlTable table(TomlTable parent, String key, String where) {
            if (!parent.isTable(List.of(key))) {
                throw error(parent, List.of(key), where, "must be a table, like [" + where + "]");
            }
            return parent.getTable(List.of(key));
        }

        private void checkKeys(TomlTable table, String where, Set<String> allowed) {
            for (String key : table.keySet()) {
                if (!allowed.contains(key)) {
                    throw error(table, List.of(key), where + "." + key,
                            "unknown key; allowed here: " + String.join(", ", allowed.stream().sorted().toList()));
                }
            }
        }

        private HostConfig.Settings settings(TomlTable table, String where) {
            Optional<Boolean> volumes = Optional.empty();
            if (table.contains(List.of(VOLUMES))) {
                if (!table.isBoolean(List.of(VOLUMES))) {
                    throw error(table, List.of(VOLUMES), where + "." + VOLUMES,
                            describe(table.get(List.of(VOLUMES))) + " is not true or false; use e.g. volumes = true");
                }
                volumes = Optional.of(table.getBoolean(List.of(VOLUMES)));
            }
            return new HostConfig.Settings(duration(table, where, OLDER_THAN), volumes,
                    duration(table, where, UNPLANNED_OLDER_THAN));
        }

        /**
         * A duration through the shared parser, which bounds it ({@link Durations#MAX}): a string
         * ({@code "10m"}) or a TOML integer, which is seconds. Any failure, overflow included, is
         * this file's config error, naming the line and the key.
         */
        private Optional<Duration> duration(TomlTable table, String where, String key) {
            List<String> path = List.of(key);
            if (!table.contains(path)) {
                return Optional.empty();
            }
            Object value = table.get(path);
            String shown;
            String text;
            if (value instanceof Long seconds) {
                shown = Long.toString(seconds);
                text = shown;
            } else if (value instanceof String string) {
                shown = "\"" + (string.length() > 40 ? string.substring(0, 40) + "..." : string) + "\"";
                text = string;
            } else {
                throw error(table, path, where + "." + key,
                        describe(value) + " is not a duration; use e.g. " + key + " = \"10m\"");
            }
            try {
                return Optional.of(Durations.parse(text));
            } catch (IllegalArgumentException e) {
                throw error(table, path, where + "." + key, shown + ": " + e.getMessage() + "; " + Durations.EXAMPLE);
            }
        }

        /** A TOML value as the user wrote it, short: {@code 1.5}, {@code true}, {@code an array}. */
        private static String describe(Object value) {
            if (value instanceof TomlArray) {
                return "an array";
            }
            if (value instanceof TomlTable) {
                return "a table";
            }
            return "\"" + value + "\"";
        }

        private ConfigException error(TomlTable table, List<String> path, String key, String problem) {
            TomlPosition position = table.inputPositionOf(path);
            String line = position == null ? "" : ":" + position.line();
            // One line, whatever the key or value held (a TOML string may contain an escaped newline).
            return new ConfigException(oneLine(file + line + ": " + key + ": " + problem));
        }
    }
}
