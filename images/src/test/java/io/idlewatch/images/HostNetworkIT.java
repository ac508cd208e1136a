package io.idlewatch.images;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static io.idlewatch.images.Box.SOCAT_IMAGE;
import static io.idlewatch.images.Watched.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code docker run --network host}: the workspace's server is on the host's own network, and a
 * client on the same machine (a browser) reaches it over 127.0.0.1. The agent sees that it is in
 * the host's network namespace, so those loopback clients count: a client every 5 s keeps it
 * running past twice the timeout, and once the client stops it stops on time.
 */
class HostNetworkIT {
    private static final Duration EVERY = Duration.ofSeconds(5);

    @Test
    void aLoopbackClientOnTheHostKeepsItRunning() throws Exception {
        int port = freePort(); // the host's port space: not 4096, which others may use
        try (Box box = Watched.idle(SOCAT_IMAGE).network("host")
                .env("IDLEWATCH_SIGNALS", "http")
                .env("IDLEWATCH_HTTP_PORTS", Integer.toString(port))
                .cmd("serve", "http-ok", Integer.toString(port))
                .start()) {
            Box.eventually(Duration.ofSeconds(20), "the server answers on 127.0.0.1:" + port, () -> get(port));
            String logs = box.logs();
            assertTrue(logs.contains("http_loopback=true (host network: the network namespace is the host's"),
                    "the config line says why loopback clients count: " + logs);

            Instant until = Instant.now().plus(TIMEOUT.multipliedBy(2)).plusSeconds(5);
            Instant last = Instant.now();
            while (Instant.now().isBefore(until)) {
                assertTrue(box.running(), "stopped while a client on the host used it\n" + box.logs());
                assertTrue(get(port), "the server answers");
                last = Instant.now();
                Watched.sleep(EVERY);
            }
            assertTrue(box.running(), "running past twice the timeout\n" + box.logs());
            String http = Watched.signal(box.exec("cat", Watched.STATE_FILE), "http");
            assertTrue(http.contains("loopback connection to port " + port), http);

            Watched.stopsInWindow(box, last, 0);
            assertEquals("idle", Watched.stopField(Watched.stateFile(box), "reason"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** One request from the host over loopback, as a browser on the same machine would make. */
    private static boolean get(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            // the whole answer, as a browser reads it (closing on unread bytes would reset instead)
            StringBuilder answer = new StringBuilder();
            int c;
            while (!answer.toString().endsWith("\r\n\r\nok\n") && (c = in.read()) >= 0) {
                answer.append((char) c);
            }
            return answer.toString().startsWith("HTTP/1.") && answer.toString().endsWith("ok\n");
        } catch (IOException e) {
            return false;
        }
    }
}
