package io.idlewatch.agent.signal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one contract every activity signal meets (like docker-java's
 * DockerHttpClientTCK): each signal's test extends this and supplies a quiet
 * fixture, a way to make activity happen, and a broken root.
 *
 * <p>Samples are taken {@link #STEP} apart on a made-up monotonic clock, a
 * little over the cpu signal's one-minute window, so averaged signals see
 * each step on its own.
 */
public abstract class ActivitySignalContract {
    protected static final long STEP = TimeUnit.SECONDS.toNanos(61);

    @TempDir
    protected Path tmp;

    /** A signal over a fixture where nothing happens until {@link #makeActivity()}. */
    protected interface Fixture extends AutoCloseable {
        ActivitySignal signal();

        /** Makes the next sample see activity. */
        void makeActivity() throws Exception;

        /** Ends the activity (matters for signals that keep firing while it lasts). */
        default void endActivity() throws Exception {
        }

        @Override
        default void close() throws Exception {
        }
    }

    /** A step of a fixture: change files, answers or sockets. */
    @FunctionalInterface
    protected interface Step {
        void run() throws Exception;
    }

    /** A fixture from its parts; {@code end} may be null when nothing needs ending. */
    protected static Fixture fixture(ActivitySignal signal, Step makeActivity, Step endActivity) {
        return new Fixture() {
            @Override
            public ActivitySignal signal() {
                return signal;
            }

            @Override
            public void makeActivity() throws Exception {
                makeActivity.run();
            }

            @Override
            public void endActivity() throws Exception {
                if (endActivity != null) {
                    endActivity.run();
                }
            }
        };
    }

    /** The SPEC §3 name. */
    protected abstract String expectedName();

    protected abstract Fixture quietFixture(Path dir) throws Exception;

    /** A signal whose root (proc, cgroup, dev, server) is missing or broken. */
    protected abstract ActivitySignal brokenSignal(Path dir) throws Exception;

    /** Whether a broken root throws (degraded); otherwise it is documented as quiet. */
    protected boolean brokenThrows() {
        return true;
    }

    /**
     * Level signals (exec: a process still running; opencode: a session still
     * busy) fire on every sample while the activity lasts; edge signals fire
     * once per change.
     */
    protected boolean firesWhileActivityLasts() {
        return false;
    }

    @Test
    void nameIsTheSpecName() throws Exception {
        try (Fixture f = quietFixture(tmp)) {
            assertEquals(expectedName(), f.signal().name());
        }
    }

    @Test
    void quietFixtureDoesNotFire() throws Exception {
        try (Fixture f = quietFixture(tmp)) {
            ActivitySignal.Reading first = f.signal().sample(STEP);
            ActivitySignal.Reading second = f.signal().sample(2 * STEP);
            assertFalse(first.fired(), first.detail());
            assertFalse(second.fired(), second.detail());
            assertTrue(second.detail().startsWith(expectedName()), second.detail());
        }
    }

    @Test
    void activityFires() throws Exception {
        try (Fixture f = quietFixture(tmp)) {
            f.signal().sample(STEP);
            f.makeActivity();
            ActivitySignal.Reading r = f.signal().sample(2 * STEP);
            assertTrue(r.fired(), r.detail());
            assertTrue(r.detail().startsWith(expectedName() + " "), r.detail());
            assertFalse(r.detail().contains("\n"), r.detail());
        }
    }

    @Test
    void samplingAgainWithoutChangeDoesNotFireAgain() throws Exception {
        try (Fixture f = quietFixture(tmp)) {
            f.signal().sample(STEP);
            f.makeActivity();
            assertTrue(f.signal().sample(2 * STEP).fired());
            ActivitySignal.Reading again = f.signal().sample(3 * STEP);
            if (firesWhileActivityLasts()) {
                assertTrue(again.fired(), "a level signal keeps firing while the activity lasts: " + again.detail());
                f.endActivity();
                again = f.signal().sample(4 * STEP);
            }
            assertFalse(again.fired(), again.detail());
        }
    }

    @Test
    void brokenRootIsASensorFailure() throws Exception {
        ActivitySignal broken = brokenSignal(tmp);
        if (brokenThrows()) {
            assertThrows(Exception.class, () -> {
                broken.sample(STEP);
                broken.sample(2 * STEP);
            });
        } else {
            assertFalse(broken.sample(STEP).fired());
        }
    }
}
