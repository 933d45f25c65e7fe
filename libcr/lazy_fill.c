/* Lazy restart's filling threads (lazy_fill.h).  The threads share a cursor over the
 * blocks; reading and checking happen outside any lock, the copy in the caller's
 * function.  A thread that finds a block unreadable stops them all: the monitor kills
 * the process (a fault there would find the same). */
#define _GNU_SOURCE
#include "lazy_fill.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_format.h"
#include "crc32c.h"

#define PAGE 4096UL
#define BLOCK_BYTES (CTX_BLOCK_MAX_PAGES * PAGE)
#define READAHEAD (64UL << 20)
#define MAX_THREADS 8

struct lazy_fill {
    int fd;
    const struct lazy_block *blocks;
    struct lazy_fill_ops ops;
    uint32_t n, cursor;        /* the next block to take */
    uint64_t advised;          /* readahead asked up to this offset */
    int armed, stop, nthreads, running;
    pthread_t threads[MAX_THREADS];
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static int read_block(struct lazy_fill *f, uint32_t b, char *buf)
{
    const struct lazy_block *k = &f->blocks[b];
    size_t n = (size_t)k->npages * PAGE;
    if (k->npages == 0 || n > BLOCK_BYTES) /* (the reader refuses such an image) */
        return -EINVAL;
    for (size_t done = 0; done < n;) {
        ssize_t got = pread(f->fd, buf + done, n - done, (off_t)(k->off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -errno : -EIO;
        done += (size_t)got;
    }
    return crc32c(0, buf, n) == k->crc ? 0 : -EBADMSG;
}

static void *filler(void *arg)
{
    struct lazy_fill *f = arg;
    char *buf = malloc(BLOCK_BYTES);
    pthread_mutex_lock(&f->lock);
    while (buf && !f->stop && f->cursor < f->n) {
        uint32_t b = f->cursor++;
        uint64_t off = f->blocks[b].off, ahead = 0;
        if (off + READAHEAD / 2 > f->advised) { /* (sequential reads get the kernel's own) */
            ahead = f->advised;
            f->advised += READAHEAD;
        }
        pthread_mutex_unlock(&f->lock);
        if (ahead)
            posix_fadvise(f->fd, (off_t)ahead, (off_t)READAHEAD, POSIX_FADV_WILLNEED);
        int r = f->ops.wanted(f->ops.ctx, b) ? read_block(f, b, buf) : 1;
        pthread_mutex_lock(&f->lock);
        while (!f->armed && !f->stop)
            pthread_cond_wait(&f->changed, &f->lock);
        if (f->stop || r > 0)
            continue;
        pthread_mutex_unlock(&f->lock);
        if (r < 0)
            f->ops.failed(f->ops.ctx, b, r);
        else
            r = f->ops.copy(f->ops.ctx, b, buf);
        pthread_mutex_lock(&f->lock);
        if (r < 0)
            f->stop = 1;
    }
    int last = --f->running == 0;
    pthread_mutex_unlock(&f->lock);
    free(buf);
    if (last)
        f->ops.done(f->ops.ctx);
    return NULL;
}

struct lazy_fill *lazy_fill_start(int fd, const struct lazy_block *blocks, uint32_t n,
                                  int nthreads, const struct lazy_fill_ops *ops)
{
    if (nthreads <= 0 || n == 0)
        return NULL;
    nthreads = nthreads > MAX_THREADS ? MAX_THREADS : nthreads;
    struct lazy_fill *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->fd = fd;
    f->blocks = blocks;
    f->ops = *ops;
    f->n = n;
    f->advised = blocks[0].off & ~(PAGE - 1);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with cr_restart's main thread */
    pthread_mutex_lock(&f->lock); /* (running counts them before any can end) */
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&f->threads[f->nthreads], NULL, filler, f) == 0)
            f->nthreads++, f->running++;
    pthread_mutex_unlock(&f->lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (f->nthreads)
        return f;
    lazy_fill_stop(f);
    return NULL;
}

int lazy_fill_threads(const struct lazy_fill *f)
{
    return f ? f->nthreads : 0;
}

void lazy_fill_arm(struct lazy_fill *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->armed = 1;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
}

void lazy_fill_stop(struct lazy_fill *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    for (int i = 0; i < f->nthreads; i++)
        pthread_join(f->threads[i], NULL);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->changed);
    free(f);
}
