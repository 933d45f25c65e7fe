/* A listening socket the process had when it started (CTX_FD_LAUNCHER_SOCK): its
 * launcher's, left open across the exec.  slurmstepd leaks such a listener (its PMIx
 * plugin's) to every task of its node: the tasks share one socket they never listen
 * on.  Saved as the program's own, each restarted task would bind its address again
 * and the second on a node would find it taken; the launcher's service is the new
 * step's anyway.  So it is saved as what it was and comes back a socket of its kind
 * that is bound nowhere: the fd number stays taken, nothing else changes for a
 * program that never used it.  The runtime's constructor notes these sockets (a
 * program started by socket activation, LISTEN_FDS, is told of its own: none then). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "context_reader.h"

/* ---- dump (add_socket, in socket.c, asks it for every listening socket) ---- */

int is_launcher_sock(const struct dump *d, const struct stat *st)
{
    for (uint32_t i = 0; d->tree && i < d->tree->nsocks; i++)
        if (d->tree->socks[i] == st->st_ino)
            return 0; /* another process of the tree has it: the tree's (its pool) */
    for (uint32_t i = 0; i < d->nlauncher_socks; i++)
        if (d->launcher_socks[i].ino == st->st_ino && d->launcher_socks[i].dev == st->st_dev)
            return 1;
    return 0;
}

int save_launcher_sock(struct dump *d, int fd, const struct stat *st, int domain, int type,
                       const struct sockaddr_storage *self, socklen_t slen, const char *here)
{
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    memset(&so, 0, sizeof so);
    int protocol = 0;
    socklen_t len = sizeof protocol;
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
    so.domain = domain;
    so.type = type;
    so.protocol = protocol;
    so.state = CTX_SOCK_LISTENING;
    so.addr_len = slen <= sizeof so.addr ? slen : 0;
    memcpy(so.addr, self, so.addr_len);
    char text[600];
    snprintf(text, sizeof text, "%s listening on %s, its launcher's (inherited at its start)",
             sock_type_name(domain, type), here);
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_LAUNCHER_SOCK, text, sizeof so, st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    memcpy((char *)(r + 1) + r->path_len, &so, sizeof so);
    return 0;
}

/* ---- restart ---- */

static int make_launcher_sock(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_socket so;
    sock_state(f, &so);
    int s = socket(so.domain, so.type | SOCK_CLOEXEC, so.protocol);
    if (s < 0)
        child_fail(c, errno, "cannot create a socket for fd %d (%s): %s", f->fd,
                   (const char *)(f + 1), strerror(errno));
    return s;
}

/* ---- the reader and cr_info ---- */

static int valid_launcher_sock(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_socket so; /* after the path: not aligned */
    if (!valid_socket_state(f))
        return 0;
    memcpy(&so, fd_rec_extra(f), sizeof so);
    return (so.domain == AF_INET || so.domain == AF_INET6 || so.domain == AF_UNIX) &&
           so.state == CTX_SOCK_LISTENING && so.nmsgs == 0 && so.nopts == 0 && !so.peer_len;
}

static void describe_launcher_sock(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, "launcher", acc);
    fprintf(out, "  %s: comes back bound nowhere\n", fd_rec_path(f));
}

const struct cr_fd_ops cr_fd_launcher_sock = {
    .kind = CTX_FD_LAUNCHER_SOCK, .name = "launcher", .make = make_launcher_sock,
    .restore_nonblock = 1, .valid = valid_launcher_sock, .describe = describe_launcher_sock,
    .socket = 1,
};
