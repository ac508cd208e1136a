package io.idlewatch.sweeper.docker;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pinned API version against the range a daemon reports. */
class ApiVersionTest {

    static final DockerEndpoint ENDPOINT = new DockerEndpoint("unix:///var/run/docker.sock", "default", null, Path.of("/nonexistent"));

    @Test
    void engines20_10AndNewerAreAccepted() {
        assertDoesNotThrow(() -> DockerJavaApi.requireApiVersion(new DockerApi.EngineVersion("20.10.24", "1.41", "1.12"), ENDPOINT));
        assertDoesNotThrow(() -> DockerJavaApi.requireApiVersion(new DockerApi.EngineVersion("28.2.2", "1.50", "1.24"), ENDPOINT));
    }

    @Test
    void anOlderOrNarrowerEngineIsRefusedAsUnreachable() {
        String old = assertThrows(DockerUnreachableException.class, () ->
                DockerJavaApi.requireApiVersion(new DockerApi.EngineVersion("19.03.15", "1.40", "1.12"), ENDPOINT)).getMessage();
        assertEquals("Docker 19.03.15 at unix:///var/run/docker.sock (from default) speaks API 1.12 to 1.40; "
                + "idlewatch needs API 1.41 (Docker 20.10 or newer)", old);
        assertThrows(DockerUnreachableException.class, () ->
                DockerJavaApi.requireApiVersion(new DockerApi.EngineVersion("99.0", "1.60", "1.44"), ENDPOINT));
    }
}
