package io.idlewatch.sweeper.core;

import io.idlewatch.contract.Durations;
import io.idlewatch.contract.StateRecord;
import io.idlewatch.contract.WakeNote;
import io.idlewatch.sweeper.docker.DockerApi;
import io.idlewatch.sweeper.docker.DockerException;
import io.idlewatch.sweeper.docker.NetworkView;
import io.idlewatch.sweeper.docker.PortBinding;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code idlewatch start WS}: the wake from the command line. Leaves the agent a {@link WakeNote}
 * ({@code via start}), starts the container and waits until its agent answers. When a watcher holds
 * the workspace's ports ({@code watch --wake}), the engine cannot bind them and refuses the start;
 * then a connection to one of the held ports asks the watcher to do the wake, and the wait is the same.
 */
public final class WorkspaceStart {

    /** Between two looks at the starting workspace. */
    static final Duration POLL = Duration.ofMillis(250);

    private final DockerApi docker;
    private final WorkspaceAgent agent;
    private final Clock clock;

    public WorkspaceStart(DockerApi docker, Clock clock) {
        this.docker = docker;
        this.agent = new WorkspaceAgent(docker);
        this.clock = clock;
    }

    /** Starts the target unless it runs, then waits for its agent; returns the agent's status line. */
    public String start(WorkspaceAgent.Target target, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        switch (target.state()) {
            case "running" -> {
                // Nothing to start; say so through the wait below.
            }
            case "exited", "created" -> startStopped(target);
            default -> throw new WorkspaceAgent.NoAgent(target.display() + " is " + target.state()
                    + ", not stopped: nothing to start" + ("paused".equals(target.state()) ? " (docker unpause it)" : ""));
        }
        WorkspaceAgent.Target running = new WorkspaceAgent.Target(target.id(), target.name(), target.workspace(), "running");
        String last = "it did not start";
        while (true) {
            try {
                String state = docker.network(target.id()).state();
                if ("running".equals(state)) {
                    return agent.run(running, List.of("status"));
                }
                if ("exited".equals(state) && !"running".equals(target.state())) {
                    last = "it exited again";
                }
            } catch (WorkspaceAgent.NoAgent notYet) {
                last = notYet.getMessage(); // the agent's socket comes up a moment after the container
            } catch (DockerException.NotFound gone) {
                throw new WorkspaceAgent.NoAgent(target.display() + " is gone");
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new WorkspaceAgent.NoAgent(target.display() + ": no agent answered within "
                        + Durations.formatShort(wait) + " (" + last + ")");
            }
            sleep(POLL);
        }
    }

    private void startStopped(WorkspaceAgent.Target target) {
        leaveNote(target.id());
        try {
            docker.start(target.id());
        } catch (DockerException.NotFound gone) {
            throw new WorkspaceAgent.UnknownWorkspace("no workspace or container named " + target.display() + " (removed)");
        } catch (DockerException refused) {
            if (portTaken(refused.getMessage()) && wakeThroughHeldPort(target.id())) {
                return;
            }
            throw new WorkspaceAgent.NoAgent("the engine did not start " + target.display() + ": " + refused.getMessage());
        }
    }

    /** Best effort: a start without a note is a start all the same. */
    private void leaveNote(String id) {
        try {
            String dir = WakePolicy.readRecord(docker, id).map(WakePolicy.Found::dir).orElse(StateRecord.DIR);
            docker.putFile(id, dir, WakeNote.FILE_NAME, WakeNote.format(clock.instant(), WakeNote.VIA_START, null));
        } catch (RuntimeException e) {
            // The record will not say woken; the workspace starts regardless.
        }
    }

    /** Docker: "port is already allocated" / "address already in use"; Podman: "address already in use". */
    static boolean portTaken(String message) {
        return message != null && (message.contains("address already in use") || message.contains("already allocated"));
    }

    /**
     * A watcher holding the ports wakes the workspace on a connection: make one and let it go. True
     * when one of its fixed ports accepted (the watcher then starts it); false when none did.
     */
    private boolean wakeThroughHeldPort(String id) {
        NetworkView view = docker.network(id);
        Optional<PortBinding> fixed = view.bindings().stream().filter(b -> b.protocol().equals("tcp") && b.fixed()).findFirst();
        if (fixed.isEmpty()) {
            return false;
        }
        PortBinding b = fixed.get();
        String host = b.hostIp().isEmpty() || b.hostIp().equals("0.0.0.0") ? "127.0.0.1"
                : b.hostIp().equals("::") ? "::1" : b.hostIp();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, b.hostPort()), 5_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }
}
