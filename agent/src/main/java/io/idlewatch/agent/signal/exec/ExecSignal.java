package io.idlewatch.agent.signal.exec;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ProcFiles;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Fires while a {@code docker exec} process has been running longer than
 * {@link #MIN_RUNNING}. Inside the container's pid namespace such a process
 * has PPid 0 (its parent, the runtime, lives outside) and is not PID 1.
 * Processes without a command line (kernel threads, zombies) are skipped, and
 * so are the agent's own control clients ({@code idlewatch status}, …), which
 * must never count as activity.
 *
 * <p>An exec with a controlling terminal ({@code docker exec -it … bash}) is
 * left to the tty signal: a shell someone opened and forgot would otherwise
 * keep the workspace running forever, and the idle notice written to its
 * terminal could never come true. Typing or output there counts through tty.
 */
public final class ExecSignal implements ActivitySignal {
    public static final Duration MIN_RUNNING = Duration.ofSeconds(10);
    /** argv[1] values of the launcher that are control clients, not work. */
    private static final String[] CONTROL_COMMANDS = {"status", "timeout", "touch", "inhibit", "stop"};
    private static final long MILLIS_PER_TICK = 10; // USER_HZ = 100

    private final Path procRoot;
    private final long minRunningMillis;
    private final byte[] buf = new byte[4096];

    public ExecSignal(Path procRoot) {
        this(procRoot, MIN_RUNNING);
    }

    public ExecSignal(Path procRoot, Duration minRunning) {
        this.procRoot = procRoot;
        this.minRunningMillis = minRunning.toMillis();
    }

    @Override
    public String name() {
        return "exec";
    }

    @Override
    public Reading sample(long monotonicNanos) throws IOException {
        long uptimeMillis = uptimeMillis();
        long longestPid = -1;
        long longestMillis = -1;
        int count = 0;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(procRoot)) {
            for (Path entry : dir) {
                String name = entry.getFileName().toString();
                if (!isPid(name) || name.equals("1")) {
                    continue;
                }
                long started = execStartTicks(entry);
                if (started < 0) {
                    continue;
                }
                count++;
                long running = uptimeMillis - started * MILLIS_PER_TICK;
                if (running > longestMillis) {
                    longestMillis = running;
                    longestPid = Long.parseLong(name);
                }
            }
        }
        if (count == 0) {
            return Reading.quiet("exec none");
        }
        String detail = "exec pid " + longestPid + " running " + (Math.max(0, longestMillis) / 1000) + "s";
        return longestMillis > minRunningMillis ? Reading.fired(detail) : Reading.quiet(detail);
    }

    private long uptimeMillis() throws IOException {
        int n = ProcFiles.read(procRoot.resolve("uptime"), buf);
        long ms = ProcFiles.parseSecondsAsMillis(buf, 0, n);
        if (ms < 0) {
            throw new IOException("cannot read " + procRoot.resolve("uptime"));
        }
        return ms;
    }

    /** Start time in ticks since boot if {@code proc} is a docker exec process we count, else -1. */
    private long execStartTicks(Path proc) {
        int n;
        try {
            n = ProcFiles.read(proc.resolve("stat"), buf);
        } catch (IOException e) {
            return -1; // exited between listing and reading
        }
        int after = ProcFiles.afterComm(buf, n);
        if (after < 0) {
            return -1;
        }
        // after "(comm)": field 3 state, 4 ppid, ..., 22 starttime
        int ppidAt = ProcFiles.field(buf, after, n, 4 - 3);
        if (ppidAt < 0 || ProcFiles.parseLong(buf, ppidAt, n) != 0) {
            return -1;
        }
        int ttyAt = ProcFiles.field(buf, ppidAt, n, 7 - 4);
        if (ttyAt < 0 || ProcFiles.parseLong(buf, ttyAt, n) != 0) {
            return -1; // interactive: the tty signal judges it
        }
        int startAt = ProcFiles.field(buf, ttyAt, n, 22 - 7);
        long start = startAt < 0 ? -1 : ProcFiles.parseLong(buf, startAt, n);
        if (start < 0) {
            return -1;
        }
        try {
            n = ProcFiles.read(proc.resolve("cmdline"), buf);
        } catch (IOException e) {
            return -1;
        }
        if (n == 0 || isControlClient(buf, n)) {
            return -1;
        }
        return start;
    }

    /** A control client: the launcher, by path or name, with a client subcommand ({@code idlewatch status}). */
    static boolean isControlClient(byte[] cmdline, int len) {
        int end0 = endOfArg(cmdline, 0, len);
        int base = end0;
        while (base > 0 && cmdline[base - 1] != '/') {
            base--;
        }
        int sub = end0 + 1;
        if (!equalsAscii(cmdline, base, end0, "idlewatch") || sub >= len) {
            return false;
        }
        int subEnd = endOfArg(cmdline, sub, len);
        for (String c : CONTROL_COMMANDS) {
            if (equalsAscii(cmdline, sub, subEnd, c)) {
                return true;
            }
        }
        return false;
    }

    private static int endOfArg(byte[] b, int from, int len) {
        int end = from;
        while (end < len && b[end] != 0) {
            end++;
        }
        return end;
    }

    private static boolean equalsAscii(byte[] b, int from, int to, String s) {
        if (to - from != s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[from + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPid(String name) {
        if (name.isEmpty() || name.length() > 10) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

}
