package io.idlewatch.agent.posix;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls the agent makes, bound with JNA's direct mapping (no proxy
 * objects per call, cheaper than interface mapping). Sizes and constants are
 * those of Linux/glibc on 64-bit targets; the agent runs nowhere else.
 */
public final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    // Opaque glibc object sizes (x86_64 and aarch64), rounded up.
    public static final int SIZEOF_SIGSET = 128;
    public static final int SIZEOF_SPAWNATTR = 384;
    public static final int SIZEOF_FILE_ACTIONS = 128;
    public static final int SIZEOF_SIGNALFD_SIGINFO = 128;

    public static final short POSIX_SPAWN_SETPGROUP = 0x02;
    public static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    public static final short POSIX_SPAWN_SETSIGMASK = 0x08;

    public static final int SIG_BLOCK = 0;
    public static final int SIG_UNBLOCK = 1;
    public static final int SIG_SETMASK = 2;

    public static final int WNOHANG = 1;
    public static final int SFD_CLOEXEC = 02000000;
    public static final int SFD_NONBLOCK = 04000;
    public static final int EFD_CLOEXEC = 02000000;
    public static final int EFD_NONBLOCK = 04000;
    public static final short POLLIN = 0x001;

    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int FD_CLOEXEC = 1;

    public static final int PR_SET_CHILD_SUBREAPER = 36;
    public static final int PR_SET_PDEATHSIG = 1;

    public static final int EINTR = 4;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int ENOENT = 2;
    public static final int EACCES = 13;
    public static final int ESRCH = 3;
    public static final int ENOEXEC = 8;

    public static native int posix_spawnp(int[] pid, String file, Pointer fileActions, Pointer attr,
                                          Pointer argv, Pointer envp);

    public static native int posix_spawnattr_init(Pointer attr);

    public static native int posix_spawnattr_destroy(Pointer attr);

    public static native int posix_spawnattr_setflags(Pointer attr, short flags);

    public static native int posix_spawnattr_setsigmask(Pointer attr, Pointer sigmask);

    public static native int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigdefault);

    public static native int posix_spawnattr_setpgroup(Pointer attr, int pgroup);

    public static native int posix_spawn_file_actions_init(Pointer actions);

    public static native int posix_spawn_file_actions_destroy(Pointer actions);

    public static native int sigemptyset(Pointer set);

    public static native int sigfillset(Pointer set);

    public static native int sigaddset(Pointer set, int signo);

    public static native int sigdelset(Pointer set, int signo);

    public static native int sigismember(Pointer set, int signo);

    public static native int pthread_sigmask(int how, Pointer set, Pointer oldset);

    public static native int signalfd(int fd, Pointer mask, int flags);

    public static native int eventfd(int initval, int flags);

    public static native long read(int fd, Pointer buf, long count);

    public static native long write(int fd, Pointer buf, long count);

    public static native int poll(Pointer fds, long nfds, int timeoutMillis);

    public static native int close(int fd);

    public static native int fcntl(int fd, int cmd, int arg);

    public static native int waitpid(int pid, int[] status, int options);

    public static native int kill(int pid, int sig);

    public static native int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    public static native int getpid();

    public static native int getpgid(int pid);

    public static native int isatty(int fd);

    public static native int tcgetpgrp(int fd);

    public static native int tcsetpgrp(int fd, int pgrp);

    public static native String strerror(int errnum);

    /** errno of the last call on this thread, as JNA preserved it. */
    public static int errno() {
        return Native.getLastError();
    }

    /** {@code "<call> failed: <reason>"}, the way tini words OS failures. */
    public static String failed(String call, int errno) {
        return call + " failed: " + strerror(errno);
    }
}
