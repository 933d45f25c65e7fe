/* libcr.so's restart half (BLCR's cr_request_restart and friends).
 *
 * The restart is cr_restart(1)'s: the request starts it for the caller, on the context
 * file behind args->cr_fd (its --fd 3; a pipe is first copied into a memfd),
 * with --relocate for the relocation list.  It reports back through its own hooks on
 * a pipe, so that its stdio stays the caller's (a restored process takes over the
 * stdio of cr_restart that leads outside):
 *   --run-on-success   "ok SHELLPID"            once the process is restored
 *   --run-on-failure   "fail ERRNO MESSAGE"     when the restart failed
 * As in BLCR, the restarted process then becomes the caller's child: cr_restart stops
 * it (--stop: it stops itself at the end of its restore, before it runs any of the
 * program), the library stops cr_restart too (so that it cannot reap the process while
 * it changes hands), becomes a subreaper for as long as it takes to kill cr_restart
 * (whose orphan then comes to the caller), and continues the process.  If the process
 * ended meanwhile (killed by someone), cr_restart has reaped it and exits the same way:
 * cr_restart's pid, left unreaped, stands for it.
 * A tree file is restored in a pid namespace of cr_restart's,
 * and cr_restart is left to itself (an intermediate child starts it and reports its
 * pid, "pid PID"): the poll gives the root's pid, which the caller cannot wait for. */
#define _GNU_SOURCE
#include "libcr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "context_format.h"

#define API __attribute__((visibility("default")))

#ifndef CR_RESTART_PROG
#define CR_RESTART_PROG "cr_restart"
#endif

/* cr_restart's fds: the context file and the report pipe */
#define SRC_FD 3
#define NOTE_FD 4

enum { R_RUNNING, R_DONE };

struct rstrt {
    unsigned gen;          /* 0: the slot is free */
    int state;
    pid_t helper;          /* cr_restart, until it is reaped */
    int note;              /* the read end of the report pipe, or -1 */
    int tree;              /* a tree, or a caller that takes no children: not handed over */
    int signal;            /* to send once the process runs (single process) */
    pid_t pid;             /* the restarted process */
    int err;               /* errno of a failed restart */
    char buf[1536];        /* what the hooks wrote */
    size_t nbuf;
    char log[1536];        /* the messages of a failed restart */
    char src[1024];        /* what cr_fd is open on, to name it in them */
};

/* Handles are slot numbers with a generation, so that a stale or made-up one is
 * EINVAL, not a crash. */
#define MAX_RSTRT 64
static struct rstrt slots[MAX_RSTRT];
static unsigned next_gen = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int set_errno(int e)
{
    errno = e;
    return -1;
}

static cr_restart_handle_t handle_of(int slot, unsigned gen)
{
    return ((cr_restart_handle_t)gen << 8) | (cr_restart_handle_t)(slot + 1);
}

static struct rstrt *lookup(const cr_restart_handle_t *handle)
{
    if (!handle)
        return NULL;
    unsigned long slot = (*handle & 0xff) - 1, gen = *handle >> 8;
    if (slot >= MAX_RSTRT || gen == 0)
        return NULL;
    pthread_mutex_lock(&lock);
    struct rstrt *r = slots[slot].gen == gen ? &slots[slot] : NULL;
    pthread_mutex_unlock(&lock);
    return r;
}

static void release(struct rstrt *r)
{
    if (r->note >= 0)
        close(r->note);
    pthread_mutex_lock(&lock);
    memset(r, 0, sizeof *r);
    pthread_mutex_unlock(&lock);
}

API int cri_init_restart_args_t(cr_version_t version, cr_restart_args_t *args)
{
    if (!args)
        return set_errno(EINVAL);
    if (version != CR_RESTART_ARGS_VERSION)
        return set_errno(CR_EVERSION);
    memset(args, 0, sizeof *args);
    args->cr_version = version;
    args->cr_fd = -1;
    args->cr_flags = CR_RSTRT_RESTORE_PID; /* BLCR's default */
    return 0;
}

