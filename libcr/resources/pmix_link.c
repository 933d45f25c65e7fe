/* A PMIx client's link to its Slurm step's PMIx server (CTX_FD_PMIX_LINK): Open MPI
 * under srun --mpi=pmix.  PMIx 4 clients reach their server over TCP, at the address
 * in PMIX_SERVER_URI* (slurmstepd's server, "NAME;tcp4://IP:PORT"), and introduce
 * themselves once, when they connect: their namespace and rank, a credential, the
 * names of their security, buffer and data-store modules.  The old step's server is
 * gone at restart, and a link restored reset makes the client give up at once ("readv
 * failed", Open MPI's exit 195).  So the link is saved as the step's (with CR_CTL_STEP)
 * together with how the client introduced itself, and cr_restart, a task of the new
 * step, connects to the new step's server (its own PMIX_SERVER_URI*), introduces the
 * client as the new step's task of the same rank and puts that connection at the old
 * fd number before the program runs again: the client library's next message (Open
 * MPI's fence in MPI_Finalize) finds a working link.
 *
 * The new step has another namespace (slurm.pmix.JOB.STEP), and the client names its
 * own in what it sends (a fence over its whole namespace): its library's copy of its
 * name (pmix_globals.myid, a pmix_proc_t) is written over with the new step's by the
 * restorer.  The runtime looks the symbol up before the freeze (cr_pmix_locate) and
 * the dump checks that the bytes there are the client's name and rank; without them
 * a restart in a step of another namespace is refused, naming why.
 *
 * Not saved: a message half sent or half read on the link (refused at the checkpoint,
 * the job goes on), and PMIx's shared data store (gds ds21/ds12: files of the old
 * step's server, mapped by the client): refused at the checkpoint, naming
 * PMIX_MCA_gds=hash, with which the client keeps its data in its own memory. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "restart_child.h"

extern char **environ;

/* getenv takes no lock and allocates nothing: fine in the frozen process */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The server URI variables, newest protocol first */
static const char *const uri_vars[] = { "PMIX_SERVER_URI41", "PMIX_SERVER_URI4", "PMIX_SERVER_URI3",
                                        "PMIX_SERVER_URI21", "PMIX_SERVER_URI2", NULL };

/* What the link leads to once a restart made it with another step's server: the
 * process's environment still names the first step's (PMIX_*), this note the step of
 * the last restart; written by the restorer (it is in the image), read by the next
 * checkpoint. */
static struct pmix_note {
    char nspace[256];          /* PMIX_NAMESPACE of the step the link was made with */
    char uri[256];             /* and its server's PMIX_SERVER_URI* value */
    uint32_t set, pad;         /* 1: the above is the link's, not the environment */
} note;
_Static_assert(sizeof note <= sizeof(((struct rp_poke *)0)->bytes), "the note fits a poke");

static const char *cur_nspace(void)
{
    return note.set ? note.nspace : env("PMIX_NAMESPACE");
}

/* ---- before the freeze (the manager thread, the program running) ---- */

static uint64_t pmix_globals_addr; /* found once: the library is never unloaded by PMIx */
static uint64_t pmix_globals_size; /* its symbol's size: the dump reads no further */

static int find_libpmix(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    if (slash && !strncmp(slash + 1, "libpmix.so", 10)) {
        snprintf(data, 4096, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

/* Where the PMIx library of a client keeps its globals (its own name first among
 * them), looked up while dlsym may still be called: the dump reads it frozen. */
void cr_pmix_locate(void)
{
    if (pmix_globals_addr || !cur_nspace())
        return;
    char path[4096] = "";
    if (!dl_iterate_phdr(find_libpmix, path))
        return; /* not loaded (yet): asked again at the next checkpoint */
    void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return;
    void *g = dlsym(h, "pmix_globals");
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (g && dladdr1(g, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size >= 260) {
        pmix_globals_size = sym->st_size;
        pmix_globals_addr = (uint64_t)(uintptr_t)g;
    }
    dlclose(h);
}

/* ---- dump ---- */

/* The PMIx server URI (PMIX_SERVER_URI*=NAME;tcp4://IP:PORT) that fd's peer is, or NULL */
static const char *pmix_server(int fd)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    char ip[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN + 16];
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
        (peer.ss_family != AF_INET && peer.ss_family != AF_INET6))
        return NULL;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)&peer;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(want, sizeof want, "://%s:%u", ip, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const void *)&peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(want, sizeof want, "://[%s]:%u", ip, ntohs(in6->sin6_port));
    }
    size_t wl = strlen(want);
    const char *at;
    if (note.set) /* made again at a restart: that step's server, not the environment's */
        return (at = strstr(note.uri, want)) && (at[wl] == 0 || at[wl] == ',') ? note.uri : NULL;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "PMIX_SERVER_URI", 15) || !(at = strstr(*e, want)) ||
            (at[wl] != 0 && at[wl] != ';' && at[wl] != ','))
            continue;
        return *e;
    }
    return NULL;
}

