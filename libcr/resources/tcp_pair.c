/* TCP connections inside the checkpoint: both ends in the process (or the tree), or
 * one end whose peer the process closed, or one over both ways that still has data to
 * read.  Saved with the bytes queued to each end (its unread queue, and its peer's
 * unsent one, drained into it at the freeze and put back for the program that goes
 * on); made again as a TCP connection on loopback from user space, without
 * TCP_REPAIR: a listener bound to one end's address accepts the other end, bound to
 * its own and connected; each end gets its options, the data is sent again from the
 * other end, the FINs that had been sent are sent again (tcp_pair_rebuild, which the
 * cross-task reconnection reuses with other addresses).  Also the connections of the
 * process waiting in its listener's backlog with data sent on them: taken out with
 * their data at the freeze, their clients made again for the program that goes on. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"
#include "say.h"

/* ---- dump (add_socket, in socket.c, tells such a connection) ---- */

#define TCP_SAVED_MAX 1024
#define DRAIN_MS 20000         /* loopback hands a window's worth at once: ample */

/* The fds saved here, reset when the process is killed after the checkpoint (below). */
static int saved_fds[TCP_SAVED_MAX];
static int nsaved;

static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ? -1 : ti.tcpi_state;
}

int tcp_was_connected(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    /* a socket never connected has not agreed on a segment size */
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == TCP_CLOSE &&
           ti.tcpi_advmss != 0;
}

static int outq(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* What is queued to fd, peeked without taking it, into to (at most cap): bytes, or
 * -errno with the message in d.  One peek takes a stream's whole queue (no SO_PEEK_OFF:
 * another process of the tree that has the socket may peek at it at the same time). */
static ssize_t peek_all(struct dump *d, int fd, const char *what, char *to, size_t cap)
{
    ssize_t n;
    do
        n = recv(fd, to, cap, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN)
        return fail(d, errno, "fd %d (%s): cannot peek at what is queued to it", fd, what);
    size_t got = n > 0 ? (size_t)n : 0;
    int queued = 0;
    if (ioctl(fd, FIONREAD, &queued) == 0 && (size_t)queued > got)
        return fail(d, E2BIG, "fd %d (%s) has %d bytes queued; at most %zu can be saved here", fd,
                    what, queued, got);
    return (ssize_t)got;
}

/* Sends len bytes from fd, whatever its O_NONBLOCK, within a bound: 0 or -errno. */
int sock_send_all(int fd, const char *p, size_t len, long limit_ms)
{
    long end = now_ms() + limit_ms;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        long left = end - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = { fd, POLLOUT, 0 };
        poll(&pf, 1, (int)(left < 50 ? left : 50));
    }
    return 0;
}

/* The bytes at position p of what was taken out (to, then more). */
static const char *taken_at(const char *to, size_t got, const char *more, size_t p, size_t *len)
{
    if (p < got) {
        *len = got - p;
        return to + p;
    }
    return more + (p - got); /* *len as the caller had it: up to the end */
}

/* Sends the total bytes taken out of the stream to fd again from peer_fd, in order.
 * The stream held them, but its window may be narrower now (the kernel narrows a full
 * receive buffer's): when it is full before all are in, the stream is turned round,
 * each byte read at fd sent again at once (the window grows for a reader), until all
 * are in and a whole number of turns was read (it then holds them in their order).
 * 0 or -errno. */
static int turn_back(int fd, int peer_fd, const char *to, size_t got, const char *more, size_t total)
{
    static char junk[64 * 1024];
    size_t rd = 0, wr = 0, limit = 0;
    long end = now_ms() + DRAIN_MS, stuck = 0;
    while (total && !(wr - rd == total && rd % total == 0)) {
        int moved = 0;
        if (wr - rd < total) {
            size_t at = wr % total, len = total - at;
            const char *from = taken_at(to, got, more, at, &len);
            if (len > total - (wr - rd))
                len = total - (wr - rd);
            ssize_t n = send(peer_fd, from, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                wr += (size_t)n, moved = 1;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                return -errno;
        }
        if (rd < limit) {
            size_t want = limit - rd < sizeof junk ? limit - rd : sizeof junk;
            ssize_t n = recv(fd, junk, want, MSG_DONTWAIT);
            if (n > 0)
                rd += (size_t)n, moved = 1;
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                return n == 0 ? -EPIPE : -errno;
        }
        if (moved) {
            stuck = 0;
            continue;
        }
        if (now_ms() > end)
            return -ETIMEDOUT;
        /* full (or the last turn's bytes all in, not on a turn's end): a turn more */
        if (rd == limit && (stuck ? now_ms() - stuck > 20 : (stuck = now_ms(), 0))) {
            limit = (rd / total + 1) * total;
            stuck = 0;
        }
        struct pollfd pf[2] = { { fd, rd < limit ? POLLIN : 0, 0 }, { peer_fd, POLLOUT, 0 } };
        poll(pf, 2, 5);
    }
    return 0;
}

/* Everything on its way to fd from peer_fd (a socket of the process, or a copy of one
 * of the tree's): read out of fd, its peer's unsent bytes following as the window
 * opens, then (put_back) sent again from the peer for the program that goes on
 * (turn_back).  What does not fit in to (cap) is read on into a mapping of its own,
 * sent again with the rest, and the checkpoint fails (E2BIG): nothing is lost.
 * Bytes, or -errno with the message in d. */
#define OVERFLOW (256 * MiB)
static ssize_t drain(struct dump *d, int fd, int peer_fd, const char *what, char *to, size_t cap,
                     int put_back)
{
    size_t got = 0, over = 0;
    char *more = NULL;
    long end = now_ms() + DRAIN_MS;
    int err = 0;
    for (;;) {
        ssize_t n;
        if (got < cap)
            n = recv(fd, to + got, cap - got, MSG_DONTWAIT);
        else {
            if (!more && (more = mmap(NULL, OVERFLOW, PROT_READ | PROT_WRITE, MAP_PRIVATE |
                                      MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)) == MAP_FAILED) {
                more = NULL;
                err = ENOMEM;
                break;
            }
            n = over < OVERFLOW ? recv(fd, more + over, OVERFLOW - over, MSG_DONTWAIT) : 0;
        }
        if (n > 0) {
            *(got < cap ? &got : &over) += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            err = errno;
            break;
        }
        int queued = 0;
        ioctl(fd, FIONREAD, &queued);
        if (outq(peer_fd) == 0 && queued == 0)
            break;
        if (over == OVERFLOW || now_ms() > end) {
            err = over == OVERFLOW ? E2BIG : ETIMEDOUT;
            break;
        }
        struct pollfd pf = { fd, POLLIN, 0 };
        poll(&pf, 1, 20);
    }
    /* what was taken goes back, in order (whole only if nothing stayed before it) */
    int rc = put_back ? turn_back(fd, peer_fd, to, got, more, got + over) : 0;
    if (more)
        munmap(more, OVERFLOW);
    if (rc < 0 || err)
        return fail(d, rc < 0 ? -rc : err, "fd %d (%s): %zu bytes taken out to be saved %s: %s; "
                    "the program's data on this connection is damaged", fd, what, got + over,
                    rc < 0 ? "could not all be sent again" : "while more stayed on the way",
                    strerror(rc < 0 ? -rc : err));
    if (over)
        return fail(d, E2BIG, "fd %d (%s): %zu bytes are on their way to it, more than the %zu "
                    "that can be saved; the checkpoint is not taken and the program goes on with "
                    "its data", fd, what, got + over, cap);
    return (ssize_t)got;
}

/* The socket with inode ino in another process of this user (the tree's, frozen too),
 * as an fd of ours (pidfd_getfd): -1 if none can be had. */
static int fd_of_other(struct dump *d, uint64_t ino)
{
    char want[48], *ents = d->scratch + FDINFO_OFF, *sub = d->scratch + FDINFO_OFF + FDINFO_SIZE / 2;
    snprintf(want, sizeof want, "socket:[%llu]", (unsigned long long)ino);
    int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), found = -1;
    pid_t self = getpid();
    for (long n; proc >= 0 && found < 0 && (n = syscall(SYS_getdents64, proc, ents, FDINFO_SIZE / 2)) > 0;)
        for (long off = 0; off < n && found < 0;) {
            const struct dirent64 *e = (const void *)(ents + off);
            off += e->d_reclen;
            pid_t pid = (pid_t)atoi(e->d_name);
            char path[64];
            if (pid <= 0 || pid == self)
                continue;
            snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
            int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            for (long m; dir >= 0 && found < 0 && (m = syscall(SYS_getdents64, dir, sub, FDINFO_SIZE / 2)) > 0;)
                for (long o = 0; o < m && found < 0;) {
                    const struct dirent64 *f = (const void *)(sub + o);
                    o += f->d_reclen;
                    char link[64];
                    ssize_t len = readlinkat(dir, f->d_name, link, sizeof link - 1);
                    if (len <= 0 || f->d_name[0] == '.')
                        continue;
                    link[len] = 0;
                    if (strcmp(link, want))
                        continue;
                    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
                    if (pfd >= 0) {
                        found = (int)syscall(SYS_pidfd_getfd, pfd, atoi(f->d_name), 0);
                        close(pfd);
                    }
                    if (found < 0)
                        found = -2; /* it is there, out of reach */
                }
            if (dir >= 0)
                close(dir);
        }
    if (proc >= 0)
        close(proc);
    return found < 0 ? -1 : found;
}

