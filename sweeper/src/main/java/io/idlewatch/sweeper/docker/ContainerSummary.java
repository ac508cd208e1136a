package io.idlewatch.sweeper.docker;

import java.time.Instant;
import java.util.Map;

/** One row of the container list: enough to choose what to look at more closely. */
public record ContainerSummary(String id, String name, String state, Map<String, String> labels, Instant created) {

    public ContainerSummary {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public String shortId() {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }
}
