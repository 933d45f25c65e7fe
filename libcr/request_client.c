#define _GNU_SOURCE
#include "request_client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "context_format.h"
#include "control.h"
#include "libcr.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int say(struct crq *q, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(struct crq *q, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->msg, sizeof q->msg, fmt, ap);
    va_end(ap);
    q->err = err;
    return -err;
}

int crq_traced(pid_t pairs[][2], int max)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", pid);
        FILE *f = pid > 0 ? fopen(path, "re") : NULL;
        while (f && fgets(line, sizeof line, f))
            if (!strncmp(line, "TracerPid:", 10) && atoi(line + 10) > 0) {
                pairs[n][0] = (pid_t)pid;
                pairs[n++][1] = (pid_t)atoi(line + 10);
            }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return n;
}

/* BLCR's ptrace options: a traced process is refused unless allowed (its tracer would
 * catch the quiesce signal and the checkpoint could not go on by itself), and so is a
 * process that traces others (it would be frozen while its tracees wait for it). */
int crq_ptrace_verdict(const pid_t pairs[][2], int n, pid_t pid, unsigned flags, char *msg,
                       size_t len)
{
    pid_t tracer = 0, tracee = 0;
    for (int i = 0; i < n; i++) {
        if (pairs[i][0] == pid)
            tracer = pairs[i][1];
        if (pairs[i][1] == pid && !tracee)
            tracee = pairs[i][0];
    }
    if (tracer && (flags & CR_REQ_PTRACED_SKIP)) {
        snprintf(msg, len, "process %d is traced by process %d and --ptraced-skip leaves it out "
                 "(in a tree, with its descendants)", (int)pid, (int)tracer);
        return 1;
    }
    if (tracer && !(flags & CR_REQ_PTRACED_ALLOW)) {
        snprintf(msg, len, "process %d is traced by process %d (a debugger or strace), which "
                 "would catch the checkpoint's signal: detach it, or use --ptraced-allow (the "
                 "tracer must pass the signal on) or --ptraced-skip", (int)pid, (int)tracer);
        return -CR_EPTRACED;
    }
    if (tracee && (flags & CR_REQ_PTRACER_SKIP)) {
        snprintf(msg, len, "process %d traces process %d and --ptracer-skip leaves it out (in "
                 "a tree, with its descendants)", (int)pid, (int)tracee);
        return 1;
    }
    if (tracee) {
        snprintf(msg, len, "process %d traces process %d; frozen, it would hold its tracee up: "
                 "end the tracing, or use --ptracer-skip", (int)pid, (int)tracee);
        return -CR_EPTRACER;
    }
    return 0;
}

int crq_is_restarter(pid_t pid)
{
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int yes = fgets(comm, sizeof comm, f) && !strcmp(comm, "cr_restart\n");
    fclose(f);
    struct sockaddr_un addr;
    return yes && cr_ctl_find_address(pid, &addr, 0) == -ENOENT; /* (no runtime of its own) */
}

pid_t crq_restored_by(pid_t pid)
{
    /* cr_restart -> the restored process, or -> its tree's namespace init -> the root */
    for (int depth = 0; depth < 3 && crq_is_restarter(pid); depth++) {
        char path[64], buf[256];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        FILE *f = fopen(path, "re");
        pid_t child = 0;
        if (f && fgets(buf, sizeof buf, f))
            child = (pid_t)atoi(buf);
        if (f)
            fclose(f);
        if (child <= 0)
            return pid;
        pid = child;
    }
    return pid;
}

/* Whether another requester's checkpoint of pid is running (its manager thread is
 * named CR_BUSY_COMM and that requester's pid, while we wait for an answer). */