/* Every fd of the process on the socket of inode ino made fresh's (with its FD_CLOEXEC
 * and, for the first, the file status flags status); fresh closed.  (The dump lists
 * /proc/self/fd by getdents: no libc directory calls while the threads are frozen.) */
static void replace_on_fds(int fresh, ino_t ino, int status)
{
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char buf[4096];
    long n;
    while (dir >= 0 && (n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0)
        for (long off = 0; off < n;) {
            struct dirent64 *de = (struct dirent64 *)(buf + off);
            off += de->d_reclen;
            struct stat st;
            int fd = atoi(de->d_name);
            if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dir || fd == fresh ||
                fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_ino != ino)
                continue;
            int fl = fcntl(fd, F_GETFD);
            dup3(fresh, fd, (fl & FD_CLOEXEC) ? O_CLOEXEC : 0);
        }
    if (dir >= 0)
        close(dir);
    fcntl(fresh, F_SETFL, status);
    close(fresh);
}

/* The error of a connection over both ways, taken to be saved (SO_ERROR takes it), put
 * back for the program that goes on: its socket replaced on its fds by one made as a
 * restart makes it (its data, then a reset), whose error is the same.  0, or -errno
 * with the message in d. */
static int reset_again(struct dump *d, int fd, ino_t ino, const struct ctx_socket *so,
                       const struct ctx_tcp *tcp, const char *data, const char *text)
{
    /* at any loopback port: its own is still the old socket's until it is replaced */
    struct sockaddr_storage any;
    memset(&any, 0, sizeof any);
    any.ss_family = (sa_family_t)so->domain;
    if (so->domain == AF_INET)
        ((struct sockaddr_in *)&any)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else
        ((struct sockaddr_in6 *)&any)->sin6_addr = in6addr_loopback;
    struct tcp_end gone, mine = { so, tcp, (const unsigned char *)data, (const struct sockaddr *)&any,
                                  so->domain == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6) };
    memset(&gone, 0, sizeof gone);
    int out[2], status = fcntl(fd, F_GETFL);
    char note[8], msg[300] = "";
    int rc = tcp_pair_rebuild(&gone, &mine, out, note, sizeof note, msg, sizeof msg);
    if (rc < 0)
        return fail(d, -rc, "fd %d (%s): its reset cannot be made again for the program (%s); "
                    "its error was read to be saved and the program will not see it", fd, text, msg);
    replace_on_fds(out[1], ino, status);
    return 0;
}

