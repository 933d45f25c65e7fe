/* A pipe or terminal that leads outside the process (or the tree) and is not its stdio:
 * inherited from whatever started it (a job launcher's pipe on fd 251, a make
 * jobserver, an editor's terminal).  What is at the other end is not in the checkpoint
 * and cannot be reached again, so the fd comes back as the same kind of end, now
 * disconnected: a pipe's read end sees what was waiting in it, then end of file; its
 * write end EPIPE (and SIGPIPE);
 * a terminal is hung up (reads see end of file, writes EIO).  That is what the program
 * would see had its peer gone away, a case it must handle anyway; --pipes=refuse
 * refuses the checkpoint instead. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ---- dump (from inherit.c, which recognizes what leads outside) ---- */

int save_disconnected(struct dump *d, const struct cr_fd_probe *p, int terminal)
{
    if (d->pipes_refuse)
        return fail(d, ENOTSUP, "fd %d is %s, which leads outside the process, and "
                    "--pipes=refuse was given (without it, it is restored as a %s)", p->fd,
                    p->path, terminal ? "hung-up terminal" : "pipe end whose other end is closed");
    struct ctx_fd *r = NULL;
    if (terminal) {
        if (!(r = fd_record(d, p->fd, CTX_FD_DISCONNECTED, p->path, 0)))
            return fail(d, E2BIG, "too much metadata");
        r->flags = CTX_FD_DISCONNECTED_TERMINAL;
    } else { /* with what the program would still read from the pipe */
        int cap = pipe_capacity(d, p->fd), rc;
        if (cap < 0)
            return cap;
        int reader = (fcntl(p->fd, F_GETFL) & O_ACCMODE) == O_RDONLY;
        if ((rc = pipe_record(d, p->fd, CTX_FD_DISCONNECTED, p->path, cap, reader, &r)) < 0)
            return rc;
    }
    file_id_of(&p->st, &r->id);
    return 0;
}

/* ---- restart ---- */

static int make_pipe_end(struct child *c, const struct ctx_fd *f)
{
    int ends[2];
    if (pipe2(ends, O_CLOEXEC) < 0)
        child_fail(c, errno, "cannot create the disconnected pipe end of fd %d: %s", f->fd,
                   strerror(errno));
    int reader = (f->open_flags & O_ACCMODE) == O_RDONLY;
    if (f->extra_len && (fcntl(ends[1], F_SETPIPE_SZ, (int)f->pos) < 0 || pipe_refill(ends[1], f) < 0))
        child_fail(c, errno, "cannot put back the %u bytes waiting in the pipe of fd %d: %s",
                   f->extra_len, f->fd, strerror(errno));
    close(ends[reader ? 1 : 0]);
    return ends[reader ? 0 : 1];
}

/* A new pseudo-terminal whose master is closed at once: the kernel hangs its slave up. */
static int make_hung_up_terminal(struct child *c, const struct ctx_fd *f)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), index = -1, unlock = 0;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &index) < 0)
        child_fail(c, errno, "cannot create the hung-up terminal of fd %d: %s", f->fd,
                   strerror(errno));
    int mode = f->open_flags & O_ACCMODE;
    int slave = ioctl(master, TIOCGPTPEER, mode | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        child_fail(c, errno, "cannot open the hung-up terminal of fd %d: %s", f->fd,
                   strerror(errno));
    close(master);
    return slave;
}

static int make_disconnected(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    return f->flags & CTX_FD_DISCONNECTED_TERMINAL ? make_hung_up_terminal(c, f)
                                                   : make_pipe_end(c, f);
}

/* A pipe's capacity bounds the data saved; only a read end has data. */
static int valid_disconnected(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return !(f->flags & ~(uint32_t)(CTX_FD_DISCONNECTED_TERMINAL | CTX_FD_PIPE_PACKETS)) &&
           f->pos <= (64u << 20) && pipe_data_valid(f) && (!f->extra_len || (f->open_flags & 3) == 0);
}

static void describe_disconnected(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  led outside (%s): restored as %s, %u bytes buffered\n", fd_rec_path(f),
            f->flags & CTX_FD_DISCONNECTED_TERMINAL ? "a hung-up terminal"
            : (f->open_flags & 3) == 0 ? "a pipe end whose writer is gone"
                                       : "a pipe end whose reader is gone", f->extra_len);
}

static const char *outside_disconnected(const struct ctx_fd *f)
{
    return f->flags & CTX_FD_DISCONNECTED_TERMINAL ? "a hung-up terminal"
           : (f->open_flags & O_ACCMODE) == O_RDONLY
               ? "a pipe's read end whose writer is gone (end of file)"
               : "a pipe's write end whose reader is gone (EPIPE)";
}

const struct cr_fd_ops cr_fd_disconnected = {
    .kind = CTX_FD_DISCONNECTED, .name = "outside", .make = make_disconnected,
    .restore_nonblock = 1,
    .valid = valid_disconnected, .describe = describe_disconnected,
    .outside = outside_disconnected,
};
