#define _GNU_SOURCE
#include "tree_request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <time.h>
#include <unistd.h>

#include "context_header.h"
#include "control.h"
#include "crc32c.h"

#define PAGE 4096ULL
#define ALIGN(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define MAX_MEMBERS 4096

static int say(struct crtree *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(struct crtree *t, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->err = err;
    return -err;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- what /proc says about a process ---- */

struct pstat {
    char state;
    pid_t ppid, pgrp, session;
    int exit_code;
    int exit_signal;           /* what its parent gets when it ends: 0 for our snapshot writers */
    char comm[16];
};

static int read_text(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

static int proc_stat(pid_t pid, struct pstat *ps)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    memset(ps, 0, sizeof *ps);
    if (read_text(path, buf, sizeof buf) < 0)
        return -1;
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren[1] != ' ')
        return -1;
    size_t clen = (size_t)(close_paren - open_paren - 1);
    memcpy(ps->comm, open_paren + 1, clen < sizeof ps->comm - 1 ? clen : sizeof ps->comm - 1);
    char *p = close_paren + 2;
    ps->state = *p;
    /* fields from 3 on; exit_code is field 52 */
    int field = 3;
    for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
        long v = strtol(tok, NULL, 10);
        if (field == 4)
            ps->ppid = (pid_t)v;
        else if (field == 5)
            ps->pgrp = (pid_t)v;
        else if (field == 6)
            ps->session = (pid_t)v;
        else if (field == 38)
            ps->exit_signal = (int)v;
        else if (field == 52)
            ps->exit_code = (int)v;
    }
    return 0;
}

/* The last number of a line of /proc/PID/status (NSpid: the pid the process itself sees). */
static pid_t status_last(pid_t pid, const char *key, pid_t dflt)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_text(path, buf, sizeof buf) < 0)
        return dflt;
    size_t klen = strlen(key);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            char *last = strrchr(line, '\t');
            return last ? (pid_t)strtol(last + 1, NULL, 10) : dflt;
        }
        line = nl ? nl + 1 : NULL;
    }
    return dflt;
}

static long proc_uid(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return stat(path, &st) < 0 ? -1 : (long)st.st_uid;
}

/* ---- the members ---- */

static int find_member(const struct crtree *t, pid_t pid)
{
    for (int i = 0; i < t->n; i++)
        if (t->m[i].pid == pid)
            return i;
    return -1;
}

static int skipped(const struct crtree *t, pid_t pid)
{
    for (int i = 0; i < t->nskip; i++)
        if (t->skip[i] == pid)
            return 1;
    return 0;
}

/* The requester is never part of what it freezes, nor are the processes between it and
 * the target when it runs inside the tree (system("cr_checkpoint $PPID"), a script that
 * checkpoints its own job): they wait for it, and it would wait for them.  BLCR left
 * cr_checkpoint out of checkpoints the same way. */
static void find_skipped(struct crtree *t, pid_t target)
{
    pid_t chain[64];
    int n = 0;
    for (pid_t p = getpid(); p > 1 && n < 64; ) {
        if (p == target) {
            memcpy(t->skip, chain, (size_t)n * sizeof *chain);
            t->nskip = n;
            return;
        }
        chain[n++] = p;
        struct pstat ps;
        if (proc_stat(p, &ps) < 0)
            break;
        p = ps.ppid;
    }
    t->skip[0] = getpid(); /* not inside the tree: only itself (in a group or session) */
    t->nskip = 1;
}

static int add_member(struct crtree *t, pid_t pid, pid_t ppid)
{
    if (find_member(t, pid) >= 0 || skipped(t, pid))
        return 0;
    char why[sizeof t->left_out];
    int verdict = crq_ptrace_verdict(t->traced, t->ntraced, pid, t->flags, why, sizeof why);
    if (verdict < 0)
        return say(t, -verdict, "%s", why);
    if (verdict > 0) { /* left out, with its descendants (never scanned) */
        memcpy(t->left_out, why, sizeof why);
        return 0;
    }
    if (t->n == MAX_MEMBERS)
        return say(t, E2BIG, "more than %d processes", MAX_MEMBERS);
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        struct crt_member *m = realloc(t->m, (size_t)cap * sizeof *m);
        if (!m)
            return say(t, ENOMEM, "out of memory");
        t->m = m;
        t->cap = cap;
    }
    struct crt_member *m = &t->m[t->n++];
    memset(m, 0, sizeof *m);
    m->pid = pid;
    m->ppid = ppid;
    m->q.sock = -1;
    return 1;
}

static void drop_member(struct crtree *t, int i)
{
    crq_close(&t->m[i].q);
    memmove(&t->m[i], &t->m[i + 1], (size_t)(t->n - i - 1) * sizeof t->m[0]);
    t->n--;
}

/* The runtime's snapshot child (checkpoint.c): named so, and silent at its end. */
static int is_snapshot_writer(pid_t pid)
{
    struct pstat ps;
    char path[64], comm[32];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    if (read_text(path, comm, sizeof comm) < 0 || strcmp(comm, CR_SNAPSHOT_COMM "\n"))
        return 0;
    return proc_stat(pid, &ps) == 0 && ps.exit_signal == 0;
}

