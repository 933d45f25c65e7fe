/* Lazy restart: the monitor that fills a restored process's memory on demand.
 *
 * The restorer maps the lazy regions empty and registers them with a userfaultfd
 * (MISSING mode) that cr_restart's child made and handed to cr_restart.  A thread
 * of cr_restart then answers every fault with the whole 1 MiB block around it (read
 * from the image, its crc32c checked, UFFDIO_COPY) and copies the other blocks in
 * the background, in file order, with readahead ahead of it.  The address space
 * stays what an eager restart makes (private anonymous memory), and the events keep
 * the program's view exact while pages are still missing:
 *   - REMOVE (MADV_DONTNEED, MADV_REMOVE) and UNMAP: the pages are settled as zero,
 *     never filled afterwards (an anonymous page dropped reads back as zeros);
 *   - REMAP (mremap): the missing pages moved; they are looked up at their new place;
 *   - FORK: the child's address space has the same missing pages, and its own
 *     userfaultfd; it is served the same way until it has all of them.
 * Every ioctl that races with such a change fails with EAGAIN until its event is
 * read, and events are applied before faults are answered, so no copy lands where a
 * page was dropped.  Once an address space holds every page its userfaultfd is
 * closed and the registration goes away. */
#define _GNU_SOURCE
#include "restart_lazy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "lazy_fill.h"
#include "restart.h"
#include "restore_plan.h"
#include "say.h"

#define PAGE 4096UL
#define LAZY_FEATURES (UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
                       UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)
#define READAHEAD (64UL << 20)
#define MAX_MMS 4096

int cr_restart_mode_parse(const char *s)
{
    return !strcmp(s, "auto") ? CR_RESTART_AUTO : !strcmp(s, "eager") ? CR_RESTART_EAGER
         : !strcmp(s, "lazy") ? CR_RESTART_LAZY_WHEREVER : -1;
}

static int qualifies(const struct ctx_image *img, uint32_t i)
{
    const struct ctx_vma *v = img->vmas[i];
    uint32_t kind = v->kind;
    if (v->flags & CTX_VMA_SAVED) /* as the restorer maps it */
        kind = kind == CTX_VMA_FILE_SHARED ? CTX_VMA_SHARED_ANON : CTX_VMA_ANON;
    /* private anonymous only: userfaultfd's MISSING mode has no private file mappings,
     * and shared memory is shared with more than this address space */
    if (kind != CTX_VMA_ANON || !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
        return 0;
    /* a stack grows (small anyway); System V is shared; locked and sealed memory is
     * populated or frozen at once; a child forked with WIPEONFORK must see zeros,
     * not the image */
    if (v->flags & (CTX_VMA_GROWSDOWN | CTX_VMA_SYSV | CTX_VMA_LOCKED | CTX_VMA_SEALED |
                    CTX_VMA_WIPEONFORK))
        return 0;
    return (v->end - v->start) / PAGE >= CR_LAZY_MIN_PAGES;
}

uint32_t cr_lazy_vmas(const struct ctx_image *img, unsigned char *lazy)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < img->proc->nvmas; i++)
        n += lazy[i] = n < RP_LAZY_RANGES && qualifies(img, i);
    return n;
}

static int lazy_block(const struct ctx_image *img, const unsigned char *lazy, uint32_t i)
{
    const struct ctx_block *b = &img->blocks[i];
    return !(b->vma & CTX_BLOCK_FILE) && b->vma < img->proc->nvmas && lazy[b->vma];
}

uint64_t cr_lazy_bytes(const struct ctx_image *img)
{
    uint64_t n = 0;
    unsigned char *lazy = img->proc ? calloc(img->proc->nvmas + 1, 1) : NULL;
    if (!lazy)
        return 0;
    cr_lazy_vmas(img, lazy);
    for (uint32_t i = 0; i < img->hdr.nblocks; i++)
        if (lazy_block(img, lazy, i))
            n += (uint64_t)img->blocks[i].npages * PAGE;
    free(lazy);
    return n;
}

/* A file another machine may change or remove while pages are still read from it. */
static const char *network_fs(long type)
{
    switch ((unsigned long)type) {
    case NFS_SUPER_MAGIC: return "NFS";
    case SMB_SUPER_MAGIC: case 0xFF534D42UL: case 0xFE534D42UL: return "SMB/CIFS";
    case 0x00C36400UL: return "CephFS";
    case 0x0BD00BD0UL: return "Lustre";
    case 0x47504653UL: return "GPFS";
    case V9FS_MAGIC: return "9p";
    case 0x65735546UL: return "FUSE";
    case AFS_SUPER_MAGIC: return "AFS";
    case 0x01161970UL: return "GFS2";
    case 0x7461636FUL: return "OCFS2";
    case 0x19830326UL: return "BeeGFS";
    default: return NULL;
    }
}

int cr_lazy_open_uffd(char *err, size_t len)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return cr_say(err, len, errno, errno == ENOSYS ? "this kernel has no userfaultfd (CONFIG_USERFAULTFD)"
                   : "userfaultfd: %s (a faithful lazy restart needs CAP_SYS_PTRACE: unprivileged "
                   "userfaultfd serves only faults of user code, not the kernel's reads into "
                   "memory nor fork)", strerror(errno));
    struct uffdio_api api = { .api = UFFD_API, .features = LAZY_FEATURES };
    if (ioctl(fd, UFFDIO_API, &api) < 0) {
        int e = errno;
        close(fd);
        return cr_say(err, len, e, e == EPERM ? "userfaultfd's fork event needs CAP_SYS_PTRACE: without "
                   "it a child forked before the memory is in would read zeros"
                   : "userfaultfd lacks the fork, remap, remove and unmap events (Linux 4.11+): %s",
                   strerror(e));
    }
    return fd;
}

