/* The dumper's file descriptors: lists the process's fds, lets every kind scan them
 * (which pipes have both ends inside, which sockets are peers, what stdio is), then
 * saves each fd through the first kind that recognizes it (resources/). */
#define _GNU_SOURCE
#include "dump.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resources/resources.h"
#include "runtime.h"

static int add_fd(struct dump *d, struct fd_scan *s, int fd)
{
    char path[CTX_PATH_MAX];
    struct cr_fd_probe p = { .fd = fd, .path = path };
    if (fstat(fd, &p.st) < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    ssize_t n = fd_path(fd, path, sizeof path, &p.st);
    if (n < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    p.len = (size_t)n;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++) {
        if (!(*k)->detect || !(*k)->detect(d, s, &p))
            continue;
        uint32_t before = d->proc->nfds;
        int rc = (*k)->save(d, s, &p);
        /* its other fds are told by the inode it has now (a socket waiting in a backlog
         * with data is replaced while it is saved: resources/tcp_pair.c) */
        struct stat now;
        if (rc == 0 && fstat(fd, &now) == 0)
            p.st.st_ino = now.st_ino;
        if (rc == 0 && !(*k)->alias && d->proc->nfds > before && s->nseen < MAX_SEEN)
            s->seen[s->nseen++] = (typeof(s->seen[0])){ fd, p.st.st_dev, p.st.st_ino };
        if (rc == 0 && d->proc->nfds > before)
            rc = save_locks(d, &p, (*k)->kind);
        if (rc == 0 && d->proc->nfds > before)
            rc = save_owner(d, &p, (*k)->kind);
        if (rc == 0 && d->proc->nfds > before)
            rc = save_sock_attach(d, &p);
        return rc;
    }
    return fail(d, ENOTSUP, "fd %d is %s, a kind of file this version cannot save", fd, path);
}

int collect_fds(struct dump *d)
{
    struct fd_scan *s = (struct fd_scan *)(d->scratch + TEXT_OFF + 4 * MiB);
    memset(s, 0, sizeof *s);
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return fail(d, errno, "opening /proc/self/fd");
    char *buf = d->scratch + TEXT_OFF;
    int fds_n = 0, max = (int)((4 * MiB - 65536) / sizeof(int));
    int *fds = (int *)(d->scratch + TEXT_OFF + 65536);
    long n;
    while ((n = syscall(SYS_getdents64, dfd, buf, 65536)) > 0)
        for (long off = 0; off < n;) {
            struct dirent64 *de = (struct dirent64 *)(buf + off);
            off += de->d_reclen;
            if (de->d_name[0] < '0' || de->d_name[0] > '9')
                continue;
            int fd = atoi(de->d_name);
            if (fd != dfd && !cr_internal_fd(fd) && fds_n < max)
                fds[fds_n++] = fd;
        }
    close(dfd);
    s->fds = fds;
    s->nfds = fds_n;
    int rc = 0;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; rc == 0 && *k; k++)
        if ((*k)->scan)
            rc = (*k)->scan(d, s, fds, fds_n);
    for (int i = 0; rc == 0 && i < fds_n; i++)
        rc = add_fd(d, s, fds[i]);
    tcp_backlog_done(); /* its room, before the memory is listed */
    return rc;
}

/* --sockets=delay asks this before each try, while the application runs: the fds it
 * opens are taken inside a section (runtime.c). */
int cr_external_sockets(char *msg, size_t msglen)
{
    cr_fd_section_begin();
    int fds[1024], n = 0;
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    while (dir && (e = readdir(dir)) && n < 1024) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dirfd(dir) && !cr_internal_fd(fd) &&
            fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            fds[n++] = fd;
    }
    if (dir)
        closedir(dir);
    int found = external_sockets(fds, n, msg, msglen);
    cr_fd_section_end();
    return found;
}