static int detect_pmix(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return d->step && S_ISSOCK(p->st.st_mode) && pmix_server(p->fd);
}

/* The first name of a comma-separated list into out (size cap); 0 if it does not fit */
static int first_of(const char *list, char *out, size_t cap)
{
    size_t n = strcspn(list, ",");
    if (n == 0 || n >= cap)
        return 0;
    memcpy(out, list, n);
    out[n] = 0;
    return 1;
}

/* Whether path lies under dir, runs of '/' counting as one (PMIx's variables say
 * "DIR//pmix_dstor_ds21_PID", the kernel's maps never double a slash) */
static int under(const char *path, const char *dir)
{
    while (*dir) {
        if (*dir == '/' && *path == '/') {
            while (*dir == '/')
                dir++;
            while (*path == '/')
                path++;
            continue;
        }
        if (*dir++ != *path++)
            return 0;
    }
    return *path == '/' || *path == 0 || dir[-1] == '/';
}

/* Whether a line of /proc/self/maps names a file under dir (the PMIx shared store).
 * Raw reads only: the process is frozen. */
static int maps_under(struct dump *d, const char *dir)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "%s/maps", d->proc_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t have = 0;
    int found = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            char *slash = strchr(line, '/');
            if (slash && under(slash, dir))
                found = 1;
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have);
        if (have == sizeof buf - 1)
            have = 0; /* a line longer than the buffer: not one of ours */
    }
    close(fd);
    return found;
}

/* Where in the library's globals its own name is: the pmix_proc_t (char nspace[256],
 * uint32_t rank) holding exactly this namespace and rank; 0 if none or not one. */
static uint64_t find_myid(const char *nspace, uint32_t rank)
{
    if (!pmix_globals_addr)
        return 0;
    const unsigned char *g = (const unsigned char *)(uintptr_t)pmix_globals_addr;
    size_t nl = strlen(nspace);
    uint64_t at = 0;
    for (size_t off = 0; off + 260 <= 512 && off + 260 <= pmix_globals_size; off += 4) {
        if (memcmp(g + off, nspace, nl + 1))
            continue;
        size_t k = nl;
        while (k < 256 && !g[off + k])
            k++;
        uint32_t r;
        memcpy(&r, g + off + 256, 4);
        if (k < 256 || r != rank)
            continue;
        if (at)
            return 0; /* two: not telling which */
        at = pmix_globals_addr + off;
    }
    return at;
}

