/* Pre-copy checkpoints (precopy.h): the stop of the program is what changed, not its
 * whole memory.
 *
 * Before the freeze, with the program running, its private anonymous regions are
 * registered with a userfaultfd of this job in asynchronous write-protect mode (as for
 * incremental checkpoints, dirty_track.c) and protected; then their pages are written
 * to the file as the blocks a stopped dump would make of them (each with its crc32c),
 * read with process_vm_readv (a region unmapped meanwhile gives an error, never a
 * fault).  Each next pass asks PAGEMAP_SCAN for the pages written since, protects them
 * again in the same walk and writes their blocks again, in place; passes go on while
 * that shrinks.  Frozen, the dump reads the memory's layout as always (cr_dump_collect)
 * and every block it makes that a pass wrote and nothing wrote since is taken as it is
 * in the file; the others (written since the last pass, new, changed shape, or memory
 * that changes while it is written: the manager's stack) are written then.  The image
 * (CTX_HDR_PRECOPY) is the one a dump in the frozen process would have made, but for
 * where the blocks lie in the file.
 *
 * A page is taken from the file only when the kernel says no one wrote it since it was
 * read: its region still registered with this userfaultfd in async mode (PAGEMAP_SCAN
 * with PM_SCAN_CHECK_WPASYNC, else every block of it is written again), the page in
 * the same block as the pass made (a page dropped, MADV_DONTNEED, changes the blocks;
 * one read again after that is a new zero page without the protection: written).
 * Writes the page tables do not see make the pre-copy wrong, so it is not used then:
 * the program's own userfaultfd, pinned memory (RDMA, io_uring fixed buffers), Linux
 * AIO contexts and io_uring instances (their completions land in memory outside any
 * fault), files open with O_DIRECT (a read's DMA may land after the pass that saw the
 * page written).  Nor where nothing is to gain: a process that ends after the
 * checkpoint, a tree, a compressed or incremental checkpoint, less than
 * PRECOPY_MIN_ANON of anonymous memory.
 *
 * Runs in the manager thread: the passes while the program runs; cr_precopy_write
 * frozen (no malloc, no stdio: the tables are in the dump's scratch). */
#define _GNU_SOURCE
#include "precopy.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "control.h"
#include "crc32c.h"
#include "dirty_track.h"
#include "dump.h"
#include "runtime.h"
#include "parked_help.h"
#include "stop_times.h"
#include "uffd_compat.h"

/* Below this much anonymous memory the stop of a copy-on-write checkpoint is a few
 * milliseconds already: the passes would only add to the total. */
#define PRECOPY_MIN_ANON (64 * MiB)
/* Where pre_scan keeps its page map until the stop: the scratch's area for the runs
 * of an incremental dump's parent (a pre-copied dump is never incremental). */
#define PC_PRE_RUNS_OFF RUNS_OFF
#define PC_PRE_RUNS_SIZE RUNS_SIZE
/* The blocks the stop writes are copied into the scratch's area for the shared scan's
 * runs (free once the scan is done when pre_scan's map is used: no other thread walks)
 * and written to the file after the release: a write into the page cache may wait
 * long for the writeback of what the passes wrote (the kernel's dirty throttling).
 * What does not fit is written in the stop. */
#define PC_DEFER_OFF PC_PIECE_RUNS_OFF
#define PC_DEFER_SIZE PC_PIECE_RUNS_SIZE
#define PC_DEFERRED_MAX 1024
/* Passes at most; and the pass that found less than this written is the last one. */
#define PRECOPY_MAX_PASSES 8
#define PRECOPY_SMALL (4 * MiB)

enum { PB_CLEAN, PB_DIRTY, PB_INVALID };

struct pc_block {              /* a block a pass wrote */
    uint64_t addr, off;        /* in memory, in the file */
    uint32_t npages, crc;
    uint32_t state, used;      /* PB_*; taken by the frozen dump's block */
};

struct pc_region {             /* a region registered with our userfaultfd */
    uint64_t start, end;
    uint32_t first, n;         /* its blocks */
    uint32_t valid;
    uint32_t mapped;           /* the stop's scan holds its page map: */
    uint32_t map_first, map_n; /* runs of pages in pc.runs */
    uint32_t pre;              /* its page map taken after the last pass: */
    uint32_t pre_first, pre_n; /* runs of pages in pc.pre_runs */
    uint32_t bare_first, bare_n; /* its map without the markers (drop_markers) */
};

static struct {
    int active;
    int uffd, pm_fd, fd;
    char *scratch;             /* the dump uses it too (cr_dump_free leaves it) */
    int lent;                  /* cr_dump_begin has it */
    struct pc_block *blocks;
    uint32_t nblocks;
    struct pc_region *regions;
    uint32_t nregions;
    uint64_t data_offset, data_end;
    uint32_t passes;
    uint32_t nlines;           /* of /proc/self/maps: the records' room */
    uint64_t written;          /* bytes the passes wrote */
    struct vmflags_early vmf;  /* the regions' VmFlags read before the freeze */
    struct cr_page_region *runs; /* the stop's scan: pages present, swapped, guards */
    uint32_t nruns;
    struct cr_page_region *pre_runs; /* the page map after the last pass (pre_scan) */
    uint32_t npre_runs;
    int prescanned;            /* the stop walks only what was written since */
    uint64_t rewalked;         /* bytes it walked again */
    uint32_t ndeferred;        /* the stop's blocks copied, written after it: */
    struct pc_deferred { uint64_t off, at, len; } deferred[PC_DEFERRED_MAX];
    int sealed;                /* the records made frozen, to be written after */
    int markers;               /* no swap when the passes began: see drop_markers */
    uint64_t swapouts;         /* pages swapped out since boot then */
    int conn;                  /* the requester's socket */
    pid_t pid;                 /* this process */
    uint64_t told_ms;          /* when it last heard of us */
} pc = { .uffd = -1, .pm_fd = -1, .fd = -1 };

