/* Lazy restart's filling threads (lazy_fill.c): the background copy of the image into
 * the restored process, on several threads.  Each takes the next block in file order,
 * reads it (with readahead asked well ahead, for a cold cache), checks its crc32c and
 * hands it to the caller's copy function, which puts it in place (UFFDIO_COPY) under
 * the monitor's event lock (restart_lazy.c): copying one block is a system call that
 * allocates and fills up to 256 pages, the cost of the fill, and the kernel takes such
 * copies side by side. */
#ifndef SLURM_CR_LAZY_FILL_H
#define SLURM_CR_LAZY_FILL_H

#include <stdint.h>

struct lazy_block {            /* one memory block of the image */
    uint64_t addr, off;        /* where it was; its offset in the image file */
    uint32_t npages, crc;
};

struct lazy_fill_ops {
    void *ctx;
    /* 0 when block b needs nothing any more (faulted in, or dropped): not read */
    int (*wanted)(void *ctx, uint32_t b);
    /* block b read and checked: put it in place; 0, or < 0 to stop every thread */
    int (*copy)(void *ctx, uint32_t b, const char *buf);
    /* block b could not be read (-EIO: the file is shorter) or checked (-EBADMSG):
     * every thread stops */
    void (*failed)(void *ctx, uint32_t b, int err);
    /* the last thread is through (every block handed over, or stopped) */
    void (*done)(void *ctx);
};

struct lazy_fill;

/* nthreads threads over fd's blocks[0..n) (in that order), or NULL (none wanted, or
 * none could start: the caller fills for itself).  They read ahead at once but copy
 * only after lazy_fill_arm. */
struct lazy_fill *lazy_fill_start(int fd, const struct lazy_block *blocks, uint32_t n,
                                  int nthreads, const struct lazy_fill_ops *ops);
/* How many threads run (0 for NULL). */
int lazy_fill_threads(const struct lazy_fill *f);
/* The memory is registered: copying may begin. */
void lazy_fill_arm(struct lazy_fill *f);
/* Stops the threads (a copy under way ends first) and frees f; NULL is fine. */
void lazy_fill_stop(struct lazy_fill *f);

#endif