/* Children of pid: every thread's /proc children list. */
static int add_children(struct crtree *t, pid_t pid, int *added)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc >= 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char cpath[384], buf[8192];
        snprintf(cpath, sizeof cpath, "%s/%s/children", path, e->d_name);
        if (read_text(cpath, buf, sizeof buf) < 0)
            continue;
        for (char *tok = strtok(buf, " \n"); tok && rc >= 0; tok = strtok(NULL, " \n")) {
            if (is_snapshot_writer((pid_t)atoi(tok)))
                continue; /* a copy of its parent writing an earlier checkpoint */
            if (crq_is_restarter((pid_t)atoi(tok))) { /* what it restored, not itself */
                pid_t inner = crq_restored_by((pid_t)atoi(tok));
                rc = inner == (pid_t)atoi(tok) ? 0 : add_member(t, inner, pid);
                if (rc > 0)
                    (*added)++;
                continue;
            }
            rc = add_member(t, (pid_t)atoi(tok), pid);
            if (rc > 0)
                (*added)++;
        }
    }
    closedir(d);
    return rc < 0 ? rc : 0;
}

/* Every process of the group or session led by the root's, parents first. */
static int add_group(struct crtree *t, pid_t root, int *added)
{
    struct pstat rs;
    if (proc_stat(root, &rs) < 0)
        return say(t, ESRCH, "no process %d", (int)root);
    pid_t want = t->scope == CTX_SCOPE_PGRP ? rs.pgrp : rs.session;
    long uid = proc_uid(root);
    DIR *d = opendir("/proc");
    if (!d)
        return say(t, errno, "cannot read /proc: %s", strerror(errno));
    struct { pid_t pid, ppid; } found[MAX_MEMBERS];
    int nfound = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nfound < MAX_MEMBERS) {
        pid_t pid = (pid_t)atoi(e->d_name);
        struct pstat ps;
        if (pid <= 0 || skipped(t, pid) || proc_stat(pid, &ps) < 0 || proc_uid(pid) != uid ||
            is_snapshot_writer(pid))
            continue; /* (not the requester, when it is in the group; nor a copy of one
                         of its processes writing an earlier checkpoint) */
        if ((t->scope == CTX_SCOPE_PGRP ? ps.pgrp : ps.session) == want)
            found[nfound].pid = pid, found[nfound++].ppid = ps.ppid;
    }
    closedir(d);
    /* the leader first (the file's first process is its root, and a process whose
     * parent just ended, or a zombie, must not take that place), then parents before
     * children: repeatedly take those whose parent is placed or outside */
    for (int i = 0; i < nfound; i++)
        if (found[i].pid == want && proc_stat(want, &rs) == 0 && rs.state != 'Z') {
            int rc = add_member(t, found[i].pid, found[i].ppid);
            if (rc < 0)
                return rc;
            *added += rc;
            found[i].pid = 0;
        }
    for (int progress = 1; progress;) {
        progress = 0;
        for (int i = 0; i < nfound; i++) {
            if (!found[i].pid)
                continue;
            int parent_waiting = 0;
            for (int j = 0; j < nfound; j++)
                if (found[j].pid && found[j].pid == found[i].ppid)
                    parent_waiting = 1;
            if (parent_waiting && find_member(t, found[i].ppid) < 0)
                continue;
            int rc = add_member(t, found[i].pid, found[i].ppid);
            if (rc < 0)
                return rc;
            *added += rc;
            found[i].pid = 0;
            progress = 1;
        }
    }
    return 0;
}

