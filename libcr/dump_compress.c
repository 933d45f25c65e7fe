/* The compressing writer (cr_checkpoint --compress): every block is compressed with
 * zstd on several threads and stored compressed only when that saves at least an
 * eighth of it, raw otherwise (context_format.h, CTX_HDR_COMPRESSED).  Random data
 * costs a small sample per block, not a compression.
 *
 * It runs where the dump runs: in the frozen process or in its snapshot child, where
 * another thread may have held a lock at the freeze.  So no malloc, no stdio, no
 * pthreads: the workers are bare clone() threads on stacks of our own, sharing the
 * dumper's TLS (hence raw system calls, which leave errno alone), each with a static
 * zstd context (ZSTD_initStaticCCtx) that never allocates.
 *
 * Blocks are taken in turn from a counter; a worker compresses its block, waits until
 * every earlier block has its place in the file (the layout is fixed by the order and
 * the sizes), takes the next place and writes its block there with pwrite while the
 * others go on.  The header and records go at the start last. */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx: a context that never allocates */
#include <zstd.h>

#include "crc32c.h"
#include "dump.h"
#include "context_header.h"

#define BLOCK_MAX ((size_t)CTX_BLOCK_MAX_PAGES * PAGE)
#define SAMPLE_PAGES 4
#define MAX_WORKERS 8
#define STACK_SIZE (256 * 1024)

struct zshared {
    struct dump *d;
    int fd, level;
    uint64_t base;             /* where the image starts in the file */
    uint64_t data_offset;
    struct ctx_block_zstd *z;  /* per block */
    unsigned char *copied;     /* per block: read through a copy */
    uint32_t next;             /* the next block to take */
    uint32_t turn;             /* the next block to place (futex) */
    uint64_t end;              /* where the data placed so far ends, from the image start */
    int err;                   /* the first failure: errno, block, what */
    uint32_t err_block;
    int err_what;              /* 1 reading memory, 2 writing, 3 a deleted file (message set) */
    int lock;                  /* deleted files' reads set the dump's message */
    uint64_t raw_bytes, stored_bytes;
};

struct zworker {
    struct zshared *s;
    ZSTD_CCtx *cctx;
    char *out, *bounce, *sample;
    size_t outcap;
    pid_t tid;                 /* cleared by the kernel when the thread is gone */
};

static long futex(uint32_t *addr, int op, uint32_t val)
{
    return cr_raw_syscall6(SYS_futex, (long)addr, op, val, 0, 0, 0);
}