int cr_lazy_possible(const struct ctx_image *img, int as_tree, char *why, size_t len)
{
    if (as_tree)
        return cr_say(why, len, ENOTSUP, "a tree of processes (or --restore-pid) is restored eagerly: "
                   "lazy restart serves one process");
    if (img->zblocks)
        return cr_say(why, len, ENOTSUP, "the image is compressed: its blocks are decompressed before "
                   "the process runs");
    struct statfs sf;
    const char *net = fstatfs(img->fd, &sf) == 0 ? network_fs(sf.f_type) : NULL;
    if (net)
        return cr_say(why, len, ENOTSUP, "the image is on %s: another machine could change or remove "
                   "it while the process still reads from it (copy it to a local disk first)", net);
    int fd = cr_lazy_open_uffd(why, len);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

/* ---- the monitor ---- */

struct lazy_mm {               /* an address space served: the restored process's, or a
                                  child's it forked while pages were missing */
    int uffd;
    uint32_t left;             /* blocks not settled yet (atomic: the filling threads
                                  settle pages of the first address space) */
    uint32_t next;             /* where the monitor's background copy goes on */
    int remapped;              /* some pages moved (mremap): look them up one by one */
    uint64_t (*settled)[4];    /* per block, per page: copied, or known to read zero */
    uint16_t *unsettled;       /* per block: pages not settled yet */
    uint64_t **where;          /* per block: NULL, or each page's address since it moved */
    struct uffd_msg *q;        /* messages read, not handled yet */
    uint32_t nq, capq;
};

struct cr_lazy {
    pthread_t thread;
    int fd;                    /* our own reference to the image: removing or replacing
                                  the file changes nothing; truncating it is caught */
    pid_t pid;
    int pidfd;                 /* readable once the process ended: whatever it forked is
                                  then copied in the background, faults or not */
    struct lazy_block *blocks;
    uint32_t nblocks;
    struct lazy_mm *mms;
    uint32_t nmms;
    char *buf;                 /* one block, checked */
    int64_t in_buf;
    struct lazy_fill *fill;    /* the filling threads (CR_RESTART_LAZY_READERS, default one
                                  per CPU from 2 to 4),
                                  which copy the first address space's blocks in */
    int filling;               /* the monitor leaves the background copy of the first
                                  address space to them... */
    int fill_running;          /* ...until they are through (atomic) */
    int nfill;                 /* how many there were (for the summary) */
    int wake;                  /* eventfd: they are through, or one failed */
    pthread_rwlock_t events;   /* a copy by a filling thread holds it shared, the monitor
                                  exclusively from reading events to applying them: no
                                  copy lands where a page was dropped or moved from */
    uint8_t *claimed;          /* per block of the first address space: a copy of it is
                                  under way (a filling thread's or the monitor's) */
    int fill_err;              /* a filling thread's failure (errno), for the monitor to act on: */
    int fill_err_read;         /* 1: block fill_err_block could not be read or checked;
                                  0: the copy to fill_err_addr failed */
    uint32_t fill_err_block;
    uint64_t fill_err_addr;
    uint64_t advised;          /* readahead asked up to this offset */
    int background;            /* copy what is not asked for (CR_RESTART_LAZY_BACKGROUND=0:
                                  faults only, for tests and measurements) */
    volatile int armed;        /* the restorer registered the regions: copy in the
                               background (before, a copy would find nothing registered) */
    int keeper;                /* the keeper's socket (see keep) */
    uint64_t note;             /* the process's struct rp_lazy_note (restore_plan.h), or 0 */
    int failed;
    char err[600];
    uint64_t faults, copied_pages, forks;
    struct timespec t0, t1;
};

static int by_addr(const void *a, const void *b)
{
    const struct lazy_block *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int settled(const struct lazy_mm *m, uint32_t b, uint32_t k)
{
    return (int)((__atomic_load_n(&m->settled[b][k / 64], __ATOMIC_RELAXED) >> (k % 64)) & 1);
}

/* (atomic: the monitor and the filling threads settle pages of one address space side
 * by side; whoever settles a block's last page counts it) */
static void settle(struct lazy_mm *m, const struct cr_lazy *l, uint32_t b, uint32_t k)
{
    (void)l;
    uint64_t bit = 1ULL << (k % 64);
    if (__atomic_fetch_or(&m->settled[b][k / 64], bit, __ATOMIC_RELAXED) & bit)
        return;
    if (__atomic_sub_fetch(&m->unsettled[b], 1, __ATOMIC_RELAXED) == 0)
        __atomic_sub_fetch(&m->left, 1, __ATOMIC_RELAXED);
}

static uint32_t left_in(const struct lazy_mm *m)
{
    return __atomic_load_n(&m->left, __ATOMIC_RELAXED);
}

static uint64_t page_at(const struct lazy_mm *m, const struct cr_lazy *l, uint32_t b, uint32_t k)
{
    return m->where[b] ? m->where[b][k] : l->blocks[b].addr + k * PAGE;
}

/* The block and page that fill addr in m, if not settled yet. */
static int find(const struct lazy_mm *m, const struct cr_lazy *l, uint64_t addr, uint32_t *bp, uint32_t *kp)
{
    if (!m->remapped) {
        uint32_t lo = 0, hi = l->nblocks;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            const struct lazy_block *b = &l->blocks[mid];
            if (addr < b->addr)
                hi = mid;
            else if (addr >= b->addr + b->npages * PAGE)
                lo = mid + 1;
            else {
                uint32_t k = (uint32_t)((addr - b->addr) / PAGE);
                if (settled(m, mid, k))
                    return 0;
                *bp = mid, *kp = k;
                return 1;
            }
        }
        return 0;
    }
    for (uint32_t b = 0; b < l->nblocks; b++)
        for (uint32_t k = 0; k < l->blocks[b].npages; k++)
            if (!settled(m, b, k) && page_at(m, l, b, k) == addr) {
                *bp = b, *kp = k;
                return 1;
            }
    return 0;
}

static void fatal(struct cr_lazy *l, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fatal(struct cr_lazy *l, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, sizeof l->err, fmt, ap);
    va_end(ap);
    __atomic_store_n(&l->failed, code, __ATOMIC_RELEASE);
    /* what it reads next is not its memory: it must not run on (its children
     * forked since share the missing pages) */
    cr_tree_signal(l->pid, SIGKILL);
    kill(l->pid, SIGKILL);
}

static void bad_block(struct cr_lazy *l, const struct lazy_block *k, int e)
{
    if (e == EINVAL)
        fatal(l, EINVAL, "lazy restart: the memory block at 0x%llx is larger than a block can be: "
              "the restarted process was killed", (unsigned long long)k->addr);
    else if (e == EBADMSG)
        fatal(l, EBADMSG, "lazy restart: checksum mismatch in the memory block at 0x%llx (the image "
              "was changed in place while the process still read from it): the restarted process "
              "was killed", (unsigned long long)k->addr);
    else
        fatal(l, e, "lazy restart: cannot read the memory block at 0x%llx from the image (%s): the "
              "restarted process was killed", (unsigned long long)k->addr,
              e == EIO ? "the file was truncated" : strerror(e));
}

/* Block b of the image, checked: the readers', or read into buf; NULL after fatal. */
static const char *load(struct cr_lazy *l, uint32_t b)
{
    if (l->in_buf == (int64_t)b)
        return l->buf;
    const struct lazy_block *k = &l->blocks[b];
    if (k->off + READAHEAD / 2 > l->advised) { /* the background copy reads in order */
        posix_fadvise(l->fd, (off_t)l->advised, (off_t)READAHEAD, POSIX_FADV_WILLNEED);
        l->advised += READAHEAD;
    }
    size_t n = (size_t)k->npages * PAGE;
    ssize_t got = pread(l->fd, l->buf, n, (off_t)k->off);
    for (size_t done = got > 0 ? (size_t)got : 0; got > 0 && done < n; done += (size_t)got)
        got = pread(l->fd, l->buf + done, n - done, (off_t)(k->off + done));
    if (got <= 0) {
        bad_block(l, k, got < 0 ? errno : EIO);
        return NULL;
    }
    if (crc32c(0, l->buf, n) != k->crc) {
        bad_block(l, k, EBADMSG);
        return NULL;
    }
    l->in_buf = b;
    return l->buf;
}

/* Copies the unsettled pages of block b into m from src (NULL: loaded when a page needs
 * it).  0; -EAGAIN when the address space is changing (its events are to be read
 * first); -ESRCH when it is gone; -1 when the block cannot be loaded (after fatal);
 * another -errno when a copy failed, its address in *bad. */
static int copy_runs(struct cr_lazy *l, struct lazy_mm *m, uint32_t b, const char *src, uint64_t *bad)
{
    const struct lazy_block *blk = &l->blocks[b];
    uint32_t k = 0;
    while (k < blk->npages) {
        if (settled(m, b, k)) {
            k++;
            continue;
        }
        if (!src && !(src = load(l, b)))
            return -1;
        uint32_t j = k + 1; /* a run of pages missing and still side by side */
        while (j < blk->npages && !settled(m, b, j) && page_at(m, l, b, j) == page_at(m, l, b, j - 1) + PAGE)
            j++;
        struct uffdio_copy c = { .dst = page_at(m, l, b, k), .src = (uint64_t)(uintptr_t)(src + k * PAGE),
                                 .len = (j - k) * PAGE, .mode = 0 };
        int r = ioctl(m->uffd, UFFDIO_COPY, &c), e = errno;
        uint32_t done = r == 0 ? j - k : c.copy > 0 ? (uint32_t)(c.copy / (int64_t)PAGE) : 0;
        for (uint32_t i = k; i < k + done; i++)
            settle(m, l, b, i);
        __atomic_fetch_add(&l->copied_pages, done, __ATOMIC_RELAXED); /* (the filling threads too) */
        k += done;
        if (r == 0)
            continue;
        if (e == EAGAIN)
            return -EAGAIN;
        if (e == ESRCH)
            return -ESRCH;
        if (e == EEXIST || e == ENOENT || e == EINVAL) { /* there already, or no mapping
                                                            there any more: nothing to put */
            settle(m, l, b, k);
            struct uffdio_range w = { page_at(m, l, b, k), PAGE }; /* (a fault there may wait
                                                                     on this copy: see claim) */
            ioctl(m->uffd, UFFDIO_WAKE, &w);
            k++;
            continue;
        }
        *bad = c.dst;
        return -e;
    }
    return 0;
}

static void copy_failed(struct cr_lazy *l, int e, uint64_t addr)
{
    fatal(l, e, "lazy restart: cannot put the memory at 0x%llx in place (UFFDIO_COPY: %s): the "
          "restarted process was killed", (unsigned long long)addr, strerror(e));
}

/* The monitor's copy of block b into m: 0, -EAGAIN, -ESRCH, or -1 after fatal. */
static int fill(struct cr_lazy *l, struct lazy_mm *m, uint32_t b)
{
    uint64_t bad = 0;
    int r = copy_runs(l, m, b, NULL, &bad);
    if (r < -1 && r != -EAGAIN && r != -ESRCH) {
        copy_failed(l, -r, bad);
        r = -1;
    }
    return r;
}

/* ---- the filling threads' side (lazy_fill.h), on the first address space ----
 * A block is copied by one thread at a time: two copies of the same pages would each
 * allocate and fill a page for every page the other put in first (EEXIST), one page
 * at a time.  A fault in a block a filling thread is copying is left to that copy,
 * which wakes it (every page it leaves is woken too). */

static int claim(struct cr_lazy *l, uint32_t b)
{
    uint8_t free_ = 0;
    return __atomic_compare_exchange_n(&l->claimed[b], &free_, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

static void unclaim(struct cr_lazy *l, uint32_t b)
{
    __atomic_store_n(&l->claimed[b], 0, __ATOMIC_RELEASE);
}

static void fill_wake(struct cr_lazy *l)
{
    uint64_t one = 1;
    (void)!write(l->wake, &one, sizeof one);
}

static int fill_wanted(void *ctx, uint32_t b)
{
    struct cr_lazy *l = ctx;
    pthread_rwlock_rdlock(&l->events);
    struct lazy_mm *m = &l->mms[0];
    int want = m->uffd >= 0 && !__atomic_load_n(&l->failed, __ATOMIC_RELAXED) &&
               __atomic_load_n(&m->unsettled[b], __ATOMIC_RELAXED) &&
               !__atomic_load_n(&l->claimed[b], __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&l->events);
    return want;
}

static int fill_copy(void *ctx, uint32_t b, const char *buf)
{
    struct cr_lazy *l = ctx;
    for (;;) {
        pthread_rwlock_rdlock(&l->events);
        struct lazy_mm *m = &l->mms[0];
        uint64_t bad = 0;
        int r = m->uffd < 0 || __atomic_load_n(&l->failed, __ATOMIC_RELAXED) ? -ESRCH : 1;
        if (r == 1 && !claim(l, b))
            r = 0; /* the monitor is putting it in for a fault */
        else if (r == 1) {
            r = copy_runs(l, m, b, buf, &bad);
            unclaim(l, b);
        }
        pthread_rwlock_unlock(&l->events);
        if (r == -EAGAIN) { /* an event is on its way: the monitor reads it, then again */
            struct timespec ts = { 0, 100000 };
            nanosleep(&ts, NULL);
            continue;
        }
        if (r == -ESRCH) /* gone (or being killed): nothing more to copy */
            return -1;
        if (r < 0) {
            l->fill_err_addr = bad;
            __atomic_store_n(&l->fill_err, -r, __ATOMIC_RELEASE);
            fill_wake(l);
            return -1;
        }
        return 0;
    }
}

static void fill_failed(void *ctx, uint32_t b, int err)
{
    struct cr_lazy *l = ctx;
    l->fill_err_block = b;
    l->fill_err_read = 1;
    __atomic_store_n(&l->fill_err, -err, __ATOMIC_RELEASE);
    fill_wake(l);
}

static void fill_done(void *ctx)
{
    struct cr_lazy *l = ctx;
    __atomic_store_n(&l->fill_running, 0, __ATOMIC_RELEASE);
    fill_wake(l);
}

/* Pages in [start, end) of m read zero from now on (dropped or unmapped). */
static void drop_range(struct cr_lazy *l, struct lazy_mm *m, uint64_t start, uint64_t end)
{
    for (uint32_t b = 0; b < l->nblocks; b++) {
        const struct lazy_block *k = &l->blocks[b];
        if (!m->where[b] && (k->addr >= end || k->addr + k->npages * PAGE <= start))
            continue;
        for (uint32_t i = 0; i < k->npages; i++) {
            uint64_t a = page_at(m, l, b, i);
            if (a >= start && a < end)
                settle(m, l, b, i);
        }
    }
}

static int moved(struct cr_lazy *l, struct lazy_mm *m, uint64_t from, uint64_t to, uint64_t len)
{
    for (uint32_t b = 0; b < l->nblocks; b++) {
        const struct lazy_block *k = &l->blocks[b];
        if (!m->where[b] && (k->addr >= from + len || k->addr + k->npages * PAGE <= from))
            continue;
        if (!m->where[b]) {
            if (!(m->where[b] = malloc(k->npages * sizeof(uint64_t))))
                return -1;
            for (uint32_t i = 0; i < k->npages; i++)
                m->where[b][i] = k->addr + i * PAGE;
        }
        for (uint32_t i = 0; i < k->npages; i++)
            if (m->where[b][i] >= from && m->where[b][i] < from + len)
                m->where[b][i] += to - from;
        m->remapped = 1;
    }
    return 0;
}

/* ---- the keeper ----
 * A closed userfaultfd lets missing pages read as zeros.  So that killing cr_restart
 * (SIGKILL) cannot do that to the process, a small child of cr_restart holds a
 * second reference to every userfaultfd being served: if cr_restart dies before the
 * fill is done, the keeper kills the restored process and what it forked (their
 * faults wait meanwhile) and only then lets go. */
enum { KEEP_ADD = 1, KEEP_DROP, KEEP_DONE };
struct keep_msg {
    uint32_t op, id;
};

static void tell_keeper(struct cr_lazy *l, uint32_t op, uint32_t id, int fd)
{
    struct keep_msg k = { op, id };
    struct iovec io = { &k, sizeof k };
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1 };
    if (fd >= 0) {
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof cbuf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    }
    if (l->keeper >= 0) /* (a keeper killed alone: cr_restart goes on without) */
        (void)sendmsg(l->keeper, &mh, MSG_NOSIGNAL);
}

/* In the forked keeper: only raw system calls and no allocation (cr_restart may have
 * other threads).  uffd0 is the first address space's, id 0. */
__attribute__((noreturn)) static void keep(int sock, int uffd0, int pidfd, pid_t pid)
{
    static int fds[MAX_MMS];
    for (int i = 0; i < MAX_MMS; i++)
        fds[i] = -1;
    fds[0] = uffd0;
    for (int sig = 1; sig < NSIG; sig++) /* the terminal's keys are the process's business */
        signal(sig, SIG_IGN);
    int keepfd[3] = { sock, uffd0, pidfd }; /* everything else of cr_restart's goes */
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (keepfd[b] < keepfd[a]) {
                int t = keepfd[a];
                keepfd[a] = keepfd[b], keepfd[b] = t;
            }
    unsigned lo = 3;
    for (int a = 0; a < 3; a++) {
        if ((unsigned)keepfd[a] > lo)
            syscall(SYS_close_range, lo, (unsigned)keepfd[a] - 1, 0);
        lo = (unsigned)keepfd[a] + 1;
    }
    syscall(SYS_close_range, lo, ~0U, 0);
    for (;;) {
        struct keep_msg k;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec io = { &k, sizeof k };
        struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
                             .msg_controllen = sizeof cbuf };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == (ssize_t)sizeof k && k.op == KEEP_DONE)
            _exit(0);
        if (n == (ssize_t)sizeof k && k.id < MAX_MMS) {
            struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
            if (k.op == KEEP_ADD && cm && cm->cmsg_type == SCM_RIGHTS)
                memcpy(&fds[k.id], CMSG_DATA(cm), sizeof(int));
            else if (k.op == KEEP_DROP && fds[k.id] >= 0)
                close(fds[k.id]), fds[k.id] = -1;
            continue;
        }
        break; /* cr_restart is gone before the end */
    }
    static const char msg[] = "cr_restart: ended while its lazy restart still filled memory: the "
                              "restarted process was killed\n";
    (void)!write(2, msg, sizeof msg - 1);
    cr_tree_signal(pid, SIGKILL);
    kill(pid, SIGKILL);
    struct pollfd pf = { pidfd, POLLIN, 0 };
    poll(&pf, 1, 60000); /* its faults wait until it is gone */
    _exit(1);
}

