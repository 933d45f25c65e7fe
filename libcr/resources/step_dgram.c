/* Datagrams between two tasks of a Slurm step (CTX_FD_STEP_DGRAM): a named unix
 * datagram socket with datagrams queued to it from a named socket of another task of
 * the same node (UCX's shared memory transports wake a rank up that way).  The kernel
 * gives a datagram the address of the socket that sends it, so a restart cannot queue
 * them again from the receiving task: the task that has the sender's socket again
 * sends them again from it, before either program runs.
 *
 * At restart (cr_restart --step-dir=DIR), through files in DIR (HOST: the node's name;
 * S, R: hashes of the sender's and the receiver's addresses):
 *   dgram.need.HOST.S.R   what a receiver needs sent again (written before its fds are
 *                         placed): both addresses and the datagrams, in order
 *   dgram.sent.HOST.S.R   the same, once its sender sent them (renamed)
 *   dgram.ready.RANK      the task's needs are written and its sockets are bound again
 *                         (a task with no named unix datagram socket says so at once)
 *   dgram.over.RANK       the task sent what it had to (the same)
 *   dgram.done.RANK       the task is past it all (the last one removes the marks)
 * A task with a named unix datagram socket (a possible sender) waits for every rank's
 * ready, sends what names one of its sockets, says over; a receiver then waits for
 * every rank's over and finds each of its needs sent, else fails naming the sender.
 * Everything a task waits for was written before it waits: no order of tasks can wait
 * in a circle, and each wait is bounded. */
#define _GNU_SOURCE
#include "resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump (save_local_socket, in local_sock.c, hands it such a socket) ---- */

int save_step_dgram(struct dump *d, int fd, const struct stat *st, const char *text,
                    const struct ctx_socket *so, const char *queue, size_t qlen,
                    const struct sockaddr_un *from, socklen_t from_len)
{
    const struct sockaddr_un *self = (const void *)so->addr;
    if (so->domain != AF_UNIX || so->type != SOCK_DGRAM)
        return fail(d, ENOTSUP, "fd %d (%s) has messages queued from a socket of another task: "
                    "this version sends again only a unix datagram socket's", fd, text);
    if (shared_in_tree(d, fd))
        return fail(d, ENOTSUP, "fd %d (%s) has datagrams queued from a socket of another task "
                    "and is shared by processes of the task's tree: this version has them sent "
                    "again to one process only; let the program read them before the "
                    "checkpoint", fd, text);
    if (so->state & CTX_SOCK_CONNECT_LATE)
        return fail(d, ENOTSUP, "fd %d (%s) has datagrams queued from a socket of another task "
                    "and is connected to a socket of its own process: this version cannot make "
                    "both again; let the program read them before the checkpoint", fd, text);
    if (so->addr_len <= offsetof(struct sockaddr_un, sun_path) ||
        (self->sun_path[0] && self->sun_path[0] != '/'))
        return fail(d, ENOTSUP, "fd %d (%s) has datagrams queued from a socket of another task "
                    "and is bound %s: the other task, which sends them again at restart, "
                    "could not reach it; let the program read them before the checkpoint", fd,
                    text, so->addr_len <= offsetof(struct sockaddr_un, sun_path)
                    ? "nowhere" : "to a relative path");
    static struct ctx_step_dgram_from sender; /* the dump runs in one thread at a time */
    memset(&sender, 0, sizeof sender);
    sender.addr_len = from_len;
    memcpy(sender.addr, from, from_len);
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_STEP_DGRAM, text, sizeof *so + qlen + sizeof sender, st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    char *x = (char *)(r + 1) + r->path_len;
    memcpy(x, so, sizeof *so);
    memcpy(x + sizeof *so, queue, qlen);
    memcpy(x + sizeof *so + qlen, &sender, sizeof sender);
    return 0;
}

/* ---- the record ---- */

/* its sender (the struct after the queue: the record's last bytes) */
static void record_sender(const struct ctx_fd *f, struct ctx_step_dgram_from *from)
{
    memcpy(from, fd_rec_extra(f) + f->extra_len - sizeof *from, sizeof *from);
}

/* an address as text: a path, or @ and an abstract name (bytes not printable in hex) */
static void addr_text(const uint8_t *addr, uint32_t len, char *out, size_t cap)
{
    const struct sockaddr_un *un = (const void *)addr;
    size_t n = len - offsetof(struct sockaddr_un, sun_path), at = 0;
    const unsigned char *p = (const unsigned char *)un->sun_path;
    int abstract = n && !p[0];
    if (abstract)
        out[at++] = '@', p++, n--;
    for (size_t k = 0; k < n && at + 5 < cap; k++) {
        if (!abstract && !p[k])
            break;
        at += (size_t)snprintf(out + at, cap - at, p[k] > 32 && p[k] < 127 && p[k] != '\\' ? "%c"
                               : "\\x%02x", p[k]);
    }
    out[at < cap ? at : cap - 1] = 0;
}

