/* Socket pairs inside the checkpoint: a unix socket whose peer is in the process (or
 * the tree), saved with the data queued to it and made again as a unix pair (by the
 * tree's pool across processes).  (TCP connections inside: tcp_pair.c.) */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump (add_socket, in socket.c, tells a pair) ---- */

int save_unix_pair(struct dump *d, int fd, const struct stat *st, const struct sock_info *si,
                   const struct sock_info *peer_si, int domain, int type, char *buf, size_t bufsize)
{
    char text[600];
    if (!si->peer_ino)
        snprintf(text, sizeof text, "%s socket:[%llu] whose peer was closed",
                 sock_type_name(domain, type), (unsigned long long)st->st_ino);
    else
        snprintf(text, sizeof text, "%s socket:[%llu] paired with socket:[%llu]",
                 sock_type_name(domain, type), (unsigned long long)st->st_ino,
                 (unsigned long long)si->peer_ino);
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    memset(&so, 0, sizeof so);
    so.domain = AF_UNIX;
    so.type = type;
    so.shutdown = si->shutdown;
    if (sock_save_opts(fd, &so) < 0)
        return fail(d, E2BIG, "fd %d (%s) has more than %d socket options changed", fd, text,
                    CTX_SOCKOPT_MAX);
    /* files in flight are sent again by the process (not by a tree's pool, which makes
     * the pairs of a socket several processes have, or whose peer is elsewhere) */
    int alone = !shared_in_tree(d, fd) &&
                (si->peer_ino ? peer_si && !shared_in_tree(d, peer_si->fd) : 1);
    ssize_t queued = sock_peek_queue(d, fd, text, type, so.shutdown & 1, alone, buf, bufsize,
                                     &so.nmsgs, NULL, NULL);
    if (queued < 0)
        return (int)queued;
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_SOCKPAIR, text, sizeof so + (size_t)queued, st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = si->peer_ino;
    r->flags = (uint32_t)type;
    memcpy((char *)(r + 1) + r->path_len, &so, sizeof so);
    memcpy((char *)(r + 1) + r->path_len + sizeof so, buf, (size_t)queued);
    return 0;
}

/* ---- connections of the process waiting in a backlog, with data sent on them ---- */

/* What a unix stream connection not accepted yet has sent cannot be read without
 * accepting it.  As tcp_pair.c does for TCP: each connection of the listener's backlog
 * is accepted (in the order of the queue), its bytes taken, and for the program that
 * goes on its client is replaced on the same fds by a new socket with the same options
 * (and abstract name), connected to the listener again (at the end of the queue: after
 * as many as were waiting, the queue is in its order again) and sending the bytes
 * again, with the files that came with them (SCM_RIGHTS).  The record holds what was
 * peeked at before: the pieces that came with files apart, each file described as one
 * in flight in a pair (sock_peek_queue), which a restart sends again from the client
 * once it is connected (local_sock.c). */

#define FILE_CHUNKS 8
#define FILES_PER_CHUNK 32
static struct {
    size_t at, len;            /* the bytes the files came with, in what was taken */
    int nfds, fds[FILES_PER_CHUNK];
} chunks[FILE_CHUNKS];
static int nchunks;

/* One recvmsg of at most len bytes from k (peek: MSG_PEEK) into to, the files that
 * came with it into fds (*nfds; *trunc if more came than fit): bytes, or -1 (errno). */
static ssize_t recv_files(int k, char *to, size_t len, int peek, int *fds, int *nfds, int *trunc)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int) * FILES_PER_CHUNK)];
    } ctl;
    struct iovec iov = { to, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
                         .msg_controllen = sizeof ctl };
    ssize_t n;
    do
        n = recvmsg(k, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (peek ? MSG_PEEK : 0));
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    *trunc = n >= 0 && (mh.msg_flags & MSG_CTRUNC);
    for (struct cmsghdr *h = n < 0 ? NULL : CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof fd);
                if (*nfds < FILES_PER_CHUNK)
                    fds[(*nfds)++] = fd;
                else {
                    close(fd);
                    *trunc = 1;
                }
            }
    return n;
}