static void mm_free(struct lazy_mm *m, uint32_t nblocks)
{
    if (m->uffd >= 0)
        close(m->uffd);
    for (uint32_t b = 0; m->where && b < nblocks; b++)
        free(m->where[b]);
    free(m->where);
    free(m->settled);
    free(m->unsettled);
    free(m->q);
    memset(m, 0, sizeof *m);
    m->uffd = -1;
}

/* m has all its pages, or is gone: the keeper lets go of it too. */
static void mm_done(struct cr_lazy *l, struct lazy_mm *m)
{
    if (m == &l->mms[0] && !m->left && l->note) {
        /* a checkpoint from now on has nothing to bring in first (its children's
         * notes stay set: their checkpoints bring in what is there already) */
        uint64_t zero = 0;
        struct iovec local = { &zero, sizeof zero }, remote = { (void *)(uintptr_t)l->note, sizeof zero };
        (void)process_vm_writev(l->pid, &local, 1, &remote, 1, 0);
    }
    tell_keeper(l, KEEP_DROP, (uint32_t)(m - l->mms), -1);
    pthread_rwlock_wrlock(&l->events); /* (no filling thread's copy is under way in it) */
    mm_free(m, l->nblocks);
    pthread_rwlock_unlock(&l->events);
}

/* A new address space to serve: the first (from) NULL, or a copy of from's state. */
static struct lazy_mm *mm_add(struct cr_lazy *l, int uffd, const struct lazy_mm *from)
{
    if (l->nmms == MAX_MMS)
        return NULL;
    struct lazy_mm *m = &l->mms[l->nmms];
    memset(m, 0, sizeof *m);
    m->uffd = uffd;
    m->settled = calloc(l->nblocks + 1, sizeof *m->settled);
    m->unsettled = calloc(l->nblocks + 1, sizeof *m->unsettled);
    m->where = calloc(l->nblocks + 1, sizeof *m->where);
    if (!m->settled || !m->unsettled || !m->where) {
        mm_free(m, l->nblocks);
        return NULL;
    }
    m->left = l->nblocks;
    for (uint32_t b = 0; b < l->nblocks; b++)
        m->unsettled[b] = (uint16_t)l->blocks[b].npages;
    if (from) { /* (under the event lock: no page of from is settled meanwhile) */
        memcpy(m->settled, from->settled, l->nblocks * sizeof *m->settled);
        memcpy(m->unsettled, from->unsettled, l->nblocks * sizeof *m->unsettled);
        m->left = from->left;
        m->next = from->next;
        m->remapped = from->remapped;
        for (uint32_t b = 0; b < l->nblocks; b++)
            if (from->where[b]) {
                if (!(m->where[b] = malloc(l->blocks[b].npages * sizeof(uint64_t)))) {
                    mm_free(m, l->nblocks);
                    return NULL;
                }
                memcpy(m->where[b], from->where[b], l->blocks[b].npages * sizeof(uint64_t));
            }
    }
    l->nmms++;
    return m;
}