/* ---- restart ---- */

#define STEP_WAIT_MS 120000 /* the other tasks of the step start within this */

static struct {
    int part;                /* this process takes part (it may send or receive) */
    unsigned rank, tasks;
    int needs;               /* its records */
} dg;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t addr_hash(const uint8_t *a, uint32_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (uint32_t k = 0; k < len; k++)
        h = (h ^ a[k]) * 0x100000001b3ull;
    return h;
}

/* DIR/dgram.WHAT.HOST.S.R of a receiver's record */
static void need_path(struct child *c, const struct ctx_fd *f, const char *what, char *out, size_t len)
{
    struct ctx_socket so;
    struct ctx_step_dgram_from from;
    sock_state(f, &so);
    record_sender(f, &from);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    snprintf(out, len, "%s/dgram.%s.%s.%016llx.%016llx", c->o->step_dir, what, host,
             (unsigned long long)addr_hash(from.addr, from.addr_len),
             (unsigned long long)addr_hash(so.addr, so.addr_len));
}

static void mark_path(struct child *c, const char *what, unsigned rank, char *out, size_t len)
{
    snprintf(out, len, "%s/dgram.%s.%u", c->o->step_dir, what, rank);
}

static void mark(struct child *c, const char *what)
{
    char path[4400];
    mark_path(c, what, dg.rank, path, sizeof path);
    child_publish(c, path, "", 0);
}

/* until every rank's mark WHAT is there */
static void await_marks(struct child *c, const char *what, const char *meaning)
{
    uint64_t until = now_ms() + STEP_WAIT_MS;
    char path[4400];
    for (unsigned r = 0; r < dg.tasks; r++) {
        mark_path(c, what, r, path, sizeof path);
        while (access(path, F_OK) < 0) {
            if (errno != ENOENT)
                child_fail(c, errno, "cannot look for %s: %s", path, strerror(errno));
            if (now_ms() >= until)
                child_fail(c, ETIMEDOUT, "rank %u of the step did not %s within %d s (no %s): "
                           "restart the whole step, every task with the same --step-dir", r,
                           meaning, STEP_WAIT_MS / 1000, path);
            nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
        }
    }
}

/* past it all: done.RANK; the last to say so (every mark seen) takes the marks away */
static void leave(struct child *c)
{
    char path[4400];
    mark(c, "done");
    for (unsigned r = 0; r < dg.tasks; r++) {
        mark_path(c, "done", r, path, sizeof path);
        if (access(path, F_OK) < 0)
            return;
    }
    static const char *const marks[] = { "ready", "over", "done" };
    for (unsigned r = 0; r < dg.tasks; r++)
        for (int m = 0; m < 3; m++) {
            mark_path(c, marks[m], r, path, sizeof path);
            unlink(path);
        }
}

/* a named unix datagram socket of the image: a possible sender */
static int named_unix_dgram(const struct ctx_fd *f, struct ctx_socket *so)
{
    if (f->kind != CTX_FD_SOCKET && f->kind != CTX_FD_STEP_DGRAM)
        return 0;
    sock_state(f, so);
    return so->domain == AF_UNIX && so->type == SOCK_DGRAM &&
           so->addr_len > offsetof(struct sockaddr_un, sun_path);
}

static int step_dgram_check(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len)
{
    if (o->step_dir)
        return 0;
    struct ctx_step_dgram_from from;
    char who[400];
    record_sender(f, &from);
    addr_text(from.addr, from.addr_len, who, sizeof who);
    snprintf(err, len, "fd %d (%s) has datagrams queued from the socket %s of another task of "
             "its Slurm step, which that task sends again at restart: restart the whole step, "
             "every task with the same --step-dir", f->fd, fd_rec_path(f), who);
    return -ENOTSUP;
}

/* Before any fd is placed: each receiver says what it needs sent; a task without any
 * named unix datagram socket has nothing to send or receive and says so at once. */
