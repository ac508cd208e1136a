package io.idlewatch.agent.idle;

import io.idlewatch.agent.config.AgentConfig;
import io.idlewatch.contract.Durations;
import io.idlewatch.agent.signal.ActivitySignal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The idle decision. Each {@link #poll()} samples every enabled signal; a
 * sample is active when any signal fired, any signal failed (a broken sensor
 * counts as activity and is reported degraded), or a hold from
 * {@code idlewatch inhibit} exists. Idle time is the monotonic time since the
 * last active sample (or {@link #touch}, or the start).
 *
 * <p>Thread-safe: the loop thread polls, a control-socket handler may touch,
 * hold or change the timeout. Sensors are sampled outside the tracker's lock
 * (through a {@link SensorRunner}, each on its own thread with a deadline in the
 * agent), so {@code status}, {@code touch} and {@code timeout} never wait for a
 * sensor; the lock is held only to apply the readings and decide.
 */
public final class IdleTracker {

    /** Takes one sample of a sensor; in the agent on the sensor's own thread with a deadline. */
    public interface SensorRunner {
        ActivitySignal.Reading sample(ActivitySignal signal, long monotonicNanos) throws Exception;
    }

    /** {@link Status#lastActivitySignal} when the last activity was the end of a freeze. */
    public static final String RESUME = "resume";

    /** Samples on the calling thread: unit tests with a fake clock. */
    public static final Function<ActivitySignal, SensorRunner> INLINE = s -> (signal, now) -> signal.sample(now);
    /** Each sensor on a thread of its own, waited for at most {@link SensorThread#DEADLINE_MILLIS}. */
    public static final Function<ActivitySignal, SensorRunner> THREADED = SensorThread::new;

    /**
     * A gap from the end of one poll to the start of the next this much longer than the poll
     * interval means the agent did not run: the container was frozen ({@code docker pause}, the
     * cgroup freezer). Measured between polls, so a slow sample (each sensor may take up to its
     * deadline) is never mistaken for one; a busy host delays a sleeping thread by milliseconds,
     * not seconds. A freeze shorter than this goes unnoticed and counts as idle time.
     */
    static final Duration FREEZE_SLACK = Duration.ofSeconds(5);

    /** What the loop should do after a poll. */
    public enum Decision {
        /** Keep going. */
        CONTINUE,
        /** Idle stop is {@code warn_before} away: tell the terminals (once per idle period). */
        WARN,
        /** Idle for the whole timeout: stop. */
        STOP_IDLE,
        /** The lifetime cap is reached, activity or not: stop. */
        STOP_LIFETIME;

        public boolean isStop() {
            return this == STOP_IDLE || this == STOP_LIFETIME;
        }
    }

    /**
     * One signal as shown by {@code idlewatch status} and the state file: {@code detail} is the
     * latest reading, {@code lastFiredDetail} what the signal saw when it last fired (null if never).
     */
    public record SignalStatus(String name, boolean enabled, long lastFiredEpochMillis, boolean degraded,
                               String detail, String lastFiredDetail, long degradedSinceEpochMillis) {
        public SignalStatus(String name, boolean enabled, long lastFiredEpochMillis, boolean degraded,
                            String detail, String lastFiredDetail) {
            this(name, enabled, lastFiredEpochMillis, degraded, detail, lastFiredDetail, -1);
        }
    }

    /**
     * Why and when the agent is stopping; reason is idle, lifetime, manual, workload-exit or signal.
     * {@code frozenMillis}: the stop came right after the container was frozen that long, else -1.
     */
    public record StopInfo(String reason, long atEpochMillis, int exitCode, String detail, long frozenMillis) {
        public StopInfo(String reason, long atEpochMillis, int exitCode, String detail) {
            this(reason, atEpochMillis, exitCode, detail, -1);
        }
    }

    /**
     * A consistent view for the state file and the status command. Times are
     * epoch milliseconds, -1 for none; durations null for off.
     */
    public record Status(String state, long nowEpochMillis, long startedEpochMillis, long idleMillis,
                         Duration timeout, Duration maxLifetime, long lifetimeLeftMillis,
                         long lastActivityEpochMillis, String lastActivitySignal, int holds,
                         List<SignalStatus> signals, StopInfo stop, Duration pollInterval) {
    }

    private static final class SignalState {
        final String name;
        final ActivitySignal signal;
        final SensorRunner runner;
        long lastFiredNanos;
        long lastFiredWall = -1;
        String lastFiredDetail;
        boolean fired;
        boolean degraded;
        /** When the current unbroken run of failures began; whether the log said it outlasted the timeout. */
        long degradedSinceNanos;
        long degradedSinceWall = -1;
        boolean degradedLongSaid;
        String detail;

        SignalState(String name, ActivitySignal signal, Function<ActivitySignal, SensorRunner> runners) {
            this.name = name;
            this.signal = signal;
            this.runner = signal == null ? null : runners.apply(signal);
            this.detail = signal == null ? "disabled" : "not sampled yet";
        }
    }

    private final Clock clock;
    private final List<SignalState> states = new ArrayList<>();
    private final Duration maxTimeout;
    private final Duration maxLifetime;
    private final Duration warnBefore;
    private final int exitCode;
    private final Consumer<String> log;
    private long startNanos;
    private long startWall;
    private final Duration pollInterval;
    /** When the last poll ended (its decision made), for telling a freeze from a poll. */
    private long lastPollEndNanos = Long.MIN_VALUE;
    /** The last freeze: how long, and when the agent ran again (-1: none seen). */
    private long frozenMillis = -1;
    private long frozenEndNanos;
    private final Map<String, String> holds = new LinkedHashMap<>();

    private Duration timeout;
    private long lastActivityNanos;
    private long lastActivityWall = -1;
    private String lastActivitySignal;
    private long lastTouchNanos = -1;
    private String lastTouchReason;
    private boolean warned;
    private Decision stopDecision;
    private StopInfo stop;
    private String state = "running";

    /**
     * @param signals     the enabled signals; the SPEC's five are always listed (disabled ones as such)
     * @param timeout     idle threshold, null = never stop for idleness
     * @param maxTimeout  ceiling for {@link #setTimeout}, null = none
     * @param maxLifetime lifetime cap, null = none
     * @param warnBefore  notice lead time, zero = no notice
     * @param exitCode    recorded in the stop info of idle and lifetime stops
     * @param log         receives one line when a sensor becomes degraded or recovers
     */
    public IdleTracker(List<ActivitySignal> signals, Clock clock, Duration timeout, Duration maxTimeout,
                       Duration maxLifetime, Duration warnBefore, int exitCode, Consumer<String> log) {
        this(signals, clock, timeout, maxTimeout, maxLifetime, warnBefore, exitCode, log, null, INLINE);
    }

    /**
     * @param pollInterval the loop's interval, for telling a freeze from a poll (null: not told)
     * @param runners      how each sensor is sampled ({@link #INLINE} or {@link #THREADED})
     */
    public IdleTracker(List<ActivitySignal> signals, Clock clock, Duration timeout, Duration maxTimeout,
                       Duration maxLifetime, Duration warnBefore, int exitCode, Consumer<String> log,
                       Duration pollInterval, Function<ActivitySignal, SensorRunner> runners) {
        this.clock = clock;
        this.pollInterval = pollInterval;
        this.timeout = timeout;
        this.maxTimeout = maxTimeout;
        this.maxLifetime = maxLifetime;
        this.warnBefore = warnBefore == null ? Duration.ZERO : warnBefore;
        this.exitCode = exitCode;
        this.log = log;
        for (String name : AgentConfig.SIGNAL_NAMES) {
            ActivitySignal match = null;
            for (ActivitySignal s : signals) {
                if (s.name().equals(name)) {
                    match = s;
                }
            }
            states.add(new SignalState(name, match, runners));
        }
        for (ActivitySignal s : signals) {
            if (!AgentConfig.SIGNAL_NAMES.contains(s.name())) {
                states.add(new SignalState(s.name(), s, runners));
            }
        }
        this.startNanos = clock.nanoTime();
        this.startWall = clock.epochMillis();
        this.lastActivityNanos = startNanos;
    }

    /** The tracker for {@code config}; {@code log} gets degraded/recovered lines. */
    public static IdleTracker fromConfig(AgentConfig config, List<ActivitySignal> signals, Clock clock,
                                         Consumer<String> log) {
        return new IdleTracker(signals, clock, config.timeout(), config.maxTimeout(), config.maxLifetime(),
                config.warnBefore(), config.exitCode(), log, config.pollInterval(), THREADED);
    }

    /** One sensor's outcome of a sample: a reading, or the reason it failed. */
    private record Outcome(ActivitySignal.Reading reading, String failure) {
    }

    /**
     * Samples every signal (outside the lock: a slow sensor holds up nobody but this thread) and
     * decides. After a stop was decided or marked, keeps returning the stop without sampling.
     */
    public Decision poll() {
        synchronized (this) {
            if (stopDecision != null || !state.equals("running")) {
                return stopDecision == null ? Decision.CONTINUE : stopDecision;
            }
        }
        long sampledAt = clock.nanoTime();
        Outcome[] outcomes = new Outcome[states.size()];
        for (int i = 0; i < outcomes.length; i++) {
            SignalState s = states.get(i);
            if (s.signal != null) {
                outcomes[i] = sample(s, sampledAt);
            }
        }
        return decide(outcomes, sampledAt);
    }

    private static Outcome sample(SignalState s, long now) {
        try {
            ActivitySignal.Reading r = s.runner.sample(s.signal, now);
            if (r == null) {
                return new Outcome(null, "no reading");
            }
            return new Outcome(r, null);
        } catch (Throwable t) { // an Error in a sensor (OutOfMemoryError included) degrades that sensor only
            String why = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            return new Outcome(null, oneLine(why));
        }
    }

    private static String oneLine(String s) {
        String line = s.replace('\n', ' ').replace('\r', ' ');
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    private synchronized Decision decide(Outcome[] outcomes, long sampledAt) {
        if (stopDecision != null || !state.equals("running")) {
            return stopDecision == null ? Decision.CONTINUE : stopDecision;
        }
        long now = clock.nanoTime();
        long wall = clock.epochMillis();
        boolean active = false;
        long activeAt = Long.MIN_VALUE; // the latest moment of activity this poll found
        if (resumedFromFreeze(sampledAt)) {
            // Whoever unpaused the workspace did so to use it: the end of a freeze is activity.
            active = true;
            activeAt = sampledAt;
            lastActivitySignal = RESUME;
        }
        for (int i = 0; i < outcomes.length; i++) {
            SignalState s = states.get(i);
            if (s.signal == null) {
                continue;
            }
            s.fired = false;
            Outcome o = outcomes[i];
            if (o.failure() == null) {
                ActivitySignal.Reading r = o.reading();
                if (s.degraded) {
                    log.accept("idlewatch: signal " + s.name + " recovered: " + r.detail());
                }
                s.degraded = false;
                s.degradedSinceWall = -1;
                s.degradedLongSaid = false;
                s.detail = r.detail();
                if (r.fired()) {
                    long at = r.atNanos() < 0 ? sampledAt : Math.min(sampledAt, r.atNanos());
                    s.fired = true;
                    s.lastFiredNanos = at;
                    s.lastFiredWall = wall - (now - at) / 1_000_000;
                    s.lastFiredDetail = r.detail();
                    activeAt = Math.max(activeAt, at);
                }
            } else {
                if (!s.degraded) {
                    log.accept("idlewatch: signal " + s.name + " degraded (counts as activity): " + o.failure());
                    s.degradedSinceNanos = sampledAt;
                    s.degradedSinceWall = wall - (now - sampledAt) / 1_000_000;
                } else if (!s.degradedLongSaid && timeout != null && sampledAt - s.degradedSinceNanos > timeout.toNanos()) {
                    s.degradedLongSaid = true;
                    log.accept("idlewatch: signal " + s.name + " degraded without a break for "
                            + Durations.formatSeconds((sampledAt - s.degradedSinceNanos) / 1_000_000)
                            + ", longer than the idle timeout " + Durations.format(timeout)
                            + ": it alone keeps the workspace running (" + o.failure() + ")");
                }
                s.degraded = true;
                s.detail = "degraded: " + o.failure();
                activeAt = Math.max(activeAt, sampledAt);
            }
            if (s.fired || s.degraded) {
                if (!active) {
                    lastActivitySignal = s.name;
                }
                active = true;
            }
        }
        if (!holds.isEmpty()) {
            if (!active) {
                lastActivitySignal = "inhibit";
            }
            active = true;
            activeAt = Math.max(activeAt, sampledAt);
        }
        if (active && activeAt > lastActivityNanos) {
            lastActivityNanos = activeAt;
            lastActivityWall = wall - (now - activeAt) / 1_000_000;
            warned = false;
        }
        lastPollEndNanos = clock.nanoTime();
        long idle = now - lastActivityNanos;
        if (lifetimeReached(now)) {
            return stopping(Decision.STOP_LIFETIME, now, wall);
        }
        if (timeout != null && idle >= timeout.toNanos()) {
            return stopping(Decision.STOP_IDLE, now, wall);
        }
        if (timeout != null && !active && !warned && !warnBefore.isZero()
                && idle >= timeout.toNanos() - warnBefore.toNanos()) {
            warned = true;
            return Decision.WARN;
        }
        return Decision.CONTINUE;
    }

    /**
     * A poll that starts far later than the interval after the last one ended: the agent did not
     * run (the container was frozen). Remembers how long, logs it, and returns true.
     */
    private boolean resumedFromFreeze(long sampledAt) {
        if (pollInterval == null || lastPollEndNanos == Long.MIN_VALUE) {
            return false;
        }
        long gap = sampledAt - lastPollEndNanos;
        if (gap <= pollInterval.toNanos() + FREEZE_SLACK.toNanos()) {
            return false;
        }
        frozenMillis = (gap - pollInterval.toNanos()) / 1_000_000;
        frozenEndNanos = sampledAt;
        log.accept("idlewatch: " + resumedText() + " (the container was frozen, e.g. docker pause);"
                + " counts as activity");
        return true;
    }

    /** {@code resumed after 40s frozen}. */
    private String resumedText() {
        return "resumed after " + Durations.formatSeconds(frozenMillis) + " frozen";
    }

    /** Milliseconds until the lifetime cap is reached (0 when it is), Long.MAX_VALUE without one or once stopping. */
    public synchronized long millisUntilLifetime() {
        if (maxLifetime == null || stop != null) {
            return Long.MAX_VALUE;
        }
        long left = maxLifetime.toNanos() - (clock.nanoTime() - startNanos);
        return left <= 0 ? 0 : (left + 999_999) / 1_000_000;
    }

    private boolean lifetimeReached(long now) {
        return maxLifetime != null && now - startNanos >= maxLifetime.toNanos();
    }

    /**
     * The lifetime cap, checked by the supervisor on its own clock: neither a dead nor a stuck
     * idle loop can keep a capped workspace running. Marks the stop (reason lifetime) and returns
     * it, or null when the cap is not reached or a stop is already under way.
     */
    public synchronized StopInfo stopIfLifetimeReached() {
        long now = clock.nanoTime();
        if (stop != null || !lifetimeReached(now)) {
            return null;
        }
        stopping(Decision.STOP_LIFETIME, now, clock.epochMillis());
        return stop;
    }

    /**
     * {@code idlewatch stop}: marks the stop (reason {@code manual}, the configured exit code) and
     * returns it, or null when a stop is already under way (that one keeps its reason).
     */
    public synchronized StopInfo stopManually(String reason) {
        if (stop != null || !state.equals("running")) {
            return null;
        }
        long now = clock.nanoTime();
        state = "stopping";
        StringBuilder line = new StringBuilder(160).append("manual stop");
        if (reason != null && !reason.isBlank()) {
            line.append(": ").append(reason);
        }
        line.append(" (idle ").append(Durations.formatMeasured(Duration.ofNanos(now - lastActivityNanos)))
                .append("; last activity: ");
        appendLastActivity(line, now);
        stop = new StopInfo("manual", clock.epochMillis(), exitCode, line.append(')').toString());
        return stop;
    }

    /** When the lifetime cap falls due on the tracker's monotonic clock, or -1 for no cap. */
    public long lifetimeDeadlineNanos() {
        return maxLifetime == null ? -1 : startNanos + maxLifetime.toNanos();
    }

    private Decision stopping(Decision d, long now, long wall) {
        stopDecision = d;
        state = "stopping";
        String line = reasonText(d, now);
        long frozen = frozenBefore();
        if (frozen >= 0) {
            line += "; the container had been frozen for " + Durations.formatSeconds(frozen) + " before that";
        }
        stop = new StopInfo(d == Decision.STOP_IDLE ? "idle" : "lifetime", wall, exitCode, line, frozen);
        return d;
    }

    /**
     * The freeze in the run-up to this stop: the one whose end is the last activity (or came after
     * it, as a freeze a lifetime stop follows), else -1. The idle period itself never includes it.
     */
    private long frozenBefore() {
        return frozenMillis >= 0 && frozenEndNanos >= lastActivityNanos ? frozenMillis : -1;
    }

    /** Counts as activity now ({@code idlewatch touch}). */
    public synchronized void touch(String reason) {
        long now = clock.nanoTime();
        lastActivityNanos = now;
        lastActivityWall = clock.epochMillis();
        lastActivitySignal = "touch";
        lastTouchNanos = now;
        lastTouchReason = reason;
        warned = false;
    }

    /** Keeps the workspace active until {@link #release} ({@code idlewatch inhibit}). */
    public synchronized void hold(String id, String reason) {
        holds.put(id, reason == null ? "" : reason);
        touchQuietly();
    }

    public synchronized void release(String id) {
        if (holds.remove(id) != null) {
            touchQuietly(); // idle time starts when the inhibiting command ends
        }
    }

    private void touchQuietly() {
        lastActivityNanos = clock.nanoTime();
        lastActivityWall = clock.epochMillis();
        lastActivitySignal = "inhibit";
        warned = false;
    }

    /**
     * Changes the idle threshold at runtime ({@code idlewatch timeout}).
     *
     * @param newTimeout null or zero = off
     * @throws IllegalArgumentException when above {@code IDLEWATCH_MAX_TIMEOUT} (off included)
     */
    public synchronized void setTimeout(Duration newTimeout) {
        Duration t = newTimeout == null || newTimeout.isZero() ? null : newTimeout;
        if (t != null && t.isNegative()) {
            throw new IllegalArgumentException("timeout " + Durations.format(t) + " is negative; "
                    + Durations.EXAMPLE);
        }
        if (t != null && t.compareTo(Durations.MAX) > 0) {
            throw new IllegalArgumentException("timeout " + Durations.format(t) + " is above the maximum "
                    + Durations.MAX_TEXT + "; " + Durations.EXAMPLE);
        }
        if (maxTimeout != null && (t == null || t.compareTo(maxTimeout) > 0)) {
            throw new IllegalArgumentException("cannot set the timeout to " + (t == null ? "off" : Durations.format(t))
                    + ": IDLEWATCH_MAX_TIMEOUT is " + Durations.format(maxTimeout)
                    + "; use a duration of at most " + Durations.format(maxTimeout));
        }
        timeout = t;
        warned = false;
    }

    /**
     * Parses and applies {@code DURATION|off} as given to {@code idlewatch timeout}.
     *
     * @throws IllegalArgumentException one line naming the value and a good example
     */
    public void setTimeout(String text) {
        String v = text == null ? "" : text.trim();
        if (v.isEmpty() || v.equalsIgnoreCase("off") || v.equals("0")) {
            setTimeout((Duration) null);
            return;
        }
        Duration d;
        try {
            d = Durations.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("timeout \"" + v + "\": " + e.getMessage() + "; "
                    + Durations.EXAMPLE + ", or off");
        }
        setTimeout(d);
    }

    /** The current idle threshold, null for off. */
    public synchronized Duration timeout() {
        return timeout;
    }

    /**
     * The container started before this tracker (a restarted agent): its lifetime counts from then.
     * Idle time still counts from now, so a restart never brings an idle stop closer.
     */
    public synchronized void lifetimeFrom(long nanos, long epochMillis) {
        if (nanos <= clock.nanoTime()) {
            startNanos = nanos;
            startWall = epochMillis;
        }
    }

    /** Records a stop the tracker did not decide (the workload exited, the agent got a signal). */
    public synchronized void markStopping(String reason, int exitCode, String detail) {
        if (stop == null) {
            stop = new StopInfo(reason, clock.epochMillis(), exitCode, detail);
        }
        if (!state.equals("stopped")) {
            state = "stopping";
        }
    }

    /**
     * Records the exit code the agent ends with, once known (a {@code docker stop} whose workload
     * ignored the TERM ends with the KILL's code, not the one guessed when the TERM came).
     */
    public synchronized void markExitCode(int code, String detail) {
        if (stop != null && (stop.exitCode() != code || detail != null)) {
            stop = new StopInfo(stop.reason(), stop.atEpochMillis(), code,
                    detail == null ? stop.detail() : detail, stop.frozenMillis());
        }
    }

    /** The agent is about to exit. */
    public synchronized void markStopped() {
        state = "stopped";
    }

    /**
     * The one line logged when stopping, e.g.
     * {@code idlewatch: stopping: idle 30m0s >= timeout 30m (last activity: cpu 31m ago, exec never, …)}.
     * Null before a stop was decided or marked.
     */
    public synchronized String stopLine() {
        return stop == null ? null : "idlewatch: stopping: " + stop.detail();
    }

    /** The stop decision's record, or null. */
    public synchronized StopInfo stopInfo() {
        return stop;
    }

    private String reasonText(Decision d, long now) {
        StringBuilder b = new StringBuilder(160);
        if (d == Decision.STOP_IDLE) {
            b.append("idle ").append(Durations.formatMeasured(Duration.ofNanos(now - lastActivityNanos)))
                    .append(" >= timeout ").append(Durations.format(timeout));
        } else {
            b.append("lifetime ").append(Durations.formatMeasured(Duration.ofNanos(now - startNanos)))
                    .append(" >= max lifetime ").append(Durations.format(maxLifetime));
        }
        b.append(" (last activity: ");
        appendLastActivity(b, now);
        return b.append(')').toString();
    }

    private void appendLastActivity(StringBuilder b, long now) {
        boolean first = true;
        for (SignalState s : states) {
            b.append(first ? "" : ", ").append(s.name).append(' ');
            first = false;
            if (s.signal == null) {
                b.append("off");
            } else if (s.degraded) {
                b.append("degraded");
            } else if (s.lastFiredWall < 0) {
                b.append("never");
            } else {
                b.append(ago(now - s.lastFiredNanos));
            }
        }
        if (frozenMillis >= 0) {
            b.append(", resume ").append(ago(now - frozenEndNanos)).append(" (").append(resumedText()).append(')');
        }
        if (lastTouchNanos >= 0) { // reasons come cut and cleaned by ControlProtocol.clip, where they enter
            b.append(", touch ").append(ago(now - lastTouchNanos));
            if (lastTouchReason != null && !lastTouchReason.isBlank()) {
                b.append(" (").append(lastTouchReason.replace('\n', ' ')).append(')');
            }
        }
        if (!holds.isEmpty()) {
            b.append(", inhibit ").append(holds.size()).append(holds.size() == 1 ? " hold" : " holds");
        }
    }


    private static String ago(long nanos) {
        return Durations.formatSeconds(nanos / 1_000_000) + " ago";
    }

    /**
     * The notice written to every terminal {@code warn_before} ahead of an idle
     * stop. Lines end in CRLF so raw-mode terminals show them cleanly.
     */
    public synchronized String warningText() {
        long now = clock.nanoTime();
        long idle = now - lastActivityNanos;
        long left = timeout == null ? 0 : Math.max(0, timeout.toNanos() - idle);
        return "\r\nidlewatch: this workspace has been idle for " + Durations.formatSeconds(idle / 1_000_000)
                + " and will stop in " + Durations.formatSeconds(left / 1_000_000)
                + " (timeout " + (timeout == null ? "off" : Durations.format(timeout)) + ").\r\n"
                + "idlewatch: type anything here, or run `idlewatch touch`, to keep it running.\r\n";
    }

    /** Idle time now, in milliseconds. */
    public synchronized long idleMillis() {
        return (clock.nanoTime() - lastActivityNanos) / 1_000_000;
    }

    /** A consistent snapshot for the state file and {@code idlewatch status}. */
    public synchronized Status status() {
        long now = clock.nanoTime();
        long wall = clock.epochMillis();
        List<SignalStatus> list = new ArrayList<>(states.size());
        for (SignalState s : states) {
            list.add(new SignalStatus(s.name, s.signal != null, s.lastFiredWall, s.degraded, s.detail,
                    s.lastFiredDetail, s.degraded ? s.degradedSinceWall : -1));
        }
        long left = maxLifetime == null ? -1 : Math.max(0, (maxLifetime.toNanos() - (now - startNanos)) / 1_000_000);
        return new Status(state, wall, startWall, (now - lastActivityNanos) / 1_000_000, timeout, maxLifetime, left,
                lastActivityWall, lastActivitySignal, holds.size(), Collections.unmodifiableList(list), stop,
                pollInterval);
    }
}