/* A fault left to a filling thread's copy (handle_faults) waits for that copy's wake,
 * but the copy skips pages dropped or moved meanwhile: their waiters are woken here
 * and fault again, to be answered as the pages are now (a spurious wake-up only
 * retries the access). */
static void wake_range(struct lazy_mm *m, uint64_t start, uint64_t end)
{
    struct uffdio_range w = { start, end - start };
    if (end > start)
        ioctl(m->uffd, UFFDIO_WAKE, &w);
}

/* The events of m's queue, in order (under the event lock, held exclusively since they
 * were read); its faults are kept for handle_faults.  0, or -1 after fatal. */
static int handle_events(struct cr_lazy *l, uint32_t mi)
{
    struct lazy_mm *m = &l->mms[mi];
    uint32_t keep = 0;
    for (uint32_t i = 0; i < m->nq; i++) {
        struct uffd_msg *g = &m->q[i];
        switch (g->event) {
        case UFFD_EVENT_FORK: {
            struct lazy_mm *c = mm_add(l, (int)g->arg.fork.ufd, &l->mms[mi]);
            m = &l->mms[mi]; /* (the array does not move: allocated once) */
            l->forks++;
            if (c)
                tell_keeper(l, KEEP_ADD, (uint32_t)(c - l->mms), c->uffd);
            if (!c) {
                close((int)g->arg.fork.ufd);
                fatal(l, ENOMEM, "lazy restart: cannot follow the process's fork (out of memory or "
                      "more than %d address spaces): the restarted process was killed", MAX_MMS);
                return -1;
            }
            break;
        }
        case UFFD_EVENT_REMOVE:
        case UFFD_EVENT_UNMAP:
            drop_range(l, m, g->arg.remove.start, g->arg.remove.end);
            wake_range(m, g->arg.remove.start, g->arg.remove.end);
            break;
        case UFFD_EVENT_REMAP:
            if (moved(l, m, g->arg.remap.from, g->arg.remap.to, g->arg.remap.len) < 0) {
                fatal(l, ENOMEM, "lazy restart: out of memory following an mremap: the restarted "
                      "process was killed");
                return -1;
            }
            wake_range(m, g->arg.remap.from, g->arg.remap.from + g->arg.remap.len);
            break;
        default:
            m->q[keep++] = *g; /* faults: once the events before and after them are in */
        }
    }
    m->nq = keep;
    return 0;
}

