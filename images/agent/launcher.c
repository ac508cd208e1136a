/*
 * bin/idlewatch, one program for the workspace image and the host packages.
 *
 * In a workspace image (/opt/idlewatch/lib/idlewatch-agent.jar beside it):
 *   idlewatch [--] CMD [ARGS...]   PID 1: spawns CMD, then the Java agent as its companion
 *   idlewatch status|touch|...     the client of the agent's control socket (see client_main)
 * In the host packages (lib/idlewatch-sweeper.jar beside it): the host CLI's launcher (host_main).
 *
 * The init's duties are tini's: spawn the workload in its own session/process group,
 * forward every catchable signal to that group, reap every zombie, exit with the
 * workload's code or 128+N, TERM then KILL the survivors. The Java agent decides when to
 * stop; it runs as a child of its own, in its own session (no forwarded signal reaches
 * it), and talks to the init over one inherited socket (its standard input) with a tiny
 * line protocol that both sides parse strictly:
 *
 *   init -> agent   hello STARTED_MONO_MS STARTED_EPOCH_MS RESTARTS   first line to every agent
 *                   signal N             a stop signal came: record it, then "ack"
 *                   exited CODE SIG KSIG the workload ended (SIG: the last signal forwarded, KSIG: the one
 *                                        that killed it, 0 for none): "ack"
 *                   done CODE            everything is gone: write the final record, "ack", exit
 *   agent -> init   ready GRACE_MS LIFETIME_MS EXIT_CODE    the configuration is valid (lifetime 0: none)
 *                   stop CODE GRACE_MS   recorded (and pre-stop run): TERM the workload, grace, KILL
 *                   ack                  answers the init's last line
 *
 * The agent may die (any signal, an error, an exit): the init restarts it with backoff,
 * pauses after repeated failures, enforces the lifetime cap itself, and writes the final
 * record when the agent is not there to. Everything is allocated at start-up; the loop
 * waits with sigtimedwait on a blocked mask, and the agent's socket raises SIGIO.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_JVM_ARGS 48
#define MAX_INHERITED 64
/* A protocol line is short; a longer one is a broken or hostile agent. */
#define LINE_MAX_BYTES 128
#define DEFAULT_GRACE_MS 8000
/* The longest duration anyone may write (Durations.MAX): 3650 days. */
#define MAX_DURATION_MS (3650LL * 86400000LL)
/* Survivors of docker stop's grace still get this long to exit. */
#define MIN_SURVIVOR_GRACE_MS 500
/* How long the agent has to answer before the init goes on without it. */
#define ACK_TIMEOUT_MS 2000
/* The agent gets the first word on the lifetime cap (it runs the pre-stop); the init acts this much later. */
#define LIFETIME_BACKSTOP_MS 1000
/* Restart backoff: 100 ms doubling to 1 s; RESTART_LIMIT deaths within RESTART_WINDOW_MS pause restarts. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 1000
#define RESTART_LIMIT 10
#define RESTART_WINDOW_MS 120000
#define RESTART_PAUSE_MS 600000
/* An agent that lived this long had not been failing: its death starts a new count. */
#define AGENT_HEALTHY_MS 60000

static char home[PATH_MAX];

/* ---------------------------------------------------------------- small things */

static void say(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t) n > sizeof line - 2) {
        n = (int) sizeof line - 2;
    }
    line[n++] = '\n';
    ssize_t ignored = write(2, "idlewatch: ", 11);
    ignored = write(2, line, (size_t) n);
    (void) ignored;
}

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t epoch_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static const char *signame(int sig) {
    static char buf[16];
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev != NULL) {
        snprintf(buf, sizeof buf, "SIG%s", abbrev);
    } else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
        snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
    } else {
        snprintf(buf, sizeof buf, "signal %d", sig);
    }
    return buf;
}

/* The shell's convention: the exit code, or 128 + the signal that killed it. */
static int exit_code_of(int status) {
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Every signal back to its default, none blocked: what a spawned program expects. */
static void default_signals(void) {
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            signal(sig, SIG_DFL);
        }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---------------------------------------------------------------- the JVM's command line */

static const char *jvm[MAX_JVM_ARGS];

/* The agent's JVM flags, the class path and the main class; returns the count. */
static int jvm_args(void) {
    int n = 0;
    jvm[n++] = in_home("", "/runtime/bin/java");
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
    /* A JVM that ran out of memory is in no state to decide anything: end it, the init restarts it. */
    jvm[n++] = "-XX:+ExitOnOutOfMemoryError";
    /* A crash (or a SIGSEGV someone sent) leaves no hs_err file or core in anyone's directory. */
    jvm[n++] = "-XX:ErrorFile=/dev/null";
    jvm[n++] = "-XX:-CreateCoredumpOnCrash";
    jvm[n++] = "-XX:+SuppressFatalErrorMessage"; /* and no page of crash report in the workspace's log */
    /* Map the CDS archive where it was dumped instead of relocating it (the default here),
       which would dirty every page of it: about 5 MB less anonymous memory. */
    jvm[n++] = "-XX:+UnlockDiagnosticVMOptions";
    jvm[n++] = "-XX:ArchiveRelocationMode=0";
    /* The VM's own messages (a start-up failure prints "Error occurred during initialization of VM"
       and a Java stack) stay out of the workspace's log: the init says how the agent ended. */
    jvm[n++] = "-XX:-DisplayVMOutput";
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
    return n;
}

/* ---------------------------------------------------------------- the init's state */

enum phase {
    RUNNING,   /* the workload runs */
    STOPPING,  /* a stop was asked for: TERM sent, KILL at kill_at */
    EXITED,    /* the workload is gone: the record, then the survivors */
    SURVIVORS, /* TERM sent to what is left, KILL at kill_at */
    DONE       /* the final record, then exit */
};

static struct {
    int pid1;
    int64_t started_mono, started_epoch;
    char **cmd;

    /* descriptors we were started with: the workload inherits them, the agent does not */
    int inherited[MAX_INHERITED];
    int inherited_count;

    pid_t workload;
    int workload_status;          /* -1 while it runs */
    int last_forwarded;           /* tells "docker stop" from a workload that just ended */
    int gate;                     /* the agent checks the settings before the workload starts */
    int settings_known;           /* the init read the settings itself: grace, lifetime and exit code below */
    int gate_signal;              /* a stop signal that came before the workload started */

    enum phase phase;
    int exit_code;                /* what we exit with */
    int stop_requested;           /* the agent (or the lifetime cap) asked for the stop */
    int64_t kill_at;              /* STOPPING, SURVIVORS: when KILL goes */
    int term_killed;              /* the workload's group got its KILL */
    int64_t term_deadline;        /* docker stop: the workload and the survivors share one grace */
    int64_t held_term_until;      /* a TERM waits for the agent's record until then (0: none held) */

    /* the agent */
    pid_t agent;                  /* 0 when none runs */
    int chan;                     /* our end of its socket, -1 when none */
    char in[LINE_MAX_BYTES + 1];
    size_t in_len;
    int ready;                    /* the current agent said ready */
    int ever_ready;               /* some agent said ready: grace, lifetime and exit code are known */
    /* What the agent has been asked to record and has not acknowledged yet; acks come in this order. */
    int term_pending;             /* signal N */
    int exit_pending;             /* exited CODE SIG KSIG */
    int done_pending;             /* done CODE */
    int64_t ack_deadline;
    int done_acked;               /* the agent wrote the final record */
    int64_t agent_started;
    int64_t restart_at;           /* when to start it again (0: no restart due) */
    int restarts;                 /* agents started after the first (a fork the kernel refused is none) */
    int64_t deaths[RESTART_LIMIT];
    int death_count;
    int64_t paused_until;
    int fork_failures;            /* failed forks of the agent since it last started; said once */
    char agent_end[96];           /* how the last agent ended, for the log and the record */

    /* from the agent's ready line */
    int64_t grace_ms;
    int64_t lifetime_ms;          /* 0: none */
    int stop_exit_code;
} st;

static sigset_t all_signals;

/* ---------------------------------------------------------------- the state record */

/* JSON string body: quotes, backslashes and control characters escaped. */
static size_t json_string(char *out, size_t cap, const char *s) {
    size_t n = 0;
    if (s == NULL) {
        return (size_t) snprintf(out, cap, "null");
    }
    if (n + 1 < cap) out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char) c;
        } else if (c < 0x20 || c == 0x7f) {
            n += (size_t) snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char) c;
        }
    }
    if (n + 1 < cap) out[n++] = '"';
    out[n] = '\0';
    return n;
}