static void note(struct cr_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct cr_job *job, const char *fmt, ...)
{
    if (job->msg[0])
        return; /* the incremental tracking's note, say */
    int n = snprintf(job->msg, sizeof job->msg, CR_NOTE_PRECOPY ": ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(job->msg + n, sizeof job->msg - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Pieces the registration is dropped by: each holds the address space's write lock
 * while the kernel clears the protection of its pages (about a microsecond a page
 * here), so that a program's page fault or mmap never waits for the whole memory. */
#define UNREGISTER_PIECE (16 * MiB)

static void close_all(int unregister)
{
    char why[300];
    /* (not from a forked child: the descriptor acts on its parent's memory; nor when the
     * program has a userfaultfd of its own: the close leaves its regions alone) */
    if (unregister && pc.uffd >= 0 && pc.regions && !cr_track_untrackable(pc.uffd, why, sizeof why))
        for (uint32_t i = 0; i < pc.nregions; i++)
            for (uint64_t a = pc.regions[i].start; a < pc.regions[i].end; a += UNREGISTER_PIECE) {
                uint64_t n = pc.regions[i].end - a;
                struct uffdio_range range = { a, n < UNREGISTER_PIECE ? n : UNREGISTER_PIECE };
                ioctl(pc.uffd, UFFDIO_UNREGISTER, &range);
            }
    if (pc.uffd >= 0) { /* its close drops whatever registration is left */
        cr_internal_fd_del(pc.uffd);
        close(pc.uffd);
    }
    if (pc.pm_fd >= 0)
        close(pc.pm_fd);
    if (pc.scratch)
        munmap(pc.scratch, SCRATCH_SIZE);
    memset(&pc, 0, sizeof pc);
    pc.uffd = pc.pm_fd = pc.fd = pc.conn = -1;
}

void cr_precopy_end(void)
{
    cr_help_settle(); /* (a thread may still be walking into the scratch) */
    close_all(1);
}

void cr_precopy_forked(void)
{
    close_all(0); /* the child's copies: the memory protected is its parent's */
}

void cr_precopy_restored(void)
{
    memset(&pc, 0, sizeof pc); /* its fds and scratch were never restored */
    pc.uffd = pc.pm_fd = pc.fd = pc.conn = -1;
}

char *cr_precopy_take_scratch(void)
{
    if (!pc.active || pc.lent)
        return NULL;
    pc.lent = 1;
    return pc.scratch;
}

int cr_precopy_owns(const char *scratch)
{
    return scratch && scratch == pc.scratch;
}

/* An fd whose writes into memory the page tables would not see, or NULL. */
static int each_fd(long n, void *arg)
{
    char path[64], link[64], info[512];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", n);
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len <= 0 || (int)n == pc.uffd)
        return 0;
    link[len] = 0;
    if (!strcmp(link, "anon_inode:[io_uring]")) {
        snprintf(arg, 160, "fd %ld is an io_uring instance, whose completions the write "
                 "protection would not see", n);
        return 1;
    }
    snprintf(path, sizeof path, "/proc/self/fdinfo/%ld", n);
    if (cr_read_text(path, info, sizeof info) > 0) {
        const char *f = strstr(info, "flags:");
        if (f && strtoul(f + 6, NULL, 8) & O_DIRECT) {
            snprintf(arg, 160, "fd %ld is open with O_DIRECT, whose reads into memory the "
                     "write protection could miss", n);
            return 1;
        }
    }
    return 0;
}

/* Why writes could escape the protection now (into buf), or NULL. */
static const char *unprotectable(char *buf, size_t len)
{
    const char *why = cr_track_untrackable(pc.uffd, buf, len);
    if (why)
        return why;
    char fdwhy[160];
    if (cr_each_number("/proc/self/fd", each_fd, fdwhy) > 0) {
        snprintf(buf, len, "%s", fdwhy);
        return buf;
    }
    return NULL;
}

int cr_precopy_regions(struct dump *d)
{
    if (!pc.active || d->scratch != pc.scratch)
        return 0;
    return cr_vmflags_take_early(d, &pc.vmf);
}

static int open_uffd(char *why, size_t len)
{
    cr_fd_section_begin();
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    int e = errno;
    if (fd >= 0)
        fd = cr_keep_high(fd);
    cr_fd_section_end();
    if (fd < 0) {
        snprintf(why, len, "userfaultfd is not available (%s)", strerror(e));
        return -1;
    }
    struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
    if (ioctl(fd, UFFDIO_API, &api) < 0 || !(api.features & UFFD_FEATURE_WP_ASYNC)) {
        snprintf(why, len, "this kernel has no asynchronous userfaultfd write-protection "
                 "(UFFD_FEATURE_WP_ASYNC, Linux 6.7 and newer)");
        close(fd);
        return -1;
    }
    pc.uffd = fd;
    cr_internal_fd_add(fd);
    struct pm_scan_arg arg = { .size = sizeof arg };
    if (ioctl(pc.pm_fd, PAGEMAP_SCAN, &arg) < 0) {
        snprintf(why, len, "this kernel has no PAGEMAP_SCAN ioctl (Linux 6.7 and newer)");
        return -1;
    }
    return 0;
}

/* The private anonymous readable regions, registered and protected. */
static int take_regions(void)
{
    char *text = pc.scratch + TEXT_OFF;
    if (cr_read_text("/proc/self/maps", text, TEXT_SIZE) <= 0)
        return -1;
    if (strstr(text, " /[aio] (deleted)"))
        return -2;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        pc.nlines++;
    pc.regions = (struct pc_region *)(pc.scratch + PC_REGIONS_OFF);
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = 0;
        unsigned long long start, end;
        char perms[5];
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &start, &end, perms, &pathpos) < 3)
            return -1;
        const char *path = pathpos ? line + pathpos : "";
        line = eol ? eol + 1 : line + strlen(line);
        if (perms[3] != 'p' || perms[0] != 'r' || start == (unsigned long long)(uintptr_t)pc.scratch ||
            (*path && strcmp(path, "[heap]") && strcmp(path, "[stack]") && strncmp(path, "[anon:", 6)))
            continue;
        if ((pc.nregions + 1) * sizeof *pc.regions > PC_REGIONS_SIZE)
            return -1;
        struct uffdio_range range = { start, end - start };
        struct uffdio_register reg = { .range = range, .mode = UFFDIO_REGISTER_MODE_WP };
        if (ioctl(pc.uffd, UFFDIO_REGISTER, &reg) < 0)
            continue; /* saved at the stop */
        struct uffdio_writeprotect wp = { .range = range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
        if (ioctl(pc.uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
            ioctl(pc.uffd, UFFDIO_UNREGISTER, &range);
            continue;
        }
        pc.regions[pc.nregions++] = (struct pc_region){ .start = start, .end = end, .valid = 1 };
    }
    return 0;
}

/* A block as the dump's add_block makes them: a run of pages of one region, cut every
 * CTX_BLOCK_MAX_PAGES from its start. */
