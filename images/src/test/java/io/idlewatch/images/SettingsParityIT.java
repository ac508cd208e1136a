package io.idlewatch.images;

import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.agent.config.ConfigException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The init starts the workload at once when it can read every setting itself, and leaves the rest
 * to the agent, which checks them before anything is spawned. That is safe only if every value the
 * init reads as plain is one the agent accepts: this test holds the two side by side, the init
 * binary of the image under test (its IDLEWATCH_TEST_CHECK_SETTINGS switch answers without starting
 * anything) against {@link AgentConfig#load}, on a table of the forms users write and on thousands
 * of generated ones.
 */
class SettingsParityIT {
    private static Path dir;
    private static Path init;
    private static Path root;

    @BeforeAll
    static void copyTheInit() throws IOException {
        dir = Files.createTempDirectory("idlewatch-parity-");
        root = Files.createDirectories(dir.resolve("root"));
        String name = "idlewatch-parity-" + UUID.randomUUID();
        Host.run(Duration.ofSeconds(60), List.of("docker", "create", "--name", name, Box.AGENT_TEST_IMAGE));
        try {
            init = dir.resolve("idlewatch");
            Host.run(Duration.ofSeconds(60), List.of("docker", "cp", name + ":/opt/idlewatch/bin/idlewatch", init.toString()));
        } finally {
            Host.run(Duration.ofSeconds(60), List.of("docker", "rm", "-f", name));
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The forms the docs and examples use are read by the init: no JVM before the workload. */
    @Test
    void theUsualFormsStartTheWorkloadAtOnce() {
        List<Map<String, String>> usual = List.of(
                Map.of(),
                Map.of("IDLEWATCH_TIMEOUT", "30m"),
                Map.of("IDLEWATCH_TIMEOUT", "1h30m", "IDLEWATCH_MAX_LIFETIME", "1d", "IDLEWATCH_MAX_TIMEOUT", "4h"),
                Map.of("IDLEWATCH_TIMEOUT", "off", "IDLEWATCH_MAX_LIFETIME", "8h"),
                Map.of("IDLEWATCH_TIMEOUT", "20s", "IDLEWATCH_POLL_INTERVAL", "1s", "IDLEWATCH_WARN_BEFORE", "0",
                        "IDLEWATCH_STOP_GRACE", "3s", "IDLEWATCH_EXIT_CODE", "0"),
                Map.of("IDLEWATCH_SIGNALS", "cpu,exec,tty", "IDLEWATCH_CPU_THRESHOLD", "2.5%"),
                Map.of("IDLEWATCH_SIGNALS", "none", "IDLEWATCH_HTTP_PORTS", "4096,8080", "IDLEWATCH_HTTP_LOOPBACK", "true"),
                Map.of("IDLEWATCH_OPENCODE_STALL", "30m", "IDLEWATCH_WORKSPACE", "my workspace \"x\"",
                        "IDLEWATCH_PRE_STOP", "/usr/local/bin/save-work --quiet"),
                Map.of("IDLEWATCH_VERBOSE", "1", "IDLEWATCH_TIMOUT", "a typo is only warned about"));
        for (Map<String, String> env : usual) {
            assertEquals("plain", check(env), env.toString());
            agentAccepts(env);
        }
    }

    /** What the init cannot vouch for goes to the agent first. */
    @Test
    void theRestIsLeftToTheAgent() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("IDLEWATCH_TIMEOUT", "200000d");
        cases.put("IDLEWATCH_POLL_INTERVAL", "50ms");
        cases.put("IDLEWATCH_EXIT_CODE", "256");
        cases.put("IDLEWATCH_HTTP_PORTS", "0");
        cases.put("IDLEWATCH_CPU_THRESHOLD", "100.5%");
        cases.put("IDLEWATCH_SIGNALS", "cpu,gpu");
        cases.put("IDLEWATCH_PRE_STOP", "echo 'unbalanced");
        cases.put("IDLEWATCH_STOP_GRACE", " 8s");
        cases.put("IDLEWATCH_CONFIG", "/etc/idlewatch/agent.toml");
        for (var e : cases.entrySet()) {
            String answer = check(Map.of(e.getKey(), e.getValue()));
            assertTrue(answer.startsWith("agent checks first: " + e.getKey()), e + ": " + answer);
        }
        assertEquals("agent checks first: IDLEWATCH_TIMEOUT is above IDLEWATCH_MAX_TIMEOUT",
                check(Map.of("IDLEWATCH_TIMEOUT", "5h", "IDLEWATCH_MAX_TIMEOUT", "4h")));
    }

    /** Whatever the init reads as plain, the agent accepts: generated values, one to three settings. */
    @Test
    void everyValueTheInitReadsAsPlainTheAgentAccepts() {
        long seed = Long.getLong("idlewatch.parity.seed", System.nanoTime());
        Random random = new Random(seed);
        String[] names = {"TIMEOUT", "MAX_LIFETIME", "MAX_TIMEOUT", "SIGNALS", "CPU_THRESHOLD", "HTTP_PORTS",
            "HTTP_LOOPBACK", "OPENCODE_STALL", "POLL_INTERVAL", "WARN_BEFORE", "PRE_STOP", "STOP_GRACE",
            "EXIT_CODE", "WORKSPACE"};
        String[] pieces = {"0", "1", "5", "9", "00", "10", "99", "100", "255", "256", "999999999", "3650", "3651",
            "65535", "65536", "87600", "ms", "s", "m", "h", "d", "sec", "S", "%", ".", ",", ",,", " ", "-", "+",
            "off", "OFF", "none", "cpu", "exec", "tty", "http", "opencode", "true", "false", "yes", "on", "no",
            "'", "\"", "\\", "\t", "é", "٣", "x"};
        int plain = 0;
        int cases = 4000;
        for (int i = 0; i < cases; i++) {
            Map<String, String> env = new LinkedHashMap<>();
            int settings = 1 + random.nextInt(3);
            for (int s = 0; s < settings; s++) {
                StringBuilder value = new StringBuilder();
                int n = random.nextInt(5);
                for (int k = 0; k < n; k++) {
                    value.append(pieces[random.nextInt(pieces.length)]);
                }
                env.put("IDLEWATCH_" + names[random.nextInt(names.length)], value.toString());
            }
            if (check(env).equals("plain")) {
                plain++;
                try {
                    AgentConfig.load(env, root);
                } catch (ConfigException e) {
                    fail("seed " + seed + ": the init starts the workload at once with " + env
                            + " but the agent refuses it: " + e.getMessage());
                }
            }
        }
        System.out.println("settings parity: " + plain + " of " + cases + " generated settings read as plain by the init"
                + " (seed " + seed + ")");
        assertTrue(plain > cases / 20, "the generator must reach the init's plain forms: " + plain);
    }

    private static void agentAccepts(Map<String, String> env) {
        try {
            AgentConfig.load(env, root);
        } catch (ConfigException e) {
            fail(env + ": " + e.getMessage());
        }
    }

    /** The init's verdict on these settings, and nothing else in its environment. */
    private static String check(Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(init.toString(), "--", "true").redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.environment().put("IDLEWATCH_TEST_CHECK_SETTINGS", "1");
        try {
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the init's check did not end: " + env);
            }
            assertEquals(0, p.exitValue(), env.toString());
            return new String(out, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
