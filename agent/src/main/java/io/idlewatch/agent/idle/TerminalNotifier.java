package io.idlewatch.agent.idle;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import io.idlewatch.agent.signal.tty.TtySignal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the idle notice to every open terminal under {@code <dev>/pts}, best
 * effort. Each terminal is opened O_NONBLOCK so one whose reader is stuck
 * (full output buffer, suspended client) cannot block the loop — the write
 * just comes back short or with EAGAIN — and O_NOCTTY so the agent, a session
 * leader, never acquires it as its controlling terminal. Afterwards the tty
 * signal is told to ignore the output time the write caused.
 */
public final class TerminalNotifier {
    private final Path ptsDir;
    private final TtySignal tty;

    /** @param tty the tty signal to acknowledge writes to, or null when that signal is off */
    public TerminalNotifier(Path devRoot, TtySignal tty) {
        this.ptsDir = devRoot.resolve("pts");
        this.tty = tty;
    }

    /** @return how many terminals took the whole text */
    public int notifyAll(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int written = 0;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(ptsDir)) {
            for (Path dev : dir) {
                if (!TtySignal.isTerminal(dev.getFileName().toString())) {
                    continue;
                }
                if (Posix.writeNonBlocking(dev.toString(), bytes)) {
                    written++;
                }
                if (tty != null) {
                    tty.acknowledgeOwnWrite(dev);
                }
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            // best effort: a notice that cannot be written must not disturb the loop
        }
        return written;
    }

    /** open/write/close with the flags above; direct-mapped like the agent's other libc calls. */
    static final class Posix {
        static {
            Native.register(Posix.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
        }

        // Linux generic values (x86_64 and aarch64 agree)
        private static final int O_WRONLY = 01;
        private static final int O_NOCTTY = 0400;
        private static final int O_NONBLOCK = 04000;
        private static final int O_CLOEXEC = 02000000;

        private Posix() {
        }

        private static native int open(String path, int flags, int mode);

        private static native long write(int fd, byte[] buf, long count);

        private static native int close(int fd);

        static boolean writeNonBlocking(String path, byte[] bytes) {
            int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
            if (fd < 0) {
                return false;
            }
            try {
                return write(fd, bytes, bytes.length) == bytes.length;
            } finally {
                close(fd);
            }
        }
    }
}
