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
     * Renames a container (any state), given by its ID or by its current name.
     * {@link DockerException.NotFound} when nothing has that ID or name (any more); another
     * {@link DockerException} when the engine refuses: Docker answers 409 when another container has
     * the name and 400 when it is already this container's name (Podman accepts that one).
     */
    void rename(String idOrName, String newName);

    /**
     * Whether two DELETEs of one container can both succeed, so that a sweep must claim a container
     * (see {@code Sweeper}) before removing it. Both engines can: Docker 20.10 answers 204 to a
     * DELETE that looked the container up just before another DELETE deregistered it (moby
     * {@code daemon/delete.go}: "check if container wasn't deregistered by previous rm since Get"),
     * and Podman answers 204 to a DELETE that waited for the container while another removed it.
     */
    default boolean removalNeedsClaim() {
        return true;
    }

    /**
     * The content of one regular file inside the container, read through the archive endpoint (no
     * exec, so nothing runs inside the container); empty when the path does not exist or is not a
     * regular file. Never reads more than {@code maxBytes} of content: a larger file throws
     * {@link DockerException.TooLarge}, whatever its tar header claims.
     */
    Optional<byte[]> readFile(String id, String path, int maxBytes);

    /**
     * The target of the symbolic link at {@code path} in the container, as the engine resolved it
     * there, read with a stat of the path (no archive, no exec); empty when there is no link, or
     * when this endpoint cannot stat cheaply (then callers read the file instead).
     */
    default Optional<String> linkTarget(String id, String path) {
        return Optional.empty();
    }

    /**
     * Streams the ids of containers that die while carrying every label filter. {@code onError}
     * receives the failure when the stream breaks; closing the handle ends it quietly.
     */
    Closeable onContainerDie(Collection<String> labelFilters, Consumer<String> onDie, Consumer<Throwable> onError);

    /**
     * Runs {@code command} in a running container through the Engine API's exec (no tty, no stdin)
     * and waits for it, within {@code limit}. Keeps at most {@code maxOutputBytes} of each of stdout
     * and stderr (the rest is read and dropped, so a chatty command cannot fill our memory).
     * {@link DockerException.Conflict} when the container is not running (or paused);
     * {@link DockerException.NotFound} when it is gone.
     */
    ExecResult exec(String id, List<String> command, int maxOutputBytes, java.time.Duration limit);

    /** The container's state, configured port bindings and network addresses (for a wake). */
    default NetworkView network(String id) {
        throw new UnsupportedOperationException("network view not implemented by " + getClass().getSimpleName());
    }

    /**
     * Starts a stopped container. {@link DockerException.NotFound} when it is gone; another
     * {@link DockerException} when the engine refuses (a host port taken, a broken mount).
     */
    default void start(String id) {
        throw new UnsupportedOperationException("start not implemented by " + getClass().getSimpleName());
    }

    /**
     * Puts one small regular file ({@code dir/name}, mode 0644) into the container through the
     * archive endpoint: works on a stopped container, runs nothing inside.
     */
    default void putFile(String id, String dir, String name, byte[] content) {
        throw new UnsupportedOperationException("putFile not implemented by " + getClass().getSimpleName());
    }

    @Override
    void close();

    /** A finished exec: its exit code and the (bounded) output, undecoded. */
    record ExecResult(int exitCode, byte[] stdout, byte[] stderr) {
    }

    record EngineVersion(String version, String apiVersion, String minApiVersion) {
    }
}
