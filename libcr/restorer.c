/* The restorer: the last step of a restart, run inside the hole after cr_restart has
 * prepared the plan.  No libc, no stack protector, raw syscalls only: it unmaps
 * cr_restart, moves the vdso to where the image expects it, maps the image's memory,
 * fills it from the context file, sets the mm fields, rebuilds the threads and
 * rt_sigreturns each of them into its snapshot inside the runtime's signal handler.
 * Built position independent into a flat blob (see Makefile.am). */
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <asm/prctl.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>

#include "context_format.h"
#include "crc32c.h"
#include "restore_plan.h"

#pragma GCC visibility push(hidden)

#define PAGE 4096UL
#define MAP_FIXED_NOREPLACE_ 0x100000
#define MADV_GUARD_INSTALL_ 102
#define __NR_mseal_ 462
#define SHM_RDONLY_ 010000
#define SHM_EXEC_ 0100000
/* _IOWR(UFFDIO, _UFFDIO_REGISTER, struct uffdio_register), spelled out: the ioctl
 * macros do not expand in this freestanding build */
#define UFFDIO_REGISTER_ 0xc020aa00UL
_Static_assert(sizeof(struct uffdio_register) == 32, "struct uffdio_register changed size");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* Entry: rdi = plan, rsp = top of our stack in the hole. */
__asm__(".section .text.entry,\"ax\",@progbits\n"
        ".globl restorer_entry\n"
        "restorer_entry:\n"
        "  andq $-16, %rsp\n"
        "  call restorer_main\n"
        "  ud2\n"
        ".previous\n");

/* long restorer_clone(flags, stack, ctid, tls, thread): the child starts in
 * restorer_thread(thread) on its own stack, which rt_sigreturns into the prepared
 * frame; it never comes back here. */
struct rp_thread;
long restorer_clone(unsigned long flags, uint64_t stack, uint64_t ctid, uint64_t tls,
                    struct rp_thread *thread);
__asm__(".text\n"
        "restorer_clone:\n"
        "  movq %r8, -8(%rsi)\n"   /* the thread's plan, on top of the child's stack */
        "  leaq -8(%rsi), %rsi\n"
        "  movq %rdx, %r10\n"      /* child_tid */
        "  movq %rcx, %r8\n"       /* tls */
        "  xorl %edx, %edx\n"      /* parent_tid */
        "  movl $56, %eax\n"       /* __NR_clone */
        "  syscall\n"
        "  testq %rax, %rax\n"
        "  jnz 1f\n"
        "  movq (%rsp), %rdi\n"    /* child: restorer_thread(thread) */
        "  andq $-16, %rsp\n"
        "  call restorer_thread\n"
        "  ud2\n"
        "1: ret\n");

/* A thread's last steps: its rseq area registered again (a ptrace image's; the runtime
 * does it for its own), its name, then rt_sigreturn into its frame. */
__attribute__((used, noreturn)) void restorer_thread(struct rp_thread *t)
{
    if (t->rseq_addr)
        sys6(__NR_rseq, (long)t->rseq_addr, t->rseq_len, 0, t->rseq_sig, 0, 0);
    if (t->robust_head)
        sys(__NR_set_robust_list, t->robust_head, t->robust_len, 0);
    if (t->comm[0]) /* its name, not cr_restart's (the runtime sets it again for its own) */
        sys(__NR_prctl, PR_SET_NAME, t->comm, 0);
    /* killed with cr_restart, which stands for it (its parent); a process handed over
     * already to another parent (BLCR's restart API kills cr_restart while the process
     * waits stopped, --stop, before its threads exist: restart_api.c) is that one's */
    if (t->standin_parent) {
        sys(__NR_prctl, PR_SET_PDEATHSIG, 9 /* SIGKILL */, 0);
        if (sys(__NR_getppid, 0, 0, 0) != t->standin_parent)
            sys(__NR_prctl, PR_SET_PDEATHSIG, 0, 0);
    }
    /* a ptrace image's: until cr_restart has put back, from outside, what the runtime
     * would (its robust list, registered above, tells it the thread); signals are
     * blocked here, so those it queues again wait */
    if (t->gate) {
        uint32_t *g = (uint32_t *)(uintptr_t)t->gate;
        __atomic_add_fetch(&g[0], 1, __ATOMIC_SEQ_CST);
        struct { long s, ns; } nap = { 0, 1000000 };
        for (long i = 0; !__atomic_load_n(&g[1], __ATOMIC_ACQUIRE); i++) {
            if (i == 120000) /* 2 minutes: cr_restart is gone, nothing will be put back */
                sys(__NR_exit_group, 70, 0, 0);
            sys(__NR_nanosleep, (long)&nap, 0, 0);
        }
    }
    __asm__ volatile("movq %0, %%rsp\n"
                     "movl $15, %%eax\n"
                     "syscall\n"
                     "ud2\n" ::"r"(&t->uc)
                     : "memory");
    __builtin_unreachable();
}

