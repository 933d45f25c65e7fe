/* inotify instances: each watch saved with its number, mask and a path of the inode it
 * watches, and added again at restart under the same number.  The kernel shows only the
 * inode (a file handle, which only a privileged process can open), so the dumper looks
 * for it where the process's paths are: its open files and working directory, their
 * parents, and two levels below the working directory; one it cannot find is refused.
 * A watched path gone at restart is refused by cr_restart, naming it.
 *
 * Events queued and not read yet are taken by the runtime and served again by its
 * read() (inotify_queued.c, ../inotify_replay.c: why, and what that costs); the ptrace
 * dumper, which has no runtime in the process to serve them, refuses them, naming the
 * instance's watched paths. */
#define _GNU_SOURCE
#include "resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "context_reader.h"
#include "inotify.h"

#define SEARCH_DEPTH 2
#define SEARCH_BUDGET 20000      /* entries looked at, for all of an instance's watches */

/* ---- dump ---- */

static int detect_inotify(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:inotify");
}

struct target {
    uint64_t ino;
    unsigned maj, min;           /* the kernel's sdev: major << 20 | minor */
    long budget;
    char *dents;                 /* SEARCH_DEPTH + 1 buffers of DENTS_SIZE */
};
#define DENTS_SIZE 16384

static int is_target(const struct target *t, int dfd, const char *name)
{
    struct stat st;
    return fstatat(dfd, name, &st, 0) == 0 && st.st_ino == t->ino && major(st.st_dev) == t->maj &&
           minor(st.st_dev) == t->min;
}

/* path (len bytes, a directory) and below it, depth levels: 1 found (path holds it). */
static int search_below(struct target *t, char *path, size_t len, int depth)
{
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    char *buf = t->dents + (size_t)(SEARCH_DEPTH - depth) * DENTS_SIZE;
    long n;
    int found = 0;
    while (!found && t->budget > 0 && (n = syscall(SYS_getdents64, dfd, buf, DENTS_SIZE)) > 0)
        for (long off = 0; !found && off < n && t->budget > 0;) {
            struct dirent64 *e = (struct dirent64 *)(buf + off);
            off += e->d_reclen;
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            size_t nl = strlen(e->d_name);
            if (len + 1 + nl >= CTX_PATH_MAX)
                continue;
            t->budget--;
            path[len] = len && path[len - 1] == '/' ? 0 : '/';
            size_t at = len + (path[len] == '/');
            memcpy(path + at, e->d_name, nl + 1);
            if (is_target(t, dfd, e->d_name))
                found = 1;
            else if (depth > 0 && e->d_type == DT_DIR)
                found = search_below(t, path, at + nl, depth - 1);
            if (!found)
                path[len] = 0;
        }
    close(dfd);
    return found;
}

/* path itself or one of its parents: 1 found (path cut to it). */
static int search_up(struct target *t, char *path)
{
    for (;;) {
        if (is_target(t, AT_FDCWD, path))
            return 1;
        char *slash = strrchr(path, '/');
        if (!slash || !path[1])
            return 0; /* "/" was the last */
        slash[slash == path] = 0;
    }
}

static int find_path(struct fd_scan *s, struct target *t, char *path)
{
    for (int i = 0; i < s->nfds; i++) {
        struct stat st;
        if (fd_path(s->fds[i], path, CTX_PATH_MAX, &st) > 0 && path[0] == '/' && search_up(t, path))
            return 1;
    }
    if (syscall(SYS_getcwd, path, CTX_PATH_MAX) > 0 && search_up(t, path))
        return 1;
    return syscall(SYS_getcwd, path, CTX_PATH_MAX) > 0 &&
           search_below(t, path, strlen(path), SEARCH_DEPTH);
}

int watched_path(struct dump *d, struct fd_scan *s, uint64_t ino, unsigned maj, unsigned min,
                 char *path)
{
    struct target t = { .ino = ino, .maj = maj, .min = min, .budget = SEARCH_BUDGET,
                        .dents = d->scratch + TEXT_OFF };
    return find_path(s, &t, path);
}

/* The queued events refused, naming what the instance watches (the watches saved so
 * far in out, used bytes): which watch they come from cannot be known without
 * reading them. */
static int refuse_pending(struct dump *d, int fd, int pending, const char *out, size_t used)
{
    char paths[1024];
    size_t n = 0;
    paths[0] = 0;
    for (size_t off = 0; off < used;) {
        struct ctx_inotify_watch w;
        memcpy(&w, out + off, sizeof w);
        const char *path = out + off + sizeof w;
        off += sizeof w + w.path_len;
        size_t room = sizeof paths - n;
        int k = snprintf(paths + n, room, "%s%s (watch %d)", n ? ", " : "", path, w.wd);
        if (k < 0 || (size_t)k >= room) { /* the first ones, and that there are more */
            paths[n] = 0;
            if (room >= 6)
                memcpy(paths + n, ", ...", 6);
            break;
        }
        n += (size_t)k;
    }
    return fail(d, ENOTSUP, "fd %d: its inotify instance, watching %s, has %d bytes of events "
                "not read yet: reading them would take them from the program, and without the "
                "runtime in the process (the ptrace backend) nothing could serve them again; "
                "nothing was written and the process keeps running: checkpoint it once it has "
                "read them, or run it under cr_run", fd, n ? paths : "nothing (every watch removed)",
                pending);
}