/* Reads exactly len bytes that come without files. */
static int read_plain(int k, char *to, size_t len)
{
    while (len) {
        int fds[FILES_PER_CHUNK], nfds, trunc;
        ssize_t n = recv_files(k, to, len, 0, fds, &nfds, &trunc);
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        if (n <= 0 || nfds || trunc)
            return n < 0 ? -errno : -EIO;
        to += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads what k holds into to (at most cap bytes) and the files that came with it into
 * chunks, each piece sent with files exactly where it was: a peek ends with the first
 * piece that carries files (at its end; it gives their copies, closed), the bytes
 * before it are read in one-byte reads until one brings the files (a read takes the
 * files of the piece it starts to read), then the rest of the piece in one.  Its
 * length, or -errno with the message in d. */
static ssize_t take_unix_data(struct dump *d, int k, int c, const char *what, char *to, size_t cap)
{
    size_t got = 0;
    nchunks = 0;
    for (;;) {
        int fds[FILES_PER_CHUNK], nfds, trunc;
        if (got == cap)
            return fail(d, E2BIG, "fd %d (%s) sent more than the %zu bytes that can be taken out "
                        "of its backlog here; accept it before the checkpoint", c, what, cap);
        ssize_t n = recv_files(k, to + got, cap - got, 1, fds, &nfds, &trunc);
        for (int i = 0; i < nfds; i++)
            close(fds[i]); /* (a peek's copies) */
        if (n < 0 && errno == EAGAIN)
            break; /* unix streams deliver at once: all there is */
        if (n <= 0)
            return n < 0 ? fail(d, errno, "fd %d (%s): cannot read what it sent: %s", c, what,
                                strerror(errno)) : (ssize_t)got;
        if (trunc || (nfds && nchunks == FILE_CHUNKS))
            return fail(d, E2BIG, "fd %d (%s) sent files more than %d times (or more than %d at "
                        "once) waiting in its backlog; the program's connection lost them", c,
                        what, FILE_CHUNKS, FILES_PER_CHUNK);
        size_t end = got + (size_t)n;
        if (!nfds) {
            if (read_plain(k, to + got, (size_t)n) < 0)
                return fail(d, errno ? errno : EIO, "fd %d (%s): cannot read what it sent", c, what);
            got = end;
            continue;
        }
        for (nfds = 0; !nfds && got < end; got++) {
            ssize_t r = recv_files(k, to + got, 1, 0, fds, &nfds, &trunc);
            if (r != 1 || trunc)
                return fail(d, r < 0 ? errno : EIO, "fd %d (%s): cannot read what it sent", c, what);
        }
        if (!nfds)
            return fail(d, EIO, "fd %d (%s): the files a peek of what it sent had did not come "
                        "with it", c, what);
        chunks[nchunks].at = got - 1;
        chunks[nchunks].len = end - (got - 1);
        chunks[nchunks].nfds = nfds;
        memcpy(chunks[nchunks++].fds, fds, sizeof(int) * (size_t)nfds);
        if (end > got && read_plain(k, to + got, end - got) < 0)
            return fail(d, errno ? errno : EIO, "fd %d (%s): cannot read what it sent", c, what);
        got = end;
    }
    return (ssize_t)got;
}

/* What was taken (len bytes at data, the files in chunks) as the messages a record
 * holds (struct ctx_sock_msg each, sent by fd c): the bytes between pieces with files
 * as one, each piece with files apart, its files described (save_fd_in_flight) at out;
 * its length and *nmsgs, or -1 with the message in d. */
static ssize_t messages_of(struct dump *d, int c, const char *what, const char *data, size_t len,
                           char *out, size_t room, uint32_t *nmsgs)
{
    int all[FILE_CHUNKS * FILES_PER_CHUNK], nall = 0;
    for (int i = 0; i < nchunks; i++)
        for (int j = 0; j < chunks[i].nfds; j++)
            all[nall++] = chunks[i].fds[j];
    size_t used = 0, at = 0;
    *nmsgs = 0;
    for (int i = 0; i <= nchunks; i++) {
        size_t upto = i < nchunks ? chunks[i].at : len;
        for (int piece = 0; piece < 2; piece++) {
            size_t from = piece ? upto : at, n = piece ? (i < nchunks ? chunks[i].len : 0) : upto - at;
            if (!n)
                continue;
            struct ctx_sock_msg h = { (uint32_t)n, c, piece ? (uint32_t)chunks[i].nfds : 0, 0 };
            if (room - used < sizeof h + n)
                return fail(d, E2BIG, "fd %d (%s) sent more than can be saved while it waits in a "
                            "backlog; accept it before the checkpoint", c, what);
            memcpy(out + used, &h, sizeof h);
            memcpy(out + used + sizeof h, data + from, n);
            used += sizeof h + n;
            for (int j = 0; piece && j < chunks[i].nfds; j++) {
                ssize_t w = save_fd_in_flight(d, c, what, chunks[i].fds[j], all, nall, out + used,
                                              room - used);
                if (w < 0)
                    return w;
                used += (size_t)w;
            }
            (*nmsgs)++;
        }
        if (i < nchunks)
            at = chunks[i].at + chunks[i].len;
    }
    return (ssize_t)used;
}

/* Sends again from c the len bytes of data with the files in chunks where they came:
 * 0, or -errno. */
static int send_unix_data(int c, const char *data, size_t len)
{
    size_t at = 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i <= nchunks; i++) {
        size_t upto = i < nchunks ? chunks[i].at : len;
        if (upto > at)
            rc = sock_send_all(c, data + at, upto - at, 10000);
        at = upto;
        if (rc < 0 || i == nchunks)
            break;
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(int) * FILES_PER_CHUNK)];
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct iovec iov = { (void *)(data + at), chunks[i].len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
                             .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)chunks[i].nfds) };
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)chunks[i].nfds);
        memcpy(CMSG_DATA(h), chunks[i].fds, sizeof(int) * (size_t)chunks[i].nfds);
        ssize_t n = sendmsg(c, &mh, MSG_NOSIGNAL);
        if (n < 0)
            rc = -errno;
        else if ((size_t)n < chunks[i].len) /* the files went with the first byte */
            rc = sock_send_all(c, data + at + n, chunks[i].len - (size_t)n, 10000);
        at += chunks[i].len;
    }
    return rc;
}

