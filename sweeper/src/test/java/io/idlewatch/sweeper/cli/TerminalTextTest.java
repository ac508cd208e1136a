package io.idlewatch.sweeper.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TerminalTextTest {

    /** No code point a terminal acts on: C0, DEL, C1, bidi and other format controls. */
    static void assertInert(String s) {
        s.codePoints().forEach(cp -> {
            assertFalse(cp < 0x20 || cp >= 0x7F && cp <= 0x9F, () -> "control U+" + Integer.toHexString(cp) + " in " + s);
            assertFalse(Character.getType(cp) == Character.FORMAT && cp != 0x200D, () -> "format U+" + Integer.toHexString(cp));
            assertFalse(Character.getType(cp) == Character.SURROGATE, "lone surrogate");
        });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "OSC 52 clipboard write, BEL|`ws\u001b]52;c;Y3VybCBldmlsfHNo\u0007-a`|`ws-a`",
            "OSC 52, ST terminator|`ws\u001b]52;c;Y3VybA==\u001b\\-a`|`ws-a`",
            "OSC 8 hyperlink|`\u001b]8;;https://evil\u001b\\click\u001b]8;;\u001b\\`|`click`",
            "title change, C1 OSC|`\u009d0;owned\u009cname`|`name`",
            "clear screen CSI|`\u001b[2Jidle`|`idle`",
            "cursor up and erase line|`a\u001b[1A\u001b[2Kb`|`ab`",
            "C1 CSI colour|`\u009b31mred`|`red`",
            "DCS|`\u001bPq#0;2;0;0;0\u001b\\x`|`x`",
            "C1 DCS|`\u0090$q\"p\u009cx`|`x`",
            "APC, PM, SOS|`\u001b_a\u001b\\\u001b^b\u001b\\\u001bXc\u001b\\ok`|`ok`",
            "reset terminal|`\u001bcok`|`ok`",
            "charset switch|`\u001b(0ok`|`ok`",
            "unterminated OSC swallows the rest|`ok\u001b]52;c;AAAA`|`ok`",
            "lone ESC at the end|`ok\u001b`|`ok`",
            "bell, backspace, NUL, DEL|`a\u0007b\bc\u0000d\u007fe`|`a?b?c?d?e`",
            "newlines and tabs become spaces|`a\nb\r\nc\td`|`a b  c d`",
            "NEL and line separators|`a\u0085b\u2028c\u2029d`|`a b c d`",
            "bidi override makes exe read as txt|`invoice\u202Etxt.exe`|`invoice?txt.exe`",
            "bidi isolates and marks|`\u2066a\u2069\u200Fb\u200E\u061C`|`?a??b??`",
            "zero-width space and BOM|`a\u200Bb\uFEFF`|`a?b?`",
            "lone surrogate|`a\uD800b`|`a?b`",
            "plain unicode kept|`café ☕ 工作区 👩‍💻`|`café ☕ 工作区 👩‍💻`"})
    void stripsWhatATerminalWouldObey(String attack, String input, String expected) {
        String clean = TerminalText.cell(input);
        assertEquals(expected, clean, attack);
        assertInert(clean);
    }

    @Test
    void boundsTheLength() {
        assertEquals("x".repeat(64) + "...", TerminalText.cell("x".repeat(100_000)));
        assertEquals("x".repeat(64), TerminalText.cell("x".repeat(64)));
        assertEquals(1003, TerminalText.line("y".repeat(5000)).length());
        // Counted in code points: a cut never splits a surrogate pair.
        String emoji = "😀".repeat(70);
        String cut = TerminalText.cell(emoji);
        assertEquals(64, cut.codePointCount(0, cut.length() - 3));
        assertInert(cut);
    }

    @Test
    void nullIsEmpty() {
        assertEquals("", TerminalText.cell(null));
    }

    @Test
    void everyCodePointComesOutInert() {
        StringBuilder all = new StringBuilder();
        for (int cp = 0; cp < 0x3000; cp++) {
            all.appendCodePoint(cp);
        }
        all.append("\uDB40\uDC01\uE000\uFFF9\uFFFB"); // a tag, private use, interlinear annotation
        String clean = TerminalText.clean(all.toString(), Integer.MAX_VALUE);
        assertInert(clean);
        assertTrue(clean.contains("ABC"));
    }
}
