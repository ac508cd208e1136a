package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.signal.ActivitySignal;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The http sensor's tables under attack from inside the container: whatever the workload does
 * with its sockets, the tables stay within their documented bounds, shrink back when the load
 * goes, and a bound that is hit counts as activity instead of failing the sensor.
 */
class SensorBoundsTest {
    private static final int LISTEN = 10;
    private static final int TIME_WAIT = 6;
    private static final long SECOND = 1_000_000_000L;
    private static final byte[] LO = {127, 0, 0, 1};
    private static final byte[] ANY = {0, 0, 0, 0};
    /** The sensor's tables at their largest: seen sockets, loopback ledger, candidates. */
    private static final long MAX_TABLE_BYTES = 2L * 131_072 * 8 + 16_384L * 64 + 65_536L * 16;

    @TempDir
    Path tmp;

    private Path proc;
    private long passive;
    private long active;
    private long clock;
    /** What the next dump shows: the client side of loopback connections, as (server port, client port). */
    private int[][] clients = new int[0][];
    private long cookieBase;
    private final int[] servers = {5001, 5002, 5003, 5004};

    private final TcpSocketSource source = new TcpSocketSource() {
        @Override
        public void scan(TcpSocketVisitor v) {
            for (int port : servers) {
                v.socket(2, LISTEN, port, LO, 0, port, -1, 0);
            }
            v.socket(2, LISTEN, 4096, ANY, 0, 4096, -1, 0);
            for (int[] c : clients) {
                v.socket(2, TIME_WAIT, c[1], LO, c[0], cookieBase + ((long) c[0] << 16) + c[1], 0, 0);
            }
        }

        @Override
        public String describe() {
            return "attack";
        }
    };

    @BeforeEach
    void counters() throws IOException {
        proc = tmp.resolve("proc");
        Files.createDirectories(proc.resolve("net"));
        writeCounters();
    }

    private void writeCounters() throws IOException {
        Files.writeString(proc.resolve("net/snmp"), "Tcp: RtoAlgorithm ActiveOpens PassiveOpens\nTcp: 1 "
                + active + " " + passive + "\n");
        Files.writeString(proc.resolve("net/netstat"), "TcpExt: TCPAbortOnClose TCPAbortOnData\nTcpExt: 0 0\n");
    }

    private HttpSignal signal() {
        return new HttpSignal(new int[] {4096}, false, source, null, new OwnClientPorts(), new KernelTcpCounters(proc));
    }

    /** The next dump shows {@code n} fresh loopback connections (new cookies), the last ones gone. */
    private void connections(int n, int firstClientPort) throws IOException {
        clients = new int[n][];
        for (int i = 0; i < n; i++) {
            clients[i] = new int[] {servers[i % servers.length], 1024 + (firstClientPort + i / servers.length) % 60000};
        }
        cookieBase += 1L << 40;
        active += n;
        passive += n;
        writeCounters();
    }

    private ActivitySignal.Reading sample(HttpSignal s) throws IOException {
        clock += 3 * SECOND;
        return s.sample(clock);
    }

    private static long tableBytes(HttpSignal s) throws Exception {
        var seen = HttpSignal.class.getDeclaredField("seen");
        var ledger = HttpSignal.class.getDeclaredField("ledger");
        seen.setAccessible(true);
        ledger.setAccessible(true);
        SeenSockets t = (SeenSockets) seen.get(s);
        return t.tableBytes() + ((AcceptLedger) ledger.get(s)).tableBytes();
    }

    /**
     * The review's attack: 40,000 loopback port pairs inside two minutes. The ledger used to keep
     * every pair for two minutes and rebuild itself at full size (some 16 MiB at once); now it
     * keeps the pairs recent scans showed, and goes back to its first size after.
     */
    @Test
    void fortyThousandLoopbackPairsInTwoMinutes() throws Exception {
        HttpSignal s = signal();
        sample(s);
        long baseline = tableBytes(s);
        long peak = 0;
        for (int round = 0; round < 40; round++) { // 40 scans 3 s apart, 1,000 new pairs each
            connections(1000, round * 1000);
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.detail().contains("beyond"), r.detail());
            peak = Math.max(peak, tableBytes(s));
        }
        assertTrue(peak < 1024 * 1024, "the tables held " + peak + " bytes for 1,000 live connections");
        clients = new int[0][];
        for (int i = 0; i < 50; i++) { // 150 s of quiet: every pair forgotten
            ActivitySignal.Reading r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
        assertEquals(baseline, tableBytes(s), "back to the size before the attack");
    }

    /** More loopback connections alive at once than the ledger remembers: activity, said once, bounded. */
    @Test
    void moreLiveLoopbackConnectionsThanTheLedgerHolds() throws Exception {
        HttpSignal s = signal();
        sample(s);
        long baseline = tableBytes(s);
        connections(AcceptLedger.MAX_LOOPBACK + 10_000, 0);
        ActivitySignal.Reading r = sample(s);
        assertTrue(r.fired(), r.detail());
        assertTrue(r.detail().startsWith("http more than 8192 loopback connections at once, beyond what the sensor"
                + " tracks: counted as activity"), r.detail());
        assertTrue(tableBytes(s) <= MAX_TABLE_BYTES, tableBytes(s) + " bytes");
        // the same connections held: nothing new, nothing to count (the sockets are all remembered)
        for (int i = 0; i < 3; i++) {
            r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
        clients = new int[0][];
        for (int i = 0; i < 50; i++) {
            sample(s);
        }
        assertEquals(baseline, tableBytes(s), "back to the size before");
    }

    /** More sockets than the sensor remembers (a workload with a raised descriptor limit): activity. */
    @Test
    void moreSocketsThanTheSensorRemembers() throws Exception {
        HttpSignal s = signal();
        sample(s);
        long baseline = tableBytes(s);
        connections(SeenSockets.MAX_SOCKETS + 4_000, 0);
        for (int i = 0; i < 3; i++) {
            ActivitySignal.Reading r = sample(s);
            assertTrue(r.fired(), r.detail());
            assertTrue(r.detail().startsWith("http more than 65536 sockets at once"), r.detail());
            assertTrue(tableBytes(s) <= MAX_TABLE_BYTES, tableBytes(s) + " bytes");
        }
        clients = new int[0][];
        ActivitySignal.Reading r = sample(s);
        assertFalse(r.detail().contains("beyond"), r.detail());
        for (int i = 0; i < 50; i++) {
            r = sample(s);
            assertFalse(r.fired(), r.detail());
        }
        assertEquals(baseline, tableBytes(s), "back to the size before");
    }
}
