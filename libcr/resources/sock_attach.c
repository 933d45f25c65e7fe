/* What a socket carries besides its own state, saved in records after its fd's
 * (CTX_REC_SOCK_ATTACH) and put back once every fd is placed and every queue refilled
 * (a filter attached earlier would judge the data put back again):
 *   - its classic BPF filter (SO_ATTACH_FILTER), which SO_GET_FILTER reads back, and
 *     SO_LOCK_FILTER.  An eBPF program (SO_ATTACH_BPF) keeps no original the kernel
 *     could give back (SO_GET_FILTER: EACCES): refused;
 *   - its multicast memberships.  No call lists them, but the kernel lists every group
 *     joined on each interface (/proc/net/igmp, /proc/net/igmp6), and MCAST_MSFILTER
 *     on a group and interface answers for this socket alone: its filter mode and
 *     sources, or EADDRNOTAVAIL when it is not a member.  Each group of each interface
 *     is asked; what answers is joined again by interface name, its filter set again.
 *     An IPv6 socket may join IPv4 groups too (at the IP level, where they are asked:
 *     the IPv6 calls take IPv6 groups only). */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump (the process is frozen: no malloc, no stdio) ---- */

static int save_filter(struct dump *d, int fd)
{
    socklen_t n = 0; /* SO_GET_FILTER counts in instructions, not bytes */
    int locked = 0;
    socklen_t llen = sizeof locked;
    if (getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, &llen) < 0)
        locked = 0;
    if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &n) < 0) {
        if (errno == EACCES)
            return fail(d, ENOTSUP, "fd %d is a socket with an eBPF program attached "
                        "(SO_ATTACH_BPF), which the kernel cannot give back: a restart would "
                        "run without it; detach it (SO_DETACH_BPF) before the checkpoint, or "
                        "attach a classic filter (SO_ATTACH_FILTER)", fd);
        n = 0; /* a socket without filters (some families do not answer) */
    }
    if (n == 0 && !locked)
        return 0;
    if (n > CTX_SOCK_FILTER_MAX)
        return fail(d, E2BIG, "fd %d: a socket filter of %u instructions", fd, (unsigned)n);
    struct ctx_sock_attach *a = rec_add(d, CTX_REC_SOCK_ATTACH, sizeof *a + (size_t)n * 8);
    if (!a)
        return fail(d, E2BIG, "too much metadata");
    memset(a, 0, sizeof *a);
    *a = (struct ctx_sock_attach){ .fd = fd, .what = CTX_SOCK_FILTER,
                                   .flags = locked ? CTX_SOCK_FILTER_LOCKED : 0, .count = n };
    socklen_t got = n;
    if (n && (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, a + 1, &got) < 0 || got != n))
        return fail(d, errno ? errno : EAGAIN, "reading the filter of socket fd %d (SO_GET_FILTER)", fd);
    return 0;
}

/* The membership of fd in group (of family, len bytes) on interface ifindex (name),
 * saved if it is one; gf: scratch room for the filter. */