static void iso_time(char *out, size_t cap, int64_t epoch_millis) {
    time_t t = (time_t) (epoch_millis / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The record the host reads, written by the init when the agent is not there to: the state,
 * and when stopping or stopped, why. Same file, same schema as the agent's (the contract's
 * StateRecord); the agent's link beside it is removed, so the host reads this one.
 */
static struct {
    char reason[16];
    int code;
    char detail[192];
} last_stop;

static void write_record(const char *state, const char *reason, int code, const char *detail) {
    if (reason != NULL) { /* kept for the final record */
        snprintf(last_stop.reason, sizeof last_stop.reason, "%s", reason);
        snprintf(last_stop.detail, sizeof last_stop.detail, "%s", detail);
        last_stop.code = code;
    } else if (strcmp(state, "stopped") == 0 && last_stop.reason[0] != '\0') {
        reason = last_stop.reason;
        code = last_stop.code;
        detail = last_stop.detail;
    }
    static const char *dirs[] = {"/run/idlewatch", "/tmp/idlewatch"};
    static char json[2048], now[32], started[32], at[32], ws[512], det[512], agent[400], life[32], poll[32];
    int64_t now_ms = epoch_ms();
    iso_time(now, sizeof now, now_ms);
    iso_time(started, sizeof started, st.started_epoch);
    json_string(ws, sizeof ws, getenv("IDLEWATCH_WORKSPACE"));
    char agent_text[300];
    if (st.chan >= 0 && st.ready) {
        snprintf(agent_text, sizeof agent_text, "up (restarted %d times)", st.restarts);
    } else if (st.paused_until != 0) {
        snprintf(agent_text, sizeof agent_text, "down: %s; failed %d times in %ds, not restarted for %ds",
                 st.agent_end, RESTART_LIMIT, RESTART_WINDOW_MS / 1000, RESTART_PAUSE_MS / 1000);
    } else {
        snprintf(agent_text, sizeof agent_text, "down: %s", st.agent_end[0] ? st.agent_end : "not started");
    }
    json_string(agent, sizeof agent, agent_text);
    if (st.lifetime_ms > 0) {
        snprintf(life, sizeof life, "%lld", (long long) st.lifetime_ms);
    } else {
        strcpy(life, "null");
    }
    strcpy(poll, "null"); /* no polls while the agent is down: the host sees the record age */
    int n;
    if (reason == NULL) {
        n = snprintf(json, sizeof json,
                     "{\"version\":1,\"workspace\":%s,\"state\":\"%s\",\"updated\":\"%s\",\"started\":\"%s\","
                     "\"poll_interval_ms\":%s,\"idle_ms\":0,\"timeout_ms\":null,\"max_lifetime_ms\":%s,"
                     "\"lifetime_left_ms\":null,\"last_activity\":null,\"last_activity_signal\":null,"
                     "\"signals\":{},\"stop\":null,\"agent\":%s}\n",
                     ws, state, now, started, poll, life, agent);
    } else {
        iso_time(at, sizeof at, now_ms);
        json_string(det, sizeof det, detail);
        n = snprintf(json, sizeof json,
                     "{\"version\":1,\"workspace\":%s,\"state\":\"%s\",\"updated\":\"%s\",\"started\":\"%s\","
                     "\"poll_interval_ms\":%s,\"idle_ms\":0,\"timeout_ms\":null,\"max_lifetime_ms\":%s,"
                     "\"lifetime_left_ms\":null,\"last_activity\":null,\"last_activity_signal\":null,"
                     "\"signals\":{},\"stop\":{\"reason\":\"%s\",\"at\":\"%s\",\"exit_code\":%d,\"detail\":%s,"
                     "\"frozen_ms\":null},\"agent\":%s}\n",
                     ws, state, now, started, poll, life, reason, at, code, det, agent);
    }
    if (n < 0 || (size_t) n >= sizeof json) {
        say("state record too long");
        return;
    }
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char file[64], tmp[64], link[64];
        mkdir(dirs[d], 0755);
        struct stat sb; /* the agent's rule: a real directory of ours that nobody else may write */
        if (lstat(dirs[d], &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 022) != 0) {
            continue;
        }
        snprintf(file, sizeof file, "%s/state.json", dirs[d]);
        snprintf(tmp, sizeof tmp, "%s/state.json.init", dirs[d]);
        snprintf(link, sizeof link, "%s/state.link", dirs[d]);
        unlink(tmp); /* a leftover or a planted link: never followed */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            continue;
        }
        ssize_t w = write(fd, json, (size_t) n);
        close(fd);
        if (w != n || rename(tmp, file) != 0) {
            unlink(tmp);
            continue;
        }
        unlink(link);
        return;
    }
    say("writing the state record failed: %s", strerror(errno));
}

/* ---------------------------------------------------------------- spawning */

/* Descriptors above 2 we were started with: passed on to the workload, as tini does. */
static void list_inherited_fds(void) {
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != dirfd(dir) && st.inherited_count < MAX_INHERITED) {
            st.inherited[st.inherited_count++] = fd;
        }
    }
    closedir(dir);
}

/*
 * The workload: its own process group, the terminal's foreground when we hold it, default
 * signals. Exec failures come back over a close-on-exec pipe: 127 not found, 126 otherwise.
 */
static int spawn_workload(void) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        say("pipe failed: %s", strerror(errno));
        return 1;
    }
    int tty = isatty(0) && tcgetpgrp(0) == getpgrp();
    pid_t pid = fork();
    if (pid < 0) {
        say("fork failed: %s", strerror(errno));
        close(report[0]);
        close(report[1]);
        return 1;
    }
    if (pid == 0) {
        close(report[0]);
        setpgid(0, 0);
        if (tty) {
            tcsetpgrp(0, getpid()); /* SIGTTOU is still blocked here */
        }
        default_signals();
        execvp(st.cmd[0], st.cmd);
        int err = errno;
        ssize_t ignored = write(report[1], &err, sizeof err);
        (void) ignored;
        _exit(err == ENOENT ? 127 : 126);
    }
    close(report[1]);
    setpgid(pid, pid); /* both sides, so that no signal can reach it before its group exists */
    int err = 0;
    ssize_t got;
    do {
        got = read(report[0], &err, sizeof err);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    st.workload = pid;
    if (got == (ssize_t) sizeof err) {
        say("exec %s failed: %s", st.cmd[0], strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    return 0;
}

static void send_line(const char *fmt, ...);

/*
 * The agent: its own session (out of the workload's group and terminal), the socket as its
 * standard input, none of the descriptors meant for the workload, / as its directory. RESTARTS
 * counts it (0 for the first); it becomes st.restarts only if the fork succeeds.
 */
static void spawn_agent(int restarts) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        say("socketpair failed: %s; retrying", strerror(errno));
        st.restart_at = mono_ms() + BACKOFF_MAX_MS;
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        if (st.fork_failures++ == 0) {
            say("fork failed: %s; retrying the agent every %d ms", strerror(errno), BACKOFF_MAX_MS);
        }
        close(sv[0]);
        close(sv[1]);
        st.restart_at = mono_ms() + BACKOFF_MAX_MS;
        return;
    }
    if (pid == 0) {
        setsid();
        for (int i = 0; i < st.inherited_count; i++) {
            close(st.inherited[i]);
        }
        if (dup2(sv[1], 0) < 0) {
            _exit(127);
        }
        if (chdir("/") != 0) {
            _exit(127);
        }
        default_signals();
        int n = jvm_args();
        jvm[n++] = "--companion";
        jvm[n] = NULL;
        execv(jvm[0], (char **) jvm);
        say("exec %s failed: %s", jvm[0], strerror(errno));
        _exit(127);
    }
    close(sv[1]);
    st.restarts = restarts;
    if (st.fork_failures > 0) {
        say("the agent started after %d failed forks", st.fork_failures);
        st.fork_failures = 0;
    }
    st.agent = pid;
    st.chan = sv[0];
    st.in_len = 0;
    st.ready = 0;
    st.term_pending = st.exit_pending = st.done_pending = 0;
    st.agent_started = mono_ms();
    st.restart_at = 0;
    /* Readable data raises SIGIO, which the loop's sigtimedwait takes like any signal. */
    if (fcntl(st.chan, F_SETOWN, getpid()) != 0 || fcntl(st.chan, F_SETSIG, SIGIO) != 0
        || fcntl(st.chan, F_SETFL, O_NONBLOCK | O_ASYNC) != 0) {
        say("fcntl failed: %s", strerror(errno));
    }
    send_line("hello %lld %lld %d", (long long) st.started_mono, (long long) st.started_epoch, st.restarts);
}

