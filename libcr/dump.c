/* The dumper: runs in the manager thread while every other thread is parked, and
 * writes the process to a context file (context_format.h).
 *
 * It must not take locks another thread may hold, so no malloc and no stdio: its
 * buffers live in one private scratch mapping (shared-anonymous, so it never merges
 * with the application's memory and is easy to leave out of the dump). */
#define _GNU_SOURCE
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

#include "dump.h"
#include "context_header.h"
#include "control.h"

/* ---- small helpers that neither allocate nor lock ---- */

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

static void recs_seal(struct dump *d)
{
    for (size_t off = 0; off < d->recs_len;) {
        struct ctx_rec *r = (struct ctx_rec *)(d->scratch + RECS_OFF + off);
        r->crc = crc32c(crc32c(0, r, 12), r + 1, r->length);
        off += sizeof *r + r->length;
    }
}

/* ---- the process ---- */

static int collect_proc(struct dump *d)
{
    char *text = d->scratch + TEXT_OFF;
    size_t exe_len = strlen(crt.exe_path) + 1;
    char cwd[CTX_PATH_MAX];
    uint32_t cwd_deleted = 0; /* its mode, when it was deleted */
    if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) {
        int rc = errno == ENOENT ? deleted_cwd(d, cwd, sizeof cwd, &cwd_deleted)
                                 : fail(d, errno, "reading the current directory");
        if (rc < 0)
            return rc;
    }
    size_t cwd_len = strlen(cwd) + 1;
    struct ctx_proc *p = rec_add(d, CTX_REC_PROC, sizeof *p + exe_len + cwd_len);
    if (!p)
        return fail(d, E2BIG, "too much metadata");
    d->proc = p;
    p->pid = getpid();
    p->ppid = getppid();
    p->pgid = getpgid(0);
    p->sid = getsid(0);
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    p->uid = r, p->euid = e, p->gid = gr, p->egid = ge;
    mode_t um = umask(0);
    umask(um);
    p->umask = um;

    /* mm fields from /proc/self/stat, after the command name */
    if (read_file(d, "/proc/self/stat", text, TEXT_SIZE) < 0)
        return -EIO;
    char *q = strrchr(text, ')');
    if (!q)
        return fail(d, EIO, "cannot parse /proc/self/stat");
    unsigned long long f[64] = { 0 };
    int field = 2; /* q points at the end of field 2 */
    for (q++; *q && field < 52;) {
        while (*q == ' ')
            q++;
        field++;
        f[field] = strtoull(q, &q, 10);
        while (*q && *q != ' ')
            q++; /* the state letter */
    }
    if (field < 51)
        return fail(d, EIO, "/proc/self/stat has %d fields; the kernel is too old", field);
    unsigned tty = (unsigned)f[7], tmaj = (tty >> 8) & 0xfff, tmin = (tty & 0xff) | ((tty >> 12) & 0xfff00);
    if (tmaj >= 136 && tmaj <= 143) /* a pseudo-terminal: whether it comes back is the fds' say */
        p->ctty_pts = (int32_t)((tmaj - 136) * 256 + tmin + 1);
    p->start_code = f[26], p->end_code = f[27], p->start_stack = f[28];
    p->start_data = f[45], p->end_data = f[46], p->start_brk = f[47];
    p->arg_start = f[48], p->arg_end = f[49], p->env_start = f[50], p->env_end = f[51];
    p->brk = (uint64_t)syscall(SYS_brk, 0);

    if (crt.attrs.dumpable != 0 && crt.attrs.dumpable != 1)
        return fail(d, EACCES, "the process is dumpable by root only (PR_GET_DUMPABLE %d: it "
                    "started a set-user-ID program while suid_dumpable is 2), which closes its "
                    "/proc files to its owner; no way back to that value exists: refused",
                    crt.attrs.dumpable);
    ssize_t n = read_file(d, "/proc/self/auxv", text, TEXT_SIZE);
    if (n < 0)
        return (int)n;
    if ((size_t)n > sizeof p->auxv)
        return fail(d, E2BIG, "auxv has %zd bytes", n);
    memcpy(p->auxv, text, (size_t)n);
    p->auxv_words = (uint32_t)(n / 8);

    for (int i = 0; i < CTX_NRLIMIT && i < RLIM_NLIMITS; i++) {
        struct rlimit rl;
        if (getrlimit((__rlimit_resource_t)i, &rl) == 0)
            p->rlim_cur[i] = rl.rlim_cur, p->rlim_max[i] = rl.rlim_max;
    }
    for (int sig = 1; sig < CTX_NSIG; sig++) {
        struct { uint64_t handler, flags, restorer, mask; } ka;
        if (syscall(SYS_rt_sigaction, sig, NULL, &ka, 8) == 0)
            memcpy(&p->sigactions[sig], &ka, sizeof ka);
    }
    for (int w = 0; w < 3; w++) {
        struct itimerval it;
        if (getitimer(w, &it) == 0) {
            p->itimer[w][0] = (uint64_t)it.it_interval.tv_sec;
            p->itimer[w][1] = (uint64_t)it.it_interval.tv_usec;
            p->itimer[w][2] = (uint64_t)it.it_value.tv_sec;
            p->itimer[w][3] = (uint64_t)it.it_value.tv_usec;
        }
    }
    p->runtime_state = (uint64_t)(uintptr_t)&crt.restart;
    prctl(PR_GET_PDEATHSIG, &p->pdeathsig, 0, 0, 0);
    p->dumpable = crt.attrs.dumpable; /* as the program left it (the dump changes it) */
    prctl(PR_GET_CHILD_SUBREAPER, &p->subreaper, 0, 0, 0);
    p->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    if (read_file(d, "/proc/self/status", text, TEXT_SIZE) > 0) {
        char *sp = strstr(text, "ShdPnd:");
        p->shared_pending = sp ? strtoull(sp + 7, NULL, 16) & ~(1ULL << (crt.signum - 1)) : 0;
    }
    struct stat st;
    if (stat(crt.exe_path, &st) == 0)
        file_id_of(&st, &p->exe_id);
    if (read_file(d, "/proc/self/comm", text, TEXT_SIZE) > 0) {
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = 0;
        strncpy(p->comm, text, sizeof p->comm - 1);
    }
    p->exe_len = (uint32_t)exe_len;
    p->cwd_len = (uint32_t)cwd_len;
    char *tail = (char *)(p + 1);
    memcpy(tail, crt.exe_path, exe_len);
    memcpy(tail + exe_len, cwd, cwd_len);
    return cwd_deleted ? deleted_cwd_record(d, cwd_deleted) : 0;
}

