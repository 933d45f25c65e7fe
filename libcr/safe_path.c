/* The directory of a file to write, found one component at a time (see safe_path.h). */
#define _GNU_SOURCE
#include "safe_path.h"
#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40

/* The walk moves on to the directory fd. */
static void move_to(int *cur, int fd)
{
    close(*cur);
    *cur = fd;
}

int cr_open_parent(const char *path, int strict, char *base, size_t baselen, char *err,
                   size_t errlen)
{
    size_t plen = strlen(path);
    if (plen == 0 || path[plen - 1] == '/')
        return cr_say(err, errlen, EISDIR, "%s: want the path of a file, not of a directory", path);
    if (plen >= PATH_MAX)
        return cr_say(err, errlen, ENAMETOOLONG, "%s: the path is too long", path);
    if (!strict) { /* what open() would do */
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == path)
            snprintf(dir, sizeof dir, "/");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        const char *name = slash ? slash + 1 : path;
        if (strlen(name) >= baselen)
            return cr_say(err, errlen, ENAMETOOLONG, "%s: the file name is too long", path);
        snprintf(base, baselen, "%s", name);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return cr_say(err, errlen, errno, "cannot create %s: the directory %s: %s", path, dir,
                       strerror(errno));
        return fd;
    }

    /* what is left to walk, as "a/b/c": the links found on the way are put in front */
    char left[2 * PATH_MAX];
    snprintf(left, sizeof left, "%s", path);
    int cur = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cur < 0)
        return cr_say(err, errlen, errno, "%s: cannot open the starting directory: %s", path,
                   strerror(errno));
    int links = 0;
    char *p = left;
    for (;;) {
        while (*p == '/')
            p++;
        char *slash = strchr(p, '/');
        if (!slash) { /* the file itself: not opened here */
            if (!*p || !strcmp(p, ".") || !strcmp(p, "..")) {
                close(cur);
                return cr_say(err, errlen, EISDIR, "%s: want the path of a file, not of a directory",
                           path);
            }
            if (strlen(p) >= baselen) {
                close(cur);
                return cr_say(err, errlen, ENAMETOOLONG, "%s: the file name is too long", path);
            }
            snprintf(base, baselen, "%s", p);
            return cur;
        }
        *slash = 0;
        char *name = p;
        p = slash + 1;
        if (!strcmp(name, "."))
            continue;
        int fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            close(cur);
            return cr_say(err, errlen, e, "cannot create %s: the directory %s on the way: %s", path,
                       name, strerror(e));
        }
        if (S_ISDIR(st.st_mode)) {
            move_to(&cur, fd);
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            close(fd);
            close(cur);
            return cr_say(err, errlen, ENOTDIR, "%s: %s is not a directory", path, name);
        }
        close(fd);
        if (st.st_uid != 0) {
            close(cur);
            return cr_say(err, errlen, ELOOP, "%s: %s is a symbolic link of uid %u; as root, slurm-cr "
                       "follows no link another user owns (give the real path of the directory)",
                       path, name, (unsigned)st.st_uid);
        }
        if (++links > MAX_LINKS) {
            close(cur);
            return cr_say(err, errlen, ELOOP, "%s: too many symbolic links", path);
        }
        char target[PATH_MAX];
        ssize_t n = readlinkat(cur, name, target, sizeof target - 1);
        if (n <= 0) {
            close(cur);
            return cr_say(err, errlen, n < 0 ? errno : ENOENT, "%s: cannot read the link %s", path, name);
        }
        target[n] = 0;
        size_t tl = (size_t)n, pl = strlen(p);
        if (tl + 1 + pl >= sizeof left) {
            close(cur);
            return cr_say(err, errlen, ENAMETOOLONG, "%s: the path is too long", path);
        }
        memmove(left + tl + 1, p, pl + 1); /* the link's target in front of what was left */
        memcpy(left, target, tl);
        left[tl] = '/';
        p = left;
        if (target[0] == '/') {
            int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (root < 0) {
                close(cur);
                return cr_say(err, errlen, errno, "%s: cannot open /", path);
            }
            move_to(&cur, root);
        }
    }
}
