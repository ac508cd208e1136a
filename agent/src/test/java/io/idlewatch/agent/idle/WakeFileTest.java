package io.idlewatch.agent.idle;

import io.idlewatch.contract.StateRecord;
import io.idlewatch.contract.WakeNote;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WakeFileTest {

    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");

    @TempDir
    Path dir;

    final List<String> log = new ArrayList<>();

    @Test
    void aGoodNoteIsTakenOnceAndRemoved() throws Exception {
        Path note = dir.resolve(WakeNote.FILE_NAME);
        Files.write(note, WakeNote.format(NOW, "127.0.0.1:4096/tcp", "172.17.0.1:40000"));
        Optional<StateRecord.Wake> wake = WakeFile.readAndRemove(note, NOW, log::add);
        assertEquals(new StateRecord.Wake(NOW, "127.0.0.1:4096/tcp", "172.17.0.1:40000"), wake.orElseThrow());
        assertFalse(Files.exists(note));
        assertEquals(Optional.empty(), WakeFile.readAndRemove(note, NOW, log::add));
    }

    @Test
    void aLinkIsRemovedNotFollowed() throws Exception {
        Path target = dir.resolve("elsewhere");
        Files.write(target, WakeNote.format(NOW, "start", null));
        Path note = dir.resolve(WakeNote.FILE_NAME);
        Files.createSymbolicLink(note, target);
        assertEquals(Optional.empty(), WakeFile.readAndRemove(note, NOW, log::add));
        assertFalse(Files.exists(note, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(target), "what the link pointed at is left alone");
    }

    @Test
    void aFifoOrAHugeFileIsNeverRead() throws Exception {
        Path note = dir.resolve(WakeNote.FILE_NAME);
        assertEquals(0, new ProcessBuilder("mkfifo", note.toString()).start().waitFor());
        // Opening a FIFO would block until a writer came: it must not be opened at all.
        assertEquals(Optional.empty(), WakeFile.readAndRemove(note, NOW, log::add));
        Files.write(note, new byte[10 * 1024 * 1024]);
        assertEquals(Optional.empty(), WakeFile.readAndRemove(note, NOW, log::add));
        assertFalse(Files.exists(note));
    }
}
