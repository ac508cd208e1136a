package io.idlewatch.contract;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateLinkTest {

    @Test
    void aRecordGoesThroughAsOnePathComponentOfAscii() {
        String json = "{\"state\":\"running\",\"detail\":\"tty /dev/pts/0 100% \u00e9\u2028 \\u0000\"}";
        String target = StateLink.encode(json).orElseThrow();
        assertTrue(target.chars().allMatch(c -> c >= 0x20 && c < 0x7f), target);
        assertEquals(-1, target.indexOf('/'), target);
        assertTrue(target.contains("%2F") && target.contains("%25") && target.contains("%C3%A9"), target);
        assertArrayEquals(json.getBytes(StandardCharsets.UTF_8), StateLink.decode(target).orElseThrow());
    }

    @Test
    void aLongRecordIsCutIntoComponentsEveryEngineCanStat() {
        String json = "{\"d\":\"" + "x/".repeat(300) + "\"}";
        String target = StateLink.encode(json).orElseThrow();
        String[] parts = target.split("/", -1);
        assertTrue(parts.length > 1, target);
        for (int i = 0; i < parts.length; i++) {
            assertTrue(i < parts.length - 1 ? parts[i].length() == StateLink.COMPONENT_BYTES
                    : parts[i].length() >= 1 && parts[i].length() <= StateLink.COMPONENT_BYTES, parts[i]);
        }
        assertArrayEquals(json.getBytes(StandardCharsets.UTF_8), StateLink.decode(target).orElseThrow());
    }

    @Test
    void aRecordTooLongForALinkGetsNone() {
        String json = "{\"d\":\"" + "/".repeat(StateLink.MAX_TARGET_BYTES / 3) + "\"}";
        assertEquals(Optional.empty(), StateLink.encode(json));
        String fits = "{\"d\":\"" + "a".repeat(3900) + "\"}";
        assertTrue(StateLink.encode(fits).orElseThrow().length() <= StateLink.MAX_TARGET_BYTES);
    }

    /** What a workspace may leave there instead: anything encode would not have written is refused. */
    @Test
    void onlyWhatEncodeWritesDecodes() {
        for (String hostile : new String[] {
                "%", "%4", "%4g", "%zz", "%2f", // truncated, not hex, lower-case hex
                "%41",                          // 'A' escaped: encode writes it plainly
                "a/b", "/abc", "abc/", "a//b", "../../etc/passwd", "x".repeat(StateLink.COMPONENT_BYTES + 1), "\u00e9", "\u001b[31m", "tab\there", "del\u007f",
                "x".repeat(StateLink.MAX_TARGET_BYTES + 1)}) {
            assertEquals(Optional.empty(), StateLink.decode(hostile).map(String::new), hostile);
        }
        assertEquals(Optional.empty(), StateLink.decode(null).map(String::new));
        assertArrayEquals(new byte[] {'{', '}', (byte) 0xff}, StateLink.decode("{}%FF").orElseThrow());
    }
}
