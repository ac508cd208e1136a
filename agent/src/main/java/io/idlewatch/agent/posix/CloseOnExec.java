package io.idlewatch.agent.posix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Keeps the JVM's own descriptors out of spawned commands.
 *
 * <p>The JDK opens files and sockets without FD_CLOEXEC (it closes everything
 * itself when it starts processes; we use posix_spawn). {@code init.Spawner} either
 * closes everything above 2 in the child or, when the agent was handed
 * descriptors to pass on, calls {@link #markAllButInherited} first: so the
 * workload never gets the control socket, and inhibit's CMD never keeps the
 * hold's connection open after inhibit is gone.
 */
public final class CloseOnExec {
    private CloseOnExec() {
    }

    /**
     * Descriptors the agent itself inherited (the launcher lists them in
     * IDLEWATCH_INHERITED_FDS before the JVM opens anything): like tini, pass them on.
     */
    public static final Set<Integer> INHERITED = parse(System.getenv("IDLEWATCH_INHERITED_FDS"));

    /**
     * Sets FD_CLOEXEC on every descriptor above 2 but the inherited ones: the modules
     * file, jars, /dev/random and sockets the JVM opened must not leak into the workload.
     */
    public static void markAllButInherited() {
        try (Stream<Path> open = Files.list(Path.of("/proc/self/fd"))) {
            for (Path entry : (Iterable<Path>) open::iterator) {
                int fd = Integer.parseInt(entry.getFileName().toString());
                if (fd > 2 && !INHERITED.contains(fd)) {
                    int flags = LibC.fcntl(fd, LibC.F_GETFD, 0);
                    if (flags >= 0 && (flags & LibC.FD_CLOEXEC) == 0) {
                        LibC.fcntl(fd, LibC.F_SETFD, flags | LibC.FD_CLOEXEC);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: the workload may inherit a few descriptors; never fail a spawn for it
        }
    }

    static Set<Integer> parse(String list) {
        Set<Integer> fds = new HashSet<>();
        if (list != null) {
            for (String part : list.split(",")) {
                try {
                    fds.add(Integer.parseInt(part.trim()));
                } catch (NumberFormatException ignored) {
                    // not a number: not a descriptor
                }
            }
        }
        return fds;
    }
}
