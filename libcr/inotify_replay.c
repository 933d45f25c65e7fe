/* Events an inotify instance had queued and not read at a checkpoint, served to the
 * program again by its read().
 *
 * Why served rather than caused again: the kernel shows an instance's queue only by
 * reading it, which takes the events from it, and has no call to put one back; causing
 * them again on the file system is not possible for most (a delete, a move and its
 * cookie, an unmount) and every other watcher of the file would see them too.  So the
 * checkpoint reads them (they go into the image, resources/inotify_queued.c) and the
 * runtime keeps them in the process's memory: the process that goes on, one whose
 * checkpoint failed, and a restored copy (this memory is part of its image) all get
 * them back from read(), in order and as the kernel returns events (as many whole ones
 * as fit, EINVAL when the first does not), followed by what the kernel queued since.
 *
 * So that poll, select, epoll and a blocking read find the instance readable as
 * before, a watch of our own (on a pipe of ours) is added and removed at once: its
 * IN_IGNORED stays queued in the kernel behind the events, is never returned to the
 * program, and is made again at restart under the same number.  What that costs: a
 * watch the program adds afterwards gets the number after it (the same after a restart
 * as in the process that went on).
 *
 * Not served: a read through another fd of the instance (a dup), by syscall() or
 * io_uring; and the kernel's merging of an event identical to the last one queued
 * does not reach back into the kept ones. */
#define _GNU_SOURCE
#include "dump.h"
#include "held_reads.h"
#include "inotify_replay.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_REPLAYS 16


struct replay {
    int fd;                    /* -1: free */
    dev_t dev;                 /* an inotify instance's (they share one inode): an fd */
    ino_t ino;                 /* number closed behind our back and used again is not it */
    int32_t sentinel;          /* the watch whose IN_IGNORED is queued behind the events */
    char *buf;                 /* mmap'd: the memory is the process's, saved with it */
    size_t map_len, len, off;  /* served up to off */
};

static struct replay replays[MAX_REPLAYS] = { [0 ... MAX_REPLAYS - 1] = { .fd = -1 } };
int cr_inotify_nreplays;       /* in use: read() looks no further while 0 */
#define nreplays cr_inotify_nreplays
#define lock cr_held_lock
#define unlock cr_held_unlock

static struct replay *find(int fd)
{
    for (int i = 0; i < MAX_REPLAYS; i++)
        if (replays[i].fd == fd && fd >= 0)
            return &replays[i];
    return NULL;
}

static void drop(struct replay *r)
{
    if (r->buf)
        munmap(r->buf, r->map_len);
    *r = (struct replay){ .fd = -1 };
    __atomic_sub_fetch(&nreplays, 1, __ATOMIC_RELEASE);
}

/* Takes the events at buf (n bytes, whole events) of the watch wd out; the bytes left. */
static size_t strip_wd(char *buf, size_t n, int32_t wd, int *seen)
{
    size_t in = 0, out = 0;
    while (in + sizeof(struct inotify_event) <= n) {
        struct inotify_event e;
        memcpy(&e, buf + in, sizeof e);
        size_t sz = sizeof e + e.len;
        if (sz > n - in)
            break;
        if (e.wd == wd && wd > 0)
            *seen = 1;
        else {
            memmove(buf + out, buf + in, sz);
            out += sz;
        }
        in += sz;
    }
    return out;
}

static int queued(int fd)
{
    int n = 0;
    return ioctl(fd, FIONREAD, &n) < 0 ? 0 : n;
}

/* What the kernel queued after the kept events, without our sentinel, into buf (room
 * bytes): never waits (only what FIONREAD says is there is read). */
static size_t from_kernel(struct replay *r, int fd, char *buf, size_t room, int *seen)
{
    size_t got = 0;
    while (room - got >= sizeof(struct inotify_event) && queued(fd) > 0) {
        ssize_t k = syscall(SYS_read, fd, buf + got, room - got);
        if (k <= 0)
            break; /* EINVAL: the next one does not fit */
        got += strip_wd(buf + got, (size_t)k, r->sentinel, seen);
    }
    return got;
}

