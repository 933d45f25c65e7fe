/* What /proc shows of the pids a restored program knows by their first values
 * (pid_map.c): a path /proc/OLD/... the program opens, stats or reads the link of names
 * the process the kernel now numbers NEW, and the files that print pids (a process's
 * status and stat, a thread's children, an fd's fdinfo: a pidfd's Pid and NSpid) read
 * as the program knows them.
 *
 * Only while a table exists (after a normal user's restart with new pids) and only
 * for a path that starts with /proc/: without a table an open costs one load more.
 * A file that prints pids, opened through open() or fopen() while a table exists, or
 * found open after a restart (its fds looked at once, at the first read), is read
 * through the runtime: its whole text read from the kernel at offset 0, its pids
 * translated, the part asked for given at an offset the runtime keeps for that fd (the
 * kernel's stays 0).  fopen() of one gives a stream whose reads come here (its fileno()
 * the fd).  A signalfd's records too: each sender's pid (ssi_pid) as the program knows
 * it.  Not translated: fds beyond CR_PROC_FDS, a file larger than a page
 * (read as it is), a dup of such an fd, and paths given relative to an fd of /proc. */
#define _GNU_SOURCE
#include "proc_pids.h"
#include "pid_map.h"
#include "runtime.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

#define CR_PROC_FDS 1024
#define TEXT_MAX 4096          /* status is about 1.5 KiB, stat and fdinfo less */

/* (a thread's status and stat, under task/TID or thread-self: their Pid, NSpid and first
 * field are the thread's tid, which stays the kernel's, as gettid() gives it; the
 * process's pid is in Tgid) */
enum pid_text { TEXT_NONE, TEXT_KEYS, TEXT_STAT, TEXT_LIST, TEXT_TASK_KEYS, TEXT_TASK_STAT,
                SIGNALFD };    /* (not a text: its records' senders, read as they come) */

/* the fds whose reads are translated: the kind of text, the file's inode when it was
 * noted (another file given the same number is not), the offset the program is at */
static uint8_t text_kind[CR_PROC_FDS];
static uint64_t text_ino[CR_PROC_FDS];
static uint32_t text_off[CR_PROC_FDS];
static uint64_t fds_seen_at = 0;        /* the restart count at which the fds were looked at */
static int fds_lock;

static int map_active(void)
{
    return __builtin_expect(__atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE) != 0, 0);
}

/* ---- paths ---- */

/* a decimal number of the path at *p (no leading 0, as the kernel reads them), which
 * ends at '/' or the end; -1 if none */
static long number_at(const char **p)
{
    const char *s = *p;
    if (*s < '1' || *s > '9')
        return -1;
    long v = 0;
    while (*s >= '0' && *s <= '9' && v < 100000000)
        v = v * 10 + (*s++ - '0');
    if (*s && *s != '/')
        return -1;
    *p = s;
    return v;
}

static char *put_number(char *o, const char *end, long v)
{
    char d[24];
    int k = 0;
    if (v < 0) {
        if (o < end)
            *o++ = '-';
        v = -v;
    }
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 23);
    while (k && o < end)
        *o++ = d[--k];
    return o;
}

static enum pid_text text_of(const char *rest)
{
    if (!strcmp(rest, "status"))
        return TEXT_KEYS;
    if (!strcmp(rest, "stat"))
        return TEXT_STAT;
    if (!strncmp(rest, "fdinfo/", 7)) {
        const char *n = rest + 7;
        return !strcmp(n, "0") || (number_at(&n) >= 0 && !*n) ? TEXT_KEYS : TEXT_NONE;
    }
    return TEXT_NONE;
}

/* The path to give the kernel for `path` (buf: room for a rewritten one) and the kind
 * of text the file prints (kind may be NULL).  /proc/OLD[/task/OLD]/... becomes
 * /proc/NEW[/task/NEW]/...; /proc/self and /proc/thread-self stay. */