/* fd's watches, each a struct ctx_inotify_watch and its path, into out (cap bytes,
 * *used of them); refusing: its events are refused next, so a watch whose path is not
 * found is named by its inode for that instead.  0, or -errno with the message in d. */
int inotify_watches(struct dump *d, struct fd_scan *s, int fd, int refusing, char *out, size_t cap,
                    size_t *used)
{
    const char *info = fdinfo(d, fd);
    if (!info)
        return -EIO;
    *used = 0;
    struct target t = { .budget = SEARCH_BUDGET, .dents = d->scratch + TEXT_OFF };
    for (const char *q = info; (q = strstr(q, "inotify wd:")); q += 11) {
        const char *ino = strstr(q, " ino:"), *sdev = strstr(q, " sdev:"), *mask = strstr(q, " mask:");
        if (!ino || !sdev || !mask)
            return fail(d, EIO, "fd %d: cannot parse the inotify watches", fd);
        struct ctx_inotify_watch w = { .wd = (int32_t)strtol(q + 11, NULL, 16),
                                       .mask = (uint32_t)strtoul(mask + 6, NULL, 16) };
        unsigned long dev = strtoul(sdev + 6, NULL, 16);
        t.ino = strtoull(ino + 5, NULL, 16);
        t.maj = (unsigned)(dev >> 20);
        t.min = (unsigned)(dev & 0xfffff);
        char path[CTX_PATH_MAX];
        int found = find_path(s, &t, path);
        if (!found && refusing) /* refused for its events: named as it can be */
            snprintf(path, sizeof path, "inode %llu of device %u:%u", (unsigned long long)t.ino,
                     t.maj, t.min);
        else if (!found)
            return fail(d, ENOTSUP, "fd %d: inotify watch %d is on inode %llu of device %u:%u, whose "
                        "path was not found (looked near the process's open files and below its "
                        "working directory): remove the watch before the checkpoint", fd, w.wd,
                        (unsigned long long)t.ino, t.maj, t.min);
        w.path_len = (uint32_t)strlen(path) + 1;
        if (cap - *used < sizeof w + w.path_len)
            return fail(d, E2BIG, "fd %d: too many inotify watches to save", fd);
        memcpy(out + *used, &w, sizeof w);
        memcpy(out + *used + sizeof w, path, w.path_len);
        *used += sizeof w + w.path_len;
    }
    return 0;
}

static int save_inotify(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd, pending = 0;
    if (ioctl(fd, FIONREAD, &pending) < 0)
        return fail(d, errno, "fd %d: reading how many inotify events wait", fd);
    size_t held = d->inotify_held ? d->inotify_held(fd) : 0, used;
    int queued = pending > 0 || held > 0, kept = queued && d->inotify_keep;
    char *out = d->scratch + FDINFO_OFF + FDINFO_SIZE, *end = d->scratch + BOUNCE_OFF + BOUNCE_SIZE;
    int rc = inotify_watches(d, s, fd, queued && !kept, out, (size_t)(end - out), &used);
    if (rc)
        return rc;
    if (kept)
        return save_inotify_queued(d, p, out, used, held + (size_t)pending);
    if (pending)
        return refuse_pending(d, fd, pending, out, used);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_INOTIFY, p->path, used);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    file_id_of(&p->st, &r->id);
    memcpy((char *)(r + 1) + r->path_len, out, used);
    return 0;
}

/* ---- restart ---- */

/* Every watched path must be there again (a watch is added by path). */
int inotify_check_watches(const struct ctx_fd *f, const char *extra, size_t extra_len, char *err,
                          size_t len)
{
    for (size_t off = 0; off < extra_len;) {
        struct ctx_inotify_watch w;
        memcpy(&w, extra + off, sizeof w);
        const char *path = extra + off + sizeof w;
        off += sizeof w + w.path_len;
        struct stat st;
        if (stat(path, &st) < 0) {
            int e = errno;
            return cr_say(err, len, e, "inotify watch %d of fd %d is on %s, which %s (%s): it "
                          "cannot be watched again; make it again at that path, or remove the "
                          "watch before the checkpoint", w.wd, f->fd, path,
                          e == ENOENT || e == ENOTDIR ? "is gone" : "cannot be reached", strerror(e));
        }
    }
    return 0;
}

static int check_inotify(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len)
{
    (void)o;
    return inotify_check_watches(f, (const char *)fd_rec_extra(f), f->extra_len, err, len);
}

static int by_wd(const void *a, const void *b)
{
    int32_t x, y;
    memcpy(&x, *(const char *const *)a, 4);
    memcpy(&y, *(const char *const *)b, 4);
    return (x > y) - (x < y);
}

