package io.idlewatch.agent.config;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.idlewatch.contract.Durations;
import org.junit.jupiter.api.BeforeAll;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent's configuration from any environment (and any file it names): a configuration whose
 * durations are within {@link Durations#MAX}, or a ConfigException of one line; nothing else
 * (the agent must exit 2 with that line, never with a stack trace).
 *
 * <p>The input is text, so a regression input (src/test/resources/.../AgentConfigFuzzTestInputs/load)
 * is readable and can be written by hand: lines {@code NAME=VALUE} (with {@code \n}, {@code \r},
 * {@code \0} and {@code \\} escapes) form the environment; an optional line {@code --- file} or
 * {@code --- default} starts the TOML file, named by IDLEWATCH_CONFIG or at the default path.
 */
class AgentConfigFuzzTest {
    private static Path root;
    private static Path file;
    private static Path defaultFile;

    @BeforeAll
    static void root() throws Exception {
        root = Files.createTempDirectory("idlewatch-fuzz");
        Files.createDirectories(root.resolve("etc/idlewatch"));
        file = root.resolve("agent.toml");
        defaultFile = root.resolve(AgentConfig.DEFAULT_CONFIG_FILE.substring(1));
    }

    @FuzzTest(maxDuration = "10m")
    @DictionaryEntries({"IDLEWATCH_TIMEOUT=", "IDLEWATCH_MAX_LIFETIME=", "IDLEWATCH_MAX_TIMEOUT=",
            "IDLEWATCH_SIGNALS=", "IDLEWATCH_CPU_THRESHOLD=", "IDLEWATCH_HTTP_PORTS=", "IDLEWATCH_HTTP_LOOPBACK=",
            "IDLEWATCH_POLL_INTERVAL=", "IDLEWATCH_WARN_BEFORE=", "IDLEWATCH_PRE_STOP=", "IDLEWATCH_STOP_GRACE=",
            "IDLEWATCH_EXIT_CODE=", "IDLEWATCH_WORKSPACE=", "IDLEWATCH_CONFIG=", "--- file", "--- default",
            "\\n", "\\r", "\\0", "timeout = ", "signals = [", "http_ports = ", "ms", "off", "none", "%",
            "cpu,exec", "true", "-", "."})
    void load(byte[] bytes) throws Exception {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Map<String, String> env = new HashMap<>();
        String toml = null;
        boolean atDefault = false;
        int at = 0;
        while (at < text.length()) {
            int end = text.indexOf('\n', at);
            String line = text.substring(at, end < 0 ? text.length() : end);
            at = end < 0 ? text.length() : end + 1;
            if (line.equals("--- file") || line.equals("--- default")) {
                toml = text.substring(at);
                atDefault = line.equals("--- default");
                break;
            }
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), unescape(line.substring(eq + 1)));
            }
        }
        // the file is ours: a path from the fuzzer could name any file of this machine
        String config = env.get(AgentConfig.CONFIG_VARIABLE);
        if (config != null && (config.contains("/") || config.trim().startsWith("."))) {
            env.remove(AgentConfig.CONFIG_VARIABLE); // names like "x" (relative, absent) and bad paths stay
        }
        Files.deleteIfExists(defaultFile);
        if (toml != null && atDefault) {
            Files.writeString(defaultFile, toml, StandardCharsets.UTF_8);
        } else if (toml != null) {
            Files.writeString(file, toml, StandardCharsets.UTF_8);
            env.put(AgentConfig.CONFIG_VARIABLE, file.toString());
        }

        AgentConfig c;
        try {
            c = AgentConfig.load(env, root);
        } catch (ConfigException e) {
            assertOneLine(e.getMessage());
            return;
        }
        for (Duration d : new Duration[] {c.timeout(), c.maxLifetime(), c.maxTimeout(), c.pollInterval(),
                c.warnBefore(), c.stopGrace()}) {
            assertTrue(d == null || !d.isNegative() && d.compareTo(Durations.MAX) <= 0, String.valueOf(d));
        }
        assertTrue(c.pollInterval().compareTo(AgentConfig.MIN_POLL_INTERVAL) >= 0);
        assertTrue(c.cpuThreshold() >= 0 && c.cpuThreshold() <= 1, "threshold " + c.cpuThreshold());
        for (int port : c.httpPorts()) {
            assertTrue(port >= 1 && port <= 65535, "port " + port);
        }
        assertTrue(c.exitCode() >= 0 && c.exitCode() <= 255, "exit code " + c.exitCode());
        assertOneLine(c.describe());
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                b.append(e == 'n' ? '\n' : e == 'r' ? '\r' : e == '0' ? '\0' : e);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static void assertOneLine(String message) {
        assertNotNull(message);
        assertFalse(message.isEmpty());
        assertTrue(message.indexOf('\n') < 0 && message.indexOf('\r') < 0, "not one line: " + message);
    }
}
