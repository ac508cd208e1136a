package io.idlewatch.agent.config;

import io.idlewatch.contract.TomlNesting;

import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's TOML file, read by tomlj (the parser the host CLI uses), flattened to the text form
 * the environment uses: strings as they are, numbers and booleans as TOML writes them, arrays
 * joined with commas. The file is flat: tables, dotted keys, nested arrays and dates are errors
 * naming the file, the line and the key.
 *
 * <p>Its own class so that the agent loads tomlj and ANTLR's runtime (about 230 classes) only when
 * a file is used: {@link AgentConfig} calls in here only when there is one.
 */
final class TomlConfigFile {

    /**
     * The file holds a dozen short keys; anything near this is the wrong file (a log, a device
     * that looks like a file), and tomlj holds the whole text and its token stream in memory.
     */
    static final int MAX_BYTES = 64 * 1024;
    /**
     * tomlj parses arrays and inline tables recursively: about 150 levels overflow the agent's
     * 256 KiB thread stack (the launcher's -Xss). The flat file needs one level; deeper than this
     * is refused before parsing, counting brackets outside strings and comments.
     */
    static final int MAX_NESTING = TomlNesting.MAX_DEPTH;
    /** What every message about the file's shape suggests instead. */
    private static final String FLAT_EXAMPLE = "the agent file is flat, e.g. timeout = \"30m\"";
    /** A line that starts with a bare key and '=': names the key in a syntax error on that line. */
    private static final Pattern KEY_LINE = Pattern.compile("^[ \\t]*([A-Za-z0-9_-]{1,64})[ \\t]*=[ \\t]*(.*)$",
            Pattern.DOTALL);
    /** An unquoted word after the '=', like {@code 30m}: when the error is inside it, it wants quotes. */
    private static final Pattern BARE_VALUE = Pattern.compile("^[^\"'#\\s,\\[\\]{}=]{1,64}");

    private TomlConfigFile() {
    }