/* What is wrong with the request, as BLCR's errno, or 0. */
static int check_args(const cr_restart_args_t *a)
{
    if (a->cr_version != CR_RESTART_ARGS_VERSION)
        return CR_EVERSION;
    if (a->cr_fd < 0 || fcntl(a->cr_fd, F_GETFD) < 0)
        return EBADF;
    if (a->cr_signal < 0 || a->cr_signal >= _NSIG)
        return EINVAL;
    if (a->cr_flags & ~(unsigned)(CR_RSTRT_ASYNC_ERR | CR_RSTRT_RESTORE_PID |
                                  CR_RSTRT_RESTORE_PGID | CR_RSTRT_RESTORE_SID))
        return EINVAL;
    const struct cr_rstrt_relocate *rl = a->cr_relocate;
    if (rl && rl->count > CR_MAX_RSTRT_RELOC)
        return EINVAL;
    for (unsigned i = 0; rl && i < rl->count; i++)
        if (!rl->path[i].oldpath || !rl->path[i].newpath || rl->path[i].oldpath[0] != '/' ||
            rl->path[i].newpath[0] != '/')
            return EINVAL; /* cr_restart takes two absolute paths */
    return 0;
}

/* A tree file restarts in a pid namespace of cr_restart's: read from its header. */
static int is_tree_file(int fd)
{
    struct ctx_header h;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h.magic, CTX_MAGIC, CTX_MAGIC_LEN))
        return 0; /* cr_restart will say what is wrong with it */
    return (h.flags & CTX_HDR_TREE) != 0;
}

static const char *restart_prog(void)
{
    const char *p = getenv("CR_RESTART_PROG"); /* tests, and installs that moved */
    return p && *p ? p : CR_RESTART_PROG;
}

/* The environment for cr_restart: without a preload of the runtime (a caller started
 * by cr_run has one), which has no business in cr_restart. */
static char **helper_env(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11))
            env[k++] = environ[i];
    return env;
}

struct argv_buf {
    char *v[64];
    int n;
    char *own[40]; /* what was allocated for it */
    int nown;
};

static int push(struct argv_buf *a, const char *s)
{
    if (a->n >= 63)
        return -1;
    a->v[a->n++] = (char *)s;
    a->v[a->n] = NULL;
    return 0;
}

static int push_own(struct argv_buf *a, char *s)
{
    if (!s || a->nown >= 40) {
        free(s);
        return -1;
    }
    a->own[a->nown++] = s;
    return push(a, s);
}

static void argv_free(struct argv_buf *a)
{
    for (int i = 0; i < a->nown; i++)
        free(a->own[i]);
}

/* OLD=NEW as cr_restart reads it: a backslash before each '=' and backslash of a path. */
static char *relocation_arg(const char *old, const char *new)
{
    size_t n = strlen("--relocate=") + 2 * (strlen(old) + strlen(new)) + 2;
    char *s = malloc(n), *w = s;
    if (!s)
        return NULL;
    w += sprintf(w, "--relocate=");
    for (int half = 0; half < 2; half++) {
        for (const char *r = half ? new : old; *r; r++) {
            if (*r == '=' || *r == '\\')
                *w++ = '\\';
            *w++ = *r;
        }
        if (!half)
            *w++ = '=';
    }
    *w = 0;
    return s;
}

/* cr_restart's command line.  tree_file: the file holds a tree, which cr_restart
 * restores with its groups and sessions as saved;
 * handover: the process is to become the caller's child (see the top of this file). */
static int build_argv(struct argv_buf *a, const cr_restart_args_t *args, int tree_file, int handover)
{
    char *s;
    if (push(a, restart_prog()) < 0 || push(a, "--quiet") < 0)
        return -1;
    const struct cr_rstrt_relocate *rl = args->cr_relocate;
    for (unsigned i = 0; rl && i < rl->count; i++)
        if (push_own(a, relocation_arg(rl->path[i].oldpath, rl->path[i].newpath)) < 0)
            return -1;
    /* the old pid: strictly for root (EBUSY when it is taken, as BLCR); for a user,
     * where Linux lets cr_restart give it (CAP_CHECKPOINT_RESTORE), else a new pid */
    const char *pid_arg = !(args->cr_flags & CR_RSTRT_RESTORE_PID) ? "--no-restore-pid"
                          : geteuid() == 0                       ? "--restore-pid"
                                                                 : NULL;
    if (pid_arg && push(a, pid_arg) < 0)
        return -1;
    /* without the flags, as in BLCR, the process stays in the requester's group and
     * session (cr_restart's, which has the caller's); a tree keeps its own */
    if (!tree_file && ((!(args->cr_flags & CR_RSTRT_RESTORE_PGID) && push(a, "--no-restore-pgid") < 0) ||
                       (!(args->cr_flags & CR_RSTRT_RESTORE_SID) && push(a, "--no-restore-sid") < 0)))
        return -1;
    if (handover) {
        /* stopped until it is the caller's child; cr_signal is sent then */
        if (push(a, "--stop") < 0)
            return -1;
    } else if (args->cr_signal) {
        if (asprintf(&s, "--signal=%d", args->cr_signal) < 0 || push_own(a, s) < 0)
            return -1;
    }
    if (asprintf(&s, "--run-on-success=echo ok $$ >&%d", NOTE_FD) < 0 || push_own(a, s) < 0)
        return -1;
    if (asprintf(&s, "--run-on-failure=printf 'fail %%s %%s\\n' \"$CR_RESTART_ERRNO\" "
                     "\"$CR_RESTART_ERROR\" >&%d", NOTE_FD) < 0 || push_own(a, s) < 0)
        return -1;
    if (asprintf(&s, "--fd=%d", SRC_FD) < 0 || push_own(a, s) < 0)
        return -1;
    return 0;
}

