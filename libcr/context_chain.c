/* The chain of an incremental image (context_format.h, CTX_HDR_INCREMENTAL): its
 * parent, the parent's parent, ... up to a full image, each opened by the strict
 * reader and checked to be the very file its child was made from; then each run of
 * the parent's memory resolved into pieces, each an (fd, offset) in one image of the
 * chain, that the restorer reads as it reads blocks.  A run that lies in one block of
 * one image takes the run's checksum; one spread over several is read here, checked
 * whole, and its pieces given checksums of their own. */
#define _GNU_SOURCE
#include "context_reader.h"
#include "say.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"

#define PAGE 4096ULL

static char *join(const char *dir, const char *name)
{
    char *p = NULL;
    if (name[0] == '/')
        return strdup(name);
    return asprintf(&p, "%s/%s", dir && *dir ? dir : ".", name) < 0 ? NULL : p;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* The directory an image was written in: that of the file the path leads to (a
 * link, /proc/self/fd/N), or, for a file not there yet, of the path. */
static char *image_dir(const char *path)
{
    char *real = realpath(path, NULL);
    if (real) {
        char *dir = dir_of(real);
        free(real);
        return dir;
    }
    char *dir = dir_of(path);
    real = dir ? realpath(dir, NULL) : NULL;
    if (real) {
        free(dir);
        return real;
    }
    return dir;
}

int ctx_chain_open(struct ctx_image *img, const char *path, char *err, size_t len)
{
    if (!img->parent || img->chain)
        return 0;
    struct ctx_chain *c = calloc(1, sizeof *c);
    if (!c)
        return cr_say(err, len, ENOMEM, "out of memory");
    img->chain = c;
    const struct ctx_image *child = img;
    char *child_dir = image_dir(path);
    const char *child_name = "this image";
    int rc = 0;
    while (rc == 0 && child->parent) {
        if (c->n + 1 >= CTX_CHAIN_MAX) {
            rc = cr_say(err, len, ELOOP, "the chain of images is longer than %d", CTX_CHAIN_MAX);
            break;
        }
        char *path = child_dir ? join(child_dir, child->parent_name) : NULL;
        if (!path) {
            rc = cr_say(err, len, ENOMEM, "out of memory");
            break;
        }
        c->paths[c->n] = path;
        struct ctx_image *p = &c->images[c->n];
        char sub[600];
        rc = ctx_open(path, p, sub, sizeof sub);
        if (rc == -ENOENT) {
            rc = cr_say(err, len, ENOENT, "the parent image %s of %s is missing: an incremental "
                     "checkpoint holds only what changed since its parent and needs every image "
                     "of its chain (cr_info shows the chain); restart from a complete chain or "
                     "a full checkpoint", path, child_name);
            break;
        }
        if (rc < 0) {
            rc = cr_say(err, len, -rc, "the parent image %s of %s cannot be used: %s", path,
                     child_name, sub);
            break;
        }
        c->n++;
        if (p->hdr.header_crc != child->parent->header_crc ||
            p->hdr.created_ns != child->parent->created_ns ||
            p->file_size != child->parent->file_length) {
            rc = cr_say(err, len, ESTALE, "%s is not the parent image %s was made from (it was "
                     "replaced or rewritten since: its header or length differs); the chain is "
                     "broken: restart from a full checkpoint or a complete chain", path, child_name);
            break;
        }
        if (p->proc->pid != img->proc->pid ||
            (child->parent->depth == 1) != !(p->hdr.flags & CTX_HDR_INCREMENTAL) ||
            (p->parent && p->parent->depth + 1 != child->parent->depth)) {
            rc = cr_say(err, len, EBADMSG, "%s does not fit in the chain of %s (another process's, "
                     "or its place in the chain differs)", path, child_name);
            break;
        }
        free(child_dir);
        child_dir = dir_of(path);
        child_name = path;
        child = p;
    }
    free(child_dir);
    if (rc < 0)
        ctx_chain_close(img);
    return rc;
}

void ctx_chain_close(struct ctx_image *img)
{
    struct ctx_chain *c = img->chain;
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n; i++)
        ctx_close(&c->images[i]);
    for (uint32_t i = 0; i < CTX_CHAIN_MAX; i++)
        free(c->paths[i]);
    free(c->pieces);
    free(c);
    img->chain = NULL;
}

static int add_piece(struct ctx_chain *c, struct ctx_piece p)
{
    if (!(c->npieces & (c->npieces + 1)) || !c->pieces) { /* full at 2^k - 1 */
        size_t cap = c->npieces ? 2 * ((size_t)c->npieces + 1) : 64;
        struct ctx_piece *more = realloc(c->pieces, cap * sizeof *more);
        if (!more)
            return -ENOMEM;
        c->pieces = more;
    }
    c->pieces[c->npieces++] = p;
    return 0;
}