static int rescan(struct crtree *t, pid_t root, int *added)
{
    if (t->scope != CTX_SCOPE_TREE)
        return add_group(t, root, added);
    for (int i = 0; i < t->n; i++) { /* t->n grows as children are found: BFS */
        if (t->m[i].zombie)
            continue;
        int rc = add_children(t, t->m[i].pid, added);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int shared_tables(struct crtree *t, int with_vm);

int crtree_find(struct crtree *t, pid_t pid, int scope, int fd, unsigned timeout_ms, unsigned flags)
{
    memset(t, 0, sizeof *t);
    t->scope = scope;
    t->fd = fd;
    t->timeout_ms = timeout_ms;
    t->flags = flags;
    int added = 0;
    find_skipped(t, pid);
    t->ntraced = crq_traced(t->traced, 256); /* (once: not per process, while others wait frozen) */
    /* a tree starts at pid; a group or session is ordered parents first */
    int rc = scope == CTX_SCOPE_TREE ? add_member(t, pid, 0) : 0;
    if (rc >= 0)
        rc = rescan(t, pid, &added);
    if (rc < 0)
        return rc;
    if (t->n == 0 && t->left_out[0])
        return say(t, ESRCH, "%s: nothing to checkpoint", t->left_out);
    if (t->n == 0)
        return say(t, ESRCH, "no process %d", (int)pid);
    if ((rc = shared_tables(t, 0)) < 0) /* (a child made by a bare clone() has no runtime:
                                            say what it shares first) */
        return rc;
    int live = 0;
    for (int i = 0; i < t->n; i++) {
        struct pstat ps;
        if (proc_stat(t->m[i].pid, &ps) == 0 && ps.state == 'Z')
            t->m[i].zombie = 1;
        else
            live++;
    }
    return live;
}

/* A process that could not be reached or frozen: gone or a zombie now is no error
 * (one that is exiting gets a moment to become either). */
static int vanished(struct crtree *t, int i)
{
    for (int tries = 0; tries < 20; tries++) {
        struct pstat ps;
        if (proc_stat(t->m[i].pid, &ps) < 0) {
            drop_member(t, i);
            return 1;
        }
        if (ps.state == 'Z') {
            crq_close(&t->m[i].q);
            t->m[i].connected = 0;
            t->m[i].zombie = 1;
            return 1;
        }
        if (ps.state != 'X' && (t->m[i].q.err != EIO || tries >= 2))
            return 0;
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static const char *comm_of(pid_t pid, char *buf)
{
    struct pstat ps;
    if (proc_stat(pid, &ps) < 0)
        return "gone";
    memcpy(buf, ps.comm, sizeof ps.comm);
    return buf;
}

/* How long a process may be without its runtime up (exec'ing, or just started) */
#define UNREADY_GRACE_MS 2000

/* Whether the runtime is loaded in pid (its control socket may not be up yet: a
 * child stopped as it was forked); 1 when its map cannot be read. */
static int has_runtime_mapped(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 1;
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, "/libcr_run.so") != NULL;
    fclose(f);
    return found;
}

/* A process stopped by SIGSTOP (state T) cannot answer: it is continued once its
 * parent, a process of the tree, is frozen (which takes back the SIGCHLD and wait()
 * report that causes: stopped_children.c), and its runtime stops it again before it
 * runs the program (CR_CTL_STOPPED).  One whose parent is outside (a shell,
 * slurmstepd: they would see it go on), that a debugger stopped, or whose own SIGCONT
 * handler would run, is refused.  Returns 1 to wait for the parent, 0 to go on, or
 * -errno. */
static int continue_stopped(struct crtree *t, int i)
{
    struct crt_member *m = &t->m[i];
    char st = crq_proc_state(m->pid), c[16];
    if (m->stopped || (st != 'T' && st != 't'))
        return 0;
    pid_t tracer = status_last(m->pid, "TracerPid", 0);
    if (st == 't' || tracer > 0)
        return say(t, EBUSY, "process %d (%s) of the %s is stopped under a tracer (process %d: a "
                   "debugger or strace): detach it first", (int)m->pid, comm_of(m->pid, c),
                   t->scope == CTX_SCOPE_TREE ? "tree" : "group", (int)tracer);
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)m->pid);
    char *cgt = read_text(path, buf, sizeof buf) > 0 ? strstr(buf, "\nSigCgt:") : NULL;
    if (cgt && (strtoull(cgt + 8, NULL, 16) >> (SIGCONT - 1) & 1))
        return say(t, EBUSY, "process %d (%s) of the %s is stopped and handles SIGCONT: "
                   "continuing it for the checkpoint would run its handler; continue it "
                   "(kill -CONT %d) and checkpoint then", (int)m->pid, comm_of(m->pid, c),
                   t->scope == CTX_SCOPE_TREE ? "tree" : "group", (int)m->pid);
    if (!has_runtime_mapped(m->pid))
        return say(t, ENOTSUP, "process %d (%s) of the %s is stopped and not running under "
                   "cr_run (no slurm-cr runtime in it): start it with 'cr_run PROGRAM'",
                   (int)m->pid, comm_of(m->pid, c), t->scope == CTX_SCOPE_TREE ? "tree" : "group");
    int parent = find_member(t, m->ppid);
    if (parent < 0 || t->m[parent].zombie)
        return say(t, EBUSY, "process %d (%s) is stopped, and its parent is not in the "
                   "checkpoint: continuing it would tell that parent; continue it (kill -CONT "
                   "%d) and checkpoint then", (int)m->pid, comm_of(m->pid, c), (int)m->pid);
    if (!t->m[parent].q.frozen)
        return 1;
    if (kill(m->pid, SIGCONT) < 0)
        return 0; /* gone: found so below */
    m->stopped = 1;
    return 0;
}

static const char *what(const struct crtree *t)
{
    return t->scope == CTX_SCOPE_TREE ? "tree" : t->scope == CTX_SCOPE_PGRP ? "process group"
                                                                            : "session";
}

/* A process of a tree held through ptrace (crtree.ptrace): every thread of it stopped
 * where it was.  0, 1 when it ended meanwhile (dropped, or now a zombie), or -errno. */
static int hold_member(struct crtree *t, int i)
{
    struct crt_member *m = &t->m[i];
    char c[16], st = crq_proc_state(m->pid);
    if (st == 'T' || st == 't')
        return say(t, EBUSY, "process %d (%s) of the %s is stopped: held through ptrace it "
                   "would be let run; continue it (kill -CONT %d) and checkpoint then",
                   (int)m->pid, comm_of(m->pid, c), what(t), (int)m->pid);
    struct sockaddr_un addr;
    if (cr_ctl_find_address(m->pid, &addr, 0) >= 0)
        return say(t, ENOTSUP, "process %d (%s) of the %s runs under cr_run, and process %d "
                   "does not: one %s is saved one way; run them all under cr_run, or none",
                   (int)m->pid, comm_of(m->pid, c), what(t), (int)t->m[0].pid, what(t));
    char msg[sizeof m->q.msg];
    int rc = t->ptrace->seize(m->pid, t->timeout_ms, &m->held, msg, sizeof msg);
    if (rc == 0) {
        m->connected = 1;
        return 0;
    }
    if (vanished(t, i))
        return 1;
    if (i == 0) /* (the dumper's message names the process) */
        return say(t, -rc, "%s", msg);
    return say(t, -rc, "process %d (%s) of the %s: %s", (int)m->pid, comm_of(m->pid, c), what(t),
               msg);
}

/* Connects to and freezes every live member, taking in the children they made
 * meanwhile, until the set is closed: a frozen process makes no more. */
static int freeze_all(struct crtree *t)
{
    pid_t root = t->m[0].pid;
    uint64_t deadline = now_ms() + t->timeout_ms;
    for (;;) {
        int waiting = 0;
        for (int i = 0; i < t->n; i++) {
            struct crt_member *m = &t->m[i];
            if (m->connected || m->zombie)
                continue;
            if (t->ptrace) { /* held at once: it makes no more children from here on */
                int rc = hold_member(t, i);
                if (rc < 0)
                    return rc;
                i -= rc; /* (gone from the list, or a zombie: i again is the next) */
                continue;
            }
            /* (the first process stopped by job control: held, never continued) */
            m->job_held = t->job_hold && i == 0 && m->pid == root;
            int rc = m->job_held ? 0 : continue_stopped(t, i);
            if (rc < 0)
                return rc;
            if (rc > 0) {
                waiting = 1;
                continue;
            }
            rc = crq_start(&m->q, m->pid, t->fd, t->timeout_ms,
                           t->flags | CR_CTL_TREE | (m->stopped ? CR_CTL_STOPPED : 0) |
                           (m->job_held ? CR_CTL_STOPPED_HELD | CR_REQ_PTRACED_ALLOW /* by us */ : 0) |
                           (t->n > 1 ? CR_REQ_NO_PRECOPY : 0)); /* (written in turns) */
            if (rc == 0) {
                m->connected = 1;
                continue;
            }
            if (vanished(t, i)) {
                i--;
                continue;
            }
            if (rc == -EIO && now_ms() < deadline) { /* exec'd or ending as we came */
                waiting = 1;
                continue;
            }
            /* just forked or exec'd: its runtime comes up within moments, or never
             * (a program started without it need not hold the others up to MaxWait) */
            if (rc == -ENOTSUP && !m->unready_since)
                m->unready_since = now_ms();
            if (rc == -ENOTSUP && now_ms() < deadline && now_ms() < m->unready_since + UNREADY_GRACE_MS) {
                waiting = 1;
                continue;
            }
            char c[16];
            return say(t, -rc, "process %d (%s) of the %s: %s", (int)m->pid, comm_of(m->pid, c),
                       t->scope == CTX_SCOPE_TREE ? "tree" : "group", m->q.msg);
        }
        for (int i = 0; i < t->n && !t->ptrace; i++) {
            struct crt_member *m = &t->m[i];
            if (!m->connected)
                continue;
            crq_wait_phase(&m->q, CR_CTL_FROZEN, -1);
            if (m->q.frozen && m->job_held && !t->job_let_go) {
                t->job_let_go = 1; /* its program's threads stop again where they wait */
                t->job_hold->frozen(t->job_hold->arg);
            }
            if (m->q.frozen)
                continue;
            if (vanished(t, i)) {
                i--;
                continue;
            }
            if (m->q.err == EIO && now_ms() < deadline) {
                /* it exec'd: the new program's runtime comes up in a moment */
                crq_close(&m->q);
                m->connected = 0;
                waiting = 1;
                continue;
            }
            char c[16];
            return say(t, m->q.err, "process %d (%s) of the %s: %s", (int)m->pid, comm_of(m->pid, c),
                       t->scope == CTX_SCOPE_TREE ? "tree" : "group", m->q.msg);
        }
        int added = 0;
        int rc = rescan(t, root, &added);
        if (rc < 0)
            return rc;
        for (int i = 0; i < t->n; i++) {
            struct pstat ps;
            if (!t->m[i].connected && !t->m[i].zombie && proc_stat(t->m[i].pid, &ps) == 0 &&
                ps.state == 'Z')
                t->m[i].zombie = 1;
        }
        if (!added && !waiting)
            break;
        if (waiting) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    /* zombies whose parent reaped them before it froze are gone */
    for (int i = 0; i < t->n; i++)
        if (t->m[i].zombie && vanished(t, i) && find_member(t, t->m[i].pid) != i)
            i--;
    /* a tree whose first process ended meanwhile is no longer there to be saved */
    if (t->scope == CTX_SCOPE_TREE && (!t->n || t->m[0].pid != root || t->m[0].zombie))
        return say(t, ESRCH, "process %d ended during the checkpoint", (int)root);
    return 0;
}

/* ---- what no process sees alone ---- */

struct fd_seen {
    int member, fd;
    dev_t dev;
    ino_t ino;
    int pipe_ends;             /* 1 read, 2 write; 0: not a pipe */
    int inside;                /* a pipe with both ends in the tree (the pool's) */
    int fifo_reader;           /* a named FIFO open for reading */
    int skip;                  /* stdio of the tree, a socket, a FIFO, the destination */
};

static int is_terminal(const struct stat *st)
{
    unsigned maj = major(st->st_rdev);
    return S_ISCHR(st->st_mode) && (maj == 136 || maj == 4 || maj == 5);
}

static int fd_access(pid_t pid, int fd)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
    if (read_text(path, buf, sizeof buf) < 0)
        return 0;
    char *f = strstr(buf, "flags:");
    return f ? (int)(strtol(f + 6, NULL, 8) & O_ACCMODE) : 0;
}

/* The index of the pseudo-terminal whose master this fd is, or -1. */
static int pty_master_index(pid_t pid, int fd, const char *link)
{
    if (strcmp(link, "/dev/ptmx") && strcmp(link, "/dev/pts/ptmx"))
        return -1;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
    if (read_text(path, buf, sizeof buf) < 0)
        return -1;
    char *f = strstr(buf, "tty-index:");
    return f ? atoi(f + 10) : -1;
}

/* Two processes that share what clone() lets them share without being threads of one
 * process (CLONE_FILES, CLONE_FS, CLONE_VM: vfork) would come back with a copy each:
 * refused, naming them, rather than restored apart.  Before the freeze (with_vm 0), a
 * vfork() child is let be: the freeze waits for its exec. */
/* Not a zombie nor exiting: a process that has let go of its files, fs and memory
 * compares equal to any other such one. */
static int live(pid_t pid)
{
    struct pstat ps;
    return proc_stat(pid, &ps) == 0 && ps.state != 'Z' && ps.state != 'X';
}

static int shared_tables(struct crtree *t, int with_vm)
{
    static const struct { int type; const char *what; } kinds[] = {
        { KCMP_VM, "their memory (a vfork() child not yet exec'd, or clone(CLONE_VM)): "
                   "checkpoint again once it has exec'd or ended" },
        { KCMP_FILES, "one table of file descriptors (clone(CLONE_FILES) without CLONE_THREAD), "
                      "which a restart would give each a copy of: checkpoint again once one has "
                      "exec'd, ended or called unshare(CLONE_FILES)" },
        { KCMP_FS, "one working directory, root and umask (clone(CLONE_FS) without CLONE_THREAD), "
                   "which a restart would give each a copy of: checkpoint again once one has "
                   "ended or called unshare(CLONE_FS)" },
    };
    /* what clone() shares, a child shares with its parent (siblings sharing one share
     * it with their parent too): each member against its parent, not every pair */
    for (int j = 0; j < t->n; j++) {
        int i = find_member(t, t->m[j].ppid);
        if (i < 0 || t->m[i].zombie || t->m[j].zombie)
            continue;
        for (size_t k = with_vm ? 0 : 1; k < sizeof kinds / sizeof *kinds; k++)
            if (syscall(SYS_kcmp, t->m[i].pid, t->m[j].pid, kinds[k].type, 0, 0) == 0 &&
                live(t->m[i].pid) && live(t->m[j].pid)) { /* (an exiting one has none) */
                char a[16], b[16];
                return say(t, ENOTSUP, "processes %d (%s) and %d (%s) share %s (this "
                           "version cannot restore that)", (int)t->m[i].pid,
                           comm_of(t->m[i].pid, a), (int)t->m[j].pid,
                           comm_of(t->m[j].pid, b), kinds[k].what);
            }
    }
    return 0;
}

static int analyse(struct crtree *t, struct cr_ctl_prepare *prep)
{
    memset(prep, 0, sizeof *prep);
    int rc = shared_tables(t, 1);
    if (rc < 0)
        return rc;
    struct stat dest;
    fstat(t->fd, &dest);
    /* the tree's stdio: its root's fds 0-2 on a terminal, pipe or socket */
    struct stat stdio[3];
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)t->m[0].pid, i);
        if (stat(path, &stdio[i]) == 0 &&
            (is_terminal(&stdio[i]) || S_ISFIFO(stdio[i].st_mode) || S_ISSOCK(stdio[i].st_mode))) {
            prep->stdio[i].dev = stdio[i].st_dev;
            prep->stdio[i].ino = stdio[i].st_ino;
            prep->stdio[i].rdev = stdio[i].st_rdev;
            prep->stdio[i].valid = 1;
        }
    }
    size_t cap = 256, n = 0;
    struct fd_seen *seen = malloc(cap * sizeof *seen);
    if (!seen)
        return say(t, ENOMEM, "out of memory");
    for (int i = 0; i < t->n; i++) {
        if (t->m[i].zombie)
            continue;
        char dpath[64];
        snprintf(dpath, sizeof dpath, "/proc/%d/fd", (int)t->m[i].pid);
        DIR *d = opendir(dpath);
        if (!d)
            continue;
        struct dirent *e;
        int fds[65536], nfds = 0;
        while ((e = readdir(d)) && nfds < 65536)
            if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
                fds[nfds++] = atoi(e->d_name);
        closedir(d);
        for (int a = 1; a < nfds; a++) /* ascending: a process's first fd is the origin */
            for (int b = a; b > 0 && fds[b - 1] > fds[b]; b--) {
                int x = fds[b];
                fds[b] = fds[b - 1];
                fds[b - 1] = x;
            }
        for (int k = 0; k < nfds; k++) {
            char path[96], link[64];
            struct stat st;
            snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)t->m[i].pid, fds[k]);
            ssize_t ln = readlink(path, link, sizeof link - 1);
            if (ln < 0 || stat(path, &st) < 0)
                continue;
            link[ln] = 0;
            if (n == cap) {
                struct fd_seen *s2 = realloc(seen, (cap *= 2) * sizeof *seen);
                if (!s2) {
                    free(seen);
                    return say(t, ENOMEM, "out of memory");
                }
                seen = s2;
            }
            struct fd_seen *s = &seen[n++];
            memset(s, 0, sizeof *s);
            s->member = i;
            s->fd = fds[k];
            s->dev = st.st_dev;
            s->ino = st.st_ino;
            if (!strncmp(link, "pipe:[", 6))
                s->pipe_ends = fd_access(t->m[i].pid, fds[k]) == O_RDONLY ? 1 : 2;
            if (S_ISFIFO(st.st_mode) && link[0] == '/') { /* reopened by path by each */
                s->skip = 1;
                s->fifo_reader = fd_access(t->m[i].pid, fds[k]) != O_WRONLY;
            }
            for (int j = 0; j < 3; j++)
                if (prep->stdio[j].valid && st.st_dev == stdio[j].st_dev &&
                    st.st_ino == stdio[j].st_ino && st.st_rdev == stdio[j].st_rdev)
                    s->skip = 1;
            if (S_ISSOCK(st.st_mode) || (st.st_dev == dest.st_dev && st.st_ino == dest.st_ino))
                s->skip = 1;
            if (S_ISSOCK(st.st_mode) && prep->nsocks < CR_CTL_MAX_TREE_SOCKS)
                prep->socks[prep->nsocks++] = st.st_ino;
            int index = pty_master_index(t->m[i].pid, fds[k], link);
            if (index >= 0 && prep->nptys < CR_CTL_MAX_TREE_PTYS)
                prep->ptys[prep->nptys++] = index;
        }
    }
    /* pipes with both ends in the tree */
    for (size_t a = 0; a < n; a++) {
        if (!seen[a].pipe_ends || seen[a].skip)
            continue;
        int ends = 0, listed = 0;
        for (size_t b = 0; b < n; b++)
            if (seen[b].pipe_ends && seen[b].ino == seen[a].ino && seen[b].dev == seen[a].dev)
                ends |= seen[b].pipe_ends;
        for (uint32_t p = 0; p < prep->npipes; p++)
            listed |= prep->pipes[p] == (uint64_t)seen[a].ino;
        if (ends == 3 && !listed) {
            if (prep->npipes == CR_CTL_MAX_TREE_PIPES) {
                free(seen);
                return say(t, E2BIG, "more than %d pipes between the processes", CR_CTL_MAX_TREE_PIPES);
            }
            prep->pipes[prep->npipes++] = seen[a].ino;
        }
    }
    /* a pipe that leads outside is one open file shared like any other */
    for (size_t a = 0; a < n; a++)
        for (uint32_t p = 0; seen[a].pipe_ends && p < prep->npipes; p++)
            seen[a].inside |= prep->pipes[p] == (uint64_t)seen[a].ino;
    /* shares are computed per member when its PREPARE is sent: keep the table */
    t->seen = seen;
    t->nseen = n;
    return 0;
}

