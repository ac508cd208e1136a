package io.idlewatch.agent.signal.http;

/**
 * The agent's own loopback connections (the opencode status probe): their local
 * ports, and how many were made. The http signal ignores server sockets whose
 * peer is one of these ports, so the agent asking opencode whether it is busy
 * never counts as a client, even with loopback counting on; and its accept
 * accounting subtracts the count, so a probe that left no socket behind (a
 * server that kept writing after the probe closed resets the probe's TIME_WAIT)
 * is never taken for a client's short connection. Remembers the last
 * {@value #SIZE} ports, more than a TIME_WAIT minute of probes (a busy opencode adds one
 * connection per watched session to each probe).
 */
public final class OwnClientPorts {
    static final int SIZE = 512;
    private final int[] ports = new int[SIZE];
    private int next;
    private long connects;

    /** Records one connection the agent made (called once it is connected). */
    public synchronized void add(int localPort) {
        ports[next] = localPort;
        next = (next + 1) % SIZE;
        connects++;
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

    /** The local port of connection number {@code index} (from 0), or 0 when no longer remembered. */
    public synchronized int port(long index) {
        return index < connects && connects - index <= SIZE ? ports[(int) (index % SIZE)] : 0;
    }

    /** How many connections {@link #add} has recorded. */
    public synchronized long connects() {
        return connects;
    }
}