static int add_block(uint32_t first, uint64_t addr, uint32_t npages)
{
    struct pc_block *last = pc.nblocks > first ? &pc.blocks[pc.nblocks - 1] : NULL;
    if (last && last->addr + (uint64_t)last->npages * PAGE == addr && last->npages < CTX_BLOCK_MAX_PAGES) {
        uint32_t take = CTX_BLOCK_MAX_PAGES - last->npages;
        take = take > npages ? npages : take;
        last->npages += take;
        addr += (uint64_t)take * PAGE;
        npages -= take;
    }
    while (npages) {
        if ((pc.nblocks + 1) * sizeof *pc.blocks > PC_BLOCKS_SIZE)
            return -1;
        uint32_t take = npages < CTX_BLOCK_MAX_PAGES ? npages : CTX_BLOCK_MAX_PAGES;
        pc.blocks[pc.nblocks++] = (struct pc_block){ addr, 0, take, 0, PB_DIRTY, 0 };
        addr += (uint64_t)take * PAGE;
        npages -= take;
    }
    return 0;
}

/* Unpopulated pages of a registered region: the write protection (WP_UNPOPULATED, with
 * WP_ASYNC) puts a marker in each empty entry, and both the page map and PAGEMAP_SCAN
 * report a marker as swapped, like a page really swapped out; saved, it would be a page
 * of zeros in the image for memory the program never touched (a thread's stack, an
 * array allocated and not yet used).  mincore tells the two apart only in part: 0 for
 * a marker, and for a swapped page not in the swap cache.  So markers are left out
 * only while no page can be swapped out: no swap area when the passes began (none
 * then: no page was swapped out before), and at the end of the stop no swap area and
 * the counts of pages swapped out (pswpout, zswpout) as they were.
 * The count of pages swapped out since boot, or UINT64_MAX when a swap area is in
 * use (or /proc says nothing). */
static uint64_t swapouts_without_swap(char *text, size_t cap)
{
    ssize_t n = cr_read_text("/proc/swaps", text, cap);
    if (n <= 0 || strchr(text, '\n') != text + n - 1) /* more than the header line */
        return UINT64_MAX;
    if (cr_read_text("/proc/vmstat", text, cap) <= 0)
        return UINT64_MAX;
    uint64_t sum = 0;
    int seen = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        if (!strncmp(p, "pswpout ", 8) || !strncmp(p, "zswpout ", 8)) {
            sum += strtoull(p + 8, NULL, 10);
            seen++;
        }
    return seen ? sum : UINT64_MAX;
}

/* mincore of [a, a + np pages) into vec; -1 when part of it is not mapped now. */
static int resident(uint64_t a, size_t np, unsigned char *vec)
{
    return mincore((void *)(uintptr_t)a, np * PAGE, vec);
}

/* The blocks of region r: its pages present or swapped, as the page map says. */
static int region_blocks(struct pc_region *r)
{
    uint64_t *pm = (uint64_t *)(pc.scratch + PAGEMAP_OFF);
    size_t chunk = PAGEMAP_SIZE / 8;
    r->first = pc.nblocks;
    uint64_t run_start = 0;
    uint32_t run = 0;
    for (uint64_t a = r->start; a < r->end;) {
        size_t np = (r->end - a) / PAGE;
        np = np > chunk ? chunk : np;
        if (pread(pc.pm_fd, pm, np * 8, (off_t)(a / PAGE * 8)) != (ssize_t)(np * 8))
            return -1;
        /* (as the stop will: drop_markers) */
        unsigned char *mc = (unsigned char *)(pc.scratch + BOUNCE_OFF);
        int markers = 0;
        for (size_t i = 0; pc.markers && i < np && !markers; i++)
            markers = (pm[i] & (PM_PRESENT | PM_SWAPPED | PM_GUARD)) == PM_SWAPPED;
        if (markers && resident(a, np, mc) < 0)
            markers = 0;
        for (size_t i = 0; i < np; i++) {
            int keep = (pm[i] & (PM_PRESENT | PM_SWAPPED)) && !(pm[i] & PM_GUARD);
            if (keep && markers && !(pm[i] & PM_PRESENT) && !(mc[i] & 1))
                keep = 0;
            if (keep && !run++)
                run_start = a + i * PAGE;
            if (!keep && run) {
                if (add_block(r->first, run_start, run) < 0)
                    return -1;
                run = 0;
            }
        }
        a += np * PAGE;
    }
    if (run && add_block(r->first, run_start, run) < 0)
        return -1;
    r->n = pc.nblocks - r->first;
    return 0;
}

/* Every half second of passes the requester hears the work goes on (its time to stop
 * the process starts again); -1 when it is gone. */
static int progress(void)
{
    uint64_t now = cr_now_ms();
    if (pc.conn < 0 || now < pc.told_ms + 500)
        return 0;
    pc.told_ms = now;
    struct cr_ctl_reply rep;
    memset(&rep, 0, sizeof rep);
    rep.magic = CR_CTL_MAGIC;
    rep.phase = CR_CTL_PRECOPYING;
    rep.bytes = pc.written;
    return send(pc.conn, &rep, sizeof rep, MSG_NOSIGNAL) == (ssize_t)sizeof rep ? 0 : -1;
}

/* Writes block b again from memory (its protection was set before: a write from now
 * on shows in the next scan).  A block that cannot be read (unmapped since) is left
 * to the stop. */
static int copy_block(struct pc_block *b)
{
    char *bounce = pc.scratch + BOUNCE_OFF;
    size_t len = (size_t)b->npages * PAGE;
    /* (process_vm_readv: a page gone meanwhile is an error, not a fault in this thread;
     * and it copies in batches, where /proc/self/mem goes a page at a time) */
    for (size_t done = 0; done < len;) {
        struct iovec to = { bounce + done, len - done };
        struct iovec from = { (void *)(uintptr_t)(b->addr + done), len - done };
        ssize_t n = process_vm_readv(pc.pid, &to, 1, &from, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            b->state = PB_INVALID;
            return 0;
        }
        done += (size_t)n;
    }
    b->crc = crc32c(0, bounce, len);
    int rc = cr_pwrite_all(pc.fd, bounce, len, b->off);
    if (rc < 0)
        return rc;
    b->state = PB_CLEAN;
    pc.written += len;
    return progress() < 0 ? -ECONNRESET : 0;
}

/* The first block of [lo, hi) of the table that ends after addr. */
static uint32_t first_after(uint32_t lo, uint32_t hi, uint64_t addr)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pc.blocks[mid].addr + (uint64_t)pc.blocks[mid].npages * PAGE <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The pages of r written since its last scan: their blocks marked dirty (protected
 * again when protect).  The region no longer registered as we left it: every block
 * of it invalid. */