static int add_thread(struct dump *d, const struct cr_thread_slot *s, uint32_t index)
{
    struct ctx_thread *t = rec_add(d, CTX_REC_THREAD, sizeof *t);
    if (!t)
        return fail(d, E2BIG, "too much metadata");
    t->tid = s->tid;
    t->index = index;
    t->fs_base = s->fs_base;
    t->clear_tid_addr = s->clear_tid;
    t->robust_head = s->robust_head;
    t->robust_len = s->robust_len;
    t->sigmask = s->sigmask;
    t->pending = s->pending & ~d->proc->shared_pending;
    t->altstack_sp = (uint64_t)(uintptr_t)s->altstack.ss_sp;
    t->altstack_size = s->altstack.ss_size;
    t->altstack_flags = (uint32_t)s->altstack.ss_flags;
    t->resume = s->resume;
    memcpy(t->comm, s->comm, sizeof t->comm);
    if (s->uc) {
        t->frame_addr = (uint64_t)(uintptr_t)s->uc;
        memcpy(t->gregs, s->uc->uc_mcontext.gregs, sizeof t->gregs);
    }
    return 0;
}

/* The thread group leader first: the restorer rebuilds it in its own thread. */
static int collect_threads(struct dump *d)
{
    uint32_t n = 0;
    pid_t pid = getpid();
    const struct cr_thread_slot *leader = NULL;
    for (uint32_t i = 0; i < crt.nslots; i++)
        if (crt.slots[i].tid == pid)
            leader = &crt.slots[i];
    if (crt.manager.tid == pid)
        leader = &crt.manager;
    if (!leader)
        return fail(d, ENOTSUP, "the main thread has exited; such a process cannot be restored");
    int rc = add_thread(d, leader, n++);
    for (uint32_t i = 0; rc == 0 && i < crt.nslots; i++)
        if (crt.slots[i].tid > 0 && &crt.slots[i] != leader)
            rc = add_thread(d, &crt.slots[i], n++);
    if (rc == 0 && leader != &crt.manager)
        rc = add_thread(d, &crt.manager, n++);
    d->proc->nthreads = n;
    return rc;
}

