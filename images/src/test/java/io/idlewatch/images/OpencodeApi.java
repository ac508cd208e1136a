package io.idlewatch.images;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.idlewatch.images.Box.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of a real opencode server's HTTP API the workspace tests drive, from the host. */
final class OpencodeApi {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;

    OpencodeApi(Box box) {
        this.base = URI.create("http://127.0.0.1:" + box.hostPort(4096));
    }

    /** Waits until {@code /global/health} says healthy. */
    void awaitHealthy(Duration within) {
        eventually(within, "opencode answers /global/health",
                () -> get(base.resolve("/global/health")).contains("\"healthy\":true"));
    }

    /** A new session's ID. */
    String newSession() throws IOException, InterruptedException {
        return field(post(base.resolve("/session"), "{}"), "id");
    }

    /**
     * Runs a shell command in the session (busy with no model configured); the answer comes when
     * the command ends. The command goes into a JSON string as it is: no quotes or backslashes.
     */
    CompletableFuture<HttpResponse<String>> shell(String session, String command, Duration timeout) {
        return client.sendAsync(HttpRequest.newBuilder(base.resolve("/session/" + session + "/shell"))
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"agent\":\"build\",\"command\":\"" + command + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private String get(URI uri) {
        try {
            return client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private String post(URI uri, String json) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]+)\"").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }
}