/* The kept events are served: the kernel's queue starts with our sentinel (or, if
 * events came while it was being made, with them).  Its head is read into a buffer of
 * one event without a name: our sentinel ends the replay (1); another such event is
 * kept to be served in its turn (0); a longer one does not fit and stays (-1). */
static int settle(struct replay *r, int fd)
{
    struct inotify_event e;
    r->off = r->len = 0;
    if (queued(fd) == 0)
        return 1; /* no sentinel left: another reader of the instance took it */
    if (syscall(SYS_read, fd, &e, sizeof e) != (long)sizeof e)
        return -1;
    if (e.wd == r->sentinel)
        return 1;
    memcpy(r->buf, &e, sizeof e);
    r->len = sizeof e;
    return 0;
}

int cr_inotify_serve(int fd, void *vbuf, size_t n, ssize_t *out)
{
    char *buf = vbuf;
    if (!find(fd)) /* (a look without the lock first: reads of other fds pay nothing more) */
        return 0;
    sigset_t old;
    lock(&old);
    struct replay *r = find(fd);
    struct stat st;
    if (r && (fstat(fd, &st) < 0 || st.st_dev != r->dev || st.st_ino != r->ino)) {
        drop(r);
        r = NULL;
    }
    if (!r) {
        unlock(&old);
        return 0;
    }
    size_t got = 0;
    int err = 0, done = 0, head_long = 0;
    for (;;) {
        while (r->off < r->len) {
            struct inotify_event e;
            memcpy(&e, r->buf + r->off, sizeof e);
            size_t sz = sizeof e + e.len;
            if (sz > n - got)
                break;
            memcpy(buf + got, r->buf + r->off, sz);
            got += sz;
            r->off += sz;
        }
        if (r->off < r->len)
            break; /* the next one does not fit */
        int s = settle(r, fd);
        if (s == 1)
            done = 1;
        head_long = s < 0;
        if (s != 0)
            break;
    }
    if (got == 0 && r->off < r->len)
        err = EINVAL; /* as the kernel says when the first event does not fit */
    else if (head_long) { /* events came before the sentinel: the kernel's, without it */
        int seen = 0;
        got += from_kernel(r, fd, buf + got, n - got, &seen);
        done = seen;
    } else if (done && got > 0 && queued(fd) > 0) { /* the rest, as one read would give it */
        ssize_t k = syscall(SYS_read, fd, buf + got, n - got);
        if (k > 0)
            got += (size_t)k;
    }
    if (done)
        drop(r);
    unlock(&old);
    if (!err && got == 0)
        return 0; /* nothing kept any more: the kernel answers, waiting if the fd does */
    if (err) {
        errno = err;
        *out = -1;
    } else
        *out = (ssize_t)got;
    return 1;
}

void cr_inotify_replay_closed(int first, int last)
{
    if (!__atomic_load_n(&nreplays, __ATOMIC_ACQUIRE))
        return;
    sigset_t old;
    lock(&old);
    for (int i = 0; i < MAX_REPLAYS; i++)
        if (replays[i].fd >= first && replays[i].fd <= last)
            drop(&replays[i]);
    unlock(&old);
}

size_t cr_inotify_held(int fd)
{
    struct replay *r = find(fd);
    return r ? r->len - r->off : 0;
}

/* Is the event at p (n bytes there) our watch wd's? */
static int is_wd(const char *p, size_t n, int32_t wd)
{
    struct inotify_event e;
    if (n < sizeof e)
        return 0;
    memcpy(&e, p, sizeof e);
    return e.wd == wd;
}