/* ---- file descriptors ---- */

/* ---- memory ---- */

/* One line of /proc/self/smaps: a region's first line, or its VmFlags. */
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
            return fail(d, EIO, "cannot parse /proc/self/smaps line: %s", line);
        *cur = NULL;
        if (s == (unsigned long long)(uintptr_t)d->scratch)
            return 0; /* our own scratch */
        if ((d->nregions + 1) * sizeof(struct vm_region) > VMFLAGS_SIZE)
            return fail(d, E2BIG, "more than %lu memory regions",
                        (unsigned long)(VMFLAGS_SIZE / sizeof(struct vm_region)));
        struct vm_region *r = &d->regions[d->nregions++];
        *r = (struct vm_region){ .start = s, .end = e, .shmid = -1 };
        const char *p = path ? line + path : "";
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
            p += n;
        }
        if ((*cur)->flags & (CTX_VMA_DONTFORK | CTX_VMA_WIPEONFORK))
            (*cur)->nofork = 1;
    }
    return 0;
}

/* The regions' VmFlags, read in the frozen process (see struct vm_region).  smaps
 * holds some twenty lines a region: it is read a piece at a time. */
static int collect_regions(struct dump *d)
{
    d->regions = (struct vm_region *)(d->scratch + VMFLAGS_OFF);
    d->nregions = 0;
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(d, errno, "opening /proc/self/smaps");
    char *buf = d->scratch + TEXT_OFF;
    size_t len = 0;
    struct vm_region *cur = NULL;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, TEXT_SIZE - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = fail(d, errno, "reading /proc/self/smaps");
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
            rc = fail(d, E2BIG, "a line of /proc/self/smaps is longer than %lu bytes", TEXT_SIZE);
            break;
        }
    }
    close(fd);
    return rc;
}

/* The VmFlags of the region that holds addr (0 for one mapped since, by the runtime). */
static uint32_t region_flags(const struct dump *d, uint64_t addr)
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
 * page map says so from 6.15; before, a read through /proc/self/mem fails on it
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

/* Saves the pages of [start,end) that hold data of their own: anonymous pages that
 * were touched, and the privately modified pages of a file mapping; and notes its
 * guard pages, whatever the kind of memory. */
