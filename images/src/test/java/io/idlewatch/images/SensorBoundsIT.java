package io.idlewatch.images;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.idlewatch.images.Box.SOCAT_IMAGE;
import static io.idlewatch.images.Watched.POLL;
import static io.idlewatch.images.Watched.SLACK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The http sensor's memory against a burst from inside the workspace: 100,000 loopback
 * connections to two servers in its network namespace. The sensor never degrades, the agent's
 * heap and RSS come back to within 2 MB of where they were, and the idle stop comes on time.
 */
class SensorBoundsIT {
    /** Long enough for the burst's TIME_WAIT sockets (60 s) to go before the stop. */
    private static final Duration TIMEOUT = Duration.ofSeconds(100);
    private static final int CONNECTIONS = 100_000;
    private static final long TWO_MB_KIB = 2048;
    private static final Pattern HEAP = Pattern.compile("memory: heap (\\d+) KiB committed");

    @Test
    void loopbackBurstLeavesNoTrace() throws Exception {
        try (Box box = Box.of(SOCAT_IMAGE)
                .env("IDLEWATCH_TIMEOUT", TIMEOUT.toSeconds() + "s")
                .env("IDLEWATCH_POLL_INTERVAL", POLL.toSeconds() + "s")
                .env("IDLEWATCH_WARN_BEFORE", "0")
                .env("IDLEWATCH_SIGNALS", "http")
                .env("IDLEWATCH_VERBOSE", "1")
                .start()) {
            long jvm = Host.agentJvm(box);
            // A first, smaller burst, gone before the baseline: the agent has loaded and compiled the
            // code a burst runs (the JVM keeps compiled code), so what is measured is the sensor's tables.
            burst(box, 20_000);
            Watched.sleep(Duration.ofSeconds(70)); // its TIME_WAIT sockets (60 s) are gone
            long rssBefore = Host.rssKib(jvm);
            long heapBefore = lastHeap(box.logs());

            AtomicBoolean bursting = new AtomicBoolean(true);
            StringBuilder seen = new StringBuilder();
            CompletableFuture<Void> watcher = CompletableFuture.runAsync(() -> {
                while (bursting.get()) { // what the sensor says while the burst runs
                    String http = Watched.signal(box.exec("cat", Watched.STATE_FILE), "http");
                    if (http.contains("\"degraded\":true")) {
                        seen.append(http).append('\n');
                    }
                    Watched.sleep(Duration.ofMillis(500));
                }
            });
            String out = burst(box, CONNECTIONS);
            Instant burstEnded = Instant.now();
            bursting.set(false);
            watcher.get();
            System.out.printf("%s: %s", box.id.substring(0, 12), out);
            assertTrue(out.contains("connections " + CONNECTIONS), out);
            assertEquals("", seen.toString(), "the http sensor was degraded during the burst");

            // The TIME_WAIT sockets go 60 s after the burst, the tables shrink at the next polls.
            Watched.sleep(Duration.ofSeconds(75));
            assertTrue(box.running(), "still running 75 s after the burst, under the 100 s timeout");
            long rssAfter = Host.rssKib(jvm);
            long heapAfter = lastHeap(box.logs());
            System.out.printf("%s: agent RSS %d KiB before, %d KiB after; heap %d KiB committed before, %d after%n",
                    box.id.substring(0, 12), rssBefore, rssAfter, heapBefore, heapAfter);
            assertTrue(rssAfter - rssBefore <= TWO_MB_KIB, "RSS " + rssBefore + " -> " + rssAfter + " KiB");
            assertTrue(heapAfter - heapBefore <= TWO_MB_KIB, "heap " + heapBefore + " -> " + heapAfter + " KiB");

            // Loopback clients do not count: the burst itself (or its bound, said once) is the last
            // activity there can be, and the stop comes a timeout after it at the latest.
            Instant latest = burstEnded.plus(TIMEOUT).plus(POLL).plus(SLACK);
            int code = box.awaitExit(Duration.between(Instant.now(), latest).plusSeconds(20));
            assertEquals(0, code, box.logs());
            Instant finished = Watched.finishedAt(box);
            assertFalse(finished.isAfter(latest), "stopped " + Duration.between(burstEnded, finished).toMillis()
                    + " ms after the burst\n" + box.logs());
            assertTrue(Watched.ranFor(box).compareTo(TIMEOUT) >= 0, "ran " + Watched.ranFor(box));
            String state = Watched.stateFile(box);
            assertEquals("idle", Watched.stopField(state, "reason"));
            assertFalse(box.logs().contains("degraded"), box.logs());
            long bounds = box.logs().lines().filter(l -> l.contains("beyond what the sensor tracks")).count();
            assertTrue(bounds <= 2, "a bound hit is said once a burst: " + box.logs());
        }
    }

    /** {@code n} loopback connections to two servers in the container's network namespace. */
    private static String burst(Box box, int n) {
        return Host.inNetns(Host.pid1(box), Duration.ofMinutes(3), "python3",
                Host.resource("loopback-burst.py").toString(), Integer.toString(n), "5001,5002");
    }

    private static long lastHeap(String logs) {
        Matcher m = HEAP.matcher(logs);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(1));
        }
        assertTrue(last > 0, "no memory line in " + logs);
        return last;
    }
}
