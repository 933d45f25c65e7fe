#define _GNU_SOURCE
#include "restart.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cpuid.h>
#include <sched.h>

#include "crc32c.h"
#include "pid_map.h"
#include "restore_plan.h"
#include "restart_child.h"
#include "restart_lazy.h"
#include "resources/resources.h"

#define PAGE 4096UL
#define ALIGN(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define RSEQ_SIG_X86 0x53053053
#define MAX_UNMAP 8192
#define MAPS_TEXT (4UL << 20)

extern const char cr_restorer_blob[], cr_restorer_blob_end[];
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* OLD=NEW as BLCR reads it: "\=" and "\\" stand for '=' and '\' in either path, one
 * unescaped '=' between them, trailing slashes dropped; OLD=OLD changes nothing. */
int cr_restart_add_relocation(struct cr_restart_opts *o, const char *arg, char *err, size_t len)
{
    char *old = strdup(arg), *new = NULL, *w = old;
    if (!old)
        return cr_say(err, len, ENOMEM, "out of memory");
    for (const char *r = arg; *r; r++) {
        if (r[0] == '\\' && (r[1] == '=' || r[1] == '\\'))
            *w++ = *++r;
        else if (*r == '=' && new) {
            free(old);
            return cr_say(err, len, EINVAL, "--relocate '%s': more than one unescaped '=' (write "
                          "\\= for an '=' in a path)", arg);
        } else if (*r == '=') {
            *w++ = 0;
            new = w;
        } else
            *w++ = *r;
    }
    *w = 0;
    if (!new || old[0] != '/' || new[0] != '/') {
        free(old);
        return cr_say(err, len, EINVAL, "--relocate wants OLD=NEW with two absolute paths, not '%s'", arg);
    }
    for (char *p = old + strlen(old) - 1; p > old && *p == '/'; p--)
        *p = 0;
    for (char *p = new + strlen(new) - 1; p > new && *p == '/'; p--)
        *p = 0;
    if (!strcmp(old, new)) {
        free(old);
        return 0;
    }
    if (o->nreloc >= CR_MAX_RELOCATE) {
        free(old);
        return cr_say(err, len, EINVAL, "at most %d --relocate options", CR_MAX_RELOCATE);
    }
    o->reloc_old[o->nreloc] = old; /* (new points into the same allocation) */
    o->reloc_new[o->nreloc] = new;
    o->nreloc++;
    return 0;
}

void cr_restart_opts_free(struct cr_restart_opts *o)
{
    for (int i = 0; i < o->nreloc; i++)
        free((char *)o->reloc_old[i]);
    o->nreloc = 0;
}

/* ---- this system's vdso and friends ---- */

struct special {
    uint32_t kind;
    uint64_t start, len;
};

static int current_specials(struct special out[RP_SPECIALS])
{
    FILE *f = fopen("/proc/self/maps", "re");
    int n = 0;
    char line[512];
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        char name[64] = "";
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %63s", &s, &e, name) < 2)
            continue;
        uint32_t kind = !strcmp(name, "[vdso]") ? CTX_VMA_VDSO
                      : !strcmp(name, "[vvar]") ? CTX_VMA_VVAR
                      : !strcmp(name, "[vvar_vclock]") ? CTX_VMA_VVAR_VCLOCK : 0;
        if (kind && n < RP_SPECIALS)
            out[n++] = (struct special){ kind, s, e - s };
    }
    fclose(f);
    return n;
}

static const struct special *find_special(const struct special *s, int n, uint32_t kind)
{
    for (int i = 0; i < n; i++)
        if (s[i].kind == kind)
            return &s[i];
    return NULL;
}

static int image_has(const struct ctx_image *img, uint32_t kind)
{
    for (uint32_t i = 0; i < img->proc->nvmas; i++)
        if (img->vmas[i]->kind == kind)
            return 1;
    return 0;
}

static int check_vdso(const struct ctx_image *img, char *err, size_t len)
{
    struct special cur[RP_SPECIALS];
    int ncur = current_specials(cur), nimg = 0;
    struct utsname u;
    uname(&u);
    const struct special *cur_vdso = find_special(cur, ncur, CTX_VMA_VDSO);
    const struct ctx_vma *img_vdso = NULL;
    int ok = cur_vdso != NULL;
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if (v->kind < CTX_VMA_VDSO || v->kind > CTX_VMA_VVAR_VCLOCK)
            continue;
        nimg++;
        if (v->kind == CTX_VMA_VDSO)
            img_vdso = v;
        const struct special *c = find_special(cur, ncur, v->kind);
        if (!c || c->len != v->end - v->start)
            ok = 0;
    }
    if (ok && img_vdso) {
        /* the vdso finds its data pages at fixed distances from itself */
        for (uint32_t i = 0; i < img->proc->nvmas; i++) {
            const struct ctx_vma *v = img->vmas[i];
            const struct special *c = find_special(cur, ncur, v->kind);
            if (v->kind >= CTX_VMA_VVAR && v->kind <= CTX_VMA_VVAR_VCLOCK &&
                (int64_t)(v->start - img_vdso->start) != (int64_t)(c->start - cur_vdso->start))
                ok = 0;
        }
        if (crc32c(0, (void *)(uintptr_t)cur_vdso->start, cur_vdso->len) != img->proc->vdso_crc)
            ok = 0;
    }
    /* a process that unmapped its vdso has it unmapped again (by the restorer), and
     * whatever of its data pages it kept moved into place */
    if (!ok || (img_vdso ? nimg != ncur : nimg > ncur))
        return cr_say(err, len, ENOEXEC, "made on %s kernel %s, whose vdso differs from this one "
                   "(kernel %s): restart it on a machine running kernel %s", "x86_64",
                   img->hdr.kernel_release, u.release, img->hdr.kernel_release);
    return 0;
}

/* An AIO context comes back with a ring of the same number of events (the restored
 * runtime asks io_setup for (nr - 2) / 2, aio.c): tried here, where the answer is the
 * same, so that a machine with another number of possible CPUs (the ring is at least
 * 8 per CPU) or a full fs.aio-max-nr refuses before anything is started. */
static int check_aio(const struct ctx_image *img, char *err, size_t len)
{
    for (uint32_t i = 0; i < img->naios; i++) {
        const struct ctx_aio *a = img->aios[i];
        unsigned long ctx = 0;
        if (syscall(SYS_io_setup, (a->nr - 2) / 2, &ctx) < 0)
            return cr_say(err, len, errno, "the AIO context at 0x%llx (a ring of %u events) cannot be "
                          "made again here: io_setup: %s%s", (unsigned long long)a->addr, a->nr,
                          strerror(errno), errno == EAGAIN ? " (fs.aio-max-nr is reached: raise it)" : "");
        uint32_t nr = ((const uint32_t *)ctx)[1];
        syscall(SYS_io_destroy, ctx);
        if (nr != a->nr)
            return cr_say(err, len, ENOEXEC, "the AIO context at 0x%llx had a ring of %u events; "
                          "io_setup here makes one of %u (its size follows the number of possible "
                          "CPUs): restart it on a machine like the one it ran on",
                          (unsigned long long)a->addr, a->nr, nr);
    }
    return 0;
}

static int same_file(const struct ctx_file_id *id, const struct stat *st, int moved)
{
    if (moved) /* a relocated copy cannot keep its inode; the contents must still fit */
        return (uint64_t)st->st_size == id->size;
    return st->st_ino == id->ino && st->st_dev == id->dev && (uint64_t)st->st_size == id->size &&
           st->st_mtim.tv_sec == id->mtime_sec && st->st_mtim.tv_nsec == id->mtime_nsec;
}

/* ---- the registers of a ptrace image (CTX_HDR_PTRACE) ---- */

#define XSAVE_SW_OFF 464             /* the kernel's software bytes in the legacy area */
#define XSAVE_BV_OFF 512             /* the XSAVE header's xstate_bv */
#define FP_XSTATE_MAGIC1_ 0x46505853U
#define FP_XSTATE_MAGIC2_ 0x46505845U