static const char *real_path(const char *path, char *buf, size_t size, enum pid_text *kind)
{
    if (kind)
        *kind = TEXT_NONE;
    const char *p = path + 6, *rest;
    long pid = number_at(&p);
    if (pid < 0) {
        if (!strncmp(p, "self", 4) && (p[4] == '/' || !p[4]))
            p += 4;
        else if (!strncmp(p, "thread-self", 11) && (p[11] == '/' || !p[11]))
            p += 11;
        else
            return path;
    }
    long tid = -1;
    rest = p;
    if (!strncmp(rest, "/task/", 6)) {
        const char *t = rest + 6;
        tid = number_at(&t);
        if (tid >= 0)
            rest = t;
    }
    if (kind && *rest == '/') {
        int task = tid >= 0 || !strncmp(path + 6, "thread-self", 11);
        *kind = text_of(rest + 1);
        if (task && !strcmp(rest + 1, "children"))
            *kind = TEXT_LIST;
        else if (task && *kind == TEXT_KEYS && strncmp(rest + 1, "fdinfo/", 7))
            *kind = TEXT_TASK_KEYS;
        else if (task && *kind == TEXT_STAT)
            *kind = TEXT_TASK_STAT;
    }
    long real_pid = pid > 0 ? cr_pid_real((pid_t)pid) : pid;
    long real_tid = tid > 0 ? cr_pid_real((pid_t)tid) : tid;
    if (real_pid == pid && real_tid == tid)
        return path;
    char *o = buf, *end = buf + size - 1;
    memcpy(o, "/proc/", 6);
    o = put_number(o + 6, end, real_pid);
    if (tid >= 0) {
        size_t k = (size_t)(end - o) < 6 ? (size_t)(end - o) : 6;
        memcpy(o, "/task/", k);
        o = put_number(o + k, end, real_tid);
    }
    size_t left = strlen(rest);
    if (left > (size_t)(end - o)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(o, rest, left + 1);
    return buf;
}

/* Whether to look at this path: a table, a path of /proc, a call of the program's */
static int proc_path(const char *path, const void *from)
{
    return map_active() && path && !strncmp(path, "/proc/", 6) && cr_pid_translating(from);
}

/* ---- the texts ---- */

static long to_known_l(long v)
{
    return v > 0 ? cr_pid_known((pid_t)v) : v < -1 ? -(long)cr_pid_known((pid_t)-v) : v;
}

/* copies the number at *s (after blanks) translated to o */
static char *copy_number(const char **s, const char *e, char *o, const char *oe, int translate)
{
    const char *q = *s;
    int neg = q < e && *q == '-';
    const char *d = q + neg;
    long v = 0;
    while (d < e && *d >= '0' && *d <= '9' && v < 100000000)
        v = v * 10 + (*d++ - '0');
    if (d == q + neg) /* not a number: as it is */
        return o;
    *s = d;
    return put_number(o, oe, translate ? to_known_l(neg ? -v : v) : (neg ? -v : v));
}

/* the length of the line's key if it names pids (of the NS ones, the first is the pid
 * in the namespace /proc shows: the program's), else 0 */
static int key_has_pid(const char *line, size_t len, int task)
{
    if (task && ((len > 4 && !strncmp(line, "Pid:", 4)) || (len > 6 && !strncmp(line, "NSpid:", 6))))
        return 0; /* (a thread's tid) */
    static const char *const keys[] = { "Pid:", "PPid:", "TracerPid:", "Tgid:", "Ngid:" };
    static const char *const ns_keys[] = { "NSpid:", "NStgid:", "NSpgid:", "NSsid:" };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (len > strlen(keys[i]) && !strncmp(line, keys[i], strlen(keys[i])))
            return (int)strlen(keys[i]);
    for (size_t i = 0; i < sizeof ns_keys / sizeof *ns_keys; i++)
        if (len > strlen(ns_keys[i]) && !strncmp(line, ns_keys[i], strlen(ns_keys[i])))
            return (int)strlen(ns_keys[i]);
    return 0;
}

/* in (n bytes) translated into out (size): its length */
static size_t translate_text(enum pid_text kind, const char *in, size_t n, char *out, size_t size)
{
    const char *s = in, *e = in + n;
    char *o = out, *oe = out + size;
    int task = kind == TEXT_TASK_KEYS || kind == TEXT_TASK_STAT;
    if (kind == TEXT_KEYS || kind == TEXT_TASK_KEYS) {
        while (s < e) {
            const char *nl = memchr(s, '\n', (size_t)(e - s));
            const char *le = nl ? nl + 1 : e;
            int k = key_has_pid(s, (size_t)(le - s), task);
            if (k) {
                for (int i = 0; i < k && o < oe; i++)
                    *o++ = *s++;
                while (s < le && (*s == '\t' || *s == ' ') && o < oe)
                    *o++ = *s++;
                o = copy_number(&s, le, o, oe, 1);
            }
            while (s < le && o < oe)
                *o++ = *s++;
        }
    } else if (kind == TEXT_STAT || kind == TEXT_TASK_STAT) {
        /* pid (comm) state ppid pgrp session tty_nr tpgid ...: comm may hold anything,
         * the last ')' ends it */
        const char *c = e;
        while (c > s && c[-1] != ')')
            c--;
        if (c == s)
            return (size_t)-1;
        o = copy_number(&s, c, o, oe, !task);
        while (s < c && o < oe)
            *o++ = *s++;
        for (int field = 3; s < e && o < oe; field++) {
            while (s < e && *s == ' ' && o < oe)
                *o++ = *s++;
            int pid_field = field == 4 || field == 5 || field == 6 || field == 8;
            const char *before = s;
            if (pid_field)
                o = copy_number(&s, e, o, oe, 1);
            if (s == before)
                while (s < e && *s != ' ' && o < oe)
                    *o++ = *s++;
        }
    } else { /* TEXT_LIST: pids apart */
        while (s < e && o < oe) {
            if (*s >= '0' && *s <= '9')
                o = copy_number(&s, e, o, oe, 1);
            else
                *o++ = *s++;
        }
    }
    return o < oe ? (size_t)(o - out) : (size_t)-1;
}

/* ---- the fds ---- */

static uint64_t inode_of(int fd)
{
    struct stat st;
    return syscall(SYS_fstat, fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static void note_fd(int fd, enum pid_text kind, uint32_t off)
{
    if (fd < 0 || fd >= CR_PROC_FDS)
        return;
    text_ino[fd] = kind ? inode_of(fd) : 0;
    text_off[fd] = off;
    __atomic_store_n(&text_kind[fd], (uint8_t)kind, __ATOMIC_RELEASE);
}

/* After a restart: the fds of /proc files that print pids, which the program opened
 * before (the restart opened them again, under the new pids), are noted once; an fd
 * noted before keeps its offset. */
static void look_at_fds(void)
{
    uint64_t now = cr_pid_restarts();
    if (__atomic_load_n(&fds_seen_at, __ATOMIC_ACQUIRE) == now)
        return;
    sigset_t all, old;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, sizeof(uint64_t));
    while (__atomic_exchange_n(&fds_lock, 1, __ATOMIC_ACQUIRE))
        syscall(SYS_sched_yield);
    if (fds_seen_at != now) {
        uint8_t open_now[CR_PROC_FDS / 8] = { 0 };
        int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char ents[2048];
        long n;
        while (dir >= 0 && (n = syscall(SYS_getdents64, dir, ents, sizeof ents)) > 0)
            for (long at = 0; at < n;) {
                struct dirent64 *d = (struct dirent64 *)(ents + at);
                at += d->d_reclen;
                const char *name = d->d_name;
                long fd = number_at(&name);
                if (name[0] == '0' && !name[1])
                    fd = 0;
                if (fd < 0 || fd >= CR_PROC_FDS || fd == dir)
                    continue;
                open_now[fd / 8] |= (uint8_t)(1u << (fd % 8));
                /* (a path longer than this names no file that prints pids) */
                char link[256], lpath[32] = "/proc/self/fd/";
                *put_number(lpath + 14, lpath + sizeof lpath - 1, fd) = 0;
                long k = syscall(SYS_readlinkat, AT_FDCWD, lpath, link, sizeof link - 1);
                enum pid_text kind = TEXT_NONE;
                if (k == 21 && !strncmp(link, "anon_inode:[signalfd]", 21))
                    kind = SIGNALFD;
                else if (k > 6 && !strncmp(link, "/proc/", 6)) {
                    link[k] = 0;
                    char unused[8];
                    real_path(link, unused, sizeof unused, &kind);
                }
                if (!kind)
                    note_fd((int)fd, TEXT_NONE, 0);
                else if (text_kind[fd] == kind) /* (noted before: its offset is ours) */
                    text_ino[fd] = inode_of((int)fd);
                else
                    note_fd((int)fd, kind, (uint32_t)syscall(SYS_lseek, fd, 0, SEEK_CUR));
            }
        if (dir >= 0)
            syscall(SYS_close, dir);
        for (int fd = 0; fd < CR_PROC_FDS && dir >= 0; fd++) /* (noted, not open any more) */
            if (text_kind[fd] && !(open_now[fd / 8] >> (fd % 8) & 1))
                note_fd(fd, TEXT_NONE, 0);
        __atomic_store_n(&fds_seen_at, now, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&fds_lock, 0, __ATOMIC_RELEASE);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(uint64_t));
}

/* the kind of text fd prints, if its reads are translated */
static enum pid_text fd_text(int fd, const void *from)
{
    if (!map_active() || fd < 0 || fd >= CR_PROC_FDS || !cr_pid_translating(from))
        return TEXT_NONE;
    look_at_fds();
    enum pid_text kind = __atomic_load_n(&text_kind[fd], __ATOMIC_ACQUIRE);
    if (kind && inode_of(fd) != text_ino[fd]) { /* closed, another file there now */
        note_fd(fd, TEXT_NONE, 0);
        kind = TEXT_NONE;
    }
    return kind;
}

/* The text translated (out: TEXT_MAX + room), its length, or -1 with errno; -2 if it
 * is too large to translate (read as it is). */
static ssize_t text_now(int fd, enum pid_text kind, char *out, size_t size)
{
    char raw[TEXT_MAX];
    ssize_t n;
    do
        n = syscall(SYS_pread64, fd, raw, sizeof raw, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    if ((size_t)n == sizeof raw)
        return -2;
    size_t len = translate_text(kind, raw, (size_t)n, out, size);
    return len == (size_t)-1 ? -2 : (ssize_t)len;
}

/* A read of fd (at `at`, or at the fd's offset when at < 0), translated: 1 and *r if
 * served, 0 to read it from the kernel as it is. */
static int serve_text(int fd, enum pid_text kind, void *buf, size_t n, off_t at, ssize_t *r)
{
    if (!kind || kind == SIGNALFD)
        return 0;
    char text[TEXT_MAX + 256];
    ssize_t len = text_now(fd, kind, text, sizeof text);
    if (len == -2)
        return 0;
    if (len < 0)
        return *r = -1, 1;
    size_t off = at >= 0 ? (size_t)at : text_off[fd];
    size_t k = off < (size_t)len ? (size_t)len - off : 0;
    if (k > n)
        k = n;
    memcpy(buf, text + (off < (size_t)len ? off : 0), k);
    if (at < 0)
        text_off[fd] = (uint32_t)(off + k);
    *r = (ssize_t)k;
    return 1;
}

static int serve(int fd, void *buf, size_t n, off_t at, const void *from, ssize_t *r)
{
    return serve_text(fd, fd_text(fd, from), buf, n, at, r);
}

/* A signalfd's records: each sender as the program knows it. */
static int serve_signalfd(int fd, void *buf, size_t n, ssize_t *r)
{
    *r = syscall(SYS_read, fd, buf, n);
    for (ssize_t at = 0; *r > 0 && at + (ssize_t)sizeof(struct signalfd_siginfo) <= *r;
         at += (ssize_t)sizeof(struct signalfd_siginfo)) {
        struct signalfd_siginfo rec;
        memcpy(&rec, (char *)buf + at, sizeof rec);
        siginfo_t si = { .si_signo = (int)rec.ssi_signo, .si_code = rec.ssi_code };
        si.si_pid = (pid_t)rec.ssi_pid;
        cr_pid_siginfo_known(&si);
        rec.ssi_pid = (uint32_t)si.si_pid;
        memcpy((char *)buf + at, &rec, sizeof rec);
    }
    return 1;
}

int cr_proc_read(int fd, void *buf, size_t n, const void *from, ssize_t *r)
{
    enum pid_text kind = fd_text(fd, from);
    if (kind == SIGNALFD)
        return serve_signalfd(fd, buf, n, r);
    return serve_text(fd, kind, buf, n, -1, r);
}

void cr_proc_closed(int first, int last)
{
    if (!map_active() || first < 0)
        return;
    for (int fd = first; fd <= last && fd < CR_PROC_FDS; fd++)
        if (text_kind[fd])
            __atomic_store_n(&text_kind[fd], TEXT_NONE, __ATOMIC_RELEASE);
}

/* ---- the calls ---- */

#define LIBC(ret, name, params) static ret(*libc_##name) params;
LIBC(int, open, (const char *, int, ...))
LIBC(int, open64, (const char *, int, ...))
LIBC(int, openat, (int, const char *, int, ...))
LIBC(int, openat64, (int, const char *, int, ...))
LIBC(FILE *, fopen, (const char *, const char *))
LIBC(FILE *, fopen64, (const char *, const char *))
LIBC(FILE *, freopen, (const char *, const char *, FILE *))
LIBC(DIR *, opendir, (const char *))
LIBC(ssize_t, readlink, (const char *, char *, size_t))
LIBC(ssize_t, readlinkat, (int, const char *, char *, size_t))
LIBC(int, stat, (const char *, struct stat *))
LIBC(int, lstat, (const char *, struct stat *))
LIBC(int, stat64, (const char *, struct stat64 *))
LIBC(int, lstat64, (const char *, struct stat64 *))
LIBC(int, fstatat, (int, const char *, struct stat *, int))
LIBC(int, fstatat64, (int, const char *, struct stat64 *, int))
LIBC(int, statx, (int, const char *, int, unsigned, struct statx *))
LIBC(int, access, (const char *, int))
LIBC(int, faccessat, (int, const char *, int, int))
LIBC(int, chdir, (const char *))
LIBC(ssize_t, pread, (int, void *, size_t, off_t))
LIBC(ssize_t, pread64, (int, void *, size_t, off64_t))
LIBC(off_t, lseek, (int, off_t, int))
LIBC(off64_t, lseek64, (int, off64_t, int))
LIBC(int, signalfd, (int, const sigset_t *, int))

CR_LOOKUP_CONSTRUCTOR static void find_path_calls(void)
{
#define FIND(name) libc_##name = (__typeof(libc_##name))dlsym(RTLD_NEXT, #name)
    FIND(open); FIND(open64); FIND(openat); FIND(openat64);
    FIND(fopen); FIND(fopen64); FIND(freopen); FIND(opendir);
    FIND(readlink); FIND(readlinkat);
    FIND(stat); FIND(lstat); FIND(stat64); FIND(lstat64); FIND(fstatat); FIND(fstatat64); FIND(statx);
    FIND(access); FIND(faccessat); FIND(chdir);
    FIND(pread); FIND(pread64); FIND(lseek); FIND(lseek64); FIND(signalfd);
#undef FIND
}

/* libc's function: found at start-up, or at once by a call made before (another
 * library's constructor may open a file before the runtime's run) */
#define NEXT(name) (libc_##name ? libc_##name : (libc_##name = (__typeof(libc_##name))dlsym(RTLD_NEXT, #name)))

/* `path` as the kernel must see it (buf: room), or NULL (errno) */
#define REAL_PATH(path, kind)                                                   \
    char buf_[PATH_MAX];                                                        \
    const void *from_ = __builtin_return_address(0);                            \
    if (proc_path(path, from_)) {                                               \
        path = real_path(path, buf_, sizeof buf_, kind);                        \
        if (!path)                                                              \
            return -1;                                                          \
    }

#define MODE_ARG(flags, mode)                                                   \
    mode_t mode = 0;                                                            \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                                    \
        va_list ap_;                                                            \
        va_start(ap_, flags);                                                   \
        mode = va_arg(ap_, mode_t);                                             \
        va_end(ap_);                                                            \
    }

/* an fd opened on a text that prints pids: noted */
static int opened(int fd, enum pid_text kind)
{
    if (fd >= 0 && kind)
        note_fd(fd, kind, 0);
    return fd;
}

API int open(const char *path, int flags, ...)
{
    MODE_ARG(flags, mode)
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(open) ? libc_open(path, flags, mode) : (errno = ENOSYS, -1), kind);
}

API int open64(const char *path, int flags, ...)
{
    MODE_ARG(flags, mode)
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(open64) ? libc_open64(path, flags, mode) : (errno = ENOSYS, -1), kind);
}

