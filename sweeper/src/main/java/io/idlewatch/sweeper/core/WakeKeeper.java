package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Durations;
import io.idlewatch.contract.Labels;
import io.idlewatch.contract.WakeNote;
import io.idlewatch.sweeper.docker.ContainerSummary;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.NetworkView;
import io.idlewatch.sweeper.docker.PortBinding;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code idlewatch watch --wake}: holds the published host ports of every workspace a connection
 * may wake ({@link WakePolicy}), and on the first connection to one starts the container and passes
 * each waiting connection through once the container's port answers.
 *
 * <p>The engine binds a published port itself when it starts the container, so the ports are let go
 * just before the start: every connection already queued is accepted first (it waits with the
 * others), then the listeners close and the engine takes the ports; from then on connections go
 * straight to the workspace. A connection waits at most the wake timeout from its arrival, then is
 * closed and the reason logged; it is never refused while the ports are held. One wake per
 * workspace at a time: a workspace being woken is not held again until it has stopped for
 * idleness again. A wake whose start failed leaves the workspace alone for {@link #RETRY_AFTER_FAILURE},
 * so a client retrying in a loop cannot turn into a loop of failing starts.
 *
 * <p>The port answers when the server behind it takes a request of the watcher's own, not when it
 * merely accepts: a server may listen before it handles what it accepts (opencode 1.18 accepts and
 * reads for a second or more of its start, longer on a busy host, and never answers those requests),
 * so a client's connection passed on at the first accept would wait for a reply that never comes.
 * The watcher's probe is an HTTP {@code HEAD /} on a connection of its own, and the server has
 * answered when it replies anything or reads the probe and closes; a server that speaks first (SSH)
 * answers with its greeting. Only then are the waiting connections passed through, each on a
 * connection of its own, so a client's bytes go to the server once, never replayed.
 *
 * <p>Waiting connections reach the container on its own network address (the engine's bridge, as
 * its proxy does), so the watcher must run on the engine's host.
 */
public final class WakeKeeper implements Closeable {

    /** How often the stopped workspaces are listed again, beside every sweep (which follows die events). */
    public static final Duration REFRESH = Duration.ofSeconds(10);
    /** The default longest wait of a connection for its workspace to answer. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** How long a workspace whose wake failed is left alone (connections are refused meanwhile, as without a watcher). */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(1);
    /**
     * Connections held per workspace during a wake; more are closed at once. Each costs a thread and
     * a descriptor until the workspace answers, and a flood must not cost the watcher its own.
     */
    static final int MAX_WAITING = 256;
    /** The listen backlog: a burst of clients queues here while the first one starts the wake. */
    static final int BACKLOG = 256;
    /** Between two attempts to reach the starting workspace's port. */
    static final Duration ANSWER_POLL = Duration.ofMillis(100);
    /** One attempt to connect to the workspace's port. */
    static final int CONNECT_MILLIS = 1000;
    /**
     * How long one probe waits for the server's reply before it tries again on a fresh connection. A
     * started server answers {@code HEAD /} in milliseconds; one that has not attached its handler yet
     * never answers that connection, so waiting longer on it gains nothing.
     */
    static final Duration PROBE_REPLY = Duration.ofSeconds(2);
    /**
     * A port that accepts yet lets every probe go unanswered this long is a server that waits for its
     * own protocol's first words and ignores HTTP: its connections are passed through as they are.
     * Far above the time a starting opencode accepts without answering: a second on an idle host,
     * six and a half on two cores under a load average of 15.
     */
    static final Duration SILENT_PASS_AFTER = Duration.ofSeconds(30);

    /** Where the keeper reports; called from its own threads. */
    public interface Listener {
        /** One line for the log: held, released, woken, a connection given up. */
        void onLine(String line);

        /** A wake started the workspace ({@code ok}), or could not ({@code !ok}: start failed, port never answered). */
        void onWake(String workspace, boolean ok);
    }

    private final DockerApi docker;
    private final LabelSelector selector;
    private final Duration timeout;
    private final Clock clock;
    private final Listener listener;
    private final Selector acceptor;
    private final ConcurrentLinkedQueue<Runnable> acceptorTasks = new ConcurrentLinkedQueue<>();
    private final ExecutorService workers = Executors.newCachedThreadPool(daemon("idlewatch-wake"));
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(daemon("idlewatch-wake-refresh"));
    private final Thread acceptThread;
    private volatile boolean closed;

    // Guarded by this:
    private final Map<String, Held> held = new HashMap<>();
    private final Map<String, Instant> coolingDown = new HashMap<>();
    /** Bind failures already logged, by container and address: a port someone else has is said once. */
    private final Set<String> saidCannotHold = new HashSet<>();
    /** Why a labelled stopped workspace is not held, said once per container and reason. */
    private final Set<String> saidNotHolding = new HashSet<>();

    public WakeKeeper(DockerApi docker, LabelSelector selector, Duration timeout, Clock clock, Listener listener) {
        this.docker = docker;
        this.selector = selector;
        this.timeout = timeout;
        this.clock = clock;
        this.listener = listener;
        try {
            this.acceptor = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector: " + e.getMessage(), e);
        }
        acceptThread = daemon("idlewatch-wake-accept").newThread(this::acceptLoop);
    }

    /** Starts listening and the periodic refresh (the first one at once). */
    public void start() {
        acceptThread.start();
        refresher.scheduleWithFixedDelay(this::refreshQuietly, 0, REFRESH.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A container died or a sweep ran: look again soon rather than at the next period. */
    public void refreshSoon() {
        if (!closed) {
            refresher.execute(this::refreshQuietly);
        }
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // The engine not answering is the sweeps' news; the next refresh tries again.
        }
    }

    /** One look: hold the ports of every wakeable workspace not held yet, let go of those no longer wakeable. */
    void refresh() {
        if (closed) {
            return;
        }
        List<String> filters = new ArrayList<>(selector.filters());
        filters.add(Labels.WAKE);
        List<ContainerSummary> stopped = docker.list(filters, List.of("exited")).stream()
                .filter(c -> selector.matches(c.labels()) && WakePolicy.labelled(c.labels()))
                .toList();
        Set<String> stillThere = new HashSet<>();
        for (ContainerSummary c : stopped) {
            stillThere.add(c.id());
            synchronized (this) {
                if (held.containsKey(c.id())) {
                    continue;
                }
                Instant until = coolingDown.get(c.id());
                if (until != null && clock.instant().isBefore(until)) {
                    continue;
                }
                coolingDown.remove(c.id());
            }
            try {
                considerHolding(c);
            } catch (RuntimeException e) {
                // One container's trouble (gone meanwhile, unreadable record) is that container's.
            }
        }
        List<Held> gone = new ArrayList<>();
        synchronized (this) {
            for (Held h : held.values()) {
                if (!h.waking.get() && !stillThere.contains(h.id)) {
                    gone.add(h);
                }
            }
            gone.forEach(h -> held.remove(h.id));
            coolingDown.keySet().retainAll(stillThere);
            saidNotHolding.removeIf(k -> !stillThere.contains(k.substring(0, k.indexOf(' '))));
        }
        for (Held h : gone) {
            onAcceptor(() -> closeListeners(h)).join();
            listener.onLine("released " + portList(h) + " of " + h.display + ": no longer stopped for idleness (started or removed)");
        }
    }

    private void considerHolding(ContainerSummary c) {
        NetworkView view = docker.network(c.id());
        Optional<WakePolicy.Found> record = WakePolicy.readRecord(docker, c.id());
        WakePolicy.Verdict verdict = WakePolicy.judge(c.labels(), view.state(), record.map(WakePolicy.Found::state),
                view.bindings());
        if (!verdict.wakeable()) {
            String line = "not holding " + display(c) + ": " + verdict.why().get();
            boolean first;
            synchronized (this) {
                first = saidNotHolding.add(c.id() + " " + line);
            }
            if (first) {
                listener.onLine(line);
            }
            return;
        }
        Held h = new Held(c.id(), display(c), record.get().dir());
        List<PortBinding> unbound = new ArrayList<>();
        for (PortBinding binding : verdict.ports()) {
            try {
                ServerSocketChannel channel = ServerSocketChannel.open();
                channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                channel.bind(listenAddress(binding), BACKLOG);
                channel.configureBlocking(false);
                h.listeners.put(channel, binding);
            } catch (IOException | RuntimeException e) {
                unbound.add(binding);
                String key = c.id() + " " + binding.hostAddress();
                boolean first;
                synchronized (this) {
                    first = saidCannotHold.add(key);
                }
                if (first) {
                    listener.onLine("cannot hold " + binding.hostAddress() + " for " + h.display + ": "
                            + e.getMessage() + "; trying again at the next look");
                }
            }
        }
        if (!unbound.isEmpty() || h.listeners.isEmpty()) {
            // All or nothing: a workspace half held would be woken on one port and refused on another.
            h.listeners.keySet().forEach(WakeKeeper::closeQuietly);
            return;
        }
        synchronized (this) {
            if (closed || held.containsKey(c.id())) {
                h.listeners.keySet().forEach(WakeKeeper::closeQuietly);
                return;
            }
            held.put(c.id(), h);
            saidCannotHold.removeIf(k -> k.startsWith(c.id() + " "));
        }
        onAcceptor(() -> {
            for (ServerSocketChannel channel : h.listeners.keySet()) {
                try {
                    channel.register(acceptor, SelectionKey.OP_ACCEPT, h);
                } catch (IOException e) {
                    closeQuietly(channel);
                }
            }
        }).join();
        listener.onLine("holding " + portList(h) + " for " + h.display + " (stopped idle): a connection wakes it");
    }

    private static SocketAddress listenAddress(PortBinding binding) throws IOException {
        String ip = binding.hostIp();
        if (ip.isEmpty() || ip.equals("0.0.0.0") || ip.equals("::")) {
            return new InetSocketAddress(binding.hostPort()); // every address, v4 and v6, as the engine does
        }
        return new InetSocketAddress(InetAddress.getByName(ip), binding.hostPort());
    }

    /** A held workspace: its listeners while held, the connections waiting once woken. */
    private static final class Held {
        final String id;
        final String display;
        final String stateDir;
        final Map<ServerSocketChannel, PortBinding> listeners = new HashMap<>();
        final AtomicBoolean waking = new AtomicBoolean();
        /** Guarded by itself; null once handed to the wake (no more are added after the listeners closed). */
        final List<Waiting> waiting = new ArrayList<>();

        Held(String id, String display, String stateDir) {
            this.id = id;
            this.display = display;
            this.stateDir = stateDir;
        }
    }

    private record Waiting(SocketChannel client, PortBinding binding, long deadlineNanos, String from) {
    }

    // ---- the accept thread: owns every listener ----

    private void acceptLoop() {
        while (!closed) {
            try {
                acceptor.select(1000);
            } catch (IOException | RuntimeException e) {
                continue;
            }
            for (Runnable task; (task = acceptorTasks.poll()) != null; ) {
                task.run();
            }
            for (var it = acceptor.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                if (key.isValid() && key.isAcceptable()) {
                    acceptAll((ServerSocketChannel) key.channel(), (Held) key.attachment());
                }
            }
        }
    }

    /** Accepts every connection queued on the listener; the first one of a held workspace starts its wake. */
    private void acceptAll(ServerSocketChannel channel, Held h) {
        PortBinding binding = h.listeners.get(channel);
        while (true) {
            SocketChannel client;
            try {
                client = channel.accept();
            } catch (IOException e) {
                return;
            }
            if (client == null) {
                return;
            }
            String from = address(client);
            synchronized (h.waiting) {
                if (h.waiting.size() >= MAX_WAITING) {
                    closeQuietly(client);
                    continue;
                }
                h.waiting.add(new Waiting(client, binding, System.nanoTime() + timeout.toNanos(), from));
            }
            if (h.waking.compareAndSet(false, true)) {
                String via = binding.hostAddress() + "/tcp";
                workers.execute(() -> wake(h, via, from));
            }
        }
    }

    /** Runs {@code task} on the accept thread; the future completes when it has run. */
    private CompletableFuture<Void> onAcceptor(Runnable task) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        acceptorTasks.add(() -> {
            try {
                task.run();
            } finally {
                done.complete(null);
            }
        });
        acceptor.wakeup();
        if (closed || !acceptThread.isAlive()) {
            // Nobody will run it: run it here (closing, or before start in tests).
            Runnable r;
            while ((r = acceptorTasks.poll()) != null) {
                r.run();
            }
        }
        return done;
    }

    /** On the accept thread: take what is queued, then let the ports go. */
    private void closeListeners(Held h) {
        for (ServerSocketChannel channel : h.listeners.keySet()) {
            if (channel.isOpen()) {
                acceptAll(channel, h);
            }
            SelectionKey key = channel.keyFor(acceptor);
            if (key != null) {
                key.cancel();
            }
            closeQuietly(channel);
        }
        try {
            acceptor.selectNow(); // completes the cancellations, so the ports are free now
        } catch (IOException ignored) {
            // the channels are closed; the kernel frees the ports with them
        }
    }

    // ---- a wake, on a worker ----

    private void wake(Held h, String via, String from) {
        String ws = h.display;
        String why = null;
        NetworkView view = null;
        try {
            view = docker.network(h.id);
            Optional<WakePolicy.Found> record = WakePolicy.readRecord(docker, h.id);
            if (!"exited".equals(view.state())
                    || record.flatMap(f -> f.state().stop()).flatMap(AgentState.Stop::reason).filter("idle"::equals).isEmpty()) {
                why = "it is no longer stopped for idleness (" + view.state() + ")";
            }
        } catch (RuntimeException e) {
            why = "cannot look at it: " + e.getMessage();
        }
        if (why == null) {
            try {
                docker.putFile(h.id, h.stateDir, WakeNote.FILE_NAME, WakeNote.format(clock.instant(), via, from));
            } catch (RuntimeException e) {
                listener.onLine("waking " + ws + " without a note for its agent (" + e.getMessage() + ")");
            }
        }
        // Whatever happens next, the ports go back: to the engine, or to nobody.
        onAcceptor(() -> closeListeners(h)).join();
        List<Waiting> waiting;
        synchronized (h.waiting) {
            waiting = List.copyOf(h.waiting);
            h.waiting.clear();
        }
        if (why == null) {
            try {
                docker.start(h.id);
            } catch (RuntimeException e) {
                why = "the engine did not start it: " + e.getMessage();
            }
        }
        if (why != null) {
            fail(h, "cannot wake " + ws + " for " + from + " on " + via + ": " + why + "; closing " + waiting.size()
                    + " waiting connection(s)", waiting);
            return;
        }
        listener.onLine("woke " + ws + " for " + from + " on " + via + "; " + waiting.size()
                + " connection(s) wait for it to answer");
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger givenUp = new AtomicInteger();
        List<String> addresses = awaitAddresses(h.id, waiting);
        long lastDeadline = waiting.stream().mapToLong(Waiting::deadlineNanos).max().orElse(System.nanoTime());
        // One probe per container port, however many connections wait on it.
        Map<Integer, CompletableFuture<Optional<InetSocketAddress>>> answering = new HashMap<>();
        for (Waiting w : waiting) {
            answering.computeIfAbsent(w.binding.containerPort(), port -> CompletableFuture.supplyAsync(
                    () -> awaitAnswer(addresses, port, lastDeadline), workers));
        }
        for (int i = 0; i < waiting.size(); i++) {
            Waiting w = waiting.get(i);
            CompletableFuture<Optional<InetSocketAddress>> ready = answering.get(w.binding.containerPort());
            CompletableFuture.runAsync(() -> {
                Socket upstream = whenAnswered(ready, w).map(target -> connect(target, w)).orElse(null);
                if (upstream == null) {
                    givenUp.incrementAndGet();
                    closeQuietly(w.client);
                } else {
                    answered.incrementAndGet();
                    pipe(w.client, upstream);
                }
            }, workers);
        }
        // Only the wait for the first answer is ours to account for; the pipes run on.
        workers.execute(() -> {
            long deadline = waiting.stream().mapToLong(Waiting::deadlineNanos).max().orElse(System.nanoTime());
            while (answered.get() + givenUp.get() < waiting.size() && System.nanoTime() - deadline < 0) {
                sleep(ANSWER_POLL);
            }
            synchronized (this) {
                held.remove(h.id, h);
            }
            if (givenUp.get() > 0) {
                listener.onLine("closed " + givenUp.get() + " connection(s) to " + ws + ": its port did not answer within "
                        + Durations.formatShort(timeout) + " (wake timeout)");
                listener.onWake(ws, false);
            } else {
                listener.onWake(ws, true);
            }
        });
    }

    private void fail(Held h, String line, List<Waiting> waiting) {
        waiting.forEach(w -> closeQuietly(w.client));
        synchronized (this) {
            held.remove(h.id, h);
            coolingDown.put(h.id, clock.instant().plus(RETRY_AFTER_FAILURE));
        }
        listener.onLine(line);
        listener.onWake(h.display, false);
    }

    /** The started container's network addresses, looked up until it has one or the waits run out. */
    private List<String> awaitAddresses(String id, List<Waiting> waiting) {
        long deadline = waiting.stream().mapToLong(Waiting::deadlineNanos).max().orElse(System.nanoTime());
        while (true) {
            try {
                NetworkView view = docker.network(id);
                if (!view.addresses().isEmpty() || !"running".equals(view.state()) && !"created".equals(view.state())) {
                    return view.addresses();
                }
            } catch (RuntimeException e) {
                // a busy engine: ask again
            }
            if (System.nanoTime() - deadline >= 0 || closed) {
                return List.of();
            }
            sleep(ANSWER_POLL);
        }
    }

    /** The server's address once it answers, waited for no longer than this connection's deadline. */
    private static Optional<InetSocketAddress> whenAnswered(CompletableFuture<Optional<InetSocketAddress>> ready, Waiting w) {
        try {
            return ready.get(Math.max(0, w.deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** What one probe found at the container's port. */
    enum Probe {
        /** Replied, or read the probe and closed: the server's own code handles connections. */
        ANSWERED,
        /** Accepted, then said nothing within {@link #PROBE_REPLY}. */
        SILENT,
        /** Refused, reset, unreachable: nothing serves the port yet. */
        NOT_LISTENING
    }

    /**
     * Probes the started container's port until its server answers, on the first of its addresses
     * that does; empty at the deadline or when the keeper closes.
     */
    private Optional<InetSocketAddress> awaitAnswer(List<String> addresses, int port, long deadlineNanos) {
        long silentSince = 0;
        boolean silent = false;
        while (!closed && System.nanoTime() - deadlineNanos < 0) {
            boolean silentNow = false;
            for (String address : addresses) {
                InetSocketAddress target = new InetSocketAddress(address, port);
                long probedAt = System.nanoTime();
                Probe found = probe(target, deadlineNanos);
                if (found == Probe.ANSWERED) {
                    return Optional.of(target);
                }
                if (found == Probe.SILENT) {
                    if (!silent) {
                        silent = true;
                        silentSince = probedAt;
                    }
                    if (System.nanoTime() - silentSince >= SILENT_PASS_AFTER.toNanos()) {
                        return Optional.of(target);
                    }
                    silentNow = true;
                }
            }
            silent = silentNow;
            if (!silentNow) {
                sleep(ANSWER_POLL); // a silent probe has already waited
            }
        }
        return Optional.empty();
    }

    /** One probe: connect, send {@code HEAD /}, wait for a byte or the server's close. */
    static Probe probe(InetSocketAddress target, long deadlineNanos) {
        try (Socket socket = new Socket()) {
            socket.connect(target, millisLeft(deadlineNanos, CONNECT_MILLIS));
            try {
                socket.setSoTimeout(millisLeft(deadlineNanos, (int) PROBE_REPLY.toMillis()));
                String host = target.getAddress().getHostAddress();
                String request = "HEAD / HTTP/1.1\r\nHost: " + (host.contains(":") ? "[" + host + "]" : host) + ":"
                        + target.getPort() + "\r\nUser-Agent: idlewatch-wake\r\nConnection: close\r\n\r\n";
                OutputStream out = socket.getOutputStream();
                out.write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
                socket.getInputStream().read(); // a byte, or -1: it read the probe and closed
                return Probe.ANSWERED;
            } catch (java.net.SocketTimeoutException e) {
                return Probe.SILENT;
            }
        } catch (IOException e) {
            return Probe.NOT_LISTENING;
        }
    }

    private static int millisLeft(long deadlineNanos, int atMost) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        return (int) Math.max(1, Math.min(atMost, left));
    }

    /** This connection's own way to the server that answered, tried until its deadline; null then. */
    private Socket connect(InetSocketAddress target, Waiting w) {
        while (!closed && System.nanoTime() - w.deadlineNanos < 0 && w.client.isOpen()) {
            Socket socket = new Socket();
            try {
                socket.connect(target, millisLeft(w.deadlineNanos, CONNECT_MILLIS));
                socket.setTcpNoDelay(true);
                return socket;
            } catch (IOException e) {
                closeQuietly(socket);
            }
            sleep(ANSWER_POLL);
        }
        return null;
    }

    /** Copies both ways until both sides are done; a half-close is passed on as one. */
    private void pipe(SocketChannel client, Socket upstream) {
        try {
            client.configureBlocking(true);
            client.socket().setTcpNoDelay(true);
            Socket down = client.socket();
            AtomicInteger open = new AtomicInteger(2);
            Runnable closeBoth = () -> {
                if (open.decrementAndGet() == 0) {
                    closeQuietly(client);
                    closeQuietly(upstream);
                }
            };
            workers.execute(() -> copy(upstream, down, closeBoth));
            copy(down, upstream, closeBoth);
        } catch (IOException | RuntimeException e) {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static void copy(Socket from, Socket to, Runnable done) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        } finally {
            done.run();
        }
    }

    /** What {@code ps} and the log call a workspace: its label, else its container's name, and the short id. */
    private static String display(ContainerSummary c) {
        String ws = c.labels().get(Labels.WORKSPACE);
        return (ws != null && !ws.isBlank() ? ws : c.name()) + " (" + c.shortId() + ")";
    }

    private static String portList(Held h) {
        return String.join(", ", h.listeners.values().stream().map(PortBinding::hostAddress).sorted().toList());
    }

    private static String address(SocketChannel client) {
        try {
            if (client.getRemoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null) {
                String ip = remote.getAddress().getHostAddress();
                // A v4 client on a dual-stack socket arrives as ::ffff:a.b.c.d: say a.b.c.d, as the engine does.
                if (ip.startsWith("::ffff:") && ip.indexOf('.') > 0) {
                    ip = ip.substring("::ffff:".length());
                }
                return (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + remote.getPort();
            }
        } catch (IOException ignored) {
            // fall through
        }
        return "unknown";
    }

    /** The workspaces held now, by container id, with their ports (for tests and the start verb's message). */
    public synchronized Map<String, List<PortBinding>> heldNow() {
        Map<String, List<PortBinding>> now = new HashMap<>();
        held.forEach((id, h) -> now.put(id, List.copyOf(h.listeners.values())));
        return now;
    }

    @Override
    public void close() {
        List<Held> all;
        synchronized (this) {
            if (closed) {
                return;
            }
            all = List.copyOf(held.values());
            held.clear();
        }
        refresher.shutdownNow();
        for (Held h : all) {
            onAcceptor(() -> {
                for (ServerSocketChannel channel : h.listeners.keySet()) {
                    closeQuietly(channel);
                }
            }).join();
        }
        closed = true;
        acceptor.wakeup();
        try {
            acceptThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(acceptor);
        workers.shutdownNow();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException | RuntimeException ignored) {
            // nothing more to do with it
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
