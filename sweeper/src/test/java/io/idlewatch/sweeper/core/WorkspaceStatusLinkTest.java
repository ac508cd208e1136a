package io.idlewatch.sweeper.core;

import io.idlewatch.contract.StateLink;
import io.idlewatch.contract.StateRecord;
import io.idlewatch.sweeper.testing.FakeDocker;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ps} reads the record from the state link first (a stat), and the file when the link is not a record. */
class WorkspaceStatusLinkTest {
    private static final String LINK = StateRecord.DIR + "/" + StateLink.NAME;

    private static String record(long idleMs) {
        return "{\"version\":1,\"workspace\":\"w\",\"state\":\"running\",\"updated\":\"" + Instant.now()
                + "\",\"poll_interval_ms\":5000,\"idle_ms\":" + idleMs + ",\"timeout_ms\":1800000,"
                + "\"lifetime_left_ms\":null,\"last_activity\":null}";
    }

    private static WorkspaceStatus only(FakeDocker docker) {
        List<WorkspaceStatus> all = WorkspaceStatus.list(docker, LabelSelector.managedAnd(List.of()), false, 4);
        assertEquals(1, all.size());
        return all.get(0);
    }

    @Test
    void theLinkIsReadAndTheFileIsNot() {
        FakeDocker docker = new FakeDocker();
        String id = docker.add("a", "running", Instant.now()).id;
        docker.stateFiles.put(id, record(1000).getBytes(StandardCharsets.UTF_8));
        // Docker reports the target resolved in the link's directory
        docker.stateLinks.put(id, StateRecord.DIR + "/" + StateLink.encode(record(2000)).orElseThrow());
        WorkspaceStatus status = only(docker);
        assertEquals(Duration.ofSeconds(2), status.agent().orElseThrow().idle().orElseThrow());
        assertTrue(docker.calls.contains("stat " + id + " " + LINK), docker.calls.toString());
        assertFalse(docker.calls.stream().anyMatch(c -> c.startsWith("read ")), docker.calls.toString());
    }

    @Test
    void aTargetAsWrittenIsReadToo() {
        FakeDocker docker = new FakeDocker();
        String id = docker.add("a", "running", Instant.now()).id;
        docker.stateLinks.put(id, StateLink.encode(record(3000)).orElseThrow());
        assertEquals(Duration.ofSeconds(3), only(docker).agent().orElseThrow().idle().orElseThrow());
    }

    /** Whatever the workspace put there instead, the file is read and its record shown. */
    @Test
    void aLinkThatIsNotARecordFallsBackToTheFile() {
        for (String hostile : new String[] {
                "/etc/shadow", StateRecord.DIR + "/../x", "../../proc/self/environ",
                StateRecord.DIR + "/" + StateLink.encode("{\"version\":1,\"idle_ms\":-5}").orElseThrow(),
                StateRecord.DIR + "/not%ZZencoded", StateRecord.DIR + "/\u001b]0;title\u0007",
                StateRecord.DIR + "/" + StateLink.encode(record(9000)).orElseThrow() + "/more"}) {
            FakeDocker docker = new FakeDocker();
            String id = docker.add("a", "running", Instant.now()).id;
            docker.stateFiles.put(id, record(1000).getBytes(StandardCharsets.UTF_8));
            docker.stateLinks.put(id, hostile);
            assertEquals(Duration.ofSeconds(1), only(docker).agent().orElseThrow().idle().orElseThrow(), hostile);
        }
    }
}