API int openat(int dir, const char *path, int flags, ...)
{
    MODE_ARG(flags, mode)
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(openat) ? libc_openat(dir, path, flags, mode) : (errno = ENOSYS, -1), kind);
}

API int openat64(int dir, const char *path, int flags, ...)
{
    MODE_ARG(flags, mode)
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(openat64) ? libc_openat64(dir, path, flags, mode) : (errno = ENOSYS, -1), kind);
}

/* (-D_FORTIFY_SOURCE's, which reach the kernel without open()) */
API int __open_2(const char *path, int flags)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(open) ? libc_open(path, flags) : (errno = ENOSYS, -1), kind);
}

API int __open64_2(const char *path, int flags)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(open64) ? libc_open64(path, flags) : (errno = ENOSYS, -1), kind);
}

API int __openat_2(int dir, const char *path, int flags)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(openat) ? libc_openat(dir, path, flags) : (errno = ENOSYS, -1), kind);
}

API int __openat64_2(int dir, const char *path, int flags)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH(path, &kind)
    return opened(NEXT(openat64) ? libc_openat64(dir, path, flags) : (errno = ENOSYS, -1), kind);
}

/* A stream on a text that prints pids: its reads and seeks come to the runtime (libc's
 * stream reads the kernel itself); fileno() gives its fd, as a file's stream. */
