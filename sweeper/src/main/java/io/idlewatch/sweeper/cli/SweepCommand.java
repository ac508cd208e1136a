package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.SweepReport;
import io.idlewatch.sweeper.docker.DockerApi;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code idlewatch sweep}: remove the labelled containers that have finished. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Remove containers labelled io.idlewatch.managed=true that are exited, created or dead "
                + "(never running, paused or restarting ones, nor ones io.idlewatch.keep keeps). A stop nobody "
                + "decided (docker stop, an engine restart, a reboot, a kill) stays for --unplanned-older-than.")
final class SweepCommand implements Callable<Integer> {

    @ParentCommand
    IdlewatchCommand parent;

    @Spec
    CommandSpec spec;

    @Mixin
    SweepOptions options;

    @Override
    public Integer call() {
        // Config and selector errors come before any Docker call, so they are reported as such.
        HostConfig hostConfig = options.checkAndLoadConfig(parent.context);
        LabelSelector selector = options.selector();
        PrintWriter out = spec.commandLine().getOut();
        try (DockerApi docker = parent.connect()) {
            SweepReport report = options.sweeper(docker, selector, hostConfig, parent.context).sweep(options.dryRun,
                    outcome -> {
                        if (!options.json) {
                            out.println(SweepOutput.line(outcome, options.dryRun));
                            out.flush();
                        }
                    },
                    () -> false);
            if (options.json) {
                SweepOutput.printJson(report, out);
            } else {
                out.println(SweepOutput.summary(report));
                out.flush();
            }
            return report.anyFailed() ? ExitCodes.REMOVAL_FAILED : ExitCodes.OK;
        }
    }
}