static void scan_region(struct pc_region *r, int protect)
{
    /* (at the stop, after the runs final_scan keeps) */
    struct cr_page_region *vec = (struct cr_page_region *)(pc.scratch + PC_VEC_OFF) + pc.nruns;
    uint64_t cap = PC_VEC_SIZE / sizeof *vec - pc.nruns;
    for (uint64_t start = r->start; start < r->end;) {
        struct pm_scan_arg arg = {
            .size = sizeof arg, .flags = PM_SCAN_CHECK_WPASYNC | (protect ? PM_SCAN_WP_MATCHING : 0),
            .start = start, .end = r->end, .vec = (uint64_t)(uintptr_t)vec, .vec_len = cap,
            .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
        };
        long n = ioctl(pc.pm_fd, PAGEMAP_SCAN, &arg);
        if (n < 0 || arg.walk_end <= start) {
            r->valid = 0;
            for (uint32_t i = r->first; i < r->first + r->n; i++)
                pc.blocks[i].state = PB_INVALID;
            return;
        }
        for (long k = 0; k < n; k++)
            for (uint32_t i = first_after(r->first, r->first + r->n, vec[k].start);
                 i < r->first + r->n && pc.blocks[i].addr < vec[k].end; i++)
                if (pc.blocks[i].state == PB_CLEAN)
                    pc.blocks[i].state = PB_DIRTY;
        start = arg.walk_end;
    }
}

/* The blocks of r under the runs v[0..n) reported written: dirty. */
static void mark_written(struct pc_region *r, const struct cr_page_region *v, long n)
{
    for (long k = 0; k < n; k++)
        if (v[k].categories & PAGE_IS_WRITTEN)
            for (uint32_t i = first_after(r->first, r->first + r->n, v[k].start);
                 i < r->first + r->n && pc.blocks[i].addr < v[k].end; i++)
                if (pc.blocks[i].state == PB_CLEAN)
                    pc.blocks[i].state = PB_DIRTY;
}

/* The stop's scan (final_scan) of the category masks below */
#define SCAN_ANYOF (CR_PAGE_PRESENT | CR_PAGE_SWAPPED | CR_PAGE_GUARD)
#define SCAN_RETURN (SCAN_ANYOF | PAGE_IS_WRITTEN)

/* Frozen: in one walk of r, the pages written since the last pass (their blocks
 * marked dirty) and which pages are there, kept for the dump (page_runs);
 * not registered as we left it: every block of it invalid. */
static void final_scan(struct pc_region *r)
{
    uint64_t cap = PC_VEC_SIZE / sizeof *pc.runs;
    r->map_first = pc.nruns;
    r->mapped = 1;
    for (uint64_t start = r->start; start < r->end;) {
        struct pm_scan_arg arg = {
            .size = sizeof arg, .flags = PM_SCAN_CHECK_WPASYNC, .start = start, .end = r->end,
            .vec = (uint64_t)(uintptr_t)(pc.runs + pc.nruns), .vec_len = cap - pc.nruns,
            .category_anyof_mask = SCAN_ANYOF, .return_mask = SCAN_RETURN,
        };
        long n = arg.vec_len ? ioctl(pc.pm_fd, PAGEMAP_SCAN, &arg) : -1;
        if (n < 0 && errno != EINVAL && arg.vec_len) {
            r->valid = 0;
            for (uint32_t i = r->first; i < r->first + r->n; i++)
                pc.blocks[i].state = PB_INVALID;
        }
        if (n < 0 || arg.walk_end <= start) { /* (EINVAL: a kernel before the guards' bit) */
            if (r->valid)
                scan_region(r, 0);
            r->mapped = 0;
            pc.nruns = r->map_first;
            return;
        }
        mark_written(r, pc.runs + pc.nruns, n);
        pc.nruns += (uint32_t)n;
        start = arg.walk_end;
    }
    r->map_n = pc.nruns - r->map_first;
}

/* The page map taken after the last pass, the program running, so that the stop walks
 * only what was written since (written_scan).  Sound when every change of a page's
 * presence since shows as a write in the stop's walk: a page dropped (MADV_DONTNEED,
 * MADV_FREE reclaimed, a guard installed or removed) leaves an entry without the
 * protection, a page faulted in by a write or from an empty entry has none either, a
 * zero page read in where a marker was and a page swapped out keep it (and stay
 * pages the dump keeps); a region mapped anew is no longer registered (the walk's
 * PM_SCAN_CHECK_WPASYNC fails: final_scan decides).  Left: a page table freed whole
 * (CONFIG_PT_RECLAIM after MADV_DONTNEED), which the walk sees as a hole; used only
 * where the kernel reports a hole of a registered region as written
 * (holes_reported_written). */
static int holes_reported_written(void)
{
    /* 4 MiB never touched: at least one 2 MiB range without a page table of its own */
    size_t len = 4 * MiB;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    struct uffdio_range range = { (uint64_t)(uintptr_t)m, len };
    struct uffdio_register reg = { .range = range, .mode = UFFDIO_REGISTER_MODE_WP };
    int yes = 0;
    if (ioctl(pc.uffd, UFFDIO_REGISTER, &reg) == 0) {
        struct cr_page_region v[4];
        struct pm_scan_arg a = {
            .size = sizeof a, .flags = PM_SCAN_CHECK_WPASYNC, .start = range.start,
            .end = range.start + len, .vec = (uint64_t)(uintptr_t)v, .vec_len = 4,
            .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
        };
        long n = ioctl(pc.pm_fd, PAGEMAP_SCAN, &a);
        yes = n == 1 && v[0].start == range.start && v[0].end == range.start + len;
        ioctl(pc.uffd, UFFDIO_UNREGISTER, &range);
    }
    munmap(m, len);
    return yes;
}

/* Walks [start, end) of r for its pages present, swapped and guards, appended to
 * vec[*n..cap); -1 when the walk failed or the room is short. */
static int walk_map(uint64_t start, uint64_t end, struct cr_page_region *vec, uint32_t *n, uint64_t cap)
{
    while (start < end) {
        struct pm_scan_arg a = {
            .size = sizeof a, .flags = PM_SCAN_CHECK_WPASYNC, .start = start, .end = end,
            .vec = (uint64_t)(uintptr_t)(vec + *n), .vec_len = cap - *n,
            .category_anyof_mask = SCAN_ANYOF, .return_mask = SCAN_ANYOF,
        };
        long got = a.vec_len ? ioctl(pc.pm_fd, PAGEMAP_SCAN, &a) : -1;
        if (got < 0 || a.walk_end <= start)
            return -1;
        *n += (uint32_t)got;
        start = a.walk_end;
    }
    return 0;
}

