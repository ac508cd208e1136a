package io.idlewatch.sweeper.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.core.RemoteApiVersion;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.SSLConfig;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link DockerApi} over docker-java with the Apache HttpClient 5 transport.
 *
 * <p>The API version is pinned to {@value #API_VERSION} on purpose: it is what Docker 20.10 (the
 * oldest engine we support, Debian bookworm's docker.io) speaks, and everything we call exists
 * there. {@link #connect} asks the daemon for its range and refuses an engine outside it.
 */
public final class DockerJavaApi implements DockerApi {

    public static final String API_VERSION = "1.41";
    /** Enough for the bounded removal pool, the event stream and the odd extra call. */
    private static final int MAX_CONNECTIONS = 16;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Pattern ENGINE_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final DockerClient client;
    private final DockerEndpoint endpoint;

    private DockerJavaApi(DockerClient client, DockerEndpoint endpoint) {
        this.client = client;
        this.endpoint = endpoint;
    }

    /** A client for the endpoint, proven to answer and to speak our API version. */
    public static DockerJavaApi connect(DockerEndpoint endpoint, boolean tlsVerify, String certPath) {
        DockerJavaApi api = open(endpoint, tlsVerify, certPath);
        try {
            requireApiVersion(api.version(), endpoint);
            return api;
        } catch (RuntimeException e) {
            api.close();
            throw e;
        }
    }

    /** For a Unix socket, which never speaks TLS: saves loading the JDK's TLS stack (see {@link NoTls}). */
    private static final SSLConfig NO_TLS = () -> NoTls.CONTEXT;

    private static DockerJavaApi open(DockerEndpoint endpoint, boolean tlsVerify, String certPath) {
        try {
            DefaultDockerClientConfig config = new DefaultDockerClientConfig.Builder()
                    .withDockerHost(endpoint.url())
                    .withDockerConfig(endpoint.dockerConfigDir().toString())
                    // Only a context endpoint brings the context's TLS material with it.
                    .withDockerContext(endpoint.context() == null ? "default" : endpoint.context())
                    .withDockerTlsVerify(tlsVerify)
                    .withDockerCertPath(certPath)
                    .withApiVersion(RemoteApiVersion.parseConfig(API_VERSION))
                    .build();
            ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
                    .dockerHost(URI.create(endpoint.url()))
                    .sslConfig(endpoint.url().startsWith("unix:") ? NO_TLS : config.getSSLConfig())
                    .maxConnections(MAX_CONNECTIONS)
                    .connectionTimeout(CONNECT_TIMEOUT)
                    .build();
            return new DockerJavaApi(DockerClientImpl.getInstance(config, http), endpoint);
        } catch (RuntimeException unusable) {
            throw new DockerUnreachableException("cannot use Docker endpoint " + endpoint + ": "
                    + describe(unusable), unusable);
        }
    }

    static void requireApiVersion(EngineVersion engine, DockerEndpoint endpoint) {
        RemoteApiVersion ours = RemoteApiVersion.parseConfig(API_VERSION);
        RemoteApiVersion max = RemoteApiVersion.parseConfig(engine.apiVersion());
        String min = engine.minApiVersion() == null ? "1.12" : engine.minApiVersion();
        if (!max.isGreaterOrEqual(ours) || !ours.isGreaterOrEqual(RemoteApiVersion.parseConfig(min))) {
            throw new DockerUnreachableException("Docker " + engine.version() + " at " + endpoint
                    + " speaks API " + min + " to " + engine.apiVersion() + "; idlewatch needs API " + API_VERSION
                    + " (Docker 20.10 or newer)", null);
        }
    }

    @Override
    public EngineVersion version() {
        try {
            Version v = client.versionCmd().exec();
            return new EngineVersion(v.getVersion(), v.getApiVersion(), v.getMinAPIVersion());
        } catch (BadRequestException tooNew) {
            // An engine older than our API version rejects the versioned path itself.
            throw new DockerUnreachableException("Docker at " + endpoint + " refused API " + API_VERSION
                    + " (Docker 20.10 or newer is needed): " + describe(tooNew), tooNew);
        } catch (RuntimeException e) {
            throw translate(e, "cannot reach Docker at " + endpoint);
        }
    }

    @Override
    public List<ContainerSummary> list(Collection<String> labelFilters, Collection<String> states) {
        return call("cannot list containers at " + endpoint, () -> {
            var cmd = client.listContainersCmd().withShowAll(true)
                    // One call with every label: a second withLabelFilter would replace the first.
                    .withLabelFilter(List.copyOf(labelFilters));
            if (!states.isEmpty()) {
                cmd.withStatusFilter(List.copyOf(states));
            }
            return cmd.exec().stream().map(DockerJavaApi::summary).toList();
        });
    }

    private static ContainerSummary summary(Container c) {
        String name = c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0];
        return new ContainerSummary(c.getId(), stripSlash(name), c.getState(), c.getLabels(),
                Instant.ofEpochSecond(c.getCreated() == null ? 0 : c.getCreated()));
    }

    @Override
    public ContainerDetails inspect(String id) {
        return call("cannot inspect container " + id, () -> {
            InspectContainerResponse r = client.inspectContainerCmd(id).withSize(true).exec();
            var state = r.getState();
            return new ContainerDetails(
                    r.getId(),
                    stripSlash(r.getName()),
                    state.getStatus(),
                    r.getConfig() == null ? null : r.getConfig().getLabels(),
                    instant(r.getCreated()).orElse(Instant.EPOCH),
                    instant(state.getStartedAt()),
                    instant(state.getFinishedAt()),
                    state.getExitCodeLong() == null ? 0 : state.getExitCodeLong().intValue(),
                    state.getError(),
                    r.getSizeRw() == null ? 0 : r.getSizeRw(),
                    r.getExecIds());
        });
    }

    @Override
    public void remove(String id, boolean anonymousVolumes) {
        call("cannot remove container " + id, () ->
                client.removeContainerCmd(id).withForce(false).withRemoveVolumes(anonymousVolumes).exec());
    }

    @Override
    public Optional<byte[]> readFile(String id, String path) {
        try {
            return call("cannot read " + path + " from container " + id, () -> {
                try (InputStream archive = client.copyArchiveFromContainerCmd(id, path).exec();
                     TarArchiveInputStream tar = new TarArchiveInputStream(archive)) {
                    TarArchiveEntry entry = tar.getNextEntry();
                    if (entry == null || !entry.isFile()) {
                        return Optional.<byte[]>empty();
                    }
                    return Optional.of(tar.readAllBytes());
                } catch (IOException e) {
                    throw new DockerException("cannot read " + path + " from container " + id + ": " + e.getMessage(), e);
                }
            });
        } catch (DockerException.NotFound absent) {
            return Optional.empty();
        }
    }

    @Override
    public Closeable onContainerDie(Collection<String> labelFilters, Consumer<String> onDie, Consumer<Throwable> onError) {
        return call("cannot follow Docker events at " + endpoint, () -> client.eventsCmd()
                .withEventTypeFilter(EventType.CONTAINER)
                .withEventFilter("die")
                .withLabelFilter(labelFilters.toArray(String[]::new))
                .exec(new ResultCallback.Adapter<Event>() {
                    @Override
                    public void onNext(Event event) {
                        onDie.accept(event.getId());
                    }

                    @Override
                    public void onError(Throwable failure) {
                        onError.accept(failure);
                        super.onError(failure);
                    }
                }));
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException | RuntimeException ignored) {
            // Closing a client whose engine went away must not hide the real error.
        }
    }

    private <T> T call(String what, Supplier<T> action) {
        try {
            return action.get();
        } catch (RuntimeException e) {
            throw translate(e, what);
        }
    }

    private void call(String what, Runnable action) {
        call(what, () -> {
            action.run();
            return null;
        });
    }

    private RuntimeException translate(RuntimeException e, String what) {
        if (e instanceof DockerException || e instanceof DockerUnreachableException) {
            return e;
        }
        if (e instanceof NotFoundException) {
            return new DockerException.NotFound(what + ": " + describe(e), e);
        }
        if (e instanceof ConflictException) {
            return new DockerException.Conflict(what + ": " + describe(e), e);
        }
        if (e instanceof com.github.dockerjava.api.exception.DockerException) {
            return new DockerException(what + ": " + describe(e), e);
        }
        // The transport wraps connection failures (refused, no such socket, timeout) in runtime exceptions.
        return new DockerUnreachableException(what + ": " + describe(e), e);
    }

    /** The innermost message, on one line: what a user can act on. */
    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (e instanceof com.github.dockerjava.api.exception.DockerException api && api.getMessage() != null) {
            // "Status 409: {"message":"You cannot remove a running container ..."}" -> the engine's sentence.
            Matcher engineMessage = ENGINE_MESSAGE.matcher(api.getMessage());
            message = engineMessage.find() ? engineMessage.group(1) : api.getMessage().replaceFirst("^Status \\d+: ", "");
        }
        if (message == null || message.isBlank()) {
            message = root.getClass().getSimpleName();
        }
        return message.replaceAll("\\s+", " ").strip();
    }

    private static Optional<Instant> instant(String text) {
        if (text == null || text.isBlank() || text.startsWith("0001-01-01")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(text));
        } catch (DateTimeParseException unreadable) {
            return Optional.empty();
        }
    }

    private static String stripSlash(String name) {
        return name != null && name.startsWith("/") ? name.substring(1) : name;
    }
}
