package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.config.ConfigException;
import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.metrics.WatchMetrics;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;

import java.io.IOException;
import java.time.Clock;

/** The metrics and their HTTP server for one {@code watch}; nothing at all without {@code --metrics}. */
final class MetricsServer implements AutoCloseable {
    private final WatchMetrics metrics;
    private final HTTPServer server;
    private final String url;

    private MetricsServer(WatchMetrics metrics, HTTPServer server, String url) {
        this.metrics = metrics;
        this.server = server;
        this.url = url;
    }

    static MetricsServer start(MetricsAddress address, DockerApi docker, LabelSelector selector, Clock clock,
                               io.idlewatch.sweeper.core.SweepPolicy policy) {
        if (address == null) {
            return new MetricsServer(null, null, null);
        }
        WatchMetrics metrics = new WatchMetrics(docker, selector, clock, policy);
        try {
            HTTPServer server = metrics.serve(address.host(), address.port());
            String host = address.host().contains(":") ? "[" + address.host() + "]" : address.host();
            return new MetricsServer(metrics, server, "http://" + host + ":" + server.getPort() + "/metrics");
        } catch (IOException | RuntimeException e) {
            // Port taken, address not on this host: the operator's setting, so exit 2 with one line.
            throw new ConfigException("cannot serve metrics on " + address.host() + ":" + address.port() + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    WatchMetrics metrics() {
        return metrics;
    }

    String url() {
        return url;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }
}
