package io.idlewatch.sweeper.cli;

import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code idlewatch}: the host side of idlewatch. Subcommands do the work. */
@Command(name = "idlewatch",
        mixinStandardHelpOptions = true,
        versionProvider = IdlewatchCommand.Version.class,
        description = "Removes the exited workspace containers idlewatch leaves behind and shows every workspace's idle state.",
        subcommands = {SweepCommand.class, PsCommand.class, WatchCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  done (including nothing to do)", "  1  some removals failed",
                "  2  usage or config error", "  3  Docker unreachable"})
public final class IdlewatchCommand implements Runnable {

    final CliContext context;

    @Option(names = "--host", paramLabel = "URL", scope = ScopeType.INHERIT,
            description = "Docker endpoint, e.g. unix:///var/run/docker.sock or tcp://host:2376."
                    + " Default: DOCKER_HOST, the current docker context, then unix:///var/run/docker.sock.")
    String host;

    IdlewatchCommand(CliContext context) {
        this.context = context;
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "missing command: sweep, ps or watch");
    }

    DockerEndpoint endpoint() {
        return DockerEndpoint.resolve(host, context.env());
    }

    DockerApi connect() {
        return context.connector().apply(endpoint());
    }

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = IdlewatchCommand.class.getPackage().getImplementationVersion();
            return new String[] {"idlewatch " + (version == null ? "dev" : version)
                    + " (Docker API " + io.idlewatch.sweeper.docker.DockerJavaApi.API_VERSION + ")"};
        }
    }
}
