package io.idlewatch.agent.control;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request framing of the control socket, on any bytes cut into any reads: the outcome is the
 * same however the reads fall (the line before the first newline when it is within the limit, a
 * refusal when it is not), nothing is thrown, and the buffer never grows past the limit.
 */
class RequestFramerFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void framing(FuzzedDataProvider in) {
        int maxLine = in.consumeInt(0, 40); // small limits, so the fuzzer reaches them
        int[] reads = new int[in.consumeInt(0, 16)];
        for (int i = 0; i < reads.length; i++) {
            reads[i] = in.consumeInt(0, 64);
        }
        byte[] data = in.consumeRemainingAsBytes();
        check(maxLine, reads, data);
        check(ControlProtocol.MAX_LINE, reads, data);
    }

    private static void check(int maxLine, int[] reads, byte[] data) {
        RequestFramer f = new RequestFramer(maxLine);
        RequestFramer.Result r = RequestFramer.Result.MORE;
        int at = 0;
        for (int i = 0; at < data.length && r == RequestFramer.Result.MORE; i++) {
            int n = Math.min(data.length - at, i < reads.length ? reads[i] : data.length);
            r = f.feed(data, at, n);
            at += n;
            assertTrue(f.buffered() <= Math.max(maxLine, 0), "buffer " + f.buffered() + " > " + maxLine);
        }

        int newline = -1;
        for (int i = 0; i < data.length; i++) {
            if (data[i] == '\n') {
                newline = i;
                break;
            }
        }
        int lineBytes = newline < 0 ? data.length : newline;
        if (lineBytes > maxLine) {
            assertEquals(RequestFramer.Result.TOO_LONG, r);
            assertNull(f.finish());
        } else if (newline >= 0) {
            assertEquals(RequestFramer.Result.LINE, r);
            assertEquals(new String(Arrays.copyOf(data, newline), StandardCharsets.UTF_8), f.line());
            assertNull(f.finish());
        } else {
            assertEquals(RequestFramer.Result.MORE, r);
            assertEquals(data.length == 0 ? null : new String(data, StandardCharsets.UTF_8), f.finish());
        }
    }
}
