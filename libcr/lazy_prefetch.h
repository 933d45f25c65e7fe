/* Lazy restart's readers (lazy_prefetch.c): threads that read the image's blocks ahead
 * of the background copy and check their crc32c, so that the thread serving the
 * userfaultfds (restart_lazy.c) only copies them in. */
#ifndef SLURM_CR_LAZY_PREFETCH_H
#define SLURM_CR_LAZY_PREFETCH_H

#include <stdint.h>

struct lazy_block {            /* one memory block of the image */
    uint64_t addr, off;        /* where it was; its offset in the image file */
    uint32_t npages, crc;
};

struct lazy_prefetch;

/* nthreads readers of fd's blocks[0..n) (in that order), or NULL (none wanted, or
 * they could not start: the caller reads for itself). */
struct lazy_prefetch *lazy_prefetch_start(int fd, const struct lazy_block *blocks, uint32_t n,
                                          int nthreads);
/* The consumer goes on from block from: what was read before it is let go, the
 * readers go on from there. */
void lazy_prefetch_ahead(struct lazy_prefetch *p, uint32_t from);
/* Block b read and checked: 1 and its bytes in *buf (held until lazy_prefetch_release);
 * 0 when the readers do not have it (read it yourself); -errno when its read failed
 * (-EIO: the file is shorter; -EBADMSG: checksum mismatch). */
int lazy_prefetch_get(struct lazy_prefetch *p, uint32_t b, const char **buf);
void lazy_prefetch_release(struct lazy_prefetch *p, uint32_t b);
void lazy_prefetch_stop(struct lazy_prefetch *p);

#endif
