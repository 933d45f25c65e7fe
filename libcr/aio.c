/* Linux AIO contexts (io_setup, io_submit, io_getevents, io_destroy).
 *
 * A context is the kernel's, named by the address of its ring, the "[aio]" mapping
 * the kernel puts in the process: a header (nr, head, tail) and nr struct io_event
 * slots.  Completions are written at the kernel's own tail; io_getevents (or the
 * program itself) reads from head.  What the kernel does not show is the requests
 * still in flight: nothing in /proc or the ring counts them.  So the runtime sees
 * every io_setup, io_submit and io_destroy that goes through libc's syscall() (as
 * libaio's and programs' own calls do) and counts, per context, what was submitted;
 * completions are counted by the ring's tail, looked at on each submission (fewer
 * than nr can complete between two: the kernel never has more than nr - 1 requests
 * in flight or unreaped).  The counts are atomic, without a lock: a signal handler
 * of the program may submit too.
 *
 * At the freeze (every thread parked) the requests in flight are waited for, within the
 * request's timeout (cr_checkpoint -t; a thread stopped inside io_submit counted from its registers), then a
 * grace period: the ring holds every completion, the eventfds of IOCB_FLAG_RESFD
 * requests their counts and the buffers their data.  A context the runtime did not
 * see made (a system call not through syscall()) is refused, since what it has in
 * flight cannot be known; a ring mapped without a context of this process (inherited
 * across fork: the child has the memory, not the context) stays plain memory.
 *
 * The ring is saved whole as memory (a private mapping whose every page is in the
 * image, kept named "/[aio] (deleted)") with a CTX_REC_AIO record.  In the restored
 * copy, before the program runs, the runtime makes the context again: io_setup with
 * the size that gives a ring of the same nr (what the program sees: the ring, and
 * nr - 1 requests at most at once; the number it gave io_setup is not shown by the
 * kernel, and only counts against fs.aio-max-nr), completions of empty reads until the
 * kernel's tail is where it was (the only way to move it), the unreaped events copied
 * in and head set, and the new ring moved over the saved one (mremap; the kernel then
 * names the context by its old address, which the program holds).
 *
 * A thread blocked in io_getevents at the freeze returns EINTR, as it does for any
 * signal (the kernel does not restart it); one blocked in io_submit on a file that
 * has no asynchronous I/O (a pipe) completes that request with -EINTR in its event,
 * as for any signal too. */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_map.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"

#define API __attribute__((visibility("default")))
#define AIO_MAX 64
#define AIO_RING_MAGIC 0xa10a10a1u

struct ring {                  /* the kernel's struct aio_ring */
    uint32_t id, nr, head, tail, magic, compat_features, incompat_features, header_length;
    struct io_event events[];
};

struct aio_ctx {
    uint64_t id;               /* the ring's address; 0: a free slot */
    uint64_t len;              /* of the mapping */
    uint32_t nr;               /* events in the ring */
    pid_t pid;                 /* the process that made it (a forked child has none) */
    uint64_t submitted;
    uint64_t completed;        /* always the ring's tail as last seen, modulo nr */
    uint32_t frozen;           /* saved by the checkpoint under way */
    uint32_t head, tail;       /* as saved */
};

static struct aio_ctx ctxs[AIO_MAX];


