package io.idlewatch.sweeper.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.contract.StateLink;
import io.idlewatch.sweeper.cli.CliContext;
import io.idlewatch.sweeper.testing.DockerCli;
import io.idlewatch.sweeper.testing.Run;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code idlewatch ps} reads the agent's record from the state link with one stat of the path
 * on this engine (Docker, and Podman in the second run), and reads the file when the link is not
 * a record. The containers write both themselves, each saying a different idle time, so the
 * output tells which was read.
 */
class PsLinkIT {
    static final DockerCli docker = new DockerCli();
    static String linked;
    static String hostile;

    private static String record(long idleMs) {
        return "{\"version\":1,\"workspace\":null,\"state\":\"running\",\"updated\":\"" + Instant.now()
                + "\",\"poll_interval_ms\":600000,\"idle_ms\":" + idleMs + ",\"timeout_ms\":1800000,"
                + "\"lifetime_left_ms\":null,\"last_activity\":null}";
    }

    private static String workspace(String name, String link) {
        String script = PsIT.stateFileCommand(record(60_000))
                + " && ln -s \"$LINK\" /run/idlewatch/state.link && touch /run/idlewatch/ready && exec sleep 300";
        String id = docker.container("run", "pslink", List.of("-d", "--label", "io.idlewatch.workspace=" + name,
                "-e", "LINK=" + link), "bash", "-c", script);
        // A loaded engine (Podman above all) may take seconds to start it: wait for its files, up to a
        // minute, through the archive endpoint as the host CLI reads them (no exec: Podman's differs).
        try {
            Path copy = Files.createTempFile("pslink-ready-", "");
            try {
                for (int i = 0; DockerCli.exec("cp", id + ":/run/idlewatch/ready", copy.toString()).exitCode() != 0; i++) {
                    assertTrue(i < 600, name + ": its state file was not written within a minute");
                    DockerCli.sleep(100);
                }
            } finally {
                Files.deleteIfExists(copy);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return id;
    }

    @BeforeAll
    static void workspaces() {
        DockerCli.assumeEngine();
        // a record as long as the agent's (some 1 KB): the target is several path components
        String longRecord = record(120_000).replace("}", ",\"signals\":{\"http\":{\"enabled\":true,\"detail\":\""
                + "http / ".repeat(150) + "\"}}}");
        String target = StateLink.encode(longRecord).orElseThrow();
        assertTrue(target.split("/").length > 3, target);
        linked = workspace("linked", target);
        // a workspace pointing the link out of its directory: the file is read
        hostile = workspace("hostile", "../../etc/passwd");
    }

    @AfterAll
    static void cleanUp() {
        docker.cleanUp();
    }

    @Test
    void theLinkIsReadWhereItIsARecordAndTheFileWhereItIsNot() throws IOException {
        Run run = Run.of(CliContext.system(), "ps", "--label", docker.testLabel(), "--json");
        assertEquals(0, run.exitCode(), run.toString());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(2, json.size(), run.out());
        assertEquals("hostile", json.get(0).path("name").asText());
        assertEquals(60_000, json.get(0).path("idle_ms").asLong(), "the file's: " + run.out());
        assertEquals("linked", json.get(1).path("name").asText());
        assertEquals(120_000, json.get(1).path("idle_ms").asLong(), "the link's: " + run.out());
        assertEquals("live", json.get(1).path("record").asText());
    }
}