/* ---------------------------------------------------------------- talking to the agent */

static void drop_agent_channel(void) {
    if (st.chan >= 0) {
        close(st.chan);
        st.chan = -1;
    }
    st.ready = 0;
}

/* A broken or hostile agent: end it, the restart policy takes over. */
static void agent_misbehaved(const char *what) {
    say("the agent broke the protocol (%s); restarting it", what);
    if (st.agent > 0) {
        kill(st.agent, SIGKILL);
    }
    drop_agent_channel();
}

static void send_line(const char *fmt, ...) {
    if (st.chan < 0) {
        return;
    }
    char line[LINE_MAX_BYTES + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n > LINE_MAX_BYTES) {
        return;
    }
    line[n++] = '\n';
    /* A line is far below the socket's buffer; a frozen agent that let it fill is dropped. */
    ssize_t w = send(st.chan, line, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w != n) {
        say("the agent is not reading its socket; restarting it");
        agent_misbehaved("write failed");
    }
}

/* The agent must answer the line just sent within ACK_TIMEOUT_MS; *pending is cleared by its ack. */
static void expect_ack(int *pending) {
    if (st.chan >= 0) {
        *pending = 1;
        st.ack_deadline = mono_ms() + ACK_TIMEOUT_MS;
    }
}

/* Still waiting for the agent's ack, and it may still come. */
static int ack_pending(int pending) {
    return pending && st.chan >= 0 && mono_ms() < st.ack_deadline;
}

/* Strictly a decimal number of at most 12 digits, no sign, no spaces around. */
static int parse_number(const char *s, int64_t *out) {
    if (*s == '\0' || strlen(s) > 12) {
        return -1;
    }
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Splits on single spaces into at most max fields; -1 on an empty field or too many. */
static int split(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    while (1) {
        if (n == max) {
            return -1;
        }
        fields[n++] = p;
        char *space = strchr(p, ' ');
        if (space == NULL) {
            break;
        }
        *space = '\0';
        p = space + 1;
    }
    for (int i = 0; i < n; i++) {
        if (fields[i][0] == '\0') {
            return -1;
        }
    }
    return n;
}

static void begin_stop(int code, int64_t grace_ms);

static void agent_line(char *line) {
    char *f[5];
    int n = split(line, f, 5);
    int64_t a, b, c;
    if (n == 4 && strcmp(f[0], "ready") == 0 && parse_number(f[1], &a) == 0 && parse_number(f[2], &b) == 0
        && parse_number(f[3], &c) == 0 && a <= MAX_DURATION_MS && b <= MAX_DURATION_MS && c <= 255) {
        st.ready = 1;
        st.ever_ready = 1;
        st.grace_ms = a;
        st.lifetime_ms = b;
        st.stop_exit_code = (int) c;
        return;
    }
    if (n == 3 && strcmp(f[0], "stop") == 0 && parse_number(f[1], &a) == 0 && parse_number(f[2], &b) == 0
        && a <= 255 && b <= MAX_DURATION_MS) {
        begin_stop((int) a, b);
        return;
    }
    if (n == 1 && strcmp(f[0], "ack") == 0) {
        if (st.term_pending) {
            st.term_pending = 0;
        } else if (st.exit_pending) {
            st.exit_pending = 0;
        } else if (st.done_pending) {
            st.done_pending = 0;
            st.done_acked = 1;
        } else {
            agent_misbehaved("an ack nobody asked for");
        }
        return;
    }
    agent_misbehaved("an unknown line");
}

/* Reads whatever the agent wrote, line by line; never blocks. */
static void read_agent(void) {
    while (st.chan >= 0) {
        char buf[LINE_MAX_BYTES];
        ssize_t got = recv(st.chan, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (got <= 0) {
            drop_agent_channel(); /* it closed its end: dying, or about to be reaped */
            return;
        }
        for (ssize_t i = 0; i < got && st.chan >= 0; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                st.in[st.in_len] = '\0';
                st.in_len = 0;
                agent_line(st.in);
            } else if (ch < 0x20 || ch > 0x7e || st.in_len >= LINE_MAX_BYTES) {
                agent_misbehaved(st.in_len >= LINE_MAX_BYTES ? "a line too long" : "a control byte");
            } else {
                st.in[st.in_len++] = ch;
            }
        }
    }
}

/* ---------------------------------------------------------------- the agent's life */

static int64_t grace(void) {
    return st.ever_ready || st.settings_known ? st.grace_ms : DEFAULT_GRACE_MS;
}

static void agent_died(int status) {
    int64_t now = mono_ms();
    if (WIFSIGNALED(status)) {
        snprintf(st.agent_end, sizeof st.agent_end, "killed by %s", signame(WTERMSIG(status)));
    } else if (WEXITSTATUS(status) == 3) {
        /* -XX:+ExitOnOutOfMemoryError's code (the agent itself exits 0, 1 or 2). */
        snprintf(st.agent_end, sizeof st.agent_end, "exited with 3 (out of memory)");
    } else if (!st.ready && WEXITSTATUS(status) == 1) {
        /* What a JVM does when it cannot create its threads or heap: a full pids or memory limit. */
        snprintf(st.agent_end, sizeof st.agent_end, "exited with 1 (a full pids or memory limit?)");
    } else {
        snprintf(st.agent_end, sizeof st.agent_end, "exited with %d", WEXITSTATUS(status));
    }
    pid_t pid = st.agent;
    st.agent = 0;
    drop_agent_channel();
    if (st.phase >= DONE || st.workload <= 0) {
        return; /* it was told to finish, or it was checking the settings: init_main decides */
    }
    if (!st.gate && !st.ever_ready && st.restarts == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        /* The agent refused a setting the init read as plain (it said which): a bad value is exit 2,
           here as at start-up, so the workload stops; never restart an agent into the same refusal. */
        st.restart_at = 0; /* and begin_stop leaves RUNNING: no restart comes due */
        say("the agent refused the settings after the workload started; stopping it");
        begin_stop(2, grace());
        return;
    }
    if (now - st.agent_started >= AGENT_HEALTHY_MS) {
        st.death_count = 0;
    }
    /* The deaths within the window, oldest first. */
    int kept = 0;
    for (int i = 0; i < st.death_count; i++) {
        if (now - st.deaths[i] < RESTART_WINDOW_MS) {
            st.deaths[kept++] = st.deaths[i];
        }
    }
    if (kept == RESTART_LIMIT) {
        memmove(st.deaths, st.deaths + 1, sizeof st.deaths[0] * (RESTART_LIMIT - 1));
        kept--;
    }
    st.deaths[kept++] = now;
    st.death_count = kept;
    if (st.death_count >= RESTART_LIMIT) {
        st.paused_until = now + RESTART_PAUSE_MS;
        st.restart_at = st.paused_until;
        st.death_count = 0;
        say("the agent (pid %d) %s; it failed %d times in %d s: not restarting it for %d s;"
            " the workload keeps running", (int) pid, st.agent_end, RESTART_LIMIT, RESTART_WINDOW_MS / 1000,
            RESTART_PAUSE_MS / 1000);
    } else {
        int64_t backoff = BACKOFF_FIRST_MS;
        for (int i = 1; i < st.death_count && backoff < BACKOFF_MAX_MS; i++) {
            backoff *= 2;
        }
        st.restart_at = now + backoff;
        say("the agent (pid %d) %s; restarting it in %lld ms", (int) pid, st.agent_end, (long long) backoff);
    }
    if (st.phase == RUNNING && st.workload > 0 && st.term_deadline == 0) {
        write_record("running", NULL, 0, NULL);
    }
}

static void restart_agent_if_due(void) {
    if (st.agent == 0 && st.restart_at != 0 && mono_ms() >= st.restart_at && st.phase == RUNNING) {
        st.paused_until = 0;
        spawn_agent(st.restarts + 1);
    }
}

/* ---------------------------------------------------------------- signals, reaping, survivors */

static void signal_group(int sig) {
    if (st.workload > 0 && kill(-st.workload, sig) != 0 && errno != ESRCH) {
        say("kill(%s) failed: %s", signame(sig), strerror(errno));
    }
}

/* Reaps every exited child; notes the workload's and the agent's end. */
static void reap(void) {
    while (1) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid <= 0) {
            return;
        }
        if (pid == st.workload && st.workload_status < 0) {
            st.workload_status = status;
        } else if (pid == st.agent) {
            agent_died(status);
        }
    }
}

