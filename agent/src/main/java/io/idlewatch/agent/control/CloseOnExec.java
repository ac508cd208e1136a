package io.idlewatch.agent.control;

import io.idlewatch.agent.posix.LibC;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The JDK opens sockets without FD_CLOEXEC (it closes everything itself when
 * it starts processes; we use posix_spawn). Marks the descriptors a socket
 * call just opened, so a spawned command does not inherit them: the agent's
 * workload must not get the listening socket, and inhibit's CMD must not keep
 * the hold's connection open after inhibit is gone.
 */
final class CloseOnExec {
    private CloseOnExec() {
    }

    /** The descriptors open now. */
    static Set<Integer> openNow() throws IOException {
        Set<Integer> fds = new HashSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            s.forEach(p -> fds.add(Integer.parseInt(p.getFileName().toString())));
        }
        return fds;
    }

    /** Sets FD_CLOEXEC on every descriptor above 2 opened since {@code before}. */
    static void markSince(Set<Integer> before) throws IOException {
        for (int fd : openNow()) {
            if (fd > 2 && !before.contains(fd)) {
                int flags = LibC.fcntl(fd, LibC.F_GETFD, 0);
                if (flags >= 0) {
                    LibC.fcntl(fd, LibC.F_SETFD, flags | LibC.FD_CLOEXEC);
                }
            }
        }
    }
}