static void prepare_step_dgrams(struct child *c)
{
    const struct ctx_image *img = c->img;
    memset(&dg, 0, sizeof dg);
    if (!c->o->step_dir)
        return;
    int named = 0;
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        struct ctx_socket so;
        named |= named_unix_dgram(img->fds[i], &so);
        dg.needs += img->fds[i]->kind == CTX_FD_STEP_DGRAM;
    }
    int whole = !(c->pool && c->member != 0) && cr_step_rank(c, &dg.rank, &dg.tasks);
    if (!whole) {
        if (dg.needs)
            child_fail(c, ENOTSUP, "%s has datagrams queued from a socket of another task of its "
                       "step, which that task sends again at restart: %s", c->o->src,
                       c->pool && c->member != 0 ? "this version has that done for the first "
                       "process of a task's tree only" : "its generation's manifest does not "
                       "name it (restart the whole step from the generation it is in)");
        return; /* a tree's other processes, an image from elsewhere: as before */
    }
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        if (f->kind != CTX_FD_STEP_DGRAM)
            continue;
        struct ctx_socket so;
        struct ctx_step_dgram_from from;
        const unsigned char *q = sock_state(f, &so);
        record_sender(f, &from);
        size_t qlen = f->extra_len - sizeof so - sizeof from, len = 0;
        char *data = malloc(3 * sizeof(uint32_t) + from.addr_len + so.addr_len + qlen);
        if (!data)
            child_fail(c, ENOMEM, "out of memory");
        uint32_t v = from.addr_len;
        memcpy(data + len, &v, sizeof v), len += sizeof v;
        memcpy(data + len, from.addr, v), len += v;
        v = so.addr_len;
        memcpy(data + len, &v, sizeof v), len += sizeof v;
        memcpy(data + len, so.addr, v), len += v;
        memcpy(data + len, &so.nmsgs, sizeof so.nmsgs), len += sizeof so.nmsgs;
        for (uint32_t k = 0; k < so.nmsgs; k++) { /* each: its length, its bytes */
            struct ctx_sock_msg m;
            memcpy(&m, q, sizeof m);
            memcpy(data + len, &m.len, sizeof m.len), len += sizeof m.len;
            memcpy(data + len, q + sizeof m, m.len), len += m.len;
            q += sizeof m + m.len;
        }
        char path[4400];
        need_path(c, f, "need", path, sizeof path);
        child_publish(c, path, data, len);
        free(data);
    }
    dg.part = named || dg.needs;
    if (!dg.part) {
        mark(c, "ready");
        mark(c, "over");
        leave(c);
    }
}

static int restore_step_dgram(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)own;
    return make_local_socket(c, f, rec); /* its datagrams: sent by their task, below */
}