int save_tcp(struct dump *d, int fd, const struct stat *st, const struct tcp_diag *inside,
             int peer_fd, const struct tcp_diag *closed_peer, const char *here, const char *there)
{
    char text[600];
    int state = tcp_state(fd);
    int closed = !inside && !closed_peer;
    if (inside)
        snprintf(text, sizeof text, "TCP connection %s -> %s socket:[%llu] paired with "
                 "socket:[%llu]", here, there, (unsigned long long)st->st_ino,
                 (unsigned long long)inside->ino);
    else if (closed_peer)
        snprintf(text, sizeof text, "TCP connection %s -> %s whose peer was closed", here, there);
    else
        snprintf(text, sizeof text, "TCP connection %s, over both ways", here);
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    memset(&so, 0, sizeof so);
    socklen_t len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &so.domain, &len);
    so.type = SOCK_STREAM;
    so.protocol = IPPROTO_TCP;
    struct sockaddr_storage a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0 && alen <= sizeof so.addr) {
        memcpy(so.addr, &a, alen);
        so.addr_len = alen;
    }
    alen = sizeof a;
    if (!closed && getpeername(fd, (struct sockaddr *)&a, &alen) == 0 && alen <= sizeof so.peer) {
        memcpy(so.peer, &a, alen);
        so.peer_len = alen;
        so.state = CTX_SOCK_CONNECTED;
    }
    struct tcp_diag me;
    memset(&me, 0, sizeof me);
    if (!closed && tcp_diag_find((struct sockaddr_storage *)so.addr, (struct sockaddr_storage *)so.peer,
                                 d->scratch + FDINFO_OFF, &me) < 0)
        me.found = 0;
    static struct ctx_tcp tcp;
    memset(&tcp, 0, sizeof tcp);
    tcp.state = state < 0 ? TCP_CLOSE : (uint32_t)state;
    /* a FIN came in: the states after it (RCV_SHUTDOWN says the same of a SHUT_RD) */
    int fin_in = state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING || closed;
    tcp.flags = (fin_in ? CTX_TCP_FIN_IN : 0) | (closed_peer ? CTX_TCP_PEER_CLOSED : 0) |
                (closed ? CTX_TCP_CLOSED : 0);
    int fin_out = state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
                  state == TCP_LAST_ACK || closed;
    so.shutdown = (me.found && (me.shutdown & 1) && !fin_in ? 1 : 0) | (fin_out ? 2 : 0);
    if (closed)
        so.shutdown = 3;
    if (sock_save_opts(fd, &so) < 0)
        return fail(d, E2BIG, "fd %d (%s) has more than %d socket options changed", fd, text,
                    CTX_SOCKOPT_MAX);
    char urgent;
    if (recv(fd, &urgent, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1)
        return fail(d, ENOTSUP, "fd %d (%s) has urgent data (MSG_OOB) queued to it, which this "
                    "version cannot send again out of band; let the program read it before the "
                    "checkpoint", fd, text);
    /* an error the program has not taken yet (a reset, a timeout): which one cannot be
     * read without taking it from the program (SO_ERROR).  A connection over both ways
     * (its peer gone: on loopback a reset, ECONNRESET) is saved with it, and the program
     * given it back (reset_again); else refused */
    struct pollfd pe = { fd, 0, 0 };
    int reset = poll(&pe, 1, 0) == 1 && (pe.revents & POLLERR);
    if (reset && (!closed || shared_in_tree(d, fd)))
        return fail(d, ENOTSUP, "fd %d (%s) has an error the program has not read yet (the "
                    "connection was reset, or timed out): this version cannot tell it without "
                    "taking it from the program; let the program read it before the checkpoint",
                    fd, text);
    int unread = 0;
    /* (what a new connection holds without widening it, which would allocate memory
     * while the program's threads are frozen) */
    if (reset && ioctl(fd, FIONREAD, &unread) == 0 && unread > (64 << 10))
        return fail(d, E2BIG, "fd %d (%s) was reset with %d bytes the program has not read, more "
                    "than this version makes again while the program runs (64 KiB); let the "
                    "program read them before the checkpoint", fd, text, unread);
    if (reset) { /* taken now: a peek at the data would take it when there is none */
        int err = 0;
        socklen_t elen = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            return fail(d, errno, "fd %d (%s): cannot read its error: %s", fd, text, strerror(errno));
        if (err != ECONNRESET)
            return fail(d, ENOTSUP, "fd %d (%s) had an error the program had not read yet, %s, "
                        "which was read to be saved: only a reset can be made again; the "
                        "program will not see it", fd, text, strerror(err));
        tcp.flags |= CTX_TCP_RESET;
    }
    /* its peer's bytes not in its queue yet: unsent, or sent and not acknowledged; the
     * ones sent are in its queue once acknowledged, which this end may delay (delayed
     * ACK, some tens of ms): waited for, those that stay unacknowledged are drained */
    struct tcp_diag pd = inside ? *inside : closed_peer ? *closed_peer : me;
    int pending = 0, peer_state = 0;
    for (long end = now_ms() + 1000;;) {
        pending = peer_fd >= 0 ? outq(peer_fd) : inside || closed_peer ? (int)pd.wqueue : 0;
        peer_state = peer_fd >= 0 ? tcp_state(peer_fd) : inside || closed_peer ? (int)pd.state : 0;
        /* a FIN takes a sequence number: not acknowledged yet, it counts as one byte */
        if (pending > 0 && (peer_state == TCP_FIN_WAIT1 || peer_state == TCP_FIN_WAIT2 ||
                            peer_state == TCP_CLOSING || peer_state == TCP_LAST_ACK ||
                            peer_state == TCP_TIME_WAIT))
            pending--;
        int unsent = 0;
        if (pending <= 0 || now_ms() > end ||
            (peer_fd >= 0 && ioctl(peer_fd, SIOCOUTQNSD, &unsent) == 0 && unsent > 0))
            break;
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        if (peer_fd < 0 && (tcp_diag_find((struct sockaddr_storage *)so.peer,
                                          (struct sockaddr_storage *)so.addr,
                                          d->scratch + FDINFO_OFF, &pd) < 0 || !pd.found))
            pd.wqueue = 0; /* gone meanwhile: its bytes are all here */
    }
    if (pending > 0 && !inside && peer_fd < 0)
        return fail(d, EAGAIN, "fd %d (%s) has %d bytes on their way to it from its peer, which "
                    "was closed; try again once the program has read them", fd, text, pending);
    /* its peer shut down writing behind them: once taken out they cannot be sent again
     * from it, so the runtime holds them for the program (tcp_held.c) */
    int behind_fin = pending > 0 && (peer_state == TCP_FIN_WAIT1 || peer_state == TCP_LAST_ACK ||
                                     peer_state == TCP_CLOSING);
    if (behind_fin && !d->tcp_hold)
        return fail(d, EAGAIN, "fd %d (%s) has %d bytes on their way to it from its peer, which "
                    "shut down writing after them: they cannot be taken out and sent again from "
                    "outside the process (the ptrace backend); try again once the program has "
                    "read them, or run it under cr_run", fd, text, pending);
    /* its peer in another process of the tree: drained through a copy of its fd */
    int borrowed = pending > 0 && peer_fd < 0 ? fd_of_other(d, inside->ino) : -1;
    if (borrowed >= 0)
        peer_fd = borrowed;
    if (pending > 0 && peer_fd < 0)
        return fail(d, EAGAIN, "fd %d (%s) has %d bytes on their way to it from its peer in "
                    "another process of the tree, whose socket cannot be reached (pidfd_getfd) "
                    "to send them again after taking them out; try again once the program has "
                    "read them", fd, text, pending);
    if (pending > 0 && (shared_in_tree(d, fd) || shared_in_tree(d, peer_fd))) {
        if (borrowed >= 0)
            close(borrowed);
        return fail(d, EAGAIN, "fd %d (%s) has %d bytes on their way to it, and processes of the "
                    "tree share it: they cannot be taken out while the others have it; try again "
                    "once the program has read them", fd, text, pending);
    }
    /* the data goes straight into the record: room for all the records area has left */
    size_t room = RECS_SIZE - d->recs_len;
    size_t fixed = sizeof(struct ctx_rec) + sizeof(struct ctx_fd) + strlen(text) + 1 + sizeof so +
                   sizeof tcp + 64 * 1024; /* and for the records after it */
    room = room > fixed ? room - fixed : 0;
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_TCP, text, sizeof so + sizeof tcp + room, st);
    if (!r) {
        if (borrowed >= 0)
            close(borrowed);
        return fail(d, E2BIG, "too much metadata");
    }
    char *data = (char *)(r + 1) + r->path_len + sizeof so + sizeof tcp;
    /* first what the runtime still holds for it from an earlier checkpoint */
    const char *held = NULL;
    size_t nheld = d->tcp_held ? d->tcp_held(fd, &held) : 0;
    if (nheld > room) {
        if (borrowed >= 0)
            close(borrowed);
        return fail(d, E2BIG, "fd %d (%s): %zu bytes held for the program since an earlier "
                    "checkpoint, more than can be saved (%zu); the program goes on with them",
                    fd, text, nheld, room);
    }
    if (nheld)
        memcpy(data, held, nheld);
    ssize_t n = pending > 0 ? drain(d, fd, peer_fd, text, data + nheld, room - nheld, !behind_fin)
                            : peek_all(d, fd, text, data + nheld, room - nheld);
    if (borrowed >= 0)
        close(borrowed);
    if (n < 0)
        return (int)n;
    if (behind_fin) {
        int hr = d->tcp_hold(fd, data, nheld + (size_t)n);
        if (hr < 0) /* taken, and neither kept nor sent again: lost for the program */
            return fail(d, -hr, "fd %d (%s): %zu bytes taken out to be saved cannot be held for "
                        "the program (%s): the program's data on this connection is damaged",
                        fd, text, nheld + (size_t)n, strerror(-hr));
        /* their FIN came in behind them */
        state = tcp_state(fd);
        tcp.state = state < 0 ? TCP_CLOSE : (uint32_t)state;
        if (state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_CLOSING)
            tcp.flags |= CTX_TCP_FIN_IN;
    }
    n += (ssize_t)nheld;
    tcp.data_len = (uint64_t)n;
    r->pos = inside ? inside->ino : 0;
    memcpy((char *)(r + 1) + r->path_len, &so, sizeof so);
    memcpy((char *)(r + 1) + r->path_len + sizeof so, &tcp, sizeof tcp);
    fd_record_trim(d, r, sizeof so + sizeof tcp + (size_t)n);
    int again = reset ? reset_again(d, fd, st->st_ino, &so, &tcp, data, text) : 0;
    if (again < 0)
        return again;
    tcp_reset_at_kill(fd);
    return 0;
}