/* Our children but the agent (orphans come to us): what the stop waits for. Signals them when sig > 0. */
static int children_left(int sig) {
    static char buf[16384];
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int) getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0) {
        return 0;
    }
    buf[got] = '\0';
    int count = 0;
    for (char *p = buf; *p;) {
        long pid = strtol(p, &p, 10);
        if (pid > 0 && pid != st.agent) {
            count++;
            if (sig > 0) {
                kill((pid_t) pid, sig);
            }
        }
        while (*p == ' ' || *p == '\n') {
            p++;
        }
    }
    return count;
}

/*
 * Signals what is left but us and the agent. As PID 1 that is every process of the container
 * (read from /proc with a fixed buffer: kill(-1) would take the agent too); as a subreaper, the
 * workload's group and our children. Only our children are waited for (children_left): a
 * docker exec session is not ours to outlive.
 */
static void signal_survivors(int sig) {
    static char buf[16384];
    if (!st.pid1) {
        if (st.workload > 0) {
            kill(-st.workload, sig);
        }
        children_left(sig);
        return;
    }
    int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        children_left(sig);
        return;
    }
    while (1) {
        long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (got <= 0) {
            break;
        }
        for (long off = 0; off < got;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *d = (void *) (buf + off);
            off += d->reclen;
            char *end;
            long pid = strtol(d->name, &end, 10);
            if (*end == '\0' && pid > 1 && pid != st.agent) {
                kill((pid_t) pid, sig);
            }
        }
    }
    close(fd);
}

/* The signals tini leaves alone: the synchronous faults (sent by kill, they are no fault of
   ours and no business of the workload's) and the terminal stops meant for a background PID 1. */
static int ignored_signal(int sig) {
    return sig == SIGFPE || sig == SIGILL || sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGTRAP
           || sig == SIGSYS || sig == SIGTTIN || sig == SIGTTOU;
}

static void forward(int sig) {
    if (sig != SIGWINCH && sig != SIGCONT && sig != SIGURG) {
        st.last_forwarded = sig;
    }
    signal_group(sig);
}

/* A signal from outside. SIGTERM (docker stop) is recorded before anything is signalled. */
static void on_signal(int sig, const siginfo_t *info) {
    if (sig == SIGCHLD) {
        return;
    }
    if (sig == SIGIO && info->si_code > 0) {
        return; /* the kernel's: the agent wrote; read_agent follows */
    }
    if (ignored_signal(sig)) {
        return;
    }
    if (st.workload <= 0) { /* the agent is still checking the settings: a stop means nothing starts */
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
            st.gate_signal = sig;
        }
        return;
    }
    if (sig == SIGTERM && st.phase == RUNNING && st.term_deadline == 0 && st.workload_status < 0) {
        /* docker stop: the workload and the survivors share one grace, inside the engine's timeout */
        st.term_deadline = mono_ms() + grace();
        st.last_forwarded = SIGTERM;
        if (st.chan >= 0 && st.ready) {
            send_line("signal %d", SIGTERM);
            expect_ack(&st.term_pending);
            st.held_term_until = st.ack_deadline;
            if (st.chan < 0) { /* the send failed: the agent is gone */
                st.held_term_until = 0;
                write_record("stopping", "signal", 128 + SIGTERM, "the container got SIGTERM; the agent was down");
                forward(sig);
            }
            return; /* forwarded once the agent has recorded it */
        }
        write_record("stopping", "signal", 128 + SIGTERM, "the container got SIGTERM; the agent was down");
    }
    forward(sig);
}

/* ---------------------------------------------------------------- the stop */

/* The agent (or the lifetime cap) asked for a stop: TERM the group, KILL after the grace. */
static void begin_stop(int code, int64_t grace_ms) {
    if (st.phase != RUNNING || st.workload_status >= 0) {
        return; /* a stop is under way already, or the workload ended meanwhile */
    }
    st.stop_requested = 1;
    st.exit_code = code;
    st.phase = STOPPING;
    signal_group(SIGTERM);
    st.kill_at = mono_ms() + grace_ms;
}

static const char *describe_end(int status, char *buf, size_t cap) {
    if (WIFSIGNALED(status)) {
        snprintf(buf, cap, "was killed by %s (%d)", signame(WTERMSIG(status)), 128 + WTERMSIG(status));
    } else {
        snprintf(buf, cap, "exited with %d", WEXITSTATUS(status));
    }
    return buf;
}

/* The agent had its chance to answer and did not: end it (it must not write over our record later). */
static void silence_agent(void) {
    if (st.agent > 0 && st.chan >= 0) {
        kill(st.agent, SIGKILL);
        snprintf(st.agent_end, sizeof st.agent_end, "did not answer in time; ended by the init");
    }
    drop_agent_channel();
}

static int agent_answering(void) {
    return st.chan >= 0 && st.ready;
}

/* The workload ended by itself (or after a signal): the agent records it, or we do. */
static void record_exit(void) {
    char end[64], detail[192];
    describe_end(st.workload_status, end, sizeof end);
    if (st.last_forwarded > 0) {
        snprintf(detail, sizeof detail, "the container got %s; the workload %s; the agent was down",
                 signame(st.last_forwarded), end);
    } else {
        snprintf(detail, sizeof detail, "the workload %s; the agent was down", end);
    }
    write_record("stopping", st.last_forwarded > 0 ? "signal" : "workload-exit", st.exit_code, detail);
}

static void send_done(void) {
    st.phase = DONE;
    if (agent_answering()) {
        send_line("done %d", st.exit_code);
        expect_ack(&st.done_pending);
    }
}

/* One step of the stop, as far as the time and the agent allow; returns 1 when it is all done. */
static int advance(void) {
    int64_t now = mono_ms();
    if (st.held_term_until != 0 && !ack_pending(st.term_pending)) {
        st.held_term_until = 0;
        if (st.term_pending) { /* no record from the agent in time: ours, then the TERM */
            silence_agent();
            write_record("stopping", "signal", 128 + SIGTERM, "the container got SIGTERM; the agent did not answer");
        }
        forward(SIGTERM);
    }
    switch (st.phase) {
    case RUNNING:
        if (st.workload_status >= 0) {
            st.exit_code = exit_code_of(st.workload_status);
            st.phase = EXITED;
            if (st.held_term_until != 0) { /* what is left of the group still gets the TERM */
                st.held_term_until = 0;
                forward(SIGTERM);
            }
            if (agent_answering()) {
                send_line("exited %d %d %d", st.exit_code, st.last_forwarded,
                          WIFSIGNALED(st.workload_status) ? WTERMSIG(st.workload_status) : 0);
                expect_ack(&st.exit_pending);
            }
            if (!st.exit_pending) {
                silence_agent(); /* one starting up would write "running" over the record */
                record_exit();
            }
            return advance();
        }
        if (st.term_deadline != 0 && now >= st.term_deadline && !st.term_killed) {
            say("workload still running %lld ms after SIGTERM, sending SIGKILL", (long long) grace());
            signal_group(SIGKILL);
            st.term_killed = 1;
        }
        return 0;
    case STOPPING:
        if (st.workload_status >= 0) {
            st.phase = EXITED; /* the stop was recorded when it was asked for */
            return advance();
        }
        if (now >= st.kill_at && !st.term_killed) {
            say("workload still running after the grace, sending SIGKILL");
            signal_group(SIGKILL);
            st.term_killed = 1;
        }
        return 0;
    case EXITED:
        if (ack_pending(st.exit_pending) || ack_pending(st.term_pending)) {
            return 0; /* the record first */
        }
        if (st.exit_pending) { /* the agent did not record it (gone, frozen, slow): we do */
            silence_agent();
            record_exit();
        }
        st.term_pending = st.exit_pending = 0;
        st.phase = SURVIVORS;
        st.kill_at = 0;
        if (children_left(0) > 0) {
            int64_t g = grace();
            if (st.term_deadline != 0) {
                g = st.term_deadline - now;
                if (g < MIN_SURVIVOR_GRACE_MS) {
                    g = MIN_SURVIVOR_GRACE_MS;
                }
            }
            signal_survivors(SIGTERM);
            st.kill_at = now + g;
        }
        return advance();
    case SURVIVORS:
        if (children_left(0) == 0) {
            send_done();
            return advance();
        }
        if (now >= st.kill_at) {
            say("processes still running after the grace, sending SIGKILL");
            signal_survivors(SIGKILL);
            send_done(); /* KILL cannot be refused: reaped meanwhile, or gone with us */
        }
        return 0;
    case DONE:
        if (ack_pending(st.done_pending)) {
            return 0;
        }
        if (st.done_pending || !st.done_acked) { /* no final record from the agent */
            silence_agent();
            if (last_stop.reason[0] == '\0' && !st.stop_requested) {
                record_exit();
            }
            if (last_stop.reason[0] != '\0') {
                write_record("stopped", NULL, 0, NULL);
            } /* else the agent recorded the stop it asked for: its record stands */
        }
        return 1;
    }
    return 0;
}

