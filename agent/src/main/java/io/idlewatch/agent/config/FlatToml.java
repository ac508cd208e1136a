package io.idlewatch.agent.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the agent's flat TOML file: comments, {@code key = "basic"},
 * {@code 'literal'}, integers, decimals, booleans and arrays of those, one
 * key per line (arrays may span lines). Tables and every other TOML feature
 * are rejected with the file and line.
 *
 * <p>Hand-written on purpose: tomlj would pull ANTLR's runtime into every
 * workspace's memory and start-up for a file of a dozen flat keys.
 */
final class FlatToml {
    /** One key's value, rendered to the same text form the environment uses. */
    record Value(String key, String text, int line) {
    }

    private final String text;
    private final String file;
    private int pos;
    private int line = 1;

    private FlatToml(String text, String file) {
        this.text = text;
        this.file = file;
    }

    /**
     * @param file the name used in error messages
     * @throws ConfigException {@code <file> line <n>: <problem>}
     */
    static Map<String, Value> parse(String text, String file) {
        return new FlatToml(text, file).document();
    }

    private Map<String, Value> document() {
        Map<String, Value> values = new LinkedHashMap<>();
        while (true) {
            skipBlankAndComments(true);
            if (pos >= text.length()) {
                return values;
            }
            char c = text.charAt(pos);
            if (c == '[') {
                throw error("tables like [" + restOfLine().replace("[", "").replace("]", "").trim()
                        + "] are not supported; the agent file is flat, e.g. timeout = \"30m\"");
            }
            int keyLine = line;
            String key = key();
            skipSpaces();
            if (pos >= text.length() || text.charAt(pos) != '=') {
                throw error("expected '=' after key '" + key + "', e.g. " + key + " = \"30m\"");
            }
            pos++;
            skipSpaces();
            String value = value(key, false);
            skipSpaces();
            if (pos < text.length() && text.charAt(pos) == '#') {
                restOfLine();
            }
            if (pos < text.length() && text.charAt(pos) != '\n' && text.charAt(pos) != '\r') {
                throw error("unexpected '" + text.charAt(pos) + "' after the value of '" + key + "'");
            }
            if (values.put(key, new Value(key, value, keyLine)) != null) {
                throw new ConfigException(file + " line " + keyLine + ": key '" + key + "' is set twice");
            }
        }
    }

    private String key() {
        int start = pos;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
                pos++;
            } else {
                break;
            }
        }
        if (pos == start) {
            char c = text.charAt(pos);
            if (c == '"' || c == '\'') {
                throw error("quoted keys are not supported; write the key bare, e.g. timeout = \"30m\"");
            }
            throw error("expected a key, found '" + c + "'");
        }
        if (pos < text.length() && text.charAt(pos) == '.') {
            throw error("dotted keys are not supported; the agent file is flat, e.g. timeout = \"30m\"");
        }
        return text.substring(start, pos);
    }

    private String value(String key, boolean inArray) {
        if (pos >= text.length() || text.charAt(pos) == '\n' || text.charAt(pos) == '\r') {
            throw error("missing value for '" + key + "'");
        }
        char c = text.charAt(pos);
        if (c == '"') {
            if (text.startsWith("\"\"\"", pos)) {
                throw error("multi-line strings are not supported");
            }
            return basicString();
        }
        if (c == '\'') {
            if (text.startsWith("'''", pos)) {
                throw error("multi-line strings are not supported");
            }
            return literalString();
        }
        if (c == '[') {
            if (inArray) {
                throw error("nested arrays are not supported");
            }
            return array(key);
        }
        if (c == '{') {
            throw error("inline tables are not supported");
        }
        int start = pos;
        while (pos < text.length()) {
            char d = text.charAt(pos);
            if (d == ',' || d == ']' || d == '#' || d == ' ' || d == '\t' || d == '\n' || d == '\r') {
                break;
            }
            pos++;
        }
        String bare = text.substring(start, pos);
        if (bare.equals("true") || bare.equals("false")) {
            return bare;
        }
        if (isNumber(bare)) {
            return bare.replace("_", "");
        }
        throw error("cannot read value '" + bare + "' for '" + key
                + "'; quote strings, e.g. " + key + " = \"" + bare + "\"");
    }

    private static boolean isNumber(String s) {
        int i = 0;
        if (!s.isEmpty() && (s.charAt(0) == '+' || s.charAt(0) == '-')) {
            i = 1;
        }
        boolean digits = false;
        boolean dot = false;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                digits = true;
            } else if (c == '_' && digits) {
                continue;
            } else if (c == '.' && digits && !dot) {
                dot = true;
                digits = false;
            } else {
                return false;
            }
        }
        return digits;
    }

    private String array(String key) {
        pos++; // [
        StringBuilder joined = new StringBuilder();
        boolean first = true;
        while (true) {
            skipBlankAndComments(true);
            if (pos >= text.length()) {
                throw error("unterminated array for '" + key + "'");
            }
            if (text.charAt(pos) == ']') {
                pos++;
                return joined.toString();
            }
            String element = value(key, true);
            if (!first) {
                joined.append(',');
            }
            joined.append(element);
            first = false;
            skipBlankAndComments(true);
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
            } else if (pos < text.length() && text.charAt(pos) != ']') {
                throw error("expected ',' or ']' in the array for '" + key + "'");
            }
        }
    }

    private String basicString() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= text.length() || text.charAt(pos) == '\n') {
                throw error("unterminated string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= text.length()) {
                throw error("unterminated string");
            }
            char e = text.charAt(pos++);
            switch (e) {
                case '"' -> b.append('"');
                case '\\' -> b.append('\\');
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u', 'U' -> {
                    int len = e == 'u' ? 4 : 8;
                    if (pos + len > text.length()) {
                        throw error("bad \\" + e + " escape");
                    }
                    try {
                        b.appendCodePoint(Integer.parseInt(text, pos, pos + len, 16));
                    } catch (IllegalArgumentException ex) {
                        throw error("bad \\" + e + " escape");
                    }
                    pos += len;
                }
                default -> throw error("unknown escape \\" + e + " in a string; use 'single quotes' for backslashes");
            }
        }
    }

    private String literalString() {
        pos++;
        int start = pos;
        while (pos < text.length() && text.charAt(pos) != '\'' && text.charAt(pos) != '\n') {
            pos++;
        }
        if (pos >= text.length() || text.charAt(pos) != '\'') {
            throw error("unterminated string");
        }
        return text.substring(start, pos++);
    }

    private void skipSpaces() {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
            pos++;
        }
    }

    private void skipBlankAndComments(boolean newlines) {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '\n' && newlines) {
                pos++;
                line++;
            } else if (c == '#') {
                restOfLine();
            } else {
                return;
            }
        }
    }

    private String restOfLine() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) != '\n') {
            pos++;
        }
        return text.substring(start, pos);
    }

    private ConfigException error(String problem) {
        return new ConfigException(file + " line " + line + ": " + problem);
    }
}
