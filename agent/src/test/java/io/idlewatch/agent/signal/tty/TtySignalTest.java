package io.idlewatch.agent.signal.tty;

import io.idlewatch.agent.signal.ActivitySignal;
import io.idlewatch.agent.signal.ActivitySignalContract;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Terminals are plain files in a temp dev/pts whose times the test sets (git keeps no mtimes). */
class TtySignalTest extends ActivitySignalContract {
    private static final long T0 = 1_700_000_000_000L;

    @Override
    protected String expectedName() {
        return "tty";
    }

    @Override
    protected Fixture quietFixture(Path dir) throws Exception {
        Path dev = devWithTerminals(dir, "0");
        TtySignal signal = new TtySignal(dev, () -> T0 + 20_000);
        return fixture(signal, () -> setTimes(dev.resolve("pts/0"), T0 + 8_000, T0), null);
    }

    @Override
    protected ActivitySignal brokenSignal(Path dir) {
        return new TtySignal(dir.resolve("no-dev"));
    }

    static Path devWithTerminals(Path dir, String... names) throws IOException {
        Path pts = Files.createDirectories(dir.resolve("dev/pts"));
        Files.writeString(pts.resolve("ptmx"), "");
        setTimes(pts.resolve("ptmx"), T0 + 99_000, T0 + 99_000);
        for (String n : names) {
            Files.writeString(pts.resolve(n), "");
            setTimes(pts.resolve(n), T0, T0);
        }
        return dir.resolve("dev");
    }

    static void setTimes(Path file, long atime, long mtime) throws IOException {
        Files.setAttribute(file, "lastAccessTime", FileTime.fromMillis(atime));
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime));
    }

    @Test
    void inputIsReportedWithItsAge() throws Exception {
        Path dev = devWithTerminals(tmp, "0", "3");
        TtySignal signal = new TtySignal(dev, () -> T0 + 11_000);
        signal.sample(0);
        setTimes(dev.resolve("pts/3"), T0 + 8_000, T0);
        ActivitySignal.Reading r = signal.sample(1);
        assertTrue(r.fired());
        assertEquals("tty /dev/pts/3 input 3s ago", r.detail());
    }

    @Test
    void outputCountsToo() throws Exception {
        Path dev = devWithTerminals(tmp, "0");
        TtySignal signal = new TtySignal(dev, () -> T0 + 16_000);
        signal.sample(0);
        setTimes(dev.resolve("pts/0"), T0, T0 + 16_000);
        assertEquals("tty /dev/pts/0 output 0s ago", signal.sample(1).detail());
    }

    @Test
    void aNewTerminalIsActivityButTheFirstScanIsTheBaseline() throws Exception {
        Path dev = devWithTerminals(tmp, "0");
        TtySignal signal = new TtySignal(dev, () -> T0);
        assertFalse(signal.sample(0).fired());
        Files.writeString(dev.resolve("pts/1"), "");
        ActivitySignal.Reading r = signal.sample(1);
        assertTrue(r.fired());
        assertEquals("tty /dev/pts/1 opened", r.detail());
        assertEquals("tty 2 terminals, no input", signal.sample(2).detail());
    }

    @Test
    void ptmxIsNotATerminal() throws Exception {
        Path dev = devWithTerminals(tmp);
        TtySignal signal = new TtySignal(dev, () -> T0);
        signal.sample(0);
        setTimes(dev.resolve("pts/ptmx"), T0 + 50_000, T0 + 50_000);
        ActivitySignal.Reading r = signal.sample(1);
        assertFalse(r.fired());
        assertEquals("tty 0 terminals, no input", r.detail());
    }

    @Test
    void theAgentsOwnWriteIsIgnoredButInputAfterItCounts() throws Exception {
        Path dev = devWithTerminals(tmp, "0");
        TtySignal signal = new TtySignal(dev, () -> T0);
        signal.sample(0);
        // the agent writes its notice: output time moves
        setTimes(dev.resolve("pts/0"), T0, T0 + 8_000);
        signal.acknowledgeOwnWrite(dev.resolve("pts/0"));
        assertFalse(signal.sample(1).fired());
        // then the person types
        setTimes(dev.resolve("pts/0"), T0 + 16_000, T0 + 8_000);
        assertTrue(signal.sample(2).fired());
    }

    @Test
    void aClosedAndReusedTerminalCountsAsOpened() throws Exception {
        Path dev = devWithTerminals(tmp, "0", "1");
        TtySignal signal = new TtySignal(dev, () -> T0);
        signal.sample(0);
        Files.delete(dev.resolve("pts/1"));
        assertFalse(signal.sample(1).fired());
        Files.writeString(dev.resolve("pts/1"), "");
        setTimes(dev.resolve("pts/1"), T0, T0);
        assertTrue(signal.sample(2).fired());
    }

    /** More terminals than the sensor remembers: activity, said in the detail; the table stays bounded. */
    @Test
    void moreTerminalsThanTheSensorRemembers() throws Exception {
        String[] names = new String[TtySignal.MAX_TERMINALS + 10];
        for (int i = 0; i < names.length; i++) {
            names[i] = Integer.toString(i);
        }
        Path dev = devWithTerminals(tmp, names);
        TtySignal signal = new TtySignal(dev, () -> T0);
        ActivitySignal.Reading r = signal.sample(0);
        assertTrue(r.fired(), r.detail());
        assertEquals("tty more than 4096 terminals, beyond what the sensor tracks: counted as activity", r.detail());
        for (int i = 0; i < 20; i++) { // back under the bound: quiet again once the new ones are baselined
            Files.delete(dev.resolve("pts/" + i));
        }
        assertTrue(signal.sample(1).detail().startsWith("tty more than 4096"), "the closed ones leave after the scan");
        assertTrue(signal.sample(2).detail().endsWith(" opened"), "the ones it could not remember are new to it");
        assertFalse(signal.sample(3).fired());
    }
}