static void spin_lock(int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        cr_raw_syscall6(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

static void note_err(struct zshared *s, int err, uint32_t block, int what)
{
    int zero = 0;
    if (__atomic_compare_exchange_n(&s->err, &zero, err, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        s->err_block = block;
        s->err_what = what;
    }
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        long n = cr_raw_syscall6(SYS_pwrite64, fd, (long)p, (long)len, (long)off, 0, 0);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* The frame's length when it is worth storing compressed, else 0.  A sample of a few
 * pages spread over the block decides first whether a compression is worth trying. */
static size_t compress_block(struct zworker *w, const void *src, size_t len)
{
    size_t npages = len / PAGE;
    if (npages >= 2 * SAMPLE_PAGES) {
        for (size_t k = 0; k < SAMPLE_PAGES; k++)
            memcpy(w->sample + k * PAGE, (const char *)src + (k * npages / SAMPLE_PAGES) * PAGE, PAGE);
        size_t c = ZSTD_compressCCtx(w->cctx, w->out, w->outcap, w->sample, SAMPLE_PAGES * PAGE, 1);
        if (ZSTD_isError(c) || c > SAMPLE_PAGES * PAGE - SAMPLE_PAGES * PAGE / 8)
            return 0;
    }
    size_t c = ZSTD_compressCCtx(w->cctx, w->out, w->outcap, src, len, w->s->level);
    return ZSTD_isError(c) || c > len - len / 8 ? 0 : c;
}

static int worker(void *arg)
{
    struct zworker *w = arg;
    struct zshared *s = w->s;
    struct dump *d = s->d;
    for (;;) {
        uint32_t i = __atomic_fetch_add(&s->next, 1, __ATOMIC_ACQ_REL);
        if (i >= d->nblocks)
            break;
        const struct ctx_block *b = &d->blocks[i];
        size_t len = (size_t)b->npages * PAGE, clen = 0;
        const void *src = NULL;
        int rc = 0;
        if (__atomic_load_n(&s->err, __ATOMIC_ACQUIRE)) {
            rc = -ECANCELED; /* something failed: just take the turn */
        } else if (b->vma & CTX_BLOCK_FILE) {
            int f = -1;
            for (int k = 0; k < d->ndeleted; k++)
                if (d->deleted[k].rec == (b->vma & ~CTX_BLOCK_FILE))
                    f = k;
            memset(w->bounce, 0, len);
            spin_lock(&s->lock);
            rc = f < 0 ? fail(d, EINVAL, "a deleted file's block has no file")
                       : deleted_file_read(d, f, w->bounce, len, b->addr);
            __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
            if (rc < 0)
                note_err(s, -rc, i, 3);
            src = w->bounce;
        } else {
            rc = cr_dump_block_bytes(d, b, s->copied[i], w->bounce, &src);
            if (rc < 0)
                note_err(s, -rc, i, 1);
        }
        if (rc == 0) {
            d->crcs[i] = crc32c(0, src, len);
            clen = compress_block(w, src, len);
        }
        /* its place: after every earlier block */
        uint32_t t;
        while ((t = __atomic_load_n(&s->turn, __ATOMIC_ACQUIRE)) != i)
            futex(&s->turn, FUTEX_WAIT_PRIVATE, t);
        uint64_t at = clen ? s->end : (s->end + PAGE - 1) & ~(PAGE - 1);
        s->end = at + (clen ? clen : len);
        __atomic_store_n(&s->turn, i + 1, __ATOMIC_RELEASE);
        futex(&s->turn, FUTEX_WAKE_PRIVATE, MAX_WORKERS);
        if (rc < 0)
            continue;
        d->blocks[i].file_offset = at;
        s->z[i].stored_len = (uint32_t)clen;
        s->z[i].stored_crc = clen ? crc32c(0, w->out, clen) : 0;
        __atomic_fetch_add(&s->raw_bytes, len, __ATOMIC_RELAXED);
        __atomic_fetch_add(&s->stored_bytes, clen ? clen : len, __ATOMIC_RELAXED);
        rc = pwrite_all(s->fd, clen ? (const void *)w->out : src, clen ? clen : len, s->base + at);
        if (rc < 0)
            note_err(s, -rc, i, 2);
    }
    return 0;
}

/* The CPUs this process may run on: its workers, at most MAX_WORKERS. */
static int nworkers(uint32_t nblocks)
{
    unsigned long mask[16] = { 0 };
    long n = cr_raw_syscall6(SYS_sched_getaffinity, 0, sizeof mask, (long)mask, 0, 0, 0);
    int cpus = 0;
    for (long k = 0; n > 0 && k < n / (long)sizeof mask[0]; k++)
        cpus += __builtin_popcountl(mask[k]);
    if (cpus < 1)
        cpus = 1;
    if (cpus > MAX_WORKERS)
        cpus = MAX_WORKERS;
    if ((uint32_t)cpus > nblocks)
        cpus = nblocks ? (int)nblocks : 1;
    return cpus;
}

static size_t cctx_size(int level)
{
    size_t a = ZSTD_estimateCCtxSize_usingCParams(ZSTD_getCParams(level, BLOCK_MAX, 0));
    size_t b = ZSTD_estimateCCtxSize_usingCParams(ZSTD_getCParams(1, SAMPLE_PAGES * PAGE, 0));
    return ((a > b ? a : b) + PAGE - 1) & ~(PAGE - 1);
}

int cr_dump_write_compressed(struct dump *d, int fd, uint64_t *bytes)
{
    long pos = cr_raw_syscall6(SYS_lseek, fd, 0, SEEK_CUR, 0, 0, 0);
    long fl = fcntl(fd, F_GETFL);
    if (pos < 0 || fl < 0 || (fl & O_APPEND))
        return fail(d, pos == -ESPIPE ? ESPIPE : EINVAL, "a compressed checkpoint is written in "
                    "pieces at their places: its destination must be a file opened without "
                    "O_APPEND, not a pipe or socket; write to a file, or leave out --compress "
                    "(and CR_COMPRESS)");
    struct ctx_block *tbl = rec_add(d, CTX_REC_BLOCKS, d->nblocks * sizeof(struct ctx_block));
    struct ctx_block_zstd *ztbl = tbl ? rec_add(d, CTX_REC_BLOCK_ZSTD,
                                                d->nblocks * sizeof(struct ctx_block_zstd)) : NULL;
    if (!ztbl)
        return fail(d, E2BIG, "too much metadata");
    struct ctx_header h;
    cr_dump_header(d, &h);
    h.flags |= CTX_HDR_COMPRESSED;

    /* our own memory, mapped after the VMAs were listed: not part of the image */
    int nw = nworkers(d->nblocks);
    size_t outcap = ZSTD_compressBound(BLOCK_MAX), cctx = cctx_size(d->zlevel);
    size_t per = STACK_SIZE + ((outcap + PAGE - 1) & ~(PAGE - 1)) + BLOCK_MAX + SAMPLE_PAGES * PAGE + cctx;
    size_t tables = ((d->nblocks * (sizeof(struct ctx_block_zstd) + 1) + sizeof(struct zshared) +
                      MAX_WORKERS * sizeof(struct zworker)) + PAGE - 1) & ~(PAGE - 1);
    size_t size = tables + (size_t)nw * per;
    char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return fail(d, errno, "allocating %zu MiB for compression", size / MiB);
    struct zshared *s = (struct zshared *)mem;
    struct zworker *w = (struct zworker *)(s + 1);
    s->z = (struct ctx_block_zstd *)(w + MAX_WORKERS);
    s->copied = (unsigned char *)(s->z + d->nblocks);
    s->d = d;
    s->fd = fd;
    s->level = d->zlevel;
    s->base = (uint64_t)pos;
    s->data_offset = s->end = h.data_offset;
    cr_dump_copied_blocks(d, s->copied);
    int rc = 0;
    for (int k = 0; k < nw; k++) {
        char *p = mem + tables + (size_t)k * per;
        w[k].s = s;
        w[k].out = p + STACK_SIZE;
        w[k].outcap = outcap;
        w[k].bounce = w[k].out + ((outcap + PAGE - 1) & ~(PAGE - 1));
        w[k].sample = w[k].bounce + BLOCK_MAX;
        w[k].cctx = ZSTD_initStaticCCtx(w[k].sample + SAMPLE_PAGES * PAGE, cctx);
        if (!w[k].cctx) {
            rc = fail(d, ENOMEM, "cannot set up zstd level %d", d->zlevel);
            nw = k;
        }
    }
    /* one small compression here first: the lazy bindings of libzstd's functions (and
     * of what it calls) are resolved by this thread, not by several at once */
    if (rc == 0) {
        memset(w[0].sample, 0, SAMPLE_PAGES * PAGE);
        ZSTD_isError(ZSTD_compressCCtx(w[0].cctx, w[0].out, w[0].outcap, w[0].sample,
                                       SAMPLE_PAGES * PAGE, d->zlevel));
    }
    /* the others start with every signal blocked: the program's handlers are not theirs */
    sigset_t all, old;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    int started = 0;
    for (int k = 1; rc == 0 && k < nw; k++) {
        char *stack_top = mem + tables + (size_t)k * per + STACK_SIZE;
        int t = clone(worker, stack_top, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
                      CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID,
                      &w[k], &w[k].tid, NULL, &w[k].tid);
        if (t < 0)
            break; /* fewer workers: the others do the rest */
        started++;
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
    if (rc == 0)
        worker(&w[0]);
    for (int k = 1; k <= started; k++) {
        pid_t t;
        while ((t = __atomic_load_n(&w[k].tid, __ATOMIC_ACQUIRE)) != 0)
            futex((uint32_t *)&w[k].tid, FUTEX_WAIT, (uint32_t)t);
    }
    if (rc == 0 && s->err) {
        const struct ctx_block *b = &d->blocks[s->err_block];
        if (s->err_what == 1)
            rc = fail(d, s->err, "reading memory at 0x%llx", (unsigned long long)b->addr);
        else if (s->err_what == 2)
            rc = fail(d, s->err, "writing the memory block at 0x%llx to the context file",
                      (unsigned long long)b->addr);
        else
            rc = -s->err; /* (its message is set) */
    }
    if (rc == 0) {
        uint64_t data_end = (s->end + PAGE - 1) & ~(PAGE - 1);
        h.data_length = data_end - h.data_offset;
        h.trailer_offset = data_end;
        memcpy(tbl, d->blocks, d->nblocks * sizeof *tbl);
        memcpy(ztbl, s->z, d->nblocks * sizeof *ztbl);
        d->proc->nblocks = d->nblocks;
        d->proc->first_block = 0;
        cr_dump_seal(d);
        h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
        d->out_header_crc = h.header_crc;
        d->out_created_ns = h.created_ns;
        /* the header, the records and zeros up to the data; the trailer after it */
        char *pad = d->scratch + BOUNCE_OFF;
        size_t padlen = h.data_offset - sizeof h - d->recs_len;
        memset(pad, 0, padlen);
        struct ctx_rec r = { CTX_REC_BLOCK_CRCS, (uint32_t)((d->nblocks * 4 + 7) & ~7U), d->nrecs, 0 };
        memset((char *)d->crcs + d->nblocks * 4, 0, r.length - d->nblocks * 4);
        r.crc = crc32c(crc32c(0, &r, 12), d->crcs, r.length);
        struct {
            struct ctx_rec r;
            struct ctx_end e;
        } end = { { CTX_REC_END, sizeof(struct ctx_end), d->nrecs + 1, 0 }, { 0, d->nblocks, 0 } };
        uint64_t t = h.trailer_offset;
        end.e.file_length = t + sizeof r + r.length + sizeof end;
        end.r.crc = crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e);
        int w1 = pwrite_all(fd, &h, sizeof h, s->base);
        if (w1 == 0)
            w1 = pwrite_all(fd, d->scratch + RECS_OFF, d->recs_len, s->base + sizeof h);
        if (w1 == 0)
            w1 = pwrite_all(fd, pad, padlen, s->base + sizeof h + d->recs_len);
        if (w1 == 0)
            w1 = pwrite_all(fd, &r, sizeof r, s->base + t);
        if (w1 == 0)
            w1 = pwrite_all(fd, d->crcs, r.length, s->base + t + sizeof r);
        if (w1 == 0)
            w1 = pwrite_all(fd, &end, sizeof end, s->base + t + sizeof r + r.length);
        if (w1 < 0)
            rc = fail(d, -w1, "writing the context file's header and trailer");
        /* where a file written in order would leave its offset (a tree's next image) */
        if (rc == 0 && lseek(fd, (off_t)(s->base + end.e.file_length), SEEK_SET) < 0)
            rc = fail(d, errno, "seeking in the context file");
        if (rc == 0 && d->sync && fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
            rc = fail(d, errno, "flushing the context file to disk");
        if (rc == 0)
            *bytes = end.e.file_length;
    }
    munmap(mem, size);
    return rc;
}
