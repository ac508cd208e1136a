package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Labels;

import io.idlewatch.sweeper.config.HostConfig;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * How old a container must be and whether its anonymous volumes go with it: flags over
 * {@code [workspaces.NAME]} over {@code [defaults]} over the built-in defaults.
 */
public record SweepPolicy(HostConfig config, Optional<Duration> olderThanFlag, Optional<Boolean> volumesFlag,
                          Duration createdGrace) {

    /** Default {@code older_than}: an exited workspace is removed as soon as it is seen. */
    public static final Duration DEFAULT_OLDER_THAN = Duration.ZERO;
    /** Default {@code volumes}: anonymous volumes stay unless asked for, like {@code docker rm}. */
    public static final boolean DEFAULT_VOLUMES = false;
    /**
     * A created container may be about to start ({@code docker run} creates, then starts); one
     * younger than this is never removed, whatever {@code older_than} says.
     */
    public static final Duration CREATED_GRACE = Duration.ofMinutes(2);

    public static SweepPolicy of(HostConfig config, Optional<Duration> olderThanFlag, Optional<Boolean> volumesFlag) {
        return new SweepPolicy(config, olderThanFlag, volumesFlag, CREATED_GRACE);
    }

    public record Effective(Duration olderThan, boolean volumes) {
    }

    public Effective forContainer(Map<String, String> labels) {
        HostConfig.Settings file = config.forWorkspace(labels.get(Labels.WORKSPACE));
        return new Effective(
                olderThanFlag.or(file::olderThan).orElse(DEFAULT_OLDER_THAN),
                volumesFlag.or(file::volumes).orElse(DEFAULT_VOLUMES));
    }
}
