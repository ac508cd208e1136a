package io.idlewatch.agent.signal.http;

/**
 * Receives the TCP sockets of one scan, field by field, so a scan allocates
 * nothing per socket. {@code remote} is reused between calls: 4 bytes for
 * IPv4, 16 for IPv6, valid only during the call.
 */
public interface TcpSocketVisitor {
    /**
     * @param family        {@link InetDiag#AF_INET} or {@link InetDiag#AF_INET6}
     * @param state         TCP state as in include/net/tcp_states.h (1 = ESTABLISHED, 10 = LISTEN)
     * @param localPort     the socket's local port
     * @param remote        the peer address in network order; for a LISTEN socket, the address it is
     *                      bound to (a listener has no peer; 0.0.0.0 or :: for every address)
     * @param remotePort    the peer port
     * @param id            identifies the connection across scans (the socket cookie, or a 4-tuple hash)
     * @param bytesReceived payload bytes received from the peer, or -1 when the source cannot tell
     * @param rxQueue       bytes received but not yet read by the server
     */
    void socket(int family, int state, int localPort, byte[] remote, int remotePort, long id,
                long bytesReceived, long rxQueue);
}