/* After the last pass, the program running: each region's page map (a region whose
 * walk fails, or too many runs: final_scan's at the stop). */
static void pre_scan(void)
{
    if (!holes_reported_written())
        return;
    pc.pre_runs = (struct cr_page_region *)(pc.scratch + PC_PRE_RUNS_OFF);
    pc.npre_runs = 0;
    uint64_t cap = PC_PRE_RUNS_SIZE / sizeof *pc.pre_runs;
    for (uint32_t i = 0; i < pc.nregions; i++) {
        struct pc_region *r = &pc.regions[i];
        r->pre = 0;
        if (!r->valid)
            continue;
        r->pre_first = pc.npre_runs;
        if (walk_map(r->start, r->end, pc.pre_runs, &pc.npre_runs, cap) < 0) {
            pc.npre_runs = r->pre_first;
            continue;
        }
        r->pre_n = pc.npre_runs - r->pre_first;
        r->pre = 1;
    }
    pc.prescanned = 1;
}

/* Appends to r's map the runs of its pre_scan in [a, b) (*k: the first that may reach a). */
static int keep_pre(const struct pc_region *r, uint32_t *k, uint64_t a, uint64_t b)
{
    const struct cr_page_region *pre = pc.pre_runs + r->pre_first;
    uint64_t cap = PC_VEC_SIZE / sizeof *pc.runs;
    while (*k < r->pre_n && pre[*k].end <= a)
        (*k)++;
    for (uint32_t i = *k; i < r->pre_n && pre[i].start < b; i++) {
        if (pc.nruns >= cap)
            return -1;
        pc.runs[pc.nruns++] = (struct cr_page_region){
            .start = pre[i].start > a ? pre[i].start : a,
            .end = pre[i].end < b ? pre[i].end : b,
            .categories = pre[i].categories,
        };
    }
    return 0;
}

/* Frozen, a region pre_scan mapped: one walk asking only which pages were written
 * since the last pass (the kernel's fast path: about a tenth of final_scan's walk),
 * their blocks marked dirty, and the map: pre_scan's where nothing was written since,
 * a walk of the rest.  -1 when a walk failed or the room is short (final_scan then). */
static int written_scan(struct pc_region *r)
{
    struct cr_page_region *w = (struct cr_page_region *)(pc.scratch + PC_PIECE_RUNS_OFF);
    uint64_t wcap = PC_PIECE_RUNS_SIZE / sizeof *w, cap = PC_VEC_SIZE / sizeof *pc.runs;
    uint64_t done = r->start; /* the map holds [r->start, done) */
    uint32_t k = 0;
    r->map_first = pc.nruns;
    for (uint64_t start = r->start; start < r->end;) {
        struct pm_scan_arg a = {
            .size = sizeof a, .flags = PM_SCAN_CHECK_WPASYNC, .start = start, .end = r->end,
            .vec = (uint64_t)(uintptr_t)w, .vec_len = wcap,
            .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN,
        };
        long n = ioctl(pc.pm_fd, PAGEMAP_SCAN, &a);
        if (n < 0 || a.walk_end <= start)
            return -1;
        mark_written(r, w, n);
        for (long j = 0; j < n; j++) {
            pc.rewalked += w[j].end - w[j].start;
            if (keep_pre(r, &k, done, w[j].start) < 0 ||
                walk_map(w[j].start, w[j].end, pc.runs, &pc.nruns, cap) < 0)
                return -1;
            done = w[j].end;
        }
        start = a.walk_end;
    }
    if (keep_pre(r, &k, done, r->end) < 0)
        return -1;
    r->map_n = pc.nruns - r->map_first;
    r->mapped = 1;
    return 0;
}

/* Frozen, after the scan: the regions' maps without the markers (see
 * swapouts_without_swap), into the scratch's area for an incremental dump's dirty
 * pages (a pre-copied dump is never incremental).  Left as they are when a swap area
 * came or a page was swapped out meanwhile, or the room is short. */
static void drop_markers(void)
{
    struct cr_page_region *out = (struct cr_page_region *)(pc.scratch + DIRTY_OFF);
    char *text = pc.scratch + DIRTY_OFF + DIRTY_SIZE - 64 * 1024;
    uint64_t cap = (DIRTY_SIZE - 64 * 1024) / sizeof *out;
    unsigned char *mc = (unsigned char *)(pc.scratch + BOUNCE_OFF);
    size_t chunk = BOUNCE_SIZE;
    uint32_t n = 0;
    if (!pc.markers)
        return;
    for (uint32_t i = 0; i < pc.nregions; i++) {
        struct pc_region *r = &pc.regions[i];
        if (!r->mapped)
            continue;
        r->bare_first = n;
        for (uint32_t k = r->map_first; k < r->map_first + r->map_n; k++) {
            const struct cr_page_region *v = &pc.runs[k];
            int swapped = (v->categories & (CR_PAGE_PRESENT | CR_PAGE_SWAPPED | CR_PAGE_GUARD)) ==
                          CR_PAGE_SWAPPED;
            for (uint64_t a = v->start; a < v->end;) {
                size_t np = (v->end - a) / PAGE;
                np = np > chunk ? chunk : np;
                /* (a run where nothing is mapped now: the dump never asks for it) */
                if (!swapped || resident(a, np, mc) < 0) {
                    if (n >= cap)
                        return;
                    out[n++] = (struct cr_page_region){ a, a + np * PAGE, v->categories };
                } else {
                    for (size_t j = 0; j < np;) {
                        size_t e = j;
                        while (e < np && (mc[e] & 1) == (mc[j] & 1))
                            e++;
                        if (mc[j] & 1) {
                            if (n >= cap)
                                return;
                            out[n++] = (struct cr_page_region){ a + j * PAGE, a + e * PAGE,
                                                                v->categories };
                        }
                        j = e;
                    }
                }
                a += np * PAGE;
            }
        }
        r->bare_n = n - r->bare_first;
    }
    if (swapouts_without_swap(text, 64 * 1024) != pc.swapouts)
        return;
    for (uint32_t i = 0; i < pc.nregions; i++)
        if (pc.regions[i].mapped) {
            pc.regions[i].map_first = pc.regions[i].bare_first;
            pc.regions[i].map_n = pc.regions[i].bare_n;
        }
    pc.runs = out;
    pc.nruns = n;
}

