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
        const char *data = (const char *)(f + 1) + f->path_len;
        if (write(m->end[1], data, f->extra_len) != (ssize_t)f->extra_len)
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
        const char *data = (const char *)(f + 1) + f->path_len;
        if (write(pp->end[1], data, f->extra_len) != (ssize_t)f->extra_len)
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
        int k = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (k < 0)
            child_fail(c, errno, "cannot open the FIFO %s of fd %d: %s", path, f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino = f->id.ino;
        m->keeper = move_high(c, k);
        fcntl(m->keeper, F_SETPIPE_SZ, (int)f->pos);
    }
    if (f->extra_len && write(m->keeper, (const char *)(f + 1) + f->path_len, f->extra_len) !=
                            (ssize_t)f->extra_len)
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

const struct cr_fd_ops cr_fd_pipe = {
    .kind = CTX_FD_PIPE, .name = "pipe", .restore = restore_pipe, .restore_nonblock = 1,
    .finish = finish_pipes, .pool = pool_add_pipe,
};

const struct cr_fd_ops cr_fd_fifo = {
    .kind = CTX_FD_FIFO, .name = "fifo", .check = check_path, .restore = restore_fifo,
    .restore_nonblock = 1, .finish = finish_fifos,
};
