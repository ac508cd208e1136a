package io.idlewatch.sweeper.metrics;

import io.idlewatch.sweeper.cli.TerminalText;
import io.idlewatch.sweeper.config.HostConfig;
import io.idlewatch.sweeper.core.AgentState;
import io.idlewatch.sweeper.core.ContainerOutcome;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.core.SweepPolicy;
import io.idlewatch.sweeper.core.SweepReport;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.core.WorkspaceStatus;
import io.idlewatch.sweeper.docker.DockerApi;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code idlewatch watch --metrics HOST:PORT}: the Prometheus Java client's registry and HTTP
 * exporter. The watcher's own counters are kept as it works; the per-workspace gauges are read at
 * scrape time through the same code as {@code idlewatch ps --all} (state files through the archive
 * API, never counting as activity), so a scrape and {@code ps} agree.
 */
public final class WatchMetrics {

    /**
     * Scrapes closer together than this reuse the last workspace listing: each listing reads one
     * state file per workspace, and a scraper misconfigured to a 1 s interval must not turn that
     * into a steady load on the engine. Prometheus' usual 15-60 s is never affected.
     */
    static final Duration MIN_LISTING_INTERVAL = Duration.ofSeconds(5);
    /** A label value is bounded like a table cell: it came from whoever created the container. */
    static final int MAX_LABEL_CHARS = 128;
    static final String KEPT_UNTIL = "idlewatch_workspace_kept_until_timestamp_seconds";

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter sweeps;
    private final Counter sweepFailures;
    private final Counter removed;
    private final Counter skipped;
    private final Counter failed;
    private final Gauge lastSweep;
    private final Gauge eventStream;
    private final Counter wakes;
    private final Counter wakeFailures;

    public WatchMetrics(DockerApi docker, LabelSelector selector, Clock clock) {
        this(docker, selector, clock, SweepPolicy.of(HostConfig.NONE, Optional.empty(), Optional.empty()));
    }

    /** {@code policy}: the watcher's own, so that a kept workspace's gauge says when its sweeps will remove it. */
    public WatchMetrics(DockerApi docker, LabelSelector selector, Clock clock, SweepPolicy policy) {
        sweeps = Counter.builder().name("idlewatch_watch_sweeps_total")
                .help("Sweeps run by watch (on die events, every interval, on reconnect)").register(registry);
        sweepFailures = Counter.builder().name("idlewatch_watch_sweep_failures_total")
                .help("Sweeps that could not run: the engine did not answer").register(registry);
        removed = Counter.builder().name("idlewatch_watch_removed_containers_total")
                .help("Containers removed").register(registry);
        skipped = Counter.builder().name("idlewatch_watch_skipped_containers_total")
                .help("Containers left alone, by reason").labelNames("reason").register(registry);
        failed = Counter.builder().name("idlewatch_watch_failed_removals_total")
                .help("Removals that failed (the engine refused or errored)").register(registry);
        lastSweep = Gauge.builder().name("idlewatch_watch_last_sweep_timestamp_seconds")
                .help("When the last sweep that ran finished, Unix time").register(registry);
        eventStream = Gauge.builder().name("idlewatch_watch_event_stream_connected")
                .help("1 while the Docker event stream is connected, 0 while watch is reconnecting").register(registry);
        wakes = Counter.builder().name("idlewatch_watch_wakes_total")
                .help("Workspaces started by watch --wake because a client connected, by workspace")
                .labelNames("workspace").register(registry);
        wakeFailures = Counter.builder().name("idlewatch_watch_wake_failures_total")
                .help("Wakes that failed (the engine did not start the workspace, or its port did not answer "
                        + "within the wake timeout), by workspace").labelNames("workspace").register(registry);
        for (ContainerOutcome.SkipReason reason : ContainerOutcome.SkipReason.values()) {
            skipped.labelValues(reasonLabel(reason)); // every reason present from the start, at 0
        }
        registry.register(new Workspaces(docker, selector, clock, policy));
    }