void tcp_reset_at_kill(int fd)
{
    if (nsaved < TCP_SAVED_MAX)
        saved_fds[nsaved++] = fd;
}

/* Stopped once saved (cr_checkpoint --stop; a Slurm vacate, whose step scancel then
 * kills): if the process is killed while stopped, its saved connections must end with
 * a reset as at --kill; if it is continued instead (SIGCONT), each gets its own
 * SO_LINGER back before any thread of the program runs again (the runtime releases
 * them after this), so that a later close is the program's own.  An fd that is no
 * longer the socket saved is left alone. */
static struct linger stopped_linger[TCP_SAVED_MAX];
static ino_t stopped_ino[TCP_SAVED_MAX];

void tcp_reset_while_stopped(int stopping)
{
    static int armed;
    struct linger now = { 1, 0 };
    struct stat st;
    if (stopping) {
        for (int i = 0; i < nsaved; i++) {
            socklen_t len = sizeof stopped_linger[i];
            stopped_ino[i] = 0;
            if (fstat(saved_fds[i], &st) < 0 ||
                getsockopt(saved_fds[i], SOL_SOCKET, SO_LINGER, &stopped_linger[i], &len) < 0)
                continue;
            if (setsockopt(saved_fds[i], SOL_SOCKET, SO_LINGER, &now, sizeof now) == 0)
                stopped_ino[i] = st.st_ino;
        }
        armed = 1;
        return;
    }
    if (!armed)
        return;
    for (int i = 0; i < nsaved; i++)
        if (stopped_ino[i] && fstat(saved_fds[i], &st) == 0 && st.st_ino == stopped_ino[i])
            setsockopt(saved_fds[i], SOL_SOCKET, SO_LINGER, &stopped_linger[i], sizeof stopped_linger[i]);
    armed = 0;
    nsaved = 0;
}

void tcp_abort_on_exit(void)
{
    /* the process is killed once saved: its connections inside end with a reset (no
     * TIME_WAIT keeps their ports from the restart) */
    struct linger now = { 1, 0 };
    for (int i = 0; i < nsaved; i++)
        setsockopt(saved_fds[i], SOL_SOCKET, SO_LINGER, &now, sizeof now);
    nsaved = 0;
}

/* Each checkpoint says its own. */
static int scan_tcp(struct dump *d, struct fd_scan *s, const int *fds, int nfds)
{
    (void)d, (void)s, (void)fds, (void)nfds;
    nsaved = 0;
    return 0;
}

/* ---- the rebuild ---- */

static const char *addr_text(const struct sockaddr *a, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)a;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const void *)a;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
    return buf;
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET)
        ((struct sockaddr_in *)a)->sin_port = port;
    else
        ((struct sockaddr_in6 *)a)->sin6_port = port;
}

/* An address as a socket of family sees it (IPv4 in IPv6: ::ffff:a.b.c.d). */
static socklen_t as_family(const struct sockaddr_storage *a, int family, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (a->ss_family == family) {
        memcpy(out, a, sizeof *out);
        return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    }
    if (family == AF_INET6) {
        const struct sockaddr_in *in = (const void *)a;
        struct sockaddr_in6 *o = (void *)out;
        o->sin6_family = AF_INET6;
        o->sin6_port = in->sin_port;
        o->sin6_addr.s6_addr[10] = o->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&o->sin6_addr.s6_addr[12], &in->sin_addr, 4);
        return sizeof *o;
    }
    const struct sockaddr_in6 *in6 = (const void *)a;
    struct sockaddr_in *o = (void *)out;
    o->sin_family = AF_INET;
    o->sin_port = in6->sin6_port;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        memcpy(&o->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
    else
        o->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *o;
}

/* The saved value of an int option (dflt if the program had not changed it). */
static int saved_int(const struct ctx_socket *so, int level, int name, int dflt)
{
    for (uint32_t i = 0; so && i < so->nopts; i++)
        if (so->opts[i].level == level && so->opts[i].name == name && so->opts[i].len >= sizeof(int)) {
            int v;
            memcpy(&v, so->opts[i].val, sizeof v);
            return v;
        }
    return dflt;
}

/* A new socket of the end's family, bound to where it goes (its port where that is
 * taken: another, said in note); IPV6_V6ONLY as it was, before the bind. */
static int bound_socket(const struct tcp_end *e, struct sockaddr_storage *where, int family,
                        char *note, size_t notelen, char *err, size_t errlen)
{
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0)
        return cr_say(err, errlen, errno, "cannot create a TCP socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        int v6only = saved_int(e->so, IPPROTO_IPV6, IPV6_V6ONLY, -1);
        if (v6only >= 0 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) {
            close(s);
            return cr_say(err, errlen, errno, "cannot set IPV6_V6ONLY: %s", strerror(errno));
        }
    }
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    /* the killed process's sockets may take a moment to let their port go */
    long end = now_ms() + 2000;
    int rc;
    while ((rc = bind(s, (struct sockaddr *)where, len)) < 0 && errno == EADDRINUSE && now_ms() < end) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (rc < 0 && errno == EADDRINUSE) {
        char was[80], now[80];
        addr_text((struct sockaddr *)where, was, sizeof was);
        set_port(where, 0);
        rc = bind(s, (struct sockaddr *)where, len);
        if (rc == 0 && getsockname(s, (struct sockaddr *)where, &len) == 0) {
            size_t used = strlen(note);
            snprintf(note + used, notelen - used, "%s%s is taken on this host: bound to %s instead",
                     used ? "; " : "", was, addr_text((struct sockaddr *)where, now, sizeof now));
        }
    }
    if (rc < 0) {
        char was[80];
        int e2 = errno;
        close(s);
        return cr_say(err, errlen, e2, "cannot bind a TCP socket to %s: %s",
                   addr_text((struct sockaddr *)where, was, sizeof was), strerror(e2));
    }
    getsockname(s, (struct sockaddr *)where, &len); /* the port it got, asked for 0 */
    return s;
}

/* The options the program had changed, but SO_REUSEADDR (the listeners of the process
 * may still have to bind the port: tcp_end_finish) and IPV6_V6ONLY (before the bind). */
int sock_set_opts(int s, const struct ctx_socket *so, char *err, size_t errlen)
{
    for (uint32_t i = 0; so && i < so->nopts; i++) {
        const struct ctx_sockopt *o = &so->opts[i];
        if ((o->level == SOL_SOCKET && o->name == SO_REUSEADDR) ||
            (o->level == IPPROTO_IPV6 && o->name == IPV6_V6ONLY))
            continue;
        unsigned char val[sizeof o->val];
        memcpy(val, o->val, sizeof val);
        if (o->level == SOL_SOCKET && (o->name == SO_RCVBUF || o->name == SO_SNDBUF) && o->len == sizeof(int)) {
            int half;
            memcpy(&half, val, sizeof half);
            half /= 2; /* the kernel doubles what it is given */
            memcpy(val, &half, sizeof half);
        }
        unsigned char now[sizeof o->val];
        socklen_t nlen = sizeof now;
        if (setsockopt(s, o->level, o->name, val, o->len) < 0 &&
            /* one the kernel takes only before a connection (or gave it itself) is fine
             * when it is already what it was */
            (getsockopt(s, o->level, o->name, now, &nlen) < 0 || nlen != o->len ||
             memcmp(now, o->val, nlen)))
            return cr_say(err, errlen, errno, "cannot set %s again: %s",
                       describe_sockopt(o->level, o->name), strerror(errno));
    }
    return 0;
}