/* The first memory block of img ending after addr (nblocks when none). */
static uint32_t block_after(const struct ctx_image *img, uint64_t addr)
{
    uint32_t lo = 0, hi = img->hdr.nblocks;
    while (lo < hi) { /* memory blocks first, in address order; file contents after */
        uint32_t mid = lo + (hi - lo) / 2;
        const struct ctx_block *b = &img->blocks[mid];
        if (!(b->vma & CTX_BLOCK_FILE) && b->addr + (uint64_t)b->npages * PAGE <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t run_after(const struct ctx_image *img, uint64_t addr)
{
    uint32_t lo = 0, hi = img->nruns;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (img->runs[mid].addr + (uint64_t)img->runs[mid].npages * PAGE <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The memory [addr, end) as image k of the chain holds it, as pieces; what none of
 * the images holds is left out (the region's own contents at restart). */
static int resolve(struct ctx_chain *c, uint32_t k, uint64_t addr, uint64_t end, uint32_t vma)
{
    const struct ctx_image *img = &c->images[k];
    while (addr < end) {
        uint32_t b = block_after(img, addr);
        uint32_t r = run_after(img, addr);
        const struct ctx_block *bl = b < img->hdr.nblocks && !(img->blocks[b].vma & CTX_BLOCK_FILE)
                                         ? &img->blocks[b] : NULL;
        const struct ctx_parent_run *ru = r < img->nruns ? &img->runs[r] : NULL;
        uint64_t next = end;
        if (bl && bl->addr <= addr) {
            uint64_t to = bl->addr + (uint64_t)bl->npages * PAGE;
            if (to > end)
                to = end;
            int fd;
            uint64_t off;
            ctx_block_source(img, b, &fd, &off);
            int rc = add_piece(c, (struct ctx_piece){ addr, off + (addr - bl->addr),
                                                      (uint32_t)((to - addr) / PAGE), 0, fd, vma });
            if (rc < 0)
                return rc;
            addr = to;
            continue;
        }
        if (ru && ru->addr <= addr) {
            uint64_t to = ru->addr + (uint64_t)ru->npages * PAGE;
            if (to > end)
                to = end;
            if (k + 1 >= c->n)
                return -EBADMSG;
            int rc = resolve(c, k + 1, addr, to, vma);
            if (rc < 0)
                return rc;
            addr = to;
            continue;
        }
        if (bl && bl->addr < next)
            next = bl->addr;
        if (ru && ru->addr < next)
            next = ru->addr;
        addr = next; /* held by no image: zero (or the file's, in a file mapping) */
    }
    return 0;
}

/* Pieces [first, c->npieces) make the run: read whole, checked, each given its sum. */
static int check_spread(struct ctx_chain *c, uint32_t first, const struct ctx_parent_run *run,
                        char *buf, char *err, size_t len)
{
    size_t size = (size_t)run->npages * PAGE;
    memset(buf, 0, size);
    for (uint32_t i = first; i < c->npieces; i++) {
        struct ctx_piece *p = &c->pieces[i];
        int rc = ctx_read_at(p->fd, buf + (p->addr - run->addr), (size_t)p->npages * PAGE, p->off);
        if (rc < 0)
            return cr_say(err, len, -rc, "cannot read the parent's memory at 0x%llx: %s",
                       (unsigned long long)p->addr, strerror(-rc));
    }
    if (crc32c(0, buf, size) != run->crc)
        return cr_say(err, len, EBADMSG, "checksum mismatch in the memory at 0x%llx that the image "
                   "takes from its parents: the chain does not give back what was saved",
                   (unsigned long long)run->addr);
    for (uint32_t i = first; i < c->npieces; i++) {
        struct ctx_piece *p = &c->pieces[i];
        p->crc = crc32c(0, buf + (p->addr - run->addr), (size_t)p->npages * PAGE);
    }
    return 0;
}

int ctx_chain_resolve(struct ctx_image *img, char *err, size_t len)
{
    struct ctx_chain *c = img->chain;
    if (!img->parent)
        return 0;
    if (!c)
        return cr_say(err, len, EINVAL, "the chain is not open");
    for (uint32_t k = 0; k < c->n; k++) {
        char sub[600];
        int rc = ctx_unpack(&c->images[k], sub, sizeof sub);
        if (rc < 0)
            return cr_say(err, len, -rc, "%s: %s", c->paths[k], sub);
    }
    char *buf = malloc(CTX_BLOCK_MAX_PAGES * PAGE);
    if (!buf)
        return cr_say(err, len, ENOMEM, "out of memory");
    int rc = 0;
    c->npieces = 0;
    for (uint32_t i = 0; rc == 0 && i < img->nruns; i++) {
        const struct ctx_parent_run *run = &img->runs[i];
        uint32_t first = c->npieces;
        uint64_t end = run->addr + (uint64_t)run->npages * PAGE;
        rc = resolve(c, 0, run->addr, end, run->vma);
        if (rc == -EBADMSG) {
            rc = cr_say(err, len, EBADMSG, "the memory at 0x%llx is in none of the chain's images",
                     (unsigned long long)run->addr);
            break;
        }
        if (rc < 0) {
            rc = cr_say(err, len, -rc, "out of memory");
            break;
        }
        if (c->npieces == first + 1 && c->pieces[first].addr == run->addr &&
            c->pieces[first].npages == run->npages)
            c->pieces[first].crc = run->crc; /* one piece: the restorer checks it */
        else
            rc = check_spread(c, first, run, buf, err, len);
    }
    free(buf);
    return rc;
}

int ctx_chain_verify(struct ctx_image *img, char *err, size_t len)
{
    int rc = ctx_chain_resolve(img, err, len);
    if (rc < 0 || !img->chain)
        return rc;
    char *buf = malloc(CTX_BLOCK_MAX_PAGES * PAGE);
    if (!buf)
        return cr_say(err, len, ENOMEM, "out of memory");
    const struct ctx_chain *c = img->chain;
    for (uint32_t i = 0; rc == 0 && i < c->npieces; i++) {
        const struct ctx_piece *p = &c->pieces[i];
        size_t size = (size_t)p->npages * PAGE;
        rc = ctx_read_at(p->fd, buf, size, p->off);
        if (rc < 0)
            rc = cr_say(err, len, -rc, "cannot read the parent's memory at 0x%llx: %s",
                     (unsigned long long)p->addr, strerror(-rc));
        else if (crc32c(0, buf, size) != p->crc)
            rc = cr_say(err, len, EBADMSG, "checksum mismatch in the memory at 0x%llx that the image "
                     "takes from its parents", (unsigned long long)p->addr);
    }
    free(buf);
    return rc;
}
