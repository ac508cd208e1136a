package io.idlewatch.agent.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Like ryuk's config_test.go: defaults, each variable's good forms, and an invalid case per variable. */
class AgentConfigTest {
    @TempDir
    Path root;

    private AgentConfig load(String... kv) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            env.put(kv[i], kv[i + 1]);
        }
        return AgentConfig.load(env, root);
    }

    private String error(String... kv) {
        return assertThrows(ConfigException.class, () -> load(kv)).getMessage();
    }

    @Test
    void defaultsAreTheSpecTable() {
        AgentConfig c = load();
        assertNull(c.timeout());
        assertNull(c.maxLifetime());
        assertNull(c.maxTimeout());
        assertEquals(List.of("cpu", "exec", "tty", "http", "opencode"), c.signals());
        assertEquals(0.10, c.cpuThreshold(), 1e-12);
        assertArrayEquals(new int[] {4096}, c.httpPorts());
        assertFalse(c.httpLoopback());
        assertEquals(Duration.ofSeconds(5), c.pollInterval());
        assertEquals(Duration.ofMinutes(5), c.warnBefore());
        assertEquals(List.of(), c.preStop());
        assertEquals(Duration.ofSeconds(8), c.stopGrace(), "fits in docker stop's 10 s");
        assertEquals(0, c.exitCode());
        assertNull(c.configFile());
        assertNull(c.workspace());
        assertEquals("opencode", c.opencodeUsername());
        assertNull(c.opencodePassword());
        assertEquals("idlewatch: config: timeout=off max_lifetime=off max_timeout=off"
                + " signals=cpu,exec,tty,http,opencode cpu_threshold=10% http_ports=4096 http_loopback=false opencode_stall=30m"
                + " poll_interval=5s warn_before=5m pre_stop=none stop_grace=8s exit_code=0 config=none", c.describe());
    }

    @Test
    void everyVariableIsRead() {
        AgentConfig c = load("IDLEWATCH_TIMEOUT", "1h30m", "IDLEWATCH_MAX_LIFETIME", "1d",
                "IDLEWATCH_MAX_TIMEOUT", "4h", "IDLEWATCH_SIGNALS", " HTTP , cpu,http",
                "IDLEWATCH_CPU_THRESHOLD", "2.5%", "IDLEWATCH_HTTP_PORTS", "8080, 4096,8080",
                "IDLEWATCH_HTTP_LOOPBACK", "yes", "IDLEWATCH_OPENCODE_STALL", "off", "IDLEWATCH_POLL_INTERVAL", "500ms",
                "IDLEWATCH_WARN_BEFORE", "0", "IDLEWATCH_PRE_STOP", "save-work --to 'my dir' \"a b\"",
                "IDLEWATCH_STOP_GRACE", "30", "IDLEWATCH_EXIT_CODE", "3", "IDLEWATCH_WORKSPACE", "demo",
                "OPENCODE_SERVER_PASSWORD", "pw", "OPENCODE_SERVER_USERNAME", "me");
        assertEquals(Duration.ofMinutes(90), c.timeout());
        assertEquals(Duration.ofDays(1), c.maxLifetime());
        assertEquals(Duration.ofHours(4), c.maxTimeout());
        assertEquals(List.of("cpu", "http"), c.signals());
        assertEquals(0.025, c.cpuThreshold(), 1e-12);
        assertArrayEquals(new int[] {8080, 4096}, c.httpPorts());
        assertTrue(c.httpLoopback());
        assertEquals(Duration.ofMillis(500), c.pollInterval());
        assertEquals(Duration.ZERO, c.warnBefore());
        assertEquals(List.of("save-work", "--to", "my dir", "a b"), c.preStop(), "no /bin/sh under the root");
        assertEquals(Duration.ofSeconds(30), c.stopGrace());
        assertEquals(3, c.exitCode());
        assertEquals("demo", c.workspace());
        assertEquals("me", c.opencodeUsername());
        assertEquals("pw", c.opencodePassword());
        assertEquals("idlewatch: config: timeout=1h30m max_lifetime=1d max_timeout=4h signals=cpu,http"
                + " cpu_threshold=2.5% http_ports=8080,4096 http_loopback=true opencode_stall=off poll_interval=500ms warn_before=0s"
                + " pre_stop=\"save-work --to 'my dir' \\\"a b\\\"\" stop_grace=30s exit_code=3 workspace=demo"
                + " config=none", c.describe());
        assertFalse(c.describe().contains("pw"), "secrets stay out of the log");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "IDLEWATCH_TIMEOUT       | 30x   | IDLEWATCH_TIMEOUT=\"30x\": unknown unit 'x'; use a duration like 30m, 1h30m or 90s, or off",
        "IDLEWATCH_TIMEOUT       | -5m   | IDLEWATCH_TIMEOUT=\"-5m\": negative durations are not allowed; use a duration like 30m, 1h30m or 90s, or off",
        "IDLEWATCH_TIMEOUT       | 1.5h  | IDLEWATCH_TIMEOUT=\"1.5h\": fractions are not supported; use a duration like 30m, 1h30m or 90s, or off",
        "IDLEWATCH_MAX_LIFETIME  | forever | IDLEWATCH_MAX_LIFETIME=\"forever\": not a duration; use a duration like 8h or 1d, or off",
        "IDLEWATCH_MAX_TIMEOUT   | 4hours | IDLEWATCH_MAX_TIMEOUT=\"4hours\": unknown unit 'hours'; use a duration like 4h, or off",
        "IDLEWATCH_SIGNALS       | cpu,gpu | IDLEWATCH_SIGNALS=\"cpu,gpu\": unknown signal 'gpu' (valid: cpu, exec, tty, http, opencode); use a comma-separated list like cpu,exec,tty,http,opencode or none",
        "IDLEWATCH_SIGNALS       | `,`   | IDLEWATCH_SIGNALS=\",\": no signal named; use a comma-separated list like cpu,exec,tty,http,opencode or none",
        "IDLEWATCH_CPU_THRESHOLD | 150%  | IDLEWATCH_CPU_THRESHOLD=\"150%\": over 100% of one core; use a percentage of one core like 10% or 2.5%",
        "IDLEWATCH_CPU_THRESHOLD | -1%   | IDLEWATCH_CPU_THRESHOLD=\"-1%\": negative threshold; use a percentage of one core like 10% or 2.5%",
        "IDLEWATCH_CPU_THRESHOLD | lots  | IDLEWATCH_CPU_THRESHOLD=\"lots\": not a percentage; use a percentage of one core like 10% or 2.5%",
        "IDLEWATCH_HTTP_PORTS    | 4096,70000 | IDLEWATCH_HTTP_PORTS=\"4096,70000\": port 70000 is outside 1-65535; use comma-separated ports like 4096,8080",
        "IDLEWATCH_HTTP_PORTS    | 0     | IDLEWATCH_HTTP_PORTS=\"0\": port 0 is outside 1-65535; use comma-separated ports like 4096,8080",
        "IDLEWATCH_HTTP_PORTS    | http  | IDLEWATCH_HTTP_PORTS=\"http\": 'http' is not a port number; use comma-separated ports like 4096,8080",
        "IDLEWATCH_HTTP_LOOPBACK | maybe | IDLEWATCH_HTTP_LOOPBACK=\"maybe\": not a boolean; use true or false",
        "IDLEWATCH_OPENCODE_STALL | 30min | IDLEWATCH_OPENCODE_STALL=\"30min\": unknown unit 'min'; use a duration like 30m, or off",
        "IDLEWATCH_POLL_INTERVAL | 50ms  | IDLEWATCH_POLL_INTERVAL=\"50ms\": below the minimum 100ms; use a duration of at least 100ms like 5s",
        "IDLEWATCH_POLL_INTERVAL | 0     | IDLEWATCH_POLL_INTERVAL=\"0\": below the minimum 100ms; use a duration of at least 100ms like 5s",
        "IDLEWATCH_WARN_BEFORE   | 5 min | IDLEWATCH_WARN_BEFORE=\"5 min\": unexpected ' '; use a duration like 5m, or 0 for no notice",
        "IDLEWATCH_PRE_STOP      | `save \"half` | IDLEWATCH_PRE_STOP=\"save \\\"half\": unbalanced \" quote; use a command like \"/usr/local/bin/save-work --quiet\"",
        "IDLEWATCH_STOP_GRACE    | 10s5  | IDLEWATCH_STOP_GRACE=\"10s5\": missing unit after 5; use a duration like 8s",
        "IDLEWATCH_EXIT_CODE     | 256   | IDLEWATCH_EXIT_CODE=\"256\": outside 0-255; use a number from 0 to 255 like 0",
        "IDLEWATCH_EXIT_CODE     | -1    | IDLEWATCH_EXIT_CODE=\"-1\": negative exit code; use a number from 0 to 255 like 0",
        "IDLEWATCH_CONFIG        | /nonexistent/agent.toml | IDLEWATCH_CONFIG=\"/nonexistent/agent.toml\": no such file; use the path of a TOML file like /etc/idlewatch/agent.toml",
    })
    void invalidValuesNameTheVariableTheValueAndAGoodExample(String variable, String value, String message) {
        assertEquals(message, error(variable, value));
    }

    @Test
    void timeoutAboveMaxTimeoutIsAnError() {
        assertEquals("IDLEWATCH_TIMEOUT=\"2h\": above IDLEWATCH_MAX_TIMEOUT (1h); use a timeout of at most 1h"
                + " or raise IDLEWATCH_MAX_TIMEOUT", error("IDLEWATCH_TIMEOUT", "2h", "IDLEWATCH_MAX_TIMEOUT", "1h"));
        assertEquals(Duration.ofHours(1), load("IDLEWATCH_TIMEOUT", "1h", "IDLEWATCH_MAX_TIMEOUT", "1h").timeout());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"IDLEWATCH_TIMEOUT", "IDLEWATCH_MAX_LIFETIME", "IDLEWATCH_MAX_TIMEOUT"})
    void zeroOffOrEmptyDisable(String variable) {
        for (String off : List.of("0", "off", "OFF", "", "0s")) {
            AgentConfig c = load(variable, off);
            assertNull(variable.equals("IDLEWATCH_TIMEOUT") ? c.timeout()
                    : variable.equals("IDLEWATCH_MAX_LIFETIME") ? c.maxLifetime() : c.maxTimeout(), off);
        }
    }

    @Test
    void anEmptyValueMeansTheDefaultWhereOffMakesNoSense() {
        AgentConfig c = load("IDLEWATCH_POLL_INTERVAL", "", "IDLEWATCH_HTTP_PORTS", " ", "IDLEWATCH_SIGNALS", "");
        assertEquals(Duration.ofSeconds(5), c.pollInterval());
        assertArrayEquals(new int[] {4096}, c.httpPorts());
        assertEquals(5, c.signals().size());
    }

    @Test
    void thresholdForms() {
        assertEquals(0.10, load("IDLEWATCH_CPU_THRESHOLD", "10").cpuThreshold(), 1e-12);
        assertEquals(1.0, load("IDLEWATCH_CPU_THRESHOLD", "100%").cpuThreshold(), 1e-12);
        assertEquals(0.0, load("IDLEWATCH_CPU_THRESHOLD", "0%").cpuThreshold(), 1e-12);
        assertTrue(load("IDLEWATCH_SIGNALS", "none").signals().isEmpty());
    }

    @Test
    void booleans() {
        for (String t : List.of("true", "1", "yes", "TRUE", "on")) {
            assertTrue(load("IDLEWATCH_HTTP_LOOPBACK", t).httpLoopback(), t);
        }
        for (String f : List.of("false", "0", "no", "off")) {
            assertFalse(load("IDLEWATCH_HTTP_LOOPBACK", f).httpLoopback(), f);
        }
    }

    @Test
    void preStopRunsThroughTheShellWhenTheImageHasOne() throws Exception {
        Path sh = Files.createDirectories(root.resolve("bin")).resolve("sh");
        Files.writeString(sh, "");
        sh.toFile().setExecutable(true);
        assertEquals(List.of("/bin/sh", "-c", "save-work && sync"),
                load("IDLEWATCH_PRE_STOP", " save-work && sync ").preStop());
        assertEquals(List.of(), load("IDLEWATCH_PRE_STOP", "none").preStop());
    }

    @Test
    void theDefaultFileIsReadAndTheEnvironmentOverridesIt() throws Exception {
        Path file = Files.createDirectories(root.resolve("etc/idlewatch")).resolve("agent.toml");
        Files.writeString(file, """
                # workspace defaults
                timeout = "30m"
                signals = ["cpu", "http"]   # only these
                http_ports = [4096, 8080]
                http_loopback = true
                exit_code = 0
                cpu_threshold = 2.5
                pre_stop = 'echo "bye"'
                """);
        AgentConfig c = load("IDLEWATCH_TIMEOUT", "45m");
        assertEquals(Duration.ofMinutes(45), c.timeout());
        assertEquals(List.of("cpu", "http"), c.signals());
        assertArrayEquals(new int[] {4096, 8080}, c.httpPorts());
        assertTrue(c.httpLoopback());
        assertEquals(0.025, c.cpuThreshold(), 1e-12);
        assertEquals(List.of("echo", "bye"), c.preStop());
        assertEquals(file, c.configFile());
        assertTrue(c.describe().endsWith(" config=" + file));
    }

    @Test
    void idlewatchConfigNamesAnotherFile() throws Exception {
        Path file = root.resolve("custom.toml");
        Files.writeString(file, "signals = \"tty\"\n");
        assertEquals(List.of("tty"), load("IDLEWATCH_CONFIG", file.toString()).signals());
    }

    @Test
    void badFileValuesNameTheFileLineAndKey() throws Exception {
        Path file = root.resolve("a.toml");
        Files.writeString(file, "# comment\n\ntimeout = \"30x\"\n");
        assertEquals(file + " line 3: timeout=\"30x\": unknown unit 'x'; use a duration like 30m, 1h30m or 90s, or off",
                assertThrows(ConfigException.class, () -> load("IDLEWATCH_CONFIG", file.toString())).getMessage());
        Files.writeString(file, "timeout = \"30m\"\nidle_timeout = \"1h\"\n");
        assertEquals(file + " line 2: unknown key 'idle_timeout'; use one of cpu_threshold, exit_code, http_loopback,"
                + " http_ports, max_lifetime, max_timeout, opencode_stall, poll_interval, pre_stop, signals, stop_grace, timeout,"
                + " warn_before, workspace",
                assertThrows(ConfigException.class, () -> load("IDLEWATCH_CONFIG", file.toString())).getMessage());
        Files.writeString(file, "http_ports = [4096, 99999]\n");
        assertEquals(file + " line 1: http_ports=\"4096,99999\": port 99999 is outside 1-65535;"
                        + " use comma-separated ports like 4096,8080",
                assertThrows(ConfigException.class, () -> load("IDLEWATCH_CONFIG", file.toString())).getMessage());
    }

    @Test
    void unknownIdlewatchVariablesAreWarnedAbout() {
        AgentConfig c = load("IDLEWATCH_TIMOUT", "5m", "IDLEWATCH_TIMEOUT", "5m", "IDLEWATCH_CONFIG", "",
                "PATH", "/bin");
        assertEquals(List.of("IDLEWATCH_TIMOUT is not an idlewatch setting and is ignored"), c.warnings());
        assertNull(c.configFile());
    }
}
