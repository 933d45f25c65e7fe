/* An incremental image merged with its chain into a full one (cr_checkpoint --merge):
 * the same records but the parent's two, and every block: its own and the memory it
 * took from its parents (context_chain.c's pieces), in address order, raw, each
 * checked as it is read.  The images of the chain may then be deleted. */
#define _GNU_SOURCE
#include "context_reader.h"
#include "say.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"

#define PAGE 4096ULL

static int write_all(int fd, const void *buf, size_t len, char *err, size_t errlen)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cr_say(err, errlen, n < 0 ? errno : EIO, "cannot write the merged image: %s",
                       strerror(n < 0 ? errno : EIO));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct src {                   /* where a block of the merged image comes from */
    int piece;                 /* 0: the image's own block `index`; 1: chain piece `index` */
    uint32_t index;
};

/* The records, those of the parent left out, renumbered, the process's block count
 * set, the new block table last; their length into *len. */
static char *merged_records(const struct ctx_image *img, const struct ctx_block *blocks,
                            uint32_t nblocks, uint32_t *nrecs, uint64_t *len)
{
    size_t table = (nblocks * sizeof *blocks + 7) & ~(size_t)7;
    char *out = malloc(img->hdr.records_length + sizeof(struct ctx_rec) + table);
    if (!out)
        return NULL;
    uint64_t at = 0;
    uint32_t seq = 0;
    for (uint64_t off = 0; off < img->hdr.records_length;) {
        const struct ctx_rec *r = (const struct ctx_rec *)(img->meta + off);
        off += sizeof *r + r->length;
        if (r->type == CTX_REC_PARENT || r->type == CTX_REC_PARENT_PAGES ||
            r->type == CTX_REC_BLOCKS || r->type == CTX_REC_BLOCK_ZSTD)
            continue;
        struct ctx_rec *w = (struct ctx_rec *)(out + at);
        memcpy(w, r, sizeof *r + r->length);
        if (w->type == CTX_REC_PROC) {
            struct ctx_proc *p = (struct ctx_proc *)(w + 1);
            p->nblocks = nblocks;
            p->first_block = 0;
        }
        w->seq = seq++;
        w->crc = crc32c(crc32c(0, w, 12), w + 1, w->length);
        at += sizeof *w + w->length;
    }
    struct ctx_rec *w = (struct ctx_rec *)(out + at);
    *w = (struct ctx_rec){ CTX_REC_BLOCKS, (uint32_t)table, seq++, 0 };
    memset(w + 1, 0, table);
    memcpy(w + 1, blocks, nblocks * sizeof *blocks);
    w->crc = crc32c(crc32c(0, w, 12), w + 1, w->length);
    at += sizeof *w + table;
    *nrecs = seq;
    *len = at;
    return out;
}