/* The faults of m's queue.  -EAGAIN: some left for later. */
static int handle_faults(struct cr_lazy *l, uint32_t mi)
{
    struct lazy_mm *m = &l->mms[mi];
    uint32_t keep = 0;
    int rc = 0;
    for (uint32_t i = 0; i < m->nq; i++) {
        uint64_t addr = m->q[i].arg.pagefault.address & ~(PAGE - 1);
        uint32_t b, k;
        int r = rc;
        if (!r && find(m, l, addr, &b, &k)) {
            if (mi == 0 && l->filling && !claim(l, b)) {
                l->faults++; /* a filling thread's copy under way puts it in and wakes it */
                continue;
            }
            r = fill(l, m, b);
            if (mi == 0 && l->filling)
                unclaim(l, b);
        }
        if (r == 0) {
            /* a page settled as zero (dropped, or never in the image), or already
             * there: the zero page, or just a wake-up */
            struct uffdio_zeropage z = { .range = { addr, PAGE }, .mode = 0 };
            if (ioctl(m->uffd, UFFDIO_ZEROPAGE, &z) < 0) {
                if (errno == EAGAIN)
                    r = -EAGAIN;
                else if (errno == ESRCH)
                    r = -ESRCH;
                else {
                    struct uffdio_range w = { addr, PAGE };
                    ioctl(m->uffd, UFFDIO_WAKE, &w);
                }
            }
            l->faults++;
        }
        if (r == -1 || r == -ESRCH)
            return r;
        if (r == -EAGAIN)
            m->q[keep++] = m->q[i], rc = -EAGAIN;
    }
    m->nq = keep;
    return rc;
}

