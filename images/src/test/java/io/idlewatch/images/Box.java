package io.idlewatch.images;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.ExecCreateCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import org.testcontainers.DockerClientFactory;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One real container on the real engine, through the Docker client Testcontainers
 * configures (Ryuk off: every Box removes its container on close).
 */
final class Box implements AutoCloseable {
    /** The tag images/build.sh gave the images: IDLEWATCH_IMAGE_TAG, default latest. */
    static final String TAG = imageTag();
    static final String AGENT_TEST_IMAGE = "localhost/idlewatch/test-workload:" + TAG;
    static final String NOSHELL_IMAGE = "localhost/idlewatch/test-noshell:" + TAG;
    static final String SOCAT_IMAGE = "localhost/idlewatch/test-socat:" + TAG;
    static final String WORKSPACE_IMAGE = "localhost/idlewatch/workspace:" + TAG;
    static final String RUN_LABEL = "io.idlewatch.test.run";
    static final String RUN_ID = UUID.randomUUID().toString();

    static String imageTag() {
        String tag = System.getenv("IDLEWATCH_IMAGE_TAG");
        return tag == null || tag.isBlank() ? "latest" : tag;
    }

    static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    /** What `docker run` would be told. */
    static final class Spec {
        final String image;
        List<String> cmd = List.of();
        List<String> entrypoint;
        String user;
        boolean capDropAll;
        boolean readOnly;
        boolean init;
        boolean tty;
        boolean stdinOpen;
        Map<String, String> env = new HashMap<>();
        Map<String, String> tmpfs = new HashMap<>();
        Map<String, String> labels = new HashMap<>();
        Integer publish;
        Long pidsLimit;
        List<String> healthcheck;
        long healthIntervalNanos;
        String cgroupns;
        String cgroupParent;
        String network;
        List<String> binds = new ArrayList<>();

        Spec(String image) {
            this.image = image;
        }

        Spec cmd(String... c) { this.cmd = List.of(c); return this; }
        Spec entrypoint(String... e) { this.entrypoint = List.of(e); return this; }
        Spec user(String u) { this.user = u; return this; }
        Spec capDropAll() { this.capDropAll = true; return this; }
        Spec readOnly() { this.readOnly = true; return this; }
        Spec init() { this.init = true; return this; }
        Spec tty() { this.tty = true; this.stdinOpen = true; return this; }
        Spec env(String k, String v) { this.env.put(k, v); return this; }
        Spec tmpfs(String path) { this.tmpfs.put(path, "rw,exec,mode=1777"); return this; }
        Spec label(String k, String v) { this.labels.put(k, v); return this; }
        Spec publish(int port) { this.publish = port; return this; }
        Spec pidsLimit(long limit) { this.pidsLimit = limit; return this; }
        /** `--cgroupns=private|host`. */
        Spec cgroupns(String mode) { this.cgroupns = mode; return this; }
        /** `--network host|none|container:ID`. */
        Spec network(String mode) { this.network = mode; return this; }
        /** `--cgroup-parent`. */
        Spec cgroupParent(String parent) { this.cgroupParent = parent; return this; }
        /** `-v host:container:ro`. */
        Spec bindReadOnly(String hostPath, String containerPath) {
            this.binds.add(hostPath + ":" + containerPath + ":ro");
            return this;
        }
        /** HEALTHCHECK CMD, every {@code interval}. */
        Spec healthcheck(Duration interval, String... cmd) {
            this.healthcheck = List.of(cmd);
            this.healthIntervalNanos = interval.toNanos();
            return this;
        }

        Box start() {
            return Box.start(this);
        }
    }

    final String id;

    private Box(String id) {
        this.id = id;
    }

    static Spec of(String image) {
        return new Spec(image);
    }

