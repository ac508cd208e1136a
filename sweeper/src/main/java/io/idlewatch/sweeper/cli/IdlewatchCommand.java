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
        subcommands = {SweepCommand.class, PsCommand.class, WatchCommand.class,
                StartCommand.class, TimeoutCommand.class, TouchCommand.class, StopCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  done (including nothing to do)", "  1  some removals failed",
                "  2  usage or config error; a host verb refused by the agent", "  3  Docker unreachable",
                "  4  timeout/touch/stop: no such workspace among managed containers,",
                "     or it is not running, has no idlewatch agent, or it does not answer"})
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
                "missing command: sweep, ps, watch, timeout, touch or stop");
    }

    DockerEndpoint endpoint() {
        return DockerEndpoint.resolve(host, context.env());
    }

    DockerApi connect() {
        return context.connector().apply(endpoint());
    }

    /**
     * The version and the build it came from, as the jar's manifest records them at build time
     * (Implementation-Version; Build-Revision, Build-Dirty and Build-Date from sweeper/pom.xml).
     * Run from classes rather than the jar (tests, an IDE), there is no manifest: "dev", "unknown".
     */
    static final class Version implements picocli.CommandLine.IVersionProvider {
        /** A commit is shown as git shows it in one line. */
        private static final int SHORT_REVISION = 12;

        @Override
        public String[] getVersion() {
            java.util.jar.Attributes manifest = manifest();
            String version = IdlewatchCommand.class.getPackage().getImplementationVersion();
            String revision = entry(manifest, "Build-Revision");
            String build = revision == null ? "unknown"
                    : revision.substring(0, Math.min(SHORT_REVISION, revision.length()))
                      + ("true".equals(entry(manifest, "Build-Dirty")) ? " (modified)" : "");
            String date = entry(manifest, "Build-Date");
            return new String[] {"idlewatch " + (version == null ? "dev" : version),
                    "build: " + build + (date == null ? "" : ", " + date),
                    "Docker API " + io.idlewatch.sweeper.docker.DockerJavaApi.API_VERSION};
        }

        /** This jar's own main attributes, not the first MANIFEST.MF on the class path. */
        private static java.util.jar.Attributes manifest() {
            try {
                java.security.CodeSource source = IdlewatchCommand.class.getProtectionDomain().getCodeSource();
                java.nio.file.Path jar = java.nio.file.Path.of(source.getLocation().toURI());
                if (!java.nio.file.Files.isRegularFile(jar)) {
                    return new java.util.jar.Attributes();
                }
                try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile(), false)) {
                    java.util.jar.Manifest manifest = file.getManifest();
                    return manifest == null ? new java.util.jar.Attributes() : manifest.getMainAttributes();
                }
            } catch (java.io.IOException | java.net.URISyntaxException | RuntimeException e) {
                return new java.util.jar.Attributes();
            }
        }

        /** An entry the build left unresolved ("${git...}": no git checkout) counts as absent. */
        private static String entry(java.util.jar.Attributes manifest, String name) {
            String value = manifest.getValue(name);
            return value == null || value.isBlank() || value.startsWith("${") ? null : value;
        }
    }
}
