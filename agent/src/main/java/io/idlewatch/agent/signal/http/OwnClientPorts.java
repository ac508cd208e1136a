package io.idlewatch.agent.signal.http;

/**
 * Local ports of the agent's own loopback connections (the opencode status
 * probe). The http signal ignores server sockets whose peer is one of these,
 * so the agent asking opencode whether it is busy never counts as a client,
 * even with loopback counting on. Remembers the last {@value #SIZE} ports,
 * more than a TIME_WAIT minute of probes.
 */
public final class OwnClientPorts {
    static final int SIZE = 128;
    private final int[] ports = new int[SIZE];
    private int next;

    public synchronized void add(int localPort) {
        ports[next] = localPort;
        next = (next + 1) % SIZE;
    }

    public synchronized boolean contains(int port) {
        if (port == 0) {
            return false;
        }
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }
}