static void close_taken_files(void)
{
    for (int i = 0; i < nchunks; i++)
        for (int j = 0; j < chunks[i].nfds; j++)
            close(chunks[i].fds[j]);
    nchunks = 0;
}

/* The client c (inode ino) replaced by a new socket as it was, connected again to the
 * listener's name and sending what it had sent again; k, its accepted end, closed: 0,
 * or -errno with the message in d. */
static int replace_client(struct dump *d, const struct fd_scan *s, int c, uint64_t ino, int k,
                          const struct sockaddr_un *to, socklen_t tolen, const char *data,
                          size_t len, const char *what)
{
    static struct ctx_socket so;
    memset(&so, 0, sizeof so);
    so.domain = AF_UNIX;
    so.type = SOCK_STREAM;
    struct sockaddr_un self;
    socklen_t slen = sizeof self;
    int status = fcntl(c, F_GETFL);
    if (getsockname(c, (struct sockaddr *)&self, &slen) < 0 || sock_save_opts(c, &so) < 0) {
        close(k);
        return fail(d, errno ? errno : E2BIG, "fd %d (%s): cannot read its name and options; "
                    "the program's connection is lost", c, what);
    }
    int fresh = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    close(k);
    if (fresh < 0)
        return fail(d, errno, "fd %d (%s): cannot create the socket that replaces it: %s; the "
                    "program's connection is lost", c, what, strerror(errno));
    for (int i = 0; i < s->nfds; i++) { /* every fd of it: the old one goes */
        struct stat st;
        if (fstat(s->fds[i], &st) == 0 && st.st_ino == ino) {
            int fl = fcntl(s->fds[i], F_GETFD);
            dup3(fresh, s->fds[i], (fl & FD_CLOEXEC) ? O_CLOEXEC : 0);
        }
    }
    close(fresh);
    char err[200] = "";
    int rc = 0;
    /* an abstract name (its own or given by the kernel) is free once the old one is gone */
    if (slen > offsetof(struct sockaddr_un, sun_path) && bind(c, (struct sockaddr *)&self, slen) < 0)
        rc = -errno;
    if (rc == 0 && (rc = sock_set_opts(c, &so, err, sizeof err)) == 0) {
        tcp_end_finish(c, &so); /* its SO_REUSEADDR */
        fcntl(c, F_SETFL, status | O_NONBLOCK); /* a full backlog: refused, not waited for */
        rc = connect(c, (const struct sockaddr *)to, tolen) < 0 ? -errno : 0;
    }
    if (rc == 0)
        rc = send_unix_data(c, data, len);
    fcntl(c, F_SETFL, status);
    if (rc < 0)
        return fail(d, -rc, "fd %d (%s) was taken out of the backlog to save its data and cannot "
                    "be connected again with it (%s%s): the program's connection is lost", c, what,
                    err, strerror(-rc));
    return 0;
}