static int collect_pages(struct dump *d, struct ctx_vma *v, uint32_t vma)
{
    uint64_t *pm = (uint64_t *)(d->scratch + PAGEMAP_OFF);
    unsigned char *mc = (unsigned char *)(d->scratch + BOUNCE_OFF);
    size_t chunk = PAGEMAP_SIZE / 8;
    int saves = (v->kind == CTX_VMA_ANON || v->kind == CTX_VMA_SHARED_ANON ||
                 v->kind == CTX_VMA_FILE_PRIVATE || (v->flags & CTX_VMA_SAVED)) &&
                !memfd_saved_with_fd(d, v);
    for (uint64_t a = v->start; a < v->end;) {
        size_t np = (v->end - a) / PAGE;
        if (np > chunk)
            np = chunk;
        ssize_t got = pread(d->pagemap_fd, pm, np * 8, (off_t)(a / PAGE * 8));
        if (got != (ssize_t)(np * 8))
            return fail(d, got < 0 ? errno : EIO, "reading /proc/self/pagemap at 0x%llx",
                        (unsigned long long)a);
        /* shared memory lives in the page cache: ask residency, not our page tables */
        if (v->kind == CTX_VMA_SHARED_ANON && mincore((void *)(uintptr_t)a, np * PAGE, mc) < 0)
            return fail(d, errno, "mincore at 0x%llx", (unsigned long long)a);
        size_t run = 0;
        uint64_t run_start = 0;
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
            }
            if (keep) {
                if (!run++)
                    run_start = a + i * PAGE;
            } else if (run) {
                int rc = add_block(d, run_start, (uint32_t)run, vma);
                if (rc < 0)
                    return rc;
                run = 0;
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
    if (!d->tree && ds.shm_nattch > here)
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

static int classify_vma(struct dump *d, struct ctx_vma *v, char shared, unsigned dmaj, unsigned dmin,
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
    } else if (!strcmp(path, "/[aio] (deleted)") && cr_aio_ring(v->start, v->end)) {
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

static int collect_vmas(struct dump *d)
{
    char *text = d->scratch + TEXT_OFF;
    if (read_file(d, "/proc/self/maps", text, TEXT_SIZE) < 0)
        return -EIO;
    uint32_t index = 0;
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = 0;
        unsigned long long start, end, pgoff, ino;
        char perms[5];
        unsigned dmaj, dmin;
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &dmaj,
                   &dmin, &ino, &pathpos) < 7)
            return fail(d, EIO, "cannot parse /proc/self/maps line: %s", line);
        const char *path = pathpos ? line + pathpos : "";
        line = eol ? eol + 1 : line + strlen(line);
        if (start == (unsigned long long)(uintptr_t)d->scratch)
            continue; /* our own scratch */

        struct ctx_vma tmp = { .start = start, .end = end, .pgoff = pgoff };
        tmp.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                   (perms[2] == 'x' ? PROT_EXEC : 0);
        tmp.flags = region_flags(d, start);
        int rc = classify_vma(d, &tmp, perms[3], dmaj, dmin, ino, path);
        if (rc < 0)
            return rc;
        if (!(tmp.flags & CTX_VMA_SYSV)) /* how a segment was attached; nothing else's */
            tmp.flags &= ~(uint32_t)CTX_VMA_MAYWRITE;
        if (tmp.kind >= CTX_VMA_VDSO) /* moved at restart, not mapped: nothing to advise */
            tmp.flags &= ~(uint32_t)(CTX_VMA_ADVICE | CTX_VMA_SEALED);
        int named = tmp.kind == CTX_VMA_FILE_PRIVATE || tmp.kind == CTX_VMA_FILE_SHARED ||
                    (tmp.kind == CTX_VMA_SHARED_ANON && path[0] == '/');
        size_t plen = named ? strlen(path) + 1 : 0;
        struct ctx_vma *v = rec_add(d, CTX_REC_VMA, sizeof *v + plen);
        if (!v)
            return fail(d, E2BIG, "too much metadata");
        *v = tmp;
        v->path_len = (uint32_t)plen;
        memcpy(v + 1, path, plen);
        uint64_t here = (uint64_t)(uintptr_t)&here, state = (uint64_t)(uintptr_t)&crt;
        if (here >= start && here < end)
            d->volatile_start[0] = start, d->volatile_end[0] = end;
        if (state >= start && state < end)
            d->volatile_start[1] = start, d->volatile_end[1] = end;
        for (uint32_t i = 0; i < crt.nslots && index < 65536; i++) {
            uint64_t frame = (uint64_t)(uintptr_t)crt.slots[i].uc;
            if (crt.slots[i].tid > 0 && frame >= start && frame < end)
                d->parked_stack_vmas[index / 8] |= (unsigned char)(1u << (index % 8));
        }
        if (v->kind == CTX_VMA_VDSO)
            d->proc->vdso_crc = crc32c(0, (void *)(uintptr_t)start, end - start);
        if (((v->kind == CTX_VMA_FILE_PRIVATE && ((d->save & CR_CTL_SAVE_PRIVATE) ||
              ((d->save & CR_CTL_SAVE_EXE) && !strcmp(path, crt.exe_path)))) ||
             (v->kind == CTX_VMA_FILE_SHARED && (d->save & CR_CTL_SAVE_SHARED))) &&
            (v->prot & PROT_READ))
            v->flags |= CTX_VMA_SAVED; /* inaccessible gaps of a library stay file-backed */
        if (v->kind < CTX_VMA_VDSO) {
            rc = collect_pages(d, v, index);
            if (rc < 0)
                return rc;
        }
        index++;
    }
    d->proc->nvmas = index;
    return cr_aio_records(d);
}

