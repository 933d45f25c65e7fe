/* A process stopped by job control (SIGSTOP, SIGTSTP) and checkpointed alone: its
 * parent is outside the checkpoint (a shell), which a SIGCONT would tell (a SIGCHLD, a
 * WCONTINUED report, then a second stop report when it stops again).  BLCR's module
 * saved such a process as it was; here its runtime must run to save it.  So the
 * requester holds it through ptrace instead: every thread seized (which tells the
 * parent nothing), the runtime's own let run to take the request, each thread of the
 * program let run only to take the quiesce signal its runtime sends it (it then waits
 * in the handler, running none of the program), and once the process is frozen each
 * is let go again: detached, it stops where it waits, since the process is still
 * stopped for its parent (Linux stops a thread detached from a stopped group without
 * a new report).  The runtime releases none before (CR_CTL_STOPPED_HELD).  Its parent
 * sees the process stopped all along, with the report it had or had not taken yet. */
#define _GNU_SOURCE
#include "stopped_hold.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRAP_WAIT_MS 5000

enum { HELD, RUNNING, LEAVING, LEFT, GONE };

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap(void)
{
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (int)n;
}

/* A signal waits for thread tid that it does not block: it would take it once let run. */
static int deliverable(pid_t pid, pid_t tid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    if (read_small(path, buf, sizeof buf) <= 0)
        return 0;
    const char *p = strstr(buf, "\nSigPnd:"), *s = strstr(buf, "\nShdPnd:"), *b = strstr(buf, "\nSigBlk:");
    if (!p || !s || !b)
        return 0;
    uint64_t pending = strtoull(p + 8, NULL, 16) | strtoull(s + 8, NULL, 16);
    return (pending & ~strtoull(b + 8, NULL, 16)) != 0;
}

static int is_runtime_thread(pid_t pid, pid_t tid)
{
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    return read_small(path, comm, sizeof comm) > 0 && !strncmp(comm, "cr-", 3);
}

static int find(struct stopped_hold *h, pid_t tid)
{
    for (int i = 0; i < h->n; i++)
        if (h->t[i].tid == tid)
            return i;
    return -1;
}

/* Every thread seized and interrupted (a stopped one traps at once). */
static int seize_all(struct stopped_hold *h)
{
    char status[64], buf[4096];
    snprintf(status, sizeof status, "/proc/%d/status", (int)h->pid);
    const char *tp = read_small(status, buf, sizeof buf) > 0 ? strstr(buf, "\nTracerPid:") : NULL;
    if (tp && atoi(tp + 11) != 0) {
        snprintf(h->msg, sizeof h->msg, "process %d is stopped and traced by process %d (a "
                 "debugger or strace): detach it first", (int)h->pid, atoi(tp + 11));
        return -EBUSY;
    }
    for (int pass = 0; pass < 10; pass++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)h->pid);
        DIR *dir = opendir(path);
        if (!dir)
            return -errno;
        int added = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || find(h, tid) >= 0)
                continue;
            if (h->n == HOLD_MAX_THREADS) {
                closedir(dir);
                snprintf(h->msg, sizeof h->msg, "process %d has more than %d threads to hold",
                         (int)h->pid, HOLD_MAX_THREADS);
                return -E2BIG;
            }
            if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
                int err = errno;
                if (err == ESRCH)
                    continue;
                closedir(dir);
                snprintf(h->msg, sizeof h->msg, "process %d is stopped, and holding it without "
                         "continuing it needs to trace it, which the kernel refuses (%s): continue "
                         "it (kill -CONT %d) and checkpoint it then (--stop stops it again)",
                         (int)h->pid, strerror(err), (int)h->pid);
                return -err;
            }
            ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
            h->t[h->n].tid = tid;
            h->t[h->n].runtime = is_runtime_thread(h->pid, tid);
            h->t[h->n].state = RUNNING; /* until its trap is seen */
            h->n++;
            added++;
        }
        closedir(dir);
        if (!added)
            break;
    }
    /* each one's trap: the runtime's run on, the program's stay */
    uint64_t until = now_ms() + TRAP_WAIT_MS;
    for (int trapped = 0; trapped < h->n;) {
        int st;
        pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
        int i = w > 0 ? find(h, w) : -1;
        if (i >= 0 && WIFSTOPPED(st)) {
            trapped++;
            if (h->t[i].runtime)
                ptrace(PTRACE_CONT, w, NULL, NULL);
            else
                h->t[i].state = HELD;
        } else if (i >= 0) {
            h->t[i].state = GONE;
            trapped++;
        } else if (w <= 0) {
            if (now_ms() > until) {
                snprintf(h->msg, sizeof h->msg, "process %d: its threads did not stop for the "
                         "requester within %d s", (int)h->pid, TRAP_WAIT_MS / 1000);
                return -ETIMEDOUT;
            }
            nap();
        }
    }
    return 0;
}

