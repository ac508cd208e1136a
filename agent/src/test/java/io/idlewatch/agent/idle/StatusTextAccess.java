package io.idlewatch.agent.idle;

import io.idlewatch.agent.control.ControlService;

import java.util.List;

/** {@code idlewatch status}'s text for a tracker's status, as the control socket renders it. */
final class StatusTextAccess {
    private StatusTextAccess() {
    }

    static String render(IdleTracker.Status s) {
        return ControlService.statusText(s, List.of());
    }
}