static void close_from(int lowfd)
{
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
        close((int)fd);
}

/* Reports of the request's own children on the pipe, as the hooks' ("fail ERRNO
 * MESSAGE", "pid PID"), written without stdio: they run between fork and exec. */
static size_t put_num(char *p, long v)
{
    char tmp[24];
    size_t n = 0, k = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n)
        p[k++] = tmp[--n];
    return k;
}

static int note_fail(int fd, int err, const char *msg)
{
    char buf[160];
    size_t n = 5, m = strlen(msg);
    memcpy(buf, "fail ", 5);
    n += put_num(buf + n, err);
    buf[n++] = ' ';
    if (m > sizeof buf - n - 1)
        m = sizeof buf - n - 1;
    memcpy(buf + n, msg, m);
    n += m;
    buf[n++] = '\n';
    (void)!write(fd, buf, n); /* nobody to tell if this fails: the reader sees EOF */
    return err & 0xff;
}

static void note_pid(int fd, pid_t pid)
{
    char buf[32];
    size_t n = 4;
    memcpy(buf, "pid ", 4);
    n += put_num(buf + n, pid);
    buf[n++] = '\n';
    (void)!write(fd, buf, n);
}

/* cr_restart reads a regular file from its start; BLCR's cr_fd may be a pipe, or a
 * file read from where it stands.  Such a source is copied into a memfd first (in the
 * child: the caller may be the one who writes into that pipe).  The memfd, or -1. */
static int copy_to_memfd(int fd)
{
    int m = (int)syscall(SYS_memfd_create, "cr_restart context", 1U /* MFD_CLOEXEC */);
    if (m < 0)
        return -1;
    char buf[16384];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return m;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(m, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                return -1;
            off += w > 0 ? w : 0;
        }
    }
}

