package io.idlewatch.agent.signal.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * TCP sockets with per-socket byte counters from NETLINK_SOCK_DIAG, the
 * interface {@code ss -ti} uses. The socket and both buffers are kept across
 * scans; a failed scan closes the socket so the next one starts clean.
 */
public final class NetlinkTcpSource implements TcpSocketSource {
    private static final int RECV_TIMEOUT_MILLIS = 2000;

    private final ByteBuffer request = ByteBuffer.allocateDirect(InetDiag.REQUEST_LEN).order(ByteOrder.nativeOrder());
    // The kernel sizes dump replies to the page size or 32 KiB at most; 64 KiB always fits one.
    private final ByteBuffer reply = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private final byte[] remote = new byte[16];
    private int fd = -1;
    private int seq;

    @Override
    public void scan(TcpSocketVisitor visitor) throws IOException {
        try {
            if (fd < 0) {
                fd = SockDiag.open(RECV_TIMEOUT_MILLIS);
            }
            dump(InetDiag.AF_INET, visitor);
            dump(InetDiag.AF_INET6, visitor);
        } catch (IOException | RuntimeException | LinkageError e) {
            SockDiag.closeQuietly(fd);
            fd = -1;
            throw e instanceof IOException io ? io : new IOException("sock_diag unavailable: " + e, e);
        }
    }

    private void dump(int family, TcpSocketVisitor visitor) throws IOException {
        InetDiag.writeRequest(request, family, ++seq);
        SockDiag.send(fd, request);
        boolean done;
        do {
            SockDiag.recv(fd, reply);
            done = InetDiag.parse(reply, visitor, remote);
        } while (!done);
    }

    @Override
    public String describe() {
        return "netlink";
    }

    /** Closes the netlink socket (the agent normally keeps it for its whole life). */
    public void close() {
        SockDiag.closeQuietly(fd);
        fd = -1;
    }
}