/* ---- writing ---- */

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
    return !readable || ours;
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
    h->uid = getuid();
    h->nrecords = d->nrecs;
    h->nblocks = d->nblocks;
    h->records_offset = sizeof *h;
    h->records_length = d->recs_len;
    h->data_offset = (sizeof *h + d->recs_len + PAGE - 1) & ~(PAGE - 1);
}

void cr_dump_seal(struct dump *d)
{
    recs_seal(d);
}

static int write_file(struct dump *d, int fd, uint64_t *bytes)
{
    if (d->zlevel)
        return cr_dump_write_compressed(d, fd, bytes);
    /* BLOCKS record, then the layout */
    struct ctx_block *tbl = rec_add(d, CTX_REC_BLOCKS, d->nblocks * sizeof(struct ctx_block));
    if (!tbl)
        return fail(d, E2BIG, "too much metadata");
    struct ctx_header h;
    ctx_header_init(&h);
    h.scope = CTX_SCOPE_PROC;
    h.nproc = 1;
    h.uid = getuid();
    h.nrecords = d->nrecs;
    h.nblocks = d->nblocks;
    h.records_offset = sizeof h;
    h.records_length = d->recs_len;
    h.data_offset = (sizeof h + d->recs_len + PAGE - 1) & ~(PAGE - 1);
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
    struct ctx_rec r = { CTX_REC_BLOCK_CRCS, (uint32_t)((d->nblocks * 4 + 7) & ~7U), d->nrecs, 0 };
    memset((char *)d->crcs + d->nblocks * 4, 0, r.length - d->nblocks * 4);
    r.crc = crc32c(crc32c(0, &r, 12), d->crcs, r.length);
    struct {
        struct ctx_rec r;
        struct ctx_end e;
    } end = { { CTX_REC_END, sizeof(struct ctx_end), d->nrecs + 1, 0 }, { 0, d->nblocks, 0 } };
    end.e.file_length = h.trailer_offset + sizeof r + r.length + sizeof end;
    end.r.crc = crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e);
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

