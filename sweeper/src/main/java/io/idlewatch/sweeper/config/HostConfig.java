package io.idlewatch.sweeper.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The host config file as read: {@code [defaults]} and one {@code [workspaces.NAME]} table per
 * workspace (matched by the {@code io.idlewatch.workspace} label). Unset means "not in the file";
 * flags and built-in defaults are applied by the caller.
 */
public record HostConfig(Optional<Path> source, Settings defaults, Map<String, Settings> workspaces,
                         Optional<Duration> interval) {

    public static final HostConfig NONE =
            new HostConfig(Optional.empty(), Settings.UNSET, Map.of(), Optional.empty());

    public HostConfig {
        workspaces = Map.copyOf(workspaces);
    }

    /** The keys allowed both in {@code [defaults]} and in each {@code [workspaces.NAME]}. */
    public record Settings(Optional<Duration> olderThan, Optional<Boolean> volumes, Optional<Duration> unplannedOlderThan) {
        public static final Settings UNSET = new Settings(Optional.empty(), Optional.empty(), Optional.empty());

        /** Without {@code unplanned_older_than}. */
        public Settings(Optional<Duration> olderThan, Optional<Boolean> volumes) {
            this(olderThan, volumes, Optional.empty());
        }

        /** This table's values where set, the other's elsewhere. */
        public Settings over(Settings fallback) {
            return new Settings(olderThan.or(fallback::olderThan), volumes.or(fallback::volumes),
                    unplannedOlderThan.or(fallback::unplannedOlderThan));
        }
    }

    /** {@code [workspaces.NAME]} over {@code [defaults]}; {@code [defaults]} alone for unnamed containers. */
    public Settings forWorkspace(String name) {
        Settings table = name == null ? null : workspaces.get(name);
        return table == null ? defaults : table.over(defaults);
    }
}
