package io.idlewatch.agent.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TomlConfigFileTest {
    @TempDir
    Path dir;

    private static Map<String, AgentConfig.FileValue> parse(String text) {
        return TomlConfigFile.parse(text, "agent.toml");
    }

    private static String error(String text) {
        return assertThrows(ConfigException.class, () -> parse(text)).getMessage();
    }

    @Test
    void flattensValuesToTheEnvironmentsText() {
        Map<String, AgentConfig.FileValue> v = parse("""
                # comment
                timeout = "30m"          # trailing comment
                pre_stop = 'C:\\no\\escapes "here"'
                signals = [
                  "cpu",   # multi-line arrays
                  "http",
                ]
                http_ports = [4096, 8_080]
                http_loopback = false
                exit_code = -0
                cpu_threshold = 2.5
                workspace = "tab\\tand \\"quote\\" \\u00e9"
                "max_lifetime" = \"""8h\"""
                """);
        assertEquals("30m", v.get("timeout").text());
        assertEquals(2, v.get("timeout").line());
        assertEquals("C:\\no\\escapes \"here\"", v.get("pre_stop").text());
        assertEquals("cpu,http", v.get("signals").text());
        assertEquals(4, v.get("signals").line());
        assertEquals("4096,8080", v.get("http_ports").text());
        assertEquals(8, v.get("http_ports").line());
        assertEquals("false", v.get("http_loopback").text());
        assertEquals("0", v.get("exit_code").text());
        assertEquals("2.5", v.get("cpu_threshold").text());
        assertEquals("tab\tand \"quote\" é", v.get("workspace").text());
        assertEquals("8h", v.get("max_lifetime").text(), "quoted keys and multi-line strings are TOML too");
        assertEquals("[timeout, pre_stop, signals, http_ports, http_loopback, exit_code, cpu_threshold, workspace,"
                + " max_lifetime]", v.keySet().toString(), "the file's order, so the first bad key is reported");
    }

    @Test
    void emptyFileAndEmptyArray() {
        assertEquals(Map.of(), parse(""));
        assertEquals("", parse("signals = []").get("signals").text());
    }

    @Test
    void floatsInfinityAndNanAreSpelledAsTomlWritesThem() {
        assertEquals("1000.0", parse("x = 1e3").get("x").text());
        assertEquals("inf,-inf,nan", parse("x = [inf, -inf, nan]").get("x").text());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[agent]\\ntimeout = \"1m\"` | agent.toml line 1: 'agent' is a table; no [tables], dotted keys or {inline tables}: the agent file is flat, e.g. timeout = \"30m\"",
        "`timeout = 30m` | agent.toml line 1: timeout: Unexpected 'm', expected a newline or end-of-input; quote strings, e.g. timeout = \"30m\"",
        "`\\n\\ntimeout \"30m\"` | agent.toml line 3: Unexpected \", expected =",
        "`timeout = \"30m` | agent.toml line 1: timeout: Unexpected end of input, expected \" or a character",
        "`timeout = \"1m\"\\ntimeout = \"2m\"` | agent.toml line 2: timeout previously defined at line 1, column 1",
        "`a.b = 1` | agent.toml line 1: 'a' is a table; no [tables], dotted keys or {inline tables}: the agent file is flat, e.g. timeout = \"30m\"",
        "`x = {a = 1}` | agent.toml line 1: 'x' is a table; no [tables], dotted keys or {inline tables}: the agent file is flat, e.g. timeout = \"30m\"",
        "`x = [[1]]` | agent.toml line 1: 'x' holds a nested array; use a flat array like http_ports = [4096, 8080]",
        "`x = [1, 2` | agent.toml line 1: x: Unexpected end of input, expected ], a comma, or a newline",
        "`x = \"1\" \"2\"` | agent.toml line 1: x: Unexpected \", expected a newline or end-of-input",
        "`x = ` | agent.toml line 1: x: Unexpected end of input, expected ', \", ''', \"\"\", a number, a boolean, a date/time, an array, or a table",
        "`x = \"\\q\"` | agent.toml line 1: x: Invalid escape sequence '\\q'",
        "`timeout = 10:30:00` | agent.toml line 1: 'timeout' is a date or time; quote strings, e.g. timeout = \"30m\"",
        "`timeout = \"30m\"\\n[[t]]\\na = 1` | agent.toml line 2: 't' is an array of tables; the agent file is flat, e.g. timeout = \"30m\"",
        "`[\"de\\E\"]` | agent.toml line 1: Invalid escape sequence '\\E'",
        "`timeout = 1\\r` | agent.toml line 1: timeout: Unexpected '\\r', expected a newline or end-of-input",
    })
    void errorsNameTheFileLineAndKey(String text, String message) {
        String toml = text.replace("\\n", "\n").replace("\\r", "\r");
        assertEquals(message, error(toml));
    }

    @Test
    void deepNestingIsAConfigError_neverAStackOverflow() {
        assertEquals("agent.toml line 2: nested more than 16 deep; the agent file is flat, e.g. timeout = \"30m\"",
                error("timeout = \"1m\"\nhttp_ports = " + "[".repeat(20_000) + "]".repeat(20_000) + "\n"));
        assertEquals("agent.toml line 1: nested more than 16 deep; the agent file is flat, e.g. timeout = \"30m\"",
                error("a = " + "{ b = ".repeat(5000) + "1" + " }".repeat(5000) + "\n"));
        // brackets in strings and comments do not count
        assertEquals("[[[[[[[[[[[[[[[[[[[[", parse("# " + "[".repeat(40) + "\nworkspace = \"" + "[".repeat(20) + "\"")
                .get("workspace").text());
    }

    @Test
    void aFileMustBeUtf8AndSmall() throws Exception {
        Path file = dir.resolve("agent.toml");
        Files.write(file, "timeout = \"30m\"\nworkspace = \"caf\u00e9\"\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(file + " line 2: not UTF-8 text; save the file as UTF-8",
                assertThrows(ConfigException.class, () -> TomlConfigFile.read(file)).getMessage());
        Files.writeString(file, "# " + "x".repeat(TomlConfigFile.MAX_BYTES) + "\n");
        assertEquals(file + ": larger than 64 KiB; the agent file holds a dozen short keys, e.g. timeout = \"30m\"",
                assertThrows(ConfigException.class, () -> TomlConfigFile.read(file)).getMessage());
        Files.writeString(file, "timeout = \"30m\"\n# " + "x".repeat(TomlConfigFile.MAX_BYTES - 20) + "\n");
        assertEquals("30m", TomlConfigFile.read(file).get("timeout").text(), "just under the limit");
    }

    /**
     * A workspace without a file pays nothing for tomlj: a fresh JVM loads the agent's config with
     * and without a file, and its class-loading log shows tomlj and ANTLR only with one.
     */
    @Test
    void tomljIsLoadedOnlyWhenAFileIsUsed() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        String without = loadInFreshJvm(root);
        assertTrue(without.contains("io.idlewatch.agent.config.AgentConfig "), "no class log? " + without);
        assertTrue(without.contains("config=none"), without);
        for (String absent : List.of("org.tomlj.", "org.antlr.", "io.idlewatch.agent.config.TomlConfigFile ")) {
            assertFalse(without.contains(absent), absent + " loaded without a file");
        }

        Files.writeString(Files.createDirectories(root.resolve("etc/idlewatch")).resolve("agent.toml"), "timeout = \"30m\"\n");
        String with = loadInFreshJvm(root);
        assertTrue(with.contains("timeout=30m"), with);
        assertTrue(with.contains("org.tomlj.Toml ") && with.contains("org.antlr.v4.runtime."), "tomlj with a file");
    }

    private static String loadInFreshJvm(Path root) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xshare:off", "-Xlog:class+load=info:stdout", "-cp", System.getProperty("java.class.path"),
                LoadConfig.class.getName(), root.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    /** Run by {@link #tomljIsLoadedOnlyWhenAFileIsUsed} in its own JVM. */
    static final class LoadConfig {
        public static void main(String[] args) {
            System.out.println(AgentConfig.load(Map.of(), Path.of(args[0])).describe());
        }
    }
}
