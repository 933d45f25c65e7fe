/* The dumper: runs in the manager thread while every other thread is parked, and
 * writes the process to a context file (context_format.h).
 *
 * It must not take locks another thread may hold, so no malloc and no stdio: its
 * buffers live in one private scratch mapping (shared-anonymous, so it never merges
 * with the application's memory and is easy to leave out of the dump). */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_map.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "inotify_replay.h"
#include "tcp_held.h"
#include "mq_notify_track.h"
#include "dnotify_track.h"
#include "precopy.h"
#include "stop_times.h"

/* ---- small helpers that neither allocate nor lock ---- */

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
        tmp.flags = cr_dump_region_flags(d, start);
        int rc = cr_dump_classify_vma(d, &tmp, perms[3], dmaj, dmin, ino, path);
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
            rc = cr_dump_pages(d, v, index);
            if (rc < 0)
                return rc;
        }
        index++;
    }
    d->proc->nvmas = index;
    return cr_aio_records(d);
}

/* After a lazy restart whose fill is not done (restore_plan.h's rp_lazy_note), the
 * pages of v still missing are in the image restarted from, not zeros: they are
 * brought in (cr_restart serves the faults) before the page map is read. */
static int bring_in_lazy(struct dump *d, const struct ctx_vma *v)
{
    const struct rp_lazy_note *note = &crt.restart.lazy;
    if (v->kind != CTX_VMA_ANON || !__atomic_load_n(&note->active, __ATOMIC_ACQUIRE))
        return 0;
    for (uint64_t i = 0; i < note->n && i < RP_LAZY_RANGES; i++) {
        uint64_t s = note->range[i].start > v->start ? note->range[i].start : v->start;
        uint64_t e = note->range[i].end < v->end ? note->range[i].end : v->end;
        if (s >= e || cr_raw_syscall6(SYS_madvise, (long)s, (long)(e - s), MADV_POPULATE_READ, 0, 0, 0) == 0)
            continue;
        /* not readable (mprotected since): read through /proc/self/mem, which may */
        for (uint64_t a = s; a < e;) {
            size_t n = e - a < (1UL << 20) ? (size_t)(e - a) : (1UL << 20);
            long got = cr_raw_syscall6(SYS_pread64, d->mem_fd, (long)(d->scratch + BOUNCE_OFF), (long)n,
                                       (long)a, 0, 0);
            if (got == -EINTR)
                continue;
            if (got <= 0)
                return fail(d, got < 0 ? (int)-got : EIO, "bringing in the memory at 0x%llx that the "
                            "lazy restart of this process still fills", (unsigned long long)a);
            a += (uint64_t)got;
        }
    }
    return 0;
}

/* The scratch and VmFlags cr_dump_prepare made before the freeze. */
static struct {
    char *scratch;
    struct vmflags_early vmf;
} prepared;

void cr_dump_prepare(void)
{
    cr_dump_prepared_end();
    char *s = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED)
        return; /* (cr_dump_begin tries again, and says why) */
    prepared.scratch = s;
    cr_vmflags_read_early(s, &prepared.vmf);
}

void cr_dump_prepared_end(void)
{
    if (prepared.scratch)
        munmap(prepared.scratch, SCRATCH_SIZE);
    memset(&prepared, 0, sizeof prepared);
}

void cr_dump_prepared_forked(void)
{
    cr_dump_prepared_end(); /* (the mapping is shared: the child's copy of it goes) */
}

void cr_dump_prepared_restored(void)
{
    memset(&prepared, 0, sizeof prepared); /* its mapping was never restored */
}