static ssize_t stream_read(void *cookie, char *buf, size_t n)
{
    int fd = (int)(intptr_t)cookie;
    ssize_t r;
    if (serve(fd, buf, n, -1, NULL, &r))
        return r;
    return syscall(SYS_read, fd, buf, n);
}

static int seek_noted(int fd, off64_t off, int whence, const void *from, off64_t *r);

static int stream_seek(void *cookie, off64_t *off, int whence)
{
    int fd = (int)(intptr_t)cookie;
    off64_t r;
    if (!seek_noted(fd, *off, whence, NULL, &r))
        r = syscall(SYS_lseek, fd, *off, whence);
    if (r < 0)
        return -1;
    *off = r;
    return 0;
}

static int stream_close(void *cookie)
{
    return close((int)(intptr_t)cookie);
}

/* only a stream that reads ("r", "re"; not "r+") */
static FILE *stream_of(const char *path, const char *mode, enum pid_text kind)
{
    if (!kind || mode[0] != 'r' || strchr(mode, '+'))
        return NULL;
    int fd = NEXT(open) ? libc_open(path, O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0)) : -1;
    if (fd < 0)
        return (FILE *)-1;
    note_fd(fd, kind, 0);
    cookie_io_functions_t io = { stream_read, NULL, stream_seek, stream_close };
    FILE *f = fopencookie((void *)(intptr_t)fd, mode, io);
    if (!f) {
        int e = errno;
        syscall(SYS_close, fd);
        errno = e;
        return (FILE *)-1;
    }
    f->_fileno = fd; /* (glibc's stream of a cookie has -2: no fd) */
    return f;
}