static void leave(struct stopped_hold *h, int i)
{
    if (h->t[i].state == HELD) {
        ptrace(PTRACE_DETACH, h->t[i].tid, NULL, NULL);
        h->t[i].state = LEFT;
    } else if (h->t[i].state == RUNNING) {
        if (ptrace(PTRACE_INTERRUPT, h->t[i].tid, NULL, NULL) < 0)
            h->t[i].state = GONE;
        else
            h->t[i].state = LEAVING;
    }
}

static void event(struct stopped_hold *h, pid_t w, int st)
{
    int i = find(h, w);
    if (i < 0)
        return;
    if (!WIFSTOPPED(st)) {
        h->t[i].state = GONE;
        return;
    }
    int ev = st >> 16, sig = WSTOPSIG(st);
    if (h->t[i].state == LEAVING) {
        /* a signal it was about to take is delivered as it goes */
        ptrace(PTRACE_DETACH, w, NULL, (void *)(uintptr_t)(ev ? 0 : sig));
        h->t[i].state = LEFT;
    } else if (ev == PTRACE_EVENT_STOP) { /* a stop (another SIGSTOP): the program's stay */
        if (h->t[i].runtime)
            ptrace(PTRACE_CONT, w, NULL, NULL);
        else
            h->t[i].state = HELD;
    } else /* a signal (the quiesce one, or any other): taken as without us */
        ptrace(PTRACE_CONT, w, NULL, (void *)(uintptr_t)sig);
}

static void *tracer(void *arg)
{
    struct stopped_hold *h = arg;
    int rc = seize_all(h);
    if (rc < 0)
        for (int i = 0; i < h->n; i++)
            ptrace(PTRACE_DETACH, h->t[i].tid, NULL, NULL);
    pthread_mutex_lock(&h->lock);
    h->err = -rc;
    h->phase = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (rc < 0)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&h->lock);
        int want = h->want;
        pthread_mutex_unlock(&h->lock);
        int left = 1;
        for (int i = 0; i < h->n; i++) {
            if (h->t[i].state == HELD && !h->t[i].runtime && !want && deliverable(h->pid, h->t[i].tid)) {
                ptrace(PTRACE_CONT, h->t[i].tid, NULL, NULL);
                h->t[i].state = RUNNING;
            }
            if (want >= (h->t[i].runtime ? 2 : 1))
                leave(h, i);
            if (h->t[i].state == LEAVING || (want >= (h->t[i].runtime ? 2 : 1) && h->t[i].state < LEFT))
                left = 0;
        }
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, __WALL | WNOHANG)) > 0)
            event(h, w, st);
        if (want && !h->want_since)
            h->want_since = now_ms();
        if (want && !left && now_ms() - h->want_since > TRAP_WAIT_MS) { /* never trapped: let go */
            for (int i = 0; i < h->n; i++)
                if (h->t[i].state < LEFT && want >= (h->t[i].runtime ? 2 : 1)) {
                    ptrace(PTRACE_DETACH, h->t[i].tid, NULL, NULL);
                    h->t[i].state = LEFT;
                }
            left = 1;
        }
        if (want && left) {
            h->want_since = 0;
            pthread_mutex_lock(&h->lock);
            h->done = want;
            pthread_cond_broadcast(&h->cond);
            pthread_mutex_unlock(&h->lock);
            if (want == 2)
                return NULL;
        }
        nap();
    }
}

int hold_start(struct stopped_hold *h, pid_t pid, char *err, size_t len)
{
    memset(h, 0, sizeof *h);
    h->pid = pid;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    if ((errno = pthread_create(&h->tracer, NULL, tracer, h)) != 0) {
        snprintf(err, len, "cannot start the thread that holds process %d: %s", (int)pid, strerror(errno));
        return -errno;
    }
    h->started = 1;
    pthread_mutex_lock(&h->lock);
    while (!h->phase)
        pthread_cond_wait(&h->cond, &h->lock);
    int e = h->err;
    pthread_mutex_unlock(&h->lock);
    if (e) {
        snprintf(err, len, "%s", h->msg[0] ? h->msg : strerror(e));
        pthread_join(h->tracer, NULL);
        h->started = 0;
        return -e;
    }
    return 0;
}

static void let_go(struct stopped_hold *h, int want)
{
    if (!h->started)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->want < want)
        h->want = want;
    while (h->done < want)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

void hold_release_program(struct stopped_hold *h)
{
    let_go(h, 1);
}

void hold_end(struct stopped_hold *h)
{
    if (!h->started)
        return;
    let_go(h, 2);
    pthread_join(h->tracer, NULL);
    h->started = 0;
}
