/* Restart of several processes from one file: the tree comes back with its shape
 * (each process the child of its parent, zombies exiting again for their parent to
 * reap, sessions and process groups relative to each other) and its own pids, in a
 * new pid namespace (a user namespace too when not root) or, with --restore-pid,
 * exactly where they were.  The pipes and open files the processes share are made
 * once, before the first fork, and every process takes its own from them. */
#define _GNU_SOURCE
#include "restart.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "restart_child.h"
#include "restore_plan.h"
#include "resources/resources.h"

#define BARRIER_MS 30000

static struct {
    struct ctx_tree *t;
    const struct cr_restart_opts *o;
    struct cr_pool pool;
    uint32_t *created;         /* shared: processes made so far */
    struct ctx_pid_pair *pids; /* shared: each process's pid in the file and now */
    int new_pids;              /* a normal user's: new pids, no namespace (pid_map.c) */
    int outside;               /* in place (new pids, or old ones): no namespace */
    int status_fd, exit_fd;
    pid_t root;                /* init: the tree's root */
    int ctty_fd;               /* a session leader's new terminal, until its fds are open */
    void **sysv_at;            /* per pool memory: init's attachment of a System V segment */
    pid_t top;                 /* cr_restart, as the host's /proc numbers it */
} T = { .ctty_fd = -1 };


static struct child reporter(void)
{
    return (struct child){ .status_fd = T.status_fd };
}

pid_t cr_fork_as(pid_t want, unsigned long flags)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = flags;
    /* (with CLONE_PARENT the kernel wants none: the child takes its parent's) */
    ca.exit_signal = flags & CLONE_PARENT ? 0 : SIGCHLD;
    pid_t tid = want;
    if (want > 0) {
        ca.set_tid = (uint64_t)(uintptr_t)&tid;
        ca.set_tid_size = 1;
    }
    fflush(NULL);
    return (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
}

static int is_member(pid_t pid)
{
    for (uint32_t i = 0; i < T.t->n; i++)
        if (T.t->procs[i].pid == pid && T.t->procs[i].state == CTX_TREE_LIVE)
            return 1;
    return 0;
}

void cr_exit_as(int status)
{
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    int sig = WTERMSIG(status);
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
    _exit(128 + sig);
}

static __attribute__((noreturn)) void member_main(uint32_t i);

/* The pid a process of the tree has now (its own with --restore-pid and in a pid
 * namespace; a new one with new pids), once every process is made. */
static pid_t now_pid(pid_t in_file)
{
    for (uint32_t i = 0; i < T.t->n; i++)
        if (T.pids[i].known == in_file)
            return T.pids[i].real;
    return in_file;
}

/* A session leader whose controlling terminal was a pseudo-terminal of the tree
 * takes the new one. */
