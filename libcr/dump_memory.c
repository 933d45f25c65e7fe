/* The dumper's memory (dump.h): the regions' VmFlags, how each mapping is saved, which
 * of its pages go into the image.  Shared by the runtime, which reads its own process
 * (d->proc_dir "/proc/self"), and the ptrace dumper, which reads a stopped one
 * (d->remote, "/proc/PID"); neither allocates nor locks. */
#define _GNU_SOURCE
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* One line of smaps: a region's first line, or its VmFlags. */
static int region_line(struct dump *d, const char *line, struct vm_region **cur)
{
    static const struct { char name[3]; uint32_t flag; } vmflags[] = {
        { "hg", CTX_VMA_HUGEPAGE }, { "nh", CTX_VMA_NOHUGEPAGE }, { "dc", CTX_VMA_DONTFORK },
        { "wf", CTX_VMA_WIPEONFORK }, { "dd", CTX_VMA_DONTDUMP }, { "lo", CTX_VMA_LOCKED },
        { "lf", CTX_VMA_LOCKONFAULT }, { "sl", CTX_VMA_SEALED }, { "mw", CTX_VMA_MAYWRITE },
    };
    if ((*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f')) {
        unsigned long long s, e, ino;
        char perms[5];
        int path = 0;
        if (sscanf(line, "%llx-%llx %4s %*s %*s %llu %n", &s, &e, perms, &ino, &path) < 4)
            return fail(d, EIO, "cannot parse %s/smaps line: %s", d->proc_dir, line);
        *cur = NULL;
        if (!d->remote && s == (unsigned long long)(uintptr_t)d->scratch)
            return 0; /* our own scratch */
        if ((d->nregions + 1) * sizeof(struct vm_region) > VMFLAGS_SIZE)
            return fail(d, E2BIG, "more than %lu memory regions",
                        (unsigned long)(VMFLAGS_SIZE / sizeof(struct vm_region)));
        struct vm_region *r = &d->regions[d->nregions++];
        *r = (struct vm_region){ .start = s, .end = e, .shmid = -1 };
        const char *p = path ? line + path : "";
        r->private_map = perms[3] == 'p';
        r->file = p[0] == '/';
        r->readable = perms[0] == 'r';
        r->special = !strncmp(p, "[v", 2) || !strncmp(p, "[uprobes]", 9);
        if (!strncmp(p, "/SYSV", 5))
            r->shmid = (int64_t)ino;
        r->nofork = perms[3] == 's' && (ino == 0 || !strncmp(p, "/dev/zero", 9) ||
                                        !strncmp(p, "/SYSV", 5) || !strncmp(p, "/memfd:", 7) ||
                                        strstr(p, " (deleted)"));
        *cur = r;
    } else if (*cur && !strncmp(line, "VmFlags:", 8)) {
        for (const char *p = line + 8; *p;) {
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, " ");
            for (size_t i = 0; n == 2 && i < sizeof vmflags / sizeof vmflags[0]; i++)
                if (!strncmp(p, vmflags[i].name, 2))
                    (*cur)->flags |= vmflags[i].flag;
            if (n == 2 && !strncmp(p, "uw", 2))
                (*cur)->tracked = 1;
            p += n;
        }
        if ((*cur)->flags & (CTX_VMA_DONTFORK | CTX_VMA_WIPEONFORK))
            (*cur)->nofork = 1;
    }
    return 0;
}

/* The regions' VmFlags, read in the frozen process (see struct vm_region).  smaps
 * holds some twenty lines a region: it is read a piece at a time. */