static int save_pmix(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    static struct ctx_pmix_link pl; /* the dump runs in one thread at a time */
    memset(&pl, 0, sizeof pl);
    const char *uri = pmix_server(p->fd), *ns = cur_nspace(), *rank = env("PMIX_RANK");
    const char *ver = env("PMIX_VERSION"), *sec = env("PMIX_SECURITY_MODE");
    const char *ds21 = env("PMIX_DSTORE_21_BASE_PATH"), *ds12 = env("PMIX_DSTORE_ESH_BASE_PATH");
    if (!ns || strlen(ns) > 255 || !rank || !ver)
        return fail(d, ENOTSUP, "fd %d is the link to the step's PMIx server (%.200s), but "
                    "PMIX_NAMESPACE, PMIX_RANK or PMIX_VERSION is missing from the process's "
                    "environment: cannot tell how to introduce it to a new step's server",
                    p->fd, uri);
    if ((ds21 && maps_under(d, ds21)) || (ds12 && maps_under(d, ds12)))
        return fail(d, ENOTSUP, "the process maps its PMIx server's shared data store (%.200s): "
                    "files of this step's slurmstepd, which a restarted step does not have; "
                    "run the job with PMIX_MCA_gds=hash (the client then keeps that data in "
                    "its own memory)", ds21 && maps_under(d, ds21) ? ds21 : ds12);
    memcpy(pl.nspace, ns, strlen(ns) + 1);
    char *end;
    unsigned long r = strtoul(rank, &end, 10);
    if (*end || r > 0xfffffff0UL)
        return fail(d, EINVAL, "PMIX_RANK=%.40s is not a rank", rank);
    pl.rank = (uint32_t)r;
    /* what a PMIx 4.1+ client picks from the environment its server gave it */
    if (!first_of(sec ? sec : "native", pl.sec, sizeof pl.sec) || strcmp(pl.sec, "native"))
        return fail(d, ENOTSUP, "the PMIx client uses the security module \"%.40s\": only "
                    "\"native\" links can be made again with a new step's server", pl.sec);
    if (strncmp(ver, "4.", 2) || ver[2] < '1' || ver[2] > '9' || strlen(ver) >= sizeof pl.version)
        return fail(d, ENOTSUP, "the step's PMIx is version %.40s: its link can be made again "
                    "only for PMIx 4.1 and later 4.x", ver);
    memcpy(pl.version, ver, strlen(ver) + 1);
    const char *bf = env("PMIX_BFROPS_MODULE");
    if (!first_of(bf ? bf : "v41", pl.bfrops, sizeof pl.bfrops))
        return fail(d, EINVAL, "PMIX_BFROPS_MODULE=%.40s is not a module name", bf);
    const char *bt = env("PMIX_BFROP_BUFFER_TYPE");
    pl.bftype = bt && !strcmp(bt, "PMIX_BFROP_BUFFER_FULLY_DESC") ? 2 : 1;
    memcpy(pl.gds, "hash", 5);
    pl.myid_addr = find_myid(pl.nspace, pl.rank);
    pl.note_addr = (uint64_t)(uintptr_t)&note;

    /* a message half sent or half read cannot be cut at the same place in a new link */
    struct sockaddr_storage self, peer;
    socklen_t sl = sizeof self, pln = sizeof peer;
    static char diag[SOCK_DIAG_BUF]; /* sock_diag's answer */
    struct tcp_diag td = { 0 };
    if (getsockname(p->fd, (struct sockaddr *)&self, &sl) == 0 &&
        getpeername(p->fd, (struct sockaddr *)&peer, &pln) == 0 &&
        tcp_diag_find(&self, &peer, diag, &td) == 0 && td.found && (td.rqueue || td.wqueue))
        return fail(d, EAGAIN, "fd %d, the link to the step's PMIx server, has a message in "
                    "flight (%u bytes unread, %u unsent): try the checkpoint again", p->fd,
                    td.rqueue, td.wqueue);

    char text[300];
    snprintf(text, sizeof text, "the link to the step's PMIx server (%.200s)", uri);
    struct ctx_fd *rec = sock_record(d, p->fd, CTX_FD_PMIX_LINK, text, sizeof pl, &p->st);
    if (!rec)
        return fail(d, E2BIG, "too much metadata");
    memcpy((unsigned char *)(rec + 1) + rec->path_len, &pl, sizeof pl);
    return 0;
}

/* ---- restart (cr_restart's child, a task of the new step: its environment) ---- */

/* The new step's server address from its URI ("NAME;tcp4://IP:PORT", tcp6://[IP]:PORT) */
static int server_addr(const char *uri, struct sockaddr_storage *sa, socklen_t *len)
{
    const char *u = strchr(uri, ';');
    if (!u)
        return -1;
    u++;
    char host[INET6_ADDRSTRLEN + 2];
    memset(sa, 0, sizeof *sa);
    int v6 = !strncmp(u, "tcp6://", 7);
    if (!v6 && strncmp(u, "tcp4://", 7))
        return -1;
    u += 7;
    const char *colon = strrchr(u, ':');
    if (!colon || (size_t)(colon - u) >= sizeof host)
        return -1;
    memcpy(host, u, (size_t)(colon - u));
    host[colon - u] = 0;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != ',') || port == 0 || port > 65535)
        return -1;
    if (v6) {
        struct sockaddr_in6 *in6 = (void *)sa;
        char *h = host;
        size_t hl = strlen(h);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
            h[hl - 1] = 0, h++;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return inet_pton(AF_INET6, h, &in6->sin6_addr) == 1 ? 0 : -1;
    }
    struct sockaddr_in *in = (void *)sa;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *len = sizeof *in;
    return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
}

static void put(unsigned char *msg, size_t *at, const void *v, size_t n)
{
    memcpy(msg + *at, v, n);
    *at += n;
}

static void put_u32(unsigned char *msg, size_t *at, uint32_t v)
{
    v = htonl(v);
    put(msg, at, &v, 4);
}