static long with_errno(long r)
{
    if (r < 0 && r > -4096) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

static struct aio_ctx *find(uint64_t id)
{
    for (int i = 0; i < AIO_MAX; i++)
        if (__atomic_load_n(&ctxs[i].id, __ATOMIC_ACQUIRE) == id && ctxs[i].pid == crt.pid)
            return &ctxs[i];
    return NULL;
}

/* completions since last looked: the ring's tail moved on (modulo nr) */
static void count_completions(struct aio_ctx *c)
{
    uint32_t tail = __atomic_load_n(&((struct ring *)(uintptr_t)c->id)->tail, __ATOMIC_ACQUIRE);
    if (tail >= c->nr)
        return; /* not the kernel's: the program wrote over it */
    uint64_t old = __atomic_load_n(&c->completed, __ATOMIC_ACQUIRE), new;
    do
        new = old + (tail + c->nr - old % c->nr) % c->nr;
    while (new != old && !__atomic_compare_exchange_n(&c->completed, &old, new, 0, __ATOMIC_ACQ_REL,
                                                       __ATOMIC_ACQUIRE));
}

static long aio_setup(long nr, aio_context_t *out)
{
    long r = cr_raw_syscall6(SYS_io_setup, nr, (long)out, 0, 0, 0, 0);
    if (r == 0) {
        uint64_t id = *out;
        const struct ring *ring = (const struct ring *)(uintptr_t)id;
        for (int i = 0; i < AIO_MAX; i++) {
            /* free, a forked parent's, or one destroyed by a raw call: taken by a CAS of
               its id to 1 (an address no ring has) while it is filled in */
            uint64_t was = __atomic_load_n(&ctxs[i].id, __ATOMIC_ACQUIRE);
            if ((was && was != id && ctxs[i].pid == crt.pid) || was == 1 ||
                !__atomic_compare_exchange_n(&ctxs[i].id, &was, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                continue;
            struct aio_ctx *c = &ctxs[i];
            c->nr = ring->nr;
            c->len = (sizeof *ring + (uint64_t)ring->nr * sizeof(struct io_event) + 4095) / 4096 * 4096;
            c->pid = crt.pid;
            c->submitted = 0;
            c->completed = ring->tail; /* 0: a new ring */
            c->frozen = 0;
            __atomic_store_n(&c->id, id, __ATOMIC_RELEASE);
            break;
        } /* one not listed (more than AIO_MAX) is refused at a checkpoint */
    }
    return with_errno(r);
}

static long aio_destroy(aio_context_t id)
{
    long r = cr_raw_syscall6(SYS_io_destroy, (long)id, 0, 0, 0, 0, 0);
    if (r == 0) {
        struct aio_ctx *c = find(id);
        if (c)
            __atomic_store_n(&c->id, 0, __ATOMIC_RELEASE);
    }
    return with_errno(r);
}

/* io_submit(ctx, nr, cbs), its nr requests counted as submitted before the system call
 * and those it did not take given back after it, in one piece of code whose places
 * the freeze knows: a thread parked between the two (io_submit of a pipe read that
 * the stopping signal interrupted, say) has its count put right from its registers
 * (aio_parked_excess).  The counter is in r8, which the system call keeps. */
#define STR(x) #x
#define XSTR(x) STR(x)
long cr_aio_submit_raw(long ctx, long nr, long cbs, uint64_t *submitted);
extern const char cr_aio_before[], cr_aio_after[], cr_aio_done[];
__asm__(".text\n"
        ".globl cr_aio_submit_raw\n"
        ".hidden cr_aio_submit_raw\n"
        ".type cr_aio_submit_raw, @function\n"
        "cr_aio_submit_raw:\n"
        "    mov %rcx, %r8\n"
        "    lock addq %rsi, (%r8)\n"
        ".globl cr_aio_before\n.hidden cr_aio_before\n"
        "cr_aio_before:\n"            /* [before, after): nothing submitted yet */
        "    mov $" XSTR(__NR_io_submit) ", %eax\n"
        "    syscall\n"
        ".globl cr_aio_after\n.hidden cr_aio_after\n"
        "cr_aio_after:\n"             /* [after, done): rax of rsi submitted, not given back */
        "    mov %rsi, %rcx\n"
        "    test %rax, %rax\n"
        "    js 1f\n"
        "    sub %rax, %rcx\n"
        "1:  lock subq %rcx, (%r8)\n"
        ".globl cr_aio_done\n.hidden cr_aio_done\n"
        "cr_aio_done:\n"
        "    ret\n"
        ".size cr_aio_submit_raw, .-cr_aio_submit_raw\n");

static long aio_submit(aio_context_t id, long nr, struct iocb **cbs)
{
    struct aio_ctx *c = nr > 0 ? find(id) : NULL;
    if (!c)
        return with_errno(cr_raw_syscall6(SYS_io_submit, (long)id, nr, (long)cbs, 0, 0, 0));
    count_completions(c);
    return with_errno(cr_aio_submit_raw((long)id, nr, (long)cbs, &c->submitted));
}

/* What the counter of c holds beyond the requests submitted, by threads parked inside
 * cr_aio_submit_raw: all of nr before the system call, what it did not take after. */
static uint64_t aio_parked_excess(const struct aio_ctx *c)
{
    uint64_t excess = 0;
    for (uint32_t i = 0; i < crt.nslots; i++) {
        const struct cr_thread_slot *s = &crt.slots[i];
        if (s->tid <= 0 || !s->uc)
            continue;
        const greg_t *g = s->uc->uc_mcontext.gregs;
        const char *ip = (const char *)g[REG_RIP];
        if (ip < cr_aio_before || ip >= cr_aio_done || (uint64_t *)g[REG_R8] != &c->submitted)
            continue;
        long nr = g[REG_RSI], rax = g[REG_RAX];
        excess += (uint64_t)(ip < cr_aio_after ? nr : nr - (rax > 0 ? rax : 0));
    }
    return excess;
}

static long raw_call(long n, long a, long b, long c, long d, long e, long f)
{
    return with_errno(cr_raw_syscall6(n, a, b, c, d, e, f));
}

/* glibc's syscall(), which libaio and programs call the AIO system calls through (and
 * the calls that take a pid: pid_map.c). */
API long syscall(long n, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, n);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    switch (n) {
    case SYS_io_setup:
        return aio_setup(a[0], (aio_context_t *)a[1]);
    case SYS_io_destroy:
        return aio_destroy((aio_context_t)a[0]);
    case SYS_io_submit:
        return aio_submit((aio_context_t)a[0], a[1], (struct iocb **)a[2]);
    default: /* (pids: pid_map.c) */
        return cr_pid_syscall(n, a, __builtin_return_address(0), raw_call);
    }
}

/* ---- the checkpoint, every other thread parked: no malloc, no stdio ---- */

/* whether the context at addr is this process's (io_getevents for nothing) */
static int is_context(uint64_t addr)
{
    struct timespec zero = { 0, 0 };
    return cr_raw_syscall6(SYS_io_getevents, (long)addr, 0, 0, 0, (long)&zero, 0) == 0;
}

static int freeze_one(struct dump *d, uint64_t start, uint64_t end)
{
    struct aio_ctx *c = find(start);
    if (!c || c->len != end - start)
        return fail(d, ENOTSUP, "the AIO context at 0x%llx (io_setup) was made by a system call "
                    "the runtime did not see (not through syscall() or libaio), or beyond the %d "
                    "contexts it follows: the requests it has in flight cannot be known, so it "
                    "cannot be saved; nothing was written and the process keeps running",
                    (unsigned long long)start, AIO_MAX);
    const struct ring *ring = (const struct ring *)(uintptr_t)start;
    uint64_t until = cr_now_ms() + d->timeout_ms;
    for (;;) {
        count_completions(c);
        int64_t left = (int64_t)(c->submitted - aio_parked_excess(c) - c->completed);
        if (left == 0)
            break;
        if (left < 0 || ring->magic != AIO_RING_MAGIC || ring->nr != c->nr)
            return fail(d, ENOTSUP, "the ring of the AIO context at 0x%llx was written over by "
                        "the program (head, tail or header): its state cannot be known; nothing "
                        "was written and the process keeps running", (unsigned long long)start);
        if (cr_now_ms() >= until)
            return fail(d, EBUSY, "the AIO context at 0x%llx still has %lld request(s) in "
                        "flight after %u ms (waiting for a device, or an IOCB_CMD_POLL for an "
                        "fd that is not ready): they cannot be saved; nothing was written and "
                        "the process keeps running: try again later", (unsigned long long)start,
                        (long long)left, d->timeout_ms);
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    c->head = ring->head;
    c->tail = ring->tail;
    if (c->head >= c->nr || c->tail >= c->nr)
        return fail(d, ENOTSUP, "the ring of the AIO context at 0x%llx has head %u, tail %u for "
                    "%u events (written over by the program?): it cannot be saved; nothing was "
                    "written and the process keeps running", (unsigned long long)start, c->head,
                    c->tail, c->nr);
    c->frozen = 1;
    return 0;
}

int cr_aio_freeze(struct dump *d)
{
    d->aio_rings = 0;
    for (int i = 0; i < AIO_MAX; i++)
        ctxs[i].frozen = 0;
    char *text = d->scratch + TEXT_OFF;
    if (read_file(d, "/proc/self/maps", text, TEXT_SIZE) < 0)
        return -EIO;
    for (char *line = text; (line = strstr(line, "/[aio] (deleted)"));) {
        char *bol = line;
        while (bol > text && bol[-1] != '\n')
            bol--;
        line += 16;
        char *dash;
        unsigned long long start = strtoull(bol, &dash, 16), end = 0;
        if (*dash == '-')
            end = strtoull(dash + 1, NULL, 16);
        if (!end || end <= start)
            return fail(d, EIO, "cannot parse an [aio] line of /proc/self/maps");
        if (!is_context(start))
            continue; /* memory inherited across fork, no context: saved as memory */
        int rc = freeze_one(d, start, end);
        if (rc < 0)
            return rc;
        d->aio_rings++;
    }
    /* The kernel signals a request's eventfd (IOCB_FLAG_RESFD) just after it moved the
     * tail, outside its lock, in the interrupt or softirq that completed it: a grace
     * period (what MEMBARRIER_CMD_GLOBAL waits for) lets every such handler under way
     * end before the eventfds are saved.  (A completion finished by a kernel worker
     * thread, as some writes are, could in principle be preempted in between for
     * longer; no interface shows that.) */
    long rc = d->aio_rings ? cr_raw_syscall6(SYS_membarrier, 1 /* MEMBARRIER_CMD_GLOBAL */, 0, 0, 0, 0, 0) : 0;
    if (rc < 0)
        return fail(d, (int)-rc, "the process has AIO contexts, whose completions' eventfd counts "
                    "are saved only after a grace period, and this kernel gives none "
                    "(membarrier MEMBARRIER_CMD_GLOBAL; not on nohz_full CPUs): nothing was "
                    "written and the process keeps running");
    return 0;
}

int cr_aio_ring(uint64_t start, uint64_t end)
{
    struct aio_ctx *c = find(start);
    return c && c->frozen && c->len == end - start;
}

int cr_aio_records(struct dump *d)
{
    for (int i = 0; i < AIO_MAX; i++) {
        const struct aio_ctx *c = &ctxs[i];
        if (!c->id || c->pid != crt.pid || !c->frozen)
            continue;
        struct ctx_aio *r = rec_add(d, CTX_REC_AIO, sizeof *r);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        memset(r, 0, sizeof *r);
        r->addr = c->id;
        r->len = c->len;
        r->nr = c->nr;
        r->head = c->head;
        r->tail = c->tail;
    }
    return 0;
}

/* ---- the restored copy, before the program runs ---- */

static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n > (int)sizeof msg - 2)
        n = (int)sizeof msg - 2;
    msg[n++] = '\n';
    (void)!write(2, msg, (size_t)n);
    return -1;
}

/* The kernel's tail moved to `to` by completions of empty reads of a pipe, reaped. */
static int advance_tail(uint64_t id, uint32_t to)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    struct iocb cbs[32], *pcb[32];
    struct io_event ev[32];
    int rc = 0;
    for (uint32_t done = 0; done < to && rc == 0;) {
        long k = to - done < 32 ? (long)(to - done) : 32;
        for (long i = 0; i < k; i++) {
            memset(&cbs[i], 0, sizeof cbs[i]);
            cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
            cbs[i].aio_fildes = (uint32_t)p[0];
            pcb[i] = &cbs[i];
        }
        long r = cr_raw_syscall6(SYS_io_submit, (long)id, k, (long)pcb, 0, 0, 0);
        if (r != k) {
            rc = r < 0 ? (int)r : -EAGAIN;
            break;
        }
        r = cr_raw_syscall6(SYS_io_getevents, (long)id, k, k, (long)ev, 0, 0);
        if (r != k)
            rc = r < 0 ? (int)r : -EAGAIN;
        done += (uint32_t)k;
    }
    close(p[0]);
    close(p[1]);
    return rc;
}

