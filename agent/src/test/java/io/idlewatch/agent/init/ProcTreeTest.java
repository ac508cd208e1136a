package io.idlewatch.agent.init;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ProcTree on the real /proc: a child of this JVM is found, a stranger is not. */
class ProcTreeTest {
    @Test
    void findsOurChildren() throws Exception {
        // The test JVM may fork with ProcessBuilder; only the agent must not.
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            int self = (int) ProcessHandle.current().pid();
            assertTrue(ProcTree.childrenOf(self).contains((int) child.pid()));
            assertFalse(ProcTree.childrenOf(self).contains(self));
            assertFalse(ProcTree.childrenOf(1).contains((int) child.pid()));
        } finally {
            child.destroyForcibly().waitFor();
        }
    }
}