/* reads a need file (malloc'd); 0 if it is gone (another task took it) */
static char *read_need(struct child *c, const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return NULL;
        child_fail(c, errno, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat s;
    char *buf = fstat(fd, &s) == 0 && s.st_size < (1 << 26) ? malloc((size_t)s.st_size + 1) : NULL;
    if (!buf || read(fd, buf, (size_t)s.st_size) != s.st_size)
        child_fail(c, errno ? errno : EIO, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    close(fd);
    *len = (size_t)s.st_size;
    return buf;
}

/* the datagrams of a need file, sent again from fd to their receiver */
static void send_need(struct child *c, const char *path, const char *buf, size_t len, size_t at,
                      const struct ctx_fd *f)
{
    uint32_t tlen, n, dlen;
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    if (len - at < sizeof tlen)
        goto bad;
    memcpy(&tlen, buf + at, sizeof tlen), at += sizeof tlen;
    if (tlen > sizeof(struct sockaddr_un) || len - at < tlen)
        goto bad;
    memcpy(&to, buf + at, tlen), at += tlen;
    if (len - at < sizeof n)
        goto bad;
    memcpy(&n, buf + at, sizeof n), at += sizeof n;
    for (uint32_t k = 0; k < n; k++) {
        if (len - at < sizeof dlen)
            goto bad;
        memcpy(&dlen, buf + at, sizeof dlen), at += sizeof dlen;
        if (len - at < dlen)
            goto bad;
        if (sendto(f->fd, buf + at, dlen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to, tlen) !=
            (ssize_t)dlen) {
            char who[400];
            addr_text((const uint8_t *)&to, tlen, who, sizeof who);
            child_fail(c, errno, "fd %d (%s): cannot send again datagram %u of %u it had sent to "
                       "%s, a socket of another task of the step: %s", f->fd, fd_rec_path(f), k + 1,
                       n, who, strerror(errno));
        }
        at += dlen;
    }
    if (at == len)
        return;
bad:
    child_fail(c, EINVAL, "%s is not what a restart of the step wrote", path);
}

/* Once every fd is placed: send what the other tasks need from this one's sockets,
 * then find what this one needed sent. */
static void finish_step_dgrams(struct child *c)
{
    if (!dg.part)
        return;
    const struct ctx_image *img = c->img;
    mark(c, "ready");
    await_marks(c, "ready", "bind its sockets again");
    char host[256] = "", prefix[300];
    gethostname(host, sizeof host - 1);
    int plen = snprintf(prefix, sizeof prefix, "dgram.need.%s.", host);
    DIR *dir = opendir(c->o->step_dir);
    if (!dir)
        child_fail(c, errno, "cannot read %s (the step's meeting place, --step-dir): %s",
                   c->o->step_dir, strerror(errno));
    for (struct dirent *e; (e = readdir(dir));) {
        if (strncmp(e->d_name, prefix, (size_t)plen) || strstr(e->d_name, ".tmp"))
            continue;
        char path[4400], sent[4400];
        snprintf(path, sizeof path, "%s/%s", c->o->step_dir, e->d_name);
        size_t len;
        char *buf = read_need(c, path, &len);
        uint32_t flen;
        if (!buf)
            continue;
        if (len < sizeof flen || (memcpy(&flen, buf, sizeof flen), flen > len - sizeof flen))
            child_fail(c, EINVAL, "%s is not what a restart of the step wrote", path);
        for (uint32_t i = 0; i < img->proc->nfds; i++) {
            const struct ctx_fd *f = img->fds[i];
            struct ctx_socket so;
            if (!named_unix_dgram(f, &so) || so.addr_len != flen || memcmp(so.addr, buf + sizeof flen, flen))
                continue;
            send_need(c, path, buf, len, sizeof flen + flen, f);
            snprintf(sent, sizeof sent, "%s/dgram.sent.%s", c->o->step_dir, e->d_name + 11);
            if (rename(path, sent) < 0)
                child_fail(c, errno, "cannot rename %s: %s", path, strerror(errno));
            break;
        }
        free(buf);
    }
    closedir(dir);
    mark(c, "over");
    if (dg.needs) {
        await_marks(c, "over", "send again the datagrams it had sent");
        for (uint32_t i = 0; i < img->proc->nfds; i++) {
            const struct ctx_fd *f = img->fds[i];
            if (f->kind != CTX_FD_STEP_DGRAM)
                continue;
            char path[4400];
            need_path(c, f, "sent", path, sizeof path);
            if (unlink(path) == 0)
                continue;
            struct ctx_socket so;
            struct ctx_step_dgram_from from;
            char who[400];
            sock_state(f, &so);
            record_sender(f, &from);
            addr_text(from.addr, from.addr_len, who, sizeof who);
            need_path(c, f, "need", path, sizeof path);
            unlink(path);
            child_fail(c, ENOENT, "fd %d (%s): no task of the step on this node has the socket %s "
                       "that sent the %u datagrams queued to it (every task restored, none sent "
                       "them): restart the whole step, its tasks of a node together on one node",
                       f->fd, fd_rec_path(f), who, so.nmsgs);
        }
    }
    leave(c);
}

/* ---- the reader and cr_info ---- */

static int valid_step_dgram(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_socket so; /* after the path: not aligned */
    struct ctx_step_dgram_from from;
    if (f->extra_len < sizeof so + sizeof from ||
        !valid_socket_state_upto(f, f->extra_len - sizeof from))
        return 0;
    memcpy(&so, fd_rec_extra(f), sizeof so);
    record_sender(f, &from);
    const struct sockaddr_un *self = (const void *)so.addr;
    /* each datagram sent by the other task (from_fd -1); both ends named, the
     * receiver not by a relative path */
    const unsigned char *x = fd_rec_extra(f) + sizeof so;
    for (uint32_t k = 0; k < so.nmsgs; k++) {
        struct ctx_sock_msg m;
        memcpy(&m, x, sizeof m);
        if (m.from_fd != -1)
            return 0;
        x += sizeof m + m.len;
    }
    uint16_t family;
    memcpy(&family, from.addr, sizeof family);
    return so.domain == AF_UNIX && so.type == SOCK_DGRAM && so.nmsgs > 0 &&
           !(so.state & (CTX_SOCK_CONNECT_LATE | CTX_SOCK_LISTENING)) &&
           so.addr_len > offsetof(struct sockaddr_un, sun_path) &&
           (!self->sun_path[0] || self->sun_path[0] == '/') && family == AF_UNIX &&
           from.addr_len > offsetof(struct sockaddr_un, sun_path) &&
           from.addr_len <= sizeof(struct sockaddr_un) && from.addr_len <= sizeof from.addr;
}

static void describe_step_dgram(const struct ctx_fd *f, FILE *out, const char *acc)
{
    describe_socket(f, out, acc);
    struct ctx_step_dgram_from from;
    char who[400];
    record_sender(f, &from);
    addr_text(from.addr, from.addr_len, who, sizeof who);
    fprintf(out, "    sent by the socket %s of another task of the step, which sends them again\n", who);
}

const struct cr_fd_ops cr_fd_step_dgram = {
    .kind = CTX_FD_STEP_DGRAM, .name = "stepdgram", .check = step_dgram_check,
    .make = make_local_socket, .restore = restore_step_dgram, .restore_nonblock = 1,
    .prepare = prepare_step_dgrams, .finish = finish_step_dgrams,
    .valid = valid_step_dgram, .describe = describe_step_dgram, .socket = 1,
};