static int probe_group(struct dump *d, int fd, int family, const unsigned char *group, int ifindex,
                       const char *name, size_t namelen, struct group_filter *gf, size_t gfsize)
{
    memset(gf, 0, sizeof *gf);
    gf->gf_interface = (uint32_t)ifindex;
    if (family == AF_INET) {
        struct sockaddr_in *g = (struct sockaddr_in *)&gf->gf_group;
        g->sin_family = AF_INET;
        memcpy(&g->sin_addr, group, 4);
    } else {
        struct sockaddr_in6 *g = (struct sockaddr_in6 *)&gf->gf_group;
        g->sin6_family = AF_INET6;
        memcpy(&g->sin6_addr, group, 16);
    }
    gf->gf_numsrc = CTX_SOCK_MCAST_SRC_MAX;
    socklen_t len = (socklen_t)gfsize;
    if (getsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6, MCAST_MSFILTER, gf, &len) < 0)
        return errno == EADDRNOTAVAIL || errno == ENODEV || errno == EINVAL
                   ? 0 /* not a member there */
                   : fail(d, errno, "reading the multicast memberships of socket fd %d "
                          "(MCAST_MSFILTER)", fd);
    if (gf->gf_numsrc > CTX_SOCK_MCAST_SRC_MAX)
        return fail(d, E2BIG, "socket fd %d filters %u sources of a multicast group; this "
                    "version saves at most %d", fd, gf->gf_numsrc, CTX_SOCK_MCAST_SRC_MAX);
    if (namelen >= sizeof ((struct ctx_sock_attach *)0)->ifname)
        return fail(d, ENAMETOOLONG, "socket fd %d: interface name too long", fd);
    struct ctx_sock_attach *a = rec_add(d, CTX_REC_SOCK_ATTACH, sizeof *a + (size_t)gf->gf_numsrc * 16);
    if (!a)
        return fail(d, E2BIG, "too much metadata");
    memset(a, 0, sizeof *a + (size_t)gf->gf_numsrc * 16);
    a->fd = fd;
    a->what = CTX_SOCK_MCAST;
    a->count = gf->gf_numsrc;
    a->family = family;
    a->ifindex = (uint32_t)ifindex;
    a->fmode = gf->gf_fmode;
    memcpy(a->ifname, name, namelen);
    memcpy(a->group, group, family == AF_INET ? 4 : 16);
    unsigned char *src = (unsigned char *)(a + 1);
    for (uint32_t i = 0; i < gf->gf_numsrc; i++, src += 16)
        if (family == AF_INET)
            memcpy(src, &((const struct sockaddr_in *)&gf->gf_slist[i])->sin_addr, 4);
        else
            memcpy(src, &((const struct sockaddr_in6 *)&gf->gf_slist[i])->sin6_addr, 16);
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* n hex digits at s into out (as bytes, or for IPv4's "%08X" of the address in memory
 * order: the u32 as this machine stores it); whether they were there. */
static int parse_hex(const char *s, int ndigits, unsigned char *out, int ipv4)
{
    uint32_t v = 0;
    for (int i = 0; i < ndigits; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return 0;
        if (ipv4)
            v = v << 4 | (uint32_t)h;
        else
            out[i / 2] = (unsigned char)(i % 2 ? out[i / 2] | h : h << 4);
    }
    if (ipv4)
        memcpy(out, &v, 4);
    return 1;
}

/* Every group of family joined on every interface, from the kernel's list, asked of fd. */
static int save_memberships(struct dump *d, int fd, int family)
{
    char *text = d->scratch + FDINFO_OFF + FDINFO_SIZE;
    size_t cap = BOUNCE_SIZE - FDINFO_SIZE - (FDINFO_OFF - BOUNCE_OFF);
    struct group_filter *gf = (struct group_filter *)(d->scratch + FDINFO_OFF);
    size_t gfsize = sizeof *gf + (CTX_SOCK_MCAST_SRC_MAX - 1) * sizeof(struct sockaddr_storage);
    _Static_assert(sizeof(struct group_filter) + (CTX_SOCK_MCAST_SRC_MAX - 1) *
                   sizeof(struct sockaddr_storage) <= FDINFO_SIZE, "group filter room");
    const char *list = family == AF_INET ? "/proc/net/igmp" : "/proc/net/igmp6";
    if (access(list, R_OK) < 0 && errno == ENOENT)
        return 0; /* a kernel without multicast */
    ssize_t got = read_file(d, list, text, cap);
    if (got < 0)
        return (int)got;
    int ifindex = 0, rc = 0;
    const char *name = NULL;
    size_t namelen = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
        const char *p = line;
        unsigned char group[16] = { 0 };
        if (family == AF_INET) {
            /* "IDX\tNAME      :  COUNT QUERIER", then "\t\t\t\tGROUP USERS ..." per group */
            if (*p >= '0' && *p <= '9') {
                ifindex = atoi(p);
                while (*p && *p != '\t')
                    p++;
                while (*p == '\t' || *p == ' ')
                    p++;
                name = p;
                while (*p && *p != ' ' && *p != ':' && *p != '\t')
                    p++;
                namelen = (size_t)(p - name);
                continue;
            }
            while (*p == '\t')
                p++;
            if (p == line || !name || !parse_hex(p, 8, group, 1))
                continue;
        } else {
            /* "IDX NAME GROUP(32 hex) USERS FLAGS TIMER" */
            if (*p < '0' || *p > '9')
                continue;
            ifindex = atoi(p);
            while (*p >= '0' && *p <= '9')
                p++;
            while (*p == ' ')
                p++;
            name = p;
            while (*p && *p != ' ')
                p++;
            namelen = (size_t)(p - name);
            while (*p == ' ')
                p++;
            if (!parse_hex(p, 32, group, 0))
                continue;
        }
        if (ifindex > 0 && namelen)
            rc = probe_group(d, fd, family, group, ifindex, name, namelen, gf, gfsize);
    }
    return rc;
}