/* This member's fds whose open file description an earlier member has (kcmp). */
static int member_shares(struct crtree *t, int i, struct cr_ctl_prepare *prep)
{
    struct fd_seen *seen = t->seen;
    prep->nshares = 0;
    prep->nfifo_skip = 0;
    /* a named FIFO read by several processes: the first one saves what waits in it */
    for (size_t a = 0; a < t->nseen; a++) {
        if (seen[a].member != i || !seen[a].fifo_reader)
            continue;
        for (size_t b = 0; b < t->nseen && seen[b].member < i; b++)
            if (seen[b].fifo_reader && seen[b].ino == seen[a].ino && seen[b].dev == seen[a].dev &&
                prep->nfifo_skip < CR_CTL_MAX_TREE_PTYS) {
                prep->fifo_skip[prep->nfifo_skip++] = seen[a].ino;
                break;
            }
    }
    for (size_t a = 0; a < t->nseen; a++) {
        if (seen[a].member != i || seen[a].skip || seen[a].inside)
            continue;
        for (size_t b = 0; b < t->nseen && seen[b].member < i; b++) {
            if (seen[b].skip || seen[b].inside || seen[b].ino != seen[a].ino ||
                seen[b].dev != seen[a].dev ||
                syscall(SYS_kcmp, t->m[i].pid, t->m[seen[b].member].pid, KCMP_FILE, seen[a].fd,
                        seen[b].fd) != 0)
                continue;
            if (prep->nshares == CR_CTL_MAX_TREE_SHARES)
                return say(t, E2BIG, "process %d shares more than %d open files with the others",
                           (int)t->m[i].pid, CR_CTL_MAX_TREE_SHARES);
            prep->shares[prep->nshares++] = (struct cr_ctl_share){ seen[a].fd, seen[b].member,
                                                                   seen[b].fd, 0 };
            break;
        }
    }
    return 0;
}

