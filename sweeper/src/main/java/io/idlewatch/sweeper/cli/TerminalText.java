package io.idlewatch.sweeper.cli;

/**
 * The one sanitiser for every string that reaches a terminal (after OpenSSH's {@code utf8.c}):
 * container names, labels, the agent's state file, engine messages, even our own lines that quote
 * them. A workspace user controls much of that text, and a terminal obeys what it is sent: an OSC
 * 52 sequence writes the operator's clipboard, a CSI can clear the screen or rewrite earlier lines,
 * bidi overrides make {@code evil} read as {@code live}.
 *
 * <p>What goes: whole escape sequences (ESC and the C1 introducers CSI, OSC, DCS, SOS, PM, APC,
 * with their parameters and strings up to the terminator); every other C0 and C1 control and DEL
 * (shown as {@code ?}; tab and newlines as a space, so one record stays one line); Unicode bidi
 * overrides, embeddings, isolates and marks and the other invisible format characters except the
 * zero-width joiner emoji need; unpaired surrogates. The result is also bounded in length.
 */
public final class TerminalText {

    /**
     * One table cell or name: wide enough for a workspace name or a stop reason, narrow enough that
     * one hostile row cannot push the table off any screen.
     */
    public static final int MAX_CELL = 64;
    /** One detail in a sweep line (an engine message, an age): a sentence, not a page. */
    public static final int MAX_DETAIL = 200;
    /** One error line on stderr: it may quote several of the above. */
    public static final int MAX_LINE = 1000;

    private static final char ESC = 0x1B;
    private static final char BEL = 0x07;
    private static final char C1_DCS = 0x90;
    private static final char C1_SOS = 0x98;
    private static final char C1_CSI = 0x9B;
    private static final char C1_ST = 0x9C;
    private static final char C1_OSC = 0x9D;
    private static final char C1_PM = 0x9E;
    private static final char C1_APC = 0x9F;
    private static final String ELLIPSIS = "...";

    private TerminalText() {
    }

    /** {@code text} made safe for one table cell. */
    public static String cell(String text) {
        return clean(text, MAX_CELL);
    }

    /** {@code text} made safe for the detail part of one output line. */
    public static String detail(String text) {
        return clean(text, MAX_DETAIL);
    }

    /** {@code text} made safe as one whole line. */
    public static String line(String text) {
        return clean(text, MAX_LINE);
    }

    /**
     * {@code text} without anything a terminal would act on, on one line, at most
     * {@code maxCodePoints} code points (then {@code ...}). Null is the empty string.
     */
    public static String clean(String text, int maxCodePoints) {
        if (text == null) {
            return "";
        }
        int n = text.length();
        StringBuilder out = new StringBuilder(Math.min(n, maxCodePoints) + ELLIPSIS.length());
        int shown = 0;
        int i = 0;
        while (i < n) {
            int cp = text.codePointAt(i);
            int next = i + Character.charCount(cp);
            switch (cp) {
                case ESC -> {
                    i = skipEscape(text, next);
                    continue;
                }
                case C1_CSI -> {
                    i = skipControlSequence(text, next);
                    continue;
                }
                case C1_OSC, C1_DCS, C1_SOS, C1_PM, C1_APC -> {
                    i = skipControlString(text, next);
                    continue;
                }
                default -> {
                }
            }
            if (shown == maxCodePoints) {
                out.append(ELLIPSIS);
                break;
            }
            String replacement = replacement(cp);
            if (replacement != null) {
                out.append(replacement);
            } else {
                out.appendCodePoint(cp);
            }
            shown++;
            i = next;
        }
        return out.toString();
    }

    /** What stands in for {@code cp}, or null to keep it. */
    private static String replacement(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029 || cp == 0x85) {
            return " ";
        }
        if (cp == 0x200D) {
            return null; // zero-width joiner: emoji sequences, harmless
        }
        int type = Character.getType(cp);
        if (type == Character.CONTROL // C0, DEL, C1
                || type == Character.FORMAT // bidi controls (LRE..RLO, LRI..PDI, LRM, RLM, ALM), zero-width space, BOM
                || type == Character.SURROGATE) { // unpaired: not a character at all
            return "?";
        }
        return null;
    }

    /** After ESC: skips the rest of the sequence it starts; returns where text resumes. */
    private static int skipEscape(String s, int i) {
        if (i >= s.length()) {
            return i;
        }
        char c = s.charAt(i);
        switch (c) {
            case '[':
                return skipControlSequence(s, i + 1);
            case ']':
            case 'P':
            case 'X':
            case '^':
            case '_':
                return skipControlString(s, i + 1);
            default:
                break;
        }
        // ESC, intermediates (0x20-0x2F), one final byte (0x30-0x7E): ESC c, ESC 7, ESC ( B ...
        int j = i;
        while (j < s.length() && s.charAt(j) >= 0x20 && s.charAt(j) <= 0x2F) {
            j++;
        }
        if (j < s.length() && s.charAt(j) >= 0x30 && s.charAt(j) <= 0x7E) {
            return j + 1;
        }
        return j; // malformed: the ESC and its intermediates are gone; the rest is ordinary text
    }

    /** After CSI: parameters and intermediates (0x20-0x3F) up to a final byte (0x40-0x7E). */
    private static int skipControlSequence(String s, int i) {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c >= 0x40 && c <= 0x7E) {
                return i + 1;
            }
            if (c < 0x20 || c > 0x3F) {
                return i; // malformed: drop what was read, treat the rest as ordinary text
            }
            i++;
        }
        return i;
    }

    /** After OSC, DCS, SOS, PM or APC: everything up to BEL, ESC \ or ST (or the end). */
    private static int skipControlString(String s, int i) {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == BEL || c == C1_ST) {
                return i + 1;
            }
            if (c == ESC && i + 1 < s.length() && s.charAt(i + 1) == '\\') {
                return i + 2;
            }
            i++;
        }
        return i;
    }
}
