package io.idlewatch.agent.idle;

import io.idlewatch.contract.StateLink;
import io.idlewatch.contract.StateRecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code /run/idlewatch/state.json}: the agent's state for the host CLI
 * ({@code idlewatch ps}) and for post-mortem reading of a stopped container
 * ({@code docker cp}), so the host can tell without exec that and why it
 * stopped. Rewritten every poll, atomically (temp file in the same
 * directory, then rename). The schema and its writer are the contract's
 * {@link StateRecord}, which the host's reader compiles against too; this
 * class only turns the tracker's {@link IdleTracker.Status} into one.
 *
 * <p>The directory may be writable by the workspace's user (a non-root agent shares its user), so
 * the temp file is created afresh ({@code O_EXCL}: never through a planted link) and renamed over.
 */
public final class StateFile {
    public static final Path DEFAULT_DIR = Path.of(StateRecord.DIR);
    public static final String NAME = StateRecord.FILE_NAME;
    public static final int VERSION = StateRecord.FORMAT_VERSION;

    private final Path file;
    private final Path temp;
    private final Path link;
    private final Path linkTemp;
    private final String workspace;
    /** Reused every poll: the agent writes this file for as long as it lives. */
    private final StringBuilder json = new StringBuilder(1024);

    /** @param workspace {@code IDLEWATCH_WORKSPACE}, or null */
    public StateFile(Path dir, String workspace) {
        this.file = dir.resolve(NAME);
        this.temp = dir.resolve(NAME + ".tmp");
        this.link = dir.resolve(StateLink.NAME);
        this.linkTemp = dir.resolve(StateLink.NAME + ".tmp");
        this.workspace = workspace;
    }

    public Path path() {
        return file;
    }

    /**
     * Writes {@code status} atomically, creating the directory if needed, then the same record
     * as the target of {@link StateLink#NAME} beside it (what {@code idlewatch ps} reads first).
     */
    public void write(IdleTracker.Status status) throws IOException {
        String text = render(status);
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(temp); // a link or a leftover, never followed
        Files.write(temp, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        writeLink(text.strip());
    }

    /**
     * The record as a link target, replaced atomically; no link when the record is too long for
     * one. Best effort: the file is the record, and without a link the host reads the file.
     */
    private void writeLink(String json) {
        try {
            Files.deleteIfExists(linkTemp);
            Optional<String> target = StateLink.encode(json);
            if (target.isEmpty()) {
                Files.deleteIfExists(link);
                return;
            }
            Files.createSymbolicLink(linkTemp, Path.of(target.get()));
            Files.move(linkTemp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(link); // never an old record where a fresh one is expected
            } catch (IOException ignored) {
                // the host's reader tells a stale record by its time
            }
        }
    }

    /**
     * What the record says about the agent itself, beside the contract's fields ({@code "agent"}, the
     * field the init writes when the agent is down): null while it never failed, else when it was
     * restarted. One agent per process, hence static.
     */
    private static volatile String agentNote;

    public static void agentNote(String note) {
        agentNote = note;
    }

    /** The file's text for {@code status}: one JSON object on one line (also {@code status --json}). */
    public synchronized String render(IdleTracker.Status s) {
        json.setLength(0);
        record(s).appendJson(json);
        String note = agentNote;
        if (note != null && json.length() > 0 && json.charAt(json.length() - 1) == '}') {
            json.setLength(json.length() - 1);
            json.append(",\"agent\":");
            string(json, note);
            json.append('}');
        }
        return json.append('\n').toString();
    }

    /** What the file says for {@code status}: the tracker's -1 "none" times and durations become nulls. */
    public StateRecord record(IdleTracker.Status s) {
        List<StateRecord.Signal> signals = new ArrayList<>(s.signals().size());
        for (IdleTracker.SignalStatus sig : s.signals()) {
            signals.add(new StateRecord.Signal(sig.name(), sig.enabled(), time(sig.lastFiredEpochMillis()),
                    sig.lastFiredDetail(), sig.degraded(), sig.detail(), time(sig.degradedSinceEpochMillis())));
        }
        IdleTracker.StopInfo stop = s.stop();
        return new StateRecord(VERSION, workspace, s.state(), time(s.nowEpochMillis()), time(s.startedEpochMillis()),
                s.pollInterval(), Duration.ofMillis(s.idleMillis()), s.timeout(), s.maxLifetime(),
                millis(s.lifetimeLeftMillis()), time(s.lastActivityEpochMillis()), s.lastActivitySignal(), signals,
                stop == null ? null : new StateRecord.Stop(stop.reason(), time(stop.atEpochMillis()), stop.exitCode(),
                        stop.detail(), millis(stop.frozenMillis())), WakeFile.taken());
    }

    private static Instant time(long epochMillis) {
        return epochMillis < 0 ? null : Instant.ofEpochMilli(epochMillis);
    }

    private static Duration millis(long millis) {
        return millis < 0 ? null : Duration.ofMillis(millis);
    }

    /** A JSON string (or null), escaped per RFC 8259; the control socket's answers use it too. */
    public static void string(StringBuilder b, String s) {
        StateRecord.appendString(b, s);
    }
}
