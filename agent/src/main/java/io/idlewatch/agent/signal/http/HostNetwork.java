package io.idlewatch.agent.signal.http;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether the agent runs in the host's network namespace ({@code docker run --network host},
 * Kubernetes {@code hostNetwork: true}). There every client on the same machine, the host's
 * browser included, reaches the workspace over loopback, so loopback clients must count; and the
 * host's other listeners (sshd) are in the same namespace.
 *
 * <p>Told, at start-up, by what the namespace is, not by what listens in it:
 * <ul>
 *   <li>its inode is the kernel's fixed number for the initial network namespace,
 *       {@code 0xEFFFFFF9} ({@code net:[4026531833]}, Linux 6.x), or</li>
 *   <li>it holds a network device backed by hardware ({@code /sys/class/net/X/device}, a
 *       physical or virtual machine's NIC): a container's own namespace has only virtual
 *       ones (veth, the loopback), unless a device was moved into it on purpose.</li>
 * </ul>
 * A file that cannot be read tells nothing: not the host's.
 */
public final class HostNetwork {
    /** The initial network namespace's inode on kernels that give it a fixed one. */
    static final long INIT_NET_INODE = 0xEFFFFFF9L;
    /** Network devices looked at: a host has a handful, a router a few hundred. */
    private static final int MAX_DEVICES = 1024;

    private HostNetwork() {
    }

    /**
     * @param root where {@code proc/self/ns/net} and {@code sys/class/net} are (the real root, or a
     *             fixture tree)
     * @return why this is the host's network namespace, or empty when it does not look like it
     */
    public static Optional<String> detect(Path root) {
        try {
            String ns = Files.readSymbolicLink(root.resolve("proc/self/ns/net")).toString();
            if (ns.equals("net:[" + INIT_NET_INODE + "]")) {
                return Optional.of("the network namespace is the host's (" + ns + ", the kernel's initial one)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // no /proc here: look at the devices
        }
        Path net = root.resolve("sys/class/net");
        if (!Files.isDirectory(net)) {
            return Optional.empty();
        }
        int seen = 0;
        try (DirectoryStream<Path> devices = Files.newDirectoryStream(net)) {
            for (Path d : devices) {
                if (++seen > MAX_DEVICES) {
                    break;
                }
                Path device = d.resolve("device");
                if (Files.isSymbolicLink(device) || Files.isDirectory(device)) {
                    String name = d.getFileName().toString().replaceAll("[^A-Za-z0-9._@-]", "?");
                    return Optional.of("network device " + name + " is a machine's, not a container's");
                }
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
