package io.idlewatch.agent.signal.http;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import io.idlewatch.agent.posix.LibC;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The netlink socket calls of the http signal, bound with JNA's direct mapping.
 * Reading connection counters from the kernel keeps the agent out of the data
 * path: no proxy, no packet capture, no privileges (sock_diag works for any
 * user in its own network namespace). 64-bit Linux only, like the rest of the
 * agent.
 */
public final class SockDiag {
    static {
        Native.register(SockDiag.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int EINTR = 4;

    private SockDiag() {
    }

    private static native int socket(int domain, int type, int protocol);

    private static native int setsockopt(int fd, int level, int name, long[] value, int len);

    private static native long send(int fd, ByteBuffer buf, long len, int flags);

    private static native long recv(int fd, ByteBuffer buf, long len, int flags);

    private static native int close(int fd);

    /** Opens a NETLINK_SOCK_DIAG socket whose recv gives up after {@code timeoutMillis}. */
    static int open(int timeoutMillis) throws IOException {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, InetDiag.NETLINK_SOCK_DIAG);
        if (fd < 0) {
            throw failed("socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
        }
        long[] timeval = {timeoutMillis / 1000, (timeoutMillis % 1000) * 1000L};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16) != 0) {
            IOException e = failed("setsockopt(SO_RCVTIMEO)");
            close(fd);
            throw e;
        }
        return fd;
    }

    /** Sends {@code buf} (a direct buffer, position 0) whole. */
    static void send(int fd, ByteBuffer buf) throws IOException {
        long n;
        do {
            n = send(fd, buf, buf.limit(), 0);
        } while (n < 0 && Native.getLastError() == EINTR);
        if (n != buf.limit()) {
            throw failed("send(sock_diag request)");
        }
    }

    /** Receives one datagram into {@code buf} (a direct buffer), setting its limit to the length. */
    static void recv(int fd, ByteBuffer buf) throws IOException {
        buf.clear();
        long n;
        do {
            n = recv(fd, buf, buf.capacity(), 0);
        } while (n < 0 && Native.getLastError() == EINTR);
        if (n <= 0) {
            throw failed("recv(sock_diag reply)");
        }
        buf.limit((int) n);
    }

    static void closeQuietly(int fd) {
        if (fd >= 0) {
            close(fd);
        }
    }

    private static IOException failed(String call) {
        return new IOException(LibC.failed(call, Native.getLastError()));
    }
}
