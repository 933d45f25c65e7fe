/* Dirty-page tracking for incremental checkpoints (dirty_track.h).
 *
 * At the freeze of a checkpoint asked incremental, every private region of the
 * process is registered with the runtime's userfaultfd in write-protect mode, async
 * (UFFD_FEATURE_WP_ASYNC: a write clears the page's protection in the kernel, with no
 * message and no signal to anyone), and write-protected.  At the next one's freeze,
 * PAGEMAP_SCAN lists the pages written since (the kernel's own writes too: read(),
 * AIO) and protects them again in the same walk.  A region registered before this
 * freeze ("uw" in smaps) was therefore in the parent as it was then, and its pages
 * not written since are the parent's; a region mapped since (a new mmap, one moved
 * by mremap: the kernel drops the registration) is not registered and is saved
 * whole.
 *
 * Refused (full checkpoints, the reason told to the requester): a kernel without
 * WP_ASYNC or PAGEMAP_SCAN (before 6.7); a program with a userfaultfd of its own (its
 * registrations would collide with ours); pinned memory (VmPin: RDMA, io_uring fixed
 * buffers), which devices write without the page tables. */
#define _GNU_SOURCE
#include "dirty_track.h"
#include "uffd_compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/userfaultfd.h>

#include "control.h"
#include "dump.h"
#include "runtime.h"


/* Images in a chain before the next checkpoint is full again (CTX_CHAIN_MAX bounds
 * what a reader follows). */
#define CHAIN_LIMIT 16

static struct {
    pid_t pid;                 /* the process this state belongs to */
    int uffd;                  /* -1 until the first incremental checkpoint */
    int broken;                /* no tracking in this process: the reason is in why */
    char why[200];
    int armed;                 /* the regions were protected at the last job's freeze */
    int have_parent;           /* the last incremental job's file is in place */
    struct cr_track_parent last;
    uint64_t dev, ino;         /* that file */
    char dir[CTX_PATH_MAX];    /* the directory it was written in */
    /* the job under way */
    int want;                  /* it asked incremental and tracking works here */
    int incr;                  /* and it refers to the last one */
    struct cr_track_parent next;
    char next_dir[CTX_PATH_MAX];
} trk = { .uffd = -1 };

static void note(struct cr_job *job, const char *fmt, const char *arg)
{
    if (!job->msg[0]) {
        snprintf(job->msg, sizeof job->msg, "a full checkpoint: ");
        size_t n = strlen(job->msg);
        snprintf(job->msg + n, sizeof job->msg - n, fmt, arg);
    }
}

static void forget(int close_fd)
{
    if (close_fd && trk.uffd >= 0)
        close(trk.uffd);
    int keep_pid = trk.pid;
    memset(&trk, 0, sizeof trk);
    trk.uffd = -1;
    trk.pid = keep_pid;
}

void cr_track_forked(void)
{
    if (trk.uffd >= 0)
        cr_internal_fd_del(trk.uffd);
    forget(1);
    trk.pid = getpid();
}

void cr_track_restored(void)
{
    forget(0); /* its number is not ours in the restored process */
    trk.pid = getpid();
}

static int also_ours = -1; /* the pre-copy's userfaultfd (precopy.c), while it checks */

static int each_fd(long n, void *arg)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%ld", n);
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len <= 0 || (int)n == trk.uffd || (int)n == also_ours)
        return 0;
    link[len] = 0;
    if (strcmp(link, "anon_inode:[userfaultfd]"))
        return 0;
    *(long *)arg = n;
    return 1;
}

/* Why this process cannot be tracked now, or NULL. */
static const char *untrackable(char *buf, size_t len)
{
    long fd = -1;
    if (cr_each_number("/proc/self/fd", each_fd, &fd) > 0) {
        snprintf(buf, len, "the program has a userfaultfd of its own (fd %ld), which dirty-page "
                 "tracking would disturb", fd);
        return buf;
    }
    char status[4096];
    if (cr_read_text("/proc/self/status", status, sizeof status) > 0) {
        const char *p = strstr(status, "\nVmPin:");
        if (p && strtoull(p + 7, NULL, 10) > 0) {
            snprintf(buf, len, "%llu kB of the program's memory is pinned (VmPin: RDMA, io_uring "
                     "fixed buffers), which devices write without the page tables seeing it",
                     strtoull(p + 7, NULL, 10));
            return buf;
        }
    }
    return NULL;
}

const char *cr_track_untrackable(int ours, char *buf, size_t len)
{
    also_ours = ours;
    const char *why = untrackable(buf, len);
    also_ours = -1;
    return why;
}