/* When the init enforces the cap: the agent, when it answers, gets the first word (it runs the pre-stop). */
static int64_t lifetime_due(void) {
    return st.started_mono + st.lifetime_ms + (agent_answering() ? LIFETIME_BACKSTOP_MS : 0);
}

/*
 * How long the loop may sleep: until the next thing that is due. Everything else wakes it (a
 * signal, a child's end, the agent's line as SIGIO), so an idle workspace costs PID 1 one wake-up
 * a minute, a safety net (waking every second cost about 50 us of CPU a second).
 */
#define IDLE_WAIT_MS 60000
static int64_t next_wait_ms(void) {
    int64_t now = mono_ms(), wait = IDLE_WAIT_MS;
    int64_t due[] = {
        st.agent == 0 && st.phase == RUNNING ? st.restart_at : 0,
        st.term_pending || st.exit_pending || st.done_pending ? st.ack_deadline : 0,
        st.held_term_until,
        (st.phase == STOPPING || st.phase == SURVIVORS) && !st.term_killed ? st.kill_at : 0,
        st.phase == RUNNING && !st.term_killed ? st.term_deadline : 0,
        st.phase == RUNNING && st.lifetime_ms > 0 ? lifetime_due() : 0,
    };
    for (size_t i = 0; i < sizeof due / sizeof due[0]; i++) {
        if (due[i] > 0 && due[i] - now < wait) {
            wait = due[i] - now;
        }
    }
    if (st.phase == SURVIVORS || st.phase == DONE) {
        wait = wait > 50 ? 50 : wait; /* survivors that are not our children leave no SIGCHLD */
    }
    return wait < 1 ? 1 : wait;
}

/* The cap holds with the agent dead or frozen: if it has not acted shortly after the deadline, we do. */
static void enforce_lifetime(void) {
    if (st.phase != RUNNING || st.lifetime_ms <= 0 || st.workload_status >= 0) {
        return;
    }
    if (mono_ms() < lifetime_due()) {
        return;
    }
    silence_agent(); /* dead, frozen or deaf: it must not write over our record */
    char detail[160];
    snprintf(detail, sizeof detail, "lifetime >= max lifetime %lld ms; the agent %s, the init stopped it",
             (long long) st.lifetime_ms, st.agent == 0 ? "was down" : "did not answer");
    say("%s", detail);
    write_record("stopping", "lifetime", st.stop_exit_code, detail);
    begin_stop(st.stop_exit_code, grace());
}

/* Waits for one signal or the next deadline, and handles it. */
static void wait_and_handle(void) {
    int64_t wait = next_wait_ms();
    struct timespec ts = {(time_t) (wait / 1000), (long) (wait % 1000) * 1000000L};
    siginfo_t info;
    int sig = sigtimedwait(&all_signals, &info, &ts);
    if (sig > 0) {
        on_signal(sig, &info);
    } else if (errno != EAGAIN && errno != EINTR) {
        say("sigtimedwait failed: %s", strerror(errno));
    }
    read_agent();
    reap();
}

/* ---------------------------------------------------------------- the settings, checked at once */

/*
 * A workload should not wait for a JVM to boot to learn that its settings are fine, so the init
 * reads the environment's settings itself. It is strict and deliberately narrow: it accepts only
 * the plain forms (30m, 1h30m, off, 10%, 4096,8080, true...) with nothing around them, and every
 * value it accepts the agent accepts too (SettingsParityIT holds the two side by side). Anything
 * else - a config file, spaces, quotes, capitals, a value it does not know how to read - is left
 * to the agent, which then checks the settings before the workload starts and names a bad one in
 * one line (exit 2). The agent's word is final either way.
 */
/* 90s, 1h30m, 500ms, 2d, or a bare integer (seconds); at most 3650d. */
static int plain_duration(const char *s, int64_t *ms) {
    int64_t total = 0;
    const char *p = s;
    if (*p == '\0') {
        return 0;
    }
    while (*p) {
        int64_t n = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (++digits > 9) {
                return 0;
            }
            n = n * 10 + (*p++ - '0');
        }
        if (digits == 0) {
            return 0;
        }
        int64_t unit;
        if (*p == '\0' && p - s == digits) {
            unit = 1000; /* a bare integer is seconds */
        } else if (strncmp(p, "ms", 2) == 0) {
            unit = 1, p += 2;
        } else if (*p == 's') {
            unit = 1000, p++;
        } else if (*p == 'm') {
            unit = 60000, p++;
        } else if (*p == 'h') {
            unit = 3600000, p++;
        } else if (*p == 'd') {
            unit = 86400000, p++;
        } else {
            return 0;
        }
        if (*p >= 'a' && *p <= 'z') {
            return 0; /* "5sec", "1mss": the agent says what is wrong */
        }
        total += n * unit; /* n < 1e9, unit <= 8.64e7: no overflow, and total stays below the cap */
        if (total > MAX_DURATION_MS) {
            return 0;
        }
    }
    *ms = total;
    return 1;
}

/* A duration or off ("", "off", "0"): *ms = 0 for off. */
static int plain_optional_duration(const char *s, int64_t *ms) {
    if (s[0] == '\0' || strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
        *ms = 0;
        return 1;
    }
    return plain_duration(s, ms);
}

/* Each comma-separated word one of words; at least one. */
static int plain_words(const char *s, const char *const *words) {
    int named = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len > 0) {
            int known = 0;
            for (const char *const *w = words; *w; w++) {
                known |= strlen(*w) == len && strncmp(*w, s, len) == 0;
            }
            if (!known) {
                return 0;
            }
            named++;
        }
        s += len + (s[len] == ',');
    }
    return named > 0;
}

static int plain_signals(const char *s, int64_t *unused) {
    static const char *const names[] = {"cpu", "exec", "tty", "http", "opencode", NULL};
    (void) unused;
    return strcmp(s, "none") == 0 || plain_words(s, names);
}

/* 10, 10%, 2.5%: at most 100, digits on both sides of a dot. */
static int plain_percent(const char *s, int64_t *unused) {
    (void) unused;
    int64_t whole = 0;
    int digits = 0, fraction = 0, fraction_zero = 1;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        whole = whole * 10 + (*p - '0');
        if (digits > 3) {
            return 0;
        }
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, fraction++) {
            fraction_zero &= *p == '0';
        }
        if (fraction == 0) {
            return 0;
        }
    }
    if (*p == '%') {
        p++;
    }
    return *p == '\0' && digits > 0 && digits + fraction <= 12 && (whole < 100 || (whole == 100 && fraction_zero));
}

/* 4096,8080: ports from 1 to 65535, at least one. */
static int plain_ports(const char *s, int64_t *unused) {
    (void) unused;
    int named = 0;
    while (*s) {
        int64_t port = 0;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (++digits > 5) {
                return 0;
            }
            port = port * 10 + (*s - '0');
        }
        if (digits > 0) {
            if (port < 1 || port > 65535) {
                return 0;
            }
            named++;
        }
        if (*s == ',') {
            s++;
        } else if (*s != '\0') {
            return 0;
        }
    }
    return named > 0;
}

static int plain_bool(const char *s, int64_t *unused) {
    static const char *const words[] = {"true", "false", "1", "0", "yes", "no", "on", "off", NULL};
    (void) unused;
    for (const char *const *w = words; *w; w++) {
        if (strcmp(s, *w) == 0) {
            return 1;
        }
    }
    return 0;
}

