package io.idlewatch.sweeper.docker;

import java.util.Locale;

/**
 * One published port as the container's configuration names it ({@code HostConfig.PortBindings}),
 * which holds for a stopped container too: {@code hostIp} empty means every address; {@code hostPort}
 * 0 means the engine picks a port at each start (nothing fixed to listen on while it is stopped).
 */
public record PortBinding(int containerPort, String protocol, String hostIp, int hostPort) {

    public PortBinding {
        protocol = protocol == null ? "tcp" : protocol.toLowerCase(Locale.ROOT);
        hostIp = hostIp == null ? "" : hostIp;
    }

    /** The engine gives this binding a port of its choosing at each start: nobody can know it beforehand. */
    public boolean fixed() {
        return hostPort > 0;
    }

    /** {@code 0.0.0.0:8080} or {@code 127.0.0.1:8080}; {@code [::1]:8080} for IPv6. */
    public String hostAddress() {
        String ip = hostIp.isEmpty() ? "0.0.0.0" : hostIp;
        return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + hostPort;
    }

    /** {@code 0.0.0.0:8080->4096/tcp}, as {@code docker ps} shows a binding. */
    public String display() {
        return (fixed() ? hostAddress() : "(any port)") + "->" + containerPort + "/" + protocol;
    }
}
