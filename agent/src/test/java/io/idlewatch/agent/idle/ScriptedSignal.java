package io.idlewatch.agent.idle;

import io.idlewatch.agent.signal.ActivitySignal;

/** A signal whose next samples the test decides: fire once, keep failing, or stay quiet. */
final class ScriptedSignal implements ActivitySignal {
    private final String name;
    boolean fireNext;
    /** With fireNext: the activity happened this long before the sample (a confirmed, earlier one). */
    long firedNanosAgo;
    /** Thrown by every sample while set (an Error too: the loop must survive linkage errors). */
    Throwable failure;
    int samples;

    ScriptedSignal(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Reading sample(long monotonicNanos) {
        samples++;
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (fireNext) {
            fireNext = false;
            return firedNanosAgo > 0 ? Reading.firedAt(name + " fired", monotonicNanos - firedNanosAgo)
                    : Reading.fired(name + " fired");
        }
        return Reading.quiet(name + " quiet");
    }
}
