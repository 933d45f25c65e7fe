/* The dumper's file descriptors: regular files and directories by path and offset,
 * the /dev/null family, stdio that is cr_restart's at restart, and the objects the
 * process holds entirely: pipes with both ends inside it (with the data in them, read
 * with tee() so that nothing is consumed), eventfds, timerfds, signalfds and epoll
 * instances (with their settings and interest lists, from /proc/self/fdinfo). */
#define _GNU_SOURCE
#include "dump.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <sys/sysmacros.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "runtime.h"

#define MAX_PIPES 1024
#define FDINFO_OFF BOUNCE_OFF /* the bounce area is free until the memory is written */
#define FDINFO_SIZE (64 * 1024)

struct pipe_obj {
    uint64_t ino;
    int ends;                  /* 1: a read end seen, 2: a write end seen */
    int data_saved;
};

#define MAX_SEEN 4096

struct fd_scan {
    struct stat stdio[3];
    struct { int fd; dev_t dev; ino_t ino; } seen[MAX_SEEN]; /* saved fds, to find dups */
    int nseen;
    struct pipe_obj pipes[MAX_PIPES];
    int npipes;
    int ptys[64];              /* indices of the pseudo-terminals whose master we have */
    int nptys;
    struct sock_scan socks;
};

static int is_device_family(const char *path)
{
    static const char *const ok[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                      "/dev/urandom", NULL };
    for (int i = 0; ok[i]; i++)
        if (!strcmp(path, ok[i]))
            return 1;
    return 0;
}

static int is_terminal(const struct stat *st)
{
    unsigned maj = major(st->st_rdev);
    return S_ISCHR(st->st_mode) && (maj == 136 || maj == 4 || maj == 5);
}

static int is_pipe(const struct stat *st, const char *path)
{
    return S_ISFIFO(st->st_mode) && !strncmp(path, "pipe:[", 6);
}

static int is_named_fifo(const struct stat *st, const char *path)
{
    return S_ISFIFO(st->st_mode) && path[0] == '/';
}

static struct pipe_obj *find_pipe(struct fd_scan *s, uint64_t ino)
{
    for (int i = 0; i < s->npipes; i++)
        if (s->pipes[i].ino == ino)
            return &s->pipes[i];
    return NULL;
}

/* Both ends in the process (or, for a process of a tree, in the tree): the pipe is
 * saved with its data.  Otherwise its other end is outside and only stdio can be
 * handed over (to cr_restart's). */
static int pipe_inside(const struct dump *d, struct fd_scan *s, uint64_t ino)
{
    struct pipe_obj *p = find_pipe(s, ino);
    if (p && p->ends == 3)
        return 1;
    for (uint32_t i = 0; d->tree && i < d->tree->npipes; i++)
        if (d->tree->pipes[i] == ino)
            return 1;
    return 0;
}

/* A pipe end whose other end nobody holds any more (a reader sees POLLHUP, a writer
 * POLLERR): nothing outside depends on it, it is saved like one inside. */