static void take_terminal(uint32_t i)
{
    const struct ctx_image *img = &T.t->images[i];
    for (uint32_t q = 0; img->proc->ctty_pts && q < T.pool.nptys; q++) {
        if (T.pool.ptys[q].index != img->proc->ctty_pts - 1)
            continue;
        int fd = open(T.pool.ptys[q].slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct child rep = reporter();
        if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
            child_fail(&rep, errno, "process %d cannot take its terminal %s back: %s",
                       T.t->procs[i].pid, T.pool.ptys[q].slave, strerror(errno));
        /* kept until the process's own fds are open: the last close of a terminal
         * takes it away from its session */
        T.ctty_fd = fd;
    }
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The children of pid's main thread, as /proc lists them ("pid pid ..."), into buf
 * (empty when it cannot be read). */
static void children_text(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
}

/* Whether a descendant of pid (the host's numbers, as /proc has them) is stopped. */
static int stopped_below(pid_t pid, int depth)
{
    char path[64], buf[4096];
    children_text(pid, buf, sizeof buf);
    for (char *p = buf, *end; depth < 64; p = end) {
        long c = strtol(p, &end, 10);
        if (end == p)
            break;
        char st[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", c);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t k = fd < 0 ? -1 : read(fd, st, sizeof st - 1);
        if (fd >= 0)
            close(fd);
        st[k > 0 ? k : 0] = 0;
        char *paren = strrchr(st, ')'); /* "pid (comm) S ...": comm may hold anything */
        if (paren && paren[1] == ' ' && (paren[2] == 'T' || paren[2] == 't'))
            return 1;
        if (stopped_below((pid_t)c, depth + 1))
            return 1;
    }
    return 0;
}

/* Makes the children of member i, in the file's order. */
static void make_children(uint32_t i)
{
    const struct ctx_tree_proc *p = &T.t->procs[i];
    struct child rep = reporter();
    for (uint32_t j = i + 1; j < T.t->n; j++) {
        if (T.t->procs[j].ppid != p->pid)
            continue;
        pid_t c = cr_fork_as(T.new_pids ? 0 : T.t->procs[j].pid, 0);
        if (c == 0)
            member_main(j);
        if (c < 0)
            child_fail(&rep, errno == EEXIST ? EBUSY : errno, "cannot create process %d (%s): %s",
                       T.t->procs[j].pid, T.t->procs[j].comm,
                       errno == EEXIST ? "that pid is in use" : strerror(errno));
    }
}

static __attribute__((noreturn)) void member_main(uint32_t i)
{
    const struct ctx_tree_proc *p = &T.t->procs[i];
    T.pids[i] = (struct ctx_pid_pair){ p->pid, (int32_t)getpid() };
    __atomic_add_fetch(T.created, 1, __ATOMIC_ACQ_REL);
    if (p->state == CTX_TREE_ZOMBIE)
        cr_exit_as(p->exit_status); /* exited, not reaped: it exits again, the same way */
    if (p->sid == p->pid) {
        setsid();
        take_terminal(i); /* before the children, who inherit it */
    } else if (p->pgid == p->pid) {
        setpgid(0, 0);
    }
    make_children(i);
    /* no pid is taken by a thread before every process has its own.  A process that
     * is merely slow gets BARRIER_MS without progress; one stopped (SIGSTOP, a Slurm
     * suspend) is waited for until it is continued, as every other phase of a restart
     * waits (tests/engine/restart_stopped.sh) */
    struct child rep = reporter();
    uint32_t seen = 0;
    struct timespec since;
    clock_gettime(CLOCK_MONOTONIC, &since);
    for (uint32_t now; (now = __atomic_load_n(T.created, __ATOMIC_ACQUIRE)) < T.t->n;) {
        struct timespec ts = { 0, 1000000 };
        if (now != seen || ms_since(&since) <= BARRIER_MS) {
            if (now != seen)
                clock_gettime(CLOCK_MONOTONIC, &since);
            seen = now;
            nanosleep(&ts, NULL);
            continue;
        }
        if (!stopped_below(T.top, 0))
            child_fail(&rep, ETIMEDOUT, "the other processes of the tree were not created "
                       "within %d s (%u of %u made; none of them stopped)", BARRIER_MS / 1000,
                       now, T.t->n);
        clock_gettime(CLOCK_MONOTONIC, &since); /* once continued, the full time again */
    }
    /* a group led by another process of the tree: its leader exists now */
    if (p->pgid != p->pid && p->sid != p->pid && is_member(p->pgid))
        setpgid(0, now_pid(p->pgid));
    /* a top-level process in place: cr_restart its parent, once the helper that made
     * it has gone (its pid map names cr_restart as the old parent, restart.c; the
     * root's parent-death signal is tied to cr_restart, not to the helper) */
    for (int waited = 0; T.outside && p->ppid == 0 && getppid() != T.top && waited < BARRIER_MS; waited++) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    struct child c = { .img = &T.t->images[i], .o = T.o, .status_fd = T.status_fd,
                       .pool = &T.pool, .member = i, .keep_fd = T.ctty_fd,
                       .pids = T.pids, .npids = T.t->n, .new_pids = T.new_pids,
                       .stands_in = T.outside && i == 0 };
    cr_restart_child(&c);
}

/* ---- the pool ---- */

static int max_fd_of_tree(void)
{
    int max = 2;
    for (uint32_t i = 0; i < T.t->n; i++)
        for (uint32_t k = 0; T.t->images[i].proc && k < T.t->images[i].proc->nfds; k++)
            if (T.t->images[i].fds[k]->fd > max)
                max = T.t->images[i].fds[k]->fd;
    return max;
}

/* Shared memory (MAP_SHARED anonymous, memfd) mapped by more than one process: one
 * memfd for all, which each maps where it had it; the saved pages are written in. */
static void pool_memory(struct child *rep, int low)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < T.t->n; i++)
        total += T.t->images[i].proc ? T.t->images[i].proc->nvmas : 0;
    T.pool.mems = calloc(total + 1, sizeof *T.pool.mems);
    T.sysv_at = calloc(total + 1, sizeof *T.sysv_at);
    if (!T.pool.mems || !T.sysv_at)
        child_fail(rep, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < T.t->n; i++) {
        const struct ctx_image *img = &T.t->images[i];
        for (uint32_t k = 0; img->proc && k < img->proc->nvmas; k++) {
            const struct ctx_vma *v = img->vmas[k];
            if (v->kind != CTX_VMA_SHARED_ANON || !v->id.ino)
                continue;
            int known = 0, others = 0;
            uint64_t size = 0;
            for (uint32_t q = 0; q < T.pool.nmems; q++)
                known |= T.pool.mems[q].dev == v->id.dev && T.pool.mems[q].ino == v->id.ino;
            for (uint32_t j = 0; !known && j < T.t->n; j++) {
                const struct ctx_image *o = &T.t->images[j];
                for (uint32_t m = 0; o->proc && m < o->proc->nvmas; m++) {
                    const struct ctx_vma *w = o->vmas[m];
                    if (w->kind != CTX_VMA_SHARED_ANON || w->id.dev != v->id.dev || w->id.ino != v->id.ino)
                        continue;
                    others |= j != i;
                    if (w->pgoff + (w->end - w->start) > size)
                        size = w->pgoff + (w->end - w->start);
                }
            }
            if (known || !others)
                continue;
            if (v->flags & CTX_VMA_SYSV) {
                /* one new segment, kept attached here (and in the processes forked from
                 * here) until each has attached it where it was; removed already, as it was */
                int id = cr_new_sysv_segment(v->id.ino, v->id.size);
                if (id < 0 || (T.sysv_at[T.pool.nmems] = shmat(id, NULL, 0)) == (void *)-1 ||
                    shmctl(id, IPC_RMID, NULL) < 0)
                    child_fail(rep, errno, "cannot make the System V shared memory of process %d "
                               "again", T.t->procs[i].pid);
                T.pool.mems[T.pool.nmems++] = (struct cr_pool_mem){ v->id.dev, v->id.ino, -1, id };
                continue;
            }
            /* a memfd as it was (its fd, if a process has one, is restored onto it) */
            const char *path = v->path_len ? (const char *)(v + 1) : "";
            int fd = !strncmp(path, "/memfd:", 7) ? cr_make_memfd(path)
                                                  : (int)syscall(SYS_memfd_create, "slurm-cr-shared", MFD_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
                child_fail(rep, errno, "cannot make the shared memory of process %d again: %s",
                           T.t->procs[i].pid, strerror(errno));
            T.pool.mems[T.pool.nmems++] = (struct cr_pool_mem){ v->id.dev, v->id.ino, pool_fd(rep, fd, low), -1 };
        }
    }
}

/* What the processes share: shared memory first (a memfd's fd is restored onto the
 * memory's memfd), then each kind's (pipes found in more than one process, unix pairs
 * across them, listening sockets they inherited, terminals, every open file a SHARED
 * record names). */
static void build_pool(void)
{
    struct child rep = reporter();
    int low = max_fd_of_tree() + 1;
    uint32_t total = 0;
    for (uint32_t i = 0; i < T.t->n; i++)
        total += T.t->images[i].proc ? T.t->images[i].proc->nfds : 0;
    T.pool.pipes = calloc(total + 1, sizeof *T.pool.pipes);
    T.pool.origins = calloc(total + 1, sizeof *T.pool.origins);
    T.pool.socks = calloc(2 * total + 2, sizeof *T.pool.socks);
    T.pool.ptys = calloc(total + 1, sizeof *T.pool.ptys);
    if (!T.pool.pipes || !T.pool.origins || !T.pool.socks || !T.pool.ptys)
        child_fail(&rep, ENOMEM, "out of memory");
    pool_memory(&rep, low);
    struct cr_pool_build b = { .t = T.t, .o = T.o, .pool = &T.pool, .rep = &rep,
                               .status_fd = T.status_fd, .low = low };
    /* the early kinds first (terminals: a slave shared by several processes is opened
     * from its pair), then the others, in the file's order */
    for (int early = 1; early >= 0; early--)
        for (uint32_t i = 0; i < T.t->n; i++) {
            const struct ctx_image *img = &T.t->images[i];
            for (uint32_t k = 0; img->proc && k < img->proc->nfds; k++) {
                const struct cr_fd_ops *kind = cr_fd_kind(img->fds[k]->kind);
                if (kind && kind->pool && kind->pool_early == early)
                    kind->pool(&b, i, k, img->fds[k]);
            }
        }
}

static void close_pool(void)
{
    for (uint32_t q = 0; q < T.pool.npipes; q++) {
        close(T.pool.pipes[q].end[0]);
        close(T.pool.pipes[q].end[1]);
    }
    for (uint32_t q = 0; q < T.pool.norigins; q++)
        close(T.pool.origins[q].obj);
    for (uint32_t q = 0; q < T.pool.nsocks; q++)
        close(T.pool.socks[q].fd);
    for (uint32_t q = 0; q < T.pool.nmems; q++)
        if (T.pool.mems[q].fd >= 0)
            close(T.pool.mems[q].fd);
        else
            shmdt(T.sysv_at[q]);
    for (uint32_t q = 0; q < T.pool.nptys; q++)
        close(T.pool.ptys[q].master);
}

/* ---- pid 1 of the tree's namespace ---- */

static void to_root(int sig)
{
    if (T.root > 0 && sig == SIGCONT)
        cr_tree_continue(T.root);
    else if (T.root > 0)
        kill(T.root, sig);
}

/* Continues `pid`'s descendants in process group pgid (their pgid read from /proc's
 * stat: "pid (comm) state ppid pgrp ..."). */
static void continue_group_below(pid_t pid, pid_t pgid, int depth)
{
    char buf[4096];
    children_text(pid, buf, sizeof buf);
    for (char *p = buf, *end; depth < 64; p = end) {
        long c = strtol(p, &end, 10);
        if (end == p)
            break;
        if (getpgid((pid_t)c) == pgid)
            kill((pid_t)c, SIGCONT);
        continue_group_below((pid_t)c, pgid, depth + 1);
    }
}

void cr_tree_continue(pid_t root)
{
    pid_t pgid = getpgid(root);
    if (pgid == root) { /* a job's leader: its group, as a shell's fg continues it */
        kill(-root, SIGCONT);
        return;
    }
    kill(root, SIGCONT); /* its group is led from outside the tree: the tree's part of it */
    if (pgid > 0)
        continue_group_below(root, pgid, 0);
}

/* The processes without a parent in the file (the root; in a group or session, every
 * process whose parent is outside it); returns the root's pid. */
static pid_t make_top_level(void)
{
    struct child rep = reporter();
    pid_t root = -1;
    for (uint32_t i = 0; i < T.t->n; i++) {
        if (T.t->procs[i].ppid != 0)
            continue;
        pid_t c = cr_fork_as(T.new_pids ? 0 : T.t->procs[i].pid, 0);
        if (c == 0)
            member_main(i);
        if (c < 0)
            child_fail(&rep, errno == EEXIST ? EBUSY : errno, "cannot create process %d (%s): %s",
                       T.t->procs[i].pid, T.t->procs[i].comm,
                       errno == EEXIST ? "that pid is in use" : strerror(errno));
        if (i == 0)
            root = c;
    }
    return root;
}

static __attribute__((noreturn)) void init_main(void)
{
    /* cr_restart stands for the tree's root: killed (SIGKILL too), it takes the
     * namespace along, whose pid 1 ending ends every process in it */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct pollfd gone = { T.exit_fd, 0, 0 }; /* (its parent is outside: getppid() is 0; a
                                                 pipe's write end says POLLERR once the
                                                 reader, cr_restart, is gone) */
    if (poll(&gone, 1, 0) > 0 && (gone.revents & POLLERR))
        _exit(1);
    build_pool();
    pid_t root = make_top_level();
    T.root = root;
    close_pool();
    close(T.status_fd);
    /* nothing more to make: as few capabilities as the tree (a process may read
     * /proc of another only with all the capabilities that one holds) */
    cr_restart_drop_caps();
    /* pid 1 gets no signal it has no handler for: pass them on to the tree */
    int fwd[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCONT };
    for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++)
        signal(fwd[i], to_root);
    /* a root that was stopped at the checkpoint (a shell's stopped job): each of its
     * stops is told to cr_restart, which stops with it (cr_restart.c) */
    int mirror = T.t->images[0].stopped != NULL;
    int status = 0;
    for (;;) { /* reaps orphans until the root ends */
        int st;
        pid_t w = waitpid(-1, &st, mirror ? WUNTRACED : 0);
        if (w == root && WIFSTOPPED(st)) {
            (void)!write(T.exit_fd, &st, sizeof st);
            continue;
        }
        if (w == root) {
            status = st;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
    }
    (void)!write(T.exit_fd, &status, sizeof status);
    _exit(0);
}

void cr_tree_signal(pid_t top, int sig)
{
    char buf[4096];
    children_text(top, buf, sizeof buf);
    pid_t kids[512];
    int nkids = 0;
    for (char *p = buf; *p && nkids < 512;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0)
            kids[nkids++] = (pid_t)v;
        p = end;
    }
    for (int i = 0; i < nkids; i++) {
        kill(kids[i], sig);
        cr_tree_signal(kids[i], sig);
    }
}

/* ---- the requester's side ---- */

static int have_cap(int cap)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return 0;
    return (d[cap / 32].effective >> (cap % 32)) & 1;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A pid namespace of the tree's own (and a user namespace mapping only us, if we
 * are not root); the next fork is its pid 1. */