int cr_track_in_use(void)
{
    return trk.uffd >= 0;
}

static int open_uffd(void)
{
    cr_fd_section_begin();
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    int e = errno;
    if (fd >= 0)
        fd = cr_keep_high(fd);
    cr_fd_section_end();
    if (fd < 0) {
        snprintf(trk.why, sizeof trk.why, "userfaultfd is not available (%s)%s", strerror(e),
                 e == EPERM ? ": vm.unprivileged_userfaultfd"
                 : e == EINVAL ? ": this kernel predates UFFD_USER_MODE_ONLY (Linux 5.11); the "
                                 "dirty-page tracking needs Linux 6.7 and newer" : "");
        return -1;
    }
    struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
    if (ioctl(fd, UFFDIO_API, &api) < 0 || !(api.features & UFFD_FEATURE_WP_ASYNC)) {
        snprintf(trk.why, sizeof trk.why, "this kernel has no asynchronous userfaultfd "
                 "write-protection (UFFD_FEATURE_WP_ASYNC, Linux 6.7 and newer): %s",
                 strerror(errno));
        close(fd);
        return -1;
    }
    /* PAGEMAP_SCAN came with it; asked once, on nothing, to be sure */
    int pm = cr_open_private("/proc/self/pagemap", O_RDONLY);
    struct pm_scan_arg arg = { .size = sizeof arg };
    if (pm < 0 || ioctl(pm, PAGEMAP_SCAN, &arg) < 0) {
        snprintf(trk.why, sizeof trk.why, "this kernel has no PAGEMAP_SCAN ioctl (Linux 6.7 and "
                 "newer): %s", strerror(errno));
        if (pm >= 0)
            close(pm);
        close(fd);
        return -1;
    }
    close(pm);
    trk.uffd = fd;
    cr_internal_fd_add(fd);
    return 0;
}

/* The directory of the file fd was opened in (an O_TMPFILE's too), into dir. */
static int dir_of(int fd, char *dir, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, dir, len - 1);
    if (n <= 0 || dir[0] != '/')
        return -1;
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;
    return 0;
}

/* The last file's name in its directory now, by its inode: the requester gave it
 * its final name after we wrote it. */
static int find_last(char *name, size_t len)
{
    DIR *dir = opendir(trk.dir);
    if (!dir)
        return -1;
    int found = -1;
    struct dirent *e;
    while (found < 0 && (e = readdir(dir))) {
        struct stat st;
        if (e->d_ino != trk.ino || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_dev == trk.dev && (uint64_t)st.st_ino == trk.ino &&
            (uint64_t)st.st_size == trk.last.file_length) {
            snprintf(name, len, "%s", e->d_name);
            found = 0;
        }
    }
    closedir(dir);
    return found;
}

void cr_track_prepare(struct cr_job *job)
{
    if (trk.pid != getpid())
        cr_track_restored(); /* not expected: the hooks reset it */
    trk.want = trk.incr = 0;
    if (!(job->flags & CR_CTL_INCREMENTAL))
        return;
    char why[300];
    const char *no = untrackable(why, sizeof why);
    if (no) {
        note(job, "%s", no);
        if (trk.uffd >= 0) { /* its close unregisters everything: the program's own
                                userfaultfd may register the memory we had */
            cr_internal_fd_del(trk.uffd);
            close(trk.uffd);
            trk.uffd = -1;
        }
        trk.armed = trk.have_parent = 0;
        return;
    }
    if (trk.broken || (trk.uffd < 0 && open_uffd() < 0)) {
        trk.broken = 1;
        note(job, "%s", trk.why);
        return;
    }
    if (dir_of(job->fd, trk.next_dir, sizeof trk.next_dir) < 0) {
        note(job, "%s", "the new file's directory is unknown");
        return;
    }
    trk.want = 1;
    if (!trk.have_parent || !trk.armed) {
        note(job, "%s", CR_NOTE_FIRST " (the next ones store what changed since)");
        return;
    }
    if (trk.last.depth + 1 >= CHAIN_LIMIT) {
        note(job, "%s", "the chain has its greatest length");
        return;
    }
    char name[256];
    if (find_last(name, sizeof name) < 0) {
        char msg[CTX_PATH_MAX + 64];
        snprintf(msg, sizeof msg, "the previous checkpoint is no longer in %s as written", trk.dir);
        note(job, "%s", msg);
        return;
    }
    trk.next = trk.last;
    trk.next.depth = trk.last.depth + 1;
    int same = !strcmp(trk.dir, trk.next_dir);
    int n = same ? snprintf(trk.next.name, sizeof trk.next.name, "%s", name)
                 : snprintf(trk.next.name, sizeof trk.next.name, "%s%s%s", trk.dir,
                            strcmp(trk.dir, "/") ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof trk.next.name) {
        note(job, "%s", "the previous checkpoint's path is too long");
        return;
    }
    trk.incr = 1;
}