API int cr_request_restart(cr_restart_args_t *args, cr_restart_handle_t *handle)
{
    if (!args || !handle)
        return set_errno(EINVAL);
    int bad = check_args(args);
    if (bad && !(args->cr_flags & CR_RSTRT_ASYNC_ERR))
        return set_errno(bad);

    pthread_mutex_lock(&lock);
    int slot = -1;
    for (int i = 0; i < MAX_RSTRT && slot < 0; i++)
        if (!slots[i].gen)
            slot = i;
    if (slot < 0) {
        pthread_mutex_unlock(&lock);
        return set_errno(EAGAIN);
    }
    struct rstrt *r = &slots[slot];
    memset(r, 0, sizeof *r);
    r->gen = next_gen++ & 0xffffff;
    if (!r->gen)
        r->gen = next_gen++;
    pthread_mutex_unlock(&lock);
    r->note = -1;
    *handle = handle_of(slot, r->gen);
    if (bad) { /* CR_RSTRT_ASYNC_ERR: the reap reports it */
        r->state = R_DONE;
        r->err = bad;
        snprintf(r->log, sizeof r->log, "invalid restart request: %s", cr_strerror(bad));
        return 0;
    }

    struct stat st;
    int stream = fstat(args->cr_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
                 lseek(args->cr_fd, 0, SEEK_CUR) != 0;
    /* a stream's kind is known once the child has it all ("pid" on the pipe: a tree).
     * A caller that ignores SIGCHLD never waits for children (and its waitpid() would
     * block until all have ended): its process is left to cr_restart, as a tree is. */
    struct sigaction chld;
    int no_children = sigaction(SIGCHLD, NULL, &chld) == 0 &&
                      (chld.sa_handler == SIG_IGN || (chld.sa_flags & SA_NOCLDWAIT));
    int tree_file = !stream && is_tree_file(args->cr_fd);
    r->tree = tree_file || no_children;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", args->cr_fd);
    ssize_t len = readlink(link, r->src, sizeof r->src - 1);
    r->src[len > 0 ? len : 0] = 0;
    r->signal = args->cr_signal;
    struct argv_buf a = { .n = 0 }, at = { .n = 0 }; /* cr_restart's for one process, a tree */
    char **env = helper_env();
    int pfd[2] = { -1, -1 }, e = 0;
    if (!env || build_argv(&a, args, 0, !no_children) < 0 || build_argv(&at, args, 1, 0) < 0)
        e = ENOMEM;
    else if (pipe2(pfd, O_CLOEXEC) < 0)
        e = errno;
    if (!e) {
        r->helper = fork();
        if (r->helper < 0)
            e = errno;
    }
    if (!e && r->helper == 0) {
        /* only async-signal-safe calls from here: the caller may have threads.
         * First nothing but our two fds: a pipe to read to its end must not stay
         * open for writing here. */
        int src = fcntl(args->cr_fd, F_DUPFD, 10), note = fcntl(pfd[1], F_DUPFD, 10);
        if (src < 0 || note < 0 || dup2(src, SRC_FD) < 0 || dup2(note, NOTE_FD) < 0)
            _exit(note_fail(note >= 0 ? note : pfd[1], errno, "cannot set up cr_restart's fds"));
        close_from(NOTE_FD + 1);
        if (stream) {
            int m = copy_to_memfd(SRC_FD);
            if (m < 0 || dup2(m, SRC_FD) < 0)
                _exit(note_fail(NOTE_FD, errno, "cannot read the context file"));
            close(m);
        }
        tree_file = tree_file || (stream && is_tree_file(SRC_FD));
        if (tree_file || no_children) {
            /* a tree stays under cr_restart: it need not be the caller's child (it
             * would be a zombie there, for the caller to reap without knowing it) */
            pid_t g = fork();
            if (g != 0) {
                if (g < 0)
                    note_fail(NOTE_FD, errno, "cannot fork");
                else
                    note_pid(NOTE_FD, g);
                _exit(0);
            }
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(a.v[0], tree_file ? at.v : a.v, env);
        _exit(note_fail(NOTE_FD, errno, "cannot run cr_restart"));
    }
    if (!e && r->tree) { /* the intermediate child, gone at once */
        int status;
        while (waitpid(r->helper, &status, 0) < 0 && errno == EINTR)
            ;
        r->helper = 0; /* cr_restart's pid comes on the pipe */
    }
    argv_free(&a);
    argv_free(&at);
    free(env);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (e) {
        if (pfd[0] >= 0)
            close(pfd[0]);
        release(r);
        *handle = 0;
        return set_errno(e);
    }
    r->note = pfd[0];
    r->state = R_RUNNING;
    return 0;
}

/* The pid namespace's init that cr_restart made for a tree: its NSpid ends in 1. */
static int is_ns_init(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    int init = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "NSpid:", 6)) {
            char *last = strrchr(line, '\t');
            init = last && atoi(last + 1) == 1 && last != strchr(line, '\t');
        }
    if (f)
        fclose(f);
    return init;
}

/* A child of pid that is not skip, or 0. */
static pid_t child_of(pid_t pid, pid_t skip)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "re");
    int c, found = 0;
    while (f && fscanf(f, "%d", &c) == 1)
        if (c != skip) {
            found = c;
            break;
        }
    if (f)
        fclose(f);
    return found;
}

static pid_t reap_helper(struct rstrt *r, int *status)
{
    pid_t w = -1;
    *status = 0;
    if (r->helper > 0 && !r->tree) /* a tree's cr_restart is not our child */
        do
            w = waitpid(r->helper, status, 0);
        while (w < 0 && errno == EINTR);
    r->helper = 0;
    return w;
}

