package io.idlewatch.images;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compose and Kubernetes examples parse and say what the README says they do.
 * (No cluster here; ComposeIT runs the compose setup's container for real.)
 */
class ExamplesTest {
    static final Path EXAMPLES = Path.of(System.getProperty("user.dir")).resolveSibling("examples");

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(String relative) throws IOException {
        return new Yaml().load(Files.readString(EXAMPLES.resolve(relative)));
    }

    @SuppressWarnings("unchecked")
    static <T> T at(Map<String, Object> map, String... path) {
        Object node = map;
        for (String key : path) {
            assertTrue(node instanceof Map, "no map at " + key);
            node = ((Map<String, Object>) node).get(key);
        }
        return (T) node;
    }

    @Test
    @SuppressWarnings("unchecked")
    void kubernetesJobIsSweptByTtlAndNeverRestarted() throws IOException {
        Map<String, Object> job = yaml("kubernetes/workspace-job.yaml");
        assertEquals("batch/v1", job.get("apiVersion"));
        assertEquals("Job", job.get("kind"));
        assertTrue((Integer) at(job, "spec", "ttlSecondsAfterFinished") > 0, "ttlSecondsAfterFinished does the sweeping");
        assertEquals(0, (Integer) at(job, "spec", "backoffLimit"), "a stopped workspace is never started again");
        Map<String, Object> pod = at(job, "spec", "template", "spec");
        assertEquals("Never", pod.get("restartPolicy"));
        Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        assertNull(container.get("command"), "the image's ENTRYPOINT (the agent) must stay");
        Map<String, String> env = new java.util.HashMap<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) container.get("env")) {
            env.put((String) e.get("name"), String.valueOf(e.get("value")));
        }
        assertEquals("0", env.get("IDLEWATCH_EXIT_CODE"), "an idle stop must complete the Job, not fail it");
        assertNotNull(env.get("IDLEWATCH_TIMEOUT"));
        Map<String, Object> probe = (Map<String, Object>) container.get("readinessProbe");
        assertNull(probe.get("httpGet"), "an httpGet probe comes from the node's address and would count as activity");
        assertNotNull(probe.get("exec"));
        assertEquals(List.of("ALL"), at(container, "securityContext", "capabilities", "drop"));
        assertEquals(Boolean.TRUE, at(container, "securityContext", "readOnlyRootFilesystem"));
        boolean runMounted = ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
                .anyMatch(m -> "/run".equals(m.get("mountPath")));
        assertTrue(runMounted, "read-only root: /run must be writable for the state file and socket");
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeSetupIsHardenedAndLabelled() throws IOException {
        Map<String, Object> ws = at(yaml("compose/compose.yaml"), "services", "workspace");
        Map<String, Object> labels = (Map<String, Object>) ws.get("labels");
        assertEquals("true", labels.get("io.idlewatch.managed"));
        assertNotNull(labels.get("io.idlewatch.workspace"));
        assertEquals(List.of("ALL"), ws.get("cap_drop"));
        assertFalse(String.valueOf(ws.get("user")).startsWith("0"), "non-root");
        assertEquals("no", ws.get("restart"), "an idle-stopped workspace must stay stopped");
        assertEquals(Boolean.TRUE, ws.get("tty"));
        assertTrue((Integer) ws.get("pids_limit") > 0);
        assertEquals(List.of("127.0.0.1:4096:4096"), ws.get("ports"));
        List<String> test = at(ws, "healthcheck", "test");
        assertTrue(String.join(" ", test).contains("127.0.0.1:4096/global/health"), "health check over loopback");
        assertNull(ws.get("entrypoint"), "the agent stays the entrypoint");
    }
}
