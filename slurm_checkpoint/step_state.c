/* The state `scontrol checkpoint` keeps in a step's image dir: see step_state.h. */
#define _GNU_SOURCE
#include "step_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int path_of(char *out, size_t len, const char *dir, const char *name)
{
    return snprintf(out, len, "%s/%s", dir, name) < (int)len ? 0 : -ENAMETOOLONG;
}

/* Reads the whole small file into buf; bytes, or -errno. */
static int read_small(const char *dir, const char *name, char *buf, size_t len)
{
    char p[4300];
    if (path_of(p, sizeof p, dir, name) < 0)
        return -ENAMETOOLONG;
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = 0;
    return (int)n;
}

/* Replaces the file atomically; 0 or -errno. */
static int write_small(const char *dir, const char *name, const char *text)
{
    char p[4300], t[4400];
    if (path_of(p, sizeof p, dir, name) < 0)
        return -ENAMETOOLONG;
    snprintf(t, sizeof t, "%s.%d.tmp", p, (int)getpid());
    int fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int e = w < 0 ? errno : (size_t)w != len ? EIO : 0;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(t, p) < 0)
        e = errno;
    if (e)
        unlink(t);
    return -e;
}

int cr_state_disabled(const char *image_dir)
{
    char buf[64];
    return read_small(image_dir, "disabled", buf, sizeof buf) > 0 ? atoi(buf) : 0;
}

int cr_state_add_disabled(const char *image_dir, int delta)
{
    char p[4300], buf[64];
    if (path_of(p, sizeof p, image_dir, "disabled.lock") < 0)
        return -ENAMETOOLONG;
    int lk = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lk < 0)
        return -errno;
    flock(lk, LOCK_EX);
    int v = cr_state_disabled(image_dir) + delta, r;
    if (v < 0)
        r = -EINVAL;
    else {
        snprintf(buf, sizeof buf, "%d\n", v);
        r = write_small(image_dir, "disabled", buf);
        if (r == 0)
            r = v;
    }
    close(lk);
    return r;
}

int cr_state_set_error(const char *image_dir, int err, const char *msg)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%d %s\n", err, msg ? msg : "");
    return write_small(image_dir, "last_error", buf);
}

int cr_state_get_error(const char *image_dir, int *err, char *msg, size_t len)
{
    char buf[1200];
    int n = read_small(image_dir, "last_error", buf, sizeof buf);
    *err = 0;
    msg[0] = 0;
    if (n < 0)
        return n;
    char *rest;
    *err = (int)strtol(buf, &rest, 10);
    if (*rest == ' ')
        rest++;
    rest[strcspn(rest, "\n")] = 0;
    snprintf(msg, len, "%s", rest);
    return 0;
}

int cr_state_set_busy(const char *image_dir, time_t when)
{
    char buf[64], p[4300];
    if (!when) {
        if (path_of(p, sizeof p, image_dir, "busy") < 0)
            return -ENAMETOOLONG;
        return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
    }
    snprintf(buf, sizeof buf, "%lld\n", (long long)when);
    return write_small(image_dir, "busy", buf);
}

time_t cr_state_busy(const char *image_dir)
{
    char buf[64];
    return read_small(image_dir, "busy", buf, sizeof buf) > 0 ? (time_t)atoll(buf) : 0;
}