/* A pre-stop command without quotes or backslashes: nothing the agent's splitting can refuse. */
static int plain_command(const char *s, int64_t *unused) {
    (void) unused;
    return strpbrk(s, "'\"\\") == NULL;
}

static int plain_exit_code(const char *s, int64_t *code) {
    size_t len = strlen(s);
    if (len == 0 || len > 3 || strspn(s, "0123456789") != len) {
        return 0;
    }
    *code = strtol(s, NULL, 10);
    return *code <= 255;
}

static int any_text(const char *s, int64_t *unused) {
    (void) s, (void) unused;
    return 1;
}

static int poll_interval(const char *s, int64_t *ms) {
    return plain_duration(s, ms) && *ms >= 100;
}

enum { S_TIMEOUT, S_MAX_LIFETIME, S_MAX_TIMEOUT, S_STOP_GRACE, S_EXIT_CODE, S_OTHER };

/* AgentConfig.Setting, in the same words; empty_is_default: an empty value means "not set". */
static const struct setting {
    const char *variable;
    int (*plain)(const char *value, int64_t *parsed);
    int empty_is_default;
    int slot;
} settings[] = {
    {"IDLEWATCH_TIMEOUT", plain_optional_duration, 0, S_TIMEOUT},
    {"IDLEWATCH_MAX_LIFETIME", plain_optional_duration, 0, S_MAX_LIFETIME},
    {"IDLEWATCH_MAX_TIMEOUT", plain_optional_duration, 0, S_MAX_TIMEOUT},
    {"IDLEWATCH_SIGNALS", plain_signals, 1, S_OTHER},
    {"IDLEWATCH_CPU_THRESHOLD", plain_percent, 1, S_OTHER},
    {"IDLEWATCH_HTTP_PORTS", plain_ports, 1, S_OTHER},
    {"IDLEWATCH_HTTP_LOOPBACK", plain_bool, 1, S_OTHER},
    {"IDLEWATCH_OPENCODE_STALL", plain_optional_duration, 1, S_OTHER},
    {"IDLEWATCH_POLL_INTERVAL", poll_interval, 1, S_OTHER},
    {"IDLEWATCH_WARN_BEFORE", plain_duration, 1, S_OTHER},
    {"IDLEWATCH_PRE_STOP", plain_command, 0, S_OTHER},
    {"IDLEWATCH_STOP_GRACE", plain_duration, 1, S_STOP_GRACE},
    {"IDLEWATCH_EXIT_CODE", plain_exit_code, 1, S_EXIT_CODE},
    {"IDLEWATCH_WORKSPACE", any_text, 0, S_OTHER},
};

/* Ours, but not settings: the agent reads them, none can be wrong. */
static int not_a_setting(const char *entry) {
    return strncmp(entry, "IDLEWATCH_VERBOSE=", 18) == 0 || strncmp(entry, "IDLEWATCH_CDS_CLASSLIST=", 24) == 0
        || strncmp(entry, "IDLEWATCH_TEST_", 15) == 0;
}

/*
 * 1 when every setting is in a plain form the agent is sure to accept: the workload may start at
 * once, and the grace, the lifetime cap and the exit code are known before the agent is up. 0 when
 * the agent must look first; why goes to *why (for IDLEWATCH_VERBOSE and the parity test).
 */
static int settings_plain(const char **why) {
    int64_t value[S_OTHER + 1] = {0, 0, 0, DEFAULT_GRACE_MS, 0, 0};
    int seen[sizeof settings / sizeof settings[0]] = {0};
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "IDLEWATCH_", 10) != 0 || not_a_setting(*e)) {
            continue;
        }
        if (strncmp(*e, "IDLEWATCH_CONFIG=", 17) == 0) {
            *why = "IDLEWATCH_CONFIG is set";
            return 0;
        }
        size_t name_len = strcspn(*e, "=");
        for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
            const struct setting *s = &settings[i];
            if (strlen(s->variable) != name_len || strncmp(*e, s->variable, name_len) != 0) {
                continue; /* an unknown IDLEWATCH_ name is only warned about */
            }
            const char *v = *e + name_len + 1;
            int64_t parsed = 0;
            if (seen[i]++ || !(v[0] == '\0' ? s->empty_is_default || s->plain(v, &parsed) : s->plain(v, &parsed))) {
                *why = s->variable;
                return 0;
            }
            if (!(v[0] == '\0' && s->empty_is_default)) {
                value[s->slot] = parsed;
            }
        }
    }
    if (access("/etc/idlewatch/agent.toml", F_OK) == 0) {
        *why = "/etc/idlewatch/agent.toml exists";
        return 0;
    }
    if (value[S_MAX_TIMEOUT] > 0 && value[S_TIMEOUT] > value[S_MAX_TIMEOUT]) {
        *why = "IDLEWATCH_TIMEOUT is above IDLEWATCH_MAX_TIMEOUT";
        return 0;
    }
    st.grace_ms = value[S_STOP_GRACE];
    st.lifetime_ms = value[S_MAX_LIFETIME];
    st.stop_exit_code = (int) value[S_EXIT_CODE];
    st.settings_known = 1;
    return 1;
}

/* ---------------------------------------------------------------- the init */

static int init_main(char **cmd) {
    // 1. Block every signal: they wait for sigtimedwait, so the workload's are forwarded, none is lost.
    sigfillset(&all_signals);
    if (sigprocmask(SIG_SETMASK, &all_signals, NULL) != 0) {
        say("sigprocmask failed: %s", strerror(errno));
        return 1;
    }
    st.pid1 = getpid() == 1;
    st.cmd = cmd;
    st.chan = -1;
    st.workload_status = -1;
    st.started_mono = mono_ms();
    st.started_epoch = epoch_ms();
    list_inherited_fds();

    // 2. Not PID 1 (docker run --init, a shell): orphans must still come to us.
    if (!st.pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        say("prctl(PR_SET_CHILD_SUBREAPER) failed: %s", strerror(errno));
        return 1;
    }

    // 3. The workload first, then its companion. Settings the init cannot vouch for are checked by
    //    the agent first, so a bad value stops us with nothing spawned (exit 2, the agent's one line).
    const char *why = NULL;
    st.gate = !settings_plain(&why);
    if (getenv("IDLEWATCH_TEST_CHECK_SETTINGS") != NULL) {
        if (st.gate) {
            printf("agent checks first: %s\n", why);
        } else {
            puts("plain");
        }
        return 0;
    }
    if (st.gate && getenv("IDLEWATCH_VERBOSE") != NULL) {
        say("the agent checks the settings before the workload starts (%s)", why);
    }
    if (!st.gate) {
        int failed = spawn_workload();
        if (failed) {
            return failed;
        }
    }
    spawn_agent(0);
    while (st.gate) {
        wait_and_handle();
        if (st.gate_signal) {
            char detail[96];
            snprintf(detail, sizeof detail, "the container got %s before the workload started", signame(st.gate_signal));
            silence_agent();
            write_record("stopped", "signal", 128 + st.gate_signal, detail);
            return 128 + st.gate_signal;
        }
        if (st.ready) {
            break;
        }
        if (st.agent == 0 && st.agent_end[0] != '\0') {
            if (strcmp(st.agent_end, "exited with 2") == 0) {
                return 2; /* a bad setting: the agent said which */
            }
            break; /* the agent failed otherwise: the workload must run anyway */
        }
    }
    if (st.gate) {
        int failed = spawn_workload();
        if (failed) {
            /* the agent records nothing of a workload that never ran; end it quietly */
            if (st.agent > 0) {
                kill(st.agent, SIGKILL);
            }
            return failed;
        }
        if (st.agent == 0) {
            say("the agent %s before it was ready; the workload runs, restarting the agent", st.agent_end);
            st.restart_at = mono_ms() + BACKOFF_FIRST_MS;
        }
    }

    // 4. Forward, reap, restart the agent, enforce the cap, and stop when asked or when the
    //    workload is gone; then exit with its code (or the stop's).
    while (1) {
        wait_and_handle();
        restart_agent_if_due();
        enforce_lifetime();
        if (advance()) {
            return st.exit_code;
        }
    }
}

/* ---------------------------------------------------------------- the client */

