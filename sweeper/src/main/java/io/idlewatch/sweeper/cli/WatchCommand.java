package io.idlewatch.sweeper.cli;

import io.idlewatch.contract.Durations;
import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.core.ContainerOutcome;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.SweepReport;
import io.idlewatch.sweeper.core.WakeKeeper;
import io.idlewatch.sweeper.core.Watcher;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.metrics.WatchMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sun.misc.Signal;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code idlewatch watch}: sweep when labelled containers die, and every interval. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Run until SIGTERM: sweep shortly after a labelled container dies (Docker events) "
                + "and every interval for whatever the events missed.")
final class WatchCommand implements Callable<Integer> {

    /** Default periodic sweep; events do the quick work, this catches what they missed. */
    static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(5);
    /** Default wait after a die event: a restart policy gets to act before we look. */
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(5);

    @ParentCommand
    IdlewatchCommand parent;

    @Spec
    CommandSpec spec;

    @Mixin
    SweepOptions options;

    @Option(names = "--interval", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "Sweep at least this often. Default 5m (config: [defaults] interval).")
    Duration interval;

    @Option(names = "--grace", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "Wait this long after a container dies before sweeping. Default 5s.")
    Duration grace = DEFAULT_GRACE;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 "
                    + "(port 0: any free port, printed at start).")
    String metrics;

    @Option(names = "--wake",
            description = "Hold the published host ports of workspaces labelled io.idlewatch.wake=true that their "
                    + "agent stopped for idleness; a connection to one starts the workspace and is passed through "
                    + "once it answers. Needs the engine on this host.")
    boolean wake;

    @Option(names = "--wake-timeout", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "How long a connection waits for a woken workspace to answer before it is closed. Default 60s.")
    Duration wakeTimeout = WakeKeeper.DEFAULT_TIMEOUT;

    @Override
    public Integer call() {
        HostConfig hostConfig = options.checkAndLoadConfig(parent.context);
        LabelSelector selector = options.selector();
        Duration every = interval != null ? interval : hostConfig.interval().orElse(DEFAULT_INTERVAL);
        if (every.isZero()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--interval must be more than 0; " + Durations.EXAMPLE);
        }
        if (wakeTimeout.isZero()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--wake-timeout must be more than 0; " + Durations.EXAMPLE);
        }
        if (wake && !onThisHost(parent.endpoint().url())) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--wake needs the engine on this host "
                    + "(a unix:// socket, or tcp:// to localhost): it listens on the workspaces' published ports here and "
                    + "reaches them on the engine's networks; " + parent.endpoint().url() + " is elsewhere");
        }
        MetricsAddress address = metrics == null ? null : MetricsAddress.parse(spec, metrics);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (DockerApi docker = parent.connect();
             MetricsServer served = MetricsServer.start(address, docker, selector, parent.context.clock(),
                     options.policy(hostConfig, parent.context))) {
            Printer printer = new Printer(out, err, served.metrics());
            WakeKeeper keeper = wake ? new WakeKeeper(docker, selector, wakeTimeout, parent.context.clock(), printer) : null;
            printer.keeper = keeper;
            Watcher watcher = new Watcher(docker, options.sweeper(docker, selector, hostConfig, parent.context),
                    every, grace, parent.context.clock(), printer);
            // SIGTERM and SIGINT only ask to stop: the removals under way finish, then we exit 0.
            Signal.handle(new Signal("TERM"), signal -> watcher.requestStop());
            Signal.handle(new Signal("INT"), signal -> watcher.requestStop());
            out.println(TerminalText.line("watching " + parent.endpoint().url() + " for " + selector + ": on die (+"
                    + Durations.formatShort(grace) + ") and every " + Durations.formatShort(every)
                    + (options.dryRun ? " (dry run)" : "")
                    + (served.url() == null ? "" : "; metrics at " + served.url())
                    + (keeper == null ? "" : "; waking io.idlewatch.wake=true workspaces on connect (timeout "
                       + Durations.formatShort(wakeTimeout) + ")")));
            out.flush();
            if (keeper != null) {
                keeper.start();
            }
            try {
                watcher.run(options.dryRun);
            } finally {
                if (keeper != null) {
                    keeper.close();
                }
            }
            out.println("stopped");
            out.flush();
            return ExitCodes.OK;
        }
    }

    /** Only a unix socket or a loopback TCP endpoint is surely the engine of this host. */
    static boolean onThisHost(String url) {
        return url.startsWith("unix://") || url.matches("tcp://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:\\d+)?/?");
    }

    /** Quiet when a sweep found nothing: a watcher's log should show work, not heartbeats. */
    private final class Printer implements Watcher.Listener, WakeKeeper.Listener {
        private final PrintWriter out;
        private final PrintWriter err;
        private final WatchMetrics metrics;
        private WakeKeeper keeper;

        @Override
        public synchronized void onLine(String line) {
            // Lines quote workspace names and engine answers.
            out.println(TerminalText.line(line));
            out.flush();
        }

        @Override
        public void onWake(String workspace, boolean ok) {
            if (metrics != null) {
                metrics.wake(workspace, ok);
            }
        }

        Printer(PrintWriter out, PrintWriter err, WatchMetrics metrics) {
            this.out = out;
            this.err = err;
            this.metrics = metrics;
        }

        @Override
        public void onEventStream(boolean connected) {
            if (metrics != null) {
                metrics.eventStream(connected);
            }
        }

        @Override
        public void onSweepFailed() {
            if (metrics != null) {
                metrics.sweepFailed();
            }
        }

        @Override
        public void onEach(ContainerOutcome outcome) {
            if (!options.json) {
                out.println(SweepOutput.line(outcome, options.dryRun));
                out.flush();
            }
        }

        @Override
        public void onReport(SweepReport report) {
            if (keeper != null) {
                keeper.refreshSoon(); // a die event, a removal: what is held may change
            }
            if (metrics != null) {
                metrics.sweepDone(report, parent.context.clock().instant());
            }
            if (report.outcomes().isEmpty()) {
                return;
            }
            if (options.json) {
                SweepOutput.printJson(report, out);
            } else {
                out.println(SweepOutput.summary(report));
                out.flush();
            }
        }

        @Override
        public void onProblem(String line) {
            // Problems quote engine messages and container names.
            err.println(TerminalText.line("idlewatch watch: " + line));
            err.flush();
        }
    }
}