static int restore_one(struct aio_ctx *c)
{
    struct ring *saved = (struct ring *)(uintptr_t)c->id;
    /* the ring holds nr = max(n, 4 * CPUs) * 2 + 2 events, rounded up to whole pages */
    aio_context_t id = 0;
    long r = cr_raw_syscall6(SYS_io_setup, (long)(c->nr - 2) / 2, (long)&id, 0, 0, 0, 0);
    if (r < 0)
        return say("slurm-cr: the AIO context at 0x%llx cannot be made again: io_setup: %s "
                   "(see fs.aio-max-nr)", (unsigned long long)c->id, strerror((int)-r));
    struct ring *ring = (struct ring *)(uintptr_t)id;
    uint64_t len = (sizeof *ring + (uint64_t)ring->nr * sizeof(struct io_event) + 4095) / 4096 * 4096;
    if (ring->nr != c->nr || len != c->len) {
        cr_raw_syscall6(SYS_io_destroy, (long)id, 0, 0, 0, 0, 0);
        return say("slurm-cr: the AIO context at 0x%llx had a ring of %u events; io_setup here "
                   "makes one of %u (another number of possible CPUs)", (unsigned long long)c->id,
                   c->nr, ring->nr);
    }
    int rc = advance_tail(id, c->tail);
    if (rc < 0) {
        cr_raw_syscall6(SYS_io_destroy, (long)id, 0, 0, 0, 0, 0);
        return say("slurm-cr: the AIO context at 0x%llx: its events cannot be put back (%s)",
                   (unsigned long long)c->id, strerror(-rc));
    }
    for (uint32_t i = c->head; i != c->tail; i = (i + 1) % c->nr)
        ring->events[i] = saved->events[i];
    __atomic_store_n(&ring->head, c->head, __ATOMIC_RELEASE);
    /* over the saved copy: the kernel names the context by its new place */
    void *at = mremap(ring, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(uintptr_t)c->id);
    if (at != (void *)(uintptr_t)c->id || !is_context(c->id)) {
        int e = errno;
        cr_raw_syscall6(SYS_io_destroy, (long)(at == MAP_FAILED ? id : c->id), 0, 0, 0, 0, 0);
        return say("slurm-cr: the AIO ring at 0x%llx cannot be moved back to its place: %s",
                   (unsigned long long)c->id, strerror(e));
    }
    c->pid = crt.pid;
    c->frozen = 0;
    return 0;
}

int cr_aio_restore(void)
{
    pid_t saved_pid = 0;
    for (int i = 0; i < AIO_MAX; i++)
        if (ctxs[i].id && ctxs[i].frozen)
            saved_pid = ctxs[i].pid;
    for (int i = 0; i < AIO_MAX; i++) {
        struct aio_ctx *c = &ctxs[i];
        if (!c->id || !c->frozen || c->pid != saved_pid)
            continue;
        if (restore_one(c) < 0)
            return -1;
    }
    return 0;
}
