package io.idlewatch.contract;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The note a wake leaves for the agent: the host ({@code idlewatch watch --wake}, {@code idlewatch
 * start}) puts the file {@value #FILE_NAME} into the stopped container's state directory through the
 * engine's archive API just before it starts the container; the agent reads it once at start, removes
 * it, and keeps what it says in its record ({@link StateRecord.Wake}). One ASCII line:
 *
 * <pre>idlewatch-wake 1 2025-01-02T03:04:05Z 0.0.0.0:8080/tcp 172.17.0.1:53422</pre>
 *
 * (version, when, through what, from where or {@code -}). The file lies in the workspace, so whoever
 * controls the workspace may have written it instead: it is read within {@link #MAX_BYTES}, parsed
 * strictly, and a note older than {@link #MAX_AGE} (a wake whose start failed) is no wake.
 */
public final class WakeNote {

    public static final String FILE_NAME = "wake";
    /** What {@code idlewatch start} writes as {@code via}. */
    public static final String VIA_START = "start";
    /** A real note is under 100 bytes; anything larger is not one, and is not read further. */
    public static final int MAX_BYTES = 256;
    /**
     * A note is written moments before the start it announces. An older one is the leftover of a
     * start that failed, and the run that finds it was started some other way.
     */
    public static final Duration MAX_AGE = Duration.ofMinutes(10);
    /** Addresses, ports and the word start: nothing a terminal or a JSON reader could act on. */
    private static final String TOKEN = "[0-9A-Za-z.:\\[\\]/%_-]{1,80}";
    private static final Pattern LINE = Pattern.compile(
            "idlewatch-wake 1 (\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z) (" + TOKEN + ") (" + TOKEN + ")\n");
    private static final Pattern TOKEN_ONLY = Pattern.compile(TOKEN);

    private WakeNote() {
    }

    /** The file's bytes for a wake at {@code at} through {@code via} from {@code from} (null: none). */
    public static byte[] format(Instant at, String via, String from) {
        if (!TOKEN_ONLY.matcher(via).matches() || from != null && !TOKEN_ONLY.matcher(from).matches()
                || "-".equals(from)) {
            throw new IllegalArgumentException("not a wake note token: " + via + " / " + from);
        }
        String line = "idlewatch-wake 1 " + Instant.ofEpochSecond(at.getEpochSecond()) + " " + via + " "
                + (from == null ? "-" : from) + "\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * The wake the bytes describe, when they are exactly one note written within {@link #MAX_AGE}
     * of {@code now} (either way: a note from the future is no more credible).
     */
    public static Optional<StateRecord.Wake> parse(byte[] content, Instant now) {
        if (content == null || content.length > MAX_BYTES) {
            return Optional.empty();
        }
        for (byte b : content) {
            if (b < 0) {
                return Optional.empty(); // not ASCII
            }
        }
        Matcher m = LINE.matcher(new String(content, StandardCharsets.US_ASCII));
        if (!m.matches()) {
            return Optional.empty();
        }
        Instant at;
        try {
            at = Instant.parse(m.group(1));
        } catch (DateTimeException notATime) {
            return Optional.empty();
        }
        if (Duration.between(at, now).abs().compareTo(MAX_AGE) > 0) {
            return Optional.empty();
        }
        String from = m.group(3).equals("-") ? null : m.group(3);
        return Optional.of(new StateRecord.Wake(at, m.group(2), from));
    }
}
