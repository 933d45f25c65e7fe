/* pidfds (pidfd_open, clone's CLONE_PIDFD): one of the process itself, or of a process
 * of the tree below it (its pid is the same in the restarted tree's pid namespace),
 * saved with that pid and opened again on the restarted process; one of a process that
 * has ended and was reaped comes back as a pidfd of a child that ends and is reaped at
 * once.  One of a process outside the checkpoint is refused: it cannot be brought
 * back, and a pidfd of another process with the same number would be worse than none. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "context_reader.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* ---- dump ---- */

static int detect_pidfd(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[pidfd]") || !strncmp(p->path, "pidfd:", 6);
}

/* The parent of process pid (as /proc names it), 0 when it cannot be read. */
static long parent_of(struct dump *d, long pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    char *buf = d->scratch + FDINFO_OFF;
    if (read_file(d, path, buf, FDINFO_SIZE) < 0)
        return 0;
    const char *q = strrchr(buf, ')'); /* after the command, which may hold anything */
    return q && q[1] == ' ' && q[2] && q[3] == ' ' ? strtol(q + 4, NULL, 10) : 0;
}

/* Whether pid (as /proc names it) is self (1) or a process below self (2); self is
 * the stopped process the ptrace dumper's helper saves (d->remote), not the helper. */
static int inside(struct dump *d, long pid)
{
    char self[32];
    ssize_t n = d->remote ? snprintf(self, sizeof self, "%d", (int)d->proc->pid)
                          : readlink("/proc/self", self, sizeof self - 1);
    if (n < 0)
        return 0;
    self[n] = 0;
    long me = strtol(self, NULL, 10);
    if (pid == me)
        return 1;
    for (long up = pid; up > 1; up = parent_of(d, up))
        if (up == me)
            return 2;
    return 0;
}

static int save_pidfd(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    const char *info = fdinfo(d, fd);
    if (!info)
        return -EIO;
    const char *pid_line = strstr(info, "\nPid:"), *ns_line = strstr(info, "\nNSpid:");
    long pid = pid_line ? strtol(pid_line + 5, NULL, 10) : 0, ns_pid = 0;
    for (const char *q = ns_line ? ns_line + 7 : NULL; q && *q && *q != '\n';) {
        char *e;
        ns_pid = strtol(q, &e, 10); /* the last: the pid in the process's own namespace */
        if (e == q)
            break;
        q = e;
    }
    int where = pid > 0 ? inside(d, pid) : 0, ended = pid == -1;
    if (!ended && (pid <= 0 || ns_pid <= 0))
        return fail(d, ENOTSUP, "fd %d is a pidfd of a process of another pid namespace: it "
                    "cannot be saved; close it before the checkpoint", fd);
    if (fcntl(fd, F_GETFL) & PIDFD_THREAD)
        return fail(d, ENOTSUP, "fd %d is a pidfd of thread %ld, which has another number after a "
                    "restart; close it before the checkpoint", fd, ns_pid);
    if (!ended && (!where || (where == 2 && !d->tree)))
        return fail(d, ENOTSUP, "fd %d is a pidfd of process %ld, which is outside the checkpoint "
                    "and cannot be brought back: close it before the checkpoint, or checkpoint "
                    "the tree that holds that process", fd, ns_pid);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_PIDFD, p->path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = ended ? 0 : (uint64_t)ns_pid;
    r->flags = ended ? CTX_FD_PIDFD_ENDED : where == 1 ? CTX_FD_PIDFD_SELF : 0;
    file_id_of(&p->st, &r->id);
    return 0;
}

/* ---- restart ---- */

/* A pidfd of a process that has ended and was reaped: of a child that does so now. */
static int ended_pidfd(struct child *c, const struct ctx_fd *f)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int obj = pid < 0 ? -1 : (int)syscall(SYS_pidfd_open, pid, (unsigned)(f->open_flags & O_NONBLOCK));
    int e = errno;
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (obj < 0)
        child_fail(c, e, "cannot make the pidfd of an ended process again as fd %d: %s", f->fd,
                   strerror(e));
    return obj;
}

/* Every process of a restarted tree exists before any opens its fds. */
static int restore_pidfd(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
    if (f->flags & CTX_FD_PIDFD_ENDED)
        return ended_pidfd(c, f);
    pid_t pid = (f->flags & CTX_FD_PIDFD_SELF) ? getpid() : (pid_t)f->pos;
    if (!(f->flags & CTX_FD_PIDFD_SELF) && !c->pool)
        child_fail(c, ESRCH, "fd %d is a pidfd of process %d, which only a restart of its whole "
                   "tree brings back", f->fd, pid);
    int obj = (int)syscall(SYS_pidfd_open, cr_child_pid_now(c, pid), (unsigned)(f->open_flags & O_NONBLOCK));
    if (obj < 0)
        child_fail(c, errno, "cannot open the pidfd of process %d again as fd %d: %s", pid, f->fd,
                   strerror(errno));
    return obj;
}

/* A pid of the tree's namespace, or none for a process reaped. */
static int valid_pidfd(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == 0 &&
           (f->flags == CTX_FD_PIDFD_ENDED ? f->pos == 0
                                           : f->pos != 0 && f->pos <= (1u << 22) &&
                                                 f->flags <= CTX_FD_PIDFD_SELF);
}

static void describe_pidfd(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    if (f->flags & CTX_FD_PIDFD_ENDED)
        fprintf(out, "  a process that has ended and was reaped\n");
    else
        fprintf(out, "  process %llu%s\n", (unsigned long long)f->pos,
                (f->flags & CTX_FD_PIDFD_SELF) ? " (itself)" : "");
}

const struct cr_fd_ops cr_fd_pidfd = {
    .kind = CTX_FD_PIDFD, .name = "pidfd", .detect = detect_pidfd, .save = save_pidfd,
    .restore = restore_pidfd,
    .valid = valid_pidfd, .describe = describe_pidfd,
};