int ctx_merge(struct ctx_image *img, int fd, uint64_t *bytes, char *err, size_t len)
{
    if (!img->parent)
        return cr_say(err, len, EINVAL, "not an incremental image: it is full already");
    int rc = ctx_chain_resolve(img, err, len);
    if (rc < 0)
        return rc;
    const struct ctx_chain *c = img->chain;
    uint32_t n = img->hdr.nblocks + c->npieces;
    struct ctx_block *blocks = calloc(n + 1, sizeof *blocks);
    struct src *srcs = calloc(n + 1, sizeof *srcs);
    uint32_t *crcs = calloc(n + 2, sizeof *crcs);
    char *buf = malloc(CTX_BLOCK_MAX_PAGES * PAGE);
    char *recs = NULL;
    if (!blocks || !srcs || !crcs || !buf) {
        rc = cr_say(err, len, ENOMEM, "out of memory");
        goto out;
    }
    /* memory in address order (the image's blocks and the pieces never overlap), then
     * the contents of deleted files as they were */
    uint32_t k = 0, b = 0, p = 0;
    while (b < img->hdr.nblocks || p < c->npieces) {
        int own_mem = b < img->hdr.nblocks && !(img->blocks[b].vma & CTX_BLOCK_FILE);
        int take_piece = p < c->npieces && (!own_mem || c->pieces[p].addr < img->blocks[b].addr);
        if (!own_mem && !take_piece)
            break;
        if (take_piece) {
            const struct ctx_piece *pc = &c->pieces[p];
            blocks[k] = (struct ctx_block){ pc->addr, 0, pc->npages, pc->vma };
            srcs[k] = (struct src){ 1, p++ };
        } else {
            blocks[k] = img->blocks[b];
            srcs[k] = (struct src){ 0, b++ };
        }
        k++;
    }
    for (; b < img->hdr.nblocks; b++, k++) {
        blocks[k] = img->blocks[b];
        srcs[k] = (struct src){ 0, b };
    }
    uint32_t nrecs;
    uint64_t rlen;
    recs = merged_records(img, blocks, n, &nrecs, &rlen);
    if (!recs) {
        rc = cr_say(err, len, ENOMEM, "out of memory");
        goto out;
    }
    struct ctx_header h = img->hdr;
    h.flags &= ~(uint32_t)(CTX_HDR_INCREMENTAL | CTX_HDR_COMPRESSED | CTX_HDR_PRECOPY);
    h.nrecords = nrecs;
    h.nblocks = n;
    h.records_offset = sizeof h;
    h.records_length = rlen;
    h.data_offset = (sizeof h + rlen + PAGE - 1) & ~(PAGE - 1);
    uint64_t at = h.data_offset;
    for (uint32_t i = 0; i < n; i++) {
        blocks[i].file_offset = at;
        at += (uint64_t)blocks[i].npages * PAGE;
    }
    h.data_length = at - h.data_offset;
    h.trailer_offset = at;
    free(recs); /* again, with the blocks' offsets in its table */
    recs = merged_records(img, blocks, n, &nrecs, &rlen);
    if (!recs) {
        rc = cr_say(err, len, ENOMEM, "out of memory");
        goto out;
    }
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    memset(buf, 0, PAGE);
    rc = write_all(fd, &h, sizeof h, err, len);
    if (rc == 0)
        rc = write_all(fd, recs, rlen, err, len);
    if (rc == 0)
        rc = write_all(fd, buf, h.data_offset - sizeof h - rlen, err, len);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        size_t size = (size_t)blocks[i].npages * PAGE;
        if (!srcs[i].piece) {
            char sub[400];
            rc = ctx_read_block(img, srcs[i].index, buf, sub, sizeof sub);
            if (rc < 0) {
                rc = cr_say(err, len, -rc, "%s", sub);
                break;
            }
            crcs[i] = img->crcs[srcs[i].index];
        } else {
            const struct ctx_piece *pc = &c->pieces[srcs[i].index];
            rc = ctx_read_at(pc->fd, buf, size, pc->off);
            if (rc < 0) {
                rc = cr_say(err, len, -rc, "cannot read the parent's memory at 0x%llx: %s",
                         (unsigned long long)pc->addr, strerror(-rc));
                break;
            }
            if (crc32c(0, buf, size) != pc->crc) {
                rc = cr_say(err, len, EBADMSG, "checksum mismatch in the memory at 0x%llx that the "
                         "image takes from its parents", (unsigned long long)pc->addr);
                break;
            }
            crcs[i] = pc->crc;
        }
        rc = write_all(fd, buf, size, err, len);
    }
    if (rc == 0) {
        struct ctx_rec r = { CTX_REC_BLOCK_CRCS, (uint32_t)((n * 4 + 7) & ~7U), nrecs, 0 };
        r.crc = crc32c(crc32c(0, &r, 12), crcs, r.length);
        struct {
            struct ctx_rec r;
            struct ctx_end e;
        } end = { { CTX_REC_END, sizeof(struct ctx_end), nrecs + 1, 0 }, { 0, n, 0 } };
        end.e.file_length = h.trailer_offset + sizeof r + r.length + sizeof end;
        end.r.crc = crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e);
        rc = write_all(fd, &r, sizeof r, err, len);
        if (rc == 0)
            rc = write_all(fd, crcs, r.length, err, len);
        if (rc == 0)
            rc = write_all(fd, &end, sizeof end, err, len);
        *bytes = end.e.file_length;
    }
out:
    free(blocks);
    free(srcs);
    free(crcs);
    free(buf);
    free(recs);
    return rc;
}
