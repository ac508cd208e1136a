package io.idlewatch.sweeper.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.InternalServerErrorException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.EventType;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.core.RemoteApiVersion;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.transport.SSLConfig;
import io.idlewatch.contract.Durations;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
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
    /**
     * The limit on every engine call but the event stream, so a hung engine cannot hang a cron
     * sweep. Generous on purpose: list, inspect and version answer in milliseconds, but an inspect
     * with sizes walks the container's writable layer and a removal deletes it, which for a large
     * layer on a slow disk takes tens of seconds. A removal that outlasts it is reported as failed;
     * the engine still finishes it, and the next sweep finds the container gone.
     */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);
    /**
     * The limit on reading a state file (about 2 KB, answered at once). Shorter than
     * {@link #CALL_TIMEOUT}: a read that hangs is one container's filesystem (a blocked FUSE mount
     * at {@code /run/idlewatch}), and that row must not hold up {@code ps} for a minute.
     */
    public static final Duration READ_FILE_TIMEOUT = Duration.ofSeconds(15);
    /**
     * What the engine may send beyond the file's content: the tar header (512 bytes, a PAX record or
     * two for long names) and padding. The response is cut off after content + this.
     */
    private static final int ARCHIVE_OVERHEAD_BYTES = 64 * 1024;
    /** The most of an engine's error body we read, to quote its message. */
    private static final int ERROR_BODY_BYTES = 4096;
    private static final Pattern ENGINE_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final DockerClient client;
    private final DockerHttpClient http;
    private final DockerEndpoint endpoint;
    private final Duration callTimeout;
    private final Supplier<DockerClient> eventsClientFactory;
    private DockerClient eventsClient;
    /** Learnt from {@link #version()}, which {@link #connect} calls first. */
    private volatile EngineDialect dialect = EngineDialect.DOCKER;

    private DockerJavaApi(DockerClient client, DockerHttpClient http, DockerEndpoint endpoint, Duration callTimeout,
                          Supplier<DockerClient> eventsClientFactory) {
        this.client = client;
        this.http = http;
        this.endpoint = endpoint;
        this.callTimeout = callTimeout;
        this.eventsClientFactory = eventsClientFactory;
    }

    /** A client for the endpoint, proven to answer and to speak our API version. */
    public static DockerJavaApi connect(DockerEndpoint endpoint, boolean tlsVerify, String certPath) {
        return connect(endpoint, tlsVerify, certPath, CALL_TIMEOUT);
    }

    /** As {@link #connect(DockerEndpoint, boolean, String)}, with another call limit (tests). */
    public static DockerJavaApi connect(DockerEndpoint endpoint, boolean tlsVerify, String certPath, Duration callTimeout) {
        DockerJavaApi api = open(endpoint, tlsVerify, certPath, callTimeout);
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

    private static DockerJavaApi open(DockerEndpoint endpoint, boolean tlsVerify, String certPath, Duration callTimeout) {
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
            SSLConfig ssl = endpoint.url().startsWith("unix:") ? NO_TLS : config.getSSLConfig();
            // Calls: the response timeout is what ends a stalled read on TCP (see Deadline).
            DockerHttpClient http = transport(endpoint, ssl, callTimeout);
            // Events: a quiet hour between two deaths is normal, so no response timeout at all.
            Supplier<DockerClient> events = () -> DockerClientImpl.getInstance(config, transport(endpoint, ssl, null));
            return new DockerJavaApi(DockerClientImpl.getInstance(config, http), http, endpoint, callTimeout, events);
        } catch (RuntimeException unusable) {
            throw new DockerUnreachableException("cannot use Docker endpoint " + endpoint + ": "
                    + describe(unusable), unusable);
        }
    }

    private static DockerHttpClient transport(DockerEndpoint endpoint, SSLConfig ssl, Duration responseTimeout) {
        return new ApacheDockerHttpClient.Builder()
                .dockerHost(URI.create(endpoint.url()))
                .sslConfig(ssl)
                .maxConnections(MAX_CONNECTIONS)
                .connectionTimeout(CONNECT_TIMEOUT)
                .responseTimeout(responseTimeout)
                .build();
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
            return call("cannot reach Docker at " + endpoint, null, callTimeout, () -> {
                Version v = client.versionCmd().exec();
                dialect = EngineDialect.of(v);
                return new EngineVersion(v.getVersion(), v.getApiVersion(), v.getMinAPIVersion());
            });
        } catch (DockerException e) {
            if (e.getCause() instanceof BadRequestException tooNew) {
                // An engine older than our API version rejects the versioned path itself.
                throw new DockerUnreachableException("Docker at " + endpoint + " refused API " + API_VERSION
                        + " (Docker 20.10 or newer is needed): " + describe(tooNew), tooNew);
            }
            throw new DockerUnreachableException(e.getMessage(), e);
        }
    }

    @Override
    public List<ContainerSummary> list(Collection<String> labelFilters, Collection<String> states) {
        return call("cannot list containers at " + endpoint, "listing containers", callTimeout, () -> {
            var cmd = client.listContainersCmd().withShowAll(true)
                    // One call with every label: a second withLabelFilter would replace the first.
                    .withLabelFilter(List.copyOf(labelFilters));
            List<String> statusFilter = dialect.statusFilter(states);
            if (!statusFilter.isEmpty()) {
                cmd.withStatusFilter(statusFilter);
            }
            // The states asked for, chosen again in Docker's names: the engine may not have filtered.
            return cmd.exec().stream().map(DockerJavaApi::summary)
                    .filter(c -> states.isEmpty() || states.contains(c.state()))
                    .toList();
        });
    }

    private static ContainerSummary summary(Container c) {
        String name = c.getNames() == null || c.getNames().length == 0 ? c.getId() : c.getNames()[0];
        return new ContainerSummary(c.getId(), stripSlash(name), EngineDialect.state(c.getState(), null), c.getLabels(),
                Instant.ofEpochSecond(c.getCreated() == null ? 0 : c.getCreated()));
    }

    @Override
    public ContainerDetails inspect(String id) {
        return call("cannot inspect container " + id, "inspecting container " + id, callTimeout, () -> {
            InspectContainerResponse r = client.inspectContainerCmd(id).withSize(true).exec();
            var state = r.getState();
            var restartPolicy = r.getHostConfig() == null || r.getHostConfig().getRestartPolicy() == null
                    ? null : r.getHostConfig().getRestartPolicy().getName();
            return new ContainerDetails(
                    r.getId(),
                    stripSlash(r.getName()),
                    EngineDialect.state(state.getStatus(), restartPolicy),
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
    public NetworkView network(String id) {
        return call("cannot inspect container " + id, "inspecting container " + id, callTimeout, () -> {
            InspectContainerResponse r = client.inspectContainerCmd(id).exec();
            var restartPolicy = r.getHostConfig() == null || r.getHostConfig().getRestartPolicy() == null
                    ? null : r.getHostConfig().getRestartPolicy().getName();
            List<PortBinding> bindings = new java.util.ArrayList<>();
            var ports = r.getHostConfig() == null ? null : r.getHostConfig().getPortBindings();
            if (ports != null && ports.getBindings() != null) {
                ports.getBindings().forEach((exposed, hostBindings) -> {
                    for (var b : hostBindings == null ? new com.github.dockerjava.api.model.Ports.Binding[0] : hostBindings) {
                        bindings.add(new PortBinding(exposed.getPort(), exposed.getProtocol().toString(),
                                b.getHostIp(), hostPort(b.getHostPortSpec())));
                    }
                });
            }
            List<String> addresses = new java.util.ArrayList<>();
            var settings = r.getNetworkSettings();
            if (settings != null && settings.getNetworks() != null) {
                settings.getNetworks().values().forEach(n -> {
                    if (n.getIpAddress() != null && !n.getIpAddress().isBlank()) {
                        addresses.add(n.getIpAddress());
                    }
                });
            }
            return new NetworkView(EngineDialect.state(r.getState().getStatus(), restartPolicy), bindings, addresses);
        });
    }

    /** A fixed host port ({@code "8080"}); 0 for none, a range or anything else the engine may pick from. */
    static int hostPort(String spec) {
        if (spec == null || !spec.matches("\\d{1,5}")) {
            return 0;
        }
        int port = Integer.parseInt(spec);
        return port <= 65535 ? port : 0;
    }

    @Override
    public void start(String id) {
        call("cannot start container " + id, "starting container " + id, callTimeout, () -> {
            client.startContainerCmd(id).exec();
            return null;
        });
    }

    @Override
    public void putFile(String id, String dir, String name, byte[] content) {
        java.io.ByteArrayOutputStream tarBytes = new java.io.ByteArrayOutputStream(1024 + content.length);
        try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(tarBytes)) {
            TarArchiveEntry entry = new TarArchiveEntry(name);
            entry.setSize(content.length);
            entry.setMode(0100644);
            entry.setModTime(System.currentTimeMillis());
            tar.putArchiveEntry(entry);
            tar.write(content);
            tar.closeArchiveEntry();
            tar.finish();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build an archive in memory", e);
        }
        call("cannot put " + dir + "/" + name + " into container " + id, "writing into container " + id, callTimeout, () -> {
            client.copyArchiveToContainerCmd(id).withRemotePath(dir)
                    .withTarInputStream(new java.io.ByteArrayInputStream(tarBytes.toByteArray())).exec();
            return null;
        });
    }

    @Override
    public void remove(String id, boolean anonymousVolumes) {
        call("cannot remove container " + id, "removing container " + id, callTimeout, () -> {
            client.removeContainerCmd(id).withForce(false).withRemoveVolumes(anonymousVolumes).exec();
            return null;
        });
    }

    @Override
    public void rename(String idOrName, String newName) {
        call("cannot rename container " + idOrName + " to " + newName, "renaming container " + idOrName, callTimeout, () -> {
            client.renameContainerCmd(idOrName).withName(newName).exec();
            return null;
        });
    }

    /**
     * {@code GET /containers/{id}/archive} straight on the transport, not through docker-java's
     * command: closing that command's stream first reads the rest of the response to the end (to
     * reuse the connection), which for a hostile 1 GB file means reading 1 GB. Here the response is
     * read only as far as needed, bounded, and then aborted.
     */
    @Override
    public Optional<byte[]> readFile(String id, String path, int maxBytes) {
        String what = "cannot read " + path + " from container " + id;
        Duration limit = READ_FILE_TIMEOUT.compareTo(callTimeout) < 0 ? READ_FILE_TIMEOUT : callTimeout;
        return call(what, "reading " + path + " from container " + id, limit, () -> {
            DockerHttpClient.Request request = DockerHttpClient.Request.builder()
                    .method(DockerHttpClient.Request.Method.GET)
                    .path("/v" + API_VERSION + "/containers/" + encode(id) + "/archive?path=" + encode(path))
                    .build();
            try (DockerHttpClient.Response response = http.execute(request)) {
                // Response.close() aborts the exchange before closing: the rest is never read.
                int status = response.getStatusCode();
                if (status == 404) {
                    return Optional.empty();
                }
                if (status != 200) {
                    byte[] body = response.getBody().readNBytes(ERROR_BODY_BYTES);
                    throw new DockerException(what + ": " + engineMessage(new String(body, StandardCharsets.UTF_8)), null);
                }
                return readOneFile(response.getBody(), maxBytes, what);
            } catch (IOException e) {
                throw new DockerException(what + ": " + describe(e), e);
            }
        });
    }

    @Override
    public Optional<String> linkTarget(String id, String path) {
        if (!endpoint.url().startsWith("unix://")) {
            return Optional.empty(); // TCP endpoints: the archive read (docker-java has no HEAD to send)
        }
        Path socket = Path.of(endpoint.url().substring("unix://".length()));
        Duration limit = READ_FILE_TIMEOUT.compareTo(callTimeout) < 0 ? READ_FILE_TIMEOUT : callTimeout;
        return call("cannot stat " + path + " in container " + id, "stat of " + path + " in container " + id, limit, () -> {
            try {
                return PathStat.linkTarget(socket, API_VERSION, id, path);
            } catch (IOException e) {
                throw new DockerException("cannot stat " + path + " in container " + id + ": " + describe(e), e);
            }
        });
    }

    /** The first entry of a tar stream, if it is a regular file of at most {@code maxBytes}. */
    static Optional<byte[]> readOneFile(InputStream archive, int maxBytes, String what) throws IOException {
        InputStream bounded = new BoundedInputStream(archive, (long) maxBytes + ARCHIVE_OVERHEAD_BYTES);
        // Not closed: closing would read on to the end of the archive.
        TarArchiveInputStream tar = new TarArchiveInputStream(bounded);
        TarArchiveEntry entry;
        try {
            entry = tar.getNextEntry();
        } catch (BoundedInputStream.LimitReached e) {
            throw new DockerException.TooLarge(what + ": archive header larger than " + ARCHIVE_OVERHEAD_BYTES + " bytes", -1);
        }
        if (entry == null || !regularFile(entry)) {
            return Optional.empty();
        }
        if (entry.getSize() > maxBytes) {
            throw new DockerException.TooLarge(what + ": " + entry.getSize() + " bytes, more than the "
                    + maxBytes + " read", entry.getSize());
        }
        byte[] content;
        try {
            // At most one byte past the limit, whatever the header said.
            content = tar.readNBytes(maxBytes + 1);
        } catch (BoundedInputStream.LimitReached e) {
            content = null;
        }
        if (content == null || content.length > maxBytes) {
            throw new DockerException.TooLarge(what + ": more than the " + maxBytes + " bytes read", -1);
        }
        return Optional.of(content);
    }

    /** Commons Compress calls a symlink or a device a "file" too; we want a regular file only. */
    private static boolean regularFile(TarArchiveEntry entry) {
        byte flag = entry.getLinkFlag();
        return (flag == TarArchiveEntry.LF_NORMAL || flag == TarArchiveEntry.LF_OLDNORM) && !entry.isDirectory();
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public Closeable onContainerDie(Collection<String> labelFilters, Consumer<String> onDie, Consumer<Throwable> onError) {
        AtomicBoolean closedHere = new AtomicBoolean();
        ResultCallback.Adapter<Event> stream = call("cannot follow Docker events at " + endpoint, "subscribing to events",
                callTimeout, () -> events().eventsCmd()
                .withEventTypeFilter(EventType.CONTAINER)
                .withEventFilter(EngineDialect.DIE_EVENT_FILTER.toArray(String[]::new))
                .withLabelFilter(labelFilters.toArray(String[]::new))
                .exec(new ResultCallback.Adapter<Event>() {
                    @Override
                    public void onNext(Event event) {
                        if (EngineDialect.isDie(event.getAction() != null ? event.getAction() : event.getStatus())) {
                            onDie.accept(event.getId());
                        }
                    }

                    @Override
                    public void onError(Throwable failure) {
                        if (!closedHere.get()) {
                            onError.accept(failure);
                        }
                        super.onError(failure);
                    }

                    @Override
                    public void onComplete() {
                        // Podman ends an idle stream on its own (about 90 s): that is a break too.
                        if (!closedHere.get()) {
                            onError.accept(new IOException("the engine ended the event stream"));
                        }
                        super.onComplete();
                    }
                }));
        return () -> {
            closedHere.set(true);
            stream.close();
        };
    }

    @Override
    public ExecResult exec(String id, List<String> command, int maxOutputBytes, Duration limit) {
        String what = "cannot run " + command.get(0) + " in container " + id;
        return call(what, "running " + command.get(0) + " in container " + id, limit, () -> {
            String execId = client.execCreateCmd(id)
                    .withCmd(command.toArray(String[]::new))
                    .withAttachStdin(false).withAttachStdout(true).withAttachStderr(true).withTty(false)
                    .exec().getId();
            BoundedBuffer out = new BoundedBuffer(maxOutputBytes);
            BoundedBuffer err = new BoundedBuffer(maxOutputBytes);
            ResultCallback.Adapter<Frame> done = client.execStartCmd(execId).withDetach(false).withTty(false)
                    .exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            (frame.getStreamType() == StreamType.STDERR ? err : out).add(frame.getPayload());
                        }
                    });
            try {
                if (!done.awaitCompletion(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    done.close();
                    throw new DockerUnreachableException("Docker at " + endpoint + ": " + command.get(0)
                            + " in container " + id + " did not finish within " + Durations.formatShort(limit), null);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(new InterruptedIOException("interrupted"));
            } catch (IOException e) {
                throw new DockerException(what + ": " + describe(e), e);
            }
            Long code = client.inspectExecCmd(execId).exec().getExitCodeLong();
            return new ExecResult(code == null ? -1 : code.intValue(), out.bytes(), err.bytes());
        });
    }

    /** Keeps the first {@code max} bytes it is given and counts the rest away. */
    private static final class BoundedBuffer {
        private final java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream();
        private final int max;

        BoundedBuffer(int max) {
            this.max = max;
        }

        synchronized void add(byte[] payload) {
            if (payload == null) {
                return;
            }
            int room = max - kept.size();
            if (room > 0) {
                kept.write(payload, 0, Math.min(room, payload.length));
            }
        }

        synchronized byte[] bytes() {
            return kept.toByteArray();
        }
    }

    /** The event stream's own client, made on first use: only {@code watch} follows events. */
    private synchronized DockerClient events() {
        if (eventsClient == null) {
            eventsClient = eventsClientFactory.get();
        }
        return eventsClient;
    }

    @Override
    public void close() {
        DockerClient events;
        synchronized (this) {
            events = eventsClient;
        }
        for (DockerClient each : events == null ? List.of(client) : List.of(client, events)) {
            try {
                each.close();
            } catch (IOException | RuntimeException ignored) {
                // Closing a client whose engine went away must not hide the real error.
            }
        }
    }

    /**
     * Runs one engine call within {@code limit}. {@code doing} names the call for the timeout
     * message ({@code null}: the engine itself did not answer, as for the version check).
     */
    private <T> T call(String what, String doing, Duration limit, Supplier<T> action) {
        Deadline deadline = new Deadline(limit);
        try {
            return action.get();
        } catch (RuntimeException e) {
            if (deadline.expired() || timedOut(e)) {
                throw new DockerUnreachableException("Docker at " + endpoint + " did not answer within "
                        + Durations.formatShort(limit) + (doing == null ? "" : " (" + doing + ")"), e);
            }
            throw translate(e, what);
        } finally {
            deadline.close();
        }
    }

    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // SocketTimeoutException (TCP's response timeout) is an InterruptedIOException.
            if (t instanceof InterruptedIOException || t instanceof ClosedByInterruptException) {
                return true;
            }
        }
        return false;
    }

    private RuntimeException translate(RuntimeException e, String what) {
        if (e instanceof DockerException || e instanceof DockerUnreachableException) {
            return e;
        }
        if (e instanceof NotFoundException
                || e instanceof InternalServerErrorException && EngineDialect.isGone(describe(e))) {
            return new DockerException.NotFound(what + ": " + describe(e), e);
        }
        if (e instanceof ConflictException
                || e instanceof InternalServerErrorException && EngineDialect.isStateRefusal(describe(e))) {
            return new DockerException.Conflict(what + ": " + describe(e), e);
        }
        if (e instanceof com.github.dockerjava.api.exception.DockerException) {
            return new DockerException(what + ": " + describe(e), e);
        }
        // The transport wraps connection failures (refused, no such socket) in runtime exceptions.
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
            message = engineMessage(api.getMessage());
        }
        if (message == null || message.isBlank()) {
            message = root.getClass().getSimpleName();
        }
        return message.replaceAll("\\s+", " ").strip();
    }

    /** "Status 409: {"message":"You cannot remove a running container ..."}" -> the engine's sentence. */
    static String engineMessage(String body) {
        Matcher engineMessage = ENGINE_MESSAGE.matcher(body);
        String message = engineMessage.find() ? engineMessage.group(1) : body.replaceFirst("^Status \\d+: ", "");
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
