package io.idlewatch.sweeper.testing;

import io.idlewatch.contract.StateLink;
import io.idlewatch.contract.StateRecord;

import io.idlewatch.sweeper.core.LabelSelector;
import io.idlewatch.sweeper.docker.ContainerDetails;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerException;
import io.idlewatch.sweeper.docker.NetworkView;
import io.idlewatch.sweeper.docker.PortBinding;

import java.io.Closeable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An in-memory engine with the engine's rules that matter here: removal without force is refused
 * for a running, paused or restarting container, and a removed container is gone. It can also
 * misbehave on request: ignore label filters, fail removals, report a container as gone.
 */
public final class FakeDocker implements DockerApi {

    public final Map<String, FakeContainer> containers = new LinkedHashMap<>();
    public final Map<String, RuntimeException> removeFailures = new HashMap<>();
    /** Removals that fail the first time only, as Docker's overlay2 race does. */
    public final Map<String, RuntimeException> removeFailuresOnce = new HashMap<>();
    public final Map<String, byte[]> stateFiles = new HashMap<>();
    /** The target the engine reports for /run/idlewatch/state.link, by container id. */
    public final Map<String, String> stateLinks = new HashMap<>();
    /** Reads that fail (e.g. a timeout) instead of returning the state file. */
    public final Map<String, RuntimeException> readFailures = new HashMap<>();
    /** Run as a read of the container's files starts: what someone else does meanwhile. */
    public final Map<String, Runnable> onRead = new HashMap<>();
    /** Inspects that fail, e.g. for a container removed between list and inspect. */
    public final Map<String, RuntimeException> inspectFailures = new HashMap<>();
    public final List<String> removed = new CopyOnWriteArrayList<>();
    public final List<Boolean> removedWithVolumes = new CopyOnWriteArrayList<>();
    public final List<String> calls = new CopyOnWriteArrayList<>();
    public final AtomicInteger removalsInFlight = new AtomicInteger();
    public final AtomicInteger maxRemovalsInFlight = new AtomicInteger();
    public volatile boolean ignoreLabelFilters;
    /** Renames that fail (e.g. the engine went away), by the name asked for; checked before the engine's own rules. */
    public final Map<String, RuntimeException> renameFailures = new HashMap<>();
    /** Podman's rename rules rather than Docker's: a rename to the container's own name succeeds. */
    public volatile boolean podmanRenames;
    public volatile long removalMillis;
    public volatile RuntimeException unreachable;
    public final List<Consumer<String>> dieListeners = new CopyOnWriteArrayList<>();
    public volatile int closedEventStreams;

    /** One container; mutable so tests can change its state between list and remove. */
    public static final class FakeContainer {
        public final String id;
        /** Changed by {@link #rename}, as the engine does. */
        public volatile String name;
        /** The name it was made with: what {@link #removed} lists, whatever a sweep renamed it to. */
        public final String createdAs;
        public volatile String state;
        public final Map<String, String> labels;
        public final Instant created;
        public volatile Instant started;
        public volatile Instant finished;
        public volatile int exitCode;
        public volatile long sizeRw;

        FakeContainer(String id, String name, String state, Map<String, String> labels, Instant created) {
            this.id = id;
            this.name = name;
            this.createdAs = name;
            this.state = state;
            this.labels = labels;
            this.created = created;
        }

        public FakeContainer finished(Instant at, int code) {
            this.started = at.minusSeconds(1);
            this.finished = at;
            this.exitCode = code;
            return this;
        }

        public FakeContainer size(long bytes) {
            this.sizeRw = bytes;
            return this;
        }
    }