static void *memcpy_(void *d, const void *s, size_t n)
{
    char *dd = d;
    const char *ss = s;
    while (n--)
        *dd++ = *ss++;
    return d;
}

/* gcc may emit calls to these even in freestanding code */
void *memcpy(void *d, const void *s, size_t n) { return memcpy_(d, s, n); }
void *memset(void *d, int c, size_t n)
{
    char *dd = d;
    while (n--)
        *dd++ = (char)c;
    return d;
}


static char *put_str(char *p, char *end, const char *s)
{
    while (*s && p < end)
        *p++ = *s++;
    return p;
}

static char *put_hex(char *p, char *end, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) && n < 16);
    p = put_str(p, end, "0x");
    while (n && p < end)
        *p++ = tmp[--n];
    return p;
}

/* Reports a failure to cr_restart and exits; the parent prints it. */
__attribute__((noreturn)) static void die(const struct restore_plan *p, long err, const char *what, uint64_t addr)
{
    struct rp_status st;
    memset(&st, 0, sizeof st);
    st.err = (int32_t)(err < 0 ? -err : err);
    char *q = put_str(st.msg, st.msg + sizeof st.msg - 1, what);
    if (addr) {
        q = put_str(q, st.msg + sizeof st.msg - 1, " at ");
        put_hex(q, st.msg + sizeof st.msg - 1, addr);
    }
    sys(__NR_write, p->status_fd, &st, sizeof st);
    for (;;)
        sys(__NR_exit_group, 127, 0, 0);
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    char *b = buf;
    while (len) {
        long n = sys6(__NR_pread64, fd, (long)b, (long)len, (long)off, 0, 0);
        if (n == -4) /* EINTR */
            continue;
        if (n <= 0)
            return n < 0 ? (int)n : -5; /* EIO on a short file */
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static void advise(const struct restore_plan *p, const struct rp_vma *v, long advice, const char *what)
{
    long r = sys(__NR_madvise, v->start, v->end - v->start, advice);
    if (r < 0)
        die(p, r, what, v->start);
}

static void map_vma(const struct restore_plan *p, const struct rp_vma *v)
{
    long flags, prot = v->prot;
    int fd = -1;
    uint32_t kind = v->kind;
    if (v->flags & CTX_VMA_SAVED) /* every page is in the image: no file needed */
        kind = kind == CTX_VMA_FILE_SHARED ? CTX_VMA_SHARED_ANON : CTX_VMA_ANON;
    switch (kind) {
    case CTX_VMA_ANON:
        flags = MAP_PRIVATE | MAP_ANONYMOUS;
        if (v->flags & CTX_VMA_GROWSDOWN)
            flags |= MAP_GROWSDOWN;
        break;
    case CTX_VMA_SHARED_ANON:
        flags = MAP_SHARED | MAP_ANONYMOUS;
        break;
    case CTX_VMA_FILE_PRIVATE:
        flags = MAP_PRIVATE;
        fd = v->fd;
        break;
    case CTX_VMA_FILE_SHARED:
        flags = MAP_SHARED;
        fd = v->fd;
        break;
    default:
        return; /* vdso, vvar: moved, not mapped */
    }
    if (v->flags & CTX_VMA_SYSV) { /* made, filled and removed already by cr_restart */
        long rdonly = !(v->flags & CTX_VMA_MAYWRITE);
        long r = sys(__NR_shmat, v->fd, v->start, (rdonly ? SHM_RDONLY_ : 0) | (prot & 0x4 ? SHM_EXEC_ : 0));
        if (r != (long)v->start)
            die(p, r < 0 ? r : -17, "cannot attach the System V shared memory segment", v->start);
        if (prot != (0x1 | (rdonly ? 0 : 0x2) | (prot & 0x4))) { /* mprotected since */
            r = sys(__NR_mprotect, v->start, v->end - v->start, prot);
            if (r < 0)
                die(p, r, "cannot set the protection of memory", v->start);
        }
    } else {
        if (v->has_data)
            prot |= 0x1 | 0x2; /* PROT_READ|PROT_WRITE while filling */
        long r = sys6(__NR_mmap, (long)v->start, (long)(v->end - v->start), prot,
                      flags | MAP_FIXED_NOREPLACE_, fd, (long)v->offset);
        if (r != (long)v->start)
            die(p, r < 0 ? r : -17, "cannot map memory", v->start);
    }
    /* before the data comes in, so that it lands in pages of the right size */
    if (v->flags & CTX_VMA_HUGEPAGE)
        advise(p, v, MADV_HUGEPAGE, "cannot advise MADV_HUGEPAGE for memory");
    if (v->flags & CTX_VMA_NOHUGEPAGE)
        advise(p, v, MADV_NOHUGEPAGE, "cannot advise MADV_NOHUGEPAGE for memory");
}

/* What the process had set on the region once it holds its data: the advice fork and
 * core dumps look at, and the lock (within RLIMIT_MEMLOCK, as restored: a process
 * that ran locked must not run on unlocked). */
static void advise_filled(const struct restore_plan *p, const struct rp_vma *v)
{
    if (v->flags & CTX_VMA_DONTFORK)
        advise(p, v, MADV_DONTFORK, "cannot advise MADV_DONTFORK for memory");
    if (v->flags & CTX_VMA_WIPEONFORK)
        advise(p, v, MADV_WIPEONFORK, "cannot advise MADV_WIPEONFORK for memory");
    if (v->flags & CTX_VMA_DONTDUMP)
        advise(p, v, MADV_DONTDUMP, "cannot advise MADV_DONTDUMP for memory");
    if (v->flags & CTX_VMA_LOCKED) {
        long r = sys(__NR_mlock2, v->start, v->end - v->start,
                     (v->flags & CTX_VMA_LOCKONFAULT) ? MLOCK_ONFAULT : 0);
        if (r < 0)
            die(p, r, "cannot mlock the memory the process had locked (raise RLIMIT_MEMLOCK: "
                "ulimit -l)", v->start);
    }
    if (v->flags & CTX_VMA_SEALED) { /* last: nothing may change the region after */
        long r = sys(__NR_mseal_, v->start, v->end - v->start, 0);
        if (r < 0)
            die(p, r, "cannot seal memory again (mseal, Linux 6.10)", v->start);
    }
}

/* Guard pages hold no data: installed once the region is filled, before any lock. */
static void install_guards(const struct restore_plan *p, const struct rp_vma *v)
{
    const struct rp_range *g = (const void *)((const char *)p + p->guards_off);
    for (uint32_t i = v->first_guard; i < v->first_guard + v->nguards; i++) {
        long r = sys(__NR_madvise, g[i].start, g[i].end - g[i].start, MADV_GUARD_INSTALL_);
        if (r < 0)
            die(p, r, "cannot install the guard pages (MADV_GUARD_INSTALL, Linux 6.13) of memory",
                g[i].start);
    }
}

/* A lazy region: its faults go to cr_restart, which holds the other end of the
 * userfaultfd and fills the pages from the image (restart_lazy.c). */
static void register_lazy(const struct restore_plan *p, const struct rp_vma *v)
{
    struct uffdio_register reg;
    memset(&reg, 0, sizeof reg);
    reg.range.start = v->start;
    reg.range.len = v->end - v->start;
    reg.mode = UFFDIO_REGISTER_MODE_MISSING;
    long r = sys(__NR_ioctl, p->uffd, UFFDIO_REGISTER_, &reg);
    if (r < 0)
        die(p, r, "cannot register memory for the lazy restart (UFFDIO_REGISTER)", v->start);
}

static void restore_memory(const struct restore_plan *p)
{
    const struct rp_vma *vmas = (const void *)((const char *)p + p->vmas_off);
    const struct rp_block *blocks = (const void *)((const char *)p + p->blocks_off);
    for (uint32_t i = 0; i < p->nvmas; i++)
        map_vma(p, &vmas[i]);
    for (uint32_t i = 0; i < p->nblocks; i++) {
        const struct rp_block *b = &blocks[i];
        size_t len = (size_t)b->npages * PAGE;
        int r = pread_all(b->fd, (void *)(uintptr_t)b->addr, len, b->file_offset);
        if (r < 0)
            die(p, r, "cannot read the memory block", b->addr);
        if (crc32c(0, (void *)(uintptr_t)b->addr, len) != b->crc)
            die(p, 74 /* EBADMSG */, "checksum mismatch in memory block", b->addr);
        if (b->fd != p->ctx_fd) /* decompressed memory: held twice no longer than needed */
            sys6(__NR_fallocate, b->fd, 3 /* FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE */,
                 (long)b->file_offset, (long)len, 0, 0);
    }
    for (uint32_t i = 0; i < p->nvmas; i++) {
        const struct rp_vma *v = &vmas[i];
        if (v->has_data && (v->prot & 3) != 3) {
            long r = sys(__NR_mprotect, v->start, v->end - v->start, v->prot);
            if (r < 0)
                die(p, r, "cannot set the protection of memory", v->start);
        }
        if (v->lazy)
            register_lazy(p, v);
        install_guards(p, v);
        advise_filled(p, v);
    }
}

static void move_specials(const struct restore_plan *p)
{
    for (uint32_t i = 0; i < p->nspecial; i++) {
        const struct rp_special *s = &p->special[i];
        long r = sys6(__NR_mremap, (long)s->cur, (long)s->len, (long)s->len,
                      MREMAP_MAYMOVE | MREMAP_FIXED, (long)s->park, 0);
        if (r != (long)s->park)
            die(p, r, "cannot move the vdso", s->cur);
    }
    for (uint32_t i = 0; i < p->nspecial; i++) {
        const struct rp_special *s = &p->special[i];
        long r = sys6(__NR_mremap, (long)s->park, (long)s->len, (long)s->len,
                      MREMAP_MAYMOVE | MREMAP_FIXED, (long)s->target, 0);
        if (r != (long)s->target)
            die(p, r, "cannot move the vdso", s->target);
    }
}

__attribute__((used, noreturn)) void restorer_main(struct restore_plan *p)
{
    const struct rp_range *unmap = (const void *)((const char *)p + p->unmap_off);
    for (uint32_t i = 0; i < p->nunmap; i++)
        sys(__NR_munmap, unmap[i].start, unmap[i].end - unmap[i].start, 0);
    move_specials(p);
    restore_memory(p);

    struct rp_mm_map mm = p->mm;
    mm.auxv = (uint64_t)(uintptr_t)p->auxv;
    long r = sys6(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&mm, sizeof mm, 0, 0);
    if (r < 0 && mm.exe_fd != (uint32_t)-1) { /* the exe link is a bonus: without it */
        mm.exe_fd = (uint32_t)-1;
        r = sys6(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&mm, sizeof mm, 0, 0);
    }
    if (r < 0)
        die(p, r, "prctl(PR_SET_MM_MAP) refused the memory layout", 0);
    if (p->drop_caps) { /* before any thread of the program exists: none keeps it */
        struct { uint32_t version; int32_t pid; } hdr = { 0x20080522 /* v3 */, 0 };
        uint32_t none[6] = { 0 };
        r = sys(__NR_capset, (long)&hdr, (long)none, 0);
        if (r < 0)
            die(p, r, "cannot drop CAP_CHECKPOINT_RESTORE", 0);
        sys(__NR_prctl, PR_SET_DUMPABLE, 1, 0); /* as the user's own processes are */
    }

    if (p->runtime_state) {
        uint64_t *rb = (uint64_t *)(uintptr_t)p->runtime_state; /* struct cr_restart_block */
        rb[0] += 1;
        rb[1] = p->hole_start;
        rb[2] = p->hole_len;
        char *src = (char *)&rb[3]; /* struct cr_restart_block.src */
        for (unsigned i = 0; i < sizeof p->src; i++)
            if (!(src[i] = p->src[i]))
                break;
        /* the regions still to fill, for a checkpoint taken meanwhile (none: a note
         * saved by an earlier lazy restart must not stay) */
        struct rp_lazy_note *note = (void *)((char *)rb + RP_LAZY_NOTE_OFF);
        const struct rp_vma *vmas = (const void *)((const char *)p + p->vmas_off);
        note->n = 0;
        for (uint32_t i = 0; i < p->nvmas && note->n < RP_LAZY_RANGES; i++)
            if (vmas[i].lazy) {
                note->range[note->n].start = vmas[i].start;
                note->range[note->n++].end = vmas[i].end;
            }
        note->active = note->n > 0;
    }
    /* (cr_restart checked that these bytes lie in writable memory of the image) */
    for (uint32_t k = 0; k < p->npokes && k < RP_POKES; k++)
        for (uint32_t i = 0; i < p->pokes[k].len && i < sizeof p->pokes[k].bytes; i++)
            ((volatile unsigned char *)(uintptr_t)p->pokes[k].addr)[i] = p->pokes[k].bytes[i];

    /* drop cr_restart's fds, then take the POSIX locks (a close drops those of its
     * file); the point of no return has passed: tell cr_restart */
    const int32_t *closefds = (const void *)((const char *)p + p->close_off);
    for (uint32_t i = 0; i < p->nclose; i++)
        if (closefds[i] != p->status_fd)
            sys(__NR_close, closefds[i], 0, 0);
    const struct rp_lock *locks = (const void *)((const char *)p + p->locks_off);
    for (uint32_t i = 0; i < p->nlocks; i++) {
        r = sys(__NR_fcntl, locks[i].fd, 6 /* F_SETLK */, locks[i].flock);
        if (r < 0) /* cr_restart found it free: another process took it since */
            die(p, r, "cannot take a POSIX lock again: another process took it during the "
                "restart; its fd", (uint64_t)locks[i].fd);
    }
    struct rp_thread *th = (void *)((char *)p + p->threads_off);
    struct rp_status ok;
    memset(&ok, 0, sizeof ok);
    ok.hole_start = p->hole_start;
    ok.hole_len = p->hole_len;
    ok.host_pid = p->host_pid;
    ok.member = p->member;
    if (p->use_gate) {
        ok.gate = (uint64_t)(uintptr_t)&p->gate_arrived;
        for (uint32_t i = 0; i < p->nthreads; i++)
            th[i].gate = ok.gate;
    }
    sys(__NR_write, p->status_fd, &ok, sizeof ok);
    sys(__NR_close, p->status_fd, 0, 0);
    if (p->set_nofile) /* best effort, as for the other limits: a hard limit only goes down */
        sys(__NR_setrlimit, RLIMIT_NOFILE, (long)p->nofile, 0);
    if (p->stop_first) /* cr_restart --stop: stopped here, before its threads exist */
        sys(__NR_kill, sys(__NR_getpid, 0, 0, 0), 19 /* SIGSTOP */, 0);

    const struct rp_owner *owners = (const void *)((const char *)p + p->owners_off);
    for (uint32_t i = 1; i < p->nthreads; i++) {
        unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                              CLONE_SYSVSEM | CLONE_SETTLS | CLONE_CHILD_SETTID |
                              CLONE_CHILD_CLEARTID;
        r = restorer_clone(flags, th[i].stack_top, th[i].clear_tid, th[i].fs_base, &th[i]);
        if (r < 0)
            die(p, r, "cannot create a thread", 0);
        for (uint32_t k = 0; k < p->nowners; k++) {
            struct { int32_t type, pid; } owner = { 0 /* F_OWNER_TID */, (int32_t)r };
            long e = owners[k].thread == i ? sys(__NR_fcntl, owners[k].fd, 15 /* F_SETOWN_EX */, &owner) : 0;
            if (e < 0)
                die(p, e, "cannot make a thread the owner of an fd's signals again: fd", (uint64_t)owners[k].fd);
        }
    }
    sys(__NR_arch_prctl, ARCH_SET_FS, th[0].fs_base, 0);
    if (th[0].clear_tid) {
        sys(__NR_set_tid_address, th[0].clear_tid, 0, 0);
        *(int32_t *)(uintptr_t)th[0].clear_tid = (int32_t)sys(__NR_gettid, 0, 0, 0);
    }
    restorer_thread(&th[0]);
}