/* The stop's scan shared with the parked threads (parked_help.c): the registered
 * memory cut into parts of about the same size (a large region in several pieces),
 * each taken by the next thread free and walked into a slice of its own (two: the
 * manager walks again a part whose thread the machine holds up); then the runs put together region by region, in order, as final_scan
 * would have left them.  A region whose walk failed in any piece (not registered as we
 * left it, a slice too small, a kernel without the guards' category) is walked again
 * alone by final_scan, which decides as before. */
/* Parts of at least 32 MiB (a fraction of a millisecond of walking), 32 at most: more
 * parts than threads, claimed one at a time. */
#define SCAN_PARTS_MAX CR_HELP_PARTS_MAX
#define SCAN_PART_MIN (32 * MiB)

struct scan_piece {
    uint32_t region;
    uint32_t err[2];           /* per copy: 0, or the walk's errno (ENOSPC: slice full) */
    uint64_t start, end;
    uint64_t first[2], n[2];   /* per copy: its runs, in the part's slice */
};

static struct {
    struct scan_piece *pieces;
    uint32_t npieces;
    uint32_t part_first[SCAN_PARTS_MAX + 1]; /* part p: pieces [part_first[p], part_first[p + 1]) */
    struct cr_page_region *runs; /* the parts' slices, each cap runs */
    uint64_t cap;
} scan;

static void scan_part(void *arg, uint32_t part, uint32_t copy)
{
    (void)arg;
    struct cr_page_region *slice = scan.runs + ((uint64_t)part * 2 + copy) * scan.cap;
    uint64_t used = 0;
    for (uint32_t i = scan.part_first[part]; i < scan.part_first[part + 1]; i++) {
        struct scan_piece *p = &scan.pieces[i];
        p->first[copy] = used;
        p->n[copy] = 0;
        p->err[copy] = 0;
        for (uint64_t start = p->start; start < p->end && !p->err[copy];) {
            struct pm_scan_arg a = {
                .size = sizeof a, .flags = PM_SCAN_CHECK_WPASYNC, .start = start, .end = p->end,
                .vec = (uint64_t)(uintptr_t)(slice + used), .vec_len = scan.cap - used,
                .category_anyof_mask = SCAN_ANYOF, .return_mask = SCAN_RETURN,
            };
            long n = a.vec_len ? ioctl(pc.pm_fd, PAGEMAP_SCAN, &a) : -1;
            if (n < 0)
                p->err[copy] = a.vec_len ? (uint32_t)errno : ENOSPC;
            else if (a.walk_end <= start)
                p->err[copy] = EAGAIN;
            else {
                used += (uint64_t)n;
                p->n[copy] += (uint64_t)n;
                start = a.walk_end;
            }
        }
    }
}

/* 1 when the scan was shared (pc.runs and the regions' maps set), 0 when it is for
 * final_scan alone: too little memory, or no other thread parked or no other core. */
static int shared_scan(struct dump *d)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < pc.nregions; i++)
        if (pc.regions[i].valid)
            total += pc.regions[i].end - pc.regions[i].start;
    uint32_t hands = cr_help_hands(), parts = SCAN_PARTS_MAX;
    if (parts > total / SCAN_PART_MIN)
        parts = (uint32_t)(total / SCAN_PART_MIN);
    if (hands < 2 || parts < 2)
        return 0;
    scan.pieces = (struct scan_piece *)(d->scratch + PC_PIECES_OFF);
    scan.runs = (struct cr_page_region *)(d->scratch + PC_PIECE_RUNS_OFF);
    scan.cap = PC_PIECE_RUNS_SIZE / sizeof *scan.runs / (2 * parts);
    scan.npieces = 0;
    /* part p takes the pages from p * share on, cut at 2 MiB (a page table) */
    uint64_t share = (total / parts + (2 * MiB - 1)) & ~(2 * MiB - 1), before = 0;
    uint32_t part = 0;
    scan.part_first[0] = 0;
    for (uint32_t i = 0; i < pc.nregions; i++) {
        struct pc_region *r = &pc.regions[i];
        if (!r->valid)
            continue;
        for (uint64_t s = r->start; s < r->end;) {
            while (part + 1 < parts && before >= (uint64_t)(part + 1) * share)
                scan.part_first[++part] = scan.npieces;
            uint64_t left = part + 1 < parts ? (uint64_t)(part + 1) * share - before : r->end - s;
            uint64_t e = r->end - s < left ? r->end : s + left;
            if ((scan.npieces + 1) * sizeof *scan.pieces > PC_PIECES_SIZE)
                return 0;
            scan.pieces[scan.npieces++] = (struct scan_piece){ .region = i, .start = s, .end = e };
            before += e - s;
            s = e;
        }
    }
    while (part + 1 <= parts - 1)
        scan.part_first[++part] = scan.npieces;
    scan.part_first[parts] = scan.npieces;
    cr_help_run(scan_part, NULL, parts);
    cr_stop_walkers(parts);
    /* region by region, in order: its pieces' runs, or final_scan's */
    uint64_t cap = PC_VEC_SIZE / sizeof *pc.runs;
    for (uint32_t k = 0, p = 0; k < scan.npieces;) {
        struct pc_region *r = &pc.regions[scan.pieces[k].region];
        uint32_t end = k, failed = 0, q = p;
        uint64_t n = 0;
        for (; end < scan.npieces && scan.pieces[end].region == scan.pieces[k].region; end++) {
            while (q + 1 < parts && end >= scan.part_first[q + 1])
                q++;
            uint32_t c = cr_help_copy(q);
            failed |= scan.pieces[end].err[c];
            n += scan.pieces[end].n[c];
        }
        if (failed || pc.nruns + n > cap) {
            final_scan(r);
        } else {
            r->map_first = pc.nruns;
            r->mapped = 1;
            for (uint32_t j = k; j < end; j++) {
                while (p + 1 < parts && j >= scan.part_first[p + 1])
                    p++;
                uint32_t c = cr_help_copy(p);
                const struct cr_page_region *v =
                    scan.runs + ((uint64_t)p * 2 + c) * scan.cap + scan.pieces[j].first[c];
                memcpy(pc.runs + pc.nruns, v, scan.pieces[j].n[c] * sizeof *v);
                mark_written(r, v, (long)scan.pieces[j].n[c]);
                pc.nruns += (uint32_t)scan.pieces[j].n[c];
            }
            r->map_n = pc.nruns - r->map_first;
        }
        k = end;
    }
    return 1;
}