    public FakeContainer add(String name, String state, Instant created, String... labelPairs) {
        Map<String, String> labels = new HashMap<>();
        labels.put("io.idlewatch.managed", "true");
        for (String pair : labelPairs) {
            int eq = pair.indexOf('=');
            labels.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
        String id = String.format("%012d", containers.size() + 1) + "f".repeat(52);
        FakeContainer c = new FakeContainer(id, name, state, labels, created);
        containers.put(id, c);
        return c;
    }

    public FakeContainer byName(String name) {
        return containers.values().stream().filter(c -> c.name.equals(name)).findFirst().orElseThrow();
    }

    public boolean exists(String name) {
        return containers.values().stream().anyMatch(c -> c.name.equals(name));
    }

    private void checkReachable() {
        if (unreachable != null) {
            throw unreachable;
        }
    }

    @Override
    public EngineVersion version() {
        checkReachable();
        calls.add("version");
        return new EngineVersion("20.10.24", "1.41", "1.12");
    }

    @Override
    public synchronized List<ContainerSummary> list(Collection<String> labelFilters, Collection<String> states) {
        checkReachable();
        calls.add("list");
        LabelSelector selector = new LabelSelector(List.copyOf(labelFilters));
        List<ContainerSummary> out = new ArrayList<>();
        for (FakeContainer c : containers.values()) {
            if (!ignoreLabelFilters && (!selector.matches(c.labels) || !states.isEmpty() && !states.contains(c.state))) {
                continue;
            }
            out.add(new ContainerSummary(c.id, c.name, c.state, c.labels, c.created));
        }
        return out;
    }

    @Override
    public synchronized ContainerDetails inspect(String id) {
        checkReachable();
        calls.add("inspect " + id);
        RuntimeException failure = inspectFailures.get(id);
        if (failure != null) {
            throw failure;
        }
        FakeContainer c = containers.get(id);
        if (c == null) {
            throw new DockerException.NotFound("No such container: " + id, null);
        }
        return new ContainerDetails(c.id, c.name, c.state, c.labels, c.created, Optional.ofNullable(c.started),
                Optional.ofNullable(c.finished), c.exitCode, "", c.sizeRw, List.of());
    }

    @Override
    public void remove(String id, boolean anonymousVolumes) {
        checkReachable();
        int now = removalsInFlight.incrementAndGet();
        maxRemovalsInFlight.accumulateAndGet(now, Math::max);
        try {
            if (removalMillis > 0) {
                Thread.sleep(removalMillis);
            }
            synchronized (this) {
                calls.add("remove " + id);
                RuntimeException failure = removeFailures.get(id);
                if (failure == null) {
                    failure = removeFailuresOnce.remove(id);
                }
                if (failure != null) {
                    throw failure;
                }
                FakeContainer c = containers.get(id);
                if (c == null) {
                    throw new DockerException.NotFound("No such container: " + id, null);
                }
                if (List.of("running", "paused", "restarting").contains(c.state)) {
                    throw new DockerException.Conflict("You cannot remove a " + c.state + " container " + id
                            + ". Stop the container before attempting removal or force remove", null);
                }
                containers.remove(id);
                removed.add(c.createdAs);
                removedWithVolumes.add(anonymousVolumes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            removalsInFlight.decrementAndGet();
        }
    }

    /**
     * By ID or current name. Docker's rules: 404 nothing by that ID or name, 400 its own name already,
     * 409 another container's name; with {@link #podmanRenames}, its own name is no error.
     */
    @Override
    public synchronized void rename(String idOrName, String newName) {
        checkReachable();
        calls.add("rename " + idOrName + " " + newName);
        RuntimeException failure = renameFailures.get(newName);
        if (failure != null) {
            throw failure;
        }
        FakeContainer c = containers.get(idOrName);
        if (c == null) {
            c = containers.values().stream().filter(other -> other.name.equals(idOrName)).findFirst().orElse(null);
        }
        if (c == null) {
            throw new DockerException.NotFound("No such container: " + idOrName, null);
        }
        if (c.name.equals(newName) && podmanRenames) {
            return;
        }
        if (c.name.equals(newName)) {
            throw new DockerException("cannot rename container " + c.id + " to " + newName
                    + ": Renaming a container with the same name as its current name", null);
        }
        for (FakeContainer other : containers.values()) {
            if (other.name.equals(newName)) {
                throw new DockerException.Conflict("cannot rename container " + c.id + " to " + newName
                        + ": Error when allocating new name: Conflict. The container name \"/" + newName
                        + "\" is already in use by container \"" + other.id + "\"", null);
            }
        }
        c.name = newName;
    }


    @Override
    public Optional<byte[]> readFile(String id, String path, int maxBytes) {
        checkReachable();
        calls.add("read " + id + " " + path);
        Runnable meanwhile = onRead.get(id);
        if (meanwhile != null) {
            meanwhile.run();
        }
        RuntimeException failure = readFailures.get(id);
        if (failure != null) {
            throw failure;
        }
        byte[] content = stateFiles.get(id);
        if (content != null && content.length > maxBytes) {
            // As the real client does: the limit is the reader's, checked before reading.
            throw new DockerException.TooLarge("cannot read " + path + " from container " + id + ": "
                    + content.length + " bytes, more than the " + maxBytes + " read", content.length);
        }
        return Optional.ofNullable(content);
    }

    @Override
    public Optional<String> linkTarget(String id, String path) {
        checkReachable();
        calls.add("stat " + id + " " + path);
        return path.equals(StateRecord.DIR + "/" + StateLink.NAME) ? Optional.ofNullable(stateLinks.get(id)) : Optional.empty();
    }

    @Override
    public Closeable onContainerDie(Collection<String> labelFilters, Consumer<String> onDie, Consumer<Throwable> onError) {
        checkReachable();
        dieListeners.add(onDie);
        return () -> {
            dieListeners.remove(onDie);
            closedEventStreams++;
        };
    }

    /** Simulates the engine's die event for a container. */
    public void die(FakeContainer c, Instant at, int exitCode) {
        c.state = "exited";
        c.finished(at, exitCode);
        dieListeners.forEach(listener -> listener.accept(c.id));
    }

    /**
     * What an exec in each container answers, by container id; a running container without one
     * answers as Docker does when the command does not exist there (exit 126).
     */
    public final Map<String, java.util.function.Function<List<String>, ExecResult>> execs = new HashMap<>();

    @Override
    public ExecResult exec(String id, List<String> command, int maxOutputBytes, java.time.Duration limit) {
        checkReachable();
        calls.add("exec " + id + " " + String.join(" ", command));
        FakeContainer c;
        synchronized (this) {
            c = containers.get(id);
        }
        if (c == null) {
            throw new DockerException.NotFound("No such container: " + id, null);
        }
        if (!c.state.equals("running")) {
            throw new DockerException.Conflict("Container " + id + " is not running", null);
        }
        var handler = execs.get(id);
        if (handler == null) {
            return new ExecResult(126, ("OCI runtime exec failed: exec failed: unable to start container process: exec: \""
                    + command.get(0) + "\": stat " + command.get(0) + ": no such file or directory: unknown\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[0]);
        }
        ExecResult r = handler.apply(command);
        return new ExecResult(r.exitCode(), java.util.Arrays.copyOf(r.stdout(), Math.min(r.stdout().length, maxOutputBytes)),
                java.util.Arrays.copyOf(r.stderr(), Math.min(r.stderr().length, maxOutputBytes)));
    }

    // ---- a wake's calls: network, start, putFile ----

    /** The published ports a container's configuration names, by container id (none when absent). */
    public final Map<String, List<PortBinding>> bindings = new HashMap<>();
    /** The network addresses a container has while it runs, by container id. */
    public final Map<String, List<String>> addresses = new HashMap<>();
    /** Starts that fail (a host port taken, a broken mount), by container id. */
    public final Map<String, RuntimeException> startFailures = new HashMap<>();
    /** Files put into containers, by {@code id:dir/name}. */
    public final Map<String, byte[]> putFiles = new java.util.concurrent.ConcurrentHashMap<>();
    /** Runs once a start succeeded, with the container's id: a test brings up what the workload would serve. */
    public volatile Consumer<String> onStart = id -> {
    };

    @Override
    public synchronized NetworkView network(String id) {
        checkReachable();
        calls.add("network " + id);
        FakeContainer c = containers.get(id);
        if (c == null) {
            throw new DockerException.NotFound("No such container: " + id, null);
        }
        return new NetworkView(c.state, bindings.getOrDefault(id, List.of()),
                c.state.equals("running") ? addresses.getOrDefault(id, List.of()) : List.of());
    }

    @Override
    public void start(String id) {
        checkReachable();
        synchronized (this) {
            calls.add("start " + id);
            RuntimeException failure = startFailures.get(id);
            if (failure != null) {
                throw failure;
            }
            FakeContainer c = containers.get(id);
            if (c == null) {
                throw new DockerException.NotFound("No such container: " + id, null);
            }
            c.state = "running";
            c.started = Instant.now();
        }
        onStart.accept(id);
    }

    @Override
    public void putFile(String id, String dir, String name, byte[] content) {
        checkReachable();
        calls.add("put " + id + " " + dir + "/" + name);
        synchronized (this) {
            if (!containers.containsKey(id)) {
                throw new DockerException.NotFound("No such container: " + id, null);
            }
        }
        putFiles.put(id + ":" + dir + "/" + name, content.clone());
    }

    @Override
    public void close() {
        calls.add("close");
    }
}
