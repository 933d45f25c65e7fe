/* The restorer's mapping (the "hole": its code, the plan, the threads' first stacks),
 * taken away from a restored process that has no runtime to do it (a ptrace image):
 * cr_restart traces its child for a moment, waits until no thread is still in the
 * hole (a new thread leaves it with its first rt_sigreturn), and makes it unmap the
 * hole through an injected munmap (syscall_inject.c), as CRIU's restore removes its
 * restorer blob. */
#define _GNU_SOURCE
#include "restart.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscall_inject.h"

#define HOLE_THREADS 4096

/* Every thread of pid seized and stopped; their number, or -errno. */
static int hold(pid_t pid, pid_t *tids, int *n, char *msg, size_t msglen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    for (int added = 1; added;) {
        added = 0;
        DIR *dir = opendir(path);
        if (!dir)
            return -ESRCH;
        struct dirent *e;
        while ((e = readdir(dir))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            int known = 0;
            for (int i = 0; i < *n; i++)
                known |= tids[i] == tid;
            if (tid <= 0 || known || *n == HOLE_THREADS)
                continue;
            if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
                if (errno == ESRCH)
                    continue;
                int err = errno;
                closedir(dir);
                snprintf(msg, msglen, "cannot trace the restored process %d to remove the "
                         "restorer's memory: %s", (int)pid, strerror(err));
                return -err;
            }
            tids[(*n)++] = tid;
            ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
            added = 1;
            for (;;) { /* a thread stops at once: it runs (or sleeps interruptibly) */
                int st;
                pid_t w = waitpid(tid, &st, __WALL);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w < 0 || !WIFSTOPPED(st)) {
                    (*n)--; /* ended */
                    break;
                }
                if ((st >> 16) == PTRACE_EVENT_STOP)
                    break;
                ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)); /* its signal */
            }
        }
        closedir(dir);
    }
    return 0;
}

static void let_go(const pid_t *tids, int n)
{
    for (int i = 0; i < n; i++)
        ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
}

int cr_restart_unmap_hole(pid_t pid, uint64_t start, uint64_t len, char *msg, size_t msglen)
{
    uint64_t ip;
    int rc = cr_inject_find_syscall(pid, &ip, msg, msglen);
    if (rc < 0)
        return rc;
    pid_t *tids = calloc(HOLE_THREADS, sizeof *tids);
    if (!tids)
        return -ENOMEM;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* the injection is not left half done by us */
    int done = 0;
    for (int attempt = 0; attempt < 1000 && !done; attempt++) {
        int n = 0, inside = 0;
        rc = hold(pid, tids, &n, msg, msglen);
        for (int i = 0; rc == 0 && i < n; i++) {
            struct user_regs_struct r;
            if (ptrace(PTRACE_GETREGS, tids[i], NULL, &r) == 0 && r.rip >= start && r.rip < start + len)
                inside = 1;
        }
        if (rc == 0 && !inside && n > 0) {
            struct cr_inject in;
            long ret = 0;
            pid_t who = tids[0];
            for (int i = 0; i < n; i++)
                if (tids[i] == pid)
                    who = pid; /* the main thread, if it is still there */
            rc = cr_inject_begin(&in, who, ip, msg, msglen);
            if (rc == 0)
                rc = cr_inject_call(&in, &ret, SYS_munmap, (long)start, (long)len, 0, 0, 0, 0, msg, msglen);
            char ignored[256];
            int end = cr_inject_end(&in, rc < 0 ? ignored : msg, rc < 0 ? sizeof ignored : msglen);
            if (rc == 0)
                rc = end;
            if (rc == 0 && ret < 0) {
                snprintf(msg, msglen, "the restored process could not unmap the restorer's memory: %s",
                         strerror((int)-ret));
                rc = (int)ret;
            }
        }
        let_go(tids, n);
        done = rc == 0 && !inside;
        if (rc < 0)
            break;
        struct timespec nap = { 0, 1000000 }; /* a thread on its way out of the hole */
        nanosleep(&nap, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(tids);
    if (rc == 0 && !done) {
        snprintf(msg, msglen, "a thread of the restored process stayed in the restorer's memory");
        rc = -EBUSY;
    }
    return rc;
}