/* The client's handshake (PMIx 4.1+, a simple client over TCP): a header (index -1,
 * tag UINT32_MAX, the body's length, in the host's order) then the security module,
 * the credential (native: the effective uid and gid), the client flag 0, its name
 * (namespace, rank), version, buffer module and type, data-store module, and one zero
 * byte more, as the 4.2 client sends it. */
static size_t handshake(const struct ctx_pmix_link *pl, const char *nspace, uint32_t rank,
                        unsigned char *msg)
{
    size_t at = 16;
    uint32_t cred[2] = { (uint32_t)geteuid(), (uint32_t)getegid() };
    unsigned char flag = 0, bftype = (unsigned char)pl->bftype;
    put(msg, &at, pl->sec, strlen(pl->sec) + 1);
    put_u32(msg, &at, sizeof cred);
    put(msg, &at, cred, sizeof cred);
    put(msg, &at, &flag, 1);
    put(msg, &at, nspace, strlen(nspace) + 1);
    put_u32(msg, &at, rank);
    put(msg, &at, pl->version, strlen(pl->version) + 1);
    put(msg, &at, pl->bfrops, strlen(pl->bfrops) + 1);
    put(msg, &at, &bftype, 1);
    put(msg, &at, pl->gds, strlen(pl->gds) + 1);
    msg[at++] = 0;
    int32_t index = -1;
    uint32_t tag = UINT32_MAX;
    uint64_t nbytes = at - 16;
    memcpy(msg, &index, 4);
    memcpy(msg + 4, &tag, 4);
    memcpy(msg + 8, &nbytes, 8);
    return at;
}

static int full_io(int fd, void *buf, size_t n, int out)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = out ? send(fd, (char *)buf + done, n - done, MSG_NOSIGNAL)
                        : recv(fd, (char *)buf + done, n - done, MSG_WAITALL);
        if (r == 0)
            errno = ECONNRESET;
        if (r <= 0 && errno != EINTR)
            return -1;
        if (r > 0)
            done += (size_t)r;
    }
    return 0;
}

/* Whether [addr, addr+len) lies in writable memory of the image */
static int writable(const struct ctx_image *img, uint64_t addr, size_t len)
{
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if (addr >= v->start && addr + len <= v->end)
            return (v->prot & PROT_WRITE) != 0;
    }
    return 0;
}

