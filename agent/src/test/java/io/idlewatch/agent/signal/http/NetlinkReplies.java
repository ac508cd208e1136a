package io.idlewatch.agent.signal.http;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Fabricates sock_diag replies byte by byte, laid out as linux/inet_diag.h and linux/tcp.h say. */
final class NetlinkReplies {
    private final ByteBuffer b = ByteBuffer.allocate(64 * 1024).order(ByteOrder.nativeOrder());

    /**
     * An inet_diag_msg with a 232-byte tcp_info carrying {@code bytesReceived} (null = no INET_DIAG_INFO).
     * {@code remote} goes to idiag_dst, or for a LISTEN socket (state 10) to idiag_src: its bound address.
     */
    NetlinkReplies socket(int family, int state, int localPort, byte[] remote, int remotePort, long cookie,
                          Long bytesReceived) {
        int start = b.position();
        int infoLen = bytesReceived == null ? 0 : 4 + 232;
        int len = 16 + 72 + infoLen;
        b.putInt(len).putShort((short) 20).putShort((short) 2).putInt(1).putInt(0);
        int m = b.position();
        b.put((byte) family).put((byte) state).put((byte) 0).put((byte) 0);
        b.put((byte) (localPort >> 8)).put((byte) localPort);
        b.put((byte) (remotePort >> 8)).put((byte) remotePort);
        b.position(state == 10 ? m + 8 : m + 24);
        b.put(remote);
        b.position(m + 44);
        b.putInt((int) cookie).putInt((int) (cookie >>> 32));
        b.position(m + 72);
        if (bytesReceived != null) {
            b.putShort((short) (4 + 232)).putShort((short) 2);
            int info = b.position();
            b.put((byte) state);
            b.position(info + 120);
            b.putLong(999_999L); // tcpi_bytes_acked: server->client, must be ignored
            b.putLong(bytesReceived);
            b.position(info + 232);
        }
        b.position(start + ((len + 3) & ~3));
        return this;
    }

    NetlinkReplies done() {
        b.putInt(20).putShort((short) 3).putShort((short) 2).putInt(1).putInt(0).putInt(0);
        return this;
    }

    NetlinkReplies error(int errno) {
        b.putInt(36).putShort((short) 2).putShort((short) 0).putInt(1).putInt(0).putInt(-errno);
        b.put(new byte[16]);
        return this;
    }

    ByteBuffer buffer() {
        ByteBuffer copy = b.duplicate().order(ByteOrder.nativeOrder());
        copy.flip();
        return copy;
    }

    static byte[] v4(int a, int b, int c, int d) {
        return new byte[] {(byte) a, (byte) b, (byte) c, (byte) d};
    }

    static byte[] v6Loopback() {
        byte[] a = new byte[16];
        a[15] = 1;
        return a;
    }

    static byte[] v4Mapped(int a, int b, int c, int d) {
        byte[] x = new byte[16];
        x[10] = (byte) 0xff;
        x[11] = (byte) 0xff;
        x[12] = (byte) a;
        x[13] = (byte) b;
        x[14] = (byte) c;
        x[15] = (byte) d;
        return x;
    }
}
