package io.idlewatch.contract;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WakeNoteTest {

    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");

    static Optional<StateRecord.Wake> parse(String text) {
        return WakeNote.parse(text.getBytes(StandardCharsets.UTF_8), NOW);
    }

    @Test
    void whatTheHostWritesTheAgentReads() {
        byte[] note = WakeNote.format(NOW.minusSeconds(3), "0.0.0.0:8080/tcp", "[::1]:53422");
        StateRecord.Wake wake = WakeNote.parse(note, NOW).orElseThrow();
        assertEquals(new StateRecord.Wake(NOW.minusSeconds(3), "0.0.0.0:8080/tcp", "[::1]:53422"), wake);
        assertEquals(new StateRecord.Wake(NOW, "start", null),
                WakeNote.parse(WakeNote.format(NOW, WakeNote.VIA_START, null), NOW).orElseThrow());
    }

    @Test
    void anythingButOneCurrentNoteIsNoWake() {
        String good = "idlewatch-wake 1 2025-03-01T09:59:00Z 127.0.0.1:80/tcp 10.0.0.1:5\n";
        assertTrue(parse(good).isPresent());
        for (String bad : new String[] {
                good.strip(),                                                   // no newline
                good + "x",                                                     // after the line
                good.replace("wake 1", "wake 2"),                               // another version
                good.replace("09:59:00", "09:49:59"),                           // older than 10 minutes
                good.replace("09:59:00", "10:10:01"),                           // from the future
                good.replace("127.0.0.1:80/tcp", "\u001b[31mred"),              // terminal escapes
                good.replace("10.0.0.1:5", "a b"),                              // an extra field
                good.replace("2025-03-01T09:59:00Z", "2025-02-30T09:59:00Z"),   // no such day
                "idlewatch-wake 1 2025-03-01T09:59:00Z " + "x".repeat(81) + " -\n", // token too long
                "",
        }) {
            assertEquals(Optional.empty(), parse(bad), bad);
        }
        byte[] huge = new byte[WakeNote.MAX_BYTES + 1];
        assertEquals(Optional.empty(), WakeNote.parse(huge, NOW));
        assertEquals(Optional.empty(), WakeNote.parse(null, NOW));
    }

    @Test
    void theHostNeverWritesWhatTheAgentWouldRefuse() {
        assertThrows(IllegalArgumentException.class, () -> WakeNote.format(NOW, "a b", null));
        assertThrows(IllegalArgumentException.class, () -> WakeNote.format(NOW, "start", "-"));
    }

    @Test
    void aWokenRecordSaysHowAndOthersAreUnchanged() {
        StateRecord woken = new StateRecord(1, null, "running", null, null, null, null, null, null, null, null, null,
                null, null, new StateRecord.Wake(NOW, "127.0.0.1:4096/tcp", null));
        assertTrue(woken.fileText().endsWith(",\"stop\":null,\"woken\":{\"at\":\"2025-03-01T10:00:00Z\","
                + "\"via\":\"127.0.0.1:4096/tcp\",\"from\":null}}\n"), woken.fileText());
        StateRecord plain = new StateRecord(1, null, "running", null, null, null, null, null, null, null, null, null,
                null, null);
        assertTrue(plain.fileText().endsWith(",\"stop\":null}\n"), plain.fileText());
    }
}