static void drain(int in)
{
    char buf[65536];
    while (read(in, buf, sizeof buf) > 0)
        ;
}

/* A number taken by a watch on the pipe at p[0], removed at once. */
static void filler(struct child *c, const struct ctx_fd *f, int in, const char *path, int32_t want)
{
    int got = inotify_add_watch(in, path, IN_ACCESS);
    if (got != want || inotify_rm_watch(in, got) < 0)
        child_fail(c, got < 0 ? errno : EINVAL, "cannot give the inotify instance of fd %d its "
                   "watch numbers again (%d for %d)", f->fd, got, want);
}

/* Each watch under its number, in increasing order: the numbers between are taken by
 * a watch on a pipe of ours, removed at once (the instance gives each next number).
 * sentinel (> 0): then the numbers up to it are taken so, and its own watch's
 * IN_IGNORED is left queued (inotify_replay.c). */
int inotify_rebuild(struct child *c, const struct ctx_fd *f, const char *extra, size_t extra_len,
                    int32_t sentinel)
{
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), p[2];
    if (in < 0 || pipe2(p, O_CLOEXEC) < 0)
        child_fail(c, errno, "cannot create the inotify instance of fd %d: %s", f->fd, strerror(errno));
    size_t n = 0;
    const char **watches = malloc((extra_len / sizeof(struct ctx_inotify_watch) + 1) * sizeof *watches);
    if (!watches)
        child_fail(c, ENOMEM, "out of memory");
    for (size_t off = 0; off < extra_len; n++) {
        struct ctx_inotify_watch w;
        memcpy(&w, extra + off, sizeof w);
        watches[n] = extra + off;
        off += sizeof w + w.path_len;
    }
    qsort(watches, n, sizeof *watches, by_wd);
    char fill_path[64];
    snprintf(fill_path, sizeof fill_path, "/proc/self/fd/%d", p[0]);
    int32_t next = 1;
    for (size_t k = 0; k < n; k++) {
        struct ctx_inotify_watch w;
        memcpy(&w, watches[k], sizeof w);
        const char *path = watches[k] + sizeof w;
        for (; next < w.wd; next++) {
            filler(c, f, in, fill_path, next);
            if (next % 1024 == 0)
                drain(in); /* the IN_IGNORED of each removal */
        }
        int got = inotify_add_watch(in, path, w.mask | IN_MASK_CREATE);
        if (got != w.wd)
            child_fail(c, got < 0 ? errno : EINVAL, "cannot watch %s again as inotify watch %d of fd %d: %s",
                       path, w.wd, f->fd, got < 0 ? strerror(errno) : "another number");
        next = w.wd + 1;
    }
    for (; sentinel > 0 && next < sentinel; next++) {
        filler(c, f, in, fill_path, next);
        if (next % 1024 == 0)
            drain(in);
    }
    drain(in);
    if (sentinel > 0)
        filler(c, f, in, fill_path, sentinel); /* its IN_IGNORED stays */
    free(watches);
    close(p[0]);
    close(p[1]);
    return in;
}

static int make_inotify(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    return inotify_rebuild(c, f, (const char *)fd_rec_extra(f), f->extra_len, 0);
}

/* Watches, each with a path of its own within extra; *max_wd the highest number. */
int inotify_watches_valid(const char *extra, size_t extra_len, int32_t *max_wd)
{
    *max_wd = 0;
    for (size_t off = 0; off < extra_len;) {
        struct ctx_inotify_watch w;
        if (extra_len - off < sizeof w)
            return 0;
        memcpy(&w, extra + off, sizeof w);
        off += sizeof w;
        if (w.wd < 1 || w.wd > CTX_INOTIFY_WD_MAX || w.path_len < 2 || extra_len - off < w.path_len ||
            extra[off] != '/' || strlen(extra + off) != w.path_len - 1)
            return 0;
        if (w.wd > *max_wd)
            *max_wd = w.wd;
        off += w.path_len;
    }
    return 1;
}

static int valid_inotify(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    int32_t max_wd;
    return inotify_watches_valid((const char *)fd_rec_extra(f), f->extra_len, &max_wd);
}

void inotify_describe_watches(FILE *out, const char *extra, size_t extra_len)
{
    fprintf(out, "  watches:\n");
    for (size_t off = 0; off < extra_len;) {
        struct ctx_inotify_watch w; /* not aligned */
        memcpy(&w, extra + off, sizeof w);
        fprintf(out, "           %d: mask 0x%x  %s\n", w.wd, w.mask, extra + off + sizeof w);
        off += sizeof w + w.path_len;
    }
}

static void describe_inotify(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    inotify_describe_watches(out, (const char *)fd_rec_extra(f), f->extra_len);
}

const struct cr_fd_ops cr_fd_inotify = {
    .kind = CTX_FD_INOTIFY, .name = "inotify", .detect = detect_inotify, .save = save_inotify,
    .check = check_inotify, .make = make_inotify, .restore_nonblock = 1,
    .valid = valid_inotify, .describe = describe_inotify,
};