/* Adds and removes a watch on a pipe of ours: its number, or -errno. */
static int add_sentinel(int fd, int remove)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[0]);
    int wd = inotify_add_watch(fd, path, IN_ACCESS);
    int e = errno;
    if (wd > 0 && remove)
        inotify_rm_watch(fd, wd);
    close(p[0]);
    close(p[1]);
    return wd > 0 ? wd : -e;
}

ssize_t cr_inotify_keep(struct dump *d, int fd, char *out, size_t cap, int32_t *sentinel, uint32_t *nevents)
{
    struct replay *r = find(fd);
    size_t held = r ? r->len - r->off : 0, k = 0;
    int pending = queued(fd), seen = 0;
    if (r && held == 0 && (size_t)pending <= sizeof(struct inotify_event)) {
        /* its last checkpoint's sentinel, alone: read it, and nothing is queued */
        ssize_t got = pending ? syscall(SYS_read, fd, out, cap) : 0;
        if (got <= 0 || is_wd(out, (size_t)got, r->sentinel)) {
            drop(r);
            return 0;
        }
        k = (size_t)got; /* an event after all: kept below */
        pending = 0;
    }
    if (!held && !pending && !k)
        return 0;
    if (held + (size_t)pending > cap || held + (size_t)pending + k > cap)
        return fail(d, E2BIG, "fd %d: its inotify instance has %zu bytes of events not read "
                    "yet, more than a checkpoint saves (%zu): nothing was written and the "
                    "process keeps running: checkpoint it once it has read them", fd,
                    held + (size_t)pending + k, cap);
    struct replay *slot = r;
    for (int i = 0; !slot && i < MAX_REPLAYS; i++)
        if (replays[i].fd < 0)
            slot = &replays[i];
    if (!slot)
        return fail(d, ENOSPC, "fd %d: more than %d inotify instances with events not read "
                    "yet: nothing was written and the process keeps running: checkpoint it "
                    "once it has read them", fd, MAX_REPLAYS);
    size_t map_len = (cap + 4095) & ~(size_t)4095;
    char *buf = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        return fail(d, errno, "fd %d: no memory to keep its inotify events: %s", fd, strerror(errno));
    /* the new sentinel's watch first: if it cannot be had, nothing is taken */
    int wd = add_sentinel(fd, 0);
    if (wd < 0) {
        munmap(buf, map_len);
        if (k && r) { /* the one event taken above goes back to the old entry */
            memcpy(r->buf, out, k);
            r->off = 0;
            r->len = k;
        }
        return fail(d, -wd, "fd %d: cannot add the watch that keeps its inotify instance "
                    "readable while its queued events are served (%s): nothing was written "
                    "and the process keeps running", fd, strerror(-wd));
    }
    if (held)
        memmove(out + held, out, k), memcpy(out, r->buf + r->off, held);
    size_t got = held + k;
    if (pending > 0) {
        ssize_t n = syscall(SYS_read, fd, out + got, (size_t)pending);
        if (n > 0)
            got += strip_wd(out + got, (size_t)n, r ? r->sentinel : 0, &seen);
    }
    inotify_rm_watch(fd, wd); /* its IN_IGNORED: queued behind whatever the kernel has */
    memcpy(buf, out, got);
    uint32_t count = 0;
    for (size_t off = 0; off + sizeof(struct inotify_event) <= got; count++) {
        struct inotify_event e;
        memcpy(&e, out + off, sizeof e);
        off += sizeof e + e.len;
    }
    if (r)
        drop(r); /* its sentinel was read with the rest (or by the program) */
    struct stat st;
    if (fstat(fd, &st) < 0)
        st.st_dev = 0, st.st_ino = 0;
    *slot = (struct replay){ .fd = fd, .dev = st.st_dev, .ino = st.st_ino, .sentinel = wd, .buf = buf,
                             .map_len = map_len, .len = got };
    __atomic_add_fetch(&nreplays, 1, __ATOMIC_RELEASE);
    *sentinel = wd;
    *nevents = count;
    return (ssize_t)got;
}
