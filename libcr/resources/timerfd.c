/* timerfds: saved with their clock, time left, interval, unread expirations and
 * settime flags (from /proc/self/fdinfo), armed again at restart (an absolute one for
 * now plus what was left); a new one for each process that shares one in a tree (made
 * by its pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static long long fdinfo_dec(const char *info, const char *key, int *found)
{
    const char *p = strstr(info, key);
    *found = p != NULL;
    return p ? strtoll(p + strlen(key), NULL, 10) : 0;
}

/* "it_value: (4, 997811907)" */
static int fdinfo_pair(const char *info, const char *key, int64_t *a, int64_t *b)
{
    const char *p = strstr(info, key);
    char *q;
    if (!p || !(p = strchr(p, '(')))
        return 0;
    *a = strtoll(p + 1, &q, 10);
    if (*q != ',')
        return 0;
    *b = strtoll(q + 1, NULL, 10);
    return 1;
}

static int detect_timerfd(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[timerfd]");
}

static int save_timerfd(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    /* a periodic timer that expired counts its expirations since and is armed again
     * only when asked (a read, or timerfd_gettime, which takes nothing): asked, so that
     * fdinfo's count and time left are the whole of it */
    struct itimerspec cur;
    timerfd_gettime(fd, &cur);
    const char *info = fdinfo(d, fd);
    int f1, f2;
    if (!info)
        return -EIO;
    struct ctx_timerfd t;
    memset(&t, 0, sizeof t);
    t.clockid = (int32_t)fdinfo_dec(info, "clockid:", &f1);
    t.ticks = (uint32_t)fdinfo_dec(info, "ticks:", &f2);
    if (!f1 || !f2 || !fdinfo_pair(info, "it_value:", &t.value_sec, &t.value_nsec) ||
        !fdinfo_pair(info, "it_interval:", &t.interval_sec, &t.interval_nsec))
        return fail(d, ENOTSUP, "fd %d: cannot read the timerfd's settings from fdinfo", fd);
    const char *fl = strstr(info, "settime flags:");
    unsigned long how = fl ? strtoul(fl + 14, NULL, 8) : 0;
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_TIMERFD, p->path, sizeof t);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->flags = (how & TFD_TIMER_ABSTIME ? CTX_FD_TIMERFD_ABSTIME : 0) |
               (how & TFD_TIMER_CANCEL_ON_SET ? CTX_FD_TIMERFD_CANCEL_ON_SET : 0);
    file_id_of(&p->st, &r->id);
    memcpy((char *)(r + 1) + r->path_len, &t, sizeof t);
    return 0;
}

static int make_timerfd(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_timerfd tv; /* after the path: not aligned */
    memcpy(&tv, (const char *)(f + 1) + f->path_len, sizeof tv);
    const struct ctx_timerfd *t = &tv;
    struct itimerspec it = { { (time_t)t->interval_sec, (long)t->interval_nsec },
                             { (time_t)t->value_sec, (long)t->value_nsec } };
    int obj = timerfd_create(t->clockid, TFD_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot create the timerfd of fd %d: %s", f->fd, strerror(errno));
    /* the expirations not read yet, counted exactly where the kernel lets them be set
     * (TFD_IOC_SET_TICKS, CONFIG_CHECKPOINT_RESTORE; after the settime, which clears
     * them); else one comes at once */
    uint64_t ticks = t->ticks;
    int counted = 0;
    if (ticks) { /* whether the kernel has the ioctl, on a timer not armed yet */
        uint64_t one = 1;
        counted = ioctl(obj, TFD_IOC_SET_TICKS, &one) == 0;
    }
    if (ticks && !counted)
        it.it_value = (struct timespec){ 0, 1 };
    int how = 0;
    if ((f->flags & CTX_FD_TIMERFD_ABSTIME) && (it.it_value.tv_sec || it.it_value.tv_nsec) &&
        !(ticks && !counted)) {
        /* armed for a moment of its clock again: now plus what was left */
        struct timespec now;
        if (clock_gettime(t->clockid, &now) < 0)
            child_fail(c, errno, "cannot read clock %d for the timerfd of fd %d: %s", t->clockid,
                       f->fd, strerror(errno));
        it.it_value.tv_sec += now.tv_sec;
        it.it_value.tv_nsec += now.tv_nsec;
        if (it.it_value.tv_nsec >= 1000000000L) {
            it.it_value.tv_sec++;
            it.it_value.tv_nsec -= 1000000000L;
        }
        how = TFD_TIMER_ABSTIME | (f->flags & CTX_FD_TIMERFD_CANCEL_ON_SET ? TFD_TIMER_CANCEL_ON_SET : 0);
    }
    if (timerfd_settime(obj, how, &it, NULL) < 0 ||
        (counted && ioctl(obj, TFD_IOC_SET_TICKS, &ticks) < 0))
        child_fail(c, errno, "cannot set up the timerfd of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

static int valid_timerfd(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == sizeof(struct ctx_timerfd) &&
           !(f->flags & ~(uint32_t)(CTX_FD_TIMERFD_ABSTIME | CTX_FD_TIMERFD_CANCEL_ON_SET)) &&
           (!(f->flags & CTX_FD_TIMERFD_CANCEL_ON_SET) || (f->flags & CTX_FD_TIMERFD_ABSTIME));
}

static void describe_timerfd(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_timerfd tf; /* after the path: not aligned */
    memcpy(&tf, fd_rec_extra(f), sizeof tf);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  clock %d, next in %lld.%09lld s%s%s, every %lld.%09lld s, %u unread\n", tf.clockid,
            (long long)tf.value_sec, (long long)tf.value_nsec,
            f->flags & CTX_FD_TIMERFD_ABSTIME ? " (armed for a moment of its clock" : "",
            f->flags & CTX_FD_TIMERFD_ABSTIME ? (f->flags & CTX_FD_TIMERFD_CANCEL_ON_SET
                                                 ? ", cancelled if the clock is set)" : ")") : "",
            (long long)tf.interval_sec, (long long)tf.interval_nsec, tf.ticks);
}

const struct cr_fd_ops cr_fd_timerfd = {
    .kind = CTX_FD_TIMERFD, .name = "timerfd", .detect = detect_timerfd, .save = save_timerfd,
    .make = make_timerfd, .restore_nonblock = 1,
    .valid = valid_timerfd, .describe = describe_timerfd,
};
