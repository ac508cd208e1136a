package io.idlewatch.agent.signal;

/**
 * One source of evidence that someone or something is using the workspace.
 * Implementations are sampled from the agent's single loop thread, once per
 * poll, and keep whatever state they need between samples (last counters,
 * last seen times) themselves.
 *
 * <p>A sample that throws is a sensor failure: the idle loop counts it as
 * activity and reports the signal as degraded, so a broken sensor can never
 * stop a workspace. Implementations therefore throw rather than guess.
 */
public interface ActivitySignal {

    /** The signal's name as in SPEC §3 and {@code IDLEWATCH_SIGNALS}: cpu, exec, tty, http or opencode. */
    String name();

    /**
     * Takes one sample.
     *
     * @param monotonicNanos the loop's monotonic clock now (never wall time)
     * @return whether the signal fired since the previous sample, with a short detail
     * @throws Exception when the sensor cannot be read
     */
    Reading sample(long monotonicNanos) throws Exception;

    /**
     * The outcome of one sample: fired or not, a short human detail like "cpu 37% of a core", and
     * when the activity happened: {@code atNanos} on the loop's clock, or -1 for "at this sample".
     */
    record Reading(boolean fired, String detail, long atNanos) {
        public Reading(boolean fired, String detail) {
            this(fired, detail, -1);
        }

        public static Reading fired(String detail) {
            return new Reading(true, detail);
        }

        /** Activity this sample confirmed that happened by an earlier sample's time. */
        public static Reading firedAt(String detail, long atNanos) {
            return new Reading(true, detail, atNanos);
        }

        public static Reading quiet(String detail) {
            return new Reading(false, detail);
        }
    }
}
