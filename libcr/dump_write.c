/* The dumper's writer (dump.h): the header, the records, the memory blocks and the
 * trailer of one process's context file, uncompressed (dump_compress.c writes the
 * compressed one).  Shared by the runtime and the ptrace dumper (d->remote: every block
 * read through /proc/PID/mem). */
#define _GNU_SOURCE
#include "dump.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "context_header.h"
#include "crc32c.h"

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cr_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static void recs_seal(struct dump *d)
{
    for (size_t off = 0; off < d->recs_len;) {
        struct ctx_rec *r = (struct ctx_rec *)(d->scratch + RECS_OFF + off);
        r->crc = crc32c(crc32c(0, r, 12), r + 1, r->length);
        off += sizeof *r + r->length;
    }
}

/* A block is copied before it is checksummed and written when it cannot be read
 * directly (e.g. PROT_NONE pages that hold data: /proc/self/mem reads them anyway) or
 * when it changes under us (our own stack, the runtime's state, the stacks where stopped
 * threads wait). */
static int block_copied(const struct dump *d, const struct ctx_block *b, int readable)
{
    size_t len = (size_t)b->npages * PAGE;
    int ours = 0;
    for (int i = 0; i < 2; i++)
        if (b->addr < d->volatile_end[i] && b->addr + len > d->volatile_start[i])
            ours = 1;
    if (b->vma < 65536 && (d->parked_stack_vmas[b->vma / 8] >> (b->vma % 8) & 1))
        ours = 1;
    return !readable || ours || d->remote; /* another process's: through /proc/PID/mem */
}

/* The bytes of memory block b: in place, or copied into bounce (0 or -errno; no
 * message, no errno: the compressing writer's threads call it too). */
