/*
 * /opt/idlewatch/bin/idlewatch: starts the agent's JVM without a shell.
 *
 * The workspace image may have no /bin/sh, so jlink's script launcher won't do.
 * This program also does the one thing the JVM cannot do for itself: block every
 * signal before any JVM thread exists. Every thread inherits that mask, and with
 * -Xrs HotSpot leaves it alone for the signals we forward, so a SIGTERM sent to the
 * container stays pending until the agent reads it from a signalfd and forwards it.
 * HotSpot's suspend/resume signal moves from SIGUSR2 to SIGTTIN (_JAVA_SR_SIGNUM),
 * a signal tini doesn't forward either, so SIGUSR2 reaches the workload.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_JVM_ARGS 40

static char home[PATH_MAX];

static const char *in_home(const char *prefix, const char *rest) {
    static char bufs[8][PATH_MAX + 64];
    static int next;
    char *out = bufs[next++ % 8];
    snprintf(out, sizeof bufs[0], "%s%s%s", prefix, home, rest);
    return out;
}

/* home = the directory above bin/, found from /proc/self/exe. */
static void find_home(void) {
    ssize_t n = readlink("/proc/self/exe", home, sizeof home - 1);
    if (n <= 0) {
        strcpy(home, "/opt/idlewatch");
        return;
    }
    home[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(home, '/');
        if (slash == NULL || slash == home) {
            strcpy(home, "/opt/idlewatch");
            return;
        }
        *slash = '\0';
    }
}

/* Subcommands that only talk to the running agent: leave their signals alone (Ctrl-C works). */
static int is_client_command(const char *arg) {
    return arg != NULL && (strcmp(arg, "status") == 0 || strcmp(arg, "touch") == 0
                           || strcmp(arg, "timeout") == 0 || strcmp(arg, "stop") == 0
                           || strcmp(arg, "--version") == 0);
}

/* Descriptors above 2 we were started with: the agent passes them on to the workload
   (as tini does) and keeps every descriptor the JVM opens to itself. */
static void list_inherited_fds(void) {
    char list[1024] = "";
    size_t used = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(dir) && used + 16 < sizeof list) {
            used += (size_t) snprintf(list + used, sizeof list - used, "%s%d", used ? "," : "", fd);
        }
    }
    closedir(dir);
    setenv("IDLEWATCH_INHERITED_FDS", list, 1);
}

int main(int argc, char **argv) {
    find_home();
    list_inherited_fds();

    if (!is_client_command(argc > 1 ? argv[1] : NULL)) {
        sigset_t all;
        sigfillset(&all);
        if (sigprocmask(SIG_SETMASK, &all, NULL) != 0) {
            fprintf(stderr, "idlewatch: sigprocmask failed: %s\n", strerror(errno));
            return 1;
        }
    }
    setenv("_JAVA_SR_SIGNUM", "21", 1); /* SIGTTIN */

    const char *java = in_home("", "/runtime/bin/java");
    const char *jvm[MAX_JVM_ARGS];
    int n = 0;
    jvm[n++] = java;
    jvm[n++] = "-Xrs";                       /* the JVM installs no TERM/INT/HUP/QUIT handlers */
    jvm[n++] = "-XX:+UseSerialGC";           /* no GC threads */
    jvm[n++] = "-Xms4m";
    jvm[n++] = "-Xmx24m";
    /* Hand the heap back after a burst (a sensor's tables shrink after one): keep at most 30%
       of a generation free after a full collection, and shrink in one step, not four. */
    jvm[n++] = "-XX:MaxHeapFreeRatio=30";
    jvm[n++] = "-XX:MinHeapFreeRatio=10";
    jvm[n++] = "-XX:-ShrinkHeapInSteps";
    jvm[n++] = "-Xss256k";
    jvm[n++] = "-XX:TieredStopAtLevel=1";    /* C1 only: less code cache, fewer compiler threads */
    jvm[n++] = "-XX:CICompilerCount=1";
    jvm[n++] = "-XX:ReservedCodeCacheSize=8m";
    jvm[n++] = "-XX:StringTableSize=1009";      /* the agent interns few strings: 500 KB less anonymous */
    jvm[n++] = "-XX:+UnlockExperimentalVMOptions";
    jvm[n++] = "-XX:SymbolTableSize=4096";      /* most symbols are in the CDS archive's table: 200 KB less */
    jvm[n++] = "-XX:TrimNativeHeapInterval=5000"; /* give freed malloc memory back every 5 s: 1 MB less */
    jvm[n++] = "-XX:MaxMetaspaceSize=32m";
    jvm[n++] = "-XX:-UsePerfData";           /* no /tmp/hsperfdata: works with --read-only */
    jvm[n++] = "-XX:+DisableAttachMechanism";
    /* Map the CDS archive where it was dumped instead of relocating it (the default here),
       which would dirty every page of it: about 5 MB less anonymous memory. */
    jvm[n++] = "-XX:+UnlockDiagnosticVMOptions";
    jvm[n++] = "-XX:ArchiveRelocationMode=0";
    jvm[n++] = "-Xlog:disable";
    jvm[n++] = "-Xlog:all=error:stderr";
    /* Image build only: list the classes a training run loads, for the CDS archive. */
    const char *classlist = getenv("IDLEWATCH_CDS_CLASSLIST");
    static char dump_flag[PATH_MAX + 32];
    if (classlist != NULL && classlist[0] != '\0') {
        snprintf(dump_flag, sizeof dump_flag, "-XX:DumpLoadedClassList=%s", classlist);
        jvm[n++] = dump_flag;
    } else if (access(in_home("", "/lib/agent.jsa"), R_OK) == 0) {
        jvm[n++] = in_home("-XX:SharedArchiveFile=", "/lib/agent.jsa");
    }
    jvm[n++] = in_home("-Djna.boot.library.path=", "/lib");
    jvm[n++] = "-Djna.nosys=true";
    jvm[n++] = "-Djna.nounpack=true";
    jvm[n++] = "-Djna.noclasspath=true";
    jvm[n++] = in_home("-Didlewatch.home=", "");
    static char classpath[2 * PATH_MAX + 64];
    snprintf(classpath, sizeof classpath, "%s/lib/idlewatch-agent.jar:%s/lib/jna.jar", home, home);
    jvm[n++] = "-cp";
    jvm[n++] = classpath;
    jvm[n++] = "io.idlewatch.agent.Main";

    char **args = calloc((size_t) (n + argc), sizeof(char *));
    if (args == NULL) {
        fprintf(stderr, "idlewatch: calloc failed: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        args[i] = (char *) jvm[i];
    }
    for (int i = 1; i < argc; i++) {
        args[n + i - 1] = argv[i];
    }
    args[n + argc - 1] = NULL;

    execv(java, args);
    fprintf(stderr, "idlewatch: exec %s failed: %s\n", java, strerror(errno));
    return 126;
}
