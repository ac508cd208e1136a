package io.idlewatch.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What the tests do from the host, as root, to a running container: find the agent's process,
 * read its memory, and run a program in the container's network namespace ({@code nsenter -n}).
 */
final class Host {
    private Host() {
    }

    /** The host pid of the container's first process. */
    static long pid1(Box box) {
        return box.inspect().getState().getPidLong();
    }

    /** The host pid of the agent's JVM: PID 1 or one of its children. */
    static long agentJvm(Box box) {
        long pid = pid1(box);
        if (cmdline(pid).contains("/opt/idlewatch/runtime/bin/java")) {
            return pid;
        }
        for (long child : children(pid)) {
            if (cmdline(child).contains("/opt/idlewatch/runtime/bin/java")) {
                return child;
            }
        }
        throw new AssertionError("no agent JVM under host pid " + pid);
    }

    private static List<Long> children(long pid) {
        List<Long> out = new ArrayList<>();
        try {
            for (String t : Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).trim().split(" ")) {
                if (!t.isEmpty()) {
                    out.add(Long.parseLong(t));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("children of " + pid + ": " + e);
        }
        return out;
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** VmRSS of a host process, in KiB. */
    static long rssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("status of " + pid + ": " + e);
        }
        throw new AssertionError("no VmRSS for " + pid);
    }

    /** Runs {@code command} in the network namespace of host process {@code pid}; returns its output. */
    static String inNetns(long pid, Duration timeout, String... command) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid), "-n"));
        cmd.addAll(List.of(command));
        return run(timeout, cmd);
    }

    static String run(Duration timeout, List<String> cmd) {
        try {
            Path out = Files.createTempFile("idlewatch-run-", ".out");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(cmd + " still running after " + timeout + ": " + Files.readString(out));
                }
                String text = Files.readString(out);
                if (p.exitValue() != 0) {
                    throw new AssertionError(cmd + " exited " + p.exitValue() + ": " + text);
                }
                return text;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new AssertionError(cmd + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** A test resource copied to a file the host's programs can read. */
    static Path resource(String name) {
        try (var in = Host.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new AssertionError("no resource " + name);
            }
            Path f = Files.createTempFile("idlewatch-", "-" + name);
            Files.write(f, in.readAllBytes());
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new AssertionError(name + ": " + e, e);
        }
    }
}
