package io.idlewatch.sweeper.docker;

import com.github.dockerjava.api.model.Version;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where the engines differ, and the one place that turns what an engine says into Docker's
 * vocabulary: everything above {@link DockerApi} sees Docker's states, event and errors only.
 *
 * <p>Podman's Docker-compatible API (checked against Debian's podman 4.3) differs in these ways:
 * <ul>
 *   <li>states: {@code configured} and {@code initialized} where Docker says {@code created};
 *       {@code stopping} for a container Docker still calls {@code running}; {@code stopped} for a
 *       container whose process has exited but whose cleanup has not run yet. The cleanup is what
 *       applies a restart policy, so under a policy {@code stopped} is Docker's {@code restarting}
 *       (seen on every restart of an {@code --restart always} container) and otherwise it is
 *       {@code exited} (newer Podman says {@code exited} there itself, podman #28359). Podman has
 *       no {@code restarting} or {@code dead} at all;</li>
 *   <li>a status filter naming a state Podman lacks ({@code dead}, {@code restarting}) fails the
 *       whole list with 500, so Podman gets no status filter and the states are chosen here;</li>
 *   <li>events: the stream reports {@code die}, but its filter only matches Podman's own name
 *       {@code died} (podman #10168); the stream may end on its own (about 90 s, podman #21685,
 *       #8751) and may drop events, which the watcher's periodic sweep covers;</li>
 *   <li>removing a running container without force is a 500 "container state improper", where
 *       Docker answers 409 Conflict;</li>
 *   <li>an inspect that meets another client's removal half-way may be a 500 "… does not exist in
 *       database: no such container", where Docker answers 404.</li>
 * </ul>
 */
public enum EngineDialect {
    DOCKER,
    PODMAN;

    /** Both names: Docker ignores one it never emits, Podman's filter needs its own. */
    static final List<String> DIE_EVENT_FILTER = List.of("die", "died");
    private static final Set<String> DIE_ACTIONS = Set.copyOf(DIE_EVENT_FILTER);
    /** Podman's reason for refusing an action in the container's current state (its 409, sent as 500). */
    private static final String PODMAN_STATE_REFUSAL = "container state improper";
    /** Podman's cause for a container that is not (or no longer) in its database, whatever the status code. */
    private static final String PODMAN_GONE = "no such container";

    /** Podman names itself among the version's components; Docker names "Engine". */
    static EngineDialect of(Version version) {
        if (version.getComponents() != null) {
            for (var component : version.getComponents()) {
                if (component.getName() != null && component.getName().toLowerCase(Locale.ROOT).contains("podman")) {
                    return PODMAN;
                }
            }
        }
        return DOCKER;
    }

    /**
     * Docker's name for a state the engine reported. {@code restartPolicy} is the container's
     * policy name ({@code no}, {@code always}, {@code on-failure}, {@code unless-stopped}) when
     * known, else {@code null}: the list does not carry it, so a listed {@code stopped} reads as
     * {@code exited} and the fresh inspect that precedes any removal decides.
     */
    public static String state(String reported, String restartPolicy) {
        if (reported == null) {
            return "unknown";
        }
        String state = reported.toLowerCase(Locale.ROOT);
        return switch (state) {
            case "configured", "initialized" -> "created";
            case "stopping" -> "running";
            case "stopped" -> mayRestart(restartPolicy) ? "restarting" : "exited";
            default -> state;
        };
    }

    private static boolean mayRestart(String restartPolicy) {
        return restartPolicy != null && !restartPolicy.isBlank() && !restartPolicy.equals("no");
    }

    /** The status filter to send: Docker's as asked; none for Podman (see the class comment). */
    List<String> statusFilter(Collection<String> states) {
        return this == PODMAN ? List.of() : List.copyOf(states);
    }

    /** True when the event's action is a container's death, in either engine's word. */
    static boolean isDie(String action) {
        return action != null && DIE_ACTIONS.contains(action);
    }

    /**
     * True when an engine's 500 is really "that container is gone", Docker's 404: Podman answers an
     * inspect that met another client's removal half-way with a 500 whose cause is its own
     * {@code no such container} (the container was listed, then left the database).
     */
    static boolean isGone(String engineMessage) {
        return engineMessage != null && engineMessage.contains(PODMAN_GONE);
    }

    /** True when an engine's 500 is really Podman's "not in this state" refusal, Docker's 409. */
    static boolean isStateRefusal(String engineMessage) {
        return engineMessage != null && engineMessage.contains(PODMAN_STATE_REFUSAL);
    }
}