    /** The reason as {@code sweep --json} names it: {@code too-young}, {@code removing}, … */
    static String reasonLabel(ContainerOutcome.SkipReason reason) {
        return reason.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public void sweepDone(SweepReport report, Instant at) {
        sweeps.inc();
        removed.inc(report.count(ContainerOutcome.Action.REMOVED));
        failed.inc(report.count(ContainerOutcome.Action.FAILED));
        report.skippedByReason().forEach((reason, n) -> skipped.labelValues(reasonLabel(reason)).inc(n));
        lastSweep.set(at.toEpochMilli() / 1000.0);
    }

    public void sweepFailed() {
        sweepFailures.inc();
    }

    /** One wake of {@code workspace} (its display name) that worked, or failed. */
    public void wake(String workspace, boolean ok) {
        (ok ? wakes : wakeFailures).labelValues(Workspaces.clean(workspace)).inc();
    }

    public void eventStream(boolean connected) {
        eventStream.set(connected ? 1 : 0);
    }

    /** Serves {@code /metrics} on {@code host:port} (port 0: any free one) until closed. */
    public HTTPServer serve(String host, int port) throws IOException {
        return HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
    }

    /** The per-workspace gauges, from one listing per scrape. */
    private static final class Workspaces implements MultiCollector {
        private final DockerApi docker;
        private final LabelSelector selector;
        private final Clock clock;
        private final SweepPolicy policy;
        private Instant listedAt = Instant.MIN;
        private MetricSnapshots last = MetricSnapshots.of();

        Workspaces(DockerApi docker, LabelSelector selector, Clock clock, SweepPolicy policy) {
            this.docker = docker;
            this.selector = selector;
            this.clock = clock;
            this.policy = policy;
        }

        @Override
        public synchronized MetricSnapshots collect() {
            Instant now = clock.instant();
            if (Duration.between(listedAt, now).compareTo(MIN_LISTING_INTERVAL) < 0) {
                return last;
            }
            // An engine that does not answer fails the scrape (the exporter answers 500), which is
            // what a scraper should see: "up" stays about the watcher, the error about the engine.
            List<WorkspaceStatus> all = WorkspaceStatus.list(docker, selector, true, Sweeper.DEFAULT_PARALLELISM);
            GaugeSnapshot.Builder state = GaugeSnapshot.builder().name("idlewatch_workspace_state")
                    .help("1 for the engine's state of each workspace container (label state)");
            GaugeSnapshot.Builder idle = GaugeSnapshot.builder().name("idlewatch_workspace_idle_seconds")
                    .help("Idle time as of the agent's last state-file write (as idlewatch ps shows it)");
            GaugeSnapshot.Builder threshold = GaugeSnapshot.builder().name("idlewatch_workspace_idle_timeout_seconds")
                    .help("The workspace's idle threshold; absent when off");
            GaugeSnapshot.Builder activity = GaugeSnapshot.builder().name("idlewatch_workspace_last_activity_timestamp_seconds")
                    .help("When the workspace was last active, Unix time; label signal is what fired");
            GaugeSnapshot.Builder kept = GaugeSnapshot.builder().name(KEPT_UNTIL)
                    .help("An exited workspace whose stop nobody decided (stopped from outside, killed): until when "
                            + "sweeps keep it, Unix time");
            GaugeSnapshot.Builder degraded = GaugeSnapshot.builder().name("idlewatch_workspace_signal_degraded_seconds")
                    .help("How long a sensor has been degraded without a break (it counts as activity), as of the"
                            + " agent's last write; compare with idlewatch_workspace_idle_timeout_seconds");
            for (WorkspaceStatus w : all) {
                String workspace = clean(w.displayName());
                String container = w.container().shortId();
                Labels labels = Labels.of("workspace", workspace, "container", container);
                state.dataPoint(point(1, labels.add("state", clean(w.container().state()))));
                w.keptUntil(policy).ifPresent(until -> kept.dataPoint(point(until.toEpochMilli() / 1000.0, labels)));
                WorkspaceStatus.Record record = w.record(now);
                Optional<AgentState> agent = w.agent();
                if (agent.isEmpty()) {
                    continue;
                }
                AgentState a = agent.get();
                // ps shows idle time only from a live record or a final one: the same here.
                if (record == WorkspaceStatus.Record.LIVE || record == WorkspaceStatus.Record.FINAL) {
                    a.idle().ifPresent(d -> idle.dataPoint(point(d.toMillis() / 1000.0, labels)));
                }
                a.timeout().ifPresent(d -> threshold.dataPoint(point(d.toMillis() / 1000.0, labels)));
                if (record == WorkspaceStatus.Record.LIVE) {
                    a.degradedFor().forEach((name, d) -> degraded.dataPoint(point(d.toMillis() / 1000.0,
                            labels.add("signal", clean(name)))));
                }
                a.lastActivity().ifPresent(at -> activity.dataPoint(point(at.toEpochMilli() / 1000.0,
                        labels.add("signal", clean(a.lastActivitySignal().orElse(""))))));
            }
            last = MetricSnapshots.of(state.build(), idle.build(), threshold.build(), activity.build(), kept.build(),
                    degraded.build());
            listedAt = now;
            return last;
        }

        @Override
        public List<String> getPrometheusNames() {
            return List.of("idlewatch_workspace_state", "idlewatch_workspace_idle_seconds",
                    "idlewatch_workspace_idle_timeout_seconds", "idlewatch_workspace_last_activity_timestamp_seconds",
                    KEPT_UNTIL, "idlewatch_workspace_signal_degraded_seconds");
        }

        private static GaugeSnapshot.GaugeDataPointSnapshot point(double value, Labels labels) {
            return GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(labels).build();
        }

        private static String clean(String text) {
            return TerminalText.clean(text == null ? "" : text, MAX_LABEL_CHARS);
        }
    }
}