#define REAL_PATH_OR(path, kind, fail)                                          \
    char buf_[PATH_MAX];                                                        \
    const void *from_ = __builtin_return_address(0);                            \
    if (proc_path(path, from_)) {                                               \
        path = real_path(path, buf_, sizeof buf_, kind);                        \
        if (!path)                                                              \
            return fail;                                                        \
    }

API FILE *fopen(const char *path, const char *mode)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH_OR(path, &kind, NULL)
    FILE *f = kind ? stream_of(path, mode, kind) : NULL;
    if (f)
        return f == (FILE *)-1 ? NULL : f;
    return NEXT(fopen) ? libc_fopen(path, mode) : (errno = ENOSYS, NULL);
}

API FILE *fopen64(const char *path, const char *mode)
{
    enum pid_text kind = TEXT_NONE;
    REAL_PATH_OR(path, &kind, NULL)
    FILE *f = kind ? stream_of(path, mode, kind) : NULL;
    if (f)
        return f == (FILE *)-1 ? NULL : f;
    return NEXT(fopen64) ? libc_fopen64(path, mode) : (errno = ENOSYS, NULL);
}

/* (the stream's own reads: not translated) */
API FILE *freopen(const char *path, const char *mode, FILE *f)
{
    REAL_PATH_OR(path, NULL, NULL)
    return NEXT(freopen) ? libc_freopen(path, mode, f) : (errno = ENOSYS, NULL);
}

