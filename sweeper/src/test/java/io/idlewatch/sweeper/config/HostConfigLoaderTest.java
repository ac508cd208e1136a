package io.idlewatch.sweeper.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        assertEquals("FILE:3: defaults.older_thn: unknown key; allowed here: interval, older_than, volumes",
                error("[defaults]\nvolumes = true\nolder_thn = \"1m\"\n"));
        assertEquals("FILE:2: workspaces.a.interval: unknown key; allowed here: older_than, volumes",
                error("[workspaces.a]\ninterval = \"1m\"\n"));
        assertEquals("FILE:1: colour: unknown key; expected [defaults] or [workspaces.NAME]",
                error("colour = \"blue\"\n"));
        assertEquals("FILE:2: defaults.older_than: \"10x\" is not a duration (unknown unit \"x\"); "
                + "use e.g. \"10m\", \"1h30m\", \"90s\" or \"500ms\"", error("[defaults]\nolder_than = \"10x\"\n"));
        assertEquals("FILE:3: workspaces.b.older_than: \"-5\" is not a duration (negative); "
                + "use e.g. \"10m\", \"1h30m\", \"90s\" or \"500ms\"", error("[workspaces.b]\n\nolder_than = -5\n"));
        assertEquals("FILE:2: defaults.volumes: \"yes\" is not true or false; use e.g. volumes = true",
                error("[defaults]\nvolumes = \"yes\"\n"));
        assertEquals("FILE:2: defaults.interval: must be more than 0; use e.g. \"5m\"",
                error("[defaults]\ninterval = \"0s\"\n"));
        assertEquals("FILE:1: workspaces.a: must be a table, like [workspaces.a]", error("workspaces = { a = 1 }\n"));
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
