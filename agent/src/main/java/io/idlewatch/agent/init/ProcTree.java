package io.idlewatch.agent.init;

import io.idlewatch.agent.signal.ProcFiles;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads parent links from /proc/PID/stat, with the same small readers the signals use. */
final class ProcTree {
    private ProcTree() {
    }

    static List<Integer> childrenOf(int parent) {
        List<Integer> out = new ArrayList<>();
        byte[] buf = new byte[512];
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), ProcTree::isPid)) {
            for (Path dir : dirs) {
                try {
                    int len = ProcFiles.read(dir.resolve("stat"), buf);
                    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
                    int rest = ProcFiles.afterComm(buf, len);
                    int ppid = rest < 0 ? -1 : ProcFiles.field(buf, rest, len, 1);
                    if (ppid >= 0 && ProcFiles.parseLong(buf, ppid, len) == parent) {
                        out.add(Integer.parseInt(dir.getFileName().toString()));
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited while we looked
                }
            }
        } catch (IOException e) {
            // no /proc: nothing more we can find
        }
        return out;
    }

    private static boolean isPid(Path p) {
        String name = p.getFileName().toString();
        return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
    }
}
