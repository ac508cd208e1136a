package io.idlewatch.agent.posix;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * The libc the agent still binds with JNA (direct mapping): error texts for the calls the http
 * signal makes through JNA. Spawning, reaping and signals are the init's ({@code bin/idlewatch}).
 */
public final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    public static native String strerror(int errnum);

    /** {@code "<call> failed: <reason>"}, the way tini words OS failures. */
    public static String failed(String call, int errno) {
        return call + " failed: " + strerror(errno);
    }
}
