package io.idlewatch.agent.init;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads parent links from /proc/PID/stat. */
final class ProcTree {
    private ProcTree() {
    }

    static List<Integer> childrenOf(int parent) {
        List<Integer> out = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p))) {
            for (Path dir : dirs) {
                try {
                    String stat = Files.readString(dir.resolve("stat"));
                    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
                    String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3);
                    if (Integer.parseInt(rest[1]) == parent) {
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
