package io.idlewatch.sweeper.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.core.Sweeper;
import io.idlewatch.sweeper.docker.DockerJavaApi;
import io.idlewatch.sweeper.testing.FakeEngine;
import io.idlewatch.sweeper.testing.Run;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The whole CLI and the real Docker client against a fake engine that misbehaves on the wire. */
class CliEngineTest {

    static final Duration TIMEOUT = Duration.ofSeconds(1);

    @TempDir
    Path home;

    Run run(FakeEngine engine, String... args) {
        CliContext context = new CliContext(new HostEnvironment(Map.of(), home, home.resolve("etc")),
                endpoint -> DockerJavaApi.connect(endpoint, false, home.toString(), TIMEOUT),
                Clock.systemUTC(), Sweeper.Hooks.NONE, Duration.ofMinutes(2));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--host";
        all[args.length + 1] = engine.url();
        return Run.of(context, all);
    }

    @Test
    void aHungEngineEndsSweepAndPsWithExitThreeWithinTheTimeout() throws IOException {
        try (FakeEngine silent = FakeEngine.start(home.resolve("silent"), (m, p, out) -> FakeEngine.stall());
             FakeEngine stalled = FakeEngine.start(home.resolve("stalled"), (m, p, out) -> {
                 if (p.endsWith("/version")) {
                     FakeEngine.version(out);
                     return;
                 }
                 // The list: headers, half a body, then nothing.
                 out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{\"Id\":"
                         .getBytes(StandardCharsets.ISO_8859_1));
                 out.flush();
                 FakeEngine.stall();
             })) {
            for (FakeEngine engine : List.of(silent, stalled)) {
                for (String command : List.of("sweep", "ps")) {
                    long start = System.nanoTime();
                    Run run = run(engine, command);
                    long millis = (System.nanoTime() - start) / 1_000_000;

                    assertEquals(3, run.exitCode(), run.toString());
                    assertTrue(millis < TIMEOUT.toMillis() + 3000, command + " took " + millis + " ms");
                    assertEquals(1, run.err().lines().count(), run.err());
                    assertTrue(run.err().startsWith("idlewatch: Docker at " + engine.url() + " (from --host) did not answer within 1s"),
                            run.err());
                }
            }
        }
    }

    static final String HUGE = "a".repeat(64);
    static final String FINE = "b".repeat(64);
    static final String STUCK = "c".repeat(64);

    /** Three running workspaces: one with a 1 GB state file, one whose read hangs, one fine. */
    FakeEngine threeWorkspaces() throws IOException {
        String now = Instant.now().toString();
        return FakeEngine.start(home.resolve("e"), (method, path, out) -> {
            if (path.endsWith("/version")) {
                FakeEngine.version(out);
            } else if (path.startsWith("/v1.41/containers/json")) {
                StringBuilder list = new StringBuilder("[");
                for (String id : List.of(HUGE, FINE, STUCK)) {
                    list.append(list.length() > 1 ? "," : "").append("{\"Id\":\"").append(id).append("\",\"Names\":[\"/ws-")
                            .append(id.charAt(0)).append("\"],\"State\":\"running\",\"Created\":1700000000,")
                            .append("\"Labels\":{\"io.idlewatch.managed\":\"true\"}}");
                }
                FakeEngine.json(out, 200, list.append("]").toString());
            } else if (path.startsWith("/v1.41/containers/" + HUGE + "/archive")) {
                TarArchiveOutputStream tar = new TarArchiveOutputStream(FakeEngine.chunked(out, "application/x-tar"));
                TarArchiveEntry entry = new TarArchiveEntry("state.json");
                entry.setSize(1L << 30);
                tar.putArchiveEntry(entry);
                byte[] zeros = new byte[64 * 1024];
                for (int i = 0; i < (1 << 14); i++) {
                    tar.write(zeros);
                }
            } else if (path.startsWith("/v1.41/containers/" + FINE + "/archive")) {
                byte[] content = ("{\"state\":\"running\",\"updated\":\"" + now + "\",\"idle_ms\":60000,\"timeout_ms\":1800000}")
                        .getBytes(StandardCharsets.UTF_8);
                try (OutputStream body = FakeEngine.chunked(out, "application/x-tar");
                     TarArchiveOutputStream tar = new TarArchiveOutputStream(body)) {
                    TarArchiveEntry entry = new TarArchiveEntry("state.json");
                    entry.setSize(content.length);
                    tar.putArchiveEntry(entry);
                    tar.write(content);
                    tar.closeArchiveEntry();
                }
            } else if (path.startsWith("/v1.41/containers/" + STUCK + "/archive")) {
                FakeEngine.stall();
            } else {
                FakeEngine.json(out, 404, "{\"message\":\"no such thing\"}");
            }
        });
    }

    @Test
    void aHugeOrStuckStateFileIsThatRowsProblemOnly() throws IOException {
        try (FakeEngine engine = threeWorkspaces()) {
            Run table = run(engine, "ps");
            Run json = run(engine, "ps", "--json");

            assertEquals(0, table.exitCode(), table.toString());
            List<String> lines = table.outLines();
            assertEquals(4, lines.size(), table.out());
            assertTrue(lines.get(1).startsWith("ws-a ") && lines.get(1).contains("state file too large"), table.out());
            assertTrue(lines.get(2).startsWith("ws-b ") && lines.get(2).contains("idle: 1m / 30m"), table.out());
            assertTrue(lines.get(3).startsWith("ws-c ") && lines.get(3).contains("state file unreadable"), table.out());
            assertEquals("", table.err());

            JsonNode rows = new ObjectMapper().readTree(json.out());
            assertEquals("too-large", rows.get(0).path("record").asText());
            assertTrue(rows.get(0).path("problem").asText().contains("1.07GB"), rows.get(0).toString());
            assertEquals("live", rows.get(1).path("record").asText());
            assertEquals("unreadable", rows.get(2).path("record").asText());
            assertTrue(rows.get(2).path("problem").asText().contains("did not answer within 1s"), rows.get(2).toString());
            assertTrue(engine.bytesWritten.get() < 64L << 20, engine.bytesWritten.get() + " bytes sent");
        }
    }
}
