package io.idlewatch.agent.signal.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeenSocketsTest {

    @Test
    void aSocketIsNewOnceThenReportsItsLastBytes() {
        SeenSockets seen = new SeenSockets();
        seen.begin();
        assertEquals(SeenSockets.NEW, seen.see(42, 10));
        assertEquals(SeenSockets.NEW, seen.see(0, -1)); // cookie 0 and no byte count
        seen.begin();
        assertEquals(10, seen.see(42, 15));
        assertEquals(-1, seen.see(0, -1));
        seen.begin();
        assertEquals(15, seen.see(42, 15));
        // 0 was not shown by the last scan: gone, and new if it comes back
        seen.begin();
        assertEquals(SeenSockets.NEW, seen.see(0, 3));
        assertEquals(2, seen.size()); // 42 of the last scan, 0 of this one
        seen.begin();
        assertEquals(1, seen.size()); // 42 was not shown again
        assertEquals(3, seen.see(0, 3));
    }

    @Test
    void clearForgetsEverything() {
        SeenSockets seen = new SeenSockets();
        seen.begin();
        seen.see(7, 1);
        seen.clear();
        seen.begin();
        assertEquals(SeenSockets.NEW, seen.see(7, 1));
    }

    /** Against a map of the last scan, through churn that grows, wraps and empties long probe runs. */
    @Test
    void agreesWithAMapOfTheLastScanThroughChurn() {
        Random random = new Random(20261129);
        SeenSockets seen = new SeenSockets();
        Map<Long, Long> last = new HashMap<>();
        List<Long> alive = new ArrayList<>();
        long nextCookie = 1;
        for (int scan = 0; scan < 400; scan++) {
            // sizes swing from a handful to 12,000 and back, so the table grows and shrinks
            int target = (int) (6000 + 6000 * Math.sin(scan / 30.0));
            while (alive.size() < target) {
                // clustered cookies (as the kernel hands them out) and a few hashing to the same slot
                alive.add(random.nextInt(10) == 0 ? nextCookie++ << 20 : nextCookie++);
            }
            while (alive.size() > target) {
                alive.remove(random.nextInt(alive.size()));
            }
            for (int i = 0; i < alive.size() / 50; i++) { // some close and are replaced each scan
                alive.set(random.nextInt(alive.size()), nextCookie++);
            }
            seen.begin();
            Map<Long, Long> now = new HashMap<>();
            for (long id : alive) {
                long bytes = random.nextInt(4) == 0 ? -1 : random.nextInt(1 << 20);
                Long before = last.get(id);
                assertEquals(before == null ? SeenSockets.NEW : (long) before, seen.see(id, bytes),
                        "scan " + scan + " socket " + id);
                now.put(id, bytes);
            }
            last = now;
        }
        seen.begin();
        seen.begin(); // two empty scans: everything is gone and the table is small again
        assertEquals(0, seen.size());
        assertTrue(seen.capacity() <= 256, "capacity " + seen.capacity());
    }
}