int cr_dump_begin(struct dump **out, char *msg, size_t msglen, unsigned flags,
                  const struct cr_ctl_prepare *tree)
{
    char *scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    *out = NULL;
    if (scratch == MAP_FAILED) {
        snprintf(msg, msglen, "allocating %lu MiB of scratch memory", SCRATCH_SIZE / MiB);
        return -errno;
    }
    struct dump *d = (struct dump *)(scratch + STATE_OFF);
    memset(d, 0, sizeof *d);
    d->scratch = scratch;
    d->msg = msg;
    d->msglen = msglen;
    d->pagemap_fd = d->mem_fd = -1;
    d->blocks = (struct ctx_block *)(scratch + BLOCKS_OFF);
    d->crcs = (uint32_t *)(scratch + CRCS_OFF);
    d->sockets_refuse = (flags & CR_CTL_SOCKETS_REFUSE) != 0;
    d->step = (flags & CR_CTL_STEP) != 0;
    d->launcher_socks = crt.launcher_socks;
    d->nlauncher_socks = crt.nlauncher_socks;
    d->pipes_refuse = (flags & CR_CTL_PIPES_REFUSE) != 0;
    d->sync = !(flags & CR_CTL_NOSYNC);
    d->save = flags & (CR_CTL_SAVE_EXE | CR_CTL_SAVE_PRIVATE | CR_CTL_SAVE_SHARED);
    d->zlevel = (int)CR_CTL_COMPRESS_LEVEL(flags);
    d->tree = tree;
    *out = d;
    int rc = collect_proc(d);
    if (rc == 0)
        rc = collect_threads(d);
    if (rc == 0) /* the main thread is parked: it will queue them again */
        rc = cr_pending_save_process(d->msg, d->msglen);
    if (rc == 0) /* before the fds: the eventfds its completions count on */
        rc = cr_aio_freeze(d);
    if (rc == 0)
        rc = collect_fds(d);
    if (rc == 0)
        rc = cr_save_posix_timers(d->msg, d->msglen);
    if (rc == 0)
        rc = collect_regions(d);
    return rc;
}

int cr_dump_finish(struct dump *d, int fd, uint64_t *bytes)
{
    /* opened here: in a snapshot child, /proc/self must be the child */
    d->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    d->mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    int rc = 0;
    if (d->pagemap_fd < 0 || d->mem_fd < 0)
        rc = fail(d, errno, "opening /proc/self/pagemap and /proc/self/mem");
    if (rc == 0)
        rc = collect_vmas(d);
    for (int i = 0; rc == 0 && i < d->ndeleted; i++) /* then deleted files' contents */
        rc = deleted_file_blocks(d, i);
    if (rc == 0 && d->nblocks * 4 + 8 > CRCS_SIZE)
        rc = fail(d, E2BIG, "too many memory blocks");
    if (rc == 0)
        rc = write_file(d, fd, bytes);
    if (d->pagemap_fd >= 0)
        close(d->pagemap_fd);
    if (d->mem_fd >= 0)
        close(d->mem_fd);
    d->pagemap_fd = d->mem_fd = -1;
    return rc;
}

/* A snapshot child sees the process's memory as it was at fork time, except for
 * regions that fork does not copy (MADV_DONTFORK, MADV_WIPEONFORK) and shared memory
 * the process keeps changing: with any of those, the dump stays in the frozen process. */
int cr_dump_forkable(struct dump *d)
{
    if (d->ndeleted) /* the process may change those files while the child reads them */
        return 0;
    if (d->aio_rings) /* a child has no AIO context, and the rings change once it goes on */
        return 0;
    for (uint32_t i = 0; i < d->nregions; i++)
        if (d->regions[i].nofork)
            return 0;
    return 1;
}

void cr_dump_free(struct dump *d)
{
    if (d)
        munmap(d->scratch, SCRATCH_SIZE);
}


uint32_t *cr_dump_released(struct dump *d)
{
    return &d->released;
}

/* The result goes through the shared scratch (a snapshot child's too). */
int cr_dump_write(struct dump *d, int fd)
{
    d->msg = d->child_msg;
    d->msglen = sizeof d->child_msg;
    int rc = cr_dump_finish(d, fd, &d->child_bytes);
    d->child_err = rc < 0 ? -rc : 0;
    return rc < 0 ? 1 : 0;
}

char *cr_dump_child_msg(struct dump *d)
{
    return d->child_msg;
}

int cr_dump_child_err(struct dump *d)
{
    return d->child_err;
}

uint64_t cr_dump_child_bytes(struct dump *d)
{
    return d->child_bytes;
}
