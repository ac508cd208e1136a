package io.idlewatch.agent.idle;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where the state file and the control socket live: {@code /run/idlewatch}, else
 * {@code /tmp/idlewatch} (a non-root agent, a read-only {@code /run}).
 *
 * <p>A directory is used only when it is a real directory (not a link), owned by the agent's
 * user, and writable by nobody else: {@code /tmp} is writable by every user, and anyone may have
 * planted {@code /tmp/idlewatch} there first as a link or a directory of their own, to have the
 * agent write or chmod through it. A directory the agent owns is tightened to 0755; one that root
 * finds owned by another user is taken over only where that user could not have swapped it (its
 * parent is root's and writable by nobody else), as {@code /run/idlewatch} in an image that made
 * it for its workspace user. Otherwise it is skipped with one line; with none left, there is no
 * state file and no control socket, and the workload runs all the same.
 */
public final class StateDirectory {
    private static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rwxr-xr-x");

    private StateDirectory() {
    }

    /** The first usable directory of {@code dirs}, or null for none. */
    public static Path choose(List<Path> dirs, Consumer<String> log) {
        int euid = effectiveUid();
        StringBuilder why = new StringBuilder();
        for (Path dir : dirs) {
            String problem = prepare(dir, euid);
            if (problem == null) {
                return dir;
            }
            why.append(why.length() == 0 ? "" : "; ").append(dir).append(' ').append(problem);
        }
        log.accept("idlewatch: no state file and no control socket: " + why
                + " (mount a tmpfs on /run, or give /run/idlewatch to the agent's user)");
        return null;
    }

    /** Makes {@code dir} usable; null when it is, else what is wrong with it. */
    static String prepare(Path dir, int euid) {
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Path parent = dir.getParent();
                if (parent != null && !Files.isDirectory(parent)) {
                    Files.createDirectories(parent);
                }
                try {
                    Files.createDirectory(dir);
                } catch (FileAlreadyExistsException raced) {
                    // someone made it just now: judged below like any existing one
                }
            }
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink() || !a.isDirectory()) {
                return "is not a directory (a link or a file someone put there)";
            }
            int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != euid) {
                if (euid != 0 || !parentIsRootsAlone(dir)) {
                    return "belongs to uid " + owner + ", not to the agent's uid " + euid;
                }
                Files.setOwner(dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("root"));
            }
            if (!a.permissions().equals(MODE)) {
                Files.setPosixFilePermissions(dir, MODE);
            }
            if (!Files.isWritable(dir)) {
                return "is not writable";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot be used (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
        }
    }

    private static boolean parentIsRootsAlone(Path dir) throws IOException {
        Path parent = dir.toAbsolutePath().getParent();
        if (parent == null) {
            return false;
        }
        PosixFileAttributes p = Files.readAttributes(parent, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int owner = (Integer) Files.getAttribute(parent, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> perms = p.permissions();
        return p.isDirectory() && owner == 0 && !perms.contains(PosixFilePermission.GROUP_WRITE)
                && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /** The owner of /proc/self is the process's effective uid; no native call needed. */
    static int effectiveUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return -1; // owns nothing: every directory is refused rather than trusted
        }
    }
}