static int pipe_orphan(int fd)
{
    struct pollfd p = { fd, 0, 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* A process of a tree: the earlier process that has this fd's open file description. */
static const struct cr_ctl_share *shared_with(const struct dump *d, int fd)
{
    for (uint32_t i = 0; d->tree && i < d->tree->nshares; i++)
        if (d->tree->shares[i].fd == fd)
            return &d->tree->shares[i];
    return NULL;
}

static int same_stdio(const struct stat *a, const struct stat *st)
{
    return a->st_mode && a->st_ino == st->st_ino && a->st_dev == st->st_dev &&
           a->st_rdev == st->st_rdev;
}

/* Which of the (process's or tree's) stdio this fd is, its own number first. */
static int is_pty_master(const char *path)
{
    return !strcmp(path, "/dev/ptmx") || !strcmp(path, "/dev/pts/ptmx");
}

/* /dev/pts/N: N, or -1. */
static int pts_index(const struct stat *st)
{
    unsigned maj = major(st->st_rdev);
    return S_ISCHR(st->st_mode) && maj >= 136 && maj <= 143
               ? (int)((maj - 136) * 256 + minor(st->st_rdev)) : -1;
}

/* A terminal whose master is in the process (or the tree): it comes back as a new pair. */
static int pty_inside(const struct dump *d, const struct fd_scan *s, int index)
{
    for (int i = 0; i < s->nptys; i++)
        if (s->ptys[i] == index)
            return 1;
    for (uint32_t i = 0; d->tree && i < d->tree->nptys; i++)
        if (d->tree->ptys[i] == index)
            return 1;
    return 0;
}

static int add_pty(struct dump *d, int fd, const char *path, const struct stat *st, int index,
                   int master)
{
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_PTY, path, master ? sizeof(struct ctx_pty) : 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = (uint64_t)index;
    file_id_of(st, &r->id);
    if (master) {
        r->flags = CTX_FD_PTY_MASTER;
        struct ctx_pty *p = (struct ctx_pty *)((char *)(r + 1) + r->path_len);
        struct termios tio; /* the master's TCGETS is its terminal's */
        struct winsize ws;
        if (tcgetattr(fd, &tio) < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0)
            return fail(d, errno, "reading the settings of the terminal at fd %d", fd);
        memcpy(p->termios, &tio, sizeof tio < sizeof p->termios ? sizeof tio : sizeof p->termios);
        p->rows = ws.ws_row, p->cols = ws.ws_col, p->xpixel = ws.ws_xpixel, p->ypixel = ws.ws_ypixel;
    }
    return 0;
}

static int stdio_source(struct fd_scan *s, int fd, const struct stat *st)
{
    if (fd < 3 && same_stdio(&s->stdio[fd], st))
        return fd;
    for (int i = 0; i < 3; i++)
        if (same_stdio(&s->stdio[i], st))
            return i;
    return -1;
}

/* The bytes waiting in a pipe, copied with tee() into a pipe of our own. */
static int pipe_peek(struct dump *d, int fd, size_t cap, char *out, size_t *len)
{
    int tmp[2];
    *len = 0;
    if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) < 0)
        return fail(d, errno, "creating a pipe to copy fd %d", fd);
    fcntl(tmp[1], F_SETPIPE_SZ, (int)cap);
    ssize_t n = tee(fd, tmp[1], cap, SPLICE_F_NONBLOCK);
    int rc = 0;
    if (n < 0 && errno != EAGAIN)
        rc = fail(d, errno, "copying the data buffered in the pipe at fd %d", fd);
    else if (n > 0 && read(tmp[0], out, (size_t)n) != n)
        rc = fail(d, EIO, "copying the data buffered in the pipe at fd %d", fd);
    else if (n > 0)
        *len = (size_t)n;
    close(tmp[0]);
    close(tmp[1]);
    return rc;
}

/* /proc/self/fdinfo/FD into the scratch, NUL-terminated. */
static const char *fdinfo(struct dump *d, int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    char *buf = d->scratch + FDINFO_OFF;
    return read_file(d, path, buf, FDINFO_SIZE) < 0 ? NULL : buf;
}