    private static Box start(Spec spec) {
        HostConfig host = HostConfig.newHostConfig().withInit(spec.init ? true : null);
        if (spec.capDropAll) {
            host.withCapDrop(Capability.ALL);
        }
        if (spec.readOnly) {
            host.withReadonlyRootfs(true);
        }
        if (spec.pidsLimit != null) {
            host.withPidsLimit(spec.pidsLimit);
        }
        if (!spec.tmpfs.isEmpty()) {
            host.withTmpFs(spec.tmpfs);
        }
        if (spec.cgroupns != null) {
            host.withCgroupnsMode(spec.cgroupns);
        }
        if (spec.network != null) {
            host.withNetworkMode(spec.network);
        }
        if (spec.cgroupParent != null) {
            host.withCgroupParent(spec.cgroupParent);
        }
        if (!spec.binds.isEmpty()) {
            host.withBinds(spec.binds.stream().map(com.github.dockerjava.api.model.Bind::parse).toList());
        }
        Map<String, String> labels = new HashMap<>(spec.labels);
        labels.put(RUN_LABEL, RUN_ID);
        List<String> env = new ArrayList<>();
        spec.env.forEach((k, v) -> env.add(k + "=" + v));
        CreateContainerCmd create = docker().createContainerCmd(spec.image)
                .withLabels(labels)
                .withEnv(env)
                .withTty(spec.tty)
                .withStdinOpen(spec.stdinOpen);
        if (spec.publish != null) {
            ExposedPort port = ExposedPort.tcp(spec.publish);
            Ports bindings = new Ports();
            bindings.bind(port, Ports.Binding.bindIpAndPort("127.0.0.1", 0));
            host.withPortBindings(bindings);
            create.withExposedPorts(port);
        }
        create.withHostConfig(host);
        if (spec.healthcheck != null) {
            List<String> test = new ArrayList<>();
            test.add("CMD");
            test.addAll(spec.healthcheck);
            create.withHealthcheck(new com.github.dockerjava.api.model.HealthCheck().withTest(test)
                    .withInterval(spec.healthIntervalNanos).withTimeout(5_000_000_000L).withRetries(3));
        }
        if (!spec.cmd.isEmpty()) {
            create.withCmd(spec.cmd);
        }
        if (spec.entrypoint != null) {
            create.withEntrypoint(spec.entrypoint);
        }
        if (spec.user != null) {
            create.withUser(spec.user);
        }
        String id = create.exec().getId();
        docker().startContainerCmd(id).exec();
        return new Box(id);
    }

    void kill(String signal) {
        docker().killContainerCmd(id).withSignal(signal).exec();
    }

    /** `docker stop -t seconds`. */
    void stop(int seconds) {
        docker().stopContainerCmd(id).withTimeout(seconds).exec();
    }

    /** Waits for the container to exit and returns its exit code. */
    int awaitExit(Duration timeout) {
        return docker().waitContainerCmd(id).exec(new WaitContainerResultCallback())
                .awaitStatusCode(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean running() {
        return Boolean.TRUE.equals(inspect().getState().getRunning());
    }

    InspectContainerResponse inspect() {
        return docker().inspectContainerCmd(id).exec();
    }

    /** The host port a published container port is bound to. */
    int hostPort(int containerPort) {
        return Integer.parseInt(inspect().getNetworkSettings().getPorts().getBindings()
                .get(ExposedPort.tcp(containerPort))[0].getHostPortSpec());
    }

    String logs() {
        // On a loaded engine a read of the log can stall; a partial log would fail a test for the
        // wrong reason (an empty log "lacks" every line), so it is read again, whole, or not at all.
        for (int attempt = 1; ; attempt++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            boolean complete;
            try (ResultCallback.Adapter<Frame> read = docker().logContainerCmd(id).withStdOut(true).withStdErr(true)
                    .withFollowStream(false).exec(new ResultCallback.Adapter<Frame>() {
                        @Override
                        public void onNext(Frame frame) {
                            out.writeBytes(frame.getPayload());
                        }
                    })) {
                complete = read.awaitCompletion(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while reading the log of " + id, e);
            } catch (java.io.IOException e) {
                complete = false;
            }
            if (complete) {
                return out.toString();
            }
            if (attempt == 3) {
                throw new AssertionError("the engine did not give the whole log of " + id + " in 3 tries of 30 s");
            }
        }
    }

    /** What a `docker exec` printed (stdout and stderr together) and how it exited. */
    record ExecResult(long exitCode, String output) {
    }

    /** Runs a command with `docker exec` and returns its stdout+stderr. */
    String exec(String... cmd) {
        return execAs(null, cmd).output();
    }

    /** `docker exec [--user user] cmd...`, waited for; user null for the image's. */
    ExecResult execAs(String user, String... cmd) {
        ExecCreateCmd create = docker().execCreateCmd(id).withCmd(cmd).withAttachStdout(true).withAttachStderr(true);
        if (user != null) {
            create.withUser(user);
        }
        String execId = create.exec().getId();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            docker().execStartCmd(execId).exec(new ResultCallback.Adapter<Frame>() {
                @Override
                public void onNext(Frame frame) {
                    out.writeBytes(frame.getPayload());
                }
            }).awaitCompletion(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Long code = docker().inspectExecCmd(execId).exec().getExitCodeLong();
        return new ExecResult(code == null ? -1 : code, out.toString());
    }

    @Override
    public void close() {
        try {
            docker().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        } catch (RuntimeException ignored) {
            // already gone
        }
    }

    /** Polls until the condition holds; fails the test with the message when time runs out. */
    static void eventually(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(what + ": interrupted");
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
    }
}
