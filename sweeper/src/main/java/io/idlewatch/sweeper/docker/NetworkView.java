package io.idlewatch.sweeper.docker;

import java.util.List;

/**
 * What a wake needs to know of a container: its state (Docker's name), its configured port bindings,
 * and, once it runs, the addresses it has on its networks (none while it is stopped).
 */
public record NetworkView(String state, List<PortBinding> bindings, List<String> addresses) {

    public NetworkView {
        bindings = bindings == null ? List.of() : List.copyOf(bindings);
        addresses = addresses == null ? List.of() : List.copyOf(addresses);
    }
}