void tcp_end_finish(int s, const struct ctx_socket *so)
{
    int reuse = saved_int(so, SOL_SOCKET, SO_REUSEADDR, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
}

/* Until the end's state is what it was (the FINs sent again crossing loopback). */
static void settle(int s, uint32_t want)
{
    /* a FIN not acknowledged yet was a moment's state: loopback acknowledges at once */
    if (want == TCP_FIN_WAIT1)
        want = TCP_FIN_WAIT2;
    else if (want == TCP_LAST_ACK || want == TCP_CLOSING || want == TCP_TIME_WAIT)
        want = TCP_CLOSE;
    long end = now_ms() + 2000;
    while (tcp_state(s) != (int)want && now_ms() < end) {
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static int sockbuf(int s, int name)
{
    int v = 0;
    socklen_t len = sizeof v;
    getsockopt(s, SOL_SOCKET, name, &v, &len);
    return v;
}

/* What a connection from `from` to `to` holds before a write blocks, about: the
 * receiver's buffer and the sender's (which grows at once to tcp_wmem's most). */
static size_t holds(int from, int to)
{
    char text[128] = "";
    unsigned long lo, dflt, most = 0;
    int fd = open("/proc/sys/net/ipv4/tcp_wmem", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, text, sizeof text - 1);
        text[n > 0 ? n : 0] = 0;
        close(fd);
    }
    if (sscanf(text, "%lu %lu %lu", &lo, &dflt, &most) != 3)
        most = 0;
    size_t snd = (size_t)sockbuf(from, SO_SNDBUF);
    return (size_t)sockbuf(to, SO_RCVBUF) + (snd > most ? snd : most) * 9 / 10;
}

/* A new connection holds about the sender's buffer and a small receive window: for
 * more, bytes are pumped through and read until the receiver's buffer has grown as it
 * had (the kernel widens it for a reader that keeps up), at most 2 GiB or 10 s. */
static int widen(int from, int to, size_t need)
{
    if (holds(from, to) >= need + need / 8)
        return 0;
    size_t chunk = 1 << 20;
    char *junk = calloc(1, chunk);
    if (!junk)
        return -ENOMEM;
    long end = now_ms() + 10000;
    size_t sent = 0, got = 0;
    while (holds(from, to) < need + need / 8 && sent < (2UL << 30) && now_ms() < end) {
        ssize_t n = send(from, junk, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        while ((n = recv(to, junk, chunk, MSG_DONTWAIT)) > 0)
            got += (size_t)n;
    }
    /* nothing of it left on the way */
    while (got < sent && now_ms() < end + 5000) {
        ssize_t n = recv(to, junk, chunk, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else {
            struct pollfd pf = { to, POLLIN, 0 };
            poll(&pf, 1, 10);
        }
    }
    free(junk);
    return got == sent ? 0 : -ETIMEDOUT;
}

int tcp_pair_rebuild(const struct tcp_end *a, const struct tcp_end *b, int out[2], char *note,
                     size_t notelen, char *err, size_t errlen)
{
    /* a: the end the listener stands for (its peer's end b connects to it); a closed
     * peer is a (made here, closed at the end) */
    int family_a = a->so ? a->so->domain : b->so->domain;
    int family_b = b->so->domain;
    struct sockaddr_storage la, lb, to;
    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    memcpy(&lb, b->local, b->local_len);
    if (a->local_len)
        as_family((const struct sockaddr_storage *)a->local, family_a, &la);
    else { /* nothing to stand for: any loopback port */
        la.ss_family = (sa_family_t)family_a;
        if (family_a == AF_INET)
            ((struct sockaddr_in *)&la)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
            ((struct sockaddr_in6 *)&la)->sin6_addr = in6addr_loopback;
    }
    out[0] = out[1] = -1;
    char scratch_note[4];
    int l = bound_socket(a, &la, family_a, a->local_len ? note : scratch_note,
                         a->local_len ? notelen : sizeof scratch_note, err, errlen);
    if (l < 0)
        return l;
    if (listen(l, 1) < 0) {
        close(l);
        return cr_say(err, errlen, errno, "cannot listen: %s", strerror(errno));
    }
    socklen_t tolen = as_family(&la, family_b, &to);
    int bs = bound_socket(b, &lb, family_b, note, notelen, err, errlen);
    if (bs < 0) {
        close(l);
        return bs;
    }
    if (connect(bs, (struct sockaddr *)&to, tolen) < 0) {
        char t[80];
        int e = errno;
        close(l);
        close(bs);
        return cr_say(err, errlen, e, "cannot connect to %s: %s", addr_text((struct sockaddr *)&to, t, sizeof t),
                   strerror(e));
    }
    int as = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    int e = errno;
    close(l);
    if (as < 0) {
        close(bs);
        return cr_say(err, errlen, e, "cannot accept the connection made again: %s", strerror(e));
    }
    int rc = sock_set_opts(bs, b->so, err, errlen);
    if (rc == 0)
        rc = sock_set_opts(as, a->so, err, errlen);
    if (rc == 0 && ((b->tcp->data_len && (rc = widen(as, bs, b->tcp->data_len)) < 0) ||
                    (a->tcp && a->tcp->data_len && (rc = widen(bs, as, a->tcp->data_len)) < 0)))
        cr_say(err, errlen, -rc, "cannot widen the connection for its data: %s", strerror(-rc));
    /* each end's data from the other, then the FINs that had come, then SHUT_RD */
    if (rc == 0 && b->tcp->data_len && (rc = sock_send_all(as, (const char *)b->data, b->tcp->data_len, 10000)) < 0)
        cr_say(err, errlen, -rc, "cannot queue %llu bytes again: %s",
            (unsigned long long)b->tcp->data_len, strerror(-rc));
    if (rc == 0 && a->tcp && a->tcp->data_len &&
        (rc = sock_send_all(bs, (const char *)a->data, a->tcp->data_len, 10000)) < 0)
        cr_say(err, errlen, -rc, "cannot queue %llu bytes again: %s",
            (unsigned long long)a->tcp->data_len, strerror(-rc));
    if (rc < 0) {
        close(as);
        close(bs);
        return rc;
    }
    if (!a->so && (b->tcp->flags & CTX_TCP_RESET)) {
        /* ended with a reset: once b has its data, a resets (no FIN before it, which
         * would make the error EPIPE), and b is over with ECONNRESET to tell */
        int queued = 0;
        for (long end = now_ms() + 5000; now_ms() < end; nanosleep(&(struct timespec){ 0, 1000000 }, NULL))
            if (ioctl(bs, FIONREAD, &queued) == 0 && (uint64_t)queued >= b->tcp->data_len)
                break;
        struct linger now = { 1, 0 };
        setsockopt(as, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        close(as);
        struct pollfd pf = { bs, 0, 0 };
        for (long end = now_ms() + 5000; now_ms() < end && !(poll(&pf, 1, 10) == 1 && (pf.revents & POLLERR));)
            ;
        if (!(pf.revents & POLLERR)) {
            close(bs);
            return cr_say(err, errlen, ETIMEDOUT, "the reset of the connection made again did not come");
        }
        out[0] = -1;
        out[1] = bs;
        return 0;
    }
    if ((b->tcp->flags & CTX_TCP_FIN_IN) || !a->so || (a->so->shutdown & 2))
        shutdown(as, SHUT_WR);
    if ((a->tcp && (a->tcp->flags & CTX_TCP_FIN_IN)) || (b->so->shutdown & 2))
        shutdown(bs, SHUT_WR);
    if (a->so && (a->so->shutdown & 1))
        shutdown(as, SHUT_RD);
    if (b->so->shutdown & 1)
        shutdown(bs, SHUT_RD);
    if (!a->so) /* the closed peer: gone, its FIN sent */
        close(as), as = -1;
    else
        settle(as, a->tcp->state);
    settle(bs, b->tcp->state);
    out[0] = as;
    out[1] = bs;
    return 0;
}

/* ---- connections of the process waiting in the backlog of its listener, with data ---- */

/* Their bytes cannot be read without accepting them: each is accepted (in the order
 * of the queue), its bytes taken, and for the program that goes on, its client is
 * replaced on the same fds by a new socket bound to the same address, with the same
 * options, connected to the listener again (at the end of the queue: after as many as
 * were waiting, the queue is in its order again) and sending the bytes again. */

#define TAKE_MAX 256
#define TAKE_BUF (64 * MiB)

static struct {
    int fd;
    size_t off, len;
    uint32_t nmsgs;            /* 0: a stream's bytes; else that many struct ctx_sock_msg */
} taken[TAKE_MAX];
static int ntaken;
static int listeners_taken[TAKE_MAX], nlisteners_taken;
static char *take_buf;
static size_t take_used;

/* Whether an epoll of the process watches the socket with inode ino (it would not see
 * the socket that replaces it). */
int epoll_watching(struct dump *d, const struct fd_scan *s, uint64_t ino)
{
    char key[40];
    snprintf(key, sizeof key, " ino:%llx ", (unsigned long long)ino);
    for (int i = 0; i < s->nfds; i++) {
        char path[64];
        struct stat st;
        if (fd_path(s->fds[i], path, sizeof path, &st) < 0 || strcmp(path, "anon_inode:[eventpoll]"))
            continue;
        const char *info = fdinfo(d, s->fds[i]);
        if (info && strstr(info, key))
            return s->fds[i];
    }
    return -1;
}

ssize_t tcp_backlog_data(int fd, const char **data, uint32_t *nmsgs)
{
    for (int i = 0; i < ntaken; i++)
        if (taken[i].fd == fd) {
            *data = take_buf + taken[i].off;
            *nmsgs = taken[i].nmsgs;
            return (ssize_t)taken[i].len;
        }
    return -1;
}

char *backlog_room(struct dump *d, size_t *cap)
{
    if (!take_buf) {
        take_buf = mmap(NULL, TAKE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (take_buf == MAP_FAILED) {
            take_buf = NULL;
            fail(d, ENOMEM, "cannot map room for the data of connections waiting in a backlog");
            return NULL;
        }
    }
    *cap = TAKE_BUF - take_used;
    return take_buf + take_used;
}

int backlog_keep(int fd, size_t len)
{
    return backlog_keep_msgs(fd, 0, len, 0);
}

int backlog_keep_msgs(int fd, size_t skip, size_t len, uint32_t nmsgs)
{
    if (ntaken == TAKE_MAX)
        return -1;
    taken[ntaken].fd = fd;
    taken[ntaken].off = take_used + skip;
    taken[ntaken].len = len;
    taken[ntaken++].nmsgs = nmsgs;
    take_used += skip + ((len + 7) & ~(size_t)7);
    return 0;
}

int backlog_first_take(int listener)
{
    for (int i = 0; i < nlisteners_taken; i++)
        if (listeners_taken[i] == listener)
            return 0;
    if (nlisteners_taken < TAKE_MAX)
        listeners_taken[nlisteners_taken++] = listener;
    return 1;
}

void tcp_backlog_done(void)
{
    if (take_buf)
        munmap(take_buf, TAKE_BUF);
    take_buf = NULL;
    take_used = 0;
    ntaken = nlisteners_taken = 0;
}

/* The client fd (a socket of inode ino) made again as it was, connected again to the
 * listener where it was; k, its accepted end taken out, closed with a reset (which frees the
 * client's port) only once the new socket is ready to bind it at once: 0, or -errno
 * with the message in d. */
static int reconnect_client(struct dump *d, const struct fd_scan *s, int fd, uint64_t ino,
                            const char *what, int k)
{
    static struct ctx_socket so;
    memset(&so, 0, sizeof so);
    socklen_t len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &so.domain, &len);
    so.type = SOCK_STREAM;
    so.protocol = IPPROTO_TCP;
    struct sockaddr_storage self, peer;
    socklen_t slen = sizeof self, plen = sizeof peer;
    struct linger now = { 1, 0 };
    setsockopt(k, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    /* connected again where it was (its family's view of the listener's address) */
    if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || sock_save_opts(fd, &so) < 0) {
        close(k);
        return fail(d, errno ? errno : E2BIG, "fd %d (%s): cannot read its address and options", fd, what);
    }
    int status = fcntl(fd, F_GETFL);
    int fresh = socket(so.domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fresh < 0) {
        close(k);
        return fail(d, errno, "fd %d (%s): cannot create the socket that replaces it: %s", fd, what,
                    strerror(errno));
    }
    int one = 1, rc = 0;
    setsockopt(fresh, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int v6only = saved_int(&so, IPPROTO_IPV6, IPV6_V6ONLY, -1);
    if (so.domain == AF_INET6 && v6only >= 0)
        setsockopt(fresh, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    close(k); /* the reset: the old client lets its port go (one it took by connect) */
    rc = bind(fresh, (struct sockaddr *)&self, slen);
    int e = rc < 0 ? errno : 0;
    for (int i = 0; i < s->nfds; i++) { /* every fd of it: the old one goes */
        struct stat st;
        if (fstat(s->fds[i], &st) == 0 && st.st_ino == ino) {
            int fl = fcntl(s->fds[i], F_GETFD);
            dup3(fresh, s->fds[i], (fl & FD_CLOEXEC) ? O_CLOEXEC : 0);
        }
    }
    close(fresh);
    /* one it had bound is its own until it is gone: now */
    for (long end = now_ms() + 2000; rc < 0 && e == EADDRINUSE && now_ms() < end;) {
        if ((rc = bind(fd, (struct sockaddr *)&self, slen)) == 0)
            break;
        e = errno;
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    errno = e;
    char err[200] = "";
    if (rc < 0 || (rc = sock_set_opts(fd, &so, err, sizeof err)) < 0 ||
        (rc = connect(fd, (const struct sockaddr *)&peer, plen)) < 0)
        return fail(d, errno, "fd %d (%s) was taken out of the backlog to save its data and "
                    "cannot be connected again (%s%s): the program's connection is lost", fd, what,
                    err[0] ? err : "", strerror(errno));
    tcp_end_finish(fd, &so);
    fcntl(fd, F_SETFL, status);
    return 0;
}

int tcp_backlog_take(struct dump *d, const struct sock_scan *ss, const struct fd_scan *s,
                     int listener, int fd, const char *what)
{
    for (int i = 0; i < nlisteners_taken; i++)
        if (listeners_taken[i] == listener)
            return 0;
    char *buf = d->scratch + FDINFO_OFF;
    struct stat lst;
    int waiting = 0, family = 0;
    socklen_t len = sizeof family;
    getsockopt(listener, SOL_SOCKET, SO_DOMAIN, &family, &len);
    if (fstat(listener, &lst) < 0 || tcp_listen_backlog(family, lst.st_ino, buf, &waiting) < 0)
        return fail(d, EIO, "fd %d (%s): cannot tell the backlog of its listener fd %d", fd,
                    what, listener);
    int ours = backlog_clients(ss, listener, buf);
    if (waiting != ours)
        return fail(d, ENOTSUP, "fd %d (%s), with data sent on it, waits in the backlog of fd %d "
                    "with %d connections from outside the process: none can be taken out without "
                    "taking theirs; accept them before the checkpoint", fd, what, listener,
                    waiting - ours);
    /* the clients: none shared with another process, none in an epoll */
    for (int i = 0; i < ss->n; i++) {
        const struct sock_info *si = &ss->socks[i];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int lis = 0;
        socklen_t llen = sizeof lis;
        if ((si->domain != AF_INET && si->domain != AF_INET6) ||
            getsockopt(si->fd, SOL_SOCKET, SO_ACCEPTCONN, &lis, &llen) < 0 || lis ||
            getpeername(si->fd, (struct sockaddr *)&peer, &plen) < 0 ||
            backlog_listener(ss, &peer, plen) != listener)
            continue;
        if (tcp_state(si->fd) != TCP_ESTABLISHED) /* refused before any is taken out */
            return fail(d, ENOTSUP, "fd %d (%s) has data sent on it, and fd %d waiting in the same "
                        "backlog shut down writing: it cannot be made again to take the data out; "
                        "accept them before the checkpoint", fd, what, si->fd);
        int ep = epoll_watching(d, s, si->ino);
        if (shared_in_tree(d, si->fd) || ep >= 0)
            return fail(d, ENOTSUP, "fd %d (%s) has data sent on it, and fd %d waiting in the same "
                        "backlog %s: it cannot be replaced to take the data out; accept them before "
                        "the checkpoint", fd, what, si->fd, ep >= 0 ? "is watched by an epoll" :
                        "is shared by processes of the tree");
    }
    if (!take_buf) {
        take_buf = mmap(NULL, TAKE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (take_buf == MAP_FAILED) {
            take_buf = NULL;
            return fail(d, ENOMEM, "cannot map room for the data of the backlog of fd %d", listener);
        }
    }
    if (nlisteners_taken < TAKE_MAX)
        listeners_taken[nlisteners_taken++] = listener;
    for (int n = 0; n < ours; n++) {
        struct pollfd pf = { listener, POLLIN, 0 };
        int k = poll(&pf, 1, 2000) > 0 ? accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
        if (k < 0)
            return fail(d, errno ? errno : ETIMEDOUT, "fd %d: cannot take connection %d of %d out "
                        "of its backlog: %s", listener, n + 1, ours, strerror(errno));
        /* whose client it is */
        struct sockaddr_storage cl;
        socklen_t cllen = sizeof cl;
        getpeername(k, (struct sockaddr *)&cl, &cllen);
        int c = -1;
        uint64_t ino = 0;
        struct sockaddr_storage clv6;
        as_family(&cl, AF_INET6, &clv6); /* an IPv4 client at an IPv6 listener: mapped */
        for (int i = 0; c < 0 && i < ss->n; i++) {
            struct sockaddr_storage self, selfv6;
            socklen_t slen = sizeof self;
            struct stat st;
            if ((ss->socks[i].domain == AF_INET || ss->socks[i].domain == AF_INET6) &&
                getsockname(ss->socks[i].fd, (struct sockaddr *)&self, &slen) == 0 &&
                as_family(&self, AF_INET6, &selfv6) &&
                !memcmp(&selfv6, &clv6, sizeof(struct sockaddr_in6)) && fstat(ss->socks[i].fd, &st) == 0) {
                c = ss->socks[i].fd;
                ino = st.st_ino;
            }
        }
        if (c < 0 || ntaken == TAKE_MAX || tcp_state(c) != TCP_ESTABLISHED) {
            close(k);
            return fail(d, ENOTSUP, "fd %d: connection %d of its backlog %s; the program's "
                        "connection is lost", listener, n + 1, c < 0 ? "has no client in the "
                        "process" : "has a client that shut down writing");
        }
        ssize_t got = drain(d, k, c, what, take_buf + take_used, TAKE_BUF - take_used, 0);
        if (got < 0) {
            close(k);
            return (int)got;
        }
        taken[ntaken].fd = c;
        taken[ntaken].off = take_used;
        taken[ntaken++].len = (size_t)got;
        int rc = reconnect_client(d, s, c, ino, what, k);
        if (rc == 0 && got && (rc = sock_send_all(c, take_buf + take_used, (size_t)got, DRAIN_MS)) < 0)
            rc = fail(d, -rc, "fd %d (%s): cannot send its %zd bytes again: %s; the program's "
                      "connection lost them", c, what, got, strerror(-rc));
        take_used += ((size_t)got + 7) & ~(size_t)7;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- restart ---- */

/* The end of record f: its state, where it goes (as it was). */
static void end_of(const struct ctx_fd *f, struct tcp_end *e, struct ctx_socket *so, struct ctx_tcp *tcp)
{
    const unsigned char *x = sock_state(f, so);
    memcpy(tcp, x, sizeof *tcp);
    e->so = so;
    e->tcp = tcp;
    e->data = x + sizeof *tcp;
    e->local = (const struct sockaddr *)so->addr;
    e->local_len = so->addr_len;
}

/* The connection of record f (and g, its peer's record; NULL: the peer was closed, or
 * the connection is over) made again: its end in *mine, the peer's in *theirs. */
static int make_connection(struct child *rep, const struct ctx_fd *f, const struct ctx_fd *g,
                           int *mine, int *theirs)
{
    struct ctx_socket so_f, so_g;
    struct ctx_tcp tcp_f, tcp_g;
    struct tcp_end ef, eg;
    end_of(f, &ef, &so_f, &tcp_f);
    memset(&eg, 0, sizeof eg);
    if (g)
        end_of(g, &eg, &so_g, &tcp_g);
    else if (tcp_f.flags & CTX_TCP_PEER_CLOSED) { /* stands at the peer's address */
        eg.local = (const struct sockaddr *)so_f.peer;
        eg.local_len = so_f.peer_len;
    }
    char note[512] = "", err[512] = "";
    int out[2];
    int rc = tcp_pair_rebuild(&eg, &ef, out, note, sizeof note, err, sizeof err);
    if (rc < 0)
        child_fail(rep, -rc, "cannot make the TCP connection of fd %d (%s) again: %s", f->fd,
                   (const char *)(f + 1), err);
    /* cr_restart's stderr: in a process's child its copy (fd 2 may be any fd of the
     * image by now), in a tree's pool (cr_restart itself) fd 2 */
    int say_fd = rep->stdio[2] > 2 ? rep->stdio[2] : STDERR_FILENO;
    if (note[0])
        dprintf(say_fd, "cr_restart: fd %d (%s): %s\n", f->fd, (const char *)(f + 1), note);
    *mine = out[1];
    *theirs = out[0];
    return 0;
}

/* The record of the peer of f in img (-1 none). */
static int peer_record(const struct ctx_image *img, const struct ctx_fd *f)
{
    for (uint32_t k = 0; f->pos && k < img->proc->nfds; k++)
        if (img->fds[k]->kind == CTX_FD_TCP && img->fds[k]->id.ino == f->pos)
            return (int)k;
    return -1;
}

struct tcp_made {
    uint64_t ino;
    int fd;
};
static struct tcp_made *made;
static uint32_t nmade;

static void prepare_tcp(struct child *c)
{
    const struct ctx_image *img = c->img;
    for (uint32_t k = 0; k < img->proc->nfds; k++) {
        const struct ctx_fd *f = img->fds[k];
        if (f->kind != CTX_FD_TCP || pool_pair_end(c, f) >= 0)
            continue;
        int done = 0;
        for (uint32_t i = 0; i < nmade; i++)
            done |= made[i].ino == f->id.ino;
        if (done)
            continue;
        int p = peer_record(img, f);
        if (f->pos && p < 0)
            child_fail(c, ENOENT, "fd %d (%s): its peer socket:[%llu] is not in the image", f->fd,
                       (const char *)(f + 1), (unsigned long long)f->pos);
        if (!made && !(made = calloc(2 * img->proc->nfds + 2, sizeof *made)))
            child_fail(c, ENOMEM, "out of memory");
        int mine, theirs;
        make_connection(c, f, p >= 0 ? img->fds[p] : NULL, &mine, &theirs);
        made[nmade++] = (struct tcp_made){ f->id.ino, move_high(c, mine) };
        if (p >= 0)
            made[nmade++] = (struct tcp_made){ f->pos, move_high(c, theirs) };
    }
}

static int restore_tcp(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    *own = 0;
    int obj = pool_pair_end(c, f);
    for (uint32_t i = 0; obj < 0 && i < nmade; i++)
        if (made[i].ino == f->id.ino)
            obj = made[i].fd;
    if (obj < 0)
        child_fail(c, ENOENT, "fd %d (%s): its connection was not made again", f->fd,
                   (const char *)(f + 1));
    return obj;
}

static void finish_tcp(struct child *c)
{
    const struct ctx_image *img = c->img;
    for (uint32_t k = 0; k < img->proc->nfds; k++)
        if (img->fds[k]->kind == CTX_FD_TCP) {
            struct ctx_socket so;
            sock_state(img->fds[k], &so);
            tcp_end_finish(img->fds[k]->fd, &so);
        }
    for (uint32_t i = 0; i < nmade; i++)
        close(made[i].fd);
    free(made);
    made = NULL;
    nmade = 0;
}

/* A tree: a connection whose ends are in two processes (or an end several share),
 * made once by the pool before any other socket (its listeners not bound yet). */
static void pool_add_tcp(struct cr_pool_build *b, uint32_t i, uint32_t k, const struct ctx_fd *f)
{
    (void)k;
    const struct ctx_image *img = &b->t->images[i];
    if (pool_sock(b->pool, f->id.ino))
        return;
    int here = f->pos && peer_record(img, f) >= 0;
    if (here && !in_other_image(b->t, i, f->id.ino) && !in_other_image(b->t, i, f->pos))
        return; /* both ends in this process alone: it makes the connection itself */
    if (!f->pos && !in_other_image(b->t, i, f->id.ino))
        return;
    const struct ctx_fd *g = NULL;
    for (uint32_t j = 0; f->pos && !g && j < b->t->n; j++) {
        const struct ctx_image *o = &b->t->images[j];
        int p = o->proc ? peer_record(o, f) : -1;
        if (p >= 0)
            g = o->fds[p];
    }
    if (f->pos && !g)
        child_fail(b->rep, ENOENT, "process %d, fd %d (%s): its peer socket:[%llu] is in no "
                   "process of the tree", b->t->procs[i].pid, f->fd, (const char *)(f + 1),
                   (unsigned long long)f->pos);
    int mine, theirs;
    make_connection(b->rep, f, g, &mine, &theirs);
    b->pool->socks[b->pool->nsocks++] = (struct cr_pool_sock){ f->id.ino, f->pos, pool_fd(b->rep, mine, b->low), 1 };
    if (g)
        b->pool->socks[b->pool->nsocks++] = (struct cr_pool_sock){ f->pos, f->id.ino, pool_fd(b->rep, theirs, b->low), 1 };
}

/* Saved by the socket kind (add_socket). */
/* ---- the reader and cr_info ---- */

/* A TCP connection's extra: its struct ctx_socket (an inet stream, no message), its
 * struct ctx_tcp, then exactly its data. */
static int valid_tcp(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_socket so; /* after the path: not aligned */
    struct ctx_tcp tcp;
    if (f->extra_len < sizeof so + sizeof tcp)
        return 0;
    const unsigned char *x = fd_rec_extra(f);
    memcpy(&so, x, sizeof so);
    memcpy(&tcp, x + sizeof so, sizeof tcp);
    if ((so.domain != AF_INET && so.domain != AF_INET6) || so.type != SOCK_STREAM ||
        (so.state & ~(uint32_t)CTX_SOCK_CONNECTED) || so.shutdown > 3 || so.nmsgs ||
        so.addr_len > sizeof so.addr || so.peer_len > sizeof so.peer || so.nopts > CTX_SOCKOPT_MAX ||
        tcp.state < 1 || tcp.state > 11 || (tcp.flags & ~(uint32_t)CTX_TCP_FLAGS) ||
        ((tcp.flags & CTX_TCP_CLOSED) ? so.peer_len != 0 || f->pos : !so.peer_len) ||
        ((tcp.flags & CTX_TCP_PEER_CLOSED) && f->pos) || (!(tcp.flags & 6) && !f->pos) ||
        ((tcp.flags & CTX_TCP_RESET) && !(tcp.flags & CTX_TCP_CLOSED)) ||
        tcp.data_len != f->extra_len - sizeof so - sizeof tcp)
        return 0;
    if (!valid_socket_addrs(&so))
        return 0;
    return so.addr_len != 0;
}

/* its state, what waits to be read */
static void describe_tcp(const struct ctx_fd *f, FILE *out, const char *acc)
{
    static const char *const states[] = { "?", "established", "syn-sent", "syn-recv",
        "fin-wait-1", "fin-wait-2", "time-wait", "close", "close-wait", "last-ack", "listen",
        "closing" };
    struct ctx_socket so; /* after the path: not aligned */
    struct ctx_tcp tcp;
    const unsigned char *x = fd_rec_extra(f);
    memcpy(&so, x, sizeof so);
    memcpy(&tcp, x + sizeof so, sizeof tcp);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  %s, %s, %llu bytes queued, %u option%s set%s%s%s%s\n", fd_rec_path(f),
            tcp.state < sizeof states / sizeof *states ? states[tcp.state] : "?",
            (unsigned long long)tcp.data_len, so.nopts, so.nopts == 1 ? "" : "s",
            (tcp.flags & CTX_TCP_FIN_IN) ? ", its peer shut down writing" : "",
            so.shutdown & 1 ? ", shut for reading" : "", so.shutdown & 2 ? ", shut for writing" : "",
            (tcp.flags & CTX_TCP_PEER_CLOSED) ? ", its peer closed" : "");
}

const struct cr_fd_ops cr_fd_tcp = {
    .kind = CTX_FD_TCP, .name = "tcp", .scan = scan_tcp, .prepare = prepare_tcp, .restore = restore_tcp,
    .restore_nonblock = 1, .finish = finish_tcp, .pool = pool_add_tcp, .pool_early = 1,
    .valid = valid_tcp, .describe = describe_tcp, .socket = 1,
};
