package io.idlewatch.agent.config;

import io.idlewatch.agent.signal.http.HostNetwork;
import io.idlewatch.contract.Durations;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The agent's effective configuration: environment first, then the TOML file
 * ({@code IDLEWATCH_CONFIG}, else {@code /etc/idlewatch/agent.toml} when
 * present), then the defaults below. Sealed after {@link #load}; only the idle
 * timeout changes at runtime, and that lives in the idle tracker.
 *
 * <p>Every value, defaults included, goes through the same parser, so a bad
 * value anywhere fails the same way: one {@link ConfigException} line naming
 * the setting, the value and an example of a good one.
 */
public final class AgentConfig {

    /** Signal names in the order they are sampled and reported (SPEC §3). */
    public static final List<String> SIGNAL_NAMES = List.of("cpu", "exec", "tty", "http", "opencode");

    /** The file read when {@code IDLEWATCH_CONFIG} is not set, relative to the root. */
    public static final String DEFAULT_CONFIG_FILE = "/etc/idlewatch/agent.toml";
    /** Names the TOML file; environment only. */
    public static final String CONFIG_VARIABLE = "IDLEWATCH_CONFIG";
    /** Set by the launcher for the agent's JVM only; the workload must not inherit them. */
    public static final List<String> LAUNCHER_VARIABLES =
            List.of("_JAVA_SR_SIGNUM", "IDLEWATCH_CDS_CLASSLIST", "IDLEWATCH_INHERITED_FDS",
                    "IDLEWATCH_TEST_OOM_AFTER");
    /** Ours but not a setting: debug logging (see Log). */
    static final String VERBOSE_VARIABLE = "IDLEWATCH_VERBOSE";
    /** Shorter polls are busy-work for PID 1; longer ones are the user's choice. */
    public static final Duration MIN_POLL_INTERVAL = Duration.ofMillis(100);
    /**
     * SIGTERM → SIGKILL. Docker and Podman SIGKILL the container 10 s after {@code docker stop}'s
     * TERM; 8 s leaves the agent time to KILL what ignored the TERM, reap it and write the final
     * record itself. Raise it together with {@code docker stop -t} / {@code stop_grace_period}.
     */
    static final String DEFAULT_STOP_GRACE = "8s";

    /**
     * Every setting, declared once: its default (as a user would write it), and
     * the example appended to its error messages. The environment variable is
     * {@code IDLEWATCH_<NAME>}, the TOML key the lower-case name.
     */
    enum Setting {
        /** Idle threshold; "off", "0" or empty = never stop for idleness. */
        TIMEOUT("off", true, Durations.EXAMPLE + ", or off"),
        /** Hard cap on the container's lifetime, activity or not; off = none. */
        MAX_LIFETIME("off", true, "use a duration like 8h or 1d, or off"),
        /** Ceiling for runtime changes made with {@code idlewatch timeout}; off = none. */
        MAX_TIMEOUT("off", true, "use a duration like 4h, or off"),
        /** Which activity signals count; "none" leaves only touch and inhibit. */
        SIGNALS("cpu,exec,tty,http,opencode", false, "use a comma-separated list like cpu,exec,tty,http,opencode or none"),
        /** Workload CPU (per cent of one core, one-minute average) above which the container is busy. */
        CPU_THRESHOLD("10%", false, "use a percentage of one core like 10% or 2.5%"),
        /** Ports whose client traffic (and opencode status) counts; comma-separated. */
        HTTP_PORTS("4096", false, "use comma-separated ports like 4096,8080"),
        /** Whether loopback clients (health checks, in-container probes) count too. */
        HTTP_LOOPBACK("false", false, "use true or false"),
        /** How long opencode may report a busy session that shows no progress and still count; off = for ever. */
        OPENCODE_STALL("30m", false, "use a duration like 30m, or off"),
        /** Time between samples. */
        POLL_INTERVAL("5s", false, "use a duration of at least 100ms like 5s"),
        /** How long before an idle stop a notice goes to every open terminal; 0 = no notice. */
        WARN_BEFORE("5m", false, "use a duration like 5m, or 0 for no notice"),
        /** Command run (bounded by the stop grace) before the workload gets SIGTERM; empty = none. */
        PRE_STOP("", true, "use a command like \"/usr/local/bin/save-work --quiet\""),
        /** Time between SIGTERM and SIGKILL when stopping the workload. */
        STOP_GRACE(DEFAULT_STOP_GRACE, false, "use a duration like 8s"),
        /** The agent's exit code after an idle or lifetime stop. */
        EXIT_CODE("0", false, "use a number from 0 to 255 like 0"),
        /** Display name written to the state file; empty = none. */
        WORKSPACE("", true, "use a name like my-workspace");

        final String variable = "IDLEWATCH_" + name();
        final String key = name().toLowerCase(Locale.ROOT);
        final String defaultValue;
        /** Whether an empty value means "off/none" (else empty means "not set"). */
        final boolean emptyIsAValue;
        final String example;

        Setting(String defaultValue, boolean emptyIsAValue, String example) {
            this.defaultValue = defaultValue;
            this.emptyIsAValue = emptyIsAValue;
            this.example = example;
        }
    }

    /**
     * One key of the TOML file, its value in the environment's text form ({@code [4096, 8080]} is
     * {@code "4096,8080"}) and the line of its key. Not in {@link TomlConfigFile}, which alone touches
     * tomlj: a workspace without a file loads neither.
     */
    record FileValue(String key, String text, int line) {
    }

    /** A value with where it came from, for error messages. */
    private record Raw(Setting setting, String value, String origin, boolean set) {
        Raw(Setting setting, String value, String origin) {
            this(setting, value, origin, true);
        }

        String label() {
            return origin + setting.key + "=\"" + oneLine(value) + "\"";
        }

        String where() {
            return origin.isEmpty() ? setting.variable + "=\"" + oneLine(value) + "\"" : label();
        }

        ConfigException error(String problem) {
            return new ConfigException(where() + ": " + problem + "; " + setting.example);
        }
    }

    private final Duration timeout;
    private final Duration maxLifetime;
    private final Duration maxTimeout;
    private final List<String> signals;
    private final double cpuThresholdPercent;
    private final int[] httpPorts;
    private final boolean httpLoopback;
    /** Why the agent is in the host's network namespace, or null. */
    private final String hostNetwork;
    private final boolean httpLoopbackSet;
    private final Duration opencodeStall;
    private final Duration pollInterval;
    private final Duration warnBefore;
    private final List<String> preStop;
    private final String preStopText;
    private final Duration stopGrace;
    private final int exitCode;
    private final String workspace;
    private final Path configFile;
    private final String opencodeUsername;
    private final String opencodePassword;
    private final List<String> warnings;

    private AgentConfig(Map<Setting, Raw> raw, Path root, Path configFile, Map<String, String> env,
                        List<String> warnings) {
        this.configFile = configFile;
        this.warnings = Collections.unmodifiableList(warnings);
        this.timeout = optionalDuration(raw.get(Setting.TIMEOUT));
        this.maxLifetime = optionalDuration(raw.get(Setting.MAX_LIFETIME));
        this.maxTimeout = optionalDuration(raw.get(Setting.MAX_TIMEOUT));
        this.signals = signals(raw.get(Setting.SIGNALS));
        this.cpuThresholdPercent = percent(raw.get(Setting.CPU_THRESHOLD));
        this.httpPorts = ports(raw.get(Setting.HTTP_PORTS));
        // In the host's network namespace every client on the machine is a loopback client: they
        // count unless IDLEWATCH_HTTP_LOOPBACK says otherwise.
        this.hostNetwork = HostNetwork.detect(root).orElse(null);
        this.httpLoopbackSet = raw.get(Setting.HTTP_LOOPBACK).set();
        this.httpLoopback = httpLoopbackSet || hostNetwork == null ? bool(raw.get(Setting.HTTP_LOOPBACK)) : true;
        this.opencodeStall = optionalDuration(raw.get(Setting.OPENCODE_STALL));
        this.pollInterval = duration(raw.get(Setting.POLL_INTERVAL), MIN_POLL_INTERVAL, "below the minimum 100ms");
        this.warnBefore = duration(raw.get(Setting.WARN_BEFORE), Duration.ZERO, null);
        this.preStopText = raw.get(Setting.PRE_STOP).value.trim();
        this.preStop = command(raw.get(Setting.PRE_STOP), root);
        this.stopGrace = duration(raw.get(Setting.STOP_GRACE), Duration.ZERO, null);
        this.exitCode = exitCode(raw.get(Setting.EXIT_CODE));
        String ws = raw.get(Setting.WORKSPACE).value.trim();
        this.workspace = ws.isEmpty() ? null : ws;
        this.opencodePassword = emptyToNull(env.get("OPENCODE_SERVER_PASSWORD"));
        // opencode's server checks this user name, "opencode" unless OPENCODE_SERVER_USERNAME says otherwise
        String user = emptyToNull(env.get("OPENCODE_SERVER_USERNAME"));
        this.opencodeUsername = user == null ? "opencode" : user;

        if (maxTimeout != null && timeout != null && timeout.compareTo(maxTimeout) > 0) {
            throw new ConfigException(raw.get(Setting.TIMEOUT).where() + ": above IDLEWATCH_MAX_TIMEOUT ("
                    + Durations.format(maxTimeout) + "); use a timeout of at most " + Durations.format(maxTimeout)
                    + " or raise IDLEWATCH_MAX_TIMEOUT");
        }
    }

    /** Reads the real environment and file system. */
    public static AgentConfig fromEnvironment() {
        return load(System.getenv(), Path.of("/"));
    }

    /**
     * @param env  the environment (injected so tests need not set real variables)
     * @param root where {@code /etc/idlewatch/agent.toml} and {@code /bin/sh} are looked up
     * @throws ConfigException on the first bad value
     */
    public static AgentConfig load(Map<String, String> env, Path root) {
        Path file = null;
        Map<String, FileValue> fileValues = Map.of();
        String explicit = env.get(CONFIG_VARIABLE);
        if (explicit != null && !explicit.isBlank()) {
            try {
                file = Path.of(explicit.trim());
            } catch (InvalidPathException e) {
                throw new ConfigException(CONFIG_VARIABLE + "=\"" + oneLine(explicit) + "\": not a path ("
                        + e.getReason() + "); use the path of a TOML file like " + DEFAULT_CONFIG_FILE);
            }
            if (!Files.isRegularFile(file)) {
                throw new ConfigException(CONFIG_VARIABLE + "=\"" + oneLine(explicit) + "\": no such file;"
                        + " use the path of a TOML file like " + DEFAULT_CONFIG_FILE);
            }
        } else {
            Path candidate = root.resolve(DEFAULT_CONFIG_FILE.substring(1));
            if (Files.isRegularFile(candidate)) {
                file = candidate;
            }
        }
        if (file != null) {
            // the one call into tomlj: without a file, none of its classes (nor ANTLR's) is loaded
            fileValues = TomlConfigFile.read(file);
        }

        Map<String, Setting> byKey = new java.util.HashMap<>();
        for (Setting s : Setting.values()) {
            byKey.put(s.key, s);
        }
        for (FileValue v : fileValues.values()) {
            if (!byKey.containsKey(v.key())) {
                throw new ConfigException(file + " line " + v.line() + ": unknown key '" + v.key()
                        + "'; use one of " + String.join(", ", byKey.keySet().stream().sorted().toList()));
            }
        }

        Map<Setting, Raw> raw = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String fromEnv = env.get(s.variable);
            FileValue fromFile = fileValues.get(s.key);
            if (fromEnv != null && (s.emptyIsAValue || !fromEnv.isBlank())) {
                raw.put(s, new Raw(s, fromEnv, ""));
            } else if (fromFile != null) {
                raw.put(s, new Raw(s, fromFile.text(), file + " line " + fromFile.line() + ": "));
            } else {
                raw.put(s, new Raw(s, s.defaultValue, "", false));
            }
        }

        List<String> warnings = new ArrayList<>();
        for (String name : env.keySet()) {
            if (name.startsWith("IDLEWATCH_") && !name.equals(CONFIG_VARIABLE) && !isSetting(name)
                    && !LAUNCHER_VARIABLES.contains(name) && !name.equals(VERBOSE_VARIABLE)) {
                warnings.add(name + " is not an idlewatch setting and is ignored");
            }
        }
        Collections.sort(warnings);
        return new AgentConfig(raw, root, file, env, warnings);
    }

    private static boolean isSetting(String variable) {
        for (Setting s : Setting.values()) {
            if (s.variable.equals(variable)) {
                return true;
            }
        }
        return false;
    }

    // ---- value parsers: each throws through Raw.error so messages share one shape ----

    private static Duration optionalDuration(Raw raw) {
        String v = raw.value.trim().toLowerCase(Locale.ROOT);
        if (v.isEmpty() || v.equals("off") || v.equals("0")) {
            return null;
        }
        Duration d = parseDuration(raw);
        return d.isZero() ? null : d;
    }

    private static Duration duration(Raw raw, Duration min, String belowMin) {
        Duration d = parseDuration(raw);
        if (d.compareTo(min) < 0) {
            throw raw.error(belowMin);
        }
        return d;
    }

    private static Duration parseDuration(Raw raw) {
        try {
            return Durations.parse(raw.value);
        } catch (IllegalArgumentException e) {
            throw raw.error(e.getMessage());
        }
    }

    private static List<String> signals(Raw raw) {
        String v = raw.value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("none")) {
            return List.of();
        }
        boolean[] on = new boolean[SIGNAL_NAMES.size()];
        for (String part : v.split(",")) {
            String name = part.trim();
            if (name.isEmpty()) {
                continue;
            }
            int i = SIGNAL_NAMES.indexOf(name);
            if (i < 0) {
                throw raw.error("unknown signal '" + name + "' (valid: " + String.join(", ", SIGNAL_NAMES) + ")");
            }
            on[i] = true;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < on.length; i++) {
            if (on[i]) {
                out.add(SIGNAL_NAMES.get(i));
            }
        }
        if (out.isEmpty()) {
            throw raw.error("no signal named");
        }
        return List.copyOf(out);
    }

    private static double percent(Raw raw) {
        String v = raw.value.trim();
        if (v.endsWith("%")) {
            v = v.substring(0, v.length() - 1).trim();
        }
        if (v.startsWith("-")) {
            throw raw.error("negative threshold");
        }
        if (!isDecimal(v)) {
            throw raw.error("not a percentage");
        }
        double pct = Double.parseDouble(v);
        if (pct > 100) {
            throw raw.error("over 100% of one core");
        }
        return pct;
    }

    private static boolean isDecimal(String v) {
        int dots = 0;
        int digits = 0;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c >= '0' && c <= '9') {
                digits++;
            } else {
                return false;
            }
        }
        return digits > 0 && dots <= 1 && digits <= 12;
    }

    private static int[] ports(Raw raw) {
        String v = raw.value.trim();
        if (v.equalsIgnoreCase("none")) {
            return new int[0];
        }
        String[] parts = v.split(",");
        int[] ports = new int[parts.length];
        int n = 0;
        for (String part : parts) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int port;
            String digits = p.startsWith("-") ? p.substring(1) : p; // "-1.5" threw NumberFormatException
            if (isDecimal(digits) && digits.indexOf('.') < 0) {
                long l = p.length() > 7 ? Long.MAX_VALUE : Long.parseLong(p);
                if (l < 1 || l > 65535) {
                    throw raw.error("port " + p + " is outside 1-65535");
                }
                port = (int) l;
            } else {
                throw raw.error("'" + p + "' is not a port number");
            }
            boolean dup = false;
            for (int i = 0; i < n; i++) {
                dup |= ports[i] == port;
            }
            if (!dup) {
                ports[n++] = port;
            }
        }
        if (n == 0) {
            throw raw.error("no port named");
        }
        return Arrays.copyOf(ports, n);
    }

    private static boolean bool(Raw raw) {
        switch (raw.value.trim().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes", "on":
                return true;
            case "false", "0", "no", "off":
                return false;
            default:
                throw raw.error("not a boolean");
        }
    }

    private static List<String> command(Raw raw, Path root) {
        String line = raw.value.trim();
        if (line.isEmpty() || line.equalsIgnoreCase("none")) {
            return List.of();
        }
        List<String> argv;
        try {
            argv = CommandLine.split(line);
        } catch (IllegalArgumentException e) {
            throw raw.error(e.getMessage());
        }
        // With a shell in the image, users get the full shell language they expect
        // (pipes, &&, $VARS); without one, the simple split above is the command.
        if (Files.isExecutable(root.resolve("bin/sh"))) {
            return List.of("/bin/sh", "-c", line);
        }
        return List.copyOf(argv);
    }

    private static int exitCode(Raw raw) {
        String v = raw.value.trim();
        if (!isDecimal(v) || v.indexOf('.') >= 0) {
            throw raw.error(v.startsWith("-") ? "negative exit code" : "not a number");
        }
        long code = v.length() > 6 ? Long.MAX_VALUE : Long.parseLong(v);
        if (code > 255) {
            throw raw.error("outside 0-255");
        }
        return (int) code;
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    static String oneLine(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r");
    }

    // ---- accessors ----

    /** Idle threshold, or null when the workspace never stops for idleness. */
    public Duration timeout() {
        return timeout;
    }

    /** Lifetime cap, or null for none. */
    public Duration maxLifetime() {
        return maxLifetime;
    }

    /** Ceiling for runtime timeout changes, or null for none. */
    public Duration maxTimeout() {
        return maxTimeout;
    }

    /** Enabled signal names, in {@link #SIGNAL_NAMES} order. */
    public List<String> signals() {
        return signals;
    }

    public boolean signalEnabled(String name) {
        return signals.contains(name);
    }

    /** CPU threshold as a fraction of one core (0.1 = 10%). */
    public double cpuThreshold() {
        return cpuThresholdPercent / 100.0;
    }

    public int[] httpPorts() {
        return httpPorts.clone();
    }

    /** {@code IDLEWATCH_OPENCODE_STALL}: null for off (a busy state counts for ever). */
    public Duration opencodeStall() {
        return opencodeStall;
    }

    /** Why the agent looks to be in the host's network namespace, or empty. */
    public java.util.Optional<String> hostNetwork() {
        return java.util.Optional.ofNullable(hostNetwork);
    }

    public boolean httpLoopback() {
        return httpLoopback;
    }

    public Duration pollInterval() {
        return pollInterval;
    }

    /** Zero means no notice. */
    public Duration warnBefore() {
        return warnBefore;
    }

    /** argv of the pre-stop command; empty for none. */
    public List<String> preStop() {
        return preStop;
    }

    public Duration stopGrace() {
        return stopGrace;
    }

    public int exitCode() {
        return exitCode;
    }

    /** {@code IDLEWATCH_WORKSPACE}, or null. */
    public String workspace() {
        return workspace;
    }

    /** The TOML file that was read, or null. */
    public Path configFile() {
        return configFile;
    }

    /** User for opencode's basic auth: OPENCODE_SERVER_USERNAME, else "opencode". */
    public String opencodeUsername() {
        return opencodeUsername;
    }

    /** OPENCODE_SERVER_PASSWORD, or null when opencode runs without auth. */
    public String opencodePassword() {
        return opencodePassword;
    }

    /** Lines worth logging once: unknown IDLEWATCH_* variables (likely typos). */
    public List<String> warnings() {
        return warnings;
    }

    /** The effective configuration as one line, logged once at start-up. Secrets are not shown. */
    public String describe() {
        StringBuilder b = new StringBuilder(256).append("idlewatch: config:");
        b.append(" timeout=").append(off(timeout));
        b.append(" max_lifetime=").append(off(maxLifetime));
        b.append(" max_timeout=").append(off(maxTimeout));
        b.append(" signals=").append(signals.isEmpty() ? "none" : String.join(",", signals));
        b.append(" cpu_threshold=").append(BigDecimal.valueOf(cpuThresholdPercent).stripTrailingZeros().toPlainString())
                .append('%');
        b.append(" http_ports=");
        for (int i = 0; i < httpPorts.length; i++) {
            b.append(i == 0 ? "" : ",").append(httpPorts[i]);
        }
        b.append(" http_loopback=").append(httpLoopback);
        if (hostNetwork != null) {
            b.append(httpLoopbackSet ? " (set; host network: " : " (host network: ").append(hostNetwork)
                    .append(httpLoopback ? ": loopback clients of the watched ports count)"
                            : ": clients on this machine do not count)");
        }
        b.append(" opencode_stall=").append(off(opencodeStall));
        b.append(" poll_interval=").append(Durations.format(pollInterval));
        b.append(" warn_before=").append(Durations.format(warnBefore));
        b.append(" pre_stop=").append(preStop.isEmpty() ? "none" : "\"" + oneLine(preStopText) + "\"");
        b.append(" stop_grace=").append(Durations.format(stopGrace));
        b.append(" exit_code=").append(exitCode);
        if (workspace != null) {
            b.append(" workspace=").append(oneLine(workspace)); // a log line: its line breaks escaped
        }
        b.append(" config=").append(configFile == null ? "none" : configFile.toString());
        return b.toString();
    }

    private static String off(Duration d) {
        return d == null ? "off" : Durations.format(d);
    }

    @Override
    public String toString() {
        return describe();
    }
}
