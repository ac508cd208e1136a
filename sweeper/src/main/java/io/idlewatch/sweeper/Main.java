package io.idlewatch.sweeper;

import io.idlewatch.sweeper.cli.Cli;
import io.idlewatch.sweeper.cli.CliContext;

import java.io.PrintWriter;

/** The {@code idlewatch} host CLI; see {@link Cli}. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(Cli.run(args, CliContext.system(), out, err));
    }
}