/* The restart failed: cr_restart's errno and message, or how it ended. */
static void finish_failed(struct rstrt *r, const char *report)
{
    int status;
    pid_t w = reap_helper(r, &status);
    r->state = R_DONE;
    if (report) {
        char *end;
        long e = strtol(report, &end, 10);
        r->err = e > 0 ? (int)e : EIO;
        while (*end == ' ')
            end++;
        /* cr_restart knew the file as /proc/self/fd/N: say the caller's name for it */
        char fdname[32];
        snprintf(fdname, sizeof fdname, "/proc/self/fd/%d", SRC_FD);
        size_t k = 0;
        while (*end && k < sizeof r->log - 1) {
            if (r->src[0] && !strncmp(end, fdname, strlen(fdname))) {
                k += (size_t)snprintf(r->log + k, sizeof r->log - k, "%s", r->src);
                end += strlen(fdname);
            } else {
                r->log[k++] = *end++;
            }
        }
        r->log[k < sizeof r->log ? k : sizeof r->log - 1] = 0;
        size_t n = strlen(r->log);
        while (n && r->log[n - 1] == '\n')
            r->log[--n] = 0;
    } else if (w > 0 && WIFEXITED(status) && WEXITSTATUS(status)) {
        r->err = WEXITSTATUS(status); /* cr_restart exits with the errno */
        snprintf(r->log, sizeof r->log, "cr_restart exited with status %d: %s",
                 WEXITSTATUS(status), strerror(r->err));
    } else {
        r->err = EIO;
        if (w > 0 && WIFSIGNALED(status))
            snprintf(r->log, sizeof r->log, "cr_restart was killed by signal %d (%s)",
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(r->log, sizeof r->log, "cr_restart ended without saying whether it restarted the process");
    }
}

/* The process is restored (and stopped, unless a tree): make it the caller's child. */
/* cr_restart has ended or stopped (WNOWAIT: its status stays for a later wait).
 * 1: ended, 0: stopped, -1: lost. */
static int helper_ended(pid_t helper)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)helper, &si, WEXITED | WSTOPPED | WNOWAIT) < 0)
        if (errno != EINTR)
            return -1;
    return si.si_code != CLD_STOPPED;
}

static void finish_restored(struct rstrt *r, pid_t hook)
{
    r->state = R_DONE;
    if (r->tree) {
        pid_t c = r->helper > 0 ? child_of(r->helper, hook) : 0;
        /* the root is the child of the namespace's init */
        pid_t root = c > 0 && is_ns_init(c) ? child_of(c, 0) : c;
        r->helper = 0; /* cr_restart is its own master, and reaps them */
        if (root <= 0) {
            r->err = ESRCH;
            snprintf(r->log, sizeof r->log, "cr_restart restored the tree, which has already ended");
            return;
        }
        r->pid = root; /* cr_restart has sent cr_signal (--signal) */
        return;
    }
    /* cr_restart stopped, so that it cannot reap the process while it changes hands */
    kill(r->helper, SIGSTOP);
    int ended = helper_ended(r->helper);
    pid_t c = ended == 0 ? child_of(r->helper, hook) : 0;
    if (ended < 0) {
        r->err = ECHILD;
        snprintf(r->log, sizeof r->log, "lost cr_restart (does the caller reap every child?)");
        return;
    }
    if (c <= 0) {
        /* The process ended while stopped (killed by someone), and cr_restart reaped
         * it: cr_restart ends as it did, so its pid (its status kept) stands for it. */
        kill(r->helper, SIGCONT);
        while (ended == 0) {
            ended = helper_ended(r->helper);
            if (ended == 0) /* stopped again by someone: let it end */
                kill(r->helper, SIGCONT);
        }
        r->pid = r->helper;
        r->helper = 0;
        return;
    }
    int old = 0, status;
    prctl(PR_GET_CHILD_SUBREAPER, &old, 0, 0, 0);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        /* left under cr_restart: it runs, but the caller cannot wait for it */
        r->pid = c;
        if (r->signal)
            kill(c, r->signal);
        if (r->signal != SIGSTOP)
            kill(c, SIGCONT);
        kill(r->helper, SIGCONT);
        r->helper = 0;
        return;
    }
    kill(r->helper, SIGKILL);
    reap_helper(r, &status);       /* its orphans are ours from now on */
    if (hook > 0)
        waitpid(hook, &status, 0); /* the success hook's shell, if cr_restart had not reaped it */
    prctl(PR_SET_CHILD_SUBREAPER, old, 0, 0, 0);
    r->pid = c;
    if (r->signal)
        kill(c, r->signal);
    if (r->signal != SIGSTOP)
        kill(c, SIGCONT);
}