int cr_dump_regions(struct dump *d)
{
    d->regions = (struct vm_region *)(d->scratch + VMFLAGS_OFF);
    d->nregions = 0;
    char smaps[64];
    snprintf(smaps, sizeof smaps, "%s/smaps", d->proc_dir);
    int fd = open(smaps, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(d, errno, "opening %s", smaps);
    char *buf = d->scratch + TEXT_OFF;
    size_t len = 0;
    struct vm_region *cur = NULL;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, TEXT_SIZE - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fail(d, errno, "reading %s", smaps);
            break;
        }
        len += (size_t)n;
        buf[len] = 0;
        char *line = buf, *eol;
        while (rc == 0 && (eol = strchr(line, '\n'))) {
            *eol = 0;
            rc = region_line(d, line, &cur);
            line = eol + 1;
        }
        if (rc == 0 && n == 0 && *line) /* a last line without its newline */
            rc = region_line(d, line, &cur), line += strlen(line);
        len -= (size_t)(line - buf);
        memmove(buf, line, len);
        if (rc < 0 || n == 0)
            break;
        if (len == TEXT_SIZE - 1) {
            rc = fail(d, E2BIG, "a line of %s is longer than %lu bytes", smaps, TEXT_SIZE);
            break;
        }
    }
    close(fd);
    return rc;
}

/* The VmFlags of the region that holds addr (0 for one mapped since, by the runtime). */
uint32_t cr_dump_region_flags(const struct dump *d, uint64_t addr)
{
    uint32_t lo = 0, hi = d->nregions;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (addr < d->regions[mid].start)
            hi = mid;
        else if (addr >= d->regions[mid].end)
            lo = mid + 1;
        else
            return d->regions[mid].flags;
    }
    return 0;
}

static int add_block(struct dump *d, uint64_t addr, uint32_t npages, uint32_t vma)
{
    if (d->nblocks) {
        struct ctx_block *b = &d->blocks[d->nblocks - 1];
        if (b->vma == vma && b->addr + b->npages * PAGE == addr && b->npages < CTX_BLOCK_MAX_PAGES) {
            uint32_t take = CTX_BLOCK_MAX_PAGES - b->npages;
            if (take > npages)
                take = npages;
            b->npages += take;
            addr += take * PAGE;
            npages -= take;
        }
    }
    while (npages) {
        if ((d->nblocks + 1) * sizeof(struct ctx_block) > BLOCKS_SIZE)
            return fail(d, E2BIG, "too many memory blocks");
        uint32_t take = npages < CTX_BLOCK_MAX_PAGES ? npages : CTX_BLOCK_MAX_PAGES;
        struct ctx_block *b = &d->blocks[d->nblocks++];
        b->addr = addr;
        b->npages = take;
        b->vma = vma;
        b->file_offset = 0;
        addr += take * PAGE;
        npages -= take;
    }
    return 0;
}

/* A guard page looks swapped out in the page map; touching it kills the reader.  The
 * page map says so from 6.15; before, a read through /proc/PID/mem fails on it
 * (EIO) where a real swapped page is read back in. */
static int is_guard(struct dump *d, uint64_t e, uint64_t addr)
{
    if (e & PM_GUARD)
        return 1;
    if ((e & PM_PRESENT) || !(e & PM_SWAPPED))
        return 0;
    char byte;
    return pread(d->mem_fd, &byte, 1, (off_t)addr) != 1;
}

/* A guard page of v, the last record so far: its runs follow the path (CTX_VMA_GUARDS). */
static int add_guard(struct dump *d, struct ctx_vma *v, uint64_t addr)
{
    struct ctx_rec *r = (struct ctx_rec *)v - 1;
    struct ctx_range *g = (struct ctx_range *)((char *)v + r->length);
    if ((v->flags & CTX_VMA_GUARDS) && g[-1].end == addr) {
        g[-1].end += PAGE;
        return 0;
    }
    if (d->recs_len + sizeof *g > RECS_SIZE)
        return fail(d, E2BIG, "too much metadata (guard pages)");
    *g = (struct ctx_range){ addr, addr + PAGE };
    r->length += sizeof *g;
    d->recs_len += sizeof *g;
    v->flags |= CTX_VMA_GUARDS;
    return 0;
}

/* A memfd's shared mapping whose memfd is open too: the fd's record saves the contents
 * (restart.c's open_memfd_maps maps the restored memfd by the same test). */
