package io.idlewatch.agent.signal.http;

import java.io.IOException;

/** Where the http signal reads the kernel's TCP sockets from. */
public interface TcpSocketSource {
    /** Visits every TCP socket, listeners and TIME_WAIT included (IPv4 and IPv6). */
    void scan(TcpSocketVisitor visitor) throws IOException;

    /** Short name for details: "netlink" or "/proc/net/tcp". */
    String describe();
}
