package io.idlewatch.agent.control;

import io.idlewatch.contract.Durations;
import io.idlewatch.agent.idle.IdleTracker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * What {@code idlewatch status} prints:
 *
 * <pre>
 * idle: 23m / 30m (stops in 7m)
 * lifetime left: 3h12m
 * last activity: cpu 23m ago
 * cpu: 23m ago
 * exec: never
 * tty: off
 * http: degraded (connect refused)
 * opencode: never
 * degraded sensors: http (they count as activity)
 * holds: none
 * </pre>
 */
final class StatusText {
    private StatusText() {
    }

    /** @param holds one description per inhibit hold the socket knows of */
    static String render(IdleTracker.Status s, Collection<String> holds) {
        StringBuilder b = new StringBuilder(512);
        if (!s.state().equals("running")) {
            b.append("state: ").append(s.state());
            if (s.stop() != null) {
                b.append(" (").append(s.stop().reason()).append(": ").append(s.stop().detail()).append(')');
            }
            b.append('\n');
        }
        b.append("idle: ").append(Durations.formatSeconds(s.idleMillis())).append(" / ");
        if (s.timeout() == null) {
            b.append("off (never stops for idleness)");
        } else {
            long left = Math.max(0, s.timeout().toMillis() - s.idleMillis());
            b.append(Durations.format(s.timeout())).append(" (stops in ").append(Durations.formatSeconds(left))
                    .append(holds.isEmpty() ? ")" : " once the holds end)");
        }
        b.append('\n');
        b.append("lifetime left: ");
        if (s.maxLifetime() == null) {
            b.append("no limit");
        } else {
            b.append(Durations.formatSeconds(s.lifetimeLeftMillis())).append(" of ")
                    .append(Durations.format(s.maxLifetime()));
        }
        b.append('\n');
        b.append("last activity: ");
        if (s.lastActivityEpochMillis() < 0) {
            b.append("none since the start ").append(ago(s.nowEpochMillis() - s.startedEpochMillis()));
        } else {
            b.append(s.lastActivitySignal()).append(' ').append(ago(s.nowEpochMillis() - s.lastActivityEpochMillis()));
        }
        b.append('\n');
        List<String> degraded = new ArrayList<>();
        for (IdleTracker.SignalStatus sig : s.signals()) {
            b.append(sig.name()).append(": ");
            if (!sig.enabled()) {
                b.append("off");
            } else if (sig.degraded()) {
                degraded.add(sig.name());
                b.append("degraded");
                if (sig.degradedSinceEpochMillis() >= 0) {
                    long forMillis = Math.max(0, s.nowEpochMillis() - sig.degradedSinceEpochMillis());
                    b.append(" for ").append(Durations.formatSeconds(forMillis));
                    if (s.timeout() != null && forMillis > s.timeout().toMillis()) {
                        b.append(", longer than the timeout");
                    }
                }
                b.append(" (").append(stripDegraded(sig.detail())).append(')');
            } else if (sig.detail() != null && sig.detail().contains(" but unchanged for ")) {
                b.append(sig.detail().replace('\n', ' ')); // a busy state that stopped counting
            } else if (sig.lastFiredEpochMillis() < 0) {
                b.append("never");
            } else {
                b.append(ago(s.nowEpochMillis() - sig.lastFiredEpochMillis()));
                if (sig.lastFiredDetail() != null) {
                    b.append(" (").append(sig.lastFiredDetail().replace('\n', ' ')).append(')');
                }
            }
            b.append('\n');
        }
        if (!degraded.isEmpty()) {
            b.append("degraded sensors: ").append(String.join(", ", degraded)).append(" (they count as activity)\n");
        }
        b.append("holds: ");
        if (holds.isEmpty()) {
            b.append("none\n");
        } else {
            b.append(holds.size()).append('\n');
            holds.forEach(h -> b.append("  ").append(h).append('\n'));
        }
        return b.toString();
    }

    private static String ago(long millis) {
        return Durations.formatSeconds(Math.max(0, millis)) + " ago";
    }

    private static String stripDegraded(String detail) {
        return detail != null && detail.startsWith("degraded: ") ? detail.substring(10) : String.valueOf(detail);
    }

    /** For messages: "1h", or "off". */
    static String duration(Duration d) {
        return d == null ? "off" : Durations.format(d);
    }
}
