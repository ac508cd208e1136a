package io.idlewatch.agent.idle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The /tmp fallback, attacked as another user of the container would: planted links and directories. */
class StateDirectoryTest {
    @TempDir
    Path tmp;

    private final int me = StateDirectory.effectiveUid();

    @Test
    void makesAPrivateDirectoryWhenThereIsNone() throws Exception {
        Path dir = tmp.resolve("idlewatch");
        assertNull(StateDirectory.prepare(dir, me));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void aPlantedSymlinkIsNeverFollowed() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("attacker-owned"));
        Path dir = Files.createSymbolicLink(tmp.resolve("idlewatch"), target);
        String problem = StateDirectory.prepare(dir, me);
        assertTrue(problem != null && problem.contains("not a directory"), problem);
        List<String> log = new ArrayList<>();
        assertNull(StateDirectory.choose(List.of(dir), log::add), "no directory left: no state file");
        assertEquals(1, log.size());
        assertTrue(log.get(0).startsWith("idlewatch: no state file and no control socket: "), log.get(0));
        assertTrue(Files.isSymbolicLink(dir) && Files.list(target).findAny().isEmpty(), "nothing written through it");
    }

    @Test
    void aDirectoryPlantedByAnotherUserInAWorldWritableParentIsRefused() throws Exception {
        assumeTrue(me == 0, "needs root to play the other user");
        Path sticky = Files.createDirectory(tmp.resolve("tmp"));
        Files.setPosixFilePermissions(sticky, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path dir = Files.createDirectory(sticky.resolve("idlewatch"));
        Files.setAttribute(dir, "unix:uid", 4242, LinkOption.NOFOLLOW_LINKS);
        String problem = StateDirectory.prepare(dir, 0);
        assertEquals("belongs to uid 4242, not to the agent's uid 0", problem);
        assertEquals(4242, Files.getAttribute(dir, "unix:uid"), "left alone");
    }

    @Test
    void aNonRootAgentRefusesADirectoryItDoesNotOwn() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("idlewatch"));
        String problem = StateDirectory.prepare(dir, me + 1);
        assertTrue(problem != null && problem.startsWith("belongs to uid"), problem);
    }

    @Test
    void rootTakesOverItsOwnRunDirectoryMadeForTheWorkspaceUser() throws Exception {
        assumeTrue(me == 0, "needs root");
        Path run = Files.createDirectory(tmp.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = Files.createDirectory(run.resolve("idlewatch"));
        Files.setAttribute(dir, "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertNull(StateDirectory.prepare(dir, 0));
        assertEquals(0, Files.getAttribute(dir, "unix:uid"));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void itsOwnDirectoryIsTightened() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("idlewatch"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertNull(StateDirectory.prepare(dir, me));
        assertFalse(Files.getPosixFilePermissions(dir).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE));
    }

    @Test
    void theStateFileIsNeverWrittenThroughAPlantedTempLink() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("idlewatch"));
        Path victim = Files.writeString(tmp.resolve("victim"), "precious");
        Files.createSymbolicLink(dir.resolve("state.json.tmp"), victim);
        StateFile file = new StateFile(dir, null);
        file.write(new IdleTracker(List.of(), new FakeClock(), null, null, null, null, 0, s -> { }).status());
        assertEquals("precious", Files.readString(victim));
        assertTrue(Files.readString(file.path()).startsWith("{\"version\":1,"));
    }
}
