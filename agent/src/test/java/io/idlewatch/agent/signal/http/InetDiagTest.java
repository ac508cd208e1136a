package io.idlewatch.agent.signal.http;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InetDiagTest {

    private static List<String> parse(ByteBuffer reply, boolean[] done) throws IOException {
        List<String> out = new ArrayList<>();
        done[0] = InetDiag.parse(reply, (family, state, localPort, remote, remotePort, id, bytes, rxQueue) ->
                out.add(family + " " + state + " " + localPort + " " + (remote[0] & 0xff) + " " + remotePort + " "
                        + Long.toHexString(id) + " " + bytes), new byte[16]);
        return out;
    }

    @Test
    void readsBytesReceivedAtOffset128NotBytesAcked() throws Exception {
        ByteBuffer reply = new NetlinkReplies()
                .socket(2, 1, 4096, NetlinkReplies.v4(172, 17, 0, 1), 51234, 0xABCD_0000_1234L, 4242L)
                .socket(2, 6, 4096, NetlinkReplies.v4(10, 0, 0, 1), 1, 7, null)
                .done().buffer();
        boolean[] done = new boolean[1];
        assertEquals(List.of("2 1 4096 172 51234 abcd00001234 4242", "2 6 4096 10 1 7 -1"), parse(reply, done));
        assertTrue(done[0]);
    }

    @Test
    void aReplyWithoutDoneAsksForMore() throws Exception {
        ByteBuffer reply = new NetlinkReplies().socket(10, 1, 80, new byte[16], 2, 1, 0L).buffer();
        boolean[] done = new boolean[1];
        assertEquals(1, parse(reply, done).size());
        assertFalse(done[0]);
    }

    @Test
    void anErrorMessageThrowsWithTheErrno() {
        ByteBuffer reply = new NetlinkReplies().error(13).buffer();
        IOException e = assertThrows(IOException.class, () -> parse(reply, new boolean[1]));
        assertEquals("sock_diag answered error 13", e.getMessage());
    }

    @Test
    void truncatedMessagesThrow() {
        ByteBuffer full = new NetlinkReplies().socket(2, 1, 80, NetlinkReplies.v4(1, 2, 3, 4), 2, 1, 5L).buffer();
        ByteBuffer cut = full.duplicate().order(ByteOrder.nativeOrder());
        cut.limit(100);
        assertThrows(IOException.class, () -> parse(cut, new boolean[1]));
        ByteBuffer garbage = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder()).putInt(3).flip();
        assertThrows(IOException.class, () -> parse(garbage, new boolean[1]));
    }

    @Test
    void requestLayout() {
        ByteBuffer req = ByteBuffer.allocate(InetDiag.REQUEST_LEN);
        InetDiag.writeRequest(req, InetDiag.AF_INET6, 7);
        assertEquals(72, req.limit());
        assertEquals(72, req.getInt(0));
        assertEquals(20, req.getShort(4)); // SOCK_DIAG_BY_FAMILY
        assertEquals(0x301, req.getShort(6)); // NLM_F_REQUEST | NLM_F_DUMP
        assertEquals(7, req.getInt(8));
        assertEquals(10, req.get(16)); // AF_INET6
        assertEquals(6, req.get(17)); // IPPROTO_TCP
        assertEquals(2, req.get(18)); // 1 << (INET_DIAG_INFO - 1)
        assertEquals(0xFFF, req.getInt(20)); // every state, LISTEN and TIME_WAIT included
    }
}