static int read_msgs(struct lazy_mm *m)
{
    for (;;) {
        if (m->nq + 16 > m->capq) {
            uint32_t cap = m->capq ? m->capq * 2 : 64;
            struct uffd_msg *q = realloc(m->q, cap * sizeof *q);
            if (!q)
                return -ENOMEM;
            m->q = q, m->capq = cap;
        }
        ssize_t n = read(m->uffd, &m->q[m->nq], 16 * sizeof *m->q);
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
            return -ESRCH;
        m->nq += (uint32_t)(n / (ssize_t)sizeof *m->q);
    }
}

/* A filling thread failed (fill_err): the monitor says why and kills the process. */
static void fill_failure(struct cr_lazy *l, int e)
{
    if (l->fill_err_read)
        bad_block(l, &l->blocks[l->fill_err_block], e);
    else
        copy_failed(l, e, l->fill_err_addr);
}

static void *serve(void *arg)
{
    struct cr_lazy *l = arg;
    struct pollfd *pf = calloc(MAX_MMS + 2, sizeof *pf);
    if (!pf) {
        fatal(l, ENOMEM, "lazy restart: out of memory: the restarted process was killed");
        return NULL;
    }
    uint32_t turn = 0;
    while (!l->failed) {
        uint32_t live = 0, work = 0;
        int armed = __atomic_load_n(&l->armed, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < l->nmms; i++) {
            struct lazy_mm *m = &l->mms[i];
            pf[i] = (struct pollfd){ m->uffd, POLLIN, 0 };
            live += m->uffd >= 0;
            /* (the first address space's background copy is the filling threads' while
             * they run: the monitor waits for faults, events and their end) */
            work += m->uffd >= 0 && (m->nq || (left_in(m) && armed && l->background &&
                                               !(i == 0 && l->filling)));
        }
        if (!live)
            break;
        uint32_t polled = l->nmms; /* (a fork adds one as we go) */
        pf[polled] = (struct pollfd){ l->background ? -1 : l->pidfd, POLLIN, 0 };
        pf[polled + 1] = (struct pollfd){ l->wake, POLLIN, 0 };
        if (poll(pf, polled + 2, work ? 0 : 100) < 0 && errno != EINTR) {
            fatal(l, errno, "lazy restart: poll: %s: the restarted process was killed", strerror(errno));
            break;
        }
        if (pf[polled].revents)
            l->background = 1;
        if (pf[polled + 1].revents) {
            uint64_t n;
            (void)!read(l->wake, &n, sizeof n);
            int e = __atomic_load_n(&l->fill_err, __ATOMIC_ACQUIRE);
            if (e) {
                fill_failure(l, e);
                break;
            }
        }
        if (l->filling && !__atomic_load_n(&l->fill_running, __ATOMIC_ACQUIRE))
            l->filling = 0; /* (whatever they left, the monitor copies) */
        int again = 0;
        for (uint32_t i = 0; i < polled && !l->failed; i++) {
            struct lazy_mm *m = &l->mms[i];
            if (m->uffd < 0)
                continue;
            int r = 0;
            if (pf[i].revents & (POLLIN | POLLERR | POLLHUP)) {
                pthread_rwlock_wrlock(&l->events); /* from reading the events to applying them */
                r = read_msgs(m);
                if (r == 0)
                    r = handle_events(l, i);
                pthread_rwlock_unlock(&l->events);
            }
            m = &l->mms[i];
            if (r == 0)
                r = handle_faults(l, i);
            if (r == -EAGAIN)
                again = 1;
            else if (r == -ESRCH) /* gone: exited or exec'd */
                mm_done(l, m);
            else if (r < -1) /* (dropping it would let its missing pages read zeros) */
                fatal(l, -r, "lazy restart: cannot read the events of the process's memory "
                      "(userfaultfd: %s): the restarted process was killed", strerror(-r));
        }
        /* one block in the background, the address spaces in turn */
        for (uint32_t n = 0; n < l->nmms && !l->failed && l->background && armed; n++) {
            uint32_t i = (turn + n) % l->nmms;
            struct lazy_mm *m = &l->mms[i];
            if (m->uffd < 0 || m->nq)
                continue;
            if (!left_in(m)) { /* all in: the registration goes with the fd */
                mm_done(l, m);
                continue;
            }
            if (i == 0 && l->filling)
                continue;
            while (m->next < l->nblocks && !m->unsettled[m->next])
                m->next++;
            if (m->next >= l->nblocks)
                continue;
            int r = fill(l, m, m->next);
            if (r == -EAGAIN)
                again = 1;
            else if (r == -ESRCH)
                mm_done(l, m);
            turn = (i + 1) % l->nmms;
            break;
        }
        if (again)
            sched_yield(); /* an event is on its way */
    }
    free(pf);
    clock_gettime(CLOCK_MONOTONIC, &l->t1);
    return NULL;
}

