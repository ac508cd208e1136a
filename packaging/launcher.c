/*
 * bin/idlewatch of the host packages: starts the CLI on the runtime shipped beside it.
 *
 * A C program rather than a script because the host image has no shell, and one launcher
 * for the tarball, the .deb and the image keeps the three alike. It finds its home from
 * /proc/self/exe (so /usr/bin/idlewatch -> /usr/lib/idlewatch/bin/idlewatch and a tarball
 * unpacked anywhere both work) and execs runtime/bin/java with the flags that make a
 * short-lived CLI start fast; sweeper/bin/idlewatch uses the same flags with the host's JDK.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where the launcher hands the jar to the JVM (see main); high, clear of the descriptors a
   service manager passes (3 onwards). */
#define JAR_FD 200
#define JAR_PATH "/proc/self/fd/200"

/* Flags below, plus IDLEWATCH_JAVA_OPTS words; more than that is a mistake, not a use. */
#define MAX_JVM_ARGS 64

static char home[PATH_MAX];

static char *in_home(const char *prefix, const char *rest) {
    size_t size = strlen(prefix) + strlen(home) + strlen(rest) + 1;
    char *out = malloc(size);
    if (out == NULL) {
        fprintf(stderr, "idlewatch: malloc failed: %s\n", strerror(errno));
        exit(1);
    }
    snprintf(out, size, "%s%s%s", prefix, home, rest);
    return out;
}

/* home = the directory above bin/. */
static int find_home(void) {
    ssize_t n = readlink("/proc/self/exe", home, sizeof home - 1);
    if (n <= 0) {
        fprintf(stderr, "idlewatch: readlink /proc/self/exe failed: %s\n", strerror(errno));
        return -1;
    }
    home[n] = '\0';
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(home, '/');
        if (slash == NULL) {
            fprintf(stderr, "idlewatch: cannot tell the install directory from %s\n", home);
            return -1;
        }
        *slash = '\0';
    }
    return 0;
}

int main(int argc, char **argv) {
    if (find_home() != 0) {
        return 126;
    }
    const char *java = in_home("", "/runtime/bin/java");
    const char *jvm[MAX_JVM_ARGS];
    int n = 0;
    jvm[n++] = java;
    /* Start-up dominates a cron sweep: C1 only (no C2 warm-up to pay for), the serial collector
       (no GC threads), a small heap, no perf-data file (nothing written to /tmp, which the host
       image does not have). A watcher runs the same flags: it does little work. */
    jvm[n++] = "-XX:TieredStopAtLevel=1";
    jvm[n++] = "-XX:+UseSerialGC";
    jvm[n++] = "-Xms16m";
    jvm[n++] = "-Xmx256m";
    jvm[n++] = "-Xss512k";
    jvm[n++] = "-XX:-UsePerfData";
    /* The class-data archive the build dumped for this runtime and this jar; -Xshare:auto runs
       without it (one slower start) if it does not match, e.g. after the jar was replaced. */
    jvm[n++] = "-Xshare:auto";
    jvm[n++] = in_home("-XX:SharedArchiveFile=", "/lib/idlewatch.jsa");
    jvm[n++] = "-Xlog:cds=off";
    jvm[n++] = "-Xlog:cds+dynamic=off";
    /* JNA (docker-java's Unix-socket transport) loads its library from lib/ instead of unpacking
       it to a temporary directory on every start. */
    jvm[n++] = in_home("-Djna.boot.library.path=", "/lib");
    jvm[n++] = "-Djna.nosys=true";
    jvm[n++] = "-Djna.nounpack=true";

    /* IDLEWATCH_JAVA_OPTS: extra JVM flags (e.g. a proxy), split at spaces, no quoting; the last
       flag wins, so they can override the ones above. */
    char *opts = getenv("IDLEWATCH_JAVA_OPTS");
    if (opts != NULL) {
        opts = strdup(opts);
        for (char *word = strtok(opts, " \t\n"); word != NULL; word = strtok(NULL, " \t\n")) {
            if (n >= MAX_JVM_ARGS - 4) {
                fprintf(stderr, "idlewatch: too many words in IDLEWATCH_JAVA_OPTS\n");
                return 2;
            }
            jvm[n++] = word;
        }
    }
    /* The class path is the jar through a descriptor at a fixed number, not the jar's own path:
       a class-data archive records the class path it was dumped with and, in Java 17, refuses any
       other; this path is the same in the build's tree, a tarball unpacked anywhere, the .deb and
       the image, so one archive made at build time serves them all. */
    const char *jar = in_home("", "/lib/idlewatch-sweeper.jar");
    int fd = open(jar, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "idlewatch: open %s failed: %s\n", jar, strerror(errno));
        return 127;
    }
    if (fd != JAR_FD && (dup2(fd, JAR_FD) < 0 || close(fd) != 0)) {
        fprintf(stderr, "idlewatch: dup2 failed: %s\n", strerror(errno));
        return 126;
    }
    jvm[n++] = "-cp";
    jvm[n++] = JAR_PATH;
    jvm[n++] = "io.idlewatch.sweeper.Main";

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
    return errno == ENOENT ? 127 : 126;
}
