/* The restarted child's small helpers (restart_child.h): a refusal's message, a
 * failure reported to cr_restart, fds kept out of the image's way, --relocate.
 * Compiled into libcr_run too, for the fd kinds' restore halves (resources/resources.h). */
#define _GNU_SOURCE
#include "restart_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "restore_plan.h"


/* The path after --relocate; *moved tells whether a rule applied. */
const char *relocate(const struct cr_restart_opts *o, const char *path, char *buf, size_t len,
                     int *moved)
{
    *moved = 0;
    for (int i = 0; i < o->nreloc; i++) {
        size_t n = strlen(o->reloc_old[i]);
        if (!strncmp(path, o->reloc_old[i], n) && (path[n] == '/' || path[n] == 0)) {
            snprintf(buf, len, "%s%s", o->reloc_new[i], path + n);
            *moved = 1;
            return buf;
        }
    }
    return path;
}

void child_fail(struct child *c, int code, const char *fmt, ...)
{
    struct rp_status st;
    memset(&st, 0, sizeof st);
    st.err = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.msg, sizeof st.msg, fmt, ap);
    va_end(ap);
    (void)!write(c->status_fd, &st, sizeof st);
    _exit(127);
}

void child_publish(struct child *c, const char *path, const void *data, size_t len)
{
    char tmp[4600];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        child_fail(c, errno, "cannot create %s (the step's meeting place, --step-dir): %s", tmp,
                   strerror(errno));
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w <= 0)
            child_fail(c, w < 0 ? errno : EIO, "cannot write %s: %s", tmp, strerror(w < 0 ? errno : EIO));
        p += w, len -= (size_t)w;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0)
        child_fail(c, errno, "cannot write %s: %s", path, strerror(errno));
}

int move_high(struct child *c, int fd)
{
    if (fd < 0 || fd >= c->high)
        return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, c->high);
    if (h < 0)
        child_fail(c, errno, "cannot move fd %d above %d: %s", fd, c->high, strerror(errno));
    close(fd);
    return h;
}

int pool_fd(struct child *c, int fd, int low)
{
    int h = fcntl(fd, F_DUPFD_CLOEXEC, low);
    if (h < 0)
        child_fail(c, errno, "cannot keep a shared object above fd %d: %s", low, strerror(errno));
    close(fd);
    return h;
}

pid_t cr_child_pid_now(const struct child *c, pid_t in_file)
{
    for (uint32_t i = 0; c->pids && i < c->npids; i++)
        if (c->pids[i].known == in_file && c->pids[i].real > 0)
            return c->pids[i].real;
    return in_file;
}