API DIR *opendir(const char *path)
{
    REAL_PATH_OR(path, NULL, NULL)
    return NEXT(opendir) ? libc_opendir(path) : (errno = ENOSYS, NULL);
}

/* /proc/self names the process (and /proc/thread-self its thread) by the kernel's
 * numbers: the link read as the program knows them */
static ssize_t link_known(const char *path, char *buf, ssize_t r, size_t size, const void *from)
{
    if (r <= 0 || !proc_path(path, from))
        return r;
    const char *p = path + 6;
    size_t plen = strlen(p);
    while (plen && p[plen - 1] == '/')
        plen--;
    if (!(plen == 4 && !strncmp(p, "self", 4)) && !(plen == 11 && !strncmp(p, "thread-self", 11)))
        return r;
    char in[64], out[64];
    if ((size_t)r >= sizeof in)
        return r;
    memcpy(in, buf, (size_t)r);
    /* (of PID/task/TID, the pid alone: the tid stays the kernel's, as gettid() gives it) */
    const char *slash = memchr(in, '/', (size_t)r);
    size_t head = slash ? (size_t)(slash - in) : (size_t)r;
    size_t len = translate_text(TEXT_LIST, in, head, out, sizeof out);
    if (len != (size_t)-1 && len + ((size_t)r - head) <= sizeof out) {
        memcpy(out + len, in + head, (size_t)r - head);
        len += (size_t)r - head;
    } else
        len = (size_t)-1;
    if (len == (size_t)-1)
        return r;
    if (len > size)
        len = size; /* (cut as the kernel cuts) */
    memcpy(buf, out, len);
    return (ssize_t)len;
}

