package io.idlewatch.agent.idle;

import io.idlewatch.contract.StateRecord;
import io.idlewatch.contract.WakeNote;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The host's {@link WakeNote}, taken once when the agent starts: read, checked, removed, and then
 * part of every record this run writes (the state file, {@code status --json}).
 *
 * <p>The note lies in a directory the workspace may write to, so it is read like anything else from
 * there: never through a link, only a regular file (a FIFO would block the open), at most
 * {@link WakeNote#MAX_BYTES} + 1 bytes, and removed whether or not it was a good note, so that a later
 * start is not taken for a wake.
 */
public final class WakeFile {

    private static volatile StateRecord.Wake taken;

    private WakeFile() {
    }

    /** The wake this run was started by, once {@link #take} found one; else null. */
    public static StateRecord.Wake taken() {
        return taken;
    }

    /** Looks for the note in each directory (where the state file goes, in order), keeps the first good one. */
    public static synchronized Optional<StateRecord.Wake> take(List<Path> dirs, Instant now, Consumer<String> log) {
        for (Path dir : dirs) {
            Path file = dir.resolve(WakeNote.FILE_NAME);
            Optional<StateRecord.Wake> wake = readAndRemove(file, now, log);
            if (wake.isPresent()) {
                taken = wake.get();
                log.accept("idlewatch: woken via " + taken.via() + (taken.from() == null ? "" : " from " + taken.from())
                        + " at " + taken.at() + "; idle time starts now");
                return wake;
            }
        }
        return Optional.empty();
    }

    static Optional<StateRecord.Wake> readAndRemove(Path file, Instant now, Consumer<String> log) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException none) {
            return Optional.empty();
        } catch (IOException | RuntimeException unreadable) {
            return Optional.empty();
        }
        Optional<StateRecord.Wake> wake = Optional.empty();
        if (attributes.isRegularFile() && attributes.size() <= WakeNote.MAX_BYTES) {
            try (InputStream in = Channels.newInputStream(Files.newByteChannel(file, StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS))) {
                wake = WakeNote.parse(in.readNBytes(WakeNote.MAX_BYTES + 1), now);
            } catch (IOException | RuntimeException unreadable) {
                wake = Optional.empty();
            }
        }
        if (wake.isEmpty()) {
            log.accept("idlewatch: ignoring " + file + ": not a current wake note");
        }
        try {
            Files.deleteIfExists(file); // a link or a directory entry itself, never what it points at
        } catch (IOException | RuntimeException cannot) {
            log.accept("idlewatch: cannot remove " + file + ": " + cannot.getMessage());
        }
        return wake;
    }
}
