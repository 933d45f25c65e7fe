/* fanotify groups, as an unprivileged process has them (FAN_CLASS_NOTIF with inode
 * marks, Linux 5.13 on): saved with their init flags and each mark's masks and flags,
 * with a path of the marked inode found as inotify's watches are (fdinfo names marks by
 * inode and file handle, and opening by handle needs CAP_DAC_READ_SEARCH); made again
 * at restart with fanotify_init and fanotify_mark by path.  Refused by name: events
 * queued and not read (only reading them shows them, which takes them), mount and
 * filesystem marks (root's), and a marked inode whose path is not found. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context_reader.h"
#include "inotify.h"

#define MARK_FLAGS_KNOWN (FAN_MARK_IGNORED_SURV_MODIFY | 0x200 /* FAN_MARK_EVICTABLE */)

/* ---- dump ---- */

static int detect_fanotify(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[fanotify]");
}

static int save_fanotify(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd, pending = 0;
    if (ioctl(fd, FIONREAD, &pending) == 0 && pending > 0)
        return fail(d, ENOTSUP, "fd %d: its fanotify group has %d bytes of events not read yet, "
                    "which only reading them shows (taking them from the program): nothing was "
                    "written and the process keeps running: checkpoint it once it has read them",
                    fd, pending);
    const char *info = fdinfo(d, fd);
    if (!info)
        return -EIO;
    const char *g = strstr(info, "fanotify flags:"), *ef = g ? strstr(g, " event-flags:") : NULL;
    if (!g || !ef)
        return fail(d, EIO, "fd %d: cannot parse its fanotify group", fd);
    struct ctx_fanotify fa = { .flags = (uint32_t)strtoul(g + 15, NULL, 16),
                               .event_f_flags = (uint32_t)strtoul(ef + 13, NULL, 16) };
    if (fa.flags & ~(uint32_t)(FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_NOTIF | FAN_REPORT_TID |
                               FAN_REPORT_FID | FAN_REPORT_DIR_FID | FAN_REPORT_NAME |
                               FAN_REPORT_TARGET_FID | FAN_REPORT_PIDFD | FAN_ENABLE_AUDIT |
                               FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS | FAN_CLASS_CONTENT |
                               FAN_CLASS_PRE_CONTENT))
        return fail(d, ENOTSUP, "fd %d: its fanotify group has flags 0x%x this version does not "
                    "know", fd, fa.flags);
    char *out = d->scratch + FDINFO_OFF + FDINFO_SIZE, *end = d->scratch + BOUNCE_OFF + BOUNCE_SIZE;
    size_t used = 0;
    for (const char *q = g + 15; (q = strstr(q, "\nfanotify ")); q += 10) {
        const char *line_end = strchr(q + 1, '\n');
        const char *ino = strstr(q, " ino:"), *sdev = strstr(q, " sdev:"), *mf = strstr(q, " mflags:"),
                   *mask = strstr(q, " mask:"), *ign = strstr(q, " ignored_mask:");
        if (!strncmp(q, "\nfanotify mnt_id:", 17) || !ino || (line_end && ino > line_end))
            return fail(d, ENOTSUP, "fd %d: its fanotify group marks a mount or a filesystem, "
                        "which a restart cannot mark again without privilege", fd);
        if (!sdev || !mf || !mask || !ign)
            return fail(d, EIO, "fd %d: cannot parse a mark of its fanotify group", fd);
        struct ctx_fanotify_mark m = { .mask = (uint32_t)strtoul(mask + 6, NULL, 16),
                                       .ignored_mask = (uint32_t)strtoul(ign + 14, NULL, 16),
                                       .mflags = (uint32_t)strtoul(mf + 8, NULL, 16) };
        unsigned long long i = strtoull(ino + 5, NULL, 16);
        unsigned long dev = strtoul(sdev + 6, NULL, 16);
        if (m.mflags & ~(uint32_t)MARK_FLAGS_KNOWN)
            return fail(d, ENOTSUP, "fd %d: a mark of its fanotify group has flags 0x%x this "
                        "version does not know", fd, m.mflags);
        char path[CTX_PATH_MAX];
        if (!watched_path(d, s, i, (unsigned)(dev >> 20), (unsigned)(dev & 0xfffff), path))
            return fail(d, ENOTSUP, "fd %d: its fanotify group marks inode %llu of device %lu:%lu, "
                        "whose path was not found (looked near the process's open files and below "
                        "its working directory): remove the mark before the checkpoint", fd, i,
                        dev >> 20, dev & 0xfffff);
        m.path_len = (uint32_t)strlen(path) + 1;
        if ((size_t)(end - out) - used < sizeof m + m.path_len)
            return fail(d, E2BIG, "fd %d: too many fanotify marks to save", fd);
        memcpy(out + used, &m, sizeof m);
        memcpy(out + used + sizeof m, path, m.path_len);
        used += sizeof m + m.path_len;
        fa.nmarks++;
    }
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_FANOTIFY, p->path, sizeof fa + used);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    file_id_of(&p->st, &r->id);
    char *extra = (char *)(r + 1) + r->path_len;
    memcpy(extra, &fa, sizeof fa);
    memcpy(extra + sizeof fa, out, used);
    return 0;
}

