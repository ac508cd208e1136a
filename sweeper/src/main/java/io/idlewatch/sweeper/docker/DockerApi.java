package io.idlewatch.sweeper.docker;

import java.io.Closeable;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The few Docker calls idlewatch makes (after moby-ryuk's interfaces.go): everything else in the
 * Engine API is out of reach on purpose. One implementation talks to the engine through
 * docker-java; unit tests use a fake.
 *
 * <p>Every method throws {@link DockerUnreachableException} when the engine cannot be reached,
 * {@link DockerException.NotFound} when the object is gone and {@link DockerException.Conflict}
 * when the engine refuses because of the object's state. Every call but the event stream has a
 * time limit; an engine that does not answer within it counts as unreachable.
 */
public interface DockerApi extends Closeable {

    /** Engine version and API range; also proves the endpoint answers. */
    EngineVersion version();

    /**
     * Containers carrying every label filter ({@code k=v} or {@code k}, ANDed by the engine) in
     * any of the given states (ORed); an empty state list means every state.
     */
    List<ContainerSummary> list(Collection<String> labelFilters, Collection<String> states);

    /** A fresh look at one container, with {@code SizeRw} (the space its removal gives back). */
    ContainerDetails inspect(String id);

    /** Removes without force: the engine refuses (conflict) a container that is running again. */
    void remove(String id, boolean anonymousVolumes);

    /**
     * The content of one regular file inside the container, read through the archive endpoint (no
     * exec, so nothing runs inside the container); empty when the path does not exist or is not a
     * regular file. Never reads more than {@code maxBytes} of content: a larger file throws
     * {@link DockerException.TooLarge}, whatever its tar header claims.
     */
    Optional<byte[]> readFile(String id, String path, int maxBytes);

    /**
     * Streams the ids of containers that die while carrying every label filter. {@code onError}
     * receives the failure when the stream breaks; closing the handle ends it quietly.
     */
    Closeable onContainerDie(Collection<String> labelFilters, Consumer<String> onDie, Consumer<Throwable> onError);

    @Override
    void close();

    record EngineVersion(String version, String apiVersion, String minApiVersion) {
    }
}