int unix_backlog_take(struct dump *d, struct sock_scan *ss, const struct fd_scan *s,
                      int listener, int fd, const char *what)
{
    if (!backlog_first_take(listener))
        return 0;
    char *buf = d->scratch + FDINFO_OFF;
    const struct sock_info *lsi = NULL;
    for (int i = 0; i < ss->n; i++)
        if (ss->socks[i].fd == listener)
            lsi = &ss->socks[i];
    int type = 0;
    socklen_t tlen = sizeof type;
    struct sockaddr_un name;
    socklen_t nlen = sizeof name;
    struct stat ps;
    if (!lsi || getsockopt(listener, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
        getsockname(listener, (struct sockaddr *)&name, &nlen) < 0)
        return fail(d, EIO, "fd %d (%s): cannot tell its listener fd %d", fd, what, listener);
    if (type != SOCK_STREAM)
        return fail(d, ENOTSUP, "fd %d is a %s, with data sent on it that cannot be read without "
                    "accepting it (messages are taken out only of a stream's backlog); accept it "
                    "before the checkpoint", fd, what);
    int ours = backlog_clients(ss, listener, buf);
    if (lsi->waiting != ours)
        return fail(d, ENOTSUP, "fd %d (%s), with data sent on it, waits in the backlog of fd %d "
                    "with %d connections from outside the process: none can be taken out without "
                    "taking theirs; accept them before the checkpoint", fd, what, listener,
                    lsi->waiting - ours);
    /* connected again by the listener's name: it must still lead to it */
    if (nlen > offsetof(struct sockaddr_un, sun_path) && name.sun_path[0] &&
        (stat(name.sun_path, &ps) < 0 || !S_ISSOCK(ps.st_mode) || ps.st_ino != lsi->vfs_ino))
        return fail(d, ENOTSUP, "fd %d (%s) has data sent on it, and the name of its listener no "
                    "longer leads to it (removed, or a relative name and another working "
                    "directory): it cannot be connected again to take the data out; accept it "
                    "before the checkpoint", fd, what);
    /* the clients: none shared with another process, in an epoll or bound to a path */
    for (int i = 0; i < ss->n; i++) {
        const struct sock_info *si = &ss->socks[i];
        struct sockaddr_storage peer;
        struct sockaddr_un self;
        socklen_t plen = sizeof peer, slen = sizeof self;
        int lis = 0;
        socklen_t llen = sizeof lis;
        if (si->domain != AF_UNIX || si->peer_ino || si->shutdown ||
            getsockopt(si->fd, SOL_SOCKET, SO_ACCEPTCONN, &lis, &llen) < 0 || lis ||
            getpeername(si->fd, (struct sockaddr *)&peer, &plen) < 0 ||
            backlog_listener(ss, &peer, plen) != listener || getsockname(si->fd, (struct sockaddr *)&self, &slen) < 0)
            continue;
        int ep = epoll_watching(d, s, si->ino);
        const char *why = shared_in_tree(d, si->fd) ? "is shared by processes of the tree"
                          : ep >= 0 ? "is watched by an epoll"
                          : slen > offsetof(struct sockaddr_un, sun_path) + 1 && self.sun_path[0]
                          ? "is bound to a path, which would be taken by the socket that replaces it" : NULL;
        if (why)
            return fail(d, ENOTSUP, "fd %d (%s) has data sent on it, and fd %d waiting in the same "
                        "backlog %s: it cannot be replaced to take the data out; accept them before "
                        "the checkpoint", fd, what, si->fd, why);
    }
    for (int n = 0; n < ours; n++) {
        struct pollfd pf = { listener, POLLIN, 0 };
        int k = poll(&pf, 1, 2000) > 0 ? accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
        if (k < 0)
            return fail(d, errno ? errno : ETIMEDOUT, "fd %d: cannot take connection %d of %d out "
                        "of its backlog: %s", listener, n + 1, ours, strerror(errno));
        /* whose client it is: the peer of the accepted end */
        struct stat kst;
        int64_t client = fstat(k, &kst) == 0 ? unix_peer_inode(kst.st_ino, buf) : -1;
        int c = -1;
        for (int i = 0; client > 0 && i < ss->n; i++)
            if (ss->socks[i].ino == (uint64_t)client)
                c = ss->socks[i].fd;
        if (c < 0) {
            close(k);
            return fail(d, ENOTSUP, "fd %d: connection %d of its backlog has no client in the "
                        "process; the program's connection is lost", listener, n + 1);
        }
        size_t cap;
        char *room = backlog_room(d, &cap);
        if (!room) {
            close(k);
            return -ENOMEM;
        }
        /* what it sent (the bytes, then, after them, as a record holds them) */
        ssize_t got = take_unix_data(d, k, c, what, room, cap / 2);
        if (got < 0) {
            close_taken_files();
            close(k);
            return (int)got;
        }
        size_t msgs_at = ((size_t)got + 7) & ~(size_t)7;
        uint32_t nmsgs = 0;
        ssize_t kept = messages_of(d, c, what, room, (size_t)got, room + msgs_at, cap - msgs_at, &nmsgs);
        int keep = kept < 0 ? 0 : backlog_keep_msgs(c, msgs_at, (size_t)kept, nmsgs);
        /* put back for the program that goes on, saved or not */
        int rc = replace_client(d, s, c, (uint64_t)client, k, &name, nlen, room, (size_t)got, what);
        close_taken_files();
        if (rc < 0)
            return rc;
        /* the scan knows it by its new inode from now on: saved as what it is */
        struct stat now;
        for (int i = 0; fstat(c, &now) == 0 && i < ss->n; i++)
            if (ss->socks[i].ino == (uint64_t)client)
                ss->socks[i].ino = now.st_ino;
        if (kept < 0) /* (the message is messages_of's) */
            return (int)kept;
        if (keep < 0)
            return fail(d, E2BIG, "fd %d: more connections waiting in its backlog than can be "
                        "taken out here; accept them before the checkpoint", listener);
    }
    return 0;
}

/* ---- restart ---- */

/* The flags open() takes back for a file in flight (as file.c's). */
#define REOPEN_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_LARGEFILE)

/* A deleted regular file in flight, made again: an unnamed file (O_TMPFILE) where it
 * was (else in the working directory) with its saved contents and mode, opened as it
 * was, at its offset. */
static int recreate_in_flight(struct child *c, const struct ctx_fd *f, const struct ctx_sock_file *sf,
                              const char *path, const unsigned char *contents)
{
    char dir[CTX_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    int tmp = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0)
        tmp = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0 || fchmod(tmp, sf->id.mode & 07777) < 0)
        child_fail(c, errno, "cannot make again the deleted file %s in flight to the socket of fd "
                   "%d: %s", path, f->fd, strerror(errno));
    for (size_t done = 0; done < sf->id.size;) {
        ssize_t w = pwrite(tmp, contents + done, (size_t)sf->id.size - done, (off_t)done);
        if (w <= 0)
            child_fail(c, w < 0 ? errno : EIO, "cannot write the contents of the deleted file %s "
                       "in flight to the socket of fd %d: %s", path, f->fd, strerror(errno));
        done += (size_t)w;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", tmp);
    int obj = open(self, ((int)sf->open_flags & REOPEN_FLAGS) | O_NOCTTY | O_CLOEXEC);
    int e = errno;
    close(tmp);
    if (obj < 0)
        child_fail(c, e, "cannot open the deleted file %s in flight to the socket of fd %d again: "
                   "%s", path, f->fd, strerror(e));
    return obj;
}

const unsigned char *files_in_flight(struct child *c, const struct ctx_fd *f, const unsigned char *x,
                                     uint32_t n, int *fds, int *opened)
{
    for (uint32_t k = 0; k < n; k++) {
        struct ctx_sock_file sf;
        memcpy(&sf, x, sizeof sf);
        char buf[CTX_PATH_MAX];
        int moved;
        const char *path = relocate(c->o, (const char *)x + sizeof sf, buf, sizeof buf, &moved);
        const unsigned char *contents = x + sizeof sf + sf.path_len;
        x += sock_file_size(&sf);
        opened[k] = sf.same_as_fd < 0;
        if (sf.flags & CTX_SOCK_FILE_CONTENTS)
            fds[k] = recreate_in_flight(c, f, &sf, path, contents);
        else
            fds[k] = opened[k] ? open(path, ((int)sf.open_flags & REOPEN_FLAGS) | O_NOCTTY | O_CLOEXEC)
                               : sf.same_as_fd;
        if (fds[k] < 0 || (opened[k] && lseek(fds[k], (off_t)sf.pos, SEEK_SET) < 0))
            child_fail(c, errno, "cannot open %s again, in flight to the socket of fd %d: %s", path,
                       f->fd, strerror(errno));
    }
    return x;
}

/* What was queued to the end of record f, sent again from its peer (one send per
 * datagram, message or piece of a stream, with its fds in flight).  CTX_FD_UNIX_PAIR
 * (older files): the bytes of a stream. */
static void requeue(struct child *c, int peer, const struct ctx_fd *f)
{
    const unsigned char *x = (const unsigned char *)(f + 1) + f->path_len;
    if (f->kind == CTX_FD_UNIX_PAIR) {
        if (f->extra_len && write(peer, x, f->extra_len) != (ssize_t)f->extra_len)
            child_fail(c, errno, "cannot queue %u bytes to the socket of fd %d: %s", f->extra_len,
                       f->fd, strerror(errno));
        return;
    }
    struct ctx_socket so;
    x = sock_state(f, &so);
    for (uint32_t k = 0; k < so.nmsgs; k++) {
        struct ctx_sock_msg m;
        memcpy(&m, x, sizeof m);
        int fds[CTX_SOCK_FILES_MAX], opened[CTX_SOCK_FILES_MAX];
        const unsigned char *data = x + sizeof m;
        x = files_in_flight(c, f, data + m.len, m.nfiles, fds, opened);
        union {
            struct cmsghdr h;
            char b[CMSG_SPACE(sizeof fds)];
        } ctl;
        struct iovec iov = { (void *)data, m.len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (m.nfiles) {
            mh.msg_control = &ctl;
            mh.msg_controllen = CMSG_SPACE(m.nfiles * sizeof(int));
            ctl.h.cmsg_level = SOL_SOCKET;
            ctl.h.cmsg_type = SCM_RIGHTS;
            ctl.h.cmsg_len = CMSG_LEN(m.nfiles * sizeof(int));
            memcpy(CMSG_DATA(&ctl.h), fds, m.nfiles * sizeof(int));
        }
        if (sendmsg(peer, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)m.len)
            child_fail(c, errno, "cannot queue message %u of %u (%u bytes) to the socket of fd %d: %s",
                       k + 1, so.nmsgs, m.len, f->fd, strerror(errno));
        for (uint32_t i = 0; i < m.nfiles; i++)
            if (opened[i])
                close(fds[i]);
    }
}

/* The options of the end of record f (before anything is queued to it). */
static void set_options(struct child *c, int end, const struct ctx_fd *f)
{
    struct ctx_socket so;
    if (f->kind == CTX_FD_SOCKPAIR) {
        sock_state(f, &so);
        sock_apply_opts(c, end, f, &so);
    }
}

/* The saved shutdown state of the end of record f (how for shutdown(): SHUT_RD...), or
 * -1: none.  Put back once both ends' data is in. */
static int saved_shutdown(const struct ctx_fd *f)
{
    struct ctx_socket so;
    if (f->kind != CTX_FD_SOCKPAIR)
        return -1;
    sock_state(f, &so);
    return so.shutdown ? (int)so.shutdown - 1 : -1;
}

/* A unix socket pair of the image: made when the first of its two fds comes; once
 * every fd is in place (fds in flight may be the process's own), the data queued to
 * each end put back by writing it from the other end, then each end's shutdown state
 * (the peer of a closed one is closed with the pair's leftovers: EOF after the data). */
struct pair_made {
    uint64_t ino[2];
    int end[2];
    const struct ctx_fd *rec[2];
};

static struct pair_made *pairs_made;
static uint32_t npairs_made;

static int pair_end(struct child *c, struct pair_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    struct pair_made *m = NULL;
    int side = 0;
    for (uint32_t i = 0; i < *nmade && !m; i++)
        for (int k = 0; k < 2; k++)
            if (made[i].ino[k] == f->id.ino) {
                m = &made[i];
                side = k;
            }
    if (!m) {
        int sv[2];
        if (socketpair(AF_UNIX, (int)f->flags | SOCK_CLOEXEC, 0, sv) < 0)
            child_fail(c, errno, "cannot create the socket pair of fd %d: %s", f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino[0] = f->id.ino;
        m->ino[1] = f->pos; /* its peer */
        m->end[0] = move_high(c, sv[0]);
        m->end[1] = move_high(c, sv[1]);
        m->rec[0] = m->rec[1] = NULL;
        side = 0;
    }
    set_options(c, m->end[side], f);
    m->rec[side] = f;
    return m->end[side];
}

static int restore_unix_pair(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    int obj = pool_pair_end(c, f);
    if (obj >= 0 && saved_shutdown(f) >= 0) /* the pool put every end's data in */
        shutdown(obj, saved_shutdown(f));
    if (obj < 0) {
        if (!pairs_made && !(pairs_made = calloc(c->img->proc->nfds + 1, sizeof *pairs_made)))
            child_fail(c, ENOMEM, "out of memory");
        obj = pair_end(c, pairs_made, &npairs_made, f);
    }
    *own = 0;
    return obj;
}

static void finish_pairs(struct child *c)
{
    for (uint32_t i = 0; i < npairs_made; i++)
        for (int k = 0; k < 2; k++)
            if (pairs_made[i].rec[k])
                requeue(c, pairs_made[i].end[!k], pairs_made[i].rec[k]);
    for (uint32_t i = 0; i < npairs_made; i++)
        for (int k = 0; k < 2; k++)
            if (pairs_made[i].rec[k] && saved_shutdown(pairs_made[i].rec[k]) >= 0)
                shutdown(pairs_made[i].end[k], saved_shutdown(pairs_made[i].rec[k]));
    for (uint32_t i = 0; i < npairs_made; i++) {
        close(pairs_made[i].end[0]);
        close(pairs_made[i].end[1]);
    }
    free(pairs_made);
    pairs_made = NULL;
    npairs_made = 0;
}

/* Whether the image has a socket with this inode. */
static int in_image(const struct ctx_image *img, uint64_t ino)
{
    for (uint32_t k = 0; k < img->proc->nfds; k++)
        if ((img->fds[k]->kind == CTX_FD_UNIX_PAIR || img->fds[k]->kind == CTX_FD_SOCKPAIR) &&
            img->fds[k]->id.ino == ino)
            return 1;
    return 0;
}

/* A unix socket pair whose ends are in two processes: made at its first end, the
 * data queued to each end written from the other. */
static void pool_pair(struct cr_pool_build *b, const struct ctx_fd *f, pid_t pid)
{
    struct child *rep = b->rep;
    int low = b->low;
    struct cr_pool *pool = b->pool;
    struct cr_pool_sock *me = pool_sock(pool, f->id.ino);
    if (!me) {
        int sv[2];
        if (socketpair(AF_UNIX, (int)f->flags | SOCK_CLOEXEC, 0, sv) < 0)
            child_fail(rep, errno, "cannot create a socket pair for process %d: %s", pid,
                       strerror(errno));
        pool->socks[pool->nsocks++] = (struct cr_pool_sock){ f->id.ino, f->pos, pool_fd(rep, sv[0], low), 0 };
        pool->socks[pool->nsocks++] = (struct cr_pool_sock){ f->pos, f->id.ino, pool_fd(rep, sv[1], low), 0 };
        me = pool_sock(pool, f->id.ino);
    }
    /* a closed peer (inode 0) was made with it, next to it */
    struct cr_pool_sock *peer = f->pos ? pool_sock(pool, me->peer) : me + 1;
    if (me->filled) /* the same socket in another process: its data is in */
        return;
    me->filled = 1;
    set_options(rep, me->fd, f);
    requeue(rep, peer->fd, f);
}

/* A pair across processes, or one whose peer this process does not have. */
static void pool_add_unix_pair(struct cr_pool_build *b, uint32_t i, uint32_t k,
                               const struct ctx_fd *f)
{
    (void)k;
    const struct ctx_image *img = &b->t->images[i];
    if (!f->pos && !in_other_image(b->t, i, f->id.ino))
        return; /* its peer was closed: the process makes it alone */
    if (!in_image(img, f->pos) || in_other_image(b->t, i, f->id.ino) ||
        in_other_image(b->t, i, f->pos))
        pool_pair(b, f, b->t->procs[i].pid);
}

static int valid_unix_pair(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len <= (64u << 20);
}

static int valid_sockpair(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return valid_socket_state(f);
}

static void describe_unix_pair(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  connected to socket:[%llu] in the checkpoint, %u bytes queued\n",
            (unsigned long long)f->pos, f->extra_len);
}

const struct cr_fd_ops cr_fd_unix_pair = {
    .kind = CTX_FD_UNIX_PAIR, .name = "unixpair", .restore = restore_unix_pair,
    .restore_nonblock = 1, .finish = finish_pairs, .pool = pool_add_unix_pair,
    .valid = valid_unix_pair, .describe = describe_unix_pair, .socket = 1,
};

/* The same with the socket's options, shutdown state, message boundaries and files in
 * flight (its pairs are put back by cr_fd_unix_pair's finish, which has them all). */
const struct cr_fd_ops cr_fd_sockpair = {
    .kind = CTX_FD_SOCKPAIR, .name = "unixpair", .restore = restore_unix_pair,
    .restore_nonblock = 1, .pool = pool_add_unix_pair,
    .valid = valid_sockpair, .describe = describe_socket, .socket = 1,
};