/*
 * idlewatch status|touch|timeout|stop ...: the whole command line goes to the agent, which runs it
 * and answers "cli EXIT OUT_BYTES ERR_BYTES\n" and the bytes; we copy them out and exit. No JVM,
 * no allocation, a few milliseconds: looking never costs the workspace's idle time.
 * idlewatch inhibit holds the agent's socket open while it runs its command.
 */
#define CLIENT_REQUEST_MAX 16384  /* the agent refuses more than 64 KiB; our commands are short */
#define CLIENT_ARGS_MAX 32        /* ControlProtocol.MAX_CLI_ARGS */
#define CLIENT_OUTPUT_MAX 32768   /* ControlProtocol.MAX_CLI_OUTPUT */
#define CLIENT_CONNECT_WAIT_MS 1500 /* an agent starting with its workload binds its socket soon after */
#define CLIENT_ANSWER_WAIT_MS 30000
#define CLIENT_TEXT_MAX 200       /* ControlProtocol.MAX_TEXT: what the agent keeps of a reason */

static const char *socket_paths[] = {"/run/idlewatch/agent.sock", "/tmp/idlewatch/agent.sock"};

/* Appends s form-encoded (application/x-www-form-urlencoded), at most max input bytes of it. */
static int form_append(char *buf, size_t *len, size_t cap, const char *s, size_t max) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; s[i] && i < max; i++) {
        unsigned char c = (unsigned char) s[i];
        if (*len + 4 >= cap) {
            return -1;
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
            || c == '.' || c == '*') {
            buf[(*len)++] = (char) c;
        } else if (c == ' ') {
            buf[(*len)++] = '+';
        } else {
            buf[(*len)++] = '%';
            buf[(*len)++] = hex[c >> 4];
            buf[(*len)++] = hex[c & 15];
        }
    }
    buf[*len] = '\0';
    return 0;
}

static int append(char *buf, size_t *len, size_t cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 >= cap) {
        return -1;
    }
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return 0;
}

/* The agent's socket, waiting a little for one that is starting; -1 with the message printed. */
static int client_connect(void) {
    int64_t deadline = mono_ms() + CLIENT_CONNECT_WAIT_MS;
    int errs[2] = {0, 0};
    while (1) {
        for (size_t i = 0; i < 2; i++) {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                say("socket failed: %s", strerror(errno));
                return -1;
            }
            struct sockaddr_un addr = {.sun_family = AF_UNIX};
            strncpy(addr.sun_path, socket_paths[i], sizeof addr.sun_path - 1);
            if (connect(fd, (struct sockaddr *) &addr, sizeof addr) == 0) {
                return fd;
            }
            errs[i] = errno;
            close(fd);
        }
        if (mono_ms() >= deadline) {
            break;
        }
        struct timespec pause = {0, 50 * 1000000L};
        nanosleep(&pause, NULL);
    }
    say("cannot reach the agent at %s (%s), %s (%s); the agent may not be running: idlewatch status works"
        " inside a container whose entrypoint is /opt/idlewatch/bin/idlewatch",
        socket_paths[0], strerror(errs[0]), socket_paths[1], strerror(errs[1]));
    return -1;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        buf += w;
        len -= (size_t) w;
    }
    return 0;
}

/* Reads exactly len bytes (or up to a newline when line is set) before the deadline; returns the count or -1. */
static ssize_t read_until(int fd, char *buf, size_t len, int line, int64_t deadline) {
    size_t got = 0;
    while (got < len) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            return -1;
        }
        struct timeval tv = {(time_t) (left / 1000), (suseconds_t) (left % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t r = read(fd, buf + got, line ? 1 : len - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        got += (size_t) r;
        if (line && buf[got - 1] == '\n') {
            return (ssize_t) got;
        }
    }
    return line ? -1 : (ssize_t) got;
}

/* Sends one request line and reads the answer's first line into line (NUL-terminated, newline cut). */
static int client_request(int fd, const char *request, size_t len, char *line, size_t cap) {
    if (write_all(fd, request, len) != 0) {
        say("sending the request failed: %s", strerror(errno));
        return -1;
    }
    ssize_t n = read_until(fd, line, cap - 1, 1, mono_ms() + CLIENT_ANSWER_WAIT_MS);
    if (n <= 0) {
        say("no answer from the agent within %d s", CLIENT_ANSWER_WAIT_MS / 1000);
        return -1;
    }
    line[n - 1] = '\0';
    return 0;
}

static int cli_main(int argc, char **argv) {
    static char request[CLIENT_REQUEST_MAX], line[256], output[CLIENT_OUTPUT_MAX];
    size_t len = 0;
    if (argc - 1 > CLIENT_ARGS_MAX) {
        say("%s: too many arguments", argv[1]);
        return 2;
    }
    append(request, &len, sizeof request, "idlewatch/1 cli ");
    for (int i = 1; i < argc; i++) {
        char key[16];
        snprintf(key, sizeof key, "%sa%d=", i > 1 ? "&" : "", i - 1);
        if (append(request, &len, sizeof request, key) != 0
            || form_append(request, &len, sizeof request, argv[i], SIZE_MAX) != 0) {
            say("%s: arguments too long", argv[1]);
            return 2;
        }
    }
    append(request, &len, sizeof request, "\n");
    int fd = client_connect();
    if (fd < 0) {
        return 1;
    }
    if (client_request(fd, request, len, line, sizeof line) != 0) {
        return 1;
    }
    if (strncmp(line, "error ", 6) == 0) {
        say("%s", line + 6); /* an agent that does not know cli, or a refused request */
        return 2;
    }
    char *f[5];
    int64_t code, out_len, err_len;
    if (split(line, f, 5) != 4 || strcmp(f[0], "cli") != 0 || parse_number(f[1], &code) != 0 || code > 255
        || parse_number(f[2], &out_len) != 0 || parse_number(f[3], &err_len) != 0
        || out_len + err_len > CLIENT_OUTPUT_MAX) {
        say("unexpected answer from the agent");
        return 1;
    }
    int64_t deadline = mono_ms() + CLIENT_ANSWER_WAIT_MS;
    if (read_until(fd, output, (size_t) (out_len + err_len), 0, deadline) != out_len + err_len) {
        say("the agent's answer was cut short");
        return 1;
    }
    close(fd);
    if (write_all(1, output, (size_t) out_len) != 0 || write_all(2, output + out_len, (size_t) err_len) != 0) {
        return 1;
    }
    return (int) code;
}

/* idlewatch inhibit [--reason TEXT] [--] CMD...: the hold lasts as long as our connection. */
static int inhibit_main(int argc, char **argv) {
    static char request[CLIENT_REQUEST_MAX], line[1024], text[CLIENT_TEXT_MAX + 1];
    const char *usage = "usage: idlewatch inhibit [--reason TEXT] -- CMD [ARGS...]";
    const char *reason = NULL;
    int i = 2;
    while (i < argc && strcmp(argv[i], "--") != 0) {
        if (strncmp(argv[i], "--reason=", 9) == 0) {
            reason = argv[i] + 9;
            i++;
        } else if (strcmp(argv[i], "--reason") == 0) {
            if (i + 1 >= argc) {
                say("--reason needs a text");
                fprintf(stderr, "%s\n", usage);
                return 2;
            }
            reason = argv[i + 1];
            i += 2;
        } else if (argv[i][0] == '-') {
            say("inhibit: unknown option \"%s\"", argv[i]);
            fprintf(stderr, "%s\n", usage);
            return 2;
        } else {
            break;
        }
    }
    if (i < argc && strcmp(argv[i], "--") == 0) {
        i++;
    }
    if (i >= argc || argv[i][0] == '\0') {
        say("inhibit needs a command to run");
        fprintf(stderr, "%s\n", usage);
        return 2;
    }
    char **cmd = argv + i;
    /* The command line as the agent shows it: the first CLIENT_TEXT_MAX bytes of it. */
    size_t t = 0;
    for (int k = 0; cmd[k] && t < CLIENT_TEXT_MAX; k++) {
        for (const char *c = cmd[k]; *c && t < CLIENT_TEXT_MAX; c++) {
            text[t++] = *c;
        }
        if (cmd[k + 1] && t < CLIENT_TEXT_MAX) {
            text[t++] = ' ';
        }
    }
    text[t] = '\0';
    size_t len = 0;
    char pid[32];
    snprintf(pid, sizeof pid, "pid=%d&command=", (int) getpid());
    append(request, &len, sizeof request, "idlewatch/1 hold ");
    if (reason != NULL) {
        append(request, &len, sizeof request, "reason=");
        form_append(request, &len, sizeof request, reason, CLIENT_TEXT_MAX);
        append(request, &len, sizeof request, "&");
    }
    append(request, &len, sizeof request, pid);
    form_append(request, &len, sizeof request, text, CLIENT_TEXT_MAX);
    append(request, &len, sizeof request, "\n");

    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL); /* from here, signals are for CMD: forwarded below */
    int fd = client_connect();
    if (fd < 0) {
        return 1;
    }
    if (client_request(fd, request, len, line, sizeof line) != 0) {
        return 1;
    }
    if (strncmp(line, "ok ", 3) != 0) {
        say("%s", strncmp(line, "error ", 6) == 0 ? line + 6 : "unexpected answer from the agent");
        return strncmp(line, "error ", 6) == 0 ? 2 : 1;
    }
    st.cmd = cmd;
    st.workload_status = -1;
    int failed = spawn_workload(); /* its own group, default signals; the hold's socket is close-on-exec */
    if (failed) {
        return failed;
    }
    while (1) {
        struct timespec ts = {1, 0};
        siginfo_t info;
        int sig = sigtimedwait(&all, &info, &ts);
        if (sig > 0 && sig != SIGCHLD && kill(-st.workload, sig) != 0) {
            kill(st.workload, sig); /* CMD left its group (setsid): signal it alone */
        }
        int status;
        pid_t got = waitpid(st.workload, &status, WNOHANG);
        if (got == st.workload) {
            return exit_code_of(status);
        }
    }
}

