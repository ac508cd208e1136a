package io.idlewatch.agent.init;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import io.idlewatch.agent.posix.CloseOnExec;
import io.idlewatch.agent.posix.LibC;

import java.util.List;
import java.util.Map;

/**
 * Starts a command with posix_spawn, never fork/exec through the JDK: the JDK's
 * process reaper thread would race our waitpid(-1) loop and report stolen exits as 0.
 *
 * <p>The child gets default dispositions for every signal and an empty signal mask
 * (the agent itself runs with everything blocked, see the launcher), its own process
 * group, and the terminal's foreground when the agent holds one, the way tini does.
 */
public final class Spawner {
    private static final Function ADD_TCSETPGRP = lookupOptional("posix_spawn_file_actions_addtcsetpgrp_np");
    private static final Function ADD_CLOSEFROM = lookupOptional("posix_spawn_file_actions_addclosefrom_np");

    private Spawner() {
    }

    /**
     * @param argv     the command and its arguments; argv[0] is looked up in PATH like execvp
     * @param env      the child's whole environment
     * @param newGroup start it in a process group of its own (pgid = its pid)
     * @return the child's pid
     */
    public static int spawn(List<String> argv, Map<String, String> env, boolean newGroup) throws SpawnException {
        Memory attr = new Memory(LibC.SIZEOF_SPAWNATTR);
        Memory actions = new Memory(LibC.SIZEOF_FILE_ACTIONS);
        Memory empty = new Memory(LibC.SIZEOF_SIGSET);
        Memory all = new Memory(LibC.SIZEOF_SIGSET);
        LibC.posix_spawnattr_init(attr);
        LibC.posix_spawn_file_actions_init(actions);
        try {
            LibC.sigemptyset(empty);
            LibC.sigfillset(all);
            short flags = (short) (LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF);
            LibC.posix_spawnattr_setsigmask(attr, empty);
            LibC.posix_spawnattr_setsigdefault(attr, all);
            if (newGroup) {
                flags |= LibC.POSIX_SPAWN_SETPGROUP;
                LibC.posix_spawnattr_setpgroup(attr, 0);
            }
            LibC.posix_spawnattr_setflags(attr, flags);

            // Give the child the terminal's foreground so an interactive shell can read it.
            int ttyFd = newGroup ? foregroundTerminal() : -1;
            boolean inChild = false;
            if (ttyFd >= 0 && ADD_TCSETPGRP != null) {
                inChild = ADD_TCSETPGRP.invokeInt(new Object[] {actions, ttyFd}) == 0;
            }

            String[] envp = new String[env.size()];
            int i = 0;
            for (Map.Entry<String, String> e : env.entrySet()) {
                envp[i++] = e.getKey() + "=" + e.getValue();
            }
            // The JVM's own descriptors (modules file, jars, sockets) stay out of the child:
            // closefrom(3) in the child when we were given nothing above 2 to pass on (glibc
            // 2.34+), else mark every descriptor but the inherited ones close-on-exec.
            boolean closed = CloseOnExec.INHERITED.isEmpty() && ADD_CLOSEFROM != null
                    && ADD_CLOSEFROM.invokeInt(new Object[] {actions, 3}) == 0;
            if (!closed) {
                CloseOnExec.markAllButInherited();
            }
            int[] pid = new int[1];
            int rc = LibC.posix_spawnp(pid, argv.get(0), actions, attr,
                    new StringArray(argv.toArray(new String[0])), new StringArray(envp));
            if (rc != 0) {
                int code = (rc == LibC.ENOENT) ? 127 : 126;
                throw new SpawnException("exec " + argv.get(0) + " failed: " + LibC.strerror(rc), code);
            }
            if (ttyFd >= 0 && !inChild) {
                // Older glibc: hand over the terminal from here (the child may race us; rare).
                LibC.tcsetpgrp(ttyFd, pid[0]);
            }
            return pid[0];
        } finally {
            LibC.posix_spawn_file_actions_destroy(actions);
            LibC.posix_spawnattr_destroy(attr);
        }
    }

    /** Standard input's fd when it is a terminal whose foreground group is ours, else -1. */
    private static int foregroundTerminal() {
        if (LibC.isatty(0) != 1) {
            return -1;
        }
        int fg = LibC.tcgetpgrp(0);
        return (fg > 0 && fg == LibC.getpgid(0)) ? 0 : -1;
    }

    private static Function lookupOptional(String name) {
        try {
            return NativeLibrary.getInstance(Platform.C_LIBRARY_NAME).getFunction(name);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }
}