/* The dump's runs of pages of [start, end), a piece of a region the stop's scan walked. */
static int page_runs(struct dump *d, uint64_t start, uint64_t end, const struct cr_page_region **runs,
                     uint32_t *n)
{
    (void)d;
    uint32_t lo = 0, hi = pc.nregions;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pc.regions[mid].end <= start)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct pc_region *r = lo < pc.nregions ? &pc.regions[lo] : NULL;
    if (!r || !r->mapped || start < r->start || end > r->end)
        return 0;
    const struct cr_page_region *v = pc.runs + r->map_first;
    uint32_t a = 0, b = r->map_n;
    while (a < b) { /* the first run that ends after start */
        uint32_t mid = a + (b - a) / 2;
        if (v[mid].end <= start)
            a = mid + 1;
        else
            b = mid;
    }
    uint32_t k = a;
    while (k < r->map_n && v[k].start < end)
        k++;
    *runs = v + a;
    *n = k - a;
    return 1;
}

/* One pass after the first: the blocks written since, again; the bytes that took. */
static int64_t pass(void)
{
    for (uint32_t i = 0; i < pc.nregions; i++)
        if (pc.regions[i].valid)
            scan_region(&pc.regions[i], 1);
    uint64_t before = pc.written;
    for (uint32_t i = 0; i < pc.nblocks; i++)
        if (pc.blocks[i].state == PB_DIRTY) {
            int rc = copy_block(&pc.blocks[i]);
            if (rc < 0)
                return rc;
        }
    pc.passes++;
    return (int64_t)(pc.written - before);
}

int cr_precopy_run(struct cr_job *job)
{
    close_all(1);
    if (!job->cow || !(job->flags & CR_CTL_PRECOPY))
        return 0; /* the process ends after the checkpoint, or it was asked so */
    if (CR_CTL_COMPRESS_LEVEL(job->flags))
        return note(job, "a compressed checkpoint"), 0;
    if (job->flags & CR_CTL_INCREMENTAL)
        return 0; /* (its tracking says its own: no note here) */
    if (cr_track_in_use())
        return note(job, "the process's writes are tracked for its incremental checkpoints"), 0;
    if (__atomic_load_n(&crt.restart.lazy.active, __ATOMIC_ACQUIRE))
        return note(job, "the lazy restart of this process is still filling its memory"), 0;
    struct stat st;
    if (fstat(job->fd, &st) < 0 || !S_ISREG(st.st_mode))
        return note(job, "the destination is not a regular file"), 0;
    uint64_t anon = cr_status_bytes("\nRssAnon:");
    if (anon < PRECOPY_MIN_ANON && !(job->flags & CR_CTL_PRECOPY_ANY_SIZE))
        return note(job, "%llu MiB of anonymous memory, under the %lu MiB where it pays",
                    (unsigned long long)(anon / MiB), PRECOPY_MIN_ANON / MiB), 0;
    char why[300];
    const char *no = cr_track_untrackable(-1, why, sizeof why);
    if (no)
        return note(job, "%s", no), 0;
    pc.scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (pc.scratch == MAP_FAILED) {
        pc.scratch = NULL;
        return note(job, "no scratch memory (%s)", strerror(errno)), 0;
    }
    pc.fd = job->fd;
    pc.conn = job->conn;
    pc.pid = getpid();
    pc.nlines = 0;
    pc.told_ms = cr_now_ms();
    pc.blocks = (struct pc_block *)(pc.scratch + PC_BLOCKS_OFF);
    pc.pm_fd = cr_open_private("/proc/self/pagemap", O_RDONLY);
    if (pc.pm_fd < 0) {
        note(job, "opening /proc/self/pagemap: %s", strerror(errno));
        close_all(1);
        return 0;
    }
    if (open_uffd(why, sizeof why) < 0 || (no = unprotectable(why, sizeof why))) {
        note(job, "%s", why);
        close_all(1);
        return 0;
    }
    pc.swapouts = swapouts_without_swap(pc.scratch + TEXT_OFF, TEXT_SIZE);
    pc.markers = pc.swapouts != UINT64_MAX;
    /* protected first, then read: a page written after its read shows in the scans */
    int taken = take_regions();
    if (taken < 0) {
        if (taken == -2)
            note(job, "the program has Linux AIO contexts, whose completions the write "
                 "protection would not see");
        else
            note(job, "too many regions, or /proc/self/maps unreadable");
        close_all(1);
        return 0;
    }
    for (uint32_t i = 0; i < pc.nregions; i++)
        if (region_blocks(&pc.regions[i]) < 0) {
            note(job, "too many blocks, or /proc/self/pagemap unreadable");
            close_all(1);
            return 0;
        }
    /* room before the data for the records the stop writes (what else they hold is
     * small; too little room: cr_precopy_write says so and the job goes today's way) */
    uint64_t room = sizeof(struct ctx_header) + 2 * MiB + (uint64_t)pc.nlines * 512 +
                    2 * (uint64_t)pc.nblocks * sizeof(struct ctx_block);
    pc.data_offset = pc.data_end = (room + MiB - 1) & ~(MiB - 1);
    for (uint32_t i = 0; i < pc.nblocks; i++) {
        pc.blocks[i].off = pc.data_end;
        pc.data_end += (uint64_t)pc.blocks[i].npages * PAGE;
    }
    for (uint32_t i = 0; i < pc.nblocks; i++) {
        int rc = copy_block(&pc.blocks[i]);
        if (rc < 0) {
            note(job, rc == -ECONNRESET ? "%s: the requester went away" : "writing the file: %s",
                 strerror(-rc));
            close_all(1);
            ftruncate(job->fd, 0);
            return 0;
        }
    }
    pc.passes = 1;
    /* the VmFlags now, so that the last pass comes right before the freeze */
    cr_vmflags_read_early(pc.scratch, &pc.vmf);
    /* again while what was written since shrinks */
    int64_t last = (int64_t)pc.written;
    while (pc.passes < PRECOPY_MAX_PASSES && last > (int64_t)PRECOPY_SMALL) {
        int64_t now = pass();
        if (now < 0) {
            note(job, now == -ECONNRESET ? "%s: the requester went away" : "writing the file: %s",
                 strerror((int)-now));
            close_all(1);
            ftruncate(job->fd, 0);
            return 0;
        }
        if (now >= last)
            break;
        last = now;
    }
    pre_scan();
    if (pc.prescanned) /* (its pages there before the stop, not faulted in by it; the
                          system call, not libc's madvise, which vmflags_watch counts as
                          a change of the program's VmFlags: smaps read again frozen) */
        syscall(SYS_madvise, pc.scratch + PC_DEFER_OFF, PC_DEFER_SIZE, MADV_POPULATE_WRITE);
    pc.active = 1;
    return 1;
}