static int new_namespace(char *err, size_t len)
{
    /* root (or root that became the user keeping CAP_SYS_ADMIN for this): a pid
     * namespace alone, in which every file and process shows its real owner */
    if (getuid() == 0 || have_cap(CAP_SYS_ADMIN)) {
        if (unshare(CLONE_NEWPID) < 0)
            return cr_say(err, len, errno, "cannot create a pid namespace: %s", strerror(errno));
        return 0;
    }
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
        return cr_say(err, len, errno, "cannot create a user and pid namespace for the tree's pids: "
                   "%s (are unprivileged user namespaces disabled? see user.max_user_namespaces); "
                   "root can restart it with --restore-pid", strerror(errno));
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    int rc = write_text("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    if (rc == 0)
        rc = write_text("/proc/self/setgroups", "deny");
    if (rc == 0)
        rc = write_text("/proc/self/gid_map", map);
    if (rc < 0)
        return cr_say(err, len, errno, "cannot map uid %u in the tree's user namespace: %s",
                   (unsigned)uid, strerror(errno));
    /* entering the namespace made us undumpable: the user's own tools (cr_checkpoint,
     * the Slurm node agent) must still see the tree's processes in /proc */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    return 0;
}

int cr_restart_may_restore_pid(void)
{
    return geteuid() == 0 || have_cap(CAP_CHECKPOINT_RESTORE) || have_cap(CAP_SYS_ADMIN);
}

/* What the runtime would do in each restored process of a ptrace image (restart_hole.c),
 * done from outside while every process waits at its restorer's gate: all are put back
 * before any runs (one of them could signal or write to another not complete yet), then
 * every gate is opened, then each restorer's memory removed.  0, or -errno and err. */
static int complete_from_outside(struct ctx_tree *t, const struct cr_restart_opts *o,
                                 const struct rp_status *got, uint32_t n, char *err, size_t len)
{
    char why[300];
    for (int step = 0; step < 3; step++)
        for (uint32_t i = 0; i < n; i++) {
            uint32_t m = got[i].member;
            if (m >= t->n || !t->images[m].proc)
                return cr_say(err, len, EPROTO, "a restored process of the tree said it was "
                              "process %u of %u", m, t->n);
            const struct ctx_image *img = &t->images[m];
            if (!(img->hdr.flags & CTX_HDR_PTRACE)) /* (its runtime does it) */
                continue;
            if (got[i].host_pid <= 0)
                return cr_say(err, len, ESRCH, "process %d (%s) of the tree could not tell its "
                              "pid as /proc numbers it (is /proc mounted?)", t->procs[m].pid,
                              t->procs[m].comm);
            int rc = 0;
            if (step == 0 && got[i].gate)
                rc = cr_restart_put_back(got[i].host_pid, got[i].gate, img, why, sizeof why);
            else if (step == 1 && got[i].gate)
                rc = cr_restart_open_gate(got[i].host_pid, got[i].gate, why, sizeof why);
            if (rc < 0)
                return cr_say(err, len, -rc, "process %d (%s) of the tree could not be completed: "
                              "%s", t->procs[m].pid, t->procs[m].comm, why);
            if (step == 2 && (img->hdr.flags & CTX_HDR_PTRACE) && !o->stop_first &&
                got[i].hole_len &&
                cr_restart_remove_hole(got[i].host_pid, got[i].hole_start, got[i].hole_len, img,
                                       why, sizeof why) < 0)
                fprintf(stderr, "cr_restart: warning: process %d (%s) of the tree keeps the "
                        "restorer's %llu KiB at 0x%llx: %s\n", t->procs[m].pid, t->procs[m].comm,
                        (unsigned long long)(got[i].hole_len >> 10),
                        (unsigned long long)got[i].hole_start, why);
        }
    return 0;
}

pid_t cr_restart_spawn_tree(struct ctx_tree *t, const struct cr_restart_opts *o, int pid_mode,
                            int *exit_fd, char *err, size_t len)
{
    int restore_pid = pid_mode == CR_TREE_OLD_PIDS, outside = pid_mode != CR_TREE_NAMESPACE;
    uint32_t nlive = 0;
    for (uint32_t i = 0; i < t->n; i++)
        nlive += t->procs[i].state == CTX_TREE_LIVE;
    *exit_fd = -1;
    if (restore_pid) {
        if (!cr_restart_may_restore_pid())
            return cr_say(err, len, EPERM, "--restore-pid needs root or CAP_CHECKPOINT_RESTORE; "
                       "without it the tree gets its own pid namespace, where its pids are the same");
        for (uint32_t i = 0; i < t->n; i++)
            if (kill(t->procs[i].pid, 0) == 0 || errno == EPERM)
                return cr_say(err, len, EBUSY, "--restore-pid: pid %d (of %s) is in use; nothing was "
                           "started (restart without --restore-pid to give the tree its own pid "
                           "namespace)", t->procs[i].pid, t->procs[i].comm);
    }
    int st[2], ex[2];
    if (pipe2(st, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0)
        return cr_say(err, len, errno, "cannot create a pipe: %s", strerror(errno));
    /* made so far, the root's pid (new pids), then each process's pid pair */
    size_t shared_len = (2 * sizeof(uint32_t) + t->n * sizeof(struct ctx_pid_pair) + 4095) & ~(size_t)4095;
    uint32_t *created = mmap(NULL, shared_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (created == MAP_FAILED)
        return cr_say(err, len, errno, "cannot map shared memory: %s", strerror(errno));
    T.t = t;
    T.o = o;
    T.created = created;
    T.pids = (struct ctx_pid_pair *)(created + 2);
    T.new_pids = pid_mode == CR_TREE_NEW_PIDS;
    T.outside = outside;
    T.status_fd = st[1];
    T.exit_fd = ex[1];
    T.top = getpid();
    int rc = outside ? 0 : new_namespace(err, len);
    if (rc < 0)
        return rc;
    pid_t child;
    if (outside) {
        /* a helper makes the pool and the root, then leaves it to us: we are its reaper */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        pid_t helper = fork();
        if (helper == 0) {
            build_pool();
            created[1] = (uint32_t)make_top_level();
            _exit(0);
        }
        if (helper > 0)
            waitpid(helper, NULL, 0);
        child = helper < 0 ? helper : (pid_t)created[1];
        if (helper > 0 && child <= 0) /* (it said why through the status pipe) */
            child = 0;
    } else {
        child = fork();
        if (child == 0)
            init_main();
    }
    close(st[1]);
    close(ex[1]);
    if (child < 0) {
        munmap(created, shared_len);
        return cr_say(err, len, errno, "cannot fork: %s", strerror(errno));
    }
    uint32_t ok = 0;
    struct rp_status s, *got = calloc(nlive + 1, sizeof *got);
    int rc2 = got ? 0 : cr_say(err, len, ENOMEM, "out of memory");
    while (rc2 == 0 && ok < nlive) {
        ssize_t n = read(st[0], &s, sizeof s);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof s) {
            rc2 = cr_say(err, len, EIO, "a process of the tree died while it was restored");
        } else if (s.err) {
            s.msg[sizeof s.msg - 1] = 0;
            rc2 = cr_say(err, len, s.err, "%s: %s", s.msg, strerror(s.err));
        } else {
            got[ok++] = s;
        }
    }
    if (rc2 == 0) /* every process is there: a ptrace image's completed before any runs */
        rc2 = complete_from_outside(t, o, got, nlive, err, len);
    if (rc2 == 0 && o->step_dir) /* a task of a step: the others wait for it (no gate here) */
        rc2 = cr_step_start(o, 0, 0, err, len);
    free(got);
    if (rc2 < 0) {
        if (child > 0)
            kill(child, SIGKILL);
        for (uint32_t i = 0; outside && i < t->n; i++)
            if (T.pids[i].real > 0)
                kill(T.pids[i].real, SIGKILL);
        if (child > 0)
            waitpid(child, NULL, 0);
        munmap(created, shared_len);
        close(st[0]);
        close(ex[0]);
        return rc2;
    }
    munmap(created, shared_len);
    close(st[0]);
    if (outside)
        close(ex[0]); /* the root is ours: its own status tells */
    else
        *exit_fd = ex[0];
    return child;
}
