package io.idlewatch.sweeper.docker;

import io.idlewatch.sweeper.config.HostEnvironment;
import io.idlewatch.sweeper.testing.FakeEngine;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real client against a fake engine on a Unix socket: time limits and the bounded archive read. */
class DockerJavaApiTest {

    static final int LIMIT = 256 * 1024;
    static final String ID = "c0ffee";

    @TempDir
    Path dir;

    DockerEndpoint endpoint(FakeEngine engine) {
        return DockerEndpoint.resolve(engine.url(), new HostEnvironment(Map.of(), dir, dir.resolve("etc")));
    }

    DockerJavaApi connect(FakeEngine engine, Duration timeout) {
        return DockerJavaApi.connect(endpoint(engine), false, dir.toString(), timeout);
    }

    /** An engine that answers the version, and the archive request with {@code archive}. */
    FakeEngine engine(FakeEngine.Handler archive) throws IOException {
        return FakeEngine.start(dir.resolve("e"), (method, path, out) -> {
            if (path.endsWith("/version")) {
                FakeEngine.version(out);
            } else if (path.contains("/archive?")) {
                archive.handle(method, path, out);
            } else {
                FakeEngine.json(out, 404, "{\"message\":\"page not found\"}");
            }
        });
    }

    static byte[] tar(String name, byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setSize(content.length);
            tar.putArchiveEntry(entry);
            tar.write(content);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    @Test
    void anEngineThatNeverAnswersTimesOutNamingTheEndpoint() throws IOException {
        try (FakeEngine engine = FakeEngine.start(dir.resolve("e"), (m, p, out) -> FakeEngine.stall())) {
            long start = System.nanoTime();
            DockerUnreachableException e = assertThrows(DockerUnreachableException.class,
                    () -> connect(engine, Duration.ofSeconds(1)));
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertEquals("Docker at " + engine.url() + " (from --host) did not answer within 1s", e.getMessage());
            assertTrue(millis >= 900 && millis < 4000, millis + " ms");
        }
    }

    @Test
    void anEngineThatSendsHeadersThenStallsTimesOut() throws IOException {
        try (FakeEngine engine = FakeEngine.start(dir.resolve("e"), (m, p, out) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"Version\":")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            FakeEngine.stall();
        })) {
            long start = System.nanoTime();
            DockerUnreachableException e = assertThrows(DockerUnreachableException.class,
                    () -> connect(engine, Duration.ofSeconds(1)));

            assertTrue(e.getMessage().endsWith("did not answer within 1s"), e.getMessage());
            assertTrue(System.nanoTime() - start < 4_000_000_000L);
        }
    }

    @Test
    void aTimedOutCallLeavesTheThreadUsable() throws IOException {
        try (FakeEngine engine = engine((m, p, out) -> FakeEngine.stall());
             DockerJavaApi api = connect(engine, Duration.ofSeconds(1))) {
            assertThrows(DockerUnreachableException.class, () -> api.readFile(ID, "/x", LIMIT));

            assertFalse(Thread.currentThread().isInterrupted(), "the deadline's interrupt is cleared");
            assertEquals("1.43", api.version().apiVersion(), "the client still works after a timed-out call");
        }
    }

    @Test
    void readsASmallFile() throws IOException {
        byte[] content = "{\"state\":\"running\"}".getBytes(StandardCharsets.UTF_8);
        byte[] archive = tar("state.json", content);
        try (FakeEngine engine = engine((m, p, out) -> {
            try (OutputStream body = FakeEngine.chunked(out, "application/x-tar")) {
                body.write(archive);
            }
        }); DockerJavaApi api = connect(engine, Duration.ofSeconds(5))) {
            assertArrayEquals(content, api.readFile(ID, "/run/idlewatch/state.json", LIMIT).orElseThrow());
            assertTrue(engine.requests.contains("GET /v1.41/containers/c0ffee/archive?path=%2Frun%2Fidlewatch%2Fstate.json"),
                    engine.requests.toString());
        }
    }

    @Test
    void aMissingFileIsEmpty() throws IOException {
        try (FakeEngine engine = engine((m, p, out) -> FakeEngine.json(out, 404, "{\"message\":\"Could not find the file\"}"));
             DockerJavaApi api = connect(engine, Duration.ofSeconds(5))) {
            assertEquals(Optional.empty(), api.readFile(ID, "/run/idlewatch/state.json", LIMIT));
        }
    }

    /**
     * The attack: a 1 GB (sparse) state file, which the engine would stream in full. The header says
     * so; we must stop there, and must not drain the rest on close either.
     */
    @Test
    void aHugeFileIsRefusedFromItsHeaderWithoutReadingIt() throws IOException {
        long gigabyte = 1L << 30;
        try (FakeEngine engine = engine((m, p, out) -> {
            TarArchiveOutputStream tar = new TarArchiveOutputStream(FakeEngine.chunked(out, "application/x-tar"));
            TarArchiveEntry entry = new TarArchiveEntry("state.json");
            entry.setSize(gigabyte);
            tar.putArchiveEntry(entry);
            byte[] zeros = new byte[64 * 1024];
            for (long sent = 0; sent < gigabyte; sent += zeros.length) {
                tar.write(zeros);
            }
        }); DockerJavaApi api = connect(engine, Duration.ofSeconds(30))) {
            long start = System.nanoTime();
            DockerException.TooLarge e = assertThrows(DockerException.TooLarge.class,
                    () -> api.readFile(ID, "/run/idlewatch/state.json", LIMIT));

            assertEquals(gigabyte, e.size());
            assertTrue(System.nanoTime() - start < 5_000_000_000L);
            sleep(300); // let the engine notice the closed connection
            assertTrue(engine.bytesWritten.get() < 32L << 20,
                    "the client read (or drained) " + engine.bytesWritten.get() + " bytes");
            assertEquals("1.43", api.version().apiVersion(), "the connection pool survives the abort");
        }
    }

    /** The header may lie (or be absent); the content is cut at limit + 1 bytes regardless. */
    @Test
    void contentBeyondTheLimitIsNeverRead_whateverTheHeaderSays() throws IOException {
        byte[] honest = tar("state.json", new byte[LIMIT + 10]);
        DockerException.TooLarge e = assertThrows(DockerException.TooLarge.class,
                () -> DockerJavaApi.readOneFile(new ByteArrayInputStream(honest), LIMIT, "read"));
        assertEquals(LIMIT + 10, e.size());

        // A tar whose header is fine but whose stream never ends: the bound on the whole response holds.
        InputStream endless = new InputStream() {
            final byte[] head = tar("state.json", new byte[100]);
            int i;

            @Override
            public int read() {
                return i < 512 ? head[i++] & 0xFF : 'x';
            }
        };
        byte[] content = DockerJavaApi.readOneFile(endless, LIMIT, "read").orElseThrow();
        assertEquals(100, content.length, "only the entry's own bytes");

        assertEquals(LIMIT, DockerJavaApi.readOneFile(new ByteArrayInputStream(tar("s", new byte[LIMIT])), LIMIT, "read")
                .orElseThrow().length, "exactly the limit is fine");
    }

    @Test
    void aDirectoryOrALinkIsNoFile() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry link = new TarArchiveEntry("state.json", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc/shadow");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        assertEquals(Optional.empty(), DockerJavaApi.readOneFile(new ByteArrayInputStream(bytes.toByteArray()), LIMIT, "r"));
        assertEquals(Optional.empty(), DockerJavaApi.readOneFile(new ByteArrayInputStream(new byte[0]), LIMIT, "r"));
    }

    @Test
    void garbageInsteadOfATarIsAnError() {
        byte[] garbage = "\u001b]52;c;aGk=\u0007 not a tar".repeat(100).getBytes(StandardCharsets.UTF_8);
        assertThrows(IOException.class, () -> DockerJavaApi.readOneFile(new ByteArrayInputStream(garbage), LIMIT, "r"));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unused")
    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }
}