/* The kind of the last fd record written (the one of the fd being saved): a socket is
 * detected by one entry and saved as one of several kinds. */
static uint32_t last_fd_kind(const struct dump *d)
{
    uint32_t kind = 0;
    for (size_t off = 0; off < d->recs_len;) {
        const struct ctx_rec *r = (const void *)(d->scratch + RECS_OFF + off);
        if (r->type == CTX_REC_FD)
            kind = ((const struct ctx_fd *)(r + 1))->kind;
        off += sizeof *r + r->length;
    }
    return kind;
}

int save_sock_attach(struct dump *d, const struct cr_fd_probe *p)
{
    if (!S_ISSOCK(p->st.st_mode))
        return 0;
    const struct cr_fd_ops *k = cr_fd_kind(last_fd_kind(d));
    if (!k || !k->socket)
        return 0; /* a dup, a tree's shared socket, stdio or a reset one: none */
    int rc = save_filter(d, p->fd);
    int domain = 0, type = 0;
    socklen_t l1 = sizeof domain, l2 = sizeof type;
    if (rc == 0 && getsockopt(p->fd, SOL_SOCKET, SO_DOMAIN, &domain, &l1) == 0 &&
        getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &type, &l2) == 0 &&
        (domain == AF_INET || domain == AF_INET6) && (type == SOCK_DGRAM || type == SOCK_RAW)) {
        rc = save_memberships(d, p->fd, AF_INET); /* an IPv6 socket joins IPv4 groups too */
        if (rc == 0 && domain == AF_INET6)
            rc = save_memberships(d, p->fd, AF_INET6);
    }
    return rc;
}

/* ---- restart ---- */

static void attach_filter(struct child *c, const struct ctx_sock_attach *a)
{
    int locked = 0;
    socklen_t llen = sizeof locked;
    if (getsockopt(a->fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, &llen) == 0 && locked)
        return; /* a socket of the tree's pool: another process put it back already */
    if (a->count) {
        struct sock_fprog prog = { .len = (unsigned short)a->count,
                                   .filter = (struct sock_filter *)(a + 1) };
        if (setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
            child_fail(c, errno, "cannot attach the socket filter of fd %d again (SO_ATTACH_FILTER, "
                       "%u instructions): %s", a->fd, a->count, strerror(errno));
    }
    int one = 1;
    if ((a->flags & CTX_SOCK_FILTER_LOCKED) &&
        setsockopt(a->fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one) < 0)
        child_fail(c, errno, "cannot lock the socket filter of fd %d again (SO_LOCK_FILTER): %s",
                   a->fd, strerror(errno));
}

static void mcast_address(int family, const unsigned char *addr, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, addr, 16);
    }
}

