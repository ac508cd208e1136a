package io.idlewatch.agent.init;

import com.sun.jna.Memory;
import io.idlewatch.agent.posix.LibC;
import io.idlewatch.agent.posix.Signals;

import java.util.Arrays;

/**
 * Every signal the agent handles, read synchronously from a signalfd, plus an eventfd
 * other threads use to wake the supervisor.
 *
 * <p>This only works because the launcher blocks every signal before it starts the JVM
 * and the JVM runs with {@code -Xrs}: all JVM threads inherit the full mask, so a signal
 * sent to the agent stays pending for the process and the signalfd reads it. HotSpot
 * keeps for itself SIGSEGV, SIGBUS, SIGFPE, SIGILL and its suspend/resume signal, which
 * the launcher moves from SIGUSR2 to SIGTTIN (see {@link #FORWARDED}).
 */
public final class SignalChannel implements AutoCloseable {
    /**
     * What the agent forwards to the workload: what tini forwards, that is everything but
     * the synchronous fault signals, SIGCHLD (ours), SIGKILL/SIGSTOP (uncatchable) and the
     * terminal's SIGTTIN/SIGTTOU. glibc keeps 32 and 33.
     */
    public static final int[] FORWARDED = forwarded();

    private final int signalFd;
    private final int wakeFd;
    private final Memory pollFds = new Memory(16);
    private final Memory info = new Memory((long) LibC.SIZEOF_SIGNALFD_SIGINFO * 16);
    private final Memory eight = new Memory(8);

    private SignalChannel(int signalFd, int wakeFd) {
        this.signalFd = signalFd;
        this.wakeFd = wakeFd;
    }

    public static SignalChannel open() throws InitException {
        Memory mask = new Memory(LibC.SIZEOF_SIGSET);
        LibC.sigemptyset(mask);
        for (int sig : FORWARDED) {
            LibC.sigaddset(mask, sig);
        }
        LibC.sigaddset(mask, Signals.SIGCHLD);
        // Also block them on this thread; the launcher already did for the whole process.
        LibC.pthread_sigmask(LibC.SIG_BLOCK, mask, null);
        int sfd = LibC.signalfd(-1, mask, LibC.SFD_CLOEXEC | LibC.SFD_NONBLOCK);
        if (sfd < 0) {
            throw new InitException(LibC.failed("signalfd", LibC.errno()));
        }
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (efd < 0) {
            throw new InitException(LibC.failed("eventfd", LibC.errno()));
        }
        return new SignalChannel(sfd, efd);
    }

    /**
     * Waits up to {@code timeoutMillis} for signals or a wake-up.
     *
     * @return the signals received, in order (may be empty)
     */
    public int[] await(int timeoutMillis) {
        pollFds.setInt(0, signalFd);
        pollFds.setShort(4, LibC.POLLIN);
        pollFds.setShort(6, (short) 0);
        pollFds.setInt(8, wakeFd);
        pollFds.setShort(12, LibC.POLLIN);
        pollFds.setShort(14, (short) 0);
        int n = LibC.poll(pollFds, 2, timeoutMillis);
        if (n <= 0) {
            return new int[0];
        }
        if (pollFds.getShort(14) != 0) {
            LibC.read(wakeFd, eight, 8);
        }
        if (pollFds.getShort(6) == 0) {
            return new int[0];
        }
        long got = LibC.read(signalFd, info, info.size());
        if (got <= 0) {
            return new int[0];
        }
        int count = (int) (got / LibC.SIZEOF_SIGNALFD_SIGINFO);
        int[] signals = new int[count];
        for (int i = 0; i < count; i++) {
            signals[i] = info.getInt((long) i * LibC.SIZEOF_SIGNALFD_SIGINFO); // ssi_signo
        }
        return signals;
    }

    /** Makes a pending or the next {@link #await} return now. Safe from any thread. */
    public void wake() {
        Memory one = new Memory(8);
        one.setLong(0, 1L);
        LibC.write(wakeFd, one, 8);
    }

    @Override
    public void close() {
        LibC.close(signalFd);
        LibC.close(wakeFd);
    }

    private static int[] forwarded() {
        int[] out = new int[64];
        int n = 0;
        for (int sig = 1; sig <= Signals.SIGRTMAX; sig++) {
            switch (sig) {
                case Signals.SIGKILL, Signals.SIGSTOP, Signals.SIGCHLD,
                     Signals.SIGILL, Signals.SIGSEGV, Signals.SIGBUS, Signals.SIGFPE,
                     Signals.SIGTRAP, Signals.SIGABRT, Signals.SIGSYS,
                     Signals.SIGTTIN, Signals.SIGTTOU, 32, 33 -> {
                }
                default -> out[n++] = sig;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