/* PAGEMAP_SCAN of [start, end): the written pages appended to d's list, protected
 * again.  -1 when the list is full or the kernel refuses. */
static int scan(struct dump *d, int pm, uint64_t start, uint64_t end)
{
    struct cr_page_region *vec = (struct cr_page_region *)(d->scratch + DIRTY_OFF);
    uint64_t cap = DIRTY_SIZE / sizeof *vec;
    while (start < end) {
        if (d->ndirty >= cap)
            return -1;
        struct pm_scan_arg arg = {
            .size = sizeof arg, .flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
            .start = start, .end = end, .vec = (uint64_t)(uintptr_t)(vec + d->ndirty),
            .vec_len = cap - d->ndirty, .category_mask = PAGE_IS_WRITTEN,
            .return_mask = PAGE_IS_WRITTEN,
        };
        long n = ioctl(pm, PAGEMAP_SCAN, &arg);
        if (n < 0)
            return -1;
        d->ndirty += (uint32_t)n;
        if (arg.walk_end <= start)
            return -1;
        start = arg.walk_end;
    }
    return 0;
}

/* Private anonymous memory that can be read: what an image may take from its parent
 * (dump_incremental.c).  Nothing else is registered: write-protecting a file's
 * mapping, or memory without access, leaves markers in its page tables that the page
 * map shows as swapped pages (a dump in the frozen process would save them). */
static int trackable_region(const struct vm_region *r)
{
    return r->private_map && !r->special && !r->file && r->readable;
}

void cr_track_freeze(struct dump *d)
{
    d->incr = 0;
    d->ndirty = 0;
    if (d->tree) /* one of a tree's processes (not a tree of one): saved whole */
        trk.want = 0;
    if (!trk.want || trk.pid != getpid())
        return;
    int pm = -1;
    if (trk.incr) {
        pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        int ok = pm >= 0;
        for (uint32_t i = 0; ok && i < d->nregions; i++)
            if (d->regions[i].tracked && trackable_region(&d->regions[i]))
                ok = scan(d, pm, d->regions[i].start, d->regions[i].end) == 0;
        if (pm >= 0)
            close(pm);
        if (ok) {
            d->incr = 1;
            d->parent = trk.next;
            d->dirty = (const struct cr_page_region *)(d->scratch + DIRTY_OFF);
        } else {
            d->ndirty = 0; /* saved whole; what the scan protected is protected again below */
        }
    }
    trk.incr = d->incr;
    /* every private region protected from now: registered first if it is new */
    trk.armed = 1;
    for (uint32_t i = 0; i < d->nregions; i++) {
        const struct vm_region *r = &d->regions[i];
        if (!trackable_region(r))
            continue;
        struct uffdio_range range = { r->start, r->end - r->start };
        if (!r->tracked) {
            struct uffdio_register reg = { .range = range, .mode = UFFDIO_REGISTER_MODE_WP };
            if (ioctl(trk.uffd, UFFDIO_REGISTER, &reg) < 0)
                continue; /* (a device's mapping, say): not registered, so saved whole */
        } else if (d->incr) {
            continue; /* the scan protected it again */
        }
        struct uffdio_writeprotect wp = { .range = range, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
        if (ioctl(trk.uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
            trk.armed = 0; /* its writes since could be missed: the next is full */
            struct uffdio_range un = range;
            ioctl(trk.uffd, UFFDIO_UNREGISTER, &un);
        }
    }
}

void cr_track_done(struct cr_job *job)
{
    if (!trk.want)
        return; /* a full checkpoint not asked incremental: the tracking goes on */
    trk.want = 0;
    struct stat st;
    if (job->err || !job->bytes || fstat(job->fd, &st) < 0) {
        trk.have_parent = 0; /* what the scan said is gone with it */
        return;
    }
    trk.have_parent = 1;
    trk.last = trk.incr ? trk.next : (struct cr_track_parent){ 0 };
    if (!trk.incr)
        trk.last.depth = 0;
    trk.last.header_crc = job->image_crc;
    trk.last.created_ns = job->image_created_ns;
    trk.last.file_length = job->bytes;
    trk.last.name[0] = 0;
    trk.dev = (uint64_t)st.st_dev;
    trk.ino = (uint64_t)st.st_ino;
    memcpy(trk.dir, trk.next_dir, sizeof trk.dir);
}
