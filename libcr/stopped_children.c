/* Children that were stopped (SIGSTOP) when their parent's checkpoint came.
 *
 * A tree's requester continues such a child for the child's own checkpoint, and the
 * child stops again before it runs (tree_request.c, CR_CTL_STOPPED); a restarted one
 * stops once restored.  Each new stop is reported to the parent's wait() again, and
 * a restarted parent could run before its child is stopped.  So the parent notes its
 * stopped children while frozen, and before it runs again (going on, or restored)
 * waits for each to be stopped again, then takes the new report if it had taken the
 * old one; the SIGCHLDs the continue and the new stop sent it are dropped with its
 * pending signals (pending_signals.c), unless one was pending already. */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_map.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CR_MAX_STOPPED_CHILDREN 64
#define SETTLE_MS 10000

static struct {
    pid_t pid;                 /* as the program knows it (pid_map.h) */
    int reported;              /* its stop was not taken with wait() yet */
} stopped[CR_MAX_STOPPED_CHILDREN];
static int nstopped;
static int sigchld_was_pending; /* then the kernel adds none to it: nothing to drop */
static int settling;            /* a CLD_STOPPED now comes from a stop again */

/* The state letter of a process /proc names host_pid, or 0. */
static char state_of(pid_t host_pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)host_pid);
    if (cr_read_text(path, buf, sizeof buf) < 0)
        return 0;
    char *q = strrchr(buf, ')');
    return q && q[1] == ' ' ? q[2] : 0;
}

static int thread_running(long tid, void *arg)
{
    (void)arg;
    return state_of((pid_t)tid) != 'T';
}

/* T when every thread of host_pid is stopped: the stop is complete, and reported to
 * the parent, only once the last one stops. */
static char group_state(pid_t host_pid)
{
    char path[64], st = state_of(host_pid);
    if (st != 'T')
        return st;
    snprintf(path, sizeof path, "/proc/%d/task", (int)host_pid);
    return cr_each_number(path, thread_running, NULL) > 0 ? 'R' : st;
}

/* The state of our child `pid` (our numbering: /proc may be another pid namespace's). */
static char child_state(pid_t pid)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pfd);
    int ok = cr_read_text(path, buf, sizeof buf) > 0;
    close(pfd);
    char *p = ok ? strstr(buf, "\nPid:") : NULL;
    return p ? group_state((pid_t)atoi(p + 5)) : 0;
}

static int stop_reported(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* The stopped children of one thread of ours (each thread has its own list). */
static int note_stopped_children(long tid, void *arg)
{
    (void)arg;
    char path[96], buf[4096], *save = NULL;
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", tid);
    if (cr_read_text(path, buf, sizeof buf) < 0)
        return 0;
    /* strtok_r: a frozen thread of the program may be in the middle of a strtok() */
    for (char *tok = strtok_r(buf, " \n", &save); tok && nstopped < CR_MAX_STOPPED_CHILDREN;
         tok = strtok_r(NULL, " \n", &save)) {
        pid_t host = (pid_t)atoi(tok);
        char status[2048];
        snprintf(path, sizeof path, "/proc/%d/status", (int)host);
        if (state_of(host) != 'T' || cr_read_text(path, status, sizeof status) < 0)
            continue;
        char *ns = strstr(status, "\nNSpid:"), *eol = ns ? strchr(ns + 1, '\n') : NULL;
        if (eol)
            *eol = 0;
        char *last = ns ? strrchr(ns, '\t') : NULL;
        pid_t pid = last ? (pid_t)atoi(last + 1) : host;
        stopped[nstopped].pid = cr_pid_known(pid); /* (a restart may renumber it) */
        stopped[nstopped++].reported = stop_reported(pid);
    }
    return nstopped >= CR_MAX_STOPPED_CHILDREN;
}

void cr_stopped_children_save(void)
{
    nstopped = 0;
    settling = 0;
    char status[2048];
    char *shd = cr_read_text("/proc/self/status", status, sizeof status) > 0 ? strstr(status, "\nShdPnd:") : NULL;
    sigchld_was_pending = shd && (strtoull(shd + 8, NULL, 16) >> (SIGCHLD - 1) & 1);
    cr_each_number("/proc/self/task", note_stopped_children, NULL);
}

int cr_stopped_children_signal(const siginfo_t *si)
{
    if (si->si_signo != SIGCHLD || !(si->si_code == CLD_CONTINUED ||
                                     (settling && si->si_code == CLD_STOPPED)))
        return 0;
    if (si->si_code == CLD_CONTINUED && sigchld_was_pending)
        return 0;
    for (int i = 0; i < nstopped; i++)
        if (cr_pid_real(stopped[i].pid) == si->si_pid)
            return 1;
    return 0;
}

/* Whether a stop of a child sends this process SIGCHLD (not ignored, no SA_NOCLDSTOP;
 * its threads block it while stopped, so it is queued). */
static int sigchld_on_stop(void)
{
    struct { uint64_t handler, flags, restorer, mask; } ka;
    return syscall(SYS_rt_sigaction, SIGCHLD, NULL, &ka, 8) == 0 && ka.handler != (uint64_t)(uintptr_t)SIG_IGN &&
           !(ka.flags & SA_NOCLDSTOP);
}

static int sigchld_pending(void)
{
    char status[2048];
    char *shd = cr_read_text("/proc/self/status", status, sizeof status) > 0 ? strstr(status, "\nShdPnd:") : NULL;
    return shd && (strtoull(shd + 8, NULL, 16) >> (SIGCHLD - 1) & 1);
}

void cr_stopped_children_settle(void)
{
    if (!nstopped)
        return;
    settling = 1;
    uint64_t deadline = cr_now_ms() + SETTLE_MS;
    int stopped_again = 0;
    for (int i = 0; i < nstopped; i++) {
        pid_t pid = cr_pid_real(stopped[i].pid);
        /* running: continued for its checkpoint, or still being restored */
        for (;;) {
            char st = child_state(pid);
            if (st == 0 || st == 'Z' || (st == 'T' && (stop_reported(pid) || !stopped[i].reported)))
                break;
            if (cr_now_ms() >= deadline)
                return;
            struct timespec ts = { 0, 2 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        if (!stop_reported(pid))
            continue; /* not continued (or gone) */
        stopped_again = 1;
        if (!stopped[i].reported) {
            siginfo_t si;
            waitid(P_PID, (id_t)pid, &si, WSTOPPED | WNOHANG);
        }
    }
    /* the stop's SIGCHLD follows the stop by a moment */
    if (stopped_again && sigchld_on_stop())
        for (uint64_t until = cr_now_ms() + 100; !sigchld_pending() && cr_now_ms() < until;) {
            struct timespec ts = { 0, 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    cr_pending_take_new();
}