/* Read what the hooks wrote; act on a whole report.  1: done, 0: not yet. */
static int take_report(struct rstrt *r)
{
    ssize_t n;
    do
        n = read(r->note, r->buf + r->nbuf, sizeof r->buf - 1 - r->nbuf);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        finish_failed(r, NULL); /* every writer gone without a word */
    } else {
        r->nbuf += (size_t)n;
        r->buf[r->nbuf] = 0;
        for (;;) {
            char *nl = strchr(r->buf, '\n');
            if (!nl && r->nbuf < sizeof r->buf - 1)
                return 0; /* the rest of the line is coming */
            if (!strncmp(r->buf, "pid ", 4) && nl) { /* a tree's cr_restart */
                if (!r->tree) { /* a stream that held a tree: reap the intermediate child */
                    int status;
                    while (r->helper > 0 && waitpid(r->helper, &status, 0) < 0 && errno == EINTR)
                        ;
                    r->tree = 1;
                }
                r->helper = (pid_t)atoi(r->buf + 4);
                r->nbuf -= (size_t)(nl + 1 - r->buf);
                memmove(r->buf, nl + 1, r->nbuf + 1);
                continue;
            }
            if (!strncmp(r->buf, "ok ", 3))
                finish_restored(r, (pid_t)atoi(r->buf + 3));
            else if (!strncmp(r->buf, "fail ", 5))
                finish_failed(r, r->buf + 5);
            else
                finish_failed(r, NULL);
            break;
        }
    }
    close(r->note);
    r->note = -1;
    return 1;
}

static int ms_of(const struct timeval *tv)
{
    if (!tv)
        return -1;
    long long ms = (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000;
    return ms < 0 ? 0 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

API int cr_wait_restart(cr_restart_handle_t *handle, struct timeval *timeout)
{
    struct rstrt *r = lookup(handle);
    if (!r)
        return set_errno(EINVAL);
    if (r->state == R_DONE)
        return 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct pollfd p = { .fd = r->note, .events = POLLIN };
    int n = poll(&p, 1, ms_of(timeout));
    if (n < 0)
        return -1; /* EINTR, as BLCR */
    int done = n > 0 ? take_report(r) : 0;
    if (timeout) { /* the time left, as select() does */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long used = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
        long long left = timeout->tv_sec * 1000000LL + timeout->tv_usec - used;
        if (left < 0)
            left = 0;
        timeout->tv_sec = left / 1000000;
        timeout->tv_usec = left % 1000000;
    }
    return done;
}

API int cr_log_restart(cr_restart_handle_t *handle, unsigned int len, char *msg)
{
    struct rstrt *r = lookup(handle);
    if (!r)
        return set_errno(EINVAL);
    size_t need = r->log[0] ? strlen(r->log) + 1 : 0;
    if (need && len && msg)
        snprintf(msg, len, "%s", r->log);
    return (int)need;
}

API int cr_reap_restart(cr_restart_handle_t *handle)
{
    struct rstrt *r = lookup(handle);
    if (!r)
        return set_errno(EINVAL);
    if (r->state != R_DONE)
        return set_errno(EAGAIN);
    int err = r->err;
    pid_t pid = r->pid;
    release(r);
    *handle = 0;
    return err ? set_errno(err) : pid;
}

API int cr_poll_restart_msg(cr_restart_handle_t *handle, struct timeval *timeout, char **msg_p)
{
    int rc = cr_wait_restart(handle, timeout);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return CR_POLL_RSTRT_ERR_PRE;
    if (msg_p) {
        int len = cr_log_restart(handle, 0, NULL);
        *msg_p = NULL;
        if (len < 0)
            return CR_POLL_RSTRT_ERR_LOG;
        if (len > 0) {
            if (!(*msg_p = malloc((size_t)len)))
                return CR_POLL_RSTRT_ERR_LOG;
            cr_log_restart(handle, (unsigned)len, *msg_p);
        }
    }
    rc = cr_reap_restart(handle);
    return rc < 0 ? CR_POLL_RSTRT_ERR_POST : rc;
}

API int cr_poll_restart(cr_restart_handle_t *handle, struct timeval *timeout)
{
    return cr_poll_restart_msg(handle, timeout, NULL);
}
