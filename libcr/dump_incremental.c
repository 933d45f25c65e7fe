/* The writer's half of an incremental image (context_format.h, CTX_HDR_INCREMENTAL):
 * which pages of a region are the parent's, and the records that say so.  Runs with
 * the process frozen or in its snapshot child: no malloc, no stdio. */
#define _GNU_SOURCE
#include "dump.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "crc32c.h"

/* The smaps region holding all of [start, end), or NULL. */
static const struct vm_region *region_of(const struct dump *d, uint64_t start, uint64_t end)
{
    uint32_t lo = 0, hi = d->nregions;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (start < d->regions[mid].start)
            hi = mid;
        else if (start >= d->regions[mid].end)
            lo = mid + 1;
        else
            return end <= d->regions[mid].end ? &d->regions[mid] : NULL;
    }
    return NULL;
}

/* Small regions right after a file's mapping: a library's bss. */
#define BSS_MAX (1UL << 20)

int dump_incremental_region(struct dump *d, const struct ctx_vma *v, uint32_t vma)
{
    /* Anonymous memory only.  The libraries' data (their file mappings and the small
     * bss after them) is saved whole: the dumping code itself (glibc, the dynamic
     * linker's lazy binding, the runtime) writes some of it after the scan, in the
     * snapshot child too, so what the scan calls clean there may not be the parent's
     * (and it is little). */
    if (!d->incr || v->kind != CTX_VMA_ANON || (v->flags & CTX_VMA_SAVED) ||
        !(v->prot & PROT_READ))
        return 0;
    const struct vm_region *before = v->start >= PAGE ? region_of(d, v->start - PAGE, v->start) : NULL;
    if (before && before->file && v->end - v->start < BSS_MAX)
        return 0;
    /* memory that changes while it is written (our stack, the runtime's state, where
     * parked threads wait) is saved whole, as it is then */
    for (int i = 0; i < 2; i++)
        if (v->start < d->volatile_end[i] && v->end > d->volatile_start[i])
            return 0;
    if (vma >= 65536 || (d->parked_stack_vmas[vma / 8] >> (vma % 8) & 1))
        return 0;
    const struct vm_region *r = region_of(d, v->start, v->end);
    return r && r->tracked;
}

int dump_page_dirty(struct dump *d, uint64_t addr)
{
    while (d->dirty_pos < d->ndirty && d->dirty[d->dirty_pos].end <= addr)
        d->dirty_pos++;
    return d->dirty_pos < d->ndirty && d->dirty[d->dirty_pos].start <= addr;
}

int dump_add_parent_run(struct dump *d, uint64_t addr, uint32_t npages, uint32_t vma)
{
    d->runs = (struct ctx_parent_run *)(d->scratch + RUNS_OFF);
    while (npages) {
        struct ctx_parent_run *last = d->nruns ? &d->runs[d->nruns - 1] : NULL;
        if (last && last->vma == vma && last->addr + (uint64_t)last->npages * PAGE == addr &&
            last->npages < CTX_BLOCK_MAX_PAGES) {
            uint32_t take = CTX_BLOCK_MAX_PAGES - last->npages;
            if (take > npages)
                take = npages;
            last->npages += take;
            addr += (uint64_t)take * PAGE;
            npages -= take;
            continue;
        }
        if ((d->nruns + 1) * sizeof(struct ctx_parent_run) > RUNS_SIZE)
            return fail(d, E2BIG, "too many runs of unchanged memory");
        uint32_t take = npages < CTX_BLOCK_MAX_PAGES ? npages : CTX_BLOCK_MAX_PAGES;
        d->runs[d->nruns++] = (struct ctx_parent_run){ addr, take, vma, 0, 0 };
        addr += (uint64_t)take * PAGE;
        npages -= take;
    }
    return 0;
}

int dump_parent_records(struct dump *d)
{
    if (!d->incr)
        return 0;
    /* each run's checksum, of the memory as it is now: the parent's bytes must match
     * at restart (a page the tracking wrongly thought clean is refused there) */
    for (uint32_t i = 0; i < d->nruns; i++)
        d->runs[i].crc = crc32c(0, (const void *)(uintptr_t)d->runs[i].addr,
                                (size_t)d->runs[i].npages * PAGE);
    size_t nlen = strlen(d->parent.name) + 1;
    struct ctx_parent *p = rec_add(d, CTX_REC_PARENT, sizeof *p + nlen);
    if (!p)
        return fail(d, E2BIG, "too much metadata");
    *p = (struct ctx_parent){ d->parent.header_crc, d->parent.depth, d->parent.created_ns,
                              d->parent.file_length, d->nruns, (uint32_t)nlen };
    memcpy(p + 1, d->parent.name, nlen);
    void *runs = rec_add(d, CTX_REC_PARENT_PAGES, d->nruns * sizeof(struct ctx_parent_run));
    if (!runs)
        return fail(d, E2BIG, "too much metadata (runs of unchanged memory)");
    memcpy(runs, d->runs, d->nruns * sizeof(struct ctx_parent_run));
    return 0;
}