static unsigned long long fdinfo_hex(const char *info, const char *key, int *found)
{
    const char *p = strstr(info, key);
    *found = p != NULL;
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

static int add_pipe(struct dump *d, struct fd_scan *s, int fd, const char *path, const struct stat *st)
{
    struct pipe_obj *p = find_pipe(s, st->st_ino);
    int cap = fcntl(fd, F_GETPIPE_SZ);
    if (cap <= 0)
        return fail(d, errno, "reading the size of the pipe at fd %d", fd);
    size_t len = 0;
    char *data = d->scratch + FDINFO_OFF + FDINFO_SIZE;
    int reader = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY;
    for (uint32_t i = 0; d->tree && path[0] == '/' && i < d->tree->nfifo_skip; i++)
        if (d->tree->fifo_skip[i] == (uint64_t)st->st_ino)
            reader = 0; /* another process of the tree saves its data */
    if (reader && !p->data_saved) {
        if ((size_t)cap > BOUNCE_SIZE - FDINFO_SIZE)
            return fail(d, E2BIG, "the pipe at fd %d holds up to %d bytes; at most %lu can be "
                        "saved", fd, cap, BOUNCE_SIZE - FDINFO_SIZE);
        int rc = pipe_peek(d, fd, (size_t)cap, data, &len);
        if (rc < 0)
            return rc;
        p->data_saved = 1;
    }
    struct ctx_fd *r = fd_record(d, fd, path[0] == '/' ? CTX_FD_FIFO : CTX_FD_PIPE, path, len);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = (uint64_t)cap;
    file_id_of(st, &r->id);
    memcpy((char *)(r + 1) + r->path_len, data, len);
    return 0;
}

static int add_eventfd(struct dump *d, int fd, const char *path, const struct stat *st)
{
    const char *info = fdinfo(d, fd);
    int found, sem;
    if (!info)
        return -EIO;
    unsigned long long count = fdinfo_hex(info, "eventfd-count:", &found);
    if (!found)
        return fail(d, ENOTSUP, "fd %d: the kernel does not show the eventfd counter", fd);
    unsigned long long semaphore = fdinfo_hex(info, "eventfd-semaphore:", &sem);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_EVENTFD, path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = count;
    r->flags = sem && semaphore ? CTX_FD_EVENTFD_SEMAPHORE : 0;
    file_id_of(st, &r->id);
    return 0;
}

static long long fdinfo_dec(const char *info, const char *key, int *found)
{
    const char *p = strstr(info, key);
    *found = p != NULL;
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

/* "it_value: (4, 997811907)" */
static int fdinfo_pair(const char *info, const char *key, int64_t *a, int64_t *b)
{
    const char *p = strstr(info, key);
    char *q;
    if (!p || !(p = strchr(p, '(')))
        return 0;
    *a = strtoll(p + 1, &q, 10);
    if (*q != ',')
        return 0;
    *b = strtoll(q + 1, NULL, 10);
    return 1;
}

static int add_timerfd(struct dump *d, int fd, const char *path, const struct stat *st)
{
    const char *info = fdinfo(d, fd);
    int f1, f2;
    if (!info)
        return -EIO;
    struct ctx_timerfd t;
    memset(&t, 0, sizeof t);
    t.clockid = (int32_t)fdinfo_dec(info, "clockid:", &f1);
    t.ticks = (uint32_t)fdinfo_dec(info, "ticks:", &f2);
    if (!f1 || !f2 || !fdinfo_pair(info, "it_value:", &t.value_sec, &t.value_nsec) ||
        !fdinfo_pair(info, "it_interval:", &t.interval_sec, &t.interval_nsec))
        return fail(d, ENOTSUP, "fd %d: cannot read the timerfd's settings from fdinfo", fd);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_TIMERFD, path, sizeof t);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    file_id_of(st, &r->id);
    memcpy((char *)(r + 1) + r->path_len, &t, sizeof t);
    return 0;
}

static int add_signalfd(struct dump *d, int fd, const char *path, const struct stat *st)
{
    const char *info = fdinfo(d, fd);
    int found;
    if (!info)
        return -EIO;
    unsigned long long mask = fdinfo_hex(info, "sigmask:", &found);
    if (!found)
        return fail(d, ENOTSUP, "fd %d: cannot read the signalfd's mask from fdinfo", fd);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_SIGNALFD, path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = mask;
    file_id_of(st, &r->id);
    return 0;
}

static int add_epoll(struct dump *d, int fd, const char *path, const struct stat *st)
{
    const char *info = fdinfo(d, fd);
    if (!info)
        return -EIO;
    size_t n = 0;
    for (const char *p = info; (p = strstr(p, "tfd:")); p += 4)
        n++;
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_EPOLL, path, n * sizeof(struct ctx_epoll_target));
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    file_id_of(st, &r->id);
    struct ctx_epoll_target *t = (void *)((char *)(r + 1) + r->path_len);
    for (const char *p = info; (p = strstr(p, "tfd:")); t++) {
        char *q;
        t->fd = (int32_t)strtol(p + 4, &q, 10);
        const char *ev = strstr(q, "events:"), *da = strstr(q, "data:");
        if (!ev || !da)
            return fail(d, EIO, "cannot parse the interest list of the epoll at fd %d", fd);
        t->events = (uint32_t)strtoul(ev + 7, NULL, 16);
        t->data = strtoull(da + 5, NULL, 16);
        p = da;
    }
    return 0;
}

/* An earlier saved fd with the same open file description (kcmp), or -1. */
static int same_description(struct fd_scan *s, int fd, const struct stat *st)
{
    pid_t me = getpid();
    for (int i = 0; i < s->nseen; i++)
        if (s->seen[i].ino == st->st_ino && s->seen[i].dev == st->st_dev &&
            syscall(SYS_kcmp, me, me, KCMP_FILE, s->seen[i].fd, fd) == 0)
            return s->seen[i].fd;
    return -1;
}

static int add_fd_kind(struct dump *d, struct fd_scan *s, int fd);

