package io.idlewatch.images;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code docker exec -it CONTAINER bash} the way a person runs it: the docker CLI
 * under {@code script}, which gives it a pseudo-terminal on the host, so the
 * engine allocates a real /dev/pts/N in the container. Keystrokes go in through
 * script's stdin; everything the terminal shows is collected.
 */
final class TtySession implements AutoCloseable {
    private final Process process;
    private final OutputStream keys;
    private final StringBuffer screen;

    private TtySession(Process process) {
        this.process = process;
        this.keys = process.getOutputStream();
        this.screen = Watched.drain(process.getInputStream());
    }

    static TtySession open(Box box) {
        return open(box, "-e TERM=dumb", "bash --noprofile --norc -i");
    }

    /** {@code docker exec -it OPTIONS CONTAINER COMMAND} under a pseudo-terminal. */
    static TtySession open(Box box, String execOptions, String command) {
        String docker = "docker exec -it " + execOptions + " " + box.id + " " + command;
        ProcessBuilder pb = new ProcessBuilder(List.of("script", "-qfec", docker, "/dev/null"))
                .redirectErrorStream(true);
        pb.environment().put("TERM", "dumb");
        try {
            return new TtySession(pb.start());
        } catch (IOException e) {
            throw new AssertionError("cannot run script(1) and the docker CLI: " + e, e);
        }
    }

    /** Types {@code text} (a keystroke or a line) into the session. */
    void type(String text) {
        try {
            keys.write(text.getBytes(StandardCharsets.UTF_8));
            keys.flush();
        } catch (IOException e) {
            throw new AssertionError("the session ended: " + screen, e);
        }
    }

    /** Everything the terminal showed so far. */
    String screen() {
        return screen.toString();
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
