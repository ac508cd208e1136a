package io.idlewatch.contract;

/**
 * A guard both config readers run before handing text to tomlj: tomlj parses arrays and inline
 * tables recursively, so {@code a = [[[[…} a few thousand deep overflows the stack (found by
 * fuzzing; the agent runs with a 256 KiB stack, where 100–200 levels are enough). Neither config
 * needs any nesting, so depth beyond {@link #MAX_DEPTH} is refused before parsing, counting
 * brackets outside strings and comments.
 */
public final class TomlNesting {
    /** Far more than either config needs (none), far less than overflows a small stack. */
    public static final int MAX_DEPTH = 16;

    private TomlNesting() {
    }

    /** The 1-based line where the text first nests deeper than {@link #MAX_DEPTH}, or 0 when it never does. */
    public static int tooDeepAt(String text) {
        int depth = 0;
        int line = 1;
        int n = text.length();
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
            } else if (c == '#') {
                while (i < n && text.charAt(i) != '\n') {
                    i++;
                }
                continue;
            } else if (c == '"' || c == '\'') {
                String quote = String.valueOf(c);
                String close = text.startsWith(quote.repeat(3), i) ? quote.repeat(3) : quote;
                i += close.length();
                while (i < n && !text.startsWith(close, i)) {
                    if (text.charAt(i) == '\n') {
                        line++;
                    }
                    i += c == '"' && text.charAt(i) == '\\' ? 2 : 1;
                }
                i += close.length();
                continue;
            } else if (c == '[' || c == '{') {
                if (++depth > MAX_DEPTH) {
                    return line;
                }
            } else if (c == ']' || c == '}') {
                depth = Math.max(0, depth - 1);
            }
            i++;
        }
        return 0;
    }
}