/* ---- restart ---- */

static struct ctx_fanotify group_of(const struct ctx_fd *f)
{
    struct ctx_fanotify fa;
    memcpy(&fa, fd_rec_extra(f), sizeof fa);
    return fa;
}

/* Every marked path must be there again. */
static int check_fanotify(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len)
{
    (void)o;
    const char *extra = (const char *)fd_rec_extra(f);
    for (size_t off = sizeof(struct ctx_fanotify); off < f->extra_len;) {
        struct ctx_fanotify_mark m;
        memcpy(&m, extra + off, sizeof m);
        const char *path = extra + off + sizeof m;
        off += sizeof m + m.path_len;
        struct stat st;
        if (stat(path, &st) < 0) {
            int e = errno;
            return cr_say(err, len, e, "the fanotify group of fd %d marks %s, which %s (%s): make "
                          "it again at that path, or remove the mark before the checkpoint", f->fd,
                          path, e == ENOENT ? "is gone" : "cannot be reached", strerror(e));
        }
    }
    return 0;
}

static int make_fanotify(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_fanotify fa = group_of(f);
    int g = fanotify_init((fa.flags & ~(unsigned)(FAN_CLOEXEC | FAN_NONBLOCK)) | FAN_CLOEXEC | FAN_NONBLOCK,
                          fa.event_f_flags);
    if (g < 0)
        child_fail(c, errno, "cannot make the fanotify group of fd %d again (flags 0x%x): %s", f->fd,
                   fa.flags, strerror(errno));
    const char *extra = (const char *)fd_rec_extra(f);
    for (size_t off = sizeof fa; off < f->extra_len;) {
        struct ctx_fanotify_mark m;
        memcpy(&m, extra + off, sizeof m);
        const char *path = extra + off + sizeof m;
        off += sizeof m + m.path_len;
        unsigned flags = FAN_MARK_ADD | (m.mflags & MARK_FLAGS_KNOWN);
        if ((m.mask && fanotify_mark(g, flags, m.mask, AT_FDCWD, path) < 0) ||
            (m.ignored_mask && fanotify_mark(g, flags | FAN_MARK_IGNORED_MASK, m.ignored_mask,
                                             AT_FDCWD, path) < 0))
            child_fail(c, errno, "cannot mark %s again for the fanotify group of fd %d: %s", path,
                       f->fd, strerror(errno));
    }
    return g;
}

static int valid_fanotify(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    if (f->extra_len < sizeof(struct ctx_fanotify))
        return 0;
    struct ctx_fanotify fa = group_of(f);
    const char *extra = (const char *)fd_rec_extra(f);
    uint32_t marks = 0;
    size_t off = sizeof fa;
    while (off < f->extra_len) {
        struct ctx_fanotify_mark m;
        if (f->extra_len - off < sizeof m)
            return 0;
        memcpy(&m, extra + off, sizeof m);
        off += sizeof m;
        if ((m.mflags & ~(uint32_t)MARK_FLAGS_KNOWN) || m.path_len < 2 || f->extra_len - off < m.path_len ||
            extra[off] != '/' || strlen(extra + off) != m.path_len - 1)
            return 0;
        off += m.path_len;
        marks++;
    }
    return marks == fa.nmarks && !fa.pad;
}

static void describe_fanotify(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_fanotify fa = group_of(f);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  flags 0x%x, events opened 0x%x, %u marks:\n", fa.flags, fa.event_f_flags, fa.nmarks);
    const char *extra = (const char *)fd_rec_extra(f);
    for (size_t off = sizeof fa; off < f->extra_len;) {
        struct ctx_fanotify_mark m;
        memcpy(&m, extra + off, sizeof m);
        fprintf(out, "           mask 0x%x ignored 0x%x flags 0x%x  %s\n", m.mask, m.ignored_mask,
                m.mflags, extra + off + sizeof m);
        off += sizeof m + m.path_len;
    }
}

const struct cr_fd_ops cr_fd_fanotify = {
    .kind = CTX_FD_FANOTIFY, .name = "fanotify", .detect = detect_fanotify, .save = save_fanotify,
    .check = check_fanotify, .make = make_fanotify, .restore_nonblock = 1,
    .valid = valid_fanotify, .describe = describe_fanotify,
};
