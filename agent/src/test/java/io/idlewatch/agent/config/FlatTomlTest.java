package io.idlewatch.agent.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FlatTomlTest {

    private static Map<String, FlatToml.Value> parse(String text) {
        return FlatToml.parse(text, "agent.toml");
    }

    @Test
    void readsTheFlatSubset() {
        Map<String, FlatToml.Value> v = parse("""
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
                """);
        assertEquals("30m", v.get("timeout").text());
        assertEquals(2, v.get("timeout").line());
        assertEquals("C:\\no\\escapes \"here\"", v.get("pre_stop").text());
        assertEquals("cpu,http", v.get("signals").text());
        assertEquals(4, v.get("signals").line());
        assertEquals("4096,8080", v.get("http_ports").text());
        assertEquals(8, v.get("http_ports").line());
        assertEquals("false", v.get("http_loopback").text());
        assertEquals("-0", v.get("exit_code").text());
        assertEquals("2.5", v.get("cpu_threshold").text());
        assertEquals("tab\tand \"quote\" é", v.get("workspace").text());
    }

    @Test
    void emptyFileAndEmptyArray() {
        assertEquals(Map.of(), parse(""));
        assertEquals("", parse("signals = []").get("signals").text());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[agent]\\ntimeout = \"1m\"` | agent.toml line 1: tables like [agent] are not supported; the agent file is flat, e.g. timeout = \"30m\"",
        "`timeout = 30m` | agent.toml line 1: cannot read value '30m' for 'timeout'; quote strings, e.g. timeout = \"30m\"",
        "`\\n\\ntimeout \"30m\"` | agent.toml line 3: expected '=' after key 'timeout', e.g. timeout = \"30m\"",
        "`timeout = \"30m` | agent.toml line 1: unterminated string",
        "`timeout = \"1m\"\\ntimeout = \"2m\"` | agent.toml line 2: key 'timeout' is set twice",
        "`a.b = 1` | agent.toml line 1: dotted keys are not supported; the agent file is flat, e.g. timeout = \"30m\"",
        "`x = {a = 1}` | agent.toml line 1: inline tables are not supported",
        "`x = [[1]]` | agent.toml line 1: nested arrays are not supported",
        "`x = [1, 2` | agent.toml line 1: unterminated array for 'x'",
        "`x = \"1\" \"2\"` | agent.toml line 1: unexpected '\"' after the value of 'x'",
        "`x = ` | agent.toml line 1: missing value for 'x'",
        "`x = \"\\q\"` | agent.toml line 1: unknown escape \\q in a string; use 'single quotes' for backslashes",
        "`x = \"\"\"long\"\"\"` | agent.toml line 1: multi-line strings are not supported",
    })
    void errorsNameTheFileAndLine(String text, String message) {
        String toml = text.replace("\\n", "\n");
        assertEquals(message, assertThrows(ConfigException.class, () -> parse(toml)).getMessage());
    }
}