int cr_dump_begin(struct dump **out, char *msg, size_t msglen, unsigned flags,
                  unsigned timeout_ms, const struct cr_ctl_prepare *tree)
{
    /* a pre-copy made it already: its tables are there; or cr_dump_prepare did, with
     * the VmFlags */
    char *scratch = cr_precopy_take_scratch();
    int early = 0;
    if (!scratch && prepared.scratch) {
        scratch = prepared.scratch;
        prepared.scratch = NULL;
        early = 1;
    }
    if (!scratch)
        scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    *out = NULL;
    if (scratch == MAP_FAILED) {
        int e = errno;
        /* an anonymous mapping without reserve fails so only when it would be locked */
        snprintf(msg, msglen, "allocating %lu MiB of scratch memory%s", SCRATCH_SIZE / MiB,
                 e == EAGAIN ? " (the process locks its new mappings, mlockall MCL_FUTURE, and "
                 "RLIMIT_MEMLOCK leaves no room for them: raise it, ulimit -l, by that much to "
                 "checkpoint it)" : "");
        return -e;
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
    d->timeout_ms = timeout_ms;
    d->uid = getuid();
    d->aio_ring = cr_aio_ring;
    d->inotify_keep = cr_inotify_keep;
    d->inotify_held = cr_inotify_held;
    d->tcp_hold = cr_tcp_hold;
    d->tcp_held = cr_tcp_held;
    d->mq_notify_of = cr_mq_notify_of;
    d->dnotify_of = cr_dnotify_of;
    d->before_pages = bring_in_lazy;
    snprintf(d->proc_dir, sizeof d->proc_dir, "/proc/self");
    *out = d;
    int rc = collect_proc(d);
    if (rc == 0 && (flags & CR_CTL_STOPPED_HELD)) { /* it comes back stopped */
        struct ctx_stopped *st = rec_add(d, CTX_REC_STOPPED, sizeof *st);
        if (!st)
            rc = fail(d, E2BIG, "too much metadata");
        else
            st->signal = SIGSTOP;
    }
    if (rc == 0 && cr_pid_map_usable) { /* where a restart with new pids writes the
                                            program's pids (pid_map.c) */
        uint32_t all = cr_pid_map.n <= CR_PID_MAP_MAX ? cr_pid_map.n : 0, n = 0;
        for (uint32_t i = 0; i < all; i++) /* (not the pairs forgotten, {0, 0}) */
            n += cr_pid_map.e[i].known > 0 && cr_pid_map.e[i].real > 0;
        struct ctx_pid_map *pm = rec_add(d, CTX_REC_PID_MAP, sizeof *pm + n * sizeof(struct ctx_pid_pair));
        if (!pm)
            rc = fail(d, E2BIG, "too much metadata");
        else {
            pm->addr = (uint64_t)(uintptr_t)&cr_pid_map;
            pm->n = n;
            pm->cap = CR_PID_MAP_MAX;
            struct ctx_pid_pair *out = (struct ctx_pid_pair *)(pm + 1);
            for (uint32_t i = 0, k = 0; i < all && k < n; i++)
                if (cr_pid_map.e[i].known > 0 && cr_pid_map.e[i].real > 0)
                    out[k++] = (struct ctx_pid_pair){ cr_pid_map.e[i].known, cr_pid_map.e[i].real };
        }
    }
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
    cr_stop_mark(CR_STOP_STATE);
    /* (the VmFlags read before the freeze, when they still hold) */
    if (rc == 0 && !cr_precopy_regions(d) && !(early && cr_vmflags_take_early(d, &prepared.vmf)))
        rc = cr_dump_regions(d);
    cr_stop_mark(CR_STOP_REGIONS);
    return rc;
}

int cr_dump_collect(struct dump *d)
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
    if (rc == 0) /* an incremental image's runs of its parent's pages */
        rc = dump_parent_records(d);
    return rc;
}

void cr_dump_close_proc(struct dump *d)
{
    if (d->pagemap_fd >= 0)
        close(d->pagemap_fd);
    if (d->mem_fd >= 0)
        close(d->mem_fd);
    d->pagemap_fd = d->mem_fd = -1;
}

int cr_dump_finish(struct dump *d, int fd, uint64_t *bytes)
{
    int rc = cr_dump_collect(d);
    if (rc == 0)
        rc = d->zlevel ? cr_dump_write_compressed(d, fd, bytes) : cr_dump_write_plain(d, fd, bytes);
    cr_dump_close_proc(d);
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
    if (d && !cr_precopy_owns(d->scratch)) /* (a pre-copy's is unmapped by it) */
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

void cr_dump_image_id(struct dump *d, uint32_t *header_crc, uint64_t *created_ns)
{
    *header_crc = d->out_header_crc;
    *created_ns = d->out_created_ns;
}