API ssize_t readlink(const char *path, char *buf, size_t size)
{
    const char *asked = path;
    REAL_PATH(path, NULL)
    ssize_t r = NEXT(readlink) ? libc_readlink(path, buf, size) : (errno = ENOSYS, -1);
    return link_known(asked, buf, r, size, from_);
}

API ssize_t readlinkat(int dir, const char *path, char *buf, size_t size)
{
    const char *asked = path;
    REAL_PATH(path, NULL)
    ssize_t r = NEXT(readlinkat) ? libc_readlinkat(dir, path, buf, size) : (errno = ENOSYS, -1);
    return link_known(asked, buf, r, size, from_);
}

#define PATH_CALL(ret, name, params, args)                                      \
    API ret name params                                                         \
    {                                                                           \
        REAL_PATH(path, NULL)                                                   \
        return libc_##name ? libc_##name args : (errno = ENOSYS, -1);           \
    }

PATH_CALL(int, stat, (const char *path, struct stat *st), (path, st))
PATH_CALL(int, lstat, (const char *path, struct stat *st), (path, st))
PATH_CALL(int, stat64, (const char *path, struct stat64 *st), (path, st))
PATH_CALL(int, lstat64, (const char *path, struct stat64 *st), (path, st))
PATH_CALL(int, fstatat, (int dir, const char *path, struct stat *st, int flags), (dir, path, st, flags))
PATH_CALL(int, fstatat64, (int dir, const char *path, struct stat64 *st, int flags), (dir, path, st, flags))
PATH_CALL(int, statx, (int dir, const char *path, int flags, unsigned mask, struct statx *st),
          (dir, path, flags, mask, st))