int cr_dump_block_bytes(struct dump *d, const struct ctx_block *b, int copied, char *bounce,
                        const void **src)
{
    size_t len = (size_t)b->npages * PAGE;
    *src = (const void *)(uintptr_t)b->addr;
    if (!copied)
        return 0;
    for (size_t done = 0; done < len;) {
        long n = cr_raw_syscall6(SYS_pread64, d->mem_fd, (long)(bounce + done), (long)(len - done),
                                 (long)(b->addr + done), 0, 0);
        if (n == -EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        done += (size_t)n;
    }
    *src = bounce;
    return 0;
}

static int write_block(struct dump *d, int fd, const struct ctx_block *b, int readable, uint32_t *crc)
{
    size_t len = (size_t)b->npages * PAGE;
    const void *src;
    int rc = cr_dump_block_bytes(d, b, block_copied(d, b, readable), d->scratch + BOUNCE_OFF, &src);
    if (rc < 0)
        return fail(d, -rc, "reading memory at 0x%llx", (unsigned long long)b->addr);
    *crc = crc32c(0, src, len);
    rc = write_all(fd, src, len);
    if (rc < 0)
        return fail(d, -rc, "writing the memory block at 0x%llx to the context file",
                    (unsigned long long)b->addr);
    return 0;
}

/* Which memory blocks are copied before they are read (block_copied), one byte each:
 * the blocks are in VMA order, each VMA's protection found as we go. */
void cr_dump_copied_blocks(struct dump *d, unsigned char *copied)
{
    const struct ctx_vma *v = NULL;
    uint32_t vi = (uint32_t)-1;
    char *recs = d->scratch + RECS_OFF;
    size_t roff = 0;
    for (uint32_t i = 0; i < d->nblocks; i++) {
        copied[i] = 0;
        if (d->blocks[i].vma & CTX_BLOCK_FILE)
            continue;
        while (vi != d->blocks[i].vma) {
            struct ctx_rec *r = (struct ctx_rec *)(recs + roff);
            roff += sizeof *r + r->length;
            if (r->type == CTX_REC_VMA) {
                v = (const struct ctx_vma *)(r + 1);
                vi++;
            }
        }
        copied[i] = (unsigned char)block_copied(
            d, &d->blocks[i], v && (v->prot & PROT_READ) && !(v->flags & CTX_VMA_SAVED));
    }
}

/* A block of a deleted file's contents, zero-padded to whole pages. */
static int write_file_block(struct dump *d, int fd, const struct ctx_block *b, uint32_t *crc)
{
    int src = -1;
    for (int i = 0; i < d->ndeleted; i++)
        if (d->deleted[i].rec == (b->vma & ~CTX_BLOCK_FILE))
            src = i;
    size_t len = (size_t)b->npages * PAGE;
    char *bounce = d->scratch + BOUNCE_OFF;
    memset(bounce, 0, len);
    int rc = src < 0 ? fail(d, EINVAL, "a deleted file's block has no file")
                     : deleted_file_read(d, src, bounce, len, b->addr);
    if (rc < 0)
        return rc;
    *crc = crc32c(0, bounce, len);
    rc = write_all(fd, bounce, len);
    return rc < 0 ? fail(d, -rc, "writing a deleted file's contents to the context file") : 0;
}

/* The header with the layout of d's records and blocks (its crc once complete). */
void cr_dump_header(struct dump *d, struct ctx_header *h)
{
    ctx_header_init(h);
    h->scope = CTX_SCOPE_PROC;
    h->nproc = 1;
    h->uid = d->uid;
    h->flags |= d->hdr_flags;
    h->nrecords = d->nrecs;
    h->nblocks = d->nblocks;
    h->records_offset = sizeof *h;
    h->records_length = d->recs_len;
    h->data_offset = (sizeof *h + d->recs_len + PAGE - 1) & ~(PAGE - 1);
    if (d->incr)
        h->flags |= CTX_HDR_INCREMENTAL;
}

void cr_dump_seal(struct dump *d)
{
    recs_seal(d);
}

/* The trailer after the data at h->trailer_offset: the blocks' checksums (their
 * record r, then d->crcs, r.length bytes) and the END record (end). */
struct trailer_end {
    struct ctx_rec r;
    struct ctx_end e;
};
static void trailer(struct dump *d, const struct ctx_header *h, struct ctx_rec *r,
                    struct trailer_end *end)
{
    *r = (struct ctx_rec){ CTX_REC_BLOCK_CRCS, (uint32_t)((d->nblocks * 4 + 7) & ~7U), d->nrecs, 0 };
    memset((char *)d->crcs + d->nblocks * 4, 0, r->length - d->nblocks * 4);
    r->crc = crc32c(crc32c(0, r, 12), d->crcs, r->length);
    *end = (struct trailer_end){ { CTX_REC_END, sizeof(struct ctx_end), d->nrecs + 1, 0 },
                                 { 0, d->nblocks, 0 } };
    end->e.file_length = h->trailer_offset + sizeof *r + r->length + sizeof *end;
    end->r.crc = crc32c(crc32c(0, &end->r, 12), &end->e, sizeof end->e);
}

int cr_dump_write_plain(struct dump *d, int fd, uint64_t *bytes)
{
    /* BLOCKS record, then the layout */
    struct ctx_block *tbl = rec_add(d, CTX_REC_BLOCKS, d->nblocks * sizeof(struct ctx_block));
    if (!tbl)
        return fail(d, E2BIG, "too much metadata");
    struct ctx_header h;
    cr_dump_header(d, &h);
    uint64_t off = h.data_offset;
    for (uint32_t i = 0; i < d->nblocks; i++) {
        d->blocks[i].file_offset = off;
        off += (uint64_t)d->blocks[i].npages * PAGE;
    }
    h.data_length = off - h.data_offset;
    h.trailer_offset = off;
    memcpy(tbl, d->blocks, d->nblocks * sizeof *tbl);
    d->proc->nblocks = d->nblocks;
    d->proc->first_block = 0;
    recs_seal(d);
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    d->out_header_crc = h.header_crc; /* it may become a parent */
    d->out_created_ns = h.created_ns;

    int rc = write_all(fd, &h, sizeof h);
    if (rc == 0)
        rc = write_all(fd, d->scratch + RECS_OFF, d->recs_len);
    if (rc == 0) {
        size_t pad = h.data_offset - sizeof h - d->recs_len;
        memset(d->scratch + BOUNCE_OFF, 0, pad);
        rc = write_all(fd, d->scratch + BOUNCE_OFF, pad);
    }
    if (rc < 0)
        return fail(d, -rc, "writing the context file header");

    /* memory: find each block's VMA protection as we go (blocks are in VMA order) */
    const struct ctx_vma *v = NULL;
    uint32_t vi = (uint32_t)-1;
    char *recs = d->scratch + RECS_OFF;
    size_t roff = 0;
    for (uint32_t i = 0; i < d->nblocks; i++) {
        if (d->blocks[i].vma & CTX_BLOCK_FILE) {
            rc = write_file_block(d, fd, &d->blocks[i], &d->crcs[i]);
            if (rc < 0)
                return rc;
            continue;
        }
        while (vi != d->blocks[i].vma) {
            struct ctx_rec *r = (struct ctx_rec *)(recs + roff);
            roff += sizeof *r + r->length;
            if (r->type == CTX_REC_VMA) {
                v = (const struct ctx_vma *)(r + 1);
                vi++;
            }
        }
        rc = write_block(d, fd, &d->blocks[i],
                         v && (v->prot & PROT_READ) && !(v->flags & CTX_VMA_SAVED), &d->crcs[i]);
        if (rc < 0)
            return rc;
    }

    /* trailer */
    struct ctx_rec r;
    struct trailer_end end;
    trailer(d, &h, &r, &end);
    rc = write_all(fd, &r, sizeof r);
    if (rc == 0)
        rc = write_all(fd, d->crcs, r.length);
    if (rc == 0)
        rc = write_all(fd, &end, sizeof end);
    if (rc < 0)
        return fail(d, -rc, "writing the context file trailer");
    if (d->sync && fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        return fail(d, errno, "flushing the context file to disk");
    *bytes = end.e.file_length;
    return 0;
}

/* What cr_dump_seal_precopied made, for cr_dump_write_sealed (one checkpoint at a
 * time in a process). */
static struct {
    struct ctx_header h;
    struct ctx_rec r;
    struct trailer_end end;
    uint64_t data_end;
} sealed;

int cr_dump_seal_precopied(struct dump *d, uint64_t data_offset, uint64_t data_end)
{
    size_t recs_before = d->recs_len;
    uint32_t nrecs_before = d->nrecs;
    struct ctx_block *tbl = rec_add(d, CTX_REC_BLOCKS, d->nblocks * sizeof(struct ctx_block));
    if (!tbl)
        return fail(d, E2BIG, "too much metadata");
    struct ctx_header *h = &sealed.h;
    cr_dump_header(d, h);
    if (h->records_offset + d->recs_len > data_offset) {
        d->recs_len = recs_before, d->nrecs = nrecs_before;
        return 1;
    }
    h->flags |= CTX_HDR_PRECOPY;
    h->data_offset = data_offset;
    h->data_length = data_end - data_offset;
    h->trailer_offset = data_end;
    memcpy(tbl, d->blocks, d->nblocks * sizeof *tbl);
    d->proc->nblocks = d->nblocks;
    d->proc->first_block = 0;
    recs_seal(d);
    h->header_crc = crc32c(0, h, offsetof(struct ctx_header, header_crc));
    d->out_header_crc = h->header_crc;
    d->out_created_ns = h->created_ns;
    trailer(d, h, &sealed.r, &sealed.end);
    sealed.data_end = data_end;
    return 0;
}

int cr_dump_write_sealed(struct dump *d, int fd, uint64_t *bytes)
{
    uint64_t data_end = sealed.data_end;
    /* the trailer first, the header last: until then no reader takes it for whole */
    int rc = cr_pwrite_all(fd, &sealed.r, sizeof sealed.r, data_end);
    if (rc == 0)
        rc = cr_pwrite_all(fd, d->crcs, sealed.r.length, data_end + sizeof sealed.r);
    if (rc == 0)
        rc = cr_pwrite_all(fd, &sealed.end, sizeof sealed.end, data_end + sizeof sealed.r + sealed.r.length);
    if (rc == 0)
        rc = cr_pwrite_all(fd, d->scratch + RECS_OFF, d->recs_len, sizeof sealed.h);
    if (rc == 0) /* (the room left for the records stays a hole: zeros) */
        rc = cr_pwrite_all(fd, &sealed.h, sizeof sealed.h, 0);
    if (rc < 0)
        return fail(d, -rc, "writing the context file's records and trailer");
    *bytes = sealed.end.e.file_length;
    return 0;
}
