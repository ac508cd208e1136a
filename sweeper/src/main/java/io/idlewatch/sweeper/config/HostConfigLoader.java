package io.idlewatch.sweeper.config;

import org.tomlj.Toml;
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

    private static final Set<String> WORKSPACE_KEYS = Set.of(OLDER_THAN, VOLUMES);
    private static final Set<String> DEFAULTS_KEYS = Set.of(OLDER_THAN, VOLUMES, INTERVAL);

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
        TomlParseResult toml;
        try {
            toml = Toml.parse(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
        }
        if (toml.hasErrors()) {
            TomlParseError first = toml.errors().get(0);
            throw new ConfigException(file + ":" + first.position().line() + ": " + first.getMessage().replaceFirst(" \\(line \\d+, column \\d+\\)$", ""));
        }
        return new Reader(file, toml).read();
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
                            "\"" + table.get(List.of(VOLUMES)) + "\" is not true or false; use e.g. volumes = true");
                }
                volumes = Optional.of(table.getBoolean(List.of(VOLUMES)));
            }
            return new HostConfig.Settings(duration(table, where, OLDER_THAN), volumes);
        }

        private Optional<Duration> duration(TomlTable table, String where, String key) {
            List<String> path = List.of(key);
            if (!table.contains(path)) {
                return Optional.empty();
            }
            Object value = table.get(path);
            try {
                if (value instanceof Long seconds) {
                    return Optional.of(Durations.parse(Long.toString(seconds)));
                }
                if (value instanceof String text) {
                    return Optional.of(Durations.parse(text));
                }
                throw new Durations.InvalidDurationException(
                        "\"" + value + "\" is not a duration; use e.g. " + key + " = \"10m\"");
            } catch (Durations.InvalidDurationException e) {
                throw error(table, path, where + "." + key, e.getMessage());
            }
        }

        private ConfigException error(TomlTable table, List<String> path, String key, String problem) {
            TomlPosition position = table.inputPositionOf(path);
            String line = position == null ? "" : ":" + position.line();
            return new ConfigException(file + line + ": " + key + ": " + problem);
        }
    }
}