static int add_fd(struct dump *d, struct fd_scan *s, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    const struct cr_ctl_share *sh = shared_with(d, fd);
    if (sh) {
        char link[64], what[64] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, what, sizeof what - 1);
        what[n > 0 ? n : 0] = 0;
        if (!strcmp(what, "anon_inode:[eventpoll]"))
            return fail(d, ENOTSUP, "fd %d is an epoll instance shared with process number %d of "
                        "the tree; this version cannot save one shared between processes "
                        "(close it in one of them, or open it with EPOLL_CLOEXEC)", fd, sh->member);
        struct ctx_fd *r = fd_record(d, fd, CTX_FD_SHARED, "(shared)", 0);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->pos = (uint64_t)sh->member;
        r->source_fd = sh->origin_fd;
        file_id_of(&st, &r->id);
        return 0;
    }
    /* stdio on a terminal or pipe is cr_restart's own, fd by fd, even when shared */
    int dup_of = stdio_source(s, fd, &st) >= 0 ? -1 : same_description(s, fd, &st);
    if (dup_of >= 0) {
        struct ctx_fd *r = fd_record(d, fd, CTX_FD_DUP, "(dup)", 0);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->source_fd = dup_of;
        file_id_of(&st, &r->id);
        return 0;
    }
    uint32_t before = d->proc->nfds;
    int rc = add_fd_kind(d, s, fd);
    if (rc == 0 && d->proc->nfds > before && s->nseen < MAX_SEEN)
        s->seen[s->nseen++] = (typeof(s->seen[0])){ fd, st.st_dev, st.st_ino };
    return rc;
}