static pid_t busy_with(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    pid_t other = 0;
    while (d && !other && (e = readdir(d))) {
        char cpath[340], comm[32] = "";
        snprintf(cpath, sizeof cpath, "%s/%s/comm", path, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(cpath, "re") : NULL;
        if (f && fgets(comm, sizeof comm, f) && !strncmp(comm, CR_BUSY_COMM, strlen(CR_BUSY_COMM)))
            other = (pid_t)atoi(comm + strlen(CR_BUSY_COMM));
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    /* a requester that is gone holds nothing: its answer is out and the runtime is
     * finishing (it takes us next) */
    if (other > 0 && kill(other, 0) < 0 && errno == ESRCH)
        return 0;
    return other == getpid() ? 0 : other;
}

/* Whether pid has ended (gone or a zombie), given a moment to finish exiting. */
static int ended(pid_t pid)
{
    for (int tries = 0; tries < 20; tries++) {
        char st = crq_proc_state(pid);
        if (st == 0 || st == 'Z' || st == 'X')
            return 1;
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* How often an unanswered request looks whether another one holds the target. */
#define BUSY_POLL_MS 100

/* connect() to the control socket of pid's runtime, waiting at most timeout_ms: a
 * manager busy with another request accepts none meanwhile, and once its queue is full
 * a blocking connect would wait for that request's end (or for ever).  -1 with errno
 * (EAGAIN: still not accepted; EBUSY: busy with the request of *other). */
static int connect_bounded(int s, const struct sockaddr_un *addr, socklen_t alen, pid_t pid,
                           unsigned timeout_ms, pid_t *other)
{
    int fl = fcntl(s, F_GETFL);
    if (fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    uint64_t start = now_ms(), looked = start;
    int rc;
    while ((rc = connect(s, (const struct sockaddr *)addr, alen)) < 0 && errno == EAGAIN &&
           now_ms() < start + timeout_ms) {
        if (now_ms() >= looked + BUSY_POLL_MS) {
            looked = now_ms();
            if ((*other = busy_with(pid))) {
                errno = EBUSY;
                return -1;
            }
        }
        poll(NULL, 0, 10);
    }
    int e = errno;
    if (rc == 0 && fcntl(s, F_SETFL, fl) < 0)
        return -1;
    errno = e;
    return rc;
}

/* Names tried for one pid: the target's own, or (from inside a user namespace) every
 * name of that pid, some perhaps taken by others. */
#define MAX_NAMES 64

int crq_start(struct crq *q, pid_t pid, int fd, unsigned timeout_ms, unsigned flags)
{
    memset(q, 0, sizeof *q);
    q->sock = -1;
    q->pid = pid;
    q->timeout_ms = timeout_ms;
    if (!(flags & CR_CTL_TREE)) { /* (a tree's requester looked, once for all of them) */
        pid_t pairs[256][2];
        char msg[400];
        int rc = crq_ptrace_verdict(pairs, crq_traced(pairs, 256), pid, flags, msg, sizeof msg);
        if (rc)
            return say(q, rc > 0 ? ESRCH : -rc, "%s%s", msg, rc > 0 ? ": nothing to checkpoint" : "");
    }
    if (!(flags & CR_REQ_NO_PRECOPY))
        flags |= CR_CTL_PRECOPY; /* (its answers, CR_CTL_PRECOPYING, are understood here) */
    flags &= ~(unsigned)CR_REQ_ONLY;
    int s = -1, held_by_other = 0, other_user = 0;
    for (int nth = 0; s < 0 && nth < MAX_NAMES; nth++) {
        struct sockaddr_un addr;
        int alen = cr_ctl_find_address(pid, &addr, nth);
        if (alen == -ENOENT && (held_by_other || other_user))
            break;
        if (alen == -ENOENT)
            return say(q, ENOTSUP, "process %d is not running under cr_run (no slurm-cr runtime "
                       "answers): start it with 'cr_run PROGRAM'", (int)pid);
        if (alen < 0)
            return say(q, -alen, "cannot see the sockets of process %d (/proc/%d/fd): %s",
                       (int)pid, (int)pid, strerror(-alen));
        s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (s < 0)
            return say(q, errno, "cannot create a socket: %s", strerror(errno));
        pid_t other = 0;
        if (connect_bounded(s, &addr, (socklen_t)alen, pid, timeout_ms ? timeout_ms : 10000, &other) < 0) {
            int e = errno;
            close(s);
            s = -1;
            if (e == ECONNREFUSED || e == ENOENT)
                continue; /* gone meanwhile */
            if (e == EBUSY)
                return say(q, EBUSY, "process %d is being checkpointed for process %d; try again "
                           "once that checkpoint is over", (int)pid, (int)other);
            if (e == EAGAIN)
                return say(q, ETIMEDOUT, "the runtime of process %d took no request within "
                           "%.1f s (its control socket's queue is full); it keeps running",
                           (int)pid, (timeout_ms ? timeout_ms : 10000) / 1000.0);
            return say(q, e, "cannot reach the runtime of process %d: %s", (int)pid, strerror(e));
        }
        /* the name must be the target's own, and the target ours: never hand our file
         * to a process that took a name, or to another user's */
        struct ucred cred;
        socklen_t clen = sizeof cred;
        if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.pid != pid) {
            held_by_other = 1;
        } else if (getuid() != 0 && cred.uid != getuid()) {
            other_user = 1;
        } else {
            break;
        }
        close(s);
        s = -1;
    }
    if (s < 0 && other_user)
        return say(q, EPERM, "process %d belongs to another user: only its owner or root may "
                   "checkpoint it", (int)pid);
    if (s < 0 && held_by_other)
        return say(q, EPERM, "the control socket of process %d is held by another process; "
                   "refusing to hand it the context file", (int)pid);
    if (s < 0)
        return say(q, ENOTSUP, "process %d is not running under cr_run (no slurm-cr runtime "
                   "answers): start it with 'cr_run PROGRAM'", (int)pid);
    struct cr_ctl_request req = { CR_CTL_MAGIC, CR_CTL_VERSION, CR_CTL_CHECKPOINT, CTX_SCOPE_PROC,
                                  flags, timeout_ms };
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { &req, sizeof req };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof req) {
        int e = errno;
        close(s);
        /* its runtime closed the socket after our connect: the process is ending, or
         * exec'd (the new program's runtime comes up in a moment) */
        if ((e == ECONNRESET || e == EPIPE) && ended(pid))
            return say(q, ESRCH, "process %d ended during the checkpoint", (int)pid);
        if (e == ECONNRESET || e == EPIPE)
            return say(q, EIO, "the runtime of process %d closed its control socket as the "
                       "request came (the process exec'd or is ending)", (int)pid);
        return say(q, e, "cannot send the request: %s", strerror(e));
    }
    q->sock = s;
    /* with --sockets=delay the wait for connections to close comes first */
    q->freeze_deadline = now_ms() + timeout_ms * ((flags & CR_CTL_SOCKETS_DELAY) ? 2 : 1) + 2000;
    return 0;
}

char crq_proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    char st = 0;
    if (f && fgets(buf, sizeof buf, f)) {
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ')
            st = p[2];
    }
    if (f)
        fclose(f);
    return st;
}

/* How often a frozen target's state is looked at: stopped (SIGSTOP, a debugger) it
 * cannot finish, and waiting for it would never end. */
#define STOPPED_POLL_MS 200

/* Reads replies until `phase` is reached (1), the job is over (1, q->done), or wait_ms
 * passes (0). */

static int crq_pump(struct crq *q, int phase, int wait_ms)
{
    uint64_t until = wait_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)wait_ms;
    uint64_t stopped_since = 0;
    for (;;) {
        if (q->done || (phase == CR_CTL_FROZEN && q->frozen) ||
            (phase == CR_CTL_PREPARED && q->prepared))
            return 1;
        uint64_t now = now_ms(), limit = until;
        if (!q->frozen && q->freeze_deadline < limit)
            limit = q->freeze_deadline;
        if (!q->frozen && limit > now + BUSY_POLL_MS)
            limit = now + BUSY_POLL_MS; /* a look at whether it is busy with another */
        if (q->frozen && limit > now + STOPPED_POLL_MS)
            limit = now + STOPPED_POLL_MS;
        if (q->frozen) {
            char st = crq_proc_state(q->pid);
            if (st != 'T' && st != 't')
                stopped_since = 0;
            else if (!stopped_since)
                stopped_since = now;
            else if (now - stopped_since >= q->timeout_ms) {
                q->done = 1;
                say(q, ETIMEDOUT, "the process was stopped (%s) during the checkpoint and stayed so "
                    "for %.1f s; nothing was kept: continue it (kill -CONT %d), it goes on unharmed, "
                    "and checkpoint it then", st == 'T' ? "SIGSTOP" : "traced",
                    q->timeout_ms / 1000.0, (int)q->pid);
                return 1;
            }
        }
        int ms = limit == UINT64_MAX ? -1 : limit > now ? (int)(limit - now) : 0;
        struct pollfd p = { q->sock, POLLIN, 0 };
        int pr = poll(&p, 1, ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            if (q->frozen && now_ms() < until)
                continue; /* only a look at its state */
            pid_t other;
            if (!q->frozen && (other = busy_with(q->pid))) {
                q->done = 1;
                say(q, EBUSY, "process %d is being checkpointed for process %d; try again once "
                    "that checkpoint is over", (int)q->pid, (int)other);
                return 1;
            }
            if (!q->frozen && now_ms() < q->freeze_deadline && now_ms() < until)
                continue;
            if (!q->frozen && now_ms() >= q->freeze_deadline) {
                q->done = 1;
                say(q, ETIMEDOUT, "the process did not answer within %.1f s%s; it keeps running",
                    q->timeout_ms / 1000.0, crq_proc_state(q->pid) == 'T' ? " (it is stopped: "
                    "continue it with kill -CONT first)" : "");
                return 1;
            }
            return 0;
        }
        struct cr_ctl_reply rep;
        ssize_t n = recv(q->sock, &rep, sizeof rep, 0);
        if (n != (ssize_t)sizeof rep || rep.magic != CR_CTL_MAGIC) {
            q->done = 1;
            if (ended(q->pid)) /* BLCR's answer to a process gone meanwhile */
                say(q, ESRCH, "process %d ended during the checkpoint (a callback or another "
                    "thread made it exit, or it was killed)", (int)q->pid);
            else
                say(q, EIO, "the process ended or its runtime stopped answering during the checkpoint");
            return 1;
        }
        if (rep.err) {
            q->done = 1;
            rep.msg[sizeof rep.msg - 1] = 0;
            say(q, rep.err, "%s: %s", rep.msg, cr_strerror(rep.err));
            return 1;
        }
        if (rep.phase == CR_CTL_PRECOPYING) /* it works on: the time to stop starts again */
            q->freeze_deadline = now_ms() + q->timeout_ms + 2000;
        else if (rep.phase == CR_CTL_FROZEN)
            q->frozen = 1;
        else if (rep.phase == CR_CTL_PREPARED) {
            q->prepared = 1;
            q->snapshot = (rep.flags & CR_REPLY_SNAPSHOT) != 0;
        }
        else {
            q->done = 1;
            q->bytes = rep.bytes;
            rep.msg[sizeof rep.msg - 1] = 0;
            snprintf(q->msg, sizeof q->msg, "%s", rep.msg); /* a note (a full checkpoint: why) */
        }
    }
}

int crq_wait(struct crq *q, int wait_ms)
{
    return crq_pump(q, CR_CTL_DONE, wait_ms);
}

int crq_wait_phase(struct crq *q, int phase, int wait_ms)
{
    return crq_pump(q, phase, wait_ms);
}

int crq_send(struct crq *q, uint32_t op, int signal)
{
    struct cr_ctl_commit cmd = { CR_CTL_MAGIC, signal, op, 0 };
    if (send(q->sock, &cmd, sizeof cmd, MSG_NOSIGNAL) != (ssize_t)sizeof cmd)
        return say(q, errno ? errno : EIO, "the process went away during the checkpoint");
    return 0;
}

int crq_prepare(struct crq *q, const struct cr_ctl_prepare *prep)
{
    if (send(q->sock, prep, sizeof *prep, MSG_NOSIGNAL) != (ssize_t)sizeof *prep)
        return say(q, errno ? errno : EIO, "the process went away during the checkpoint");
    return 0;
}

void crq_commit(struct crq *q, int signal)
{
    if (crq_send(q, CR_CMD_COMMIT, signal) < 0)
        return;
    crq_commit_wait(q);
}

void crq_commit_wait(struct crq *q)
{
    /* the runtime closes the connection once it has let the process go; a process
     * given SIGSTOP stops first, and never does */
    for (int waited = 0; waited < 30000; waited += 50) {
        struct pollfd p = { q->sock, POLLIN, 0 };
        char dummy;
        if (poll(&p, 1, 50) == 1) {
            (void)!recv(q->sock, &dummy, 1, 0);
            return;
        }
        char st = crq_proc_state(q->pid);
        if (st == 'T' || st == 't' || st == 0)
            return;
    }
}

void crq_close(struct crq *q)
{
    if (q->sock >= 0)
        close(q->sock);
    q->sock = -1;
}
