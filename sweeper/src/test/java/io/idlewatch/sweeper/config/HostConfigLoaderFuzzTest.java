package io.idlewatch.sweeper.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.mutation.annotation.NotNull;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Any TOML text as a host config: a config or one {@link ConfigException} of one line, nothing else. */
class HostConfigLoaderFuzzTest {

    static final Path FILE = Path.of("/etc/idlewatch/config.toml");

    @FuzzTest(maxDuration = "15s")
    void parse(@NotNull String text) {
        try {
            HostConfig config = HostConfigLoader.parse(FILE, text);
            assertNotNull(config.defaults());
        } catch (ConfigException expected) {
            String message = expected.getMessage();
            assertFalse(message.contains("\n") || message.contains("\r"), message);
            assertFalse(message.isBlank());
        }
    }
}
