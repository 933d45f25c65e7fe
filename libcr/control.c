/* The control socket's name: made at random by the runtime, found by the requester. */
#define _GNU_SOURCE
#include "control.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define PREFIX "slurm-cr/"

socklen_t cr_ctl_new_address(pid_t pid, struct sockaddr_un *addr)
{
    unsigned char rnd[16];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t n = getrandom(rnd + got, sizeof rnd - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        got += (size_t)n;
    }
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    char *p = addr->sun_path + 1; /* leading NUL: abstract namespace */
    int n = snprintf(p, sizeof addr->sun_path - 1, PREFIX "%d.", (int)pid);
    for (size_t i = 0; i < sizeof rnd; i++)
        n += snprintf(p + n, sizeof addr->sun_path - 1 - (size_t)n, "%02x", rnd[i]);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int cr_ctl_prepare_check(const struct cr_ctl_prepare *p)
{
    if (p->magic != CR_CTL_MAGIC || p->op != CR_CMD_PREPARE || p->npipes > CR_CTL_MAX_TREE_PIPES ||
        p->nshares > CR_CTL_MAX_TREE_SHARES || p->nsocks > CR_CTL_MAX_TREE_SOCKS ||
        p->nptys > CR_CTL_MAX_TREE_PTYS || p->nfifo_skip > CR_CTL_MAX_TREE_PTYS || p->alone > 1)
        return -EPROTO;
    for (uint32_t i = 0; i < p->nshares; i++)
        if (p->shares[i].fd < 0 || p->shares[i].origin_fd < 0 || p->shares[i].member < 0)
            return -EPROTO;
    for (int i = 0; i < 3; i++)
        if (p->stdio[i].valid > 1)
            return -EPROTO;
    return 0;
}

int cr_ctl_request_check(const struct cr_ctl_request *r, size_t n)
{
    if (n != sizeof *r || r->magic != CR_CTL_MAGIC || r->version != CR_CTL_VERSION ||
        r->op != CR_CTL_CHECKPOINT || r->timeout_ms > 24u * 3600 * 1000)
        return -EPROTO;
    unsigned known = CR_CTL_CONTINUE | CR_CTL_SOCKETS_REFUSE | CR_CTL_SAVE_EXE | CR_CTL_SAVE_PRIVATE |
                     CR_CTL_SAVE_SHARED | CR_CTL_SOCKETS_DELAY | CR_CTL_TREE | CR_CTL_PIPES_REFUSE |
                     CR_CTL_NOSYNC | CR_CTL_STOPPED | CR_CTL_STEP | CR_CTL_COMPRESS_MASK |
                     CR_CTL_INCREMENTAL | CR_CTL_STOPPED_HELD | CR_CTL_PRECOPY | CR_CTL_PRECOPY_ANY_SIZE;
    return (r->flags & ~known) || CR_CTL_COMPRESS_LEVEL(r->flags) > CR_CTL_COMPRESS_MAX ? -EPROTO : 0;
}

int cr_compress_flags(const char *s, unsigned *flags)
{
    *flags = 0;
    if (!s || !strcmp(s, "yes") || !strcmp(s, "on")) {
        *flags = CR_CTL_COMPRESS(CR_COMPRESS_DEFAULT);
        return 0;
    }
    if (!*s || !strcmp(s, "no") || !strcmp(s, "off"))
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > CR_CTL_COMPRESS_MAX)
        return -EINVAL;
    *flags = CR_CTL_COMPRESS(v);
    return 0;
}

static int cmp_ino(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* The inodes of the sockets `pid` holds, sorted; -errno if its fds cannot be read. */
static int socket_inodes(pid_t pid, unsigned long **out, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    size_t cap = 64;
    unsigned long *v = malloc(cap * sizeof *v);
    *n = 0;
    struct dirent *e;
    while (v && (e = readdir(d))) {
        char link[400], to[64];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t len = readlink(link, to, sizeof to - 1);
        if (len < 0 && (errno == EACCES || errno == EPERM)) {
            free(v); /* the names can be listed, not read (another user namespace) */
            closedir(d);
            return -EACCES;
        }
        if (len <= 0)
            continue;
        to[len] = 0;
        unsigned long ino;
        if (sscanf(to, "socket:[%lu]", &ino) != 1)
            continue;
        if (*n == cap) {
            unsigned long *w = realloc(v, 2 * cap * sizeof *v);
            if (!w) {
                free(v);
                v = NULL;
                break;
            }
            v = w;
            cap *= 2;
        }
        v[(*n)++] = ino;
    }
    closedir(d);
    if (!v)
        return -ENOMEM;
    qsort(v, *n, sizeof *v, cmp_ino);
    *out = v;
    return 0;
}

int cr_ctl_find_address(pid_t pid, struct sockaddr_un *addr, int nth)
{
    unsigned long *inodes = NULL;
    size_t ninodes = 0;
    int rc = socket_inodes(pid, &inodes, &ninodes);
    /* From inside a user namespace (a restarted tree, unshare -r) another process's
     * fds cannot be read even by their owner: then every name of that pid is a
     * candidate, and the caller keeps the one whose SO_PEERCRED is the target. */
    int by_name = rc == -EACCES || rc == -EPERM;
    if (rc < 0 && !by_name)
        return rc;
    char want[32];
    int wlen = snprintf(want, sizeof want, "@" PREFIX "%d.", (int)pid);
    FILE *f = by_name || ninodes ? fopen("/proc/net/unix", "re") : NULL;
    char line[512];
    rc = -ENOENT;
    /* "Num RefCount Protocol Flags Type St Inode Path" */
    while (f && rc == -ENOENT && fgets(line, sizeof line, f)) {
        unsigned long ino;
        int pathpos = 0;
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %n", &ino, &pathpos) != 1 || !pathpos)
            continue;
        char *name = line + pathpos;
        name[strcspn(name, "\n")] = 0;
        if (strncmp(name, want, (size_t)wlen) || strlen(name) > sizeof addr->sun_path - 1)
            continue;
        if (!by_name && !bsearch(&ino, inodes, ninodes, sizeof *inodes, cmp_ino))
            continue;
        if (nth-- > 0)
            continue;
        memset(addr, 0, sizeof *addr);
        addr->sun_family = AF_UNIX;
        memcpy(addr->sun_path + 1, name + 1, strlen(name) - 1);
        rc = (int)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    }
    if (f)
        fclose(f);
    free(inodes);
    return rc;
}