static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* The bytes of the XSAVE area that the features of bv need (CPUID leaf 0xD: each
 * feature's offset and size in the standard format): what the signal frame says. */
static uint32_t xsave_size_for(uint64_t bv)
{
    uint32_t size = CTX_XSAVE_MIN;
    for (unsigned i = 2; i < 64; i++) {
        unsigned a, b, c, d;
        if (!(bv >> i & 1) || !__get_cpuid_count(0xd, i, &a, &b, &c, &d))
            continue;
        if (b + a > size)
            size = b + a;
    }
    return size;
}

/* Each thread's vector state must be one this CPU and kernel can load again. */
static int check_thread_regs(const struct ctx_image *img, char *err, size_t len)
{
    for (uint32_t i = 0; img->regs && i < img->proc->nthreads; i++) {
        const struct ctx_thread_regs *tr = img->regs[i];
        if (!tr)
            continue;
        uint64_t bv;
        memcpy(&bv, (const char *)(tr + 1) + XSAVE_BV_OFF, sizeof bv);
        if (bv & ~xcr0())
            return cr_say(err, len, ENOEXEC, "thread %d used processor state (XSAVE features "
                          "0x%llx) that this machine does not enable (0x%llx): restart it on a "
                          "machine of the kind it was checkpointed on", tr->tid,
                          (unsigned long long)bv, (unsigned long long)xcr0());
        if (xsave_size_for(bv) > tr->xsave_len)
            return cr_say(err, len, ENOEXEC, "thread %d's saved processor state (%u bytes) is "
                          "shorter than its features need here (%u): restart it on a machine of "
                          "the kind it was checkpointed on", tr->tid, tr->xsave_len,
                          xsave_size_for(bv));
    }
    return 0;
}

/* The frame rt_sigreturn loads for a thread of a ptrace image: its registers as it was
 * interrupted, its vector state (fpstate: 64-byte aligned, room for xsave_len + 4).  A
 * thread stopped inside a system call calls it again, as the kernel does when a signal
 * without a handler interrupts it (-ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND); a
 * call whose restart needs the kernel's memory of it (-ERESTART_RESTARTBLOCK: a
 * relative sleep) is made restart_syscall, which in a new process ends it with EINTR. */
static void fill_regs(struct rp_thread *t, const struct ctx_thread_regs *tr, unsigned char *fpstate)
{
    const uint64_t *r = tr->regs;
    greg_t *g = t->uc.uc_mcontext.gregs;
    static const struct { int greg, ureg; } map[] = {
        { REG_R8, CTX_UREG_R8 }, { REG_R9, CTX_UREG_R9 }, { REG_R10, CTX_UREG_R10 },
        { REG_R11, CTX_UREG_R11 }, { REG_R12, CTX_UREG_R12 }, { REG_R13, CTX_UREG_R13 },
        { REG_R14, CTX_UREG_R14 }, { REG_R15, CTX_UREG_R15 }, { REG_RDI, CTX_UREG_RDI },
        { REG_RSI, CTX_UREG_RSI }, { REG_RBP, CTX_UREG_RBP }, { REG_RBX, CTX_UREG_RBX },
        { REG_RDX, CTX_UREG_RDX }, { REG_RAX, CTX_UREG_RAX }, { REG_RCX, CTX_UREG_RCX },
        { REG_RSP, CTX_UREG_RSP }, { REG_RIP, CTX_UREG_RIP }, { REG_EFL, CTX_UREG_EFLAGS },
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        g[map[i].greg] = (greg_t)r[map[i].ureg];
    int64_t orig = (int64_t)r[CTX_UREG_ORIG_RAX], rax = (int64_t)r[CTX_UREG_RAX];
    if (orig >= 0 && (rax == -512 || rax == -513 || rax == -514)) {
        g[REG_RAX] = (greg_t)orig;
        g[REG_RIP] -= 2; /* the syscall instruction */
    } else if (orig >= 0 && rax == -516) {
        g[REG_RAX] = SYS_restart_syscall;
        g[REG_RIP] -= 2;
    }
    g[REG_CSGSFS] = (greg_t)(0x33 | (0x2bULL << 48));
    memcpy(fpstate, tr + 1, tr->xsave_len);
    uint64_t bv;
    memcpy(&bv, fpstate + XSAVE_BV_OFF, sizeof bv);
    uint32_t size = xsave_size_for(bv);
    struct { uint32_t magic1, extended_size; uint64_t xfeatures; uint32_t xstate_size, pad[7]; } sw;
    memset(&sw, 0, sizeof sw);
    sw.magic1 = FP_XSTATE_MAGIC1_;
    sw.extended_size = size + 4;
    sw.xfeatures = bv | 3; /* x87 and SSE always come from the legacy area */
    sw.xstate_size = size;
    memcpy(fpstate + XSAVE_SW_OFF, &sw, sizeof sw);
    uint32_t magic2 = FP_XSTATE_MAGIC2_;
    memcpy(fpstate + size, &magic2, sizeof magic2);
    t->uc.uc_mcontext.fpregs = (fpregset_t)fpstate;
    t->rseq_addr = tr->rseq_addr;
    t->rseq_len = tr->rseq_len;
    t->rseq_sig = tr->rseq_sig;
}

int cr_restart_check(const struct ctx_image *img, const struct cr_restart_opts *o, char *err, size_t len)
{
    int rc = check_vdso(img, err, len);
    if (rc == 0)
        rc = check_aio(img, err, len);
    if (rc == 0)
        rc = check_thread_regs(img, err, len);
    if (rc < 0)
        return rc;
    char buf[CTX_PATH_MAX];
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if ((v->kind != CTX_VMA_FILE_PRIVATE && v->kind != CTX_VMA_FILE_SHARED) ||
            (v->flags & CTX_VMA_SAVED) || cr_step_shm_saved_file(o, v))
            continue; /* (a file the tasks of a step shared: put back, restart_step_shm.c) */
        int moved;
        const char *orig = (const char *)(v + 1);
        const char *path = relocate(o, orig, buf, sizeof buf, &moved);
        const char *what = !strcmp(orig, img->exe) ? "the executable" : "the mapped file";
        struct stat st;
        if (stat(path, &st) < 0)
            return cr_say(err, len, ENOENT, "%s %s is gone (%s): put it back, or give its new place "
                       "with --relocate %s=NEW", what, path, strerror(errno), orig);
        if (!same_file(&v->id, &st, moved))
            return cr_say(err, len, ESTALE, "%s %s changed since the checkpoint (%s): restore the "
                       "original, or give a copy of it with --relocate %s=NEW", what, path,
                       moved ? "size differs" : "inode, size or time differ", orig);
    }
    for (uint32_t i = 0; i < img->proc->nfds; i++) { /* files opened by path, each kind's */
        const struct cr_fd_ops *k = cr_fd_kind(img->fds[i]->kind);
        rc = k && k->check ? k->check(img->fds[i], o, err, len) : 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- in the child: the process's files ---- */

static void add_helper(struct child *c, int fd)
{
    c->helpers[c->nhelpers++] = fd;
}

static int is_helper(const struct child *c, int fd)
{
    for (uint32_t i = 0; i < c->nhelpers; i++)
        if (c->helpers[i] == fd)
            return 1;
    return 0;
}

static void close_others(struct child *c)
{
    for (int fd = 0; fd < c->high; fd++)
        close(fd);
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        child_fail(c, errno, "cannot list /proc/self/fd: %s", strerror(errno));
    int fds[1024], n = 0;
    char buf[8192];
    long got;
    while ((got = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0)
        for (long off = 0; off < got;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d =
                (void *)(buf + off);
            off += d->reclen;
            int fd = atoi(d->name);
            if (d->name[0] >= '0' && d->name[0] <= '9' && fd != dfd && !is_helper(c, fd) && n < 1024)
                fds[n++] = fd;
        }
    close(dfd);
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static void open_mapped_files(struct child *c)
{
    struct ctx_image *img = c->img;
    char buf[CTX_PATH_MAX];
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        c->map_fds[i] = -1;
        if ((v->kind != CTX_VMA_FILE_PRIVATE && v->kind != CTX_VMA_FILE_SHARED) ||
            (v->flags & CTX_VMA_SAVED))
            continue;
        int moved;
        const char *path = relocate(c->o, (const char *)(v + 1), buf, sizeof buf, &moved);
        int rw = v->kind == CTX_VMA_FILE_SHARED && (v->prot & PROT_WRITE);
        /* consecutive maps of one file share its fd */
        if (i && c->map_fds[i - 1] >= 0 && !(img->vmas[i - 1]->flags & CTX_VMA_SAVED) && !strcmp((const char *)(img->vmas[i - 1] + 1),
                                                    (const char *)(v + 1)) &&
            (img->vmas[i - 1]->kind == CTX_VMA_FILE_SHARED &&
             (img->vmas[i - 1]->prot & PROT_WRITE)) == rw) {
            c->map_fds[i] = c->map_fds[i - 1];
            continue;
        }
        int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
        if (fd < 0)
            child_fail(c, errno, "cannot open %s: %s", path, strerror(errno));
        c->map_fds[i] = move_high(c, fd);
        add_helper(c, c->map_fds[i]);
    }
}

/* A memfd's shared mapping maps the memfd restored with the process's fds (the same
 * inode saved), so that both stay one memory; its contents come from the fd's.  (In
 * a tree, memory several processes map is the pool's memfd, the fd restored onto it.) */
static void open_memfd_maps(struct child *c)
{
    struct ctx_image *img = c->img;
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if (v->kind != CTX_VMA_SHARED_ANON || !v->path_len || strncmp((const char *)(v + 1), "/memfd:", 7))
            continue;
        int pooled = 0; /* a tree's processes share it: the pool's memfd, for all of them */
        for (uint32_t k = 0; c->pool && k < c->pool->nmems; k++)
            pooled |= c->pool->mems[k].dev == v->id.dev && c->pool->mems[k].ino == v->id.ino;
        for (uint32_t k = 0; !pooled && k < img->proc->nfds; k++) {
            const struct ctx_fd *f = img->fds[k];
            if (f->kind != CTX_FD_FILE || !(f->flags & CTX_FD_MEMFD) || f->id.dev != v->id.dev ||
                f->id.ino != v->id.ino)
                continue;
            char self[64];
            snprintf(self, sizeof self, "/proc/self/fd/%d", f->fd);
            int fd = open(self, ((v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
            if (fd < 0)
                child_fail(c, errno, "cannot open the memfd of fd %d to map it at 0x%llx", f->fd,
                           (unsigned long long)v->start);
            c->map_fds[i] = move_high(c, fd);
            add_helper(c, c->map_fds[i]);
            break;
        }
    }
}

/* Shared memory (MAP_SHARED of a file deleted since, or anonymous) that several mappings
 * of the process map: one memfd, mapped by each at its offset, so that they stay one
 * memory; their pages are put back through the mappings as before.  (A tree's pool
 * does this for memory several processes map.) */
static void share_anon_maps(struct child *c)
{
    struct ctx_image *img = c->img;
    for (uint32_t i = 0; i < img->proc->nvmas; i++)
        c->anon_fds[i] = -1;
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if (v->kind != CTX_VMA_SHARED_ANON || !v->id.ino || (v->flags & CTX_VMA_SYSV) ||
            c->map_fds[i] >= 0 || c->anon_fds[i] >= 0)
            continue;
        int pooled = 0;
        for (uint32_t k = 0; c->pool && k < c->pool->nmems; k++)
            pooled |= c->pool->mems[k].dev == v->id.dev && c->pool->mems[k].ino == v->id.ino;
        uint64_t size = v->pgoff + (v->end - v->start);
        int others = 0;
        for (uint32_t k = i + 1; !pooled && k < img->proc->nvmas; k++) {
            const struct ctx_vma *w = img->vmas[k];
            if (w->kind != CTX_VMA_SHARED_ANON || w->id.dev != v->id.dev || w->id.ino != v->id.ino ||
                (w->flags & CTX_VMA_SYSV) || c->map_fds[k] >= 0)
                continue;
            others = 1;
            if (w->pgoff + (w->end - w->start) > size)
                size = w->pgoff + (w->end - w->start);
        }
        if (pooled || !others)
            continue;
        int fd = (int)syscall(SYS_memfd_create, "slurm-cr-shared", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
            child_fail(c, errno, "cannot make the shared memory mapped at 0x%llx again: %s",
                       (unsigned long long)v->start, strerror(errno));
        fd = move_high(c, fd);
        add_helper(c, fd);
        for (uint32_t k = i; k < img->proc->nvmas; k++) {
            const struct ctx_vma *w = img->vmas[k];
            if (w->kind == CTX_VMA_SHARED_ANON && w->id.dev == v->id.dev && w->id.ino == v->id.ino &&
                !(w->flags & CTX_VMA_SYSV) && c->map_fds[k] < 0)
                c->anon_fds[k] = fd;
        }
    }
}

int cr_new_sysv_segment(uint64_t old_id, uint64_t size)
{
    /* with CAP_SYS_ADMIN over the IPC namespace (root) the old id, if it is free */
    int next = open("/proc/sys/kernel/shm_next_id", O_WRONLY | O_CLOEXEC);
    if (next >= 0) {
        if (dprintf(next, "%llu", (unsigned long long)old_id) < 0)
            close(next), next = -1;
    }
    int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (next >= 0) {
        if (id < 0) /* the kernel forgets the wish only once it is used */
            (void)!write(next, "-1", 2);
        close(next);
    }
    return id;
}

/* An attached System V segment: a new IPC_PRIVATE one (a tree's processes share the
 * pool's), filled here with the saved pages.  A new one is removed at once, as it was
 * (IPC_RMID: no restart that fails leaves it behind); each is kept alive by an
 * attachment in the hole at `keep` until the restorer has attached it where it was
 * (the pool's attachment may be gone by then). */
static void make_sysv_segments(struct child *c, char *keep)
{
    struct ctx_image *img = c->img;
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        c->shm_ids[i] = -1;
        if (!(v->flags & CTX_VMA_SYSV))
            continue;
        for (uint32_t k = 0; k < i && c->shm_ids[i] < 0; k++) /* attached twice */
            if ((img->vmas[k]->flags & CTX_VMA_SYSV) && img->vmas[k]->id.ino == v->id.ino)
                c->shm_ids[i] = c->shm_ids[k];
        int kept = c->shm_ids[i] >= 0;
        for (uint32_t k = 0; c->pool && k < c->pool->nmems && c->shm_ids[i] < 0; k++)
            if (c->pool->mems[k].shmid >= 0 && c->pool->mems[k].dev == v->id.dev &&
                c->pool->mems[k].ino == v->id.ino)
                c->shm_ids[i] = c->pool->mems[k].shmid;
        /* shared with another task of the step: the one its first rank made again */
        int joined = !kept && c->shm_ids[i] < 0 && (c->shm_ids[i] = cr_step_shm_sysv(c, i)) >= 0;
        int made = c->shm_ids[i] < 0;
        if (made)
            c->shm_ids[i] = cr_new_sysv_segment(v->id.ino, v->id.size);
        if (c->shm_ids[i] < 0)
            child_fail(c, errno, "cannot make the System V shared memory segment of 0x%llx again "
                       "(%llu bytes)", (unsigned long long)v->start, (unsigned long long)v->id.size);
        char *seg = shmat(c->shm_ids[i], kept ? NULL : keep, kept ? 0 : SHM_REMAP);
        int e = errno;
        if (made)
            shmctl(c->shm_ids[i], IPC_RMID, NULL);
        if (!kept)
            keep += ALIGN(v->id.size);
        if (seg == (void *)-1 && joined)
            child_fail(c, e, "cannot attach System V segment %d, made again by another task of the "
                       "step for the memory at 0x%llx (its restart failed?): %s", c->shm_ids[i],
                       (unsigned long long)v->start, strerror(e));
        if (seg == (void *)-1)
            child_fail(c, e, "cannot attach the new System V segment %d", c->shm_ids[i]);
        for (uint32_t b = 0; b < img->hdr.nblocks && !joined; b++) {
            const struct ctx_block *bl = &img->blocks[b];
            if (bl->vma != i)
                continue;
            char *to = seg + (bl->addr - v->start), why[400];
            int rc = ctx_read_block(img, b, to, why, sizeof why);
            if (rc < 0)
                child_fail(c, -rc, "System V segment of 0x%llx: %s", (unsigned long long)v->start, why);
        }
        if (kept)
            shmdt(seg);
        if (joined) { /* as its maker left it */
            cr_step_shm_sysv_attached(c, i, c->shm_ids[i]);
            continue;
        }
        struct shmid_ds ds;
        if (shmctl(c->shm_ids[i], IPC_STAT, &ds) == 0) {
            ds.shm_perm.mode = v->id.mode & 0777;
            shmctl(c->shm_ids[i], IPC_SET, &ds);
        }
        if ((v->id.mode & SHM_LOCKED) && shmctl(c->shm_ids[i], SHM_LOCK, NULL) < 0)
            child_fail(c, errno, "cannot lock the System V shared memory segment of 0x%llx as it "
                       "was (SHM_LOCK; raise RLIMIT_MEMLOCK: ulimit -l)", (unsigned long long)v->start);
        if (made) /* the other tasks that shared it may attach it now */
            cr_step_shm_sysv_attached(c, i, c->shm_ids[i]);
    }
}

static void restore_process_state(struct child *c)
{
    const struct ctx_proc *p = c->img->proc;
    char buf[CTX_PATH_MAX];
    int moved;
    const char *cwd = relocate(c->o, c->img->cwd, buf, sizeof buf, &moved);
    if (c->img->cwd_deleted) { /* deleted: made again, entered, removed */
        int dir = recreate_deleted_dir(c, c->img->cwd, c->img->cwd_deleted->mode, O_RDONLY);
        if (fchdir(dir) < 0)
            child_fail(c, errno, "cannot enter the deleted working directory %s: %s", cwd, strerror(errno));
        close(dir);
    } else if (chdir(cwd) < 0) {
        child_fail(c, errno, "cannot enter the working directory %s: %s", cwd, strerror(errno));
    }
    umask(p->umask & 0777);
    if (p->pdeathsig > 0 && p->pdeathsig < 65)
        prctl(PR_SET_PDEATHSIG, p->pdeathsig, 0, 0, 0);
    if (p->subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (p->no_new_privs == 1)
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (p->dumpable == 0)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (int i = 0; i < CTX_NRLIMIT && i < RLIM_NLIMITS; i++) {
        struct rlimit rl = { p->rlim_cur[i], p->rlim_max[i] }, now;
        if (i == RLIMIT_NOFILE || getrlimit((__rlimit_resource_t)i, &now) < 0)
            continue; /* NOFILE: our helper fds must stay valid */
        if (rl.rlim_max > now.rlim_max)
            rl.rlim_max = now.rlim_max; /* cannot raise a hard limit without privilege */
        if (rl.rlim_cur > rl.rlim_max)
            rl.rlim_cur = rl.rlim_max;
        setrlimit((__rlimit_resource_t)i, &rl);
    }
    for (int w = 0; w < 3; w++) {
        struct itimerval it = { { (time_t)p->itimer[w][0], (suseconds_t)p->itimer[w][1] },
                                { (time_t)p->itimer[w][2], (suseconds_t)p->itimer[w][3] } };
        if (it.it_value.tv_sec || it.it_value.tv_usec)
            setitimer(w, &it, NULL);
    }
}

/* ---- the hole and the plan ---- */

struct range {
    uint64_t start, end;
};

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static size_t read_maps(char *buf, size_t cap)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;
    if (fd < 0)
        return 0;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    return len;
}

/* A free place, at or above 4 GiB, used neither by us nor by the image. */
static uint64_t find_hole(struct child *c, uint64_t size)
{
    struct ctx_image *img = c->img;
    size_t cap = img->proc->nvmas + 4096, n = 0;
    struct range *r = calloc(cap, sizeof *r);
    char *text = malloc(MAPS_TEXT);
    if (!r || !text)
        child_fail(c, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        uint64_t below = (v->flags & CTX_VMA_GROWSDOWN) ? (512UL << 20) : PAGE;
        r[n++] = (struct range){ v->start > below ? v->start - below : 0, v->end + PAGE };
    }
    read_maps(text, MAPS_TEXT);
    for (char *line = text; *line && n < cap;) {
        unsigned long long s, e;
        if (sscanf(line, "%llx-%llx", &s, &e) == 2)
            r[n++] = (struct range){ s > PAGE ? s - PAGE : 0, e + PAGE };
        char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    qsort(r, n, sizeof *r, cmp_range);
    uint64_t base = 1ULL << 32;
    for (size_t i = 0; i < n; i++) {
        if (r[i].start >= base + size)
            break;
        if (r[i].end > base)
            base = ALIGN(r[i].end);
    }
    free(r);
    free(text);
    if (base + size > 0x7ff000000000ULL)
        child_fail(c, ENOMEM, "no free address range for the restorer");
    return base;
}

static void fill_thread(struct rp_thread *t, const struct ctx_thread *s, uint64_t stack_top,
                        const struct ctx_thread_regs *tr, unsigned char *fpstate)
{
    memset(t, 0, sizeof *t);
    t->uc.uc_flags = 0x2 | 0x4; /* UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS */
    t->uc.uc_stack.ss_sp = (void *)(uintptr_t)s->altstack_sp;
    t->uc.uc_stack.ss_size = s->altstack_size;
    t->uc.uc_stack.ss_flags = (int)(s->altstack_flags & ~SS_ONSTACK);
    greg_t *g = t->uc.uc_mcontext.gregs;
    g[REG_RIP] = (greg_t)s->resume.rip;
    g[REG_RSP] = (greg_t)s->resume.rsp;
    g[REG_RBX] = (greg_t)s->resume.rbx;
    g[REG_RBP] = (greg_t)s->resume.rbp;
    g[REG_R12] = (greg_t)s->resume.r12;
    g[REG_R13] = (greg_t)s->resume.r13;
    g[REG_R14] = (greg_t)s->resume.r14;
    g[REG_R15] = (greg_t)s->resume.r15;
    g[REG_RAX] = 1; /* cr_snapshot() returns 1: "restored" */
    g[REG_EFL] = 0x202;
    g[REG_CSGSFS] = (greg_t)(0x33 | (0x2bULL << 48));
    t->uc.uc_mcontext.fpregs = NULL; /* FPU starts clean; the handler's return restores it */
    memcpy(&t->uc.uc_sigmask, &s->sigmask, sizeof s->sigmask);
    if (tr) {
        fill_regs(t, tr, fpstate);
        t->robust_head = s->robust_head;
        t->robust_len = s->robust_len;
    }
    t->fs_base = s->fs_base;
    t->clear_tid = s->clear_tid_addr;
    memcpy(t->comm, s->comm, sizeof t->comm);
    t->stack_top = stack_top;
}

/* Builds the hole: [restorer code][plan and tables][maps text][parking][stacks]. */
/* The program's pids (pid_map.c): the saved table, each entry now naming the process's
 * new pid, plus the processes whose pids changed here; an entry for a process not
 * restored with this one is dropped (its pid names another now).  Written over the
 * runtime's table by the restorer (two pokes), in every restart of an image that has
 * one, so that none keeps a stale table. */
static void poke_pid_map(struct child *c)
{
    const struct ctx_pid_map *saved = c->img->pid_map;
    struct ctx_pid_pair self = { c->img->proc->pid, (int32_t)getpid() };
    const struct ctx_pid_pair *now = c->pids ? c->pids : &self;
    uint32_t nnow = c->pids ? c->npids : 1;
    if (!saved) { /* (the other tasks of a step still learn this one's pids) */
        struct cr_pid_map none = { 0 };
        cr_step_pids(c, now, nnow, 0, &none);
        return;
    }
    const struct ctx_pid_pair *old = (const void *)(saved + 1);
    struct cr_pid_map map;
    memset(&map, 0, sizeof map);
    for (uint32_t i = 0; i < saved->n; i++)
        for (uint32_t k = 0; k < nnow; k++)
            if (now[k].known == old[i].real && map.n < CR_PID_MAP_MAX)
                map.e[map.n++] = (struct cr_pid_pair){ old[i].known, now[k].real };
    /* (a process restarted alone with --no-restore-pid, or as root, sees the pid it
     * gets: only a table it had follows it) */
    for (uint32_t k = 0; c->pids && k < nnow; k++) {
        int covered = now[k].known == now[k].real;
        for (uint32_t i = 0; !covered && i < saved->n; i++)
            covered = old[i].real == now[k].known;
        if (covered)
            continue;
        if (map.n == CR_PID_MAP_MAX)
            child_fail(c, E2BIG, "the program's table of the pids it knows by their first values "
                       "holds %u of them at most; restart with --pid-namespace", CR_PID_MAP_MAX);
        map.e[map.n++] = (struct cr_pid_pair){ now[k].known, now[k].real };
    }
    /* new pids in place: the parent, group and session outside the tree are now
     * cr_restart's; the program goes on seeing their old numbers (the group's and the
     * session's first, for job control, where one number named several of them) */
    const struct ctx_proc *pr = c->img->proc;
    pid_t outside[3][2] = { { pr->pgid, getpgid(0) }, { pr->sid, getsid(0) }, { pr->ppid, getppid() } };
    for (int w = 0; c->new_pids && w < 3; w++) {
        /* (the file has the kernel's numbers: one a restart before gave is known by the
         * program by its first, which the saved table has) */
        for (uint32_t i = 0; i < saved->n; i++)
            if (old[i].real == outside[w][0]) {
                outside[w][0] = old[i].known;
                break;
            }
        int known = outside[w][0] <= 0 || outside[w][1] <= 0 || outside[w][0] == outside[w][1];
        for (uint32_t i = 0; !known && i < map.n; i++)
            known = map.e[i].known == outside[w][0];
        for (uint32_t k = 0; !known && k < nnow; k++)
            known = now[k].known == outside[w][0];
        if (!known && map.n < CR_PID_MAP_MAX)
            map.e[map.n++] = (struct cr_pid_pair){ outside[w][0], outside[w][1] };
    }
    /* a task of a step: the pids of the node's other tasks, as their programs know
     * them and as they are now (restart_step_pids.c) */
    struct ctx_pid_pair mine[CR_PID_MAP_MAX];
    uint32_t nmine = 0;
    for (uint32_t k = 0; k < nnow && nmine < CR_PID_MAP_MAX; k++) {
        int32_t known = now[k].known; /* (the file has the kernel's numbers) */
        for (uint32_t i = 0; i < saved->n; i++)
            if (old[i].real == now[k].known) {
                known = old[i].known;
                break;
            }
        mine[nmine++] = (struct ctx_pid_pair){ known, now[k].real };
    }
    cr_step_pids(c, mine, nmine, 1, &map);
    if (!saved->n && !map.n)
        return; /* (nothing to write over an empty table) */
    uint64_t addr = saved->addr;
    int ok = saved->cap == CR_PID_MAP_MAX;
    for (uint32_t i = 0; ok && i < c->img->proc->nvmas; i++) {
        const struct ctx_vma *v = c->img->vmas[i];
        if (addr >= v->start && addr < v->end)
            ok = addr + sizeof map <= v->end && (v->prot & PROT_WRITE);
    }
    if (!ok || c->npokes + 2 > RP_POKES)
        child_fail(c, EINVAL, "the runtime's pid table (0x%llx, room for %u) is not in writable "
                   "memory of the image, or not of this version's size (%u)",
                   (unsigned long long)addr, saved->cap, CR_PID_MAP_MAX);
    const unsigned char *bytes = (const void *)&map;
    for (size_t off = 0; off < sizeof map; off += sizeof c->pokes[0].bytes) {
        struct rp_poke *k = &c->pokes[c->npokes++];
        memset(k, 0, sizeof *k);
        k->addr = addr + off;
        k->len = (uint32_t)(sizeof map - off < sizeof k->bytes ? sizeof map - off : sizeof k->bytes);
        memcpy(k->bytes, bytes + off, k->len);
    }
}
_Static_assert(sizeof(struct cr_pid_map) <= 2 * sizeof(((struct rp_poke *)0)->bytes),
               "the pid map fits two pokes");
_Static_assert(sizeof(struct cr_pid_pair) == sizeof(struct ctx_pid_pair), "one pair, one layout");

static __attribute__((noreturn)) void build_and_jump(struct child *c)
{
    struct ctx_image *img = c->img;
    const struct ctx_proc *p = img->proc;
    struct special cur[RP_SPECIALS];
    int ncur = current_specials(cur);
    size_t blob = ALIGN((size_t)(cr_restorer_blob_end - cr_restorer_blob));
    uint32_t nguards = 0;
    /* an incremental image's memory held by its parents (take_chain) */
    uint32_t npieces = img->chain ? img->chain->npieces : 0;
    for (uint32_t i = 0; i < p->nvmas; i++) {
        const struct ctx_range *runs;
        nguards += ctx_vma_guards(img->vmas[i], &runs);
    }
    size_t tables = sizeof(struct restore_plan) + p->nvmas * sizeof(struct rp_vma) +
                    nguards * sizeof(struct rp_range) +
                    (img->hdr.nblocks + npieces) * sizeof(struct rp_block) +
                    p->nthreads * sizeof(struct rp_thread) +
                    MAX_UNMAP * sizeof(struct rp_range) + (c->nhelpers + 1) * sizeof(int32_t) +
                    posix_lock_plan(img, NULL) * sizeof(struct rp_lock) +
                    thread_owner_plan(img, NULL) * sizeof(struct rp_owner) +
                    64 * 8; /* (one alignment per TAKE below) */
    size_t fpstates = 0; /* a ptrace image's threads' vector state, 64-byte aligned each */
    for (uint32_t i = 0; img->regs && i < p->nthreads; i++)
        if (img->regs[i])
            fpstates += (img->regs[i]->xsave_len + 4 + 63) & ~(size_t)63;
    tables += fpstates + 64;
    tables = ALIGN(tables);
    size_t park = 0;
    for (int i = 0; i < ncur; i++)
        park += ALIGN(cur[i].len);
    size_t stacks = 65536 + (size_t)p->nthreads * RP_THREAD_STACK;
    size_t sysv = 0; /* room to keep new System V segments attached */
    for (uint32_t i = 0; i < p->nvmas; i++)
        if (img->vmas[i]->flags & CTX_VMA_SYSV)
            sysv += ALIGN(img->vmas[i]->id.size);
    size_t size = blob + tables + MAPS_TEXT + park + stacks + sysv;
    uint64_t hole = find_hole(c, size);
    char *h = mmap((void *)(uintptr_t)hole, size, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (h == MAP_FAILED || (uint64_t)(uintptr_t)h != hole)
        child_fail(c, errno, "cannot map the restorer at 0x%llx: %s", (unsigned long long)hole,
                   strerror(errno));
    memcpy(h, cr_restorer_blob, (size_t)(cr_restorer_blob_end - cr_restorer_blob));

    struct restore_plan *plan = (void *)(h + blob);
    char *cur_off = (char *)(plan + 1);
#define TAKE(n, type) ((type *)((cur_off = (char *)(((uintptr_t)cur_off + 63) & ~63UL) + (n) * sizeof(type)) - (n) * sizeof(type)))
    struct rp_vma *vmas = TAKE(p->nvmas, struct rp_vma);
    struct rp_block *blocks = TAKE(img->hdr.nblocks + npieces, struct rp_block);
    struct rp_thread *threads = TAKE(p->nthreads, struct rp_thread);
    struct rp_range *unmap = TAKE(MAX_UNMAP, struct rp_range);
    int32_t *closefds = TAKE(c->nhelpers + 1, int32_t);
    struct rp_range *guards = TAKE(nguards, struct rp_range);
    struct rp_lock *locks = TAKE(posix_lock_plan(img, NULL), struct rp_lock);
    struct rp_owner *owners = TAKE(thread_owner_plan(img, NULL), struct rp_owner);
    unsigned char *fpstate = TAKE(fpstates, unsigned char);
    char *text = h + blob + tables;
    char *parking = text + MAPS_TEXT;
    char *stack_area = parking + park;
    make_sysv_segments(c, stack_area + stacks); /* after the restored RLIMIT_MEMLOCK */

    plan->hole_start = hole;
    plan->hole_len = size;
    plan->ctx_fd = img->fd;
    plan->status_fd = c->status_fd;
    plan->nvmas = p->nvmas;
    plan->nblocks = 0; /* set once the memory blocks are counted */
    plan->nthreads = p->nthreads;
    plan->vmas_off = (uint64_t)((char *)vmas - (char *)plan);
    plan->blocks_off = (uint64_t)((char *)blocks - (char *)plan);
    plan->threads_off = (uint64_t)((char *)threads - (char *)plan);
    plan->unmap_off = (uint64_t)((char *)unmap - (char *)plan);
    plan->close_off = (uint64_t)((char *)closefds - (char *)plan);
    plan->guards_off = (uint64_t)((char *)guards - (char *)plan);
    plan->nguards = 0;
    plan->nlocks = posix_lock_plan(img, locks);
    plan->locks_off = (uint64_t)((char *)locks - (char *)plan);
    plan->nowners = thread_owner_plan(img, owners);
    plan->stop_first = (uint32_t)c->o->stop_first;
    /* a ptrace image's threads wait before the program until cr_restart has put back
     * what it does from outside (cr_restart_spawn, or cr_restart_spawn_tree for every
     * process of a tree; not with --stop) */
    plan->use_gate = (c->img->hdr.flags & CTX_HDR_PTRACE) && !c->o->stop_first;
    /* ... and a task of a step until every task of it is restored (restart_step_pids.c) */
    plan->use_gate |= !c->pool && cr_step_gated(c->o);
    plan->member = c->member;
    /* /proc/self is named as the mount of /proc sees it: cr_restart's, the host's */
    char self[32];
    ssize_t sl = readlink("/proc/self", self, sizeof self - 1);
    self[sl > 0 ? sl : 0] = 0;
    plan->host_pid = sl > 0 ? (int32_t)atoi(self) : 0;
    plan->owners_off = (uint64_t)((char *)owners - (char *)plan);
    plan->uffd = c->uffd;
    unsigned char *lazy = calloc(p->nvmas + 1, 1);
    if (!lazy)
        child_fail(c, ENOMEM, "out of memory");
    if (c->uffd >= 0)
        cr_lazy_vmas(img, lazy);
    for (uint32_t i = 0; i < p->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        vmas[i] = (struct rp_vma){ v->start, v->end, v->pgoff, v->prot, v->kind, v->flags,
                                   c->map_fds[i], 0, plan->nguards, 0,
                                   lazy[i] };
        const struct ctx_range *runs;
        uint32_t n = ctx_vma_guards(v, &runs);
        for (uint32_t k = 0; k < n; k++)
            guards[plan->nguards++] = (struct rp_range){ runs[k].start, runs[k].end };
        vmas[i].nguards = n;
        for (uint32_t k = 0; v->kind == CTX_VMA_SHARED_ANON && c->pool && k < c->pool->nmems; k++)
            if (c->pool->mems[k].fd >= 0 && c->pool->mems[k].dev == v->id.dev &&
                c->pool->mems[k].ino == v->id.ino) {
                vmas[i].kind = CTX_VMA_FILE_SHARED; /* the tree's one copy of it */
                vmas[i].fd = c->pool->mems[k].fd;
            }
        if (c->anon_fds[i] >= 0) { /* one memory with other mappings: share_anon_maps */
            vmas[i].kind = CTX_VMA_FILE_SHARED;
            vmas[i].fd = c->anon_fds[i];
        }
        if (v->kind == CTX_VMA_SHARED_ANON && c->map_fds[i] >= 0) { /* a memfd's, see open_memfd_maps */
            vmas[i].kind = CTX_VMA_FILE_SHARED;
            vmas[i].fd = c->map_fds[i];
        }
        if (v->flags & CTX_VMA_SYSV)
            vmas[i].fd = c->shm_ids[i]; /* the segment to attach */
    }
    uint32_t nmem = 0;
    for (uint32_t i = 0; i < img->hdr.nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        if ((b->vma & CTX_BLOCK_FILE) ||
            (img->vmas[b->vma]->kind == CTX_VMA_SHARED_ANON &&
             (c->map_fds[b->vma] >= 0 || c->shm_ids[b->vma] >= 0)))
            continue; /* deleted files' contents: put back with the fds, a memfd's too; a
                         System V segment's by make_sysv_segments */
        if (vmas[b->vma].lazy)
            continue; /* cr_restart's, on demand */
        int fd;
        uint64_t off;
        ctx_block_source(img, i, &fd, &off);
        blocks[nmem++] = (struct rp_block){ b->addr, off, b->npages, img->crcs[i], fd, 0 };
        vmas[b->vma].has_data = 1;
    }
    for (uint32_t i = 0; i < npieces; i++) { /* (a parent's fd is read-only: the restorer's
                                                 hole punch, for memfds, cannot touch it) */
        const struct ctx_piece *pc = &img->chain->pieces[i];
        blocks[nmem++] = (struct rp_block){ pc->addr, pc->off, pc->npages, pc->crc, pc->fd, 0 };
        vmas[pc->vma].has_data = 1;
    }
    plan->nblocks = nmem;
    for (uint32_t i = 0; i < p->nthreads; i++) {
        const struct ctx_thread_regs *tr = img->regs ? img->regs[i] : NULL;
        fill_thread(&threads[i], img->threads[i],
                    (uint64_t)(uintptr_t)(stack_area + 65536 + (i + 1) * (size_t)RP_THREAD_STACK),
                    tr, fpstate);
        if (tr)
            fpstate += (tr->xsave_len + 4 + 63) & ~(size_t)63;
        /* BLCR's cr_restart became the process: killing it (SIGKILL too) killed the
         * program.  The runtime's own thread (no interrupted frame of the program) holds
         * the parent-death signal, which the program's threads would report */
        if (c->stands_in && !tr && !img->threads[i]->frame_addr && img->threads[i]->resume.rip)
            threads[i].standin_parent = (int32_t)getppid();
    }
    plan->nspecial = 0;
    char *pk = parking;
    for (uint32_t i = 0; i < p->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        const struct special *s = find_special(cur, ncur, v->kind);
        if (!s)
            continue;
        plan->special[plan->nspecial++] = (struct rp_special){ s->start, s->len, v->start,
                                                              (uint64_t)(uintptr_t)pk };
        pk += ALIGN(s->len);
    }
    plan->mm = (struct rp_mm_map){ p->start_code, p->end_code, p->start_data, p->end_data,
                                   p->start_brk, p->brk, p->start_stack, p->arg_start, p->arg_end,
                                   p->env_start, p->env_end, 0, p->auxv_words * 8, (uint32_t)-1 };
    memcpy(plan->auxv, p->auxv, p->auxv_words * 8);
    plan->runtime_state = p->runtime_state;
    poke_pid_map(c);
    plan->npokes = c->npokes;
    memcpy(plan->pokes, c->pokes, sizeof plan->pokes);
    if (c->o->src)
        snprintf(plan->src, sizeof plan->src, "%s", c->o->src);
    /* RLIMIT_NOFILE last (the restorer): our helper fds may lie above a lower limit */
    const struct ctx_proc *pr = c->img->proc;
    struct rlimit nf;
    if (RLIMIT_NOFILE < CTX_NRLIMIT && getrlimit(RLIMIT_NOFILE, &nf) == 0) {
        plan->nofile[1] = pr->rlim_max[RLIMIT_NOFILE] < nf.rlim_max ? pr->rlim_max[RLIMIT_NOFILE]
                                                                    : nf.rlim_max;
        plan->nofile[0] = pr->rlim_cur[RLIMIT_NOFILE] < plan->nofile[1] ? pr->rlim_cur[RLIMIT_NOFILE]
                                                                        : plan->nofile[1];
        plan->set_nofile = 1;
    }
    plan->nclose = 0;
    for (uint32_t i = 0; i < c->nhelpers; i++)
        closefds[plan->nclose++] = c->helpers[i];
    /* the exe link (/proc/PID/exe), where we may set it: the saved executable, if it is
     * still the same file; the restorer closes the fd again */
    plan->drop_caps = (uint32_t)c->drop_caps_late;
    if (c->drop_caps_late || (getuid() == 0 && cr_restart_has_restore_cap())) {
        char ebuf[CTX_PATH_MAX];
        int moved;
        const char *exe = relocate(c->o, c->img->exe, ebuf, sizeof ebuf, &moved);
        int efd = exe[0] == '/' ? open(exe, O_RDONLY | O_CLOEXEC) : -1;
        struct stat est;
        if (efd >= 0 && fstat(efd, &est) == 0 && same_file(&c->img->proc->exe_id, &est, moved)) {
            plan->mm.exe_fd = (uint32_t)efd;
            closefds[plan->nclose++] = efd;
        } else if (efd >= 0) {
            close(efd);
        }
    }

    /* signal handlers point into memory that is not there yet: block everything */
    sigset_t all;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    for (int sig = 1; sig < CTX_NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        syscall(SYS_rt_sigaction, sig, &p->sigactions[sig], NULL, 8);
    }

    /* what to unmap: everything of ours but the hole and the vdso family the image has */
    read_maps(text, MAPS_TEXT);
    uint32_t nu = 0;
    for (char *line = text; *line;) {
        unsigned long long s, e;
        char name[64] = "";
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %63s", &s, &e, name) >= 2 &&
            (s < hole || s >= hole + size) && /* the hole, and System V segments kept in it */
            !(!strcmp(name, "[vdso]") && image_has(img, CTX_VMA_VDSO)) &&
            !(!strcmp(name, "[vvar]") && image_has(img, CTX_VMA_VVAR)) &&
            !(!strcmp(name, "[vvar_vclock]") && image_has(img, CTX_VMA_VVAR_VCLOCK)) &&
            strcmp(name, "[vsyscall]")) {
            if (nu == MAX_UNMAP)
                child_fail(c, E2BIG, "more than %d mappings in cr_restart", MAX_UNMAP);
            unmap[nu++] = (struct rp_range){ s, e };
        }
        char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : line + strlen(line);
    }
    plan->nunmap = nu;

    /* the kernel must stop writing into our rseq area before it disappears */
    if (&__rseq_size && &__rseq_offset && __rseq_size > 0) {
        char *tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        unsigned len = __rseq_size < 32 ? 32 : __rseq_size;
        if (syscall(SYS_rseq, tp + __rseq_offset, len, 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG_X86) < 0 &&
            errno != EINVAL)
            child_fail(c, errno, "cannot unregister rseq: %s", strerror(errno));
    }
    uint64_t sp = (uint64_t)(uintptr_t)(stack_area + 65536 - 64);
    __asm__ volatile("movq %0, %%rsp\n\t"
                     "jmp *%1\n\t"
                     :
                     : "r"(sp), "r"(h), "D"(plan)
                     : "memory");
    __builtin_unreachable();
}

/* Root restarting a tree of several users' processes (a file root wrote) gives each
 * its own identity back before touching any file; a restart that already became the
 * file's owner (restart_identity.c) only drops what it kept for --restore-pid. */
static void become_owner(struct child *c)
{
    const struct ctx_proc *p = c->img->proc;
    /* CAP_CHECKPOINT_RESTORE kept by root for the user or granted by the crctl module
     * (and nothing else: cr_restart_drop_caps keeps no other) stays until the restorer
     * has given back the exe link, which needs it; the restorer drops it then */
    if (getuid() != 0 && cr_restart_has_restore_cap()) {
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        c->drop_caps_late = 1;
        return;
    }
    cr_restart_drop_caps();
    if (getuid() != 0 || (p->uid == 0 && p->euid == 0))
        return;
    struct passwd *pw = getpwuid(p->uid);
    int rc = pw ? initgroups(pw->pw_name, p->gid) : setgroups(0, NULL);
    if (rc < 0 || setresgid(p->gid, p->egid, p->egid) < 0 || setresuid(p->uid, p->euid, p->euid) < 0)
        child_fail(c, errno, "cannot take the identity of uid %u gid %u: %s", p->uid, p->gid,
                   strerror(errno));
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* as the user's own processes are */
}

/* An incremental image: the images of its chain stay open for the restorer (above
 * the fds to restore), and its runs of their memory become pieces to read. */
static void take_chain(struct child *c, struct ctx_image *img)
{
    struct ctx_chain *ch = img->chain;
    char e[700];
    for (uint32_t k = 0; k < ch->n; k++) {
        struct ctx_image *a = &ch->images[k];
        int rc = ctx_unpack(a, e, sizeof e);
        if (rc < 0)
            child_fail(c, -rc, "%s: %s", ch->paths[k], e);
        a->fd = move_high(c, a->fd);
        add_helper(c, a->fd);
        if (a->unpack_off) {
            a->unpack_fd = move_high(c, a->unpack_fd);
            add_helper(c, a->unpack_fd);
        }
    }
    int rc = ctx_chain_resolve(img, e, sizeof e);
    if (rc < 0)
        child_fail(c, -rc, "%s", e);
}

void cr_restart_child(struct child *c)
{
    struct ctx_image *img = c->img;
    int maxfd = 2, uffd = -1;
    c->uffd = -1;
    if (c->o->lazy && !c->pool) {
        /* of this address space, the restored one; made before any privilege goes
         * (its fork event needs CAP_SYS_PTRACE), and handed to cr_restart at once */
        char e[600];
        uffd = cr_lazy_open_uffd(e, sizeof e);
        if (uffd < 0)
            child_fail(c, -uffd, "lazy restart: %s", e);
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, one = 'U';
        struct iovec io = { &one, 1 };
        struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &uffd, sizeof uffd);
        if (sendmsg(c->lazy_sock, &mh, MSG_NOSIGNAL) != 1)
            child_fail(c, errno, "lazy restart: cannot hand the userfaultfd to cr_restart: %s",
                       strerror(errno));
        close(c->lazy_sock);
    }
    become_owner(c);
    for (uint32_t i = 0; i < img->proc->nfds; i++)
        if (img->fds[i]->fd > maxfd)
            maxfd = img->fds[i]->fd;
    c->high = maxfd + 1;
    uint32_t npool = c->pool ? 2 * c->pool->npipes + c->pool->norigins + c->pool->nsocks +
                               c->pool->nmems + c->pool->nptys : 0;
    c->helpers = calloc(img->proc->nvmas + 10 + npool + 2 * CTX_CHAIN_MAX, sizeof *c->helpers);
    c->map_fds = calloc(img->proc->nvmas + 1, sizeof *c->map_fds);
    c->shm_ids = calloc(img->proc->nvmas + 1, sizeof *c->shm_ids);
    c->anon_fds = calloc(img->proc->nvmas + 1, sizeof *c->anon_fds);
    if (!c->helpers || !c->map_fds || !c->shm_ids || !c->anon_fds)
        child_fail(c, ENOMEM, "out of memory");
    c->status_fd = move_high(c, c->status_fd);
    img->fd = move_high(c, img->fd);
    add_helper(c, c->status_fd);
    add_helper(c, img->fd);
    if (uffd >= 0) { /* closed by the restorer, once the regions are registered */
        c->uffd = move_high(c, uffd);
        add_helper(c, c->uffd);
    }
    if (img->zblocks) { /* compressed blocks: decompressed once, read like the others */
        char e[600];
        int rc = ctx_unpack(img, e, sizeof e);
        if (rc < 0)
            child_fail(c, -rc, "%s", e);
        img->unpack_fd = move_high(c, img->unpack_fd);
        add_helper(c, img->unpack_fd);
    }
    if (img->chain)
        take_chain(c, img);
    for (int i = 0; i < 3; i++) {
        c->stdio[i] = fcntl(i, F_DUPFD_CLOEXEC, c->high);
        if (c->stdio[i] >= 0)
            add_helper(c, c->stdio[i]);
    }
    /* as stdio: what the new step hands its task, for the image's link to the old one */
    c->step_pmi = -1;
    const char *pmi = getenv("PMI_FD");
    for (uint32_t i = 0; pmi && i < c->img->proc->nfds; i++)
        if (c->img->fds[i]->kind == CTX_FD_PMI && !(c->img->fds[i]->flags & CTX_FD_PMI_PMIX) &&
            c->step_pmi < 0 &&
            (c->step_pmi = fcntl(atoi(pmi), F_DUPFD_CLOEXEC, c->high)) >= 0)
            add_helper(c, c->step_pmi);
    for (uint32_t i = 0; c->pool && i < c->pool->npipes; i++) {
        add_helper(c, c->pool->pipes[i].end[0]);
        add_helper(c, c->pool->pipes[i].end[1]);
    }
    for (uint32_t i = 0; c->pool && i < c->pool->norigins; i++)
        add_helper(c, c->pool->origins[i].obj);
    for (uint32_t i = 0; c->pool && i < c->pool->nsocks; i++)
        add_helper(c, c->pool->socks[i].fd);
    for (uint32_t i = 0; c->pool && i < c->pool->nmems; i++) /* mapped by the restorer */
        if (c->pool->mems[i].fd >= 0)
            add_helper(c, c->pool->mems[i].fd);
    for (uint32_t i = 0; c->pool && i < c->pool->nptys; i++)
        add_helper(c, c->pool->ptys[i].master);
    if (c->keep_fd > 0)
        c->keep_fd = move_high(c, c->keep_fd), add_helper(c, c->keep_fd);
    close_others(c);
    cr_step_shm_named(c); /* a file the tasks of the step mapped, put back first */
    open_mapped_files(c);
    /* what it shared with other tasks of the step (an fd of it is restored onto it) */
    cr_step_shm_files(c, add_helper);
    restore_fds(c);
    /* the tree's shared objects are in place where this process has them */
    for (uint32_t i = 0; c->pool && i < c->pool->npipes; i++) {
        close(c->pool->pipes[i].end[0]);
        close(c->pool->pipes[i].end[1]);
    }
    for (uint32_t i = 0; c->pool && i < c->pool->norigins; i++)
        close(c->pool->origins[i].obj);
    for (uint32_t i = 0; c->pool && i < c->pool->nsocks; i++)
        close(c->pool->socks[i].fd);
    for (uint32_t i = 0; c->pool && i < c->pool->nptys; i++)
        close(c->pool->ptys[i].master);
    if (c->keep_fd > 0)
        close(c->keep_fd);
    /* the stdio copies are closed now; forget them */
    uint32_t keep = 0;
    for (uint32_t i = 0; i < c->nhelpers; i++)
        if (c->helpers[i] != c->stdio[0] && c->helpers[i] != c->stdio[1] &&
            c->helpers[i] != c->stdio[2] && fcntl(c->helpers[i], F_GETFD) >= 0)
            c->helpers[keep++] = c->helpers[i];
    c->nhelpers = keep;
    open_memfd_maps(c);
    share_anon_maps(c);
    restore_process_state(c);
    build_and_jump(c);
}

/* The child's userfaultfd (lazy restart), or -1 if it failed before sending it. */
static int receive_uffd(int sock)
{
    char cbuf[CMSG_SPACE(sizeof(int))], one;
    struct iovec io = { &one, 1 };
    struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&mh) : NULL;
    int fd = -1;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
        cm->cmsg_len == CMSG_LEN(sizeof(int)))
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

/* fork(), or with want > 0 a child of ours whose pid is want (-1 and errno: EEXIST when
 * it is taken).  cr_restart may have threads (its progress): the raw clone3 that sets
 * the pid is made by a single-threaded intermediate child, with CLONE_PARENT. */
static pid_t fork_with_pid(pid_t want)
{
    if (want <= 0)
        return fork();
    pid_t mid = fork();
    if (mid < 0)
        return -1;
    if (mid == 0) {
        pid_t c = cr_fork_as(want, CLONE_PARENT);
        if (c == 0)
            return 0; /* the restored process, our parent's child */
        _exit(c < 0 ? errno : 0);
    }
    int status;
    while (waitpid(mid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        errno = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
        return -1;
    }
    return want;
}

pid_t cr_restart_spawn(struct ctx_image *img, const struct cr_restart_opts *o, struct cr_lazy **lazy,
                       char *err, size_t len)
{
    int pfd[2], sv[2] = { -1, -1 };
    *lazy = NULL;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return cr_say(err, len, errno, "cannot create a pipe: %s", strerror(errno));
    if (o->lazy && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return cr_say(err, len, e, "cannot create a socket pair: %s", strerror(e));
    }
    fflush(NULL);
    pid_t pid = fork_with_pid(o->want_pid);
    if (pid < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        if (sv[0] >= 0)
            close(sv[0]), close(sv[1]);
        if (o->want_pid > 0 && e == EEXIST)
            return cr_say(err, len, EBUSY, "--restore-pid: pid %d is in use; nothing was started "
                          "(restart without --restore-pid for a new pid)", (int)o->want_pid);
        if (o->want_pid > 0)
            return cr_say(err, len, e, "cannot create the process with its old pid %d: %s",
                          (int)o->want_pid, strerror(e));
        return cr_say(err, len, e, "cannot fork: %s", strerror(e));
    }
    if (pid == 0) {
        close(pfd[0]);
        /* a group or session leader leads one again (its new pid names them), unless
         * it had a terminal: then it stays in cr_restart's foreground group, which the
         * terminal's keys reach, and may read from it without SIGTTIN */
        const struct ctx_proc *p = img->proc;
        if (p->ctty_pts == 0 && p->sid == p->pid && !o->keep_sid)
            setsid();
        else if (p->ctty_pts == 0 && p->pgid == p->pid && !o->keep_pgid)
            setpgid(0, 0);
        struct child c = { .img = img, .o = o, .status_fd = pfd[1], .lazy_sock = sv[1] };
        /* new pids in place, as a tree's: its table names it, its parent, group and
         * session by the numbers it had (poke_pid_map) */
        struct ctx_pid_pair self = { p->pid, (int32_t)getpid() };
        if (o->new_pids)
            c.pids = &self, c.npids = 1, c.new_pids = 1;
        c.stands_in = 1;
        if (sv[0] >= 0)
            close(sv[0]);
        cr_restart_child(&c);
    }
    close(pfd[1]);
    if (sv[0] >= 0) {
        /* the monitor serves the restorer's first touches already */
        close(sv[1]);
        int uffd = receive_uffd(sv[0]);
        close(sv[0]);
        if (uffd >= 0 && !(*lazy = cr_lazy_start(img, uffd, pid, err, len))) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(pfd[0]);
            return -ENOMEM;
        }
    }
    struct rp_status st;
    ssize_t n;
    do
        n = read(pfd[0], &st, sizeof st);
    while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n == (ssize_t)sizeof st && st.err == 0) {
        if (*lazy)
            cr_lazy_arm(*lazy);
        char why[300];
        /* no runtime to remove the restorer (nor a SIGSTOPped one before its threads) */
        int hole = (img->hdr.flags & CTX_HDR_PTRACE) && !o->stop_first && st.hole_len ?
                   cr_restart_unmap_hole(pid, st.hole_start, st.hole_len, st.gate, img, why, sizeof why) : 0;
        if (hole < 0 && st.gate && !cr_restart_gate_opened(pid, st.gate)) {
            /* its threads still wait at the gate: it never ran, and must not run without
             * what could not be put back */
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            if (*lazy) {
                cr_lazy_finish(*lazy, NULL, 0, NULL, 0);
                *lazy = NULL;
            }
            return cr_say(err, len, -hole, "the restored process could not be completed: %s", why);
        }
        if (hole < 0)
            fprintf(stderr, "cr_restart: warning: process %d keeps the restorer's %llu KiB "
                    "at 0x%llx: %s\n", (int)pid, (unsigned long long)(st.hole_len >> 10),
                    (unsigned long long)st.hole_start, why);
        if (cr_step_gated(o)) { /* a task of a step (a ptrace image's gate is open) */
            int ptrace = (img->hdr.flags & CTX_HDR_PTRACE) != 0;
            int rc = cr_step_start(o, pid, ptrace ? 0 : st.gate, err, len);
            if (rc < 0) { /* it never ran */
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                if (*lazy) {
                    cr_lazy_finish(*lazy, NULL, 0, NULL, 0);
                    *lazy = NULL;
                }
                return rc;
            }
        }
        return pid;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (*lazy) { /* its address space is gone: the monitor stops */
        cr_lazy_finish(*lazy, NULL, 0, NULL, 0);
        *lazy = NULL;
    }
    if (n == (ssize_t)sizeof st) {
        st.msg[sizeof st.msg - 1] = 0;
        return cr_say(err, len, st.err, "%s: %s", st.msg, strerror(st.err));
    }
    if (WIFSIGNALED(status))
        return cr_say(err, len, EIO, "the restorer died with signal %d (%s)", WTERMSIG(status),
                   strsignal(WTERMSIG(status)));
    return cr_say(err, len, EIO, "the restorer exited with status %d before the process was restored",
               WEXITSTATUS(status));
}