static int restore_pmix(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    struct ctx_pmix_link pl;
    memcpy(&pl, fd_rec_extra(f), sizeof pl);
    const char *uri = NULL;
    for (int i = 0; uri_vars[i] && !uri; i++)
        uri = env(uri_vars[i]);
    const char *ns = env("PMIX_NAMESPACE"), *rank = env("PMIX_RANK");
    if (!uri || !ns || !rank) /* not a task of a new step with a PMIx server: reset */
        return cr_fd_kind(CTX_FD_SOCKET_DEAD)->restore(c, f, rec, own);
    if (c->npokes + 2 > RP_POKES)
        child_fail(c, ENOTSUP, "fd %d: a second link to the step's PMIx server (one client "
                   "per process)", f->fd);
    char *end;
    unsigned long r = strtoul(rank, &end, 10);
    if (*end || r != pl.rank)
        child_fail(c, EINVAL, "fd %d, the link to the step's PMIx server: this task is rank "
                   "%s of the new step, the checkpointed one was rank %u", f->fd, rank, pl.rank);
    if (strlen(ns) > 255)
        child_fail(c, EINVAL, "PMIX_NAMESPACE=%.60s... is longer than PMIx allows", ns);
    if (strcmp(ns, pl.nspace)) { /* the client must name itself as the new step's task */
        if (!pl.myid_addr || !writable(c->img, pl.myid_addr, 260))
            child_fail(c, ENOTSUP, "fd %d, the link to the step's PMIx server: the new step's "
                       "namespace is %s, the checkpointed task's %s, and the checkpoint did "
                       "not find where the client's PMIx library keeps its name (not a PMIx "
                       "4.x library exporting pmix_globals?): it would name the old one to "
                       "the new server", f->fd, ns, pl.nspace);
        struct rp_poke *k = &c->pokes[c->npokes++];
        memset(k, 0, sizeof *k);
        k->addr = pl.myid_addr;
        k->len = 260;
        memcpy(k->bytes, ns, strlen(ns));
        memcpy(k->bytes + 256, &pl.rank, 4);
    }
    /* the runtime's note: the next checkpoint finds the link by this step's server */
    if (!writable(c->img, pl.note_addr, sizeof note) || strlen(uri) >= sizeof note.uri)
        child_fail(c, EINVAL, "fd %d, the link to the step's PMIx server: the runtime's note "
                   "of it (0x%llx) is not in writable memory of the image, or the server's "
                   "address is longer than %zu bytes", f->fd,
                   (unsigned long long)pl.note_addr, sizeof note.uri - 1);
    struct pmix_note now;
    memset(&now, 0, sizeof now);
    memcpy(now.nspace, ns, strlen(ns));
    memcpy(now.uri, uri, strlen(uri));
    now.set = 1;
    struct rp_poke *k = &c->pokes[c->npokes++];
    memset(k, 0, sizeof *k);
    k->addr = pl.note_addr;
    k->len = sizeof now;
    memcpy(k->bytes, &now, sizeof now);
    struct sockaddr_storage sa;
    socklen_t slen;
    if (server_addr(uri, &sa, &slen) < 0)
        child_fail(c, EINVAL, "the new step's PMIx server address \"%.200s\" is not "
                   "NAME;tcp4://IP:PORT or NAME;tcp6://[IP]:PORT", uri);
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        child_fail(c, errno, "cannot make a socket for the PMIx server link: %s", strerror(errno));
    /* bounded: a server that does not answer fails the restart instead of hanging it */
    struct timeval tmo = { 30, 0 }, none = { 0, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
    if (connect(fd, (struct sockaddr *)&sa, slen) < 0)
        child_fail(c, errno, "cannot connect to the new step's PMIx server at %.200s: %s", uri,
                   strerror(errno));
    unsigned char msg[512];
    size_t n = handshake(&pl, ns, pl.rank, msg);
    uint32_t status, index;
    if (full_io(fd, msg, n, 1) < 0 || full_io(fd, &status, 4, 0) < 0)
        child_fail(c, errno, "the new step's PMIx server at %.200s did not take rank %u of %s: %s",
                   uri, pl.rank, ns, strerror(errno));
    if (status)
        child_fail(c, EPROTO, "the new step's PMIx server at %.200s refused rank %u of %s: PMIx "
                   "status %d", uri, pl.rank, ns, (int32_t)ntohl(status));
    if (full_io(fd, &index, 4, 0) < 0) /* the client's index at the server: unused by clients */
        child_fail(c, errno, "the new step's PMIx server at %.200s did not finish the "
                   "handshake: %s", uri, strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    return fd;
}

/* ---- the reader and cr_info ---- */

static int terminated(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

static int valid_pmix(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier;
    (void)n;
    struct ctx_pmix_link pl;
    if (f->flags || f->pos || f->source_fd != -1 || f->extra_len != sizeof pl)
        return 0;
    memcpy(&pl, fd_rec_extra(f), sizeof pl);
    return terminated(pl.nspace, sizeof pl.nspace) && terminated(pl.sec, sizeof pl.sec) &&
           terminated(pl.version, sizeof pl.version) && terminated(pl.bfrops, sizeof pl.bfrops) &&
           terminated(pl.gds, sizeof pl.gds) && (pl.bftype == 1 || pl.bftype == 2) &&
           pl.rank <= 0xfffffff0U && pl.myid_addr % 4 == 0 && pl.myid_addr < (1ULL << 57) &&
           pl.note_addr && pl.note_addr % 4 == 0 && pl.note_addr < (1ULL << 57);
}

static void describe_pmix(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_pmix_link pl;
    memcpy(&pl, fd_rec_extra(f), sizeof pl);
    fd_line(out, f, "pmix", acc);
    fprintf(out, " %s: rank %u of %s, PMIx %s (%s, %s, gds %s), its name at ", fd_rec_path(f),
            pl.rank, pl.nspace, pl.version, pl.sec, pl.bfrops, pl.gds);
    if (pl.myid_addr)
        fprintf(out, "0x%llx\n", (unsigned long long)pl.myid_addr);
    else
        fprintf(out, "? (a restart needs the same namespace)\n");
}

static const char *outside_pmix(const struct ctx_fd *f)
{
    (void)f;
    return "a reset connection, unless cr_restart runs as a task of a new step with a PMIx "
           "server (the link is then made again with it)";
}

const struct cr_fd_ops cr_fd_pmix_link = {
    .kind = CTX_FD_PMIX_LINK, .name = "pmix", .detect = detect_pmix, .save = save_pmix,
    .restore = restore_pmix, .restore_nonblock = 1, .valid = valid_pmix,
    .describe = describe_pmix, .outside = outside_pmix, .socket = 1,
};
