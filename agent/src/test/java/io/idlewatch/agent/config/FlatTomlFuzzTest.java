package io.idlewatch.agent.config;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's TOML file, any text: values, or a ConfigException of one line naming the file and
 * the line; nothing else. The input is the file's bytes, so a regression input in
 * src/test/resources/.../FlatTomlFuzzTestInputs/parse is the file itself.
 */
class FlatTomlFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void parse(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Map<String, FlatToml.Value> values;
        try {
            values = FlatToml.parse(text, "agent.toml");
        } catch (ConfigException e) {
            assertOneLine(e.getMessage());
            assertTrue(e.getMessage().startsWith("agent.toml line "), e.getMessage());
            return;
        }
        for (FlatToml.Value v : values.values()) {
            assertNotNull(v.text());
            assertTrue(v.line() >= 1, "line " + v.line());
        }
    }

    static void assertOneLine(String message) {
        assertNotNull(message);
        assertFalse(message.isEmpty());
        assertTrue(message.indexOf('\n') < 0 && message.indexOf('\r') < 0, "not one line: " + message);
    }
}
