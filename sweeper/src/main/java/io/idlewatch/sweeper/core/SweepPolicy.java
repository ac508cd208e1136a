package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;

import io.idlewatch.sweeper.config.HostConfig;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How old a container must be and whether its anonymous volumes go with it: flags over
 * {@code [workspaces.NAME]} over {@code [defaults]} over the built-in defaults. A stop nobody
 * decided (see {@link StopCause}) waits for {@code unplanned_older_than} instead of
 * {@code older_than}, or for {@code older_than} when that is longer.
 */
public record SweepPolicy(HostConfig config, Optional<Duration> olderThanFlag, Optional<Boolean> volumesFlag,
                          Duration createdGrace, Optional<Duration> unplannedOlderThanFlag) {

    /** Default {@code older_than}: an exited workspace is removed as soon as it is seen. */
    public static final Duration DEFAULT_OLDER_THAN = Duration.ZERO;
    /** Default {@code volumes}: anonymous volumes stay unless asked for, like {@code docker rm}. */
    public static final boolean DEFAULT_VOLUMES = false;
    /**
     * A created container may be about to start ({@code docker run} creates, then starts); one
     * younger than this is never removed, whatever {@code older_than} says.
     */
    public static final Duration CREATED_GRACE = Duration.ofMinutes(2);
    /**
     * Default {@code unplanned_older_than}: a workspace stopped from outside (an engine restart, a
     * reboot) or killed stays a day, long enough for its owner to notice and start it again.
     */
    public static final Duration DEFAULT_UNPLANNED_OLDER_THAN = Duration.ofHours(24);

    public SweepPolicy(HostConfig config, Optional<Duration> olderThanFlag, Optional<Boolean> volumesFlag,
                       Duration createdGrace) {
        this(config, olderThanFlag, volumesFlag, createdGrace, Optional.empty());
    }

    public static SweepPolicy of(HostConfig config, Optional<Duration> olderThanFlag, Optional<Boolean> volumesFlag) {
        return new SweepPolicy(config, olderThanFlag, volumesFlag, CREATED_GRACE);
    }

    public record Effective(Duration olderThan, boolean volumes, Duration unplannedOlderThan) {
        /** The age a stop of this cause must reach: never less for an unplanned stop than for a planned one. */
        public Duration olderThan(StopCause cause) {
            return cause.planned() || olderThan.compareTo(unplannedOlderThan) > 0 ? olderThan : unplannedOlderThan;
        }
    }

    public Effective forContainer(Map<String, String> labels) {
        HostConfig.Settings file = config.forWorkspace(labels.get(Labels.WORKSPACE));
        return new Effective(
                olderThanFlag.or(file::olderThan).orElse(DEFAULT_OLDER_THAN),
                volumesFlag.or(file::volumes).orElse(DEFAULT_VOLUMES),
                unplannedOlderThanFlag.or(file::unplannedOlderThan).orElse(DEFAULT_UNPLANNED_OLDER_THAN));
    }
}
