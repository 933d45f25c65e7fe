/* Pipes with both ends in the process (or the tree), and named FIFOs: saved with the
 * data waiting in them (read with tee(), so that nothing is consumed), made again at
 * restart with it; a tree's pipe between processes is made once by its pool. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump ---- */

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
 * POLLERR): as stdio it is saved like one inside (it is not cr_restart's to hand
 * over); any other fd is disconnected already (disconnected.c). */
static int pipe_orphan(int fd)
{
    struct pollfd p = { fd, 0, 0 };
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* Which pipes have both ends in the process. */
static int scan_pipes(struct dump *d, struct fd_scan *s, const int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        char path[CTX_PATH_MAX];
        struct stat st;
        if (fd_path(fds[i], path, sizeof path, &st) < 0)
            continue;
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

/* The bytes waiting in a pipe, copied with tee() into a pipe of our own (room for
 * PIPE_ROOM(cap)).  In packet mode (pipe2 O_DIRECT: each write a packet, each read one
 * packet, the rest of it dropped) the packets are told by reading the copy, each read
 * one packet, and saved framed by their lengths (CTX_FD_PIPE_PACKETS). */
#define PIPE_PACKET 4096
#define PIPE_ROOM(cap) ((cap) + 4 * ((cap) / PIPE_PACKET + 1))
static uint32_t packet_len[(64u << 20) / PIPE_PACKET + 1];

static int pipe_peek(struct dump *d, int fd, size_t cap, char *out, size_t *len, int *packets)
{
    int tmp[2];
    *len = 0;
    *packets = 0;
    if (pipe2(tmp, O_CLOEXEC | O_NONBLOCK) < 0)
        return fail(d, errno, "creating a pipe to copy fd %d", fd);
    fcntl(tmp[1], F_SETPIPE_SZ, (int)cap);
    ssize_t n = tee(fd, tmp[1], cap, SPLICE_F_NONBLOCK);
    int rc = 0;
    size_t got = 0, k = 0;
    if (n < 0 && errno != EAGAIN)
        rc = fail(d, errno, "copying the data buffered in the pipe at fd %d", fd);
    while (rc == 0 && n > 0 && got < (size_t)n) {
        ssize_t r = read(tmp[0], out + got, (size_t)n - got);
        if (r <= 0 || k == sizeof packet_len / sizeof *packet_len)
            rc = fail(d, r < 0 ? errno : EIO, "copying the data buffered in the pipe at fd %d", fd);
        else {
            packet_len[k++] = (uint32_t)r;
            got += (size_t)r;
        }
    }
    close(tmp[0]);
    close(tmp[1]);
    if (rc < 0 || n <= 0)
        return rc;
    /* a read that stops short of what is there stops at the end of a packet; one packet
     * alone is told by the mode of the pipe's ends */
    *packets = k > 1 || (fcntl(fd, F_GETFL) & O_DIRECT);
    if (*packets) /* each packet moved after its length, the last first */
        for (size_t i = k, end = got; i-- > 0;) {
            size_t from = end - packet_len[i];
            memmove(out + from + 4 * (i + 1), out + from, packet_len[i]);
            memcpy(out + from + 4 * i, &packet_len[i], 4);
            end = from;
        }
    *len = got + (*packets ? 4 * k : 0);
    return 0;
}

int pipe_data_valid(const struct ctx_fd *f)
{
    if (!(f->flags & CTX_FD_PIPE_PACKETS))
        return f->extra_len <= f->pos;
    if (f->extra_len > PIPE_ROOM(f->pos))
        return 0;
    const unsigned char *x = (const unsigned char *)(f + 1) + f->path_len;
    for (uint32_t at = 0; at < f->extra_len;) {
        uint32_t n;
        if (f->extra_len - at < 4)
            return 0;
        memcpy(&n, x + at, 4);
        if (n == 0 || n > PIPE_PACKET || n > f->extra_len - at - 4)
            return 0;
        at += 4 + n;
    }
    return 1;
}

int pipe_refill(int wfd, const struct ctx_fd *f)
{
    const char *x = (const char *)(f + 1) + f->path_len;
    if (!(f->flags & CTX_FD_PIPE_PACKETS))
        return write(wfd, x, f->extra_len) == (ssize_t)f->extra_len ? 0 : -1;
    int fl = fcntl(wfd, F_GETFL), rc = fcntl(wfd, F_SETFL, fl | O_DIRECT);
    for (uint32_t at = 0; rc == 0 && at < f->extra_len;) {
        uint32_t n;
        memcpy(&n, x + at, 4);
        if (write(wfd, x + at + 4, n) != (ssize_t)n)
            rc = -1;
        at += 4 + n;
    }
    int e = errno;
    fcntl(wfd, F_SETFL, fl);
    errno = e;
    return rc;
}

int pipe_capacity(struct dump *d, int fd)
{
    int cap = fcntl(fd, F_GETPIPE_SZ);
    return cap > 0 ? cap : fail(d, errno, "reading the size of the pipe at fd %d", fd);
}

int pipe_record(struct dump *d, int fd, uint32_t kind, const char *path, int cap, int with_data,
                struct ctx_fd **out)
{
    /* room for all the pipe can hold, the bytes read straight into it, the rest given
     * back: no bounce buffer, so a pipe of any size (F_SETPIPE_SZ) is saved */
    struct ctx_fd *r = fd_record(d, fd, kind, path, with_data ? PIPE_ROOM((size_t)cap) : 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata (fd %d, a pipe of %d bytes)", fd, cap);
    r->pos = (uint64_t)cap;
    size_t len = 0;
    int packets = 0;
    int rc = with_data ? pipe_peek(d, fd, (size_t)cap, (char *)(r + 1) + r->path_len, &len, &packets) : 0;
    if (rc < 0)
        return rc;
    fd_record_trim(d, r, len);
    if (packets)
        r->flags |= CTX_FD_PIPE_PACKETS;
    *out = r;
    return 0;
}

static int add_pipe(struct dump *d, struct fd_scan *s, int fd, const char *path, const struct stat *st)
{
    struct pipe_obj *p = find_pipe(s, st->st_ino);
    int cap = pipe_capacity(d, fd);
    if (cap < 0)
        return cap;
    int reader = (fcntl(fd, F_GETFL) & O_ACCMODE) != O_WRONLY; /* a FIFO may be open O_RDWR */
    for (uint32_t i = 0; d->tree && path[0] == '/' && i < d->tree->nfifo_skip; i++)
        if (d->tree->fifo_skip[i] == (uint64_t)st->st_ino)
            reader = 0; /* another process of the tree saves its data */
    int deleted = path[0] == '/' && st->st_nlink == 0;
    if (deleted && d->tree) /* each process would make a FIFO of its own */
        return fail(d, ENOTSUP, "fd %d: the named FIFO %s was deleted, which a process tree cannot "
                    "share again: keep its name until the checkpoint", fd, path);
    struct ctx_fd *r;
    int rc = pipe_record(d, fd, path[0] == '/' ? CTX_FD_FIFO : CTX_FD_PIPE, path, cap,
                         reader && !p->data_saved, &r);
    if (rc < 0)
        return rc;
    if (reader)
        p->data_saved = 1;
    r->flags |= deleted ? CTX_FD_DELETED : 0;
    file_id_of(st, &r->id);
    return 0;
}

static int detect_pipe(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    return is_pipe(&p->st, p->path) &&
           (pipe_inside(d, s, p->st.st_ino) ||
            (pipe_orphan(p->fd) && stdio_source(s, p->fd, &p->st) >= 0));
}

/* A named FIFO is opened again by its path (as stdio it is cr_restart's, like a
 * pipe); its data is kept when the process reads it. */
static int detect_fifo(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    return is_named_fifo(&p->st, p->path) &&
           (pipe_inside(d, s, p->st.st_ino) || stdio_source(s, p->fd, &p->st) < 0);
}

static int save_pipe(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    return add_pipe(d, s, p->fd, p->path, &p->st);
}

/* ---- restart ---- */

/* A pipe of the image: created once, its data put back, its ends kept above the
 * image's fds until every fd of it is placed. */
struct pipe_made {
    uint64_t ino;
    int end[2];
};

static struct pipe_made *pipes_made;
static uint32_t npipes_made;

static int pipe_end(struct child *c, struct pipe_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    struct pipe_made *m = NULL;
    for (uint32_t i = 0; i < *nmade; i++)
        if (made[i].ino == f->id.ino)
            m = &made[i];
    if (!m) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            child_fail(c, errno, "cannot create a pipe for fd %d: %s", f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino = f->id.ino;
        m->end[0] = move_high(c, p[0]);
        m->end[1] = move_high(c, p[1]);
        if (fcntl(m->end[1], F_SETPIPE_SZ, (int)f->pos) < 0 && f->extra_len)
            child_fail(c, errno, "cannot give the pipe of fd %d its %llu bytes: %s", f->fd,
                       (unsigned long long)f->pos, strerror(errno));
    }
    if (f->extra_len) { /* the data that was waiting in it (one record carries it) */
        if (pipe_refill(m->end[1], f) < 0)
            child_fail(c, errno, "cannot refill the pipe of fd %d: %s", f->fd, strerror(errno));
    }
    return m->end[(f->open_flags & O_ACCMODE) == O_RDONLY ? 0 : 1];
}

/* A tree's pipe between processes: the pool made it, with its data. */
static int pool_pipe(struct child *c, const struct ctx_fd *f)
{
    for (uint32_t i = 0; c->pool && i < c->pool->npipes; i++)
        if (c->pool->pipes[i].ino == f->id.ino)
            return c->pool->pipes[i].end[(f->open_flags & O_ACCMODE) == O_RDONLY ? 0 : 1];
    return -1;
}

static int restore_pipe(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    int obj = pool_pipe(c, f);
    if (obj < 0) {
        if (!pipes_made && !(pipes_made = calloc(c->img->proc->nfds + 1, sizeof *pipes_made)))
            child_fail(c, ENOMEM, "out of memory");
        obj = pipe_end(c, pipes_made, &npipes_made, f);
    }
    *own = 0;
    return obj;
}

static void finish_pipes(struct child *c)
{
    (void)c;
    for (uint32_t i = 0; i < npipes_made; i++) {
        close(pipes_made[i].end[0]);
        close(pipes_made[i].end[1]);
    }
    free(pipes_made);
    pipes_made = NULL;
    npipes_made = 0;
}

/* Pipes found in more than one process: made once, before the first fork. */
static void pool_add_pipe(struct cr_pool_build *b, uint32_t member, uint32_t rec,
                          const struct ctx_fd *f)
{
    (void)rec;
    struct cr_pool_pipe *pp = NULL;
    for (uint32_t q = 0; q < b->pool->npipes; q++)
        if (b->pool->pipes[q].ino == f->id.ino)
            pp = &b->pool->pipes[q];
    if (!pp) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            child_fail(b->rep, errno, "cannot create a pipe: %s", strerror(errno));
        pp = &b->pool->pipes[b->pool->npipes++];
        pp->ino = f->id.ino;
        pp->end[0] = pool_fd(b->rep, p[0], b->low);
        pp->end[1] = pool_fd(b->rep, p[1], b->low);
        fcntl(pp->end[1], F_SETPIPE_SZ, (int)f->pos);
    }
    /* every reader saved the same bytes (all were frozen): put them back once */
    if (f->extra_len && !pp->filled) {
        if (pipe_refill(pp->end[1], f) < 0)
            child_fail(b->rep, errno, "cannot refill a pipe of process %d: %s",
                       b->t->procs[member].pid, strerror(errno));
        pp->filled = 1;
    }
}

/* A named FIFO: a keeper opened read-write holds both ends while the fds are
 * opened (so that no open blocks) and carries the saved data back in. */
struct fifo_made {
    uint64_t ino;
    int keeper;
};

static struct fifo_made *fifos_made;
static uint32_t nfifos_made;

/* A FIFO deleted while open: made again under its name (the path without the
 * kernel's " (deleted)") with its mode, opened read-write, and deleted again. */
static int deleted_fifo(struct child *c, const struct ctx_fd *f, const char *saved)
{
    char path[CTX_PATH_MAX];
    size_t n = strlen(saved);
    if (n > 10 && !strcmp(saved + n - 10, " (deleted)"))
        n -= 10;
    snprintf(path, sizeof path, "%.*s", (int)n, saved);
    if (mkfifo(path, f->id.mode & 07777) < 0)
        child_fail(c, errno, "cannot make the deleted FIFO %s of fd %d again: %s%s", path, f->fd,
                   strerror(errno), errno == EEXIST ? ": move that away, or use --relocate" : "");
    int k = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int e = errno;
    if (unlink(path) < 0 || k < 0 || fchmod(k, f->id.mode & 07777) < 0)
        child_fail(c, k < 0 ? e : errno, "cannot make the deleted FIFO %s again: %s", path,
                   strerror(k < 0 ? e : errno));
    return k;
}

static int fifo_end(struct child *c, struct fifo_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    char buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    struct fifo_made *m = NULL;
    for (uint32_t i = 0; i < *nmade; i++)
        if (made[i].ino == f->id.ino)
            m = &made[i];
    if (!m) {
        int k = (f->flags & CTX_FD_DELETED) ? deleted_fifo(c, f, path)
                                            : open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (k < 0)
            child_fail(c, errno, "cannot open the FIFO %s of fd %d: %s", path, f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino = f->id.ino;
        m->keeper = move_high(c, k);
        fcntl(m->keeper, F_SETPIPE_SZ, (int)f->pos);
    }
    char self[64];
    if (f->flags & CTX_FD_DELETED) { /* its ends are opened through the keeper */
        snprintf(self, sizeof self, "/proc/self/fd/%d", m->keeper);
        path = self;
    }
    if (f->extra_len && pipe_refill(m->keeper, f) < 0)
        child_fail(c, errno, "cannot refill the FIFO %s: %s", path, strerror(errno));
    int obj = open(path, ((int)f->open_flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen the FIFO %s as fd %d: %s", path, f->fd, strerror(errno));
    return obj;
}

static int restore_fifo(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
    if (!fifos_made && !(fifos_made = calloc(c->img->proc->nfds + 1, sizeof *fifos_made)))
        child_fail(c, ENOMEM, "out of memory");
    return fifo_end(c, fifos_made, &nfifos_made, f);
}

static void finish_fifos(struct child *c)
{
    (void)c;
    for (uint32_t i = 0; i < nfifos_made; i++)
        close(fifos_made[i].keeper);
    free(fifos_made);
    fifos_made = NULL;
    nfifos_made = 0;
}

/* pos: the capacity, which bounds the data saved; a FIFO is named by its path. */
static int valid_pipe(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->pos != 0 && f->pos <= (64u << 20) && pipe_data_valid(f) &&
           !(f->flags & ~(uint32_t)(CTX_FD_DELETED | CTX_FD_PIPE_PACKETS)) &&
           (f->kind != CTX_FD_FIFO || fd_rec_path(f)[0] == '/');
}

static void describe_pipe(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    if (f->kind == CTX_FD_FIFO)
        fprintf(out, "  %s, %u bytes buffered%s\n", fd_rec_path(f), f->extra_len,
                (f->flags & CTX_FD_PIPE_PACKETS) ? " in packets (with their lengths)" : "");
    else
        fprintf(out, "  %s end of %s, %u bytes buffered%s\n", (f->open_flags & 3) ? "write" : "read",
                fd_rec_path(f), f->extra_len,
                (f->flags & CTX_FD_PIPE_PACKETS) ? " in packets (with their lengths)" : "");
}

const struct cr_fd_ops cr_fd_pipe = {
    .kind = CTX_FD_PIPE, .name = "pipe", .scan = scan_pipes, .detect = detect_pipe,
    .save = save_pipe, .restore = restore_pipe, .restore_nonblock = 1, .finish = finish_pipes,
    .pool = pool_add_pipe,
    .valid = valid_pipe, .describe = describe_pipe,
};

const struct cr_fd_ops cr_fd_fifo = {
    .kind = CTX_FD_FIFO, .name = "fifo", .detect = detect_fifo, .save = save_pipe,
    .check = check_path, .restore = restore_fifo, .restore_nonblock = 1, .finish = finish_fifos,
    .valid = valid_pipe, .describe = describe_pipe,
};
