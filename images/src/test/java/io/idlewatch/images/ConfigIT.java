package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static io.idlewatch.images.Box.AGENT_TEST_IMAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every setting's bad values, in the real image (ryuk's config_test has one invalid
 * case per variable): the agent exits 2 before it spawns anything, with one line
 * naming the variable, the value and an example of a good one.
 */
class ConfigIT {
    /** Would print "spawned" if the agent ever started it. */
    private static final String[] WORKLOAD = {"sh", "-c", "echo spawned"};

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            TIMEOUT        | 30x        | unknown unit 'x'; use a duration like 30m, 1h30m or 90s, or off
            TIMEOUT        | -5m        | negative durations are not allowed
            TIMEOUT        | soon       | not a duration
            MAX_LIFETIME   | 1.5h       | fractions are not supported; use a duration like 8h or 1d, or off
            MAX_TIMEOUT    | 4hours     | unknown unit 'hours'; use a duration like 4h, or off
            SIGNALS        | cpu,mouse  | unknown signal 'mouse' (valid: cpu, exec, tty, http, opencode)
            SIGNALS        | ','        | no signal named
            CPU_THRESHOLD  | 150%       | over 100% of one core; use a percentage of one core like 10% or 2.5%
            CPU_THRESHOLD  | -1%        | negative threshold
            CPU_THRESHOLD  | lots       | not a percentage
            HTTP_PORTS     | 0          | port 0 is outside 1-65535; use comma-separated ports like 4096,8080
            HTTP_PORTS     | 4096,70000 | port 70000 is outside 1-65535
            HTTP_PORTS     | http       | 'http' is not a port number
            HTTP_LOOPBACK  | maybe      | not a boolean; use true or false
            POLL_INTERVAL  | 10ms       | below the minimum 100ms; use a duration of at least 100ms like 5s
            POLL_INTERVAL  | 5 parsecs  | unexpected ' '
            WARN_BEFORE    | 5q         | unknown unit 'q'; use a duration like 5m, or 0 for no notice
            PRE_STOP       | 'echo "unclosed' | ; use a command like
            STOP_GRACE     | -1s        | negative durations are not allowed; use a duration like 8s
            EXIT_CODE      | 256        | outside 0-255; use a number from 0 to 255 like 0
            EXIT_CODE      | -1         | negative exit code
            EXIT_CODE      | one        | not a number
            """)
    void badValueStopsBeforeSpawning(String setting, String value, String problem) {
        String variable = "IDLEWATCH_" + setting;
        try (Box box = Box.of(AGENT_TEST_IMAGE).env(variable, value).cmd(WORKLOAD).start()) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)), box.logs());
            String logs = box.logs();
            String quoted = value.replace("\\", "\\\\").replace("\"", "\\\"");
            assertTrue(logs.contains("idlewatch: " + variable + "=\"" + quoted + "\": "), logs);
            assertTrue(logs.contains(problem), "expected '" + problem + "' in: " + logs);
            assertEquals(1, logs.strip().lines().count(), "one line: " + logs);
            assertFalse(logs.contains("spawned"), "the workload ran: " + logs);
        }
    }

    @Test
    void timeoutAboveMaxTimeoutStopsBeforeSpawning() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "2h").env("IDLEWATCH_MAX_TIMEOUT", "1h")
                .cmd(WORKLOAD).start()) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)));
            String logs = box.logs();
            assertTrue(logs.contains("idlewatch: IDLEWATCH_TIMEOUT=\"2h\": above IDLEWATCH_MAX_TIMEOUT (1h)"), logs);
            assertFalse(logs.contains("spawned"), logs);
        }
    }

    @Test
    void badValueInTheTomlFileNamesFileAndLine() {
        String script = "mkdir -p /etc/idlewatch && printf 'timeout = \"30m\"\\npoll_interval = \"fast\"\\n'"
                + " > /etc/idlewatch/agent.toml && exec /opt/idlewatch/bin/idlewatch -- sh -c 'echo spawned'";
        try (Box box = Box.of(AGENT_TEST_IMAGE).entrypoint("sh", "-c", script).start()) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)));
            String logs = box.logs();
            assertTrue(logs.contains("/etc/idlewatch/agent.toml line 2: poll_interval=\"fast\": not a duration"), logs);
            assertFalse(logs.contains("spawned"), logs);
        }
    }

    /** Writes $AGENT_TOML to {@code file}, then execs the agent: the file exists before PID 1 starts. */
    private static Box withFile(String file, String toml, String... env) {
        String script = "mkdir -p \"$(dirname " + file + ")\" && printf '%s' \"$AGENT_TOML\" > " + file
                + " && exec /opt/idlewatch/bin/idlewatch -- sh -c 'echo spawned'";
        Box.Spec spec = Box.of(AGENT_TEST_IMAGE).env("AGENT_TOML", toml).entrypoint("sh", "-c", script);
        for (int i = 0; i < env.length; i += 2) {
            spec.env(env[i], env[i + 1]);
        }
        return spec.start();
    }

    /** tomlj (shaded into the agent's jar) reads the file in the image; each error names file, line and key. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            `timeout = 30m`                          | line 1: timeout: Unexpected 'm', expected a newline or end-of-input; quote strings, e.g. timeout = "30m"
            `timeout = "30m"\nidle_timeout = "1h"`   | line 2: unknown key 'idle_timeout'; use one of cpu_threshold,
            `[agent]\ntimeout = "30m"`               | line 1: 'agent' is a table; no [tables], dotted keys or {inline tables}
            `\nhttp_ports = [4096, 99999]`           | line 2: http_ports="4096,99999": port 99999 is outside 1-65535; use comma-separated ports like 4096,8080
            `timeout = "1m"\ntimeout = "2m"`         | line 2: timeout previously defined at line 1, column 1
            """)
    void badTomlFileStopsBeforeSpawning(String toml, String problem) {
        try (Box box = withFile("/etc/idlewatch/agent.toml", toml.replace("\\n", "\n"))) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)), box.logs());
            String logs = box.logs();
            assertTrue(logs.contains("idlewatch: /etc/idlewatch/agent.toml " + problem), logs);
            assertEquals(1, logs.strip().lines().count(), "one line: " + logs);
            assertFalse(logs.contains("spawned"), "the workload ran: " + logs);
        }
    }

    /** tomlj recurses on nested arrays; the agent's 256 KiB stack must never see that. */
    @Test
    void deeplyNestedTomlIsAConfigError_notAStackOverflow() {
        try (Box box = withFile("/etc/idlewatch/agent.toml", "http_ports = " + "[".repeat(20_000) + "]".repeat(20_000))) {
            assertEquals(2, box.awaitExit(Duration.ofSeconds(30)), box.logs());
            String logs = box.logs();
            assertTrue(logs.contains("idlewatch: /etc/idlewatch/agent.toml line 1: nested more than 16 deep"), logs);
            assertEquals(1, logs.strip().lines().count(), "one line: " + logs);
        }
    }

    @Test
    void goodTomlFileNamedByIdlewatchConfigIsApplied_theEnvironmentWins() {
        String toml = "# a workspace's defaults\ntimeout = \"30m\"\nsignals = [\"tty\", \"exec\"]\n"
                + "http_ports = [4096, 8080]\ncpu_threshold = 2.5\nworkspace = 'demo'\n";
        try (Box box = withFile("/tmp/custom.toml", toml, "IDLEWATCH_CONFIG", "/tmp/custom.toml",
                "IDLEWATCH_TIMEOUT", "45m")) {
            assertEquals(0, box.awaitExit(Duration.ofSeconds(30)), box.logs());
            String logs = box.logs();
            assertTrue(logs.contains("idlewatch: config: timeout=45m ") && logs.contains(" signals=exec,tty ")
                    && logs.contains(" cpu_threshold=2.5% ") && logs.contains(" http_ports=4096,8080 ")
                    && logs.contains(" workspace=demo ") && logs.contains(" config=/tmp/custom.toml"), logs);
            assertTrue(logs.contains("spawned"), logs);
        }
    }

    @Test
    void goodValuesAreLoggedOnceAndTheWorkloadRuns() {
        try (Box box = Box.of(AGENT_TEST_IMAGE).env("IDLEWATCH_TIMEOUT", "1h30m").env("IDLEWATCH_SIGNALS", "tty,exec")
                .env("IDLEWATCH_CPU_THRESHOLD", "2.5%").env("IDLEWATCH_HTTP_PORTS", "8080, 4096")
                .cmd(WORKLOAD).start()) {
            assertEquals(0, box.awaitExit(Duration.ofSeconds(30)));
            String logs = box.logs();
            assertTrue(logs.contains("timeout=1h30m") && logs.contains("signals=exec,tty")
                    && logs.contains("cpu_threshold=2.5%") && logs.contains("http_ports=8080,4096"), logs);
            assertTrue(logs.contains("spawned"), logs);
        }
    }
}