    /**
     * @param file a regular file
     * @return each key's value and line, in the file's order
     * @throws ConfigException one line naming the file (and, where there is one, the line and the key)
     */
    static Map<String, AgentConfig.FileValue> read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new ConfigException(AgentConfig.CONFIG_VARIABLE + "=\"" + file + "\": cannot read it (" + e.getMessage()
                    + "); use the path of a readable TOML file like " + AgentConfig.DEFAULT_CONFIG_FILE);
        }
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException(file + ": larger than " + MAX_BYTES / 1024
                    + " KiB; the agent file holds a dozen short keys, e.g. timeout = \"30m\"");
        }
        return parse(bytes, file.toString());
    }

    /** {@code bytes} as the content of the file called {@code name} in messages. */
    static Map<String, AgentConfig.FileValue> parse(byte[] bytes, String name) {
        return parse(utf8(bytes, name), name);
    }

    /** {@code text} as the content of the file called {@code name} in messages. */
    static Map<String, AgentConfig.FileValue> parse(String text, String name) {
        checkNesting(text, name);
        TomlParseResult toml;
        try {
            toml = Toml.parse(text);
        } catch (TomlParseError thrown) {
            // tomlj throws some errors (a bad escape in a quoted key) instead of listing them.
            throw syntaxError(text, name, thrown);
        } catch (RuntimeException | AssertionError | StackOverflowError internal) {
            // tomlj trips its own assertion on some bad unicode escapes (with -ea; found by fuzzing the
            // host config); a stack overflow is a backstop behind checkNesting. Still bad TOML: one line.
            throw new ConfigException(name + ": not valid TOML (the parser failed: "
                    + internal.getClass().getSimpleName() + "); check escapes in quoted keys and strings");
        }
        if (toml.hasErrors()) {
            throw syntaxError(text, name, toml.errors().get(0));
        }
        // tomlj's tables are unordered: report the first problem in the file, not a random one.
        List<String> keys = new ArrayList<>(toml.keySet());
        keys.sort(Comparator.comparingInt((String k) -> line(toml, k)).thenComparingInt(k -> column(toml, k)));
        Map<String, AgentConfig.FileValue> values = new LinkedHashMap<>();
        for (String key : keys) {
            int line = line(toml, key);
            values.put(key, new AgentConfig.FileValue(key, text(toml.get(List.of(key)), key, name, line), line));
        }
        return values;
    }

    /** Strict UTF-8 (TOML requires it): a bad byte is an error naming its line, not a U+FFFD in a value. */
    private static String utf8(byte[] bytes, String name) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                line += bytes[i] == '\n' ? 1 : 0;
            }
            throw new ConfigException(name + " line " + line + ": not UTF-8 text; save the file as UTF-8");
        }
        decoder.flush(out);
        return out.flip().toString();
    }

    /** See {@link #MAX_NESTING}: the same guard as the host CLI's config loader ({@link TomlNesting}). */
    private static void checkNesting(String text, String name) {
        int line = TomlNesting.tooDeepAt(text);
        if (line > 0) {
            throw new ConfigException(name + " line " + line + ": nested more than " + MAX_NESTING
                    + " deep; " + FLAT_EXAMPLE);
        }
    }

    /**
     * {@code <file> line <n>: [<key>: ]<tomlj's message>}, the key when the line starts with one,
     * and a hint when the value there looks like an unquoted string.
     */
    private static ConfigException syntaxError(String text, String name, TomlParseError error) {
        String problem = error.getMessage().replaceFirst(" \\(line \\d+, column \\d+\\)$", "");
        TomlPosition position = error.position();
        if (position == null) {
            return new ConfigException(name + ": " + problem);
        }
        StringBuilder b = new StringBuilder(name).append(" line ").append(position.line()).append(": ");
        String source = sourceLine(text, position.line());
        Matcher keyLine = KEY_LINE.matcher(source);
        if (keyLine.matches()) {
            String key = keyLine.group(1);
            if (!problem.startsWith(key + " ")) { // "timeout previously defined at line 1" names it already
                b.append(key).append(": ");
            }
            b.append(problem);
            Matcher bare = BARE_VALUE.matcher(keyLine.group(2));
            int valueColumn = keyLine.start(2) + 1; // tomlj counts columns from 1
            if (bare.lookingAt() && position.column() >= valueColumn && position.column() < valueColumn + bare.end()) {
                b.append("; quote strings, e.g. ").append(key).append(" = \"").append(bare.group()).append('"');
            }
            return new ConfigException(b.toString());
        }
        return new ConfigException(b.append(problem).toString());
    }

    private static String sourceLine(String text, int line) {
        int start = 0;
        for (int i = 1; i < line && start >= 0; i++) {
            start = text.indexOf('\n', start);
            start = start < 0 ? -1 : start + 1;
        }
        if (start < 0 || start > text.length()) {
            return "";
        }
        int end = text.indexOf('\n', start);
        return text.substring(start, end < 0 ? text.length() : end);
    }

    private static int line(TomlTable toml, String key) {
        TomlPosition p = toml.inputPositionOf(List.of(key));
        return p == null ? 1 : p.line();
    }

    private static int column(TomlTable toml, String key) {
        TomlPosition p = toml.inputPositionOf(List.of(key));
        return p == null ? 1 : p.column();
    }

    /** A top-level value as the environment would spell it. */
    private static String text(Object value, String key, String name, int line) {
        if (value instanceof TomlTable) {
            throw new ConfigException(name + " line " + line + ": '" + key + "' is a table; no [tables], dotted keys"
                    + " or {inline tables}: " + FLAT_EXAMPLE);
        }
        if (!(value instanceof TomlArray array)) {
            return scalar(value, key, name, line);
        }
        StringBuilder joined = new StringBuilder();
        for (int i = 0; i < array.size(); i++) {
            Object element = array.get(i);
            if (element instanceof TomlTable) {
                throw new ConfigException(name + " line " + line + ": '" + key + "' is an array of tables; "
                        + FLAT_EXAMPLE);
            }
            if (element instanceof TomlArray) {
                throw new ConfigException(name + " line " + line + ": '" + key + "' holds a nested array;"
                        + " use a flat array like http_ports = [4096, 8080]");
            }
            joined.append(i == 0 ? "" : ",").append(scalar(element, key, name, line));
        }
        return joined.toString();
    }

    private static String scalar(Object value, String key, String name, int line) {
        if (value instanceof String || value instanceof Long || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Double d) {
            // inf and nan as TOML writes them; the setting's own parser then rejects them by name
            return d.isNaN() ? "nan" : d.isInfinite() ? (d > 0 ? "inf" : "-inf") : d.toString();
        }
        // dates and times: no setting takes one, and 10:30:00 is what an unquoted duration can become
        throw new ConfigException(name + " line " + line + ": '" + key + "' is a date or time; quote strings,"
                + " e.g. " + key + " = \"30m\"");
    }
}
