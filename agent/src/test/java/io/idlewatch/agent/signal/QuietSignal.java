package io.idlewatch.agent.signal;

/** A cpu signal that never fires ("cpu 0%"): for tests about something else than the signals. */
public final class QuietSignal implements ActivitySignal {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Reading sample(long now) {
        return Reading.quiet("cpu 0%");
    }
}
