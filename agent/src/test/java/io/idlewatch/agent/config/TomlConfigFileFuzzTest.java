package io.idlewatch.agent.config;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's TOML file, any bytes: flat values in line order, or a ConfigException of one line
 * naming the file; nothing else (no stack overflow, no tomlj exception). The input is the file's
 * bytes, so a regression input in src/test/resources/.../TomlConfigFileFuzzTestInputs/parse is
 * the file itself. Each input is parsed on a thread with the agent's stack size, where recursion
 * runs out first.
 */
class TomlConfigFileFuzzTest {
    /** The launcher's -Xss for the agent's JVM (images/agent/launcher.c). */
    static final long AGENT_STACK_BYTES = 256 * 1024;

    @FuzzTest(maxDuration = "10m")
    @DictionaryEntries({"timeout = ", "http_ports = [", "\"", "'", "'''", "\"\"\"", "\\u", "\\U", "[[", "]]", "{",
            "}", "=", ".", ",", "#", "true", "1979-05-27T07:32:00Z", "07:32:00", "inf", "nan", "0x",
            "1e3", "_"})
    void parse(byte[] bytes) throws Throwable {
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread parser = new Thread(null, () -> {
            try {
                outcome.set(TomlConfigFile.parse(bytes, "agent.toml"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        }, "agent-stack", AGENT_STACK_BYTES);
        parser.start();
        parser.join();
        if (outcome.get() instanceof ConfigException e) {
            assertOneLine(e.getMessage());
            assertTrue(e.getMessage().startsWith("agent.toml"), e.getMessage());
            return;
        }
        if (outcome.get() instanceof Throwable t) {
            throw t;
        }
        @SuppressWarnings("unchecked")
        Map<String, AgentConfig.FileValue> values = (Map<String, AgentConfig.FileValue>) outcome.get();
        int previous = 1;
        for (Map.Entry<String, AgentConfig.FileValue> e : values.entrySet()) {
            AgentConfig.FileValue v = e.getValue();
            assertTrue(e.getKey().equals(v.key()), v.key());
            assertNotNull(v.text());
            assertTrue(v.line() >= previous, "keys out of line order: " + values);
            previous = v.line();
        }
    }

    static void assertOneLine(String message) {
        assertNotNull(message);
        assertFalse(message.isEmpty());
        assertTrue(message.indexOf('\n') < 0 && message.indexOf('\r') < 0, "not one line: " + message);
    }
}