PATH_CALL(int, access, (const char *path, int mode), (path, mode))
PATH_CALL(int, faccessat, (int dir, const char *path, int mode, int flags), (dir, path, mode, flags))
PATH_CALL(int, chdir, (const char *path), (path))

/* ---- the reads of a noted fd ---- */

API ssize_t pread(int fd, void *buf, size_t n, off_t at)
{
    ssize_t r;
    if (__builtin_expect(map_active(), 0) && at >= 0 && serve(fd, buf, n, at, __builtin_return_address(0), &r))
        return r;
    return NEXT(pread) ? libc_pread(fd, buf, n, at) : syscall(SYS_pread64, fd, buf, n, at);
}

API ssize_t pread64(int fd, void *buf, size_t n, off64_t at)
{
    ssize_t r;
    if (__builtin_expect(map_active(), 0) && at >= 0 && serve(fd, buf, n, at, __builtin_return_address(0), &r))
        return r;
    return NEXT(pread64) ? libc_pread64(fd, buf, n, at) : syscall(SYS_pread64, fd, buf, n, at);
}

API ssize_t __pread_chk(int fd, void *buf, size_t n, off_t at, size_t buflen)
{
    if (n > buflen)
        __builtin_trap();
    return pread(fd, buf, n, at);
}

API ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t at, size_t buflen)
{
    if (n > buflen)
        __builtin_trap();
    return pread64(fd, buf, n, at);
}

/* the offset the runtime keeps for a noted fd (the kernel's stays 0) */
static int seek_noted(int fd, off64_t off, int whence, const void *from, off64_t *r)
{
    enum pid_text kind = fd_text(fd, from);
    if (!kind || kind == SIGNALFD)
        return 0;
    off64_t base = 0;
    if (whence == SEEK_CUR)
        base = text_off[fd];
    else if (whence == SEEK_END) {
        char text[TEXT_MAX + 256];
        ssize_t len = text_now(fd, kind, text, sizeof text);
        if (len == -2)
            return 0;
        if (len < 0)
            return *r = -1, 1;
        base = len;
    } else if (whence != SEEK_SET)
        return 0;
    if (base + off < 0 || base + off > UINT32_MAX) {
        errno = EINVAL;
        return *r = -1, 1;
    }
    text_off[fd] = (uint32_t)(base + off);
    *r = base + off;
    return 1;
}

API off_t lseek(int fd, off_t off, int whence)
{
    off64_t r;
    if (__builtin_expect(map_active(), 0) && seek_noted(fd, off, whence, __builtin_return_address(0), &r))
        return (off_t)r;
    return NEXT(lseek) ? libc_lseek(fd, off, whence) : (off_t)syscall(SYS_lseek, fd, off, whence);
}

API off64_t lseek64(int fd, off64_t off, int whence)
{
    off64_t r;
    if (__builtin_expect(map_active(), 0) && seek_noted(fd, off, whence, __builtin_return_address(0), &r))
        return r;
    return NEXT(lseek64) ? libc_lseek64(fd, off, whence) : (off64_t)syscall(SYS_lseek, fd, off, whence);
}

/* a new signalfd, once a table exists (one of before is found at the restart) */
API int signalfd(int fd, const sigset_t *mask, int flags)
{
    int r = NEXT(signalfd) ? libc_signalfd(fd, mask, flags) : (errno = ENOSYS, -1);
    if (r >= 0 && fd == -1 && map_active())
        note_fd(r, SIGNALFD, 0);
    return r;
}
