/* Staging of context files from node-local scratch to the shared dir: staging.h. */
#define _GNU_SOURCE
#include "staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cr_stage_expand(const char *scratch_dir, const char *node, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = scratch_dir; *p; p++) {
        const char *add = NULL;
        char one[2] = { *p, 0 };
        if (p[0] == '%' && p[1] == 'n') {
            add = node;
            p++;
        } else {
            add = one;
        }
        size_t n = strlen(add);
        if (o + n + 1 > len)
            return -ENAMETOOLONG;
        memcpy(out + o, add, n);
        o += n;
    }
    out[o] = 0;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* mkdir -p, each level 0700 */
static int make_dirs(const char *dir)
{
    char path[4400];
    snprintf(path, sizeof path, "%s", dir);
    for (char *s = path + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
            *s = '/';
        }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int cr_stage_path(const char *scratch, const char *image_dir, unsigned gen, const char *name,
                  char *out, size_t len, char *msg, size_t msglen)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/%s/gen.%u", scratch, base_name(image_dir), gen);
    int r = make_dirs(dir);
    if (r < 0) {
        snprintf(msg, msglen, "cannot create the scratch directory %s: %s", dir, strerror(-r));
        return r;
    }
    if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len) {
        snprintf(msg, msglen, "scratch path too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

void cr_stage_done(const char *scratch, const char *image_dir, unsigned gen)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/%s/gen.%u", scratch, base_name(image_dir), gen);
    rmdir(dir); /* empty once every file is staged (or removed on failure) */
}

static int fail(char *msg, size_t len, int err, const char *what, const char *path)
{
    snprintf(msg, len, "staging: %s %s: %s", what, path, strerror(err));
    return -err;
}

int cr_stage_file(const char *src, const char *dst_tmp, const char *dst, char *msg, size_t msglen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        int e = errno;
        unlink(src);
        return fail(msg, msglen, e, "cannot open", src);
    }
    int out = open(dst_tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        unlink(src);
        return fail(msg, msglen, e, "cannot create", dst_tmp);
    }
    static char a[1 << 16], b[1 << 16];
    int err = 0;
    const char *what = "cannot read", *where = src;
    ssize_t r;
    while ((r = read(in, a, sizeof a)) > 0) {
        ssize_t done = 0;
        while (done < r) {
            ssize_t w = write(out, a + done, (size_t)(r - done));
            if (w < 0) {
                err = errno;
                what = "cannot write";
                where = dst_tmp;
                break;
            }
            done += w;
        }
        if (err)
            break;
    }
    if (!err && r < 0)
        err = errno;
    if (!err && fsync(out) < 0) {
        err = errno;
        what = "cannot sync";
        where = dst_tmp;
    }
    /* verify: what is on the shared dir now, read back, is the scratch file */
    if (!err) {
        posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
        off_t at = 0;
        for (;;) {
            ssize_t x = pread(in, a, sizeof a, at), y;
            size_t got = 0;
            while (x > 0 && got < (size_t)x && (y = pread(out, b + got, (size_t)x - got, at + (off_t)got)) > 0)
                got += (size_t)y;
            if (x < 0) {
                err = errno;
                break;
            }
            if ((size_t)x != got || memcmp(a, b, got)) {
                err = EIO;
                what = "the copy differs from the scratch file at";
                where = dst_tmp;
                break;
            }
            if (x == 0)
                break;
            at += x;
        }
        if (!err && pread(out, b, 1, at) != 0) {
            err = EIO;
            what = "the copy is longer than the scratch file:";
            where = dst_tmp;
        }
    }
    close(in);
    if (close(out) < 0 && !err) {
        err = errno;
        what = "cannot close";
        where = dst_tmp;
    }
    unlink(src);
    if (!err && rename(dst_tmp, dst) < 0) {
        err = errno;
        what = "cannot rename";
        where = dst_tmp;
    }
    if (err) {
        unlink(dst_tmp);
        return fail(msg, msglen, err, what, where);
    }
    return 0;
}
