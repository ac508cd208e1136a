package io.idlewatch.agent.control;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * {@code idlewatch --version}: the agent's version and build, as the jar's manifest records them
 * at build time (agent/pom.xml) — the same values images/build.sh puts on the image as the
 * labels org.opencontainers.image.version and .revision. Needs no running agent.
 */
final class VersionCommand implements Callable<Integer> {
    /** A commit is shown as git shows it in one line. */
    private static final int SHORT_REVISION = 12;

    private final ControlCommands.Context ctx;
    private final List<String> args;

    VersionCommand(ControlCommands.Context ctx, List<String> args) {
        this.ctx = ctx;
        this.args = args;
    }

    @Override
    public Integer call() throws Exception {
        if (!args.isEmpty()) {
            throw new ControlCommands.UsageException("--version: unknown argument \"" + args.get(0) + "\"");
        }
        Attributes manifest = manifest();
        String version = entry(manifest, "Implementation-Version");
        String revision = entry(manifest, "Build-Revision");
        String date = entry(manifest, "Build-Date");
        ctx.out().println("idlewatch agent " + (version == null ? "dev" : version));
        ctx.out().println("build: " + (revision == null ? "unknown"
                : revision.substring(0, Math.min(SHORT_REVISION, revision.length()))
                  + ("true".equals(entry(manifest, "Build-Dirty")) ? " (modified)" : ""))
                + (date == null ? "" : ", " + date));
        return ControlCommands.EXIT_OK;
    }

    /** This jar's own main attributes: the class path also holds jna.jar, with a manifest of its own. */
    private static Attributes manifest() {
        try {
            CodeSource source = VersionCommand.class.getProtectionDomain().getCodeSource();
            Path jar = Path.of(source.getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                return new Attributes();
            }
            try (JarFile file = new JarFile(jar.toFile(), false)) {
                Manifest manifest = file.getManifest();
                return manifest == null ? new Attributes() : manifest.getMainAttributes();
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            return new Attributes();
        }
    }

    /** An entry the build left unresolved ("${git...}": built outside a git checkout) counts as absent. */
    private static String entry(Attributes manifest, String name) {
        String value = manifest.getValue(name);
        return value == null || value.isBlank() || value.startsWith("${") ? null : value;
    }
}
