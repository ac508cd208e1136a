package io.idlewatch.agent.signal.http;

import io.idlewatch.agent.config.AgentConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host networking told from fixture trees of /proc/self/ns/net and /sys/class/net, and what it changes. */
class HostNetworkTest {
    @TempDir
    Path root;

    private void netns(String target) throws Exception {
        Files.createDirectories(root.resolve("proc/self/ns"));
        Files.createSymbolicLink(root.resolve("proc/self/ns/net"), Path.of(target));
    }

    private void device(String name, String hardware) throws Exception {
        Path d = Files.createDirectories(root.resolve("sys/class/net/" + name));
        if (hardware != null) {
            Files.createSymbolicLink(d.resolve("device"), Path.of("../../../" + hardware));
        }
    }

    @Test
    void theKernelsInitialNamespaceIsTheHosts() throws Exception {
        netns("net:[4026531833]");
        assertEquals(Optional.of("the network namespace is the host's (net:[4026531833], the kernel's initial one)"),
                HostNetwork.detect(root));
    }

    @Test
    void aContainersOwnNamespaceIsNot() throws Exception {
        netns("net:[4026532182]");
        device("lo", null);
        device("eth0", null); // a veth: no device behind it
        assertEquals(Optional.empty(), HostNetwork.detect(root));
        assertEquals(Optional.empty(), HostNetwork.detect(root.resolve("nowhere")));
    }

    /** Older kernels number the initial namespace like any other: a machine's NIC tells instead. */
    @Test
    void aHardwareDeviceIsTheHosts() throws Exception {
        netns("net:[4026531992]");
        device("lo", null);
        device("eth0", "virtio2");
        assertEquals(Optional.of("network device eth0 is a machine's, not a container's"), HostNetwork.detect(root));
    }

    @Test
    void onTheHostsNetworkLoopbackClientsCountAndTheConfigLineSaysWhy() throws Exception {
        netns("net:[4026531833]");
        AgentConfig c = AgentConfig.load(Map.of(), root);
        assertTrue(c.httpLoopback());
        assertTrue(c.describe().contains(" http_loopback=true (host network: the network namespace is the host's"
                + " (net:[4026531833], the kernel's initial one): loopback clients of the watched ports count)"),
                c.describe());
        AgentConfig off = AgentConfig.load(Map.of("IDLEWATCH_HTTP_LOOPBACK", "false"), root);
        assertFalse(off.httpLoopback(), "an explicit setting wins");
        assertTrue(off.describe().contains(" http_loopback=false (set; host network: "), off.describe());
        assertTrue(off.describe().contains(": clients on this machine do not count)"), off.describe());
    }

    @Test
    void inItsOwnNamespaceNothingChanges() throws Exception {
        netns("net:[4026532182]");
        AgentConfig c = AgentConfig.load(Map.of(), root);
        assertFalse(c.httpLoopback());
        assertTrue(c.describe().contains(" http_loopback=false opencode_stall"), c.describe());
    }
}
