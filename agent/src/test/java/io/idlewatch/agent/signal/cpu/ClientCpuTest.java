package io.idlewatch.agent.signal.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client-CPU allowance is a budget over time, on a clock the test moves. */
class ClientCpuTest {
    private static final long MS = 1_000_000L;
    private static final long SEC = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong(123 * SEC);
    private final ClientCpu clients = new ClientCpu(clock::get);

    /** Attack: 1000 requests claiming 2 s each within 10 s credit no more than 10 s of the rate plus the burst. */
    @Test
    void attackAThousandClaimsOfTwoSecondsIn10sAreCappedByTheRate() {
        long start = clock.get();
        for (int i = 0; i < 1000; i++) {
            clock.set(start + i * 10 * MS);
            clients.add(2 * SEC);
        }
        long bound = ClientCpu.RATE_NANOS_PER_SECOND * 10 + ClientCpu.BURST_NANOS;
        assertTrue(clients.nanos() <= bound, clients.nanos() + " > " + bound);
        assertTrue(clients.nanos() >= bound - 50 * MS, "the budget itself is given: " + clients.nanos());
    }

    /** Attack: the same claims all at one instant get the burst, no more. */
    @Test
    void attackClaimsAtOneInstantGetTheBurstOnly() {
        clients.add(Long.MAX_VALUE);
        for (int i = 0; i < 1000; i++) {
            clients.add(2 * SEC);
        }
        assertEquals(ClientCpu.BURST_NANOS, clients.nanos());
    }

    /** A status line every 2 s (a JVM start of 70 ms each) is credited in full, for hours. */
    @Test
    void aStatusClientEveryTwoSecondsIsFullyCredited() {
        long start = clock.get();
        int n = 0;
        for (long t = 0; t < 2 * 3600 * SEC; t += 2 * SEC) {
            clock.set(start + t);
            assertEquals(70 * MS, clients.add(70 * MS));
            n++;
        }
        assertEquals(n * 70 * MS, clients.nanos());
    }

    /** A script's few clients in a row fit the burst. */
    @Test
    void aFewClientsInARowFitTheBurst() {
        for (int i = 0; i < 3; i++) {
            assertEquals(70 * MS, clients.add(70 * MS));
        }
    }

    /** A long quiet time does not save up more than the burst. */
    @Test
    void quietTimeSavesUpTheBurstOnly() {
        clock.addAndGet(3600 * SEC);
        assertEquals(ClientCpu.BURST_NANOS, clients.add(10 * SEC));
        assertEquals(0, clients.add(1));
        clock.addAndGet(SEC);
        assertEquals(ClientCpu.RATE_NANOS_PER_SECOND, clients.add(10 * SEC));
    }

    @Test
    void negativeAndZeroClaimsAreIgnored() {
        assertEquals(0, clients.add(-5));
        assertEquals(0, clients.add(0));
        assertEquals(0, clients.add(Long.MIN_VALUE));
        assertEquals(0, clients.nanos());
    }

    /** System.nanoTime may start anywhere, even near overflow: only differences count. */
    @Test
    void clockNearOverflow() {
        clock.set(Long.MAX_VALUE - SEC);
        ClientCpu c = new ClientCpu(clock::get);
        assertEquals(ClientCpu.BURST_NANOS, c.add(10 * SEC));
        clock.addAndGet(2 * SEC); // wraps
        assertEquals(2 * ClientCpu.RATE_NANOS_PER_SECOND, c.add(10 * SEC));
    }
}
