/* Lazy restart's readers (lazy_prefetch.h).  A few slots of one block each; each
 * reader takes the next block after the consumer's place, reads it (with readahead
 * asked well ahead, for a cold cache) and checks its crc32c outside any lock; the
 * consumer takes a block that is ready, waits for one being read, or reads for itself
 * one they do not have (a fault far from the background's place). */
#define _GNU_SOURCE
#include "lazy_prefetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"

#define PAGE 4096UL
#define SLOT_BYTES (256 * PAGE) /* CTX_BLOCK_MAX_PAGES pages */
#define READAHEAD (64UL << 20)
#define MAX_READERS 8

enum { FREE, READING, READY, FAILED, HELD };

struct slot {
    int state, err;
    uint32_t block;
    char *buf;
};

struct lazy_prefetch {
    int fd;
    const struct lazy_block *blocks;
    uint32_t n, cursor;        /* the next block to read */
    uint64_t advised;          /* readahead asked up to this offset */
    int stop, nthreads, nslots;
    struct slot *slots;
    pthread_t threads[MAX_READERS];
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static int read_block(struct lazy_prefetch *p, uint32_t b, char *buf)
{
    const struct lazy_block *k = &p->blocks[b];
    size_t n = (size_t)k->npages * PAGE;
    for (size_t done = 0; done < n;) {
        ssize_t got = pread(p->fd, buf + done, n - done, (off_t)(k->off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? -errno : -EIO;
        done += (size_t)got;
    }
    return crc32c(0, buf, n) == k->crc ? 0 : -EBADMSG;
}

static void *reader(void *arg)
{
    struct lazy_prefetch *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        struct slot *s = NULL;
        for (int i = 0; i < p->nslots && !s; i++)
            if (p->slots[i].state == FREE)
                s = &p->slots[i];
        if (!s || p->cursor >= p->n) {
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        uint32_t b = p->cursor++;
        s->state = READING;
        s->block = b;
        uint64_t off = p->blocks[b].off, ahead = 0;
        if (off + READAHEAD / 2 > p->advised) { /* (sequential reads get the kernel's own) */
            ahead = p->advised;
            p->advised += READAHEAD;
        }
        pthread_mutex_unlock(&p->lock);
        if (ahead)
            posix_fadvise(p->fd, (off_t)ahead, (off_t)READAHEAD, POSIX_FADV_WILLNEED);
        int r = read_block(p, b, s->buf);
        pthread_mutex_lock(&p->lock);
        s->err = r;
        s->state = r ? FAILED : READY;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct lazy_prefetch *lazy_prefetch_start(int fd, const struct lazy_block *blocks, uint32_t n,
                                          int nthreads)
{
    if (nthreads <= 0 || n == 0)
        return NULL;
    nthreads = nthreads > MAX_READERS ? MAX_READERS : nthreads;
    struct lazy_prefetch *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fd = fd;
    p->blocks = blocks;
    p->n = n;
    p->advised = blocks[0].off & ~(PAGE - 1);
    p->nslots = 2 * nthreads + 2; /* a few ready ahead of the consumer */
    p->slots = calloc((size_t)p->nslots, sizeof *p->slots);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    for (int i = 0; p->slots && i < p->nslots; i++)
        if (!(p->slots[i].buf = malloc(SLOT_BYTES)))
            break;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with cr_restart's main thread */
    for (int i = 0; p->slots && p->slots[p->nslots - 1].buf && i < nthreads; i++)
        if (pthread_create(&p->threads[i], NULL, reader, p) == 0)
            p->nthreads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->nthreads)
        return p;
    lazy_prefetch_stop(p);
    return NULL;
}

void lazy_prefetch_ahead(struct lazy_prefetch *p, uint32_t from)
{
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nslots; i++)
        if ((p->slots[i].state == READY || p->slots[i].state == FAILED) && p->slots[i].block < from)
            p->slots[i].state = FREE;
    if (p->cursor < from)
        p->cursor = from;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

int lazy_prefetch_get(struct lazy_prefetch *p, uint32_t b, const char **buf)
{
    pthread_mutex_lock(&p->lock);
    int r = 0;
    for (;;) {
        struct slot *s = NULL;
        for (int i = 0; i < p->nslots && !s; i++)
            if (p->slots[i].state != FREE && p->slots[i].state != HELD && p->slots[i].block == b)
                s = &p->slots[i];
        if (s && s->state == READING) {
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        if (s && s->state == READY) {
            s->state = HELD;
            *buf = s->buf;
            r = 1;
        } else if (s) { /* FAILED: said once, then read again by the caller if asked */
            r = s->err;
            s->state = FREE;
            pthread_cond_broadcast(&p->changed);
        }
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

void lazy_prefetch_release(struct lazy_prefetch *p, uint32_t b)
{
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->nslots; i++)
        if (p->slots[i].state == HELD && p->slots[i].block == b)
            p->slots[i].state = FREE;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

void lazy_prefetch_stop(struct lazy_prefetch *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (int i = 0; p->slots && i < p->nslots; i++)
        free(p->slots[i].buf);
    free(p->slots);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
    free(p);
}