static int add_fd_kind(struct dump *d, struct fd_scan *s, int fd)
{
    char link[64], path[CTX_PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    struct stat st;
    if (n < 0 || fstat(fd, &st) < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    path[n] = 0;
    uint32_t kind;
    int deleted = st.st_nlink == 0 || (n > 10 && !strcmp(path + n - 10, " (deleted)"));
    if (S_ISREG(st.st_mode) && deleted) {
        /* its contents go into the image: nothing else has them any more */
        if (d->ndeleted == (int)(sizeof d->deleted / sizeof d->deleted[0]))
            return fail(d, E2BIG, "fd %d: more than %d deleted files are open", fd, d->ndeleted);
        struct ctx_fd *r = fd_record(d, fd, CTX_FD_FILE, path, 0);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        off_t pos = lseek(fd, 0, SEEK_CUR);
        r->pos = pos < 0 ? 0 : (uint64_t)pos;
        r->flags = CTX_FD_DELETED;
        file_id_of(&st, &r->id);
        d->deleted[d->ndeleted].fd = fd;
        d->deleted[d->ndeleted].rec = d->proc->nfds - 1;
        d->deleted[d->ndeleted].size = (uint64_t)st.st_size;
        d->ndeleted++;
        return 0;
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        if (deleted)
            return fail(d, ENOTSUP, "fd %d: the directory %s was deleted", fd, path);
        if (path[0] != '/')
            return fail(d, ENOTSUP, "fd %d refers to %s, which has no path", fd, path);
        kind = S_ISREG(st.st_mode) ? CTX_FD_FILE : CTX_FD_DIR;
    } else if (S_ISCHR(st.st_mode) && is_device_family(path)) {
        kind = CTX_FD_DEVICE;
    } else if ((is_pipe(&st, path) && (pipe_inside(d, s, st.st_ino) || pipe_orphan(fd))) ||
               (is_named_fifo(&st, path) && (pipe_inside(d, s, st.st_ino) || stdio_source(s, fd, &st) < 0))) {
        /* a named FIFO is opened again by its path (as stdio it is cr_restart's, like a
         * pipe); its data is kept when the process reads it */
        return add_pipe(d, s, fd, path, &st);
    } else if (!strcmp(path, "anon_inode:[eventfd]")) {
        return add_eventfd(d, fd, path, &st);
    } else if (!strcmp(path, "anon_inode:[eventpoll]")) {
        return add_epoll(d, fd, path, &st);
    } else if (!strcmp(path, "anon_inode:[timerfd]")) {
        return add_timerfd(d, fd, path, &st);
    } else if (!strcmp(path, "anon_inode:[signalfd]")) {
        return add_signalfd(d, fd, path, &st);
    } else if (S_ISCHR(st.st_mode) && is_pty_master(path)) {
        int index = -1;
        if (ioctl(fd, TIOCGPTN, &index) < 0)
            return fail(d, errno, "fd %d: cannot read which terminal the master %s is", fd, path);
        return add_pty(d, fd, path, &st, index, 1);
    } else if (pts_index(&st) >= 0 && pty_inside(d, s, pts_index(&st))) {
        return add_pty(d, fd, path, &st, pts_index(&st), 0);
    } else if (S_ISSOCK(st.st_mode)) {
        return add_socket(d, &s->socks, fd, &st, stdio_source(s, fd, &st),
                          d->scratch + FDINFO_OFF + FDINFO_SIZE, BOUNCE_SIZE - FDINFO_SIZE);
    } else if (is_terminal(&st) || S_ISFIFO(st.st_mode)) {
        /* a terminal, or the end of a pipe or socket that leads outside: only stdio can
         * be handed over, to cr_restart's own */
        int source = stdio_source(s, fd, &st);
        if (source < 0)
            return fail(d, ENOTSUP, "fd %d is %s, which leads outside the process; terminals, "
                        "pipes and sockets to the outside can only be saved as stdin, stdout "
                        "or stderr by this version", fd, path);
        struct ctx_fd *r = fd_record(d, fd, CTX_FD_INHERIT, path, 0);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->source_fd = source;
        file_id_of(&st, &r->id);
        return 0;
    } else {
        return fail(d, ENOTSUP, "fd %d is %s, a kind of file this version cannot save", fd, path);
    }
    struct ctx_fd *r = fd_record(d, fd, kind, path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    if (kind == CTX_FD_FILE || kind == CTX_FD_DIR) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        r->pos = pos < 0 ? 0 : (uint64_t)pos;
    }
    file_id_of(&st, &r->id);
    return 0;
}

/* Which pipes have both ends in the process. */
static int scan_pipes(struct dump *d, struct fd_scan *s, const int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        char link[64], path[CTX_PATH_MAX];
        struct stat st;
        snprintf(link, sizeof link, "/proc/self/fd/%d", fds[i]);
        ssize_t len = readlink(link, path, sizeof path - 1);
        if (len < 0 || fstat(fds[i], &st) < 0)
            continue;
        path[len] = 0;
        int index = -1;
        if (S_ISCHR(st.st_mode) && is_pty_master(path) && ioctl(fds[i], TIOCGPTN, &index) == 0 &&
            s->nptys < 64)
            s->ptys[s->nptys++] = index;
        if (!is_pipe(&st, path) && !is_named_fifo(&st, path))
            continue;
        struct pipe_obj *p = find_pipe(s, st.st_ino);
        if (!p) {
            if (s->npipes == MAX_PIPES)
                return fail(d, E2BIG, "more than %d pipes", MAX_PIPES);
            p = &s->pipes[s->npipes++];
            memset(p, 0, sizeof *p);
            p->ino = st.st_ino;
        }
        p->ends |= (fcntl(fds[i], F_GETFL) & O_ACCMODE) == O_RDONLY ? 1 : 2;
    }
    return 0;
}

int collect_fds(struct dump *d)
{
    struct fd_scan *s = (struct fd_scan *)(d->scratch + TEXT_OFF + 4 * MiB);
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 3 && d->tree; i++) { /* a tree's stdio is its root's */
        s->stdio[i].st_dev = d->tree->stdio[i].dev;
        s->stdio[i].st_ino = d->tree->stdio[i].ino;
        s->stdio[i].st_rdev = d->tree->stdio[i].rdev;
        s->stdio[i].st_mode = d->tree->stdio[i].valid ? S_IFIFO : 0;
    }
    for (int i = 0; i < 3 && !d->tree; i++)
        if (fstat(i, &s->stdio[i]) < 0 || !(is_terminal(&s->stdio[i]) ||
                                            S_ISFIFO(s->stdio[i].st_mode) ||
                                            S_ISSOCK(s->stdio[i].st_mode)))
            memset(&s->stdio[i], 0, sizeof s->stdio[i]);
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(d, errno, "opening /proc/self/fd");
    char *buf = d->scratch + TEXT_OFF;
    int fds_n = 0, max = (int)((4 * MiB - 65536) / sizeof(int));
    int *fds = (int *)(d->scratch + TEXT_OFF + 65536);
    long n;
    while ((n = syscall(SYS_getdents64, dfd, buf, 65536)) > 0)
        for (long off = 0; off < n;) {
            struct dirent64 *de = (struct dirent64 *)(buf + off);
            off += de->d_reclen;
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            int fd = atoi(de->d_name);
            if (fd != dfd && !cr_internal_fd(fd) && fds_n < max)
                fds[fds_n++] = fd;
        }
    close(dfd);
    int rc = scan_pipes(d, s, fds, fds_n);
    if (rc == 0)
        rc = sock_scan(d, &s->socks, fds, fds_n, d->scratch + FDINFO_OFF);
    for (int i = 0; rc == 0 && i < fds_n; i++)
        rc = add_fd(d, s, fds[i]);
    return rc;
}
