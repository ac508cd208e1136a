package io.idlewatch.sweeper.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** {@code --metrics HOST:PORT} as given, checked where it enters. */
record MetricsAddress(String host, int port) {

    static final String EXAMPLE = "e.g. 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464";

    static MetricsAddress parse(CommandSpec spec, String text) {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? "" : text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        String port = colon < 0 ? "" : text.substring(colon + 1);
        if (host.isEmpty() || !port.matches("\\d{1,5}") || Integer.parseInt(port) > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--metrics \"" + text + "\" is not HOST:PORT with a port 0-65535; " + EXAMPLE);
        }
        return new MetricsAddress(host, Integer.parseInt(port));
    }
}
