package io.idlewatch.sweeper.docker;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A fresh inspect of one container. {@code started} and {@code finished} are empty when the
 * engine reports its zero time (never started / never finished).
 */
public record ContainerDetails(
        String id,
        String name,
        String state,
        Map<String, String> labels,
        Instant created,
        Optional<Instant> started,
        Optional<Instant> finished,
        int exitCode,
        String error,
        long sizeRw,
        List<String> execIds) {

    public ContainerDetails {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        execIds = execIds == null ? List.of() : List.copyOf(execIds);
        error = error == null ? "" : error;
    }
}