struct cr_lazy *cr_lazy_start(const struct ctx_image *img, int uffd, pid_t pid, char *err, size_t len)
{
    struct cr_lazy *l = calloc(1, sizeof *l);
    if (!l) {
        cr_say(err, len, ENOMEM, "out of memory");
        return NULL;
    }
    l->fd = fcntl(img->fd, F_DUPFD_CLOEXEC, 3);
    l->pid = pid;
    l->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    l->in_buf = -1;
    l->keeper = -1;
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_rwlockattr_t ra; /* (the monitor's turn comes before new copies: faults wait
                                for the copies under way, one block each, not more) */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&l->events, &ra);
    pthread_rwlockattr_destroy(&ra);
    const char *bg = getenv("CR_RESTART_LAZY_BACKGROUND");
    l->background = !bg || strcmp(bg, "0");
    l->blocks = calloc(img->hdr.nblocks + 1, sizeof *l->blocks);
    l->claimed = calloc(img->hdr.nblocks + 1, sizeof *l->claimed);
    l->mms = calloc(MAX_MMS, sizeof *l->mms);
    l->buf = malloc(CTX_BLOCK_MAX_PAGES * PAGE);
    if (l->fd < 0 || l->pidfd < 0 || l->wake < 0 || !l->blocks || !l->claimed || !l->mms || !l->buf) {
        cr_say(err, len, errno ? errno : ENOMEM, "cannot start the lazy restart: %s", strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    uint64_t first = UINT64_MAX;
    unsigned char *lazy = calloc(img->proc->nvmas + 1, 1);
    if (!lazy) {
        cr_say(err, len, ENOMEM, "cannot start the lazy restart: out of memory");
        goto fail;
    }
    cr_lazy_vmas(img, lazy);
    l->note = img->proc->runtime_state ? img->proc->runtime_state + RP_LAZY_NOTE_OFF : 0;
    for (uint32_t i = 0; i < img->hdr.nblocks; i++) {
        if (!lazy_block(img, lazy, i))
            continue;
        int fd;
        uint64_t off;
        ctx_block_source(img, i, &fd, &off);
        l->blocks[l->nblocks++] = (struct lazy_block){ img->blocks[i].addr, off,
                                                      img->blocks[i].npages, img->crcs[i] };
        first = off < first ? off : first;
    }
    free(lazy);
    qsort(l->blocks, l->nblocks, sizeof *l->blocks, by_addr);
    l->advised = first == UINT64_MAX ? 0 : first & ~(PAGE - 1);
    if (!mm_add(l, uffd, NULL)) {
        cr_say(err, len, ENOMEM, "cannot start the lazy restart: out of memory");
        goto fail;
    }
    uffd = -1; /* the address space's now */
    int ks[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ks) < 0) {
        cr_say(err, len, errno, "cannot start the lazy restart's keeper: %s", strerror(errno));
        goto fail;
    }
    pid_t kp = fork();
    if (kp == 0)
        keep(ks[1], l->mms[0].uffd, l->pidfd, pid);
    close(ks[1]);
    if (kp < 0) {
        close(ks[0]);
        cr_say(err, len, errno, "cannot start the lazy restart's keeper: %s", strerror(errno));
        goto fail;
    }
    l->keeper = ks[0];
    /* the filling threads (after the keeper's fork: no thread but this one then): each
     * copy allocates and fills its pages, the cost of the fill, and the kernel takes
     * them side by side; they read ahead now and copy once the restorer has registered
     * the memory */
    const char *nr = getenv("CR_RESTART_LAZY_READERS");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN); /* (one per CPU, from 2 to 4) */
    long threads = nr && *nr ? strtol(nr, NULL, 10) : cpus < 2 ? 2 : cpus > 4 ? 4 : cpus;
    struct lazy_fill_ops ops = { l, fill_wanted, fill_copy, fill_failed, fill_done };
    l->fill_running = 1;
    if (l->background && (l->fill = lazy_fill_start(l->fd, l->blocks, l->nblocks, (int)threads, &ops)))
        l->filling = 1;
    else
        l->fill_running = 0;
    clock_gettime(CLOCK_MONOTONIC, &l->t0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* cr_restart's signals stay with its main thread */
    int rc = pthread_create(&l->thread, NULL, serve, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        return l;
    cr_say(err, len, rc, "cannot start the lazy restart's thread: %s", strerror(rc));
fail:
    lazy_fill_stop(l->fill);
    if (uffd >= 0)
        close(uffd);
    for (uint32_t i = 0; l->mms && i < l->nmms; i++)
        mm_free(&l->mms[i], l->nblocks);
    if (l->fd >= 0)
        close(l->fd);
    if (l->pidfd >= 0)
        close(l->pidfd);
    if (l->keeper >= 0)
        close(l->keeper);
    if (l->wake >= 0)
        close(l->wake);
    pthread_rwlock_destroy(&l->events);
    free(l->blocks);
    free(l->claimed);
    free(l->mms);
    free(l->buf);
    free(l);
    return NULL;
}

void cr_lazy_arm(struct cr_lazy *l)
{
    __atomic_store_n(&l->armed, 1, __ATOMIC_RELEASE);
    lazy_fill_arm(l->fill);
}

int cr_lazy_finish(struct cr_lazy *l, char *err, size_t len, char *summary, size_t slen)
{
    pthread_join(l->thread, NULL);
    l->nfill = lazy_fill_threads(l->fill);
    lazy_fill_stop(l->fill); /* (through already, unless the process went first) */
    l->fill = NULL;
    int rc = 0;
    if (l->failed)
        rc = cr_say(err, len, l->failed, "%s", l->err);
    if (summary) {
        double s = (double)(l->t1.tv_sec - l->t0.tv_sec) + (l->t1.tv_nsec - l->t0.tv_nsec) / 1e9;
        snprintf(summary, slen, "lazy restart: %llu MiB put in on demand and in the background in "
                 "%.3f s (%llu faults, %llu forks followed, %d filling threads)",
                 (unsigned long long)(__atomic_load_n(&l->copied_pages, __ATOMIC_RELAXED) * PAGE >> 20), s,
                 (unsigned long long)l->faults, (unsigned long long)l->forks, l->nfill);
    }
    /* a failure leaves the address spaces registered: their processes are being
     * killed and must not read zeros in between */
    for (uint32_t i = 0; i < l->nmms; i++)
        if (!l->failed)
            mm_free(&l->mms[i], l->nblocks);
    /* (after a failure the process was reaped, killed: nothing is left to guard) */
    tell_keeper(l, KEEP_DONE, 0, -1);
    close(l->keeper);
    close(l->fd);
    close(l->pidfd);
    close(l->wake);
    pthread_rwlock_destroy(&l->events);
    free(l->blocks);
    free(l->claimed);
    free(l->mms);
    free(l->buf);
    free(l);
    return rc;
}
