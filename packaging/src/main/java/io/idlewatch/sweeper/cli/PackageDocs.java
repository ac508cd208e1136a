package io.idlewatch.sweeper.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.codegen.docgen.manpage.ManPageGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the man pages (AsciiDoc, one per command) and the bash completion script from the
 * command model the CLI itself runs, so neither can drift from the options. It lives in the CLI's
 * package (in this module, not in the shipped jar) to build the command exactly as {@link Cli} does.
 *
 * <p>Usage: {@code PackageDocs MAN_ADOC_DIR COMPLETION_FILE}
 */
public final class PackageDocs {

    private PackageDocs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: PackageDocs MAN_ADOC_DIR COMPLETION_FILE");
        }
        Path manDir = Path.of(args[0]);
        Path completion = Path.of(args[1]);
        CommandLine commandLine = new CommandLine(new IdlewatchCommand(CliContext.system()));

        Files.createDirectories(manDir);
        // idlewatch.adoc, then idlewatch-sweep.adoc, ... for every subcommand
        int failures = ManPageGenerator.generateManPage(manDir.toFile(), null, new boolean[0], true,
                commandLine.getCommandSpec());
        if (failures != 0) {
            throw new IOException("man page generation failed for " + failures + " command(s)");
        }

        Files.createDirectories(completion.toAbsolutePath().getParent());
        Files.writeString(completion, AutoComplete.bash("idlewatch", commandLine));
    }
}
