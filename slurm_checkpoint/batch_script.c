/* The batch script's copy in a generation: see batch_script.h. */
#define _GNU_SOURCE
#include "batch_script.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

int cr_batch_save_script(pid_t pid, const char *gendir, char *msg, size_t len)
{
    char dir[64], link[320], target[4096], path[4400];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(msg, len, "cannot read %s: %s", dir, strerror(e));
        return -e;
    }
    struct dirent *e;
    int fdnum = -1;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        if (target[0] == '/' && ends_with(target, "/slurm_script")) {
            fdnum = atoi(e->d_name);
            break;
        }
    }
    closedir(d);
    if (fdnum < 0)
        return 0; /* a shell that read its script whole, or a binary: nothing to keep */
    /* through the process's own descriptor: the spool directory may not be ours */
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fdnum);
    int in = open(link, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/slurm_script", gendir);
    int out = in < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int err = in < 0 || out < 0 ? errno : 0;
    char buf[65536];
    ssize_t r = 0;
    while (!err && (r = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)r) != r)
            err = errno ? errno : EIO;
    if (!err && r < 0)
        err = errno;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) < 0 && !err)
        err = errno;
    if (!err) {
        snprintf(path, sizeof path, "%s/slurm_script.path", gendir);
        FILE *f = fopen(path, "wxe");
        if (!f || fprintf(f, "%s\n", target) < 0 || fclose(f) != 0)
            err = errno ? errno : EIO;
    }
    if (err)
        snprintf(msg, len, "cannot keep a copy of the batch script %s in %s: %s", target, gendir,
                 strerror(err));
    return -err;
}

void cr_batch_relocate_arg(const char *gendir, char *out, size_t len)
{
    char path[4400], orig[4096];
    out[0] = 0;
    snprintf(path, sizeof path, "%s/slurm_script.path", gendir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(orig, sizeof orig, f) && orig[0] == '/') {
        orig[strcspn(orig, "\n")] = 0;
        if (!strchr(orig, '='))
            snprintf(out, len, "--relocate=%s=%s/slurm_script", orig, gendir);
    }
    fclose(f);
}

/* Copies the first size bytes of in to out, both from offset 0; 0 or errno. */
static int copy_range(int in, int out, off_t size)
{
    char buf[65536];
    off_t at = 0;
    while (at < size) {
        size_t want = size - at < (off_t)sizeof buf ? (size_t)(size - at) : sizeof buf;
        ssize_t r = pread(in, buf, want, at);
        if (r <= 0)
            return r < 0 ? errno : 0;
        if (pwrite(out, buf, (size_t)r, at) != r)
            return errno ? errno : EIO;
        at += r;
    }
    return 0;
}

/* Copies the first size bytes of in into a new file path; 0 or errno. */
static int copy_prefix(int in, const char *path, off_t size)
{
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0)
        return errno;
    int err = copy_range(in, out, size);
    if (close(out) < 0 && !err)
        err = errno;
    return err;
}

int cr_batch_save_outputs(pid_t pid, const char *gendir, char *msg, size_t len)
{
    ino_t done_ino[2] = { 0, 0 };
    for (int fd = 1, k = 0; fd <= 2; fd++) {
        char link[64], target[4096], path[4400];
        snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)pid, fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        struct stat st;
        if (n <= 0 || stat(link, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        target[n] = 0;
        if (target[0] != '/' || (k && done_ino[0] == st.st_ino))
            continue;
        /* what the script wrote up to now: its offset (the size, in append mode) */
        off_t size = st.st_size;
        char info[64], line[128];
        snprintf(info, sizeof info, "/proc/%d/fdinfo/%d", (int)pid, fd);
        FILE *f = fopen(info, "re");
        long long pos = -1;
        unsigned flags = 0;
        while (f && fgets(line, sizeof line, f)) {
            sscanf(line, "pos: %lld", &pos);
            sscanf(line, "flags: %o", &flags);
        }
        if (f)
            fclose(f);
        if (pos >= 0 && !(flags & O_APPEND) && pos < size)
            size = (off_t)pos;
        int in = open(link, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof path, "%s/output.%d", gendir, k);
        int err = in < 0 ? errno : copy_prefix(in, path, size);
        if (in >= 0)
            close(in);
        if (!err) {
            snprintf(path, sizeof path, "%s/output.%d.path", gendir, k);
            FILE *p = fopen(path, "we");
            if (!p || fprintf(p, "%lld %s\nfd %d\n", (long long)size, target, fd) < 0 || fclose(p) != 0)
                err = errno ? errno : EIO;
        }
        if (err) {
            snprintf(msg, len, "cannot keep the batch script's output %s in %s: %s", target, gendir,
                     strerror(err));
            return -err;
        }
        done_ino[k++] = st.st_ino;
    }
    return 0;
}

/* Writes the first size bytes of the file saved at saved into target (a plain file of
 * ours, opened without following a link) from offset 0. */
static void put_back(const char *saved, const char *target, long long size)
{
    int in = open(saved, O_RDONLY | O_CLOEXEC);
    int out = open(target, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in >= 0 && out >= 0)
        copy_range(in, out, (off_t)size);
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
}

int cr_batch_restore_outputs(const char *gendir, char (*reloc)[CR_BATCH_ARG_MAX], int max)
{
    int nreloc = 0;
    for (int k = 0; k < 2; k++) {
        char path[4400], target[4096], now[4096];
        long long size;
        int fd = k + 1;
        snprintf(path, sizeof path, "%s/output.%d.path", gendir, k);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        int ok = fscanf(f, "%lld %4095[^\n] fd %d", &size, target, &fd) >= 2 && target[0] == '/' &&
                 size >= 0 && (fd == 1 || fd == 2);
        fclose(f);
        if (!ok)
            continue;
        snprintf(path, sizeof path, "%s/output.%d", gendir, k);
        /* this job's own file for that descriptor */
        char link[32];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, now, sizeof now - 1);
        struct stat st;
        if (n > 0 && now[0] == '/') {
            now[n] = 0;
            if (strcmp(now, target) && !strchr(now, '=') && !strchr(target, '=') &&
                fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == getuid() && nreloc < max) {
                if (st.st_size < size)
                    put_back(path, now, size);
                snprintf(reloc[nreloc++], CR_BATCH_ARG_MAX, "--relocate=%s=%s", target, now);
                continue;
            }
        }
        /* the same file: only a plain file of ours that lost what the script had written */
        if (lstat(target, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid() || st.st_size >= size)
            continue;
        put_back(path, target, size);
    }
    return nreloc;
}
