package io.idlewatch.sweeper.docker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Version;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Podman's words in, Docker's out (the answers were seen from Debian's podman 4.3; see EngineDialect). */
class EngineDialectTest {

    @Test
    void podmanStatesReadAsDockers() {
        assertEquals("created", EngineDialect.state("configured", null));
        assertEquals("created", EngineDialect.state("initialized", "no"));
        assertEquals("running", EngineDialect.state("stopping", null));
        assertEquals("exited", EngineDialect.state("stopped", null));
        assertEquals("exited", EngineDialect.state("stopped", "no"));
        assertEquals("exited", EngineDialect.state("stopped", ""));
    }

    @Test
    void stoppedUnderARestartPolicyIsRestarting_neverRemovable() {
        for (String policy : List.of("always", "on-failure", "unless-stopped")) {
            assertEquals("restarting", EngineDialect.state("stopped", policy), policy);
        }
    }

    @Test
    void dockerStatesPassThrough() {
        for (String state : List.of("created", "running", "paused", "restarting", "removing", "exited", "dead")) {
            assertEquals(state, EngineDialect.state(state, "always"));
        }
        assertEquals("unknown", EngineDialect.state(null, null));
    }

    @Test
    void podmanGetsNoStatusFilter_dockerItsOwn() {
        assertEquals(List.of(), EngineDialect.PODMAN.statusFilter(List.of("exited", "created", "dead")));
        assertEquals(List.of("exited", "dead"), EngineDialect.DOCKER.statusFilter(List.of("exited", "dead")));
    }

    @Test
    void engineIsRecognisedFromItsVersionComponents() throws Exception {
        // Trimmed from each engine's GET /version.
        Version podman = new ObjectMapper().readValue("{\"Components\":[{\"Name\":\"Podman Engine\",\"Version\":\"4.3.1\"},"
                + "{\"Name\":\"Conmon\"}],\"ApiVersion\":\"1.41\"}", Version.class);
        Version docker = new ObjectMapper().readValue("{\"Components\":[{\"Name\":\"Engine\",\"Version\":\"20.10.24\"},"
                + "{\"Name\":\"containerd\"}],\"ApiVersion\":\"1.41\"}", Version.class);
        assertEquals(EngineDialect.PODMAN, EngineDialect.of(podman));
        assertEquals(EngineDialect.DOCKER, EngineDialect.of(docker));
        assertEquals(EngineDialect.DOCKER, EngineDialect.of(new Version()));
    }

    @Test
    void eitherEnginesDeathCounts_andPodmansStateRefusalIsAConflict() {
        assertTrue(EngineDialect.isDie("die") && EngineDialect.isDie("died"));
        assertFalse(EngineDialect.isDie("destroy") || EngineDialect.isDie(null));
        assertTrue(EngineDialect.isStateRefusal("cannot remove container 0f as it is running - running or paused containers "
                + "cannot be removed without force: container state improper"));
        assertFalse(EngineDialect.isStateRefusal("no such container"));
    }

    @Test
    void podmansNoSuchContainerIsGone_whateverTheStatus() {
        // Podman 4.3's answer to an inspect that met another sweep's removal half-way (a 500).
        assertTrue(EngineDialect.isGone("container 3b6f09a1c2d4 does not exist in database: no such container"));
        assertTrue(EngineDialect.isGone("no container with name or ID \"3b6f\" found: no such container"));
        assertFalse(EngineDialect.isGone("container state improper"));
        assertFalse(EngineDialect.isGone(null));
    }
}
