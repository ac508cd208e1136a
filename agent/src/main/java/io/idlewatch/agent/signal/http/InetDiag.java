package io.idlewatch.agent.signal.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The sock_diag wire format (linux/netlink.h, linux/sock_diag.h,
 * linux/inet_diag.h, linux/tcp.h), as pure functions over ByteBuffers so
 * tests feed captured or fabricated replies. Offsets were checked against the
 * kernel headers with offsetof():
 * inet_diag_req_v2 is 56 bytes, inet_diag_msg 72, and
 * {@code tcp_info.tcpi_bytes_received} sits at offset 128
 * ({@code tcpi_bytes_acked} is the one at 120). The field exists since
 * Linux 4.1; shorter tcp_info attributes are reported as "no byte count".
 */
public final class InetDiag {
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int IPPROTO_TCP = 6;
    public static final int NETLINK_SOCK_DIAG = 4;

    static final int NLMSG_HDRLEN = 16;
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int SOCK_DIAG_BY_FAMILY = 20;
    static final int NLM_F_REQUEST = 0x1;
    static final int NLM_F_DUMP = 0x300;

    static final int REQ_V2_LEN = 56;
    static final int MSG_LEN = 72;
    static final int INET_DIAG_INFO = 2;
    static final int TCPI_BYTES_RECEIVED = 128;

    public static final int TCP_ESTABLISHED = 1;
    public static final int TCP_LISTEN = 10;
    /**
     * Every state: LISTEN tells which ports are served, TIME_WAIT (and
     * FIN_WAIT2 timewait sockets) keep closed connections visible for a minute.
     */
    static final int ALL_STATES = 0xFFF;

    /** The whole request, header included. */
    public static final int REQUEST_LEN = NLMSG_HDRLEN + REQ_V2_LEN;

    private InetDiag() {
    }

    /** Writes a dump request for all TCP sockets of {@code family}, in every state, asking for tcp_info. */
    public static void writeRequest(ByteBuffer out, int family, int seq) {
        out.clear();
        out.order(ByteOrder.nativeOrder());
        out.putInt(REQUEST_LEN);
        out.putShort((short) SOCK_DIAG_BY_FAMILY);
        out.putShort((short) (NLM_F_REQUEST | NLM_F_DUMP));
        out.putInt(seq);
        out.putInt(0); // pid: the kernel
        out.put((byte) family);
        out.put((byte) IPPROTO_TCP);
        out.put((byte) (1 << (INET_DIAG_INFO - 1))); // idiag_ext: ask for tcp_info
        out.put((byte) 0);
        out.putInt(ALL_STATES);
        for (int i = 0; i < 48; i++) { // inet_diag_sockid: zero = no filter
            out.put((byte) 0);
        }
        out.flip();
    }

    /**
     * Visits every socket in one recv()'s worth of netlink messages.
     *
     * @param in     the reply, from position to limit; read in native byte order
     * @param remote scratch array of at least 16 bytes handed to the visitor
     * @return true when the dump's NLMSG_DONE was reached
     * @throws IOException on NLMSG_ERROR or a malformed message
     */
    public static boolean parse(ByteBuffer in, TcpSocketVisitor visitor, byte[] remote) throws IOException {
        in.order(ByteOrder.nativeOrder());
        int end = in.limit();
        int at = in.position();
        while (at + NLMSG_HDRLEN <= end) {
            int len = in.getInt(at);
            int type = in.getShort(at + 4) & 0xFFFF;
            if (len < NLMSG_HDRLEN || at + len > end) {
                throw new IOException("malformed netlink message (length " + len + " at " + at + ")");
            }
            if (type == NLMSG_DONE) {
                in.position(at + len);
                return true;
            }
            if (type == NLMSG_ERROR) {
                int errno = len >= NLMSG_HDRLEN + 4 ? -in.getInt(at + NLMSG_HDRLEN) : 0;
                throw new IOException("sock_diag answered error " + errno);
            }
            if (type == SOCK_DIAG_BY_FAMILY) {
                if (len < NLMSG_HDRLEN + MSG_LEN) {
                    throw new IOException("short inet_diag_msg (" + len + " bytes)");
                }
                message(in, at + NLMSG_HDRLEN, at + len, visitor, remote);
            }
            at += align4(len);
        }
        if (at < end) {
            // a datagram holds whole messages; a tail shorter than a header is corruption
            throw new IOException("malformed netlink message (" + (end - at) + " stray bytes)");
        }
        in.position(end);
        return false;
    }

    private static void message(ByteBuffer in, int m, int end, TcpSocketVisitor visitor, byte[] remote) {
        int family = in.get(m) & 0xFF;
        int state = in.get(m + 1) & 0xFF;
        int sport = port(in, m + 4);
        int dport = port(in, m + 6);
        int addrLen = family == AF_INET6 ? 16 : 4;
        // idiag_dst, or for a listener (no peer) idiag_src: the address it is bound to
        int addr = state == TCP_LISTEN ? m + 8 : m + 24;
        for (int i = 0; i < addrLen; i++) {
            remote[i] = in.get(addr + i);
        }
        long cookie = (in.getInt(m + 44) & 0xFFFFFFFFL) | ((long) in.getInt(m + 48) << 32);
        long rqueue = in.getInt(m + 56) & 0xFFFFFFFFL;
        long bytesReceived = -1;
        int a = m + MSG_LEN;
        while (a + 4 <= end) {
            int rtaLen = in.getShort(a) & 0xFFFF;
            int rtaType = in.getShort(a + 2) & 0xFFFF;
            if (rtaLen < 4 || a + rtaLen > end) {
                break;
            }
            if (rtaType == INET_DIAG_INFO && rtaLen - 4 >= TCPI_BYTES_RECEIVED + 8) {
                bytesReceived = in.getLong(a + 4 + TCPI_BYTES_RECEIVED);
            }
            a += align4(rtaLen);
        }
        visitor.socket(family, state, sport, remote, dport, cookie, bytesReceived, rqueue);
    }

    private static int port(ByteBuffer in, int at) {
        return ((in.get(at) & 0xFF) << 8) | (in.get(at + 1) & 0xFF);
    }

    static int align4(int len) {
        return (len + 3) & ~3;
    }
}