static void join_again(struct child *c, const struct ctx_sock_attach *a)
{
    char group[INET6_ADDRSTRLEN] = "";
    inet_ntop(a->family, a->group, group, sizeof group);
    unsigned ifindex = if_nametoindex(a->ifname);
    if (!ifindex)
        child_fail(c, ENODEV, "fd %d was a member of multicast group %s on interface %s, which "
                   "this machine does not have: restart where it exists", a->fd, group, a->ifname);
    int level = a->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    struct group_req gr = { .gr_interface = ifindex };
    mcast_address(a->family, a->group, &gr.gr_group);
    if (setsockopt(a->fd, level, MCAST_JOIN_GROUP, &gr, sizeof gr) < 0 && errno != EADDRINUSE)
        child_fail(c, errno, "cannot join multicast group %s on %s again for fd %d: %s", group,
                   a->ifname, a->fd, strerror(errno)); /* EADDRINUSE: a socket of the tree's
                                                          pool, joined by another process */
    if (a->fmode == MCAST_EXCLUDE && a->count == 0)
        return; /* what a join gives */
    size_t size = sizeof(struct group_filter) + (a->count ? a->count - 1 : 0) * sizeof(struct sockaddr_storage);
    struct group_filter *gf = calloc(1, size);
    if (!gf)
        child_fail(c, ENOMEM, "out of memory");
    gf->gf_interface = ifindex;
    gf->gf_group = gr.gr_group;
    gf->gf_fmode = a->fmode;
    gf->gf_numsrc = a->count;
    for (uint32_t i = 0; i < a->count; i++)
        mcast_address(a->family, (const unsigned char *)(a + 1) + 16 * i, &gf->gf_slist[i]);
    if (setsockopt(a->fd, level, MCAST_MSFILTER, gf, (socklen_t)size) < 0)
        child_fail(c, errno, "cannot set the source filter of multicast group %s on %s for fd %d "
                   "again (MCAST_MSFILTER, %u sources): %s", group, a->ifname, a->fd, a->count,
                   strerror(errno));
    free(gf);
}

void restore_sock_attach(struct child *c)
{
    for (uint32_t i = 0; i < c->img->nattached; i++) {
        const struct ctx_sock_attach *a = c->img->attached[i];
        if (a->what == CTX_SOCK_FILTER)
            attach_filter(c, a);
        else
            join_again(c, a);
    }
}

/* ---- the reader and cr_info ---- */

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* an address of family in 16 bytes: IPv4 ones in the first 4, the rest zero */
static int addr_ok(int family, const unsigned char *a)
{
    return family == AF_INET6 || all_zero(a + 4, 12);
}

int ctx_sock_attach_ok(const struct ctx_sock_attach *a, uint32_t length, const struct ctx_fd *f)
{
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    if (a->fd != f->fd || !k || !k->socket || a->count > CTX_SOCK_FILTER_MAX)
        return 0;
    if (a->what == CTX_SOCK_FILTER)
        return !(a->flags & ~CTX_SOCK_FILTER_LOCKED) && (a->count || a->flags) &&
               length == sizeof *a + (size_t)a->count * 8 && !a->family && !a->ifindex &&
               !a->fmode && !a->pad && all_zero(a->ifname, sizeof a->ifname) &&
               all_zero(a->group, sizeof a->group);
    if (a->what != CTX_SOCK_MCAST || a->flags || a->pad || a->count > CTX_SOCK_MCAST_SRC_MAX ||
        length != sizeof *a + (size_t)a->count * 16 || (a->family != AF_INET && a->family != AF_INET6) ||
        a->fmode > MCAST_INCLUDE || (a->fmode == MCAST_INCLUDE && !a->count) || !a->ifname[0] ||
        !memchr(a->ifname, 0, sizeof a->ifname) || !addr_ok(a->family, a->group) ||
        (a->family == AF_INET ? (a->group[0] & 0xf0) != 0xe0 : a->group[0] != 0xff))
        return 0;
    for (uint32_t i = 0; i < a->count; i++)
        if (!addr_ok(a->family, (const unsigned char *)(a + 1) + 16 * i))
            return 0;
    return 1;
}

void ctx_sock_attach_describe(const struct ctx_sock_attach *a, FILE *out)
{
    if (a->what == CTX_SOCK_FILTER) {
        fprintf(out, "  fd %d filters what it receives: a classic BPF program of %u instructions%s\n",
                a->fd, a->count, (a->flags & CTX_SOCK_FILTER_LOCKED) ? ", locked" : "");
        return;
    }
    char group[INET6_ADDRSTRLEN] = "", src[INET6_ADDRSTRLEN];
    inet_ntop(a->family, a->group, group, sizeof group);
    fprintf(out, "  fd %d is a member of multicast group %s on %s", a->fd, group, a->ifname);
    if (a->count)
        fprintf(out, ", %s", a->fmode == MCAST_INCLUDE ? "from" : "not from");
    for (uint32_t i = 0; i < a->count; i++) {
        inet_ntop(a->family, (const unsigned char *)(a + 1) + 16 * i, src, sizeof src);
        fprintf(out, "%s %s", i ? "," : "", src);
    }
    fprintf(out, "\n");
}
