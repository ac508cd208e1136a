package io.idlewatch.images;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the idle-stop tests read from outside a container: when it ran, whether
 * it is still running at a given moment, and the agent's state file — the last
 * through the archive API, which works on exited containers too (`docker cp`).
 */
final class Watched {
    /** The thresholds every idle test uses: short, and far apart from each other. */
    static final Duration TIMEOUT = Duration.ofSeconds(20);
    static final Duration POLL = Duration.ofSeconds(2);
    /** SPEC-level tolerance of the tests: a stop comes no later than timeout + poll + this. */
    static final Duration SLACK = Duration.ofSeconds(8);
    static final String STATE_FILE = "/run/idlewatch/state.json";

    private Watched() {
    }

    /** A Spec with the idle settings above; the notice is off unless a test turns it on. */
    static Box.Spec idle(String image) {
        return Box.of(image)
                .env("IDLEWATCH_TIMEOUT", TIMEOUT.toSeconds() + "s")
                .env("IDLEWATCH_POLL_INTERVAL", POLL.toSeconds() + "s")
                .env("IDLEWATCH_WARN_BEFORE", "0");
    }

    /** The latest moment a stop may come for activity that ended at {@code lastActivity}. */
    static Instant latestStop(Instant lastActivity) {
        return lastActivity.plus(TIMEOUT).plus(POLL).plus(SLACK);
    }

    static Instant startedAt(Box box) {
        return Instant.parse(box.inspect().getState().getStartedAt());
    }

    static Instant finishedAt(Box box) {
        return Instant.parse(box.inspect().getState().getFinishedAt());
    }

    /** How long the container ran, by the engine's clock. */
    static Duration ranFor(Box box) {
        return Duration.between(startedAt(box), finishedAt(box));
    }

    /**
     * Fails unless the container keeps running until {@code until}: checked every
     * second, so an early stop fails at once, with the container's logs.
     */
    static void keepsRunningUntil(Box box, Instant until, String why) {
        while (Instant.now().isBefore(until)) {
            if (!box.running()) {
                throw new AssertionError(why + ": the container stopped after " + ranFor(box).toMillis()
                        + " ms, before " + until + "\n" + box.logs());
            }
            sleep(Duration.ofSeconds(1));
        }
    }

    /**
     * Waits for the idle stop and checks it came in the window
     * [lastActivity + timeout, lastActivity + timeout + poll + slack]; returns
     * how long after lastActivity + timeout it came (the stop's timing error).
     */
    static Duration stopsInWindow(Box box, Instant lastActivity, int expectedExit) {
        Duration wait = Duration.between(Instant.now(), latestStop(lastActivity)).plusSeconds(20);
        int code = box.awaitExit(wait.isNegative() ? Duration.ofSeconds(20) : wait);
        Instant finished = finishedAt(box);
        // the logs, and the state file: what each signal saw when it last fired
        String state = stateFileOrWhy(box);
        String logs = box.logs() + "\nstate file: " + state;
        if (code != expectedExit) {
            throw new AssertionError("exit code " + code + ", expected " + expectedExit + "\n" + logs);
        }
        Duration late = Duration.between(lastActivity.plus(TIMEOUT), finished);
        if (late.isNegative()) {
            throw new AssertionError("stopped " + late.negated().toMillis() + " ms before the timeout\n" + logs);
        }
        if (finished.isAfter(latestStop(lastActivity))) {
            throw new AssertionError("stopped " + late.toMillis() + " ms after the timeout, more than poll + "
                    + SLACK.toSeconds() + "s\n" + logs);
        }
        System.out.printf("%s: idle stop %d ms after the timeout; last fired: %s%n", box.id.substring(0, 12),
                late.toMillis(), lastFired(state));
        return late;
    }

    /** Each signal that fired, with what it saw the last time, from the state file. */
    static String lastFired(String state) {
        Matcher m = Pattern.compile("\"(\\w+)\":\\{\"enabled\":true,\"last_fired\":\"([^\"]*)\",\"last_fired_detail\":"
                + "\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(state);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            b.append(b.length() == 0 ? "" : "; ").append(m.group(2)).append(' ').append(m.group(3));
        }
        return b.length() == 0 ? "nothing" : b.toString();
    }

    private static String stateFileOrWhy(Box box) {
        try {
            return stateFile(box);
        } catch (RuntimeException | AssertionError e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** The file's content in a container, running or exited, through the archive API. */
    static String readFile(Box box, String path) {
        try (InputStream tar = Box.docker().copyArchiveFromContainerCmd(box.id, path).exec()) {
            byte[] header = tar.readNBytes(512);
            if (header.length < 512) {
                throw new AssertionError("empty archive for " + path);
            }
            String octal = new String(header, 124, 12, StandardCharsets.US_ASCII).trim().replace("\0", "");
            long size = Long.parseLong(octal, 8);
            return new String(tar.readNBytes((int) size), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("reading " + path + ": " + e, e);
        }
    }

    static String stateFile(Box box) {
        return readFile(box, STATE_FILE);
    }

    /** A string field of the state file's {@code "stop"} object, e.g. reason. */
    static String stopField(String state, String field) {
        Matcher m = Pattern.compile("\"stop\":\\{.*?\"" + field + "\":(\"(?:[^\"\\\\]|\\\\.)*\"|[0-9]+)").matcher(state);
        if (!m.find()) {
            throw new AssertionError("no stop." + field + " in " + state);
        }
        String v = m.group(1);
        return v.startsWith("\"") ? v.substring(1, v.length() - 1) : v;
    }

    /** One signal's object in the state file, e.g. {"enabled":true,...,"degraded":false,"detail":"..."}. */
    static String signal(String state, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\{\"enabled\".*?\"detail\":\"(?:[^\"\\\\]|\\\\.)*\"})")
                .matcher(state);
        if (!m.find()) {
            throw new AssertionError("no signal " + name + " in " + state);
        }
        return m.group(1);
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted");
        }
    }

    /** Reads a whole stream (a process's output) into a growing buffer, on a daemon thread. */
    static StringBuffer drain(InputStream in) {
        StringBuffer out = new StringBuffer();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "drain");
        t.setDaemon(true);
        t.start();
        return out;
    }
}
