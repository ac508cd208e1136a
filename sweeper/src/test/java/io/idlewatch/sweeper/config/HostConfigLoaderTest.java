package io.idlewatch.sweeper.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostConfigLoaderTest {

    @TempDir
    Path dir;

    Path write(String name, String toml) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, toml);
        return file;
    }

    String error(String toml) throws IOException {
        Path file = write("config.toml", toml);
        return assertThrows(ConfigException.class, () -> HostConfigLoader.read(file)).getMessage()
                .replace(file.toString(), "FILE");
    }

    HostEnvironment env(Map<String, String> variables) {
        return new HostEnvironment(variables, dir.resolve("home"), dir.resolve("etc"));
    }

    @Test
    void readsTheSpecExample() throws IOException {
        HostConfig config = HostConfigLoader.read(write("config.toml", """
                [defaults]
                older_than = "10m"
                volumes = true
                interval = 300
                [workspaces.ephemeral-task]   # matches io.idlewatch.workspace=ephemeral-task
                older_than = "0s"
                """));

        assertEquals(new HostConfig.Settings(Optional.of(Duration.ofMinutes(10)), Optional.of(true)), config.defaults());
        assertEquals(Optional.of(Duration.ofMinutes(5)), config.interval());
        assertEquals(new HostConfig.Settings(Optional.of(Duration.ZERO), Optional.of(true)),
                config.forWorkspace("ephemeral-task"));
        assertEquals(config.defaults(), config.forWorkspace("other"));
    }

    @Test
    void errorsNameFileLineAndKey() throws IOException {
        assertEquals("FILE:3: defaults.older_thn: unknown key; allowed here: interval, older_than, unplanned_older_than, volumes",
                error("[defaults]\nvolumes = true\nolder_thn = \"1m\"\n"));
        assertEquals("FILE:2: workspaces.a.interval: unknown key; allowed here: older_than, unplanned_older_than, volumes",
                error("[workspaces.a]\ninterval = \"1m\"\n"));
        assertEquals("FILE:1: colour: unknown key; expected [defaults] or [workspaces.NAME]",
                error("colour = \"blue\"\n"));
        assertEquals("FILE:2: defaults.older_than: \"10x\": unknown unit 'x'; use a duration like 30m, 1h30m or 90s",
                error("[defaults]\nolder_than = \"10x\"\n"));
        assertEquals("FILE:3: workspaces.b.older_than: -5: negative durations are not allowed; "
                + "use a duration like 30m, 1h30m or 90s", error("[workspaces.b]\n\nolder_than = -5\n"));
        assertEquals("FILE:2: defaults.older_than: \"1.5\" is not a duration; use e.g. older_than = \"10m\"",
                error("[defaults]\nolder_than = 1.5\n"));
        assertEquals("FILE:2: defaults.interval: an array is not a duration; use e.g. interval = \"10m\"",
                error("[defaults]\ninterval = [\"5m\"]\n"));
        assertEquals("FILE:2: defaults.volumes: \"yes\" is not true or false; use e.g. volumes = true",
                error("[defaults]\nvolumes = \"yes\"\n"));
        assertEquals("FILE:2: defaults.interval: must be more than 0; use e.g. \"5m\"",
                error("[defaults]\ninterval = \"0s\"\n"));
        assertEquals("FILE:1: workspaces.a: must be a table, like [workspaces.a]", error("workspaces = { a = 1 }\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"999999999999999d\"", "\"3651d\"", "\"87601h\"", "\"3650d1ms\"", "99999999999999999",
            "315360001", "\"9223372036854775807ms\""})
    void overflowingDurationsAreConfigErrorsNamingLineAndKey(String value) throws IOException {
        for (String key : new String[] {"older_than", "interval"}) {
            String message = error("[defaults]\n" + key + " = " + value + "\n");
            assertTrue(message.startsWith("FILE:2: defaults." + key + ": "), message);
            assertTrue(message.contains("too large: at most 3650d (about 10 years)"), message);
            assertEquals(1, message.lines().count());
        }
        String message = error("[workspaces.w]\nolder_than = " + value + "\n");
        assertTrue(message.startsWith("FILE:2: workspaces.w.older_than: "), message);
    }

    @Test
    void manySmallPartsAddUpToTooLarge() throws IOException {
        String message = error("[defaults]\nolder_than = \"" + "1d".repeat(3651) + "\"\n");
        assertTrue(message.startsWith("FILE:2: defaults.older_than: ") && message.contains("too large"), message);
    }

    @Test
    void theLongestDurationIsAccepted() throws IOException {
        HostConfig config = HostConfigLoader.read(write("config.toml", "[defaults]\nolder_than = \"3650d\"\ninterval = 315360000\n"));
        assertEquals(Optional.of(Duration.ofDays(3650)), config.defaults().olderThan());
        assertEquals(Optional.of(Duration.ofDays(3650)), config.interval());
    }

    @Test
    void anIntegerBeyondTomlsRangeIsASyntaxErrorWithALine() throws IOException {
        String message = error("[defaults]\nolder_than = 99999999999999999999999\n");
        assertTrue(message.startsWith("FILE:2: "), message);
    }

    @Test
    void aHugeFileIsRefusedBeforeParsing() throws IOException {
        String message = error("# " + "x".repeat(HostConfigLoader.MAX_FILE_BYTES) + "\n");
        assertTrue(message.contains("larger than 64 KiB"), message);
    }

    @Test
    void aBadEscapeInAQuotedKeyIsASyntaxError_notATomljException() throws IOException {
        // Found by HostConfigLoaderFuzzTest: tomlj throws this one instead of listing it.
        assertEquals("FILE:1: Invalid escape sequence '\\E'", error("[\"de\\E\"]\n"));
    }

    @Test
    void deepNestingIsAConfigError_neverAStackOverflow() throws IOException {
        assertEquals("FILE:2: nested more than 16 deep; a host config needs no nesting",
                error("[defaults]\na = " + "[".repeat(20_000) + "]".repeat(20_000) + "\n"));
        assertEquals("FILE:1: nested more than 16 deep; a host config needs no nesting",
                error("a = " + "{ b = ".repeat(5000) + "1" + " }".repeat(5000) + "\n"));
        // Brackets in strings and comments do not count.
        assertEquals("FILE:3: defaults.older_than: \"" + "[".repeat(30) + "\": not a duration; use a duration like 30m, 1h30m or 90s",
                error("# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n[defaults]\nolder_than = \"" + "[".repeat(30) + "\"\n"));
    }

    @Test
    void syntaxErrorsNameFileAndLine() throws IOException {
        String message = error("[defaults]\nolder_than = \"10m\n");
        assertEquals("FILE:2: ", message.substring(0, 8), message);
    }

    @Test
    void lookupPrefersFlagThenXdgThenEtc_andMissingDefaultsAreFine() throws IOException {
        assertEquals(HostConfig.NONE, HostConfigLoader.load(null, env(Map.of())));

        Path etc = write("etc/idlewatch/config.toml", "[defaults]\nolder_than = \"3m\"\n");
        assertEquals(Optional.of(etc), HostConfigLoader.load(null, env(Map.of())).source());

        Path home = write("home/.config/idlewatch/config.toml", "[defaults]\nolder_than = \"2m\"\n");
        assertEquals(Optional.of(home), HostConfigLoader.load(null, env(Map.of())).source());

        Path xdg = write("xdg/idlewatch/config.toml", "[defaults]\nolder_than = \"1m\"\n");
        assertEquals(Optional.of(xdg),
                HostConfigLoader.load(null, env(Map.of("XDG_CONFIG_HOME", dir.resolve("xdg").toString()))).source());

        Path flag = write("flag.toml", "");
        assertEquals(Optional.of(flag), HostConfigLoader.load(flag, env(Map.of())).source());
    }

    @Test
    void aMissingExplicitFileIsAnError() {
        Path missing = dir.resolve("nope.toml");
        assertEquals("config file " + missing + " (--config) not found",
                assertThrows(ConfigException.class, () -> HostConfigLoader.load(missing, env(Map.of()))).getMessage());
    }
}