/* ---- the file ---- */

/* The ids as the tree sees them (its own pid namespace), parents as member numbers. */
static void fill_records(struct crtree *t)
{
    for (int i = 0; i < t->n; i++) {
        struct crt_member *m = &t->m[i];
        struct pstat ps;
        proc_stat(m->pid, &ps);
        struct ctx_tree_proc *r = &m->rec;
        memset(r, 0, sizeof *r);
        r->pid = status_last(m->pid, "NSpid", m->pid);
        int parent = find_member(t, ps.ppid ? ps.ppid : m->ppid);
        r->ppid = parent >= 0 && parent < i ? t->m[parent].rec.pid : 0;
        r->pgid = status_last(m->pid, "NSpgid", ps.pgrp);
        r->sid = status_last(m->pid, "NSsid", ps.session);
        r->state = m->zombie ? CTX_TREE_ZOMBIE : CTX_TREE_LIVE;
        r->exit_status = m->zombie ? ps.exit_code : 0;
        memcpy(r->comm, ps.comm, sizeof r->comm);
    }
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static void seal(struct ctx_rec *r, const void *payload)
{
    r->crc = crc32c(crc32c(0, r, 12), payload, r->length);
}

/* Header and one record per process at the start, END after the last image. */
static int write_tree_frame(struct crtree *t, uint64_t data_offset, uint64_t trailer)
{
    struct ctx_header h;
    ctx_header_init(&h);
    h.scope = (uint32_t)t->scope;
    h.nproc = (uint32_t)t->n;
    h.flags = CTX_HDR_TREE;
    h.uid = (uint32_t)proc_uid(t->m[0].pid);
    h.nrecords = (uint32_t)t->n;
    h.records_offset = sizeof h;
    h.records_length = (uint64_t)t->n * (sizeof(struct ctx_rec) + sizeof(struct ctx_tree_proc));
    h.data_offset = data_offset;
    h.data_length = trailer - data_offset;
    h.trailer_offset = trailer;
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    int rc = write_at(t->fd, &h, sizeof h, 0);
    uint64_t off = sizeof h;
    for (int i = 0; rc == 0 && i < t->n; i++) {
        struct ctx_rec r = { CTX_REC_TREE_PROC, sizeof(struct ctx_tree_proc), (uint32_t)i, 0 };
        seal(&r, &t->m[i].rec);
        rc = write_at(t->fd, &r, sizeof r, off);
        if (rc == 0)
            rc = write_at(t->fd, &t->m[i].rec, sizeof t->m[i].rec, off + sizeof r);
        off += sizeof r + sizeof t->m[i].rec;
    }
    struct {
        struct ctx_rec r;
        struct ctx_end e;
    } end = { { CTX_REC_END, sizeof(struct ctx_end), (uint32_t)t->n, 0 }, { 0, 0, 0 } };
    end.e.file_length = trailer + sizeof end;
    seal(&end.r, &end.e);
    if (rc == 0)
        rc = write_at(t->fd, &end, sizeof end, trailer);
    if (rc == 0 && ftruncate(t->fd, (off_t)(trailer + sizeof end)) < 0)
        rc = -errno;
    if (rc == 0 && !(t->flags & CR_CTL_NOSYNC) && fsync(t->fd) < 0 && errno != EINVAL &&
        errno != EROFS)
        rc = -errno;
    if (rc < 0)
        return say(t, -rc, "writing the tree's header: %s", strerror(-rc));
    t->bytes = trailer + sizeof end;
    return 0;
}

static int member_failed(struct crtree *t, int i, const char *when)
{
    char c[16];
    return say(t, t->m[i].q.err ? t->m[i].q.err : EIO, "process %d (%s) of the %s%s: %s",
               (int)t->m[i].pid, comm_of(t->m[i].pid, c),
               t->scope == CTX_SCOPE_TREE ? "tree" : "group", when, t->m[i].q.msg);
}

int crtree_freeze(struct crtree *t)
{
    return freeze_all(t);
}

int crtree_checkpoint(struct crtree *t)
{
    int rc = freeze_all(t);
    return rc < 0 ? rc : crtree_write(t);
}

/* crtree_write for a tree held through ptrace: each process written from outside in
 * turn, with what it shares with the others as its runtime would be told it. */
static int write_held(struct crtree *t, struct cr_ctl_prepare *prep)
{
    uint64_t first = ALIGN(sizeof(struct ctx_header) +
                           (uint64_t)t->n * (sizeof(struct ctx_tree_proc) + sizeof(struct ctx_rec)));
    int alone = t->n == 1; /* (a live one: the tree's root) */
    uint64_t off = alone ? 0 : first;
    for (int i = 0; i < t->n; i++) {
        struct crt_member *m = &t->m[i];
        if (m->zombie)
            continue;
        prep->magic = CR_CTL_MAGIC;
        prep->op = CR_CMD_PREPARE;
        prep->index = (uint32_t)i;
        prep->alone = (uint32_t)alone;
        int rc = member_shares(t, i, prep);
        if (rc < 0)
            return rc;
        if (lseek(t->fd, (off_t)off, SEEK_SET) < 0)
            return say(t, errno, "cannot seek in the context file: %s", strerror(errno));
        uint64_t bytes = 0;
        rc = t->ptrace->dump(m->held, t->fd, t->flags, alone ? NULL : prep, &bytes, m->q.msg,
                             sizeof m->q.msg);
        if (rc < 0) {
            m->q.err = -rc;
            return member_failed(t, i, "");
        }
        m->rec.image_offset = off;
        m->rec.image_length = bytes;
        off = ALIGN(off + bytes);
        if (alone)
            t->bytes = bytes;
    }
    free(t->seen);
    t->seen = NULL;
    /* every image is taken: as the runtime's snapshots let theirs, they run on (unless a
     * signal is to reach them first: crtree_commit) */
    for (int i = 0; (t->flags & CR_CTL_CONTINUE) && i < t->n; i++) {
        t->ptrace->release(t->m[i].held, 0);
        t->m[i].held = NULL;
    }
    return alone ? 0 : write_tree_frame(t, first, off);
}

int crtree_write(struct crtree *t)
{
    static struct cr_ctl_prepare prep;
    int rc = analyse(t, &prep);
    if (rc < 0)
        return rc;
    fill_records(t);
    if (t->ptrace)
        return write_held(t, &prep);
    for (int i = 0; i < t->n; i++) {
        if (t->m[i].zombie)
            continue;
        prep.magic = CR_CTL_MAGIC;
        prep.op = CR_CMD_PREPARE;
        prep.index = (uint32_t)i;
        prep.alone = t->n == 1; /* its file is a process's alone, restarted as one */
        if ((rc = member_shares(t, i, &prep)) < 0)
            return rc;
        if (crq_prepare(&t->m[i].q, &prep) < 0)
            return member_failed(t, i, "");
    }
    for (int i = 0; i < t->n; i++)
        if (!t->m[i].zombie) {
            crq_wait_phase(&t->m[i].q, CR_CTL_PREPARED, -1);
            if (!t->m[i].q.prepared || t->m[i].q.err)
                return member_failed(t, i, "");
        }
    free(t->seen);
    t->seen = NULL;
    /* every image is taken: processes whose snapshot child holds theirs run on */
    for (int i = 0; i < t->n; i++)
        if (!t->m[i].zombie && t->m[i].q.snapshot && crq_send(&t->m[i].q, CR_CMD_RELEASE, 0) < 0)
            return member_failed(t, i, "");
    if (t->n == 1 && !t->m[0].zombie) { /* one process: an ordinary file of its own */
        struct crt_member *m = &t->m[0];
        if (lseek(t->fd, 0, SEEK_SET) < 0)
            return say(t, errno, "cannot seek in the context file: %s", strerror(errno));
        if (crq_send(&m->q, CR_CMD_WRITE, 0) < 0 || (crq_wait(&m->q, -1), m->q.err))
            return member_failed(t, 0, "");
        t->bytes = m->q.bytes;
        return 0;
    }
    uint64_t first = ALIGN(sizeof(struct ctx_header) +
                           (uint64_t)t->n * (sizeof(struct ctx_rec) + sizeof(struct ctx_tree_proc)));
    uint64_t off = first;
    for (int i = 0; i < t->n; i++) {
        struct crt_member *m = &t->m[i];
        if (m->zombie)
            continue;
        if (lseek(t->fd, (off_t)off, SEEK_SET) < 0)
            return say(t, errno, "cannot seek in the context file: %s", strerror(errno));
        if (crq_send(&m->q, CR_CMD_WRITE, 0) < 0)
            return member_failed(t, i, "");
        crq_wait(&m->q, -1);
        if (m->q.err)
            return member_failed(t, i, "");
        m->rec.image_offset = off;
        m->rec.image_length = m->q.bytes;
        off = ALIGN(off + m->q.bytes);
    }
    /* the gaps between images are zeros: extend the file to the aligned end */
    return write_tree_frame(t, first, off);
}

/* A process held stopped (crtree.job_hold) shows stopped all along: its runtime has
 * let it go only once it closes the connection (its manager, still traced, would stop
 * with the commit unread or its stopped children not settled if let go before). */
static void commit_wait_held(const struct crtree *t, struct crq *q)
{
    struct pollfd p = { q->sock, POLLIN, 0 };
    for (unsigned waited = 0; waited < t->timeout_ms && poll(&p, 1, 50) == 0; waited += 50)
        ;
    char dummy;
    (void)!recv(q->sock, &dummy, 1, MSG_DONTWAIT);
}

void crtree_commit(struct crtree *t, int signal)
{
    /* (a process that ran on after its snapshot takes no commit: a SIGCONT, the only
     * signal that lets it run on, is sent to it from here) */
    for (int i = 0; t->ptrace && i < t->n; i++) { /* (SIGKILL: before it runs again) */
        if (t->m[i].held)
            t->ptrace->release(t->m[i].held, signal);
        else if (signal && t->m[i].connected && !t->m[i].zombie)
            kill(t->m[i].pid, signal);
        t->m[i].held = NULL;
    }
    for (int i = 0; !t->ptrace && i < t->n; i++) {
        if (!t->m[i].connected || t->m[i].zombie)
            continue;
        if (!t->m[i].q.snapshot)
            crq_send(&t->m[i].q, CR_CMD_COMMIT, signal);
        else if (signal == SIGCONT)
            kill(t->m[i].pid, SIGCONT);
    }
    for (int i = 0; !t->ptrace && i < t->n; i++)
        if (t->m[i].connected && !t->m[i].zombie && !t->m[i].q.snapshot && t->m[i].job_held)
            commit_wait_held(t, &t->m[i].q);
        else if (t->m[i].connected && !t->m[i].zombie && !t->m[i].q.snapshot)
            crq_commit_wait(&t->m[i].q);
}

void crtree_close(struct crtree *t)
{
    for (int i = 0; i < t->n; i++) {
        if (t->m[i].stopped && !t->m[i].connected)
            kill(t->m[i].pid, SIGSTOP); /* continued, and its runtime never took it in hand */
        if (t->m[i].held) /* it runs on unharmed from where it was stopped */
            t->ptrace->release(t->m[i].held, 0);
        t->m[i].held = NULL;
        crq_close(&t->m[i].q);
    }
    free(t->m);
    free(t->seen);
    t->m = NULL;
    t->seen = NULL;
    t->n = t->cap = 0;
}
