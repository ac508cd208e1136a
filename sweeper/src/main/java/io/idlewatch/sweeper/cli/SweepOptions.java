package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.ConfigException;
import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.config.HostConfigLoader;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.SweepPolicy;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerApi;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The options {@code sweep} and {@code watch} share. */
final class SweepOptions {

    @Option(names = "--older-than", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "Only containers finished (or, never started, created) at least this long ago, "
                    + "e.g. 10m, 1h30m, 90s; a bare number is seconds. Default 0 (config: older_than). "
                    + "A created container younger than 2m is never removed.")
    Duration olderThan;

    @Option(names = "--unplanned-older-than", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "How long a workspace whose stop nobody decided stays: stopped from outside (docker stop, "
                    + "an engine restart, a reboot) or killed without a final record. Default 24h "
                    + "(config: unplanned_older_than); never less than --older-than.")
    Duration unplannedOlderThan;

    @Option(names = "--label", paramLabel = "K=V", converter = Converters.LabelConverter.class,
            description = "Also require this label (KEY=VALUE or KEY); repeatable, ANDed with io.idlewatch.managed=true.")
    List<String> labels = new ArrayList<>();

    @Option(names = "--volumes", negatable = true,
            description = "Remove the containers' anonymous volumes too; named volumes always stay (config: volumes).")
    Boolean volumes;

    @Option(names = "--dry-run", description = "Print the same lines, remove nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Option(names = "--parallel", paramLabel = "N",
            description = "Removals in flight at once, 1 to 32. Default ${DEFAULT-VALUE}.")
    int parallel = Sweeper.DEFAULT_PARALLELISM;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Host config (TOML). Default: $XDG_CONFIG_HOME/idlewatch/config.toml, else /etc/idlewatch/config.toml.")
    Path config;

    /** Everything that can be wrong without asking Docker, checked before Docker is asked anything. */
    HostConfig checkAndLoadConfig(CliContext context) {
        if (parallel < 1 || parallel > 32) {
            throw new ConfigException("--parallel " + parallel + " is out of range; use 1 to 32, e.g. --parallel "
                    + Sweeper.DEFAULT_PARALLELISM);
        }
        return HostConfigLoader.load(config, context.env());
    }

    LabelSelector selector() {
        try {
            return LabelSelector.managedAnd(labels);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    SweepPolicy policy(HostConfig hostConfig, CliContext context) {
        return new SweepPolicy(hostConfig, Optional.ofNullable(olderThan), Optional.ofNullable(volumes),
                context.createdGrace(), Optional.ofNullable(unplannedOlderThan));
    }

    Sweeper sweeper(DockerApi docker, LabelSelector selector, HostConfig hostConfig, CliContext context) {
        return new Sweeper(docker, selector, policy(hostConfig, context), parallel, context.clock(), context.hooks());
    }
}