static int memfd_saved_with_fd(const struct dump *d, const struct ctx_vma *v)
{
    if (v->kind != CTX_VMA_SHARED_ANON || !v->path_len || strncmp((const char *)(v + 1), "/memfd:", 7))
        return 0;
    for (size_t off = 0; off < d->recs_len;) {
        const struct ctx_rec *r = (const struct ctx_rec *)(d->scratch + RECS_OFF + off);
        const struct ctx_fd *f = (const struct ctx_fd *)(r + 1);
        if (r->type == CTX_REC_FD && f->kind == CTX_FD_FILE && (f->flags & CTX_FD_MEMFD) &&
            f->id.dev == v->id.dev && f->id.ino == v->id.ino)
            return 1;
        off += sizeof *r + r->length;
    }
    return 0;
}

/* The pages of an anonymous VMA from runs of pages (d->page_runs): the blocks and
 * guard pages its page map would give, with no work page by page (a run of present
 * and swapped pages, however long, is one add_block; guards are reported as such, so
 * no swapped page needs is_guard's read). */
static int pages_from_runs(struct dump *d, struct ctx_vma *v, uint32_t vma,
                           const struct cr_page_region *run, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        uint64_t s = run[k].start > v->start ? run[k].start : v->start;
        uint64_t e = run[k].end < v->end ? run[k].end : v->end;
        int rc = 0;
        if (s >= e)
            continue;
        if (run[k].categories & CR_PAGE_GUARD)
            for (uint64_t a = s; rc == 0 && a < e; a += PAGE)
                rc = add_guard(d, v, a);
        else if (run[k].categories & (CR_PAGE_PRESENT | CR_PAGE_SWAPPED))
            rc = add_block(d, s, (uint32_t)((e - s) / PAGE), vma);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Saves the pages of [start,end) that hold data of their own: anonymous pages that
 * were touched, and the privately modified pages of a file mapping; and notes its
 * guard pages, whatever the kind of memory. */
int cr_dump_pages(struct dump *d, struct ctx_vma *v, uint32_t vma)
{
    uint64_t *pm = (uint64_t *)(d->scratch + PAGEMAP_OFF);
    unsigned char *mc = (unsigned char *)(d->scratch + BOUNCE_OFF);
    size_t chunk = PAGEMAP_SIZE / 8;
    int saves = (v->kind == CTX_VMA_ANON || v->kind == CTX_VMA_SHARED_ANON ||
                 v->kind == CTX_VMA_FILE_PRIVATE || (v->flags & CTX_VMA_SAVED)) &&
                !memfd_saved_with_fd(d, v);
    if (d->before_pages) {
        int rc = d->before_pages(d, v);
        if (rc < 0)
            return rc;
    }
    /* an incremental image: the pages not written since the parent are its (kept 2) */
    int parents = saves && dump_incremental_region(d, v, vma);
    const struct cr_page_region *runs;
    uint32_t nruns;
    if (saves && !parents && v->kind == CTX_VMA_ANON && !(v->flags & CTX_VMA_SAVED) && d->page_runs &&
        d->page_runs(d, v->start, v->end, &runs, &nruns))
        return pages_from_runs(d, v, vma, runs, nruns);
    for (uint64_t a = v->start; a < v->end;) {
        size_t np = (v->end - a) / PAGE;
        if (np > chunk)
            np = chunk;
        ssize_t got = pread(d->pagemap_fd, pm, np * 8, (off_t)(a / PAGE * 8));
        if (got != (ssize_t)(np * 8))
            return fail(d, got < 0 ? errno : EIO, "reading %s/pagemap at 0x%llx", d->proc_dir,
                        (unsigned long long)a);
        /* shared memory lives in the page cache: ask residency, not our page tables */
        if (v->kind == CTX_VMA_SHARED_ANON && d->remote) /* not ours to ask: every page */
            memset(mc, 1, np);
        else if (v->kind == CTX_VMA_SHARED_ANON && mincore((void *)(uintptr_t)a, np * PAGE, mc) < 0)
            return fail(d, errno, "mincore at 0x%llx", (unsigned long long)a);
        size_t run = 0;
        uint64_t run_start = 0;
        int run_kept = 0;
        for (size_t i = 0; i <= np; i++) {
            int keep = 0;
            uint64_t e = i < np ? pm[i] : 0;
            if (i < np && is_guard(d, e, a + i * PAGE)) {
                if (!(e & PM_GUARD))
                    return fail(d, ENOTSUP, "the memory at 0x%llx (in 0x%llx-0x%llx) is a guard "
                                "region (MADV_GUARD_INSTALL), which this kernel does not report "
                                "(Linux 6.15 and newer do): it cannot be saved; nothing was "
                                "written and the process keeps running",
                                (unsigned long long)(a + i * PAGE), (unsigned long long)v->start,
                                (unsigned long long)v->end);
                int rc = add_guard(d, v, a + i * PAGE);
                if (rc < 0)
                    return rc;
            } else if (i < np && saves) {
                if (v->flags & CTX_VMA_SAVED)
                    keep = 1; /* every page, from the file or not */
                else if (v->kind == CTX_VMA_FILE_PRIVATE)
                    keep = ((e & PM_PRESENT) && !(e & PM_FILE)) || (e & PM_SWAPPED);
                else if (v->kind == CTX_VMA_SHARED_ANON)
                    keep = mc[i] & 1;
                else
                    keep = (e & (PM_PRESENT | PM_SWAPPED)) != 0;
                if (keep && parents && !dump_page_dirty(d, a + i * PAGE))
                    keep = 2;
            }
            if (run && keep != run_kept) {
                int rc = run_kept == 2 ? dump_add_parent_run(d, run_start, (uint32_t)run, vma)
                                       : add_block(d, run_start, (uint32_t)run, vma);
                if (rc < 0)
                    return rc;
                run = 0;
            }
            if (keep) {
                if (!run++)
                    run_start = a + i * PAGE;
                run_kept = keep;
            }
        }
        a += np * PAGE;
    }
    return 0;
}

static int deleted_path(const char *path)
{
    size_t len = strlen(path);
    return !strncmp(path, "/memfd:", 7) || (len > 10 && !strcmp(path + len - 10, " (deleted)"));
}

/* A System V segment (its shmid is the inode): saved with its contents when it is
 * gone from the system but for its attachments (IPC_RMID), the way shared memory
 * between processes is set up.  Its id cannot be chosen again without privilege: a
 * segment anyone may still look up by key or id is refused. */
static int classify_sysv(struct dump *d, struct ctx_vma *v, unsigned long long shmid)
{
    struct shmid_ds ds;
    if (shmctl((int)shmid, IPC_STAT, &ds) < 0)
        return fail(d, errno, "System V shared memory segment %llu is attached at 0x%llx but "
                    "cannot be looked at (IPC_STAT)", shmid, (unsigned long long)v->start);
    if (!(ds.shm_perm.mode & SHM_DEST))
        return fail(d, ENOTSUP, "System V shared memory segment %llu (key 0x%x) is attached at "
                    "0x%llx and outlives the process: a restart could not give it its id again. "
                    "Remove it (shmctl IPC_RMID) once every process has attached it, or use "
                    "mmap(MAP_SHARED) or /dev/shm", shmid, (unsigned)ds.shm_perm.__key,
                    (unsigned long long)v->start);
    if (v->pgoff || v->end - v->start != ((uint64_t)ds.shm_segsz + PAGE - 1) / PAGE * PAGE)
        return fail(d, ENOTSUP, "System V shared memory segment %llu is mapped only in part at "
                    "0x%llx (unmapped or mprotected in pieces), which this version cannot save",
                    shmid, (unsigned long long)v->start);
    uint32_t here = 0;
    for (uint32_t i = 0; i < d->nregions; i++)
        here += d->regions[i].shmid == (int64_t)shmid;
    /* (a task of a step: the node agent matches the attachments of the step's tasks
     * there, slurm_checkpoint/step_shm.c) */
    if (!d->tree && !d->step && ds.shm_nattch > here)
        return fail(d, ENOTSUP, "System V shared memory segment %llu at 0x%llx is attached by "
                    "%lu other process(es) too, which a restart would not share it with: "
                    "checkpoint them together, as a tree (without --pid)", shmid,
                    (unsigned long long)v->start, (unsigned long)(ds.shm_nattch - here));
    v->kind = CTX_VMA_SHARED_ANON;
    v->flags |= CTX_VMA_SYSV;
    v->id.size = ds.shm_segsz;
    v->id.mode = ds.shm_perm.mode & (0777 | SHM_LOCKED);
    return 0;
}

int cr_dump_classify_vma(struct dump *d, struct ctx_vma *v, char shared, unsigned dmaj, unsigned dmin,
                        unsigned long long ino, const char *path)
{
    /* shared memory: which object, so that processes of a tree share it again */
    v->id.dev = makedev(dmaj, dmin);
    v->id.ino = ino;
    if (!*path || !strncmp(path, "[anon:", 6)) {
        v->kind = shared == 's' ? CTX_VMA_SHARED_ANON : CTX_VMA_ANON;
    } else if (!strcmp(path, "[heap]")) {
        v->kind = CTX_VMA_ANON;
        v->flags |= CTX_VMA_HEAP;
    } else if (!strcmp(path, "[stack]")) {
        v->kind = CTX_VMA_ANON;
        v->flags |= CTX_VMA_STACK | CTX_VMA_GROWSDOWN;
    } else if (!strcmp(path, "[vdso]")) {
        v->kind = CTX_VMA_VDSO;
    } else if (!strcmp(path, "[vvar]")) {
        v->kind = CTX_VMA_VVAR;
    } else if (!strcmp(path, "[vvar_vclock]")) {
        v->kind = CTX_VMA_VVAR_VCLOCK;
    } else if (!strcmp(path, "[vsyscall]")) {
        v->kind = CTX_VMA_VSYSCALL;
    } else if (!strncmp(path, "/SYSV", 5)) {
        return classify_sysv(d, v, ino);
    } else if (!strcmp(path, "/[aio] (deleted)") && d->remote) {
        return fail(d, ENOTSUP, "a Linux AIO context (io_setup) is mapped at 0x%llx: only the "
                    "runtime (cr_run) can save one", (unsigned long long)v->start);
    } else if (!strcmp(path, "/[aio] (deleted)") && d->aio_ring && d->aio_ring(v->start, v->end)) {
        /* an AIO context's ring: every page saved, the context made again (aio.c) */
        v->kind = CTX_VMA_FILE_PRIVATE;
        v->flags |= CTX_VMA_SAVED;
    } else if (path[0] == '/' && deleted_path(path)) {
        /* memfd, /dev/zero, or a file gone from disk: its contents go into the image */
        v->kind = shared == 's' ? CTX_VMA_SHARED_ANON : CTX_VMA_FILE_PRIVATE;
        if (shared != 's')
            v->flags |= CTX_VMA_SAVED; /* every page: the file is not there to read again */
    } else if (path[0] == '/') {
        struct stat st;
        if (stat(path, &st) < 0 ||
            st.st_ino != ino || major(st.st_dev) != dmaj || minor(st.st_dev) != dmin)
            return fail(d, ENOTSUP, "%s is mapped at 0x%llx but was deleted or replaced on disk "
                        "since; this version cannot save its contents", path,
                        (unsigned long long)v->start);
        if (!S_ISREG(st.st_mode))
            return fail(d, ENOTSUP, "%s mapped at 0x%llx is not a regular file", path,
                        (unsigned long long)v->start);
        v->kind = shared == 's' ? CTX_VMA_FILE_SHARED : CTX_VMA_FILE_PRIVATE;
        file_id_of(&st, &v->id);
    } else {
        return fail(d, ENOTSUP, "mapping %s at 0x%llx cannot be saved by this version", path,
                    (unsigned long long)v->start);
    }
    return 0;
}
