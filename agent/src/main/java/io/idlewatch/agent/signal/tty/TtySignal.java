package io.idlewatch.agent.signal.tty;

import io.idlewatch.agent.signal.ActivitySignal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Fires when any terminal under {@code <dev>/pts} saw input (access time) or
 * output (modification time) since the previous sample, or a new terminal
 * appeared. The kernel moves these times in 8-second steps, so the signal
 * compares each device's times with the last values it saw instead of with
 * the clock. Terminals present at the first sample are the baseline.
 *
 * <p>The agent itself writes the idle notice to terminals; it then calls
 * {@link #acknowledgeOwnWrite} so that its own output is not taken for a
 * person's.
 */
public final class TtySignal implements ActivitySignal {
    private final Path ptsDir;
    private final LongSupplier wallMillis;
    /**
     * The most terminals remembered (about 150 bytes each, 600 KiB): the kernel's default limit
     * on pseudo-terminals for the whole machine ({@code kernel.pty.max}). One beyond it is not
     * remembered and the sample counts as activity, saying so.
     */
    static final int MAX_TERMINALS = 4096;
    private final Map<String, long[]> lastSeen = new HashMap<>(); // name -> {atime, mtime, seenInScan}
    private boolean baselined;
    private long scan;

    public TtySignal(Path devRoot) {
        this(devRoot, System::currentTimeMillis);
    }

    public TtySignal(Path devRoot, LongSupplier wallMillis) {
        this.ptsDir = devRoot.resolve("pts");
        this.wallMillis = wallMillis;
    }

    @Override
    public String name() {
        return "tty";
    }

    /** The directory scanned ({@code <dev>/pts}); the idle notice goes to the same terminals. */
    public Path ptsDir() {
        return ptsDir;
    }

    @Override
    public Reading sample(long monotonicNanos) throws IOException {
        scan++;
        String firedName = null;
        String what = null;
        long when = 0;
        int terminals = 0;
        boolean overflow = false;
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(ptsDir)) {
            for (Path dev : dir) {
                String name = dev.getFileName().toString();
                if (!isTerminal(name)) {
                    continue;
                }
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(dev, BasicFileAttributes.class);
                } catch (IOException gone) {
                    continue; // closed between listing and reading
                }
                terminals++;
                long atime = a.lastAccessTime().toMillis();
                long mtime = a.lastModifiedTime().toMillis();
                long[] seen = lastSeen.get(name);
                if (seen == null && lastSeen.size() >= MAX_TERMINALS) {
                    overflow = true;
                    continue;
                }
                if (seen == null) {
                    lastSeen.put(name, new long[] {atime, mtime, scan});
                    if (baselined && firedName == null) {
                        firedName = name;
                        what = "opened";
                    }
                    continue;
                }
                seen[2] = scan;
                if (atime != seen[0] || mtime != seen[1]) {
                    if (firedName == null) {
                        firedName = name;
                        what = atime != seen[0] ? "input" : "output";
                        when = Math.max(atime != seen[0] ? atime : 0, mtime != seen[1] ? mtime : 0);
                    }
                    seen[0] = atime;
                    seen[1] = mtime;
                }
            }
        }
        // forget terminals that closed, so a reused number counts as newly opened
        for (Iterator<long[]> it = lastSeen.values().iterator(); it.hasNext();) {
            if (it.next()[2] != scan) {
                it.remove();
            }
        }
        baselined = true;
        if (overflow) {
            return Reading.fired("tty more than " + MAX_TERMINALS + " terminals, beyond what the sensor tracks:"
                    + " counted as activity");
        }
        if (firedName == null) {
            return Reading.quiet("tty " + terminals + (terminals == 1 ? " terminal" : " terminals") + ", no input");
        }
        if (what.equals("opened")) {
            return Reading.fired("tty /dev/pts/" + firedName + " opened");
        }
        long ago = Math.max(0, wallMillis.getAsLong() - when) / 1000;
        return Reading.fired("tty /dev/pts/" + firedName + " " + what + " " + ago + "s ago");
    }

    /**
     * Records the current output time of {@code device} (a path under
     * {@link #ptsDir()}) as seen, right after the agent wrote to it, so that
     * write does not count as activity. Input times are left alone: a person
     * typing is still noticed.
     */
    public void acknowledgeOwnWrite(Path device) {
        long[] seen = lastSeen.get(device.getFileName().toString());
        if (seen == null) {
            return;
        }
        try {
            seen[1] = Files.readAttributes(device, BasicFileAttributes.class).lastModifiedTime().toMillis();
        } catch (IOException ignored) {
            // the terminal closed; the next scan forgets it
        }
    }

    /** pts entries are numbered; ptmx is the multiplexer, not a terminal. */
    public static boolean isTerminal(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