/* The pass block for the dump's block b, or NULL. */
static struct pc_block *pass_block(const struct ctx_block *b)
{
    uint32_t i = first_after(0, pc.nblocks, b->addr);
    if (i < pc.nblocks && pc.blocks[i].addr == b->addr && pc.blocks[i].npages == b->npages &&
        !pc.blocks[i].used)
        return &pc.blocks[i];
    return NULL;
}

void cr_precopy_drop(int fd, char *notebuf, size_t notelen, const char *why)
{
    if (!pc.active)
        return;
    if (!notebuf[0])
        snprintf(notebuf, notelen, CR_NOTE_PRECOPY ": %s", why);
    ftruncate(fd, 0);
}

int cr_precopy_write(struct dump *d, int fd, char *notebuf, size_t notelen)
{
    if (!pc.active)
        return 1;
    char why[300];
    const char *no = unprotectable(why, sizeof why);
    if (!no && d->aio_rings)
        no = "the program has Linux AIO contexts, whose completions the write protection "
             "would not see";
    if (!no && d->ndeleted)
        no = "files deleted while open are saved with their contents";
    if (!no && __atomic_load_n(&crt.restart.lazy.active, __ATOMIC_ACQUIRE))
        no = "a lazy restart is filling its memory";
    if (no) {
        cr_precopy_drop(fd, notebuf, notelen, no);
        return 1;
    }
    /* what was written since the last pass, and what is there */
    pc.runs = (struct cr_page_region *)(d->scratch + PC_VEC_OFF);
    pc.nruns = 0;
    if (pc.prescanned) {
        pc.rewalked = 0;
        for (uint32_t i = 0; i < pc.nregions; i++) {
            struct pc_region *r = &pc.regions[i];
            if (!r->valid)
                continue;
            if (!r->pre || written_scan(r) < 0) {
                pc.nruns = r->pre ? r->map_first : pc.nruns;
                r->mapped = 0;
                final_scan(r);
            }
        }
        cr_stop_rewalked(pc.rewalked / 1024);
    } else if (!shared_scan(d)) {
        for (uint32_t i = 0; i < pc.nregions; i++)
            if (pc.regions[i].valid)
                final_scan(&pc.regions[i]);
    }
    drop_markers();
    cr_stop_mark(CR_STOP_SCAN);
    d->page_runs = page_runs;
    size_t recs_len = d->recs_len;
    uint32_t nrecs = d->nrecs, nblocks = d->nblocks;
    int rc = cr_dump_collect(d);
    cr_stop_mark(CR_STOP_COLLECT);
    unsigned char *copied = (unsigned char *)(d->scratch + PC_COPIED_OFF);
    if (rc == 0 && d->nblocks > PC_COPIED_SIZE)
        rc = fail(d, E2BIG, "too many memory blocks");
    if (rc == 0)
        cr_dump_copied_blocks(d, copied);
    uint64_t end = pc.data_end;
    char *bounce = d->scratch + BOUNCE_OFF;
    /* (the area is free once the scan is done, but for the shared scan's threads) */
    char *defer = pc.prescanned ? d->scratch + PC_DEFER_OFF : NULL;
    uint64_t deferred = 0;
    pc.ndeferred = 0;
    pc.sealed = 0;
    for (uint32_t i = 0; rc == 0 && i < d->nblocks; i++) {
        struct ctx_block *b = &d->blocks[i];
        struct pc_block *p = pass_block(b);
        size_t len = (size_t)b->npages * PAGE;
        if (p && p->state == PB_CLEAN && !copied[i]) {
            b->file_offset = p->off;
            d->crcs[i] = p->crc;
            p->used = 1;
            continue;
        }
        if (p && p->state != PB_INVALID) {
            b->file_offset = p->off; /* written again in place */
            p->used = 1;
        } else {
            b->file_offset = end;
            end += len;
        }
        const void *src;
        int e = cr_dump_block_bytes(d, b, copied[i], bounce, &src);
        if (e < 0) {
            rc = fail(d, -e, "reading memory at 0x%llx", (unsigned long long)b->addr);
            break;
        }
        d->crcs[i] = crc32c(0, src, len);
        struct pc_deferred *last = pc.ndeferred ? &pc.deferred[pc.ndeferred - 1] : NULL;
        if (defer && deferred + len <= PC_DEFER_SIZE &&
            ((last && last->off + last->len == b->file_offset) || pc.ndeferred < PC_DEFERRED_MAX)) {
            memcpy(defer + deferred, src, len);
            if (last && last->off + last->len == b->file_offset)
                last->len += len; /* (its bytes follow the last's in the area too) */
            else
                pc.deferred[pc.ndeferred++] = (struct pc_deferred){ b->file_offset, deferred, len };
            deferred += len;
            continue;
        }
        e = cr_pwrite_all(fd, src, len, b->file_offset);
        if (e < 0)
            rc = fail(d, -e, "writing the memory block at 0x%llx to the context file",
                      (unsigned long long)b->addr);
    }
    cr_stop_mark(CR_STOP_BLOCKS);
    if (rc == 0)
        rc = cr_dump_seal_precopied(d, pc.data_offset, end);
    pc.sealed = rc == 0;
    cr_stop_mark(CR_STOP_RECORDS);
    cr_dump_close_proc(d);
    d->page_runs = NULL;
    if (rc == 1) { /* the records do not fit: today's way, from where the dump began */
        if (!notebuf[0])
            snprintf(notebuf, notelen, CR_NOTE_PRECOPY ": the records outgrew the room left "
                     "for them");
        d->recs_len = recs_len, d->nrecs = nrecs, d->nblocks = nblocks;
        ftruncate(fd, 0);
    }
    if (rc != 0)
        pc.ndeferred = 0;
    return rc;
}

int cr_precopy_sync(struct dump *d, int fd)
{
    /* what the stop made, written now that the program runs */
    for (uint32_t i = 0; i < pc.ndeferred; i++) {
        const struct pc_deferred *w = &pc.deferred[i];
        int e = cr_pwrite_all(fd, d->scratch + PC_DEFER_OFF + w->at, w->len, w->off);
        if (e < 0)
            return fail(d, -e, "writing the memory blocks at offset %llu of the context file",
                        (unsigned long long)w->off);
    }
    pc.ndeferred = 0;
    if (pc.sealed) {
        pc.sealed = 0;
        int e = cr_dump_write_sealed(d, fd, &d->child_bytes);
        if (e < 0)
            return e;
    }
    if (d->sync && fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
        return fail(d, errno, "flushing the context file to disk");
    return 0;
}
