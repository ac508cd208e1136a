package io.idlewatch.sweeper.docker;

import io.idlewatch.sweeper.config.HostEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerEndpointTest {

    @TempDir
    Path home;

    HostEnvironment env(Map<String, String> variables) {
        return new HostEnvironment(variables, home, home.resolve("etc"));
    }

    void context(String name, String host, boolean current) throws IOException {
        // The docker CLI stores a context under the hex SHA-256 of its name.
        Path meta = home.resolve(".docker/contexts/meta").resolve(DockerEndpoint.sha256(name)).resolve("meta.json");
        Files.createDirectories(meta.getParent());
        Files.writeString(meta, "{\"Name\":\"" + name + "\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\""
                + host + "\",\"SkipTLSVerify\":false}}}");
        if (current) {
            Files.writeString(home.resolve(".docker/config.json"), "{\"auths\":{},\"currentContext\":\"" + name + "\"}");
        }
    }

    @Test
    void contextDirectoryIsTheSha256OfTheName() {
        assertEquals("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", DockerEndpoint.sha256("foo"));
    }

    @Test
    void hostFlagWinsOverEverything() throws IOException {
        context("remote", "tcp://remote:2376", true);
        DockerEndpoint endpoint = DockerEndpoint.resolve("tcp://flag:2375", env(Map.of("DOCKER_HOST", "tcp://env:2375")));
        assertEquals("tcp://flag:2375 (from --host)", endpoint.toString());
    }

    @Test
    void dockerHostWinsOverTheContext() throws IOException {
        context("remote", "tcp://remote:2376", true);
        assertEquals("tcp://env:2375 (from DOCKER_HOST)",
                DockerEndpoint.resolve(null, env(Map.of("DOCKER_HOST", "tcp://env:2375"))).toString());
    }

    @Test
    void currentContextFromConfigJson() throws IOException {
        context("remote", "tcp://remote:2376", true);
        DockerEndpoint endpoint = DockerEndpoint.resolve(null, env(Map.of()));
        assertEquals("tcp://remote:2376", endpoint.url());
        assertEquals("remote", endpoint.context());
        assertTrue(endpoint.source().startsWith("docker context \"remote\" (" + home.resolve(".docker/config.json")
                + " currentContext"), endpoint.source());
    }

    @Test
    void dockerContextVariableWinsOverConfigJson() throws IOException {
        context("remote", "tcp://remote:2376", true);
        context("other", "unix:///run/other.sock", false);
        assertEquals("unix:///run/other.sock",
                DockerEndpoint.resolve(null, env(Map.of("DOCKER_CONTEXT", "other"))).url());
    }

    @Test
    void defaultContextAndNothingAtAllMeanTheDefaultSocket() throws IOException {
        assertEquals("unix:///var/run/docker.sock (from default; no --host, DOCKER_HOST or docker context set)",
                DockerEndpoint.resolve(null, env(Map.of())).toString());
        Files.createDirectories(home.resolve(".docker"));
        Files.writeString(home.resolve(".docker/config.json"), "{\"currentContext\":\"default\"}");
        assertEquals(DockerEndpoint.DEFAULT_URL, DockerEndpoint.resolve(null, env(Map.of("DOCKER_HOST", ""))).url());
    }

    @Test
    void aMissingContextIsReportedWithWhereItCameFrom() throws IOException {
        Files.createDirectories(home.resolve(".docker"));
        Files.writeString(home.resolve(".docker/config.json"), "{\"currentContext\":\"gone\"}");
        String message = assertThrows(DockerUnreachableException.class,
                () -> DockerEndpoint.resolve(null, env(Map.of()))).getMessage();
        assertTrue(message.startsWith("docker context \"gone\" (" + home.resolve(".docker/config.json")
                + " currentContext) not found: cannot read " + home.resolve(".docker/contexts/meta")), message);
    }
}