/* Subcommands that talk to the running agent. */
static int is_client_command(const char *arg) {
    return arg != NULL && (strcmp(arg, "status") == 0 || strcmp(arg, "touch") == 0
                           || strcmp(arg, "timeout") == 0 || strcmp(arg, "stop") == 0
                           || strcmp(arg, "inhibit") == 0 || strcmp(arg, "--version") == 0);
}

/* --version is answered by the jar itself, agent or not: the one client command that runs a JVM. */
static int version_main(int argc, char **argv) {
    int n = jvm_args();
    static const char *args[MAX_JVM_ARGS + CLIENT_ARGS_MAX];
    if (argc > CLIENT_ARGS_MAX) {
        say("too many arguments");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        args[i] = jvm[i];
    }
    for (int i = 1; i < argc; i++) {
        args[n + i - 1] = argv[i];
    }
    args[n + argc - 1] = NULL;
    execv(args[0], (char **) args);
    say("exec %s failed: %s", args[0], strerror(errno));
    return 126;
}

static int client_main(int argc, char **argv) {
    if (strcmp(argv[1], "--version") == 0) {
        return version_main(argc, argv);
    }
    if (strcmp(argv[1], "inhibit") == 0) {
        return inhibit_main(argc, argv);
    }
    return cli_main(argc, argv);
}

/* ---------------------------------------------------------------- the host CLI */

/*
 * The host packages (the tarball, the .deb, localhost/idlewatch/host) ship this same program as
 * bin/idlewatch beside lib/idlewatch-sweeper.jar: there it starts the host CLI on the runtime
 * shipped beside it, with the flags that make a short-lived CLI start fast. A C program rather
 * than a script because the host image has no shell; sweeper/bin/idlewatch uses the same flags
 * with the host's JDK.
 */
#define HOST_JAR "/lib/idlewatch-sweeper.jar"
/* Where the jar is handed to the JVM: high, clear of the descriptors a service manager passes (3 on). */
#define HOST_JAR_FD 200
#define HOST_JAR_PATH "/proc/self/fd/200"
#define HOST_MAX_JVM_ARGS 64

static int host_main(int argc, char **argv) {
    const char *jvm_argv[HOST_MAX_JVM_ARGS];
    int n = 0;
    const char *java = in_home("", "/runtime/bin/java");
    jvm_argv[n++] = java;
    /* Start-up dominates a cron sweep: C1 only (no C2 warm-up to pay for), the serial collector
       (no GC threads), a small heap, no perf-data file (nothing written to /tmp, which the host
       image does not have). A watcher runs the same flags: it does little work. */
    jvm_argv[n++] = "-XX:TieredStopAtLevel=1";
    jvm_argv[n++] = "-XX:+UseSerialGC";
    jvm_argv[n++] = "-Xms16m";
    jvm_argv[n++] = "-Xmx256m";
    jvm_argv[n++] = "-Xss512k";
    jvm_argv[n++] = "-XX:-UsePerfData";
    /* The class-data archive the build dumped for this runtime and this jar; -Xshare:auto runs
       without it (one slower start) if it does not match, e.g. after the jar was replaced. */
    jvm_argv[n++] = "-Xshare:auto";
    jvm_argv[n++] = in_home("-XX:SharedArchiveFile=", "/lib/idlewatch.jsa");
    jvm_argv[n++] = "-Xlog:cds=off";
    jvm_argv[n++] = "-Xlog:cds+dynamic=off";
    /* JNA (docker-java's Unix-socket transport) loads its library from lib/ instead of unpacking
       it to a temporary directory on every start. */
    jvm_argv[n++] = in_home("-Djna.boot.library.path=", "/lib");
    jvm_argv[n++] = "-Djna.nosys=true";
    jvm_argv[n++] = "-Djna.nounpack=true";

    /* IDLEWATCH_JAVA_OPTS: extra JVM flags (e.g. a proxy), split at spaces, no quoting; the last
       flag wins, so they can override the ones above. */
    char *opts = getenv("IDLEWATCH_JAVA_OPTS");
    if (opts != NULL) {
        opts = strdup(opts);
        if (opts == NULL) {
            fprintf(stderr, "idlewatch: strdup failed: %s\n", strerror(errno));
            return 1;
        }
        for (char *word = strtok(opts, " \t\n"); word != NULL; word = strtok(NULL, " \t\n")) {
            if (n >= HOST_MAX_JVM_ARGS - 4) {
                fprintf(stderr, "idlewatch: too many words in IDLEWATCH_JAVA_OPTS\n");
                return 2;
            }
            jvm_argv[n++] = word;
        }
    }
    /* The class path is the jar through a descriptor at a fixed number, not the jar's own path:
       a class-data archive records the class path it was dumped with and, in Java 17, refuses any
       other; this path is the same in the build's tree, a tarball unpacked anywhere, the .deb and
       the image, so one archive made at build time serves them all. */
    const char *jar = in_home("", HOST_JAR);
    int fd = open(jar, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "idlewatch: open %s failed: %s\n", jar, strerror(errno));
        return 127;
    }
    if (fd != HOST_JAR_FD && (dup2(fd, HOST_JAR_FD) < 0 || close(fd) != 0)) {
        fprintf(stderr, "idlewatch: dup2 failed: %s\n", strerror(errno));
        return 126;
    }
    jvm_argv[n++] = "-cp";
    jvm_argv[n++] = HOST_JAR_PATH;
    jvm_argv[n++] = "io.idlewatch.sweeper.Main";

    char **args = calloc((size_t) (n + argc), sizeof(char *));
    if (args == NULL) {
        fprintf(stderr, "idlewatch: calloc failed: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        args[i] = (char *) jvm_argv[i];
    }
    for (int i = 1; i < argc; i++) {
        args[n + i - 1] = argv[i];
    }
    args[n + argc - 1] = NULL;
    execv(java, args);
    fprintf(stderr, "idlewatch: exec %s failed: %s\n", java, strerror(errno));
    return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv) {
    find_home();
    if (access(in_home("", HOST_JAR), F_OK) == 0) {
        return host_main(argc, argv); /* the host packages: this program is their CLI's launcher */
    }
    if (is_client_command(argc > 1 ? argv[1] : NULL)) {
        return client_main(argc, argv);
    }
    int from = (argc > 1 && strcmp(argv[1], "--") == 0) ? 2 : 1;
    if (from >= argc || argv[from][0] == '\0') {
        fprintf(stderr, "usage: idlewatch -- CMD [ARGS...]\n"
                        "       idlewatch status [--json] | touch [--reason TEXT] | timeout DURATION|off"
                        " | stop [--reason TEXT]\n"
                        "       idlewatch inhibit [--reason TEXT] -- CMD [ARGS...]\n");
        return 2;
    }
    return init_main(argv + from);
}
