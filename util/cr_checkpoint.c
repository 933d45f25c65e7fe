/* cr_checkpoint: checkpoint a process running under cr_run to a context file. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "context_format.h"
#include "context_reader.h"
#include "control.h"
#include "safe_path.h"
#include "request_client.h"
#include "tree_request.h"
#include "progress.h"
#include "ptrace_dump.h"
#include "stopped_hold.h"

enum replace { ATOMIC, BACKUP, CLOBBER, NOCLOBBER };

static int quiet, verbose;

static void usage(FILE *out)
{
    fprintf(out,
"Usage: cr_checkpoint [OPTIONS] PID\n"
"       cr_checkpoint --merge IMAGE -f FILE\n"
"Checkpoint the process PID (started with cr_run; any with --backend=kmod) to a\n"
"context file; or write the incremental IMAGE and its chain of parents as one\n"
"full FILE (after which the chain may be deleted).\n\n"
"Backend:\n"
"      --backend=NAME  'user' (default): the runtime cr_run preloaded does it;\n"
"                      'kmod': from outside through ptrace, for processes that were\n"
"                      not started under cr_run (any scope; no compression); one\n"
"                      with the runtime still goes through it; 'auto': the runtime\n"
"                      when there is one, else ptrace (environment: CR_BACKEND)\n"
"Scope:\n"
"  -T, --tree          the process and its descendants (default)\n"
"  -p, --pid, --process  the process alone\n"
"  -g, --pgid, --group   its process group   -s, --sid, --session   its session\n"
"Destination:\n"
"  -f, --file=FILE     write to FILE (default: context.PID in the current directory)\n"
"  -d, --dir=DIR       write DIR/context.PID, creating the directory DIR if needed\n"
"  -F, --fd=FD         write to the already open file descriptor FD\n"
"  -c, --cwd           write context.PID in the current directory (the default)\n"
"Replacing an existing FILE:\n"
"      --atomic        write FILE.tmp, then rename it over FILE (default)\n"
"      --backup[=NAME] as --atomic, keeping the old FILE as NAME (default: the\n"
"                      first free FILE.~1~, FILE.~2~, ...)\n"
"      --clobber       overwrite FILE in place\n"
"      --noclobber     fail if FILE exists\n"
"After the checkpoint:\n"
"      --run           let the process continue (default)\n"
"      --stop          stop it (SIGSTOP)       --cont   send it SIGCONT\n"
"      --term          terminate it (SIGTERM)  --kill   kill it (SIGKILL)\n"
"      --abort         send it SIGABRT\n"
"  -S, --signal=SIG    send it signal SIG (number or name)\n"
"      --early-stop    stop it (SIGSTOP) and --early-abrt abort it (SIGABRT) without\n"
"                      letting it run on while the file is written (as --no-cow)\n"
"File system:\n"
"      --sync          flush the file to disk before it takes its name (default)\n"
"      --nosync        do not: faster, but a crash of the machine may lose it\n"
"Saving files whole (so that restart does not need them; the mappings come back as\n"
"anonymous memory):\n"
"      --save-exe      the executable      --save-private  every private file mapping\n"
"      --save-shared   shared file mappings  --save-all    all three\n"
"      --save-none     none of them (default)\n"
"Other:\n"
"      --sockets=POLICY  a connection that leads outside the process cannot be\n"
"                      saved: 'dead' (default) restores it as a reset connection on\n"
"                      the same fd; 'delay' waits (within -t) until the process has\n"
"                      closed such connections, new sockets waiting meanwhile;\n"
"                      'refuse' fails the checkpoint naming it (environment: CR_SOCKETS)\n"
"      --pipes=POLICY  a pipe or terminal that leads outside the process and is not\n"
"                      its stdin, stdout or stderr (one it inherited on fd 251, a\n"
"                      make jobserver): 'disconnect' (default) restores it as the same\n"
"                      kind of end whose other side is closed (a reader sees end of\n"
"                      file, a writer EPIPE, a terminal is hung up); 'refuse' fails the\n"
"                      checkpoint naming it (environment: CR_PIPES)\n"
"      --compress[=LEVEL]  compress the memory with zstd at LEVEL (1-22, default 1,\n"
"                      0 or 'no': not at all), on as many threads as there are CPUs;\n"
"                      a block that does not shrink by an eighth is stored as it is,\n"
"                      so random data costs almost nothing more (environment:\n"
"                      CR_COMPRESS=LEVEL; needs a file, not a pipe, as destination)\n"
"      --no-compress   do not compress, whatever CR_COMPRESS says\n"
"      --incremental   store only the memory written since the previous checkpoint of\n"
"                      the process that was asked --incremental too, naming that file\n"
"                      as its parent (it must stay, in the same directory, for a\n"
"                      restart); the first one, and one where the kernel cannot tell\n"
"                      (before Linux 6.7), is full and says why.  Each checkpoint\n"
"                      must go to a new name.  Environment: CR_INCREMENTAL=yes\n"
"      --full          a full checkpoint, whatever CR_INCREMENTAL says\n"
"      --no-cow        keep the process stopped until the file is written (by\n"
"                      default a process that goes on resumes as soon as a\n"
"                      copy-on-write snapshot of it is taken)\n"
"      --no-precopy    do not pre-copy: by default the memory of a process that\n"
"                      goes on (and has 64 MiB or more of it) is written while it\n"
"                      runs, the process stopped only for what changed since; -v\n"
"                      says why a checkpoint was not.  Environment: CR_PRECOPY=no\n"
"      --no-verify     do not read the new file back before it replaces the old one\n"
"                      (by default every record and memory block is checked first)\n"
"  -t, --time=SEC      give up if the process has not stopped within SEC seconds\n"
"                      (default 10; 0: wait as long as it takes, up to a day); the\n"
"                      process is not harmed\n"
"      --ptraced-error a process being traced (debugger, strace) fails the checkpoint\n"
"                      with CR_EPTRACED (default); --ptraced-skip leaves it (and its\n"
"                      descendants) out; --ptraced-allow checkpoints it (its tracer\n"
"                      must pass the checkpoint's signal on)\n"
"      --ptracer-error a process tracing others fails it with CR_EPTRACER (default);\n"
"                      --ptracer-skip leaves it (and its descendants) out\n"
"      --kmsg-error    on failure, say why (default); --kmsg-warning also warn on\n"
"                      success (fds that lead outside: see -v); --kmsg-none: neither\n"
"  -q, --quiet         print no error messages\n"
"  -v, --verbose       say what was written\n"
"  -h, -?, --help      show this help       -V, --version   show the version\n\n"
"The exit status is 0, or the errno of the failure (e.g. 3 = ESRCH, 1 = EPERM).\n");
}

#define fail(code, ...) fail_(code, __VA_ARGS__)
static int fail_(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_(int code, const char *fmt, ...)
{
    if (!quiet) {
        va_list ap;
        va_start(ap, fmt);
        fputs("cr_checkpoint: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    return code & 0xff ? code & 0xff : 1;
}

static int parse_signal(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end)
        return v > 0 && v < 65 ? (int)v : -1;
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (int i = 1; i < 65; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev && !strcasecmp(abbrev, s))
            return i;
    }
    return -1;
}

/* A stopped job's first process is frozen: its program's threads let go (tree_request.h) */
static void release_held_program(void *hold)
{
    hold_release_program(hold);
}

/* Whether a thread of pid has a child. */
static int has_children(pid_t pid)
{
    char path[64], buf[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    struct dirent *e;
    int found = 0;
    while (dir && !found && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/children", (int)pid, e->d_name);
        FILE *f = fopen(path, "re");
        if (f) {
            found = fgets(buf, sizeof buf, f) && buf[0] >= '0' && buf[0] <= '9';
            fclose(f);
        }
    }
    if (dir)
        closedir(dir);
    return found;
}

static long proc_uid(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    long uid = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4)) {
            uid = strtol(line + 4, NULL, 10);
            break;
        }
    fclose(f);
    return uid;
}

static void fsync_dir(int dir)
{
    int d = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
}

/* The memory a process holds (VmRSS): about what its image will take. */
static uint64_t resident(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    uint64_t kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtoull(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib * 1024;
}

static int64_t written(void *arg)
{
    struct stat st;
    return fstat(*(int *)arg, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

/* --clobber: the existing file itself, truncated; as root never through a link or to
 * a file with other names (a user's hard link to a file of someone else). */
static int open_clobber(int dir, const char *base, int strict)
{
    int fd = openat(dir, base, O_WRONLY | O_CREAT | O_CLOEXEC | (strict ? O_NOFOLLOW : 0), 0600);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (strict && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)) {
        close(fd);
        return -EPERM;
    }
    if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* Whether base in dir holds a checkpoint of process pid (what --incremental could
 * take as the parent of the new one: writing over it would break the chain). */
static int earlier_of(int dir, const char *base, pid_t pid)
{
    int fd = openat(dir, base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return 0;
    char self[64], err[600];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    struct ctx_tree t;
    int found = 0;
    if (ctx_tree_open(self, &t, err, sizeof err) == 0) {
        found = t.n == 1 && t.images[0].proc && t.images[0].proc->pid == pid;
        ctx_tree_close(&t);
    }
    close(fd);
    return found;
}

/* A new incremental image's chain: each image there, the very one it was made from,
 * and none of them the file it is about to replace. */
static int check_chain(struct ctx_image *img, const char *file, int dir, const char *base,
                       char *err, size_t len)
{
    char sub[800];
    /* every image of the chain there and the one it was made from; their memory was
     * checked when each was written, and is again at restart (reading it all here would
     * cost what the incremental checkpoint saves) */
    int rc = ctx_chain_open(img, file, sub, sizeof sub);
    if (rc < 0) {
        snprintf(err, len, "its chain of parents: %.700s", sub);
        return rc;
    }
    struct stat dst, st;
    if (fstatat(dir, base, &dst, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    for (uint32_t k = 0; k < img->chain->n; k++)
        if (fstat(img->chain->images[k].fd, &st) == 0 && st.st_dev == dst.st_dev &&
            st.st_ino == dst.st_ino) {
            snprintf(err, len, "%.300s is the image %s it takes unchanged memory from: writing over "
                     "it would break the chain; write to another name, or take a full "
                     "checkpoint (--full)", file, k ? "one of its parents" : "its parent");
            return -EEXIST;
        }
    return 0;
}

static void say_chain(const struct ctx_image *img)
{
    unsigned long long own = 0, parent = 0;
    for (uint32_t i = 0; i < img->hdr.nblocks; i++)
        if (!(img->blocks[i].vma & CTX_BLOCK_FILE))
            own += img->blocks[i].npages;
    for (uint32_t i = 0; i < img->nruns; i++)
        parent += img->runs[i].npages;
    fprintf(stderr, "cr_checkpoint: incremental: %llu pages written since %s, %llu pages taken "
            "from it (%u images in the chain)\n", own, img->chain->paths[0], parent,
            img->chain->n + 1);
}

/* --merge: IMAGE and its chain written as one full image to FILE (through FILE.tmp,
 * renamed once complete and read back); FILE may be IMAGE itself, not one of its
 * parents (a later image of the chain would lose it). */
static int merge_chain(const char *image, const char *file, int sync)
{
    struct ctx_image img;
    char err[1200], sub[900];
    int rc = ctx_open(image, &img, sub, sizeof sub);
    if (rc < 0)
        return fail(-rc, "--merge %s: %s", image, sub);
    rc = ctx_chain_open(&img, image, sub, sizeof sub);
    if (rc < 0) {
        ctx_close(&img);
        return fail(-rc, "--merge %s: %s", image, sub);
    }
    struct stat dst, st, own;
    /* (as cr_restart: the parents' paths are the image's contents, and root merging a
     * user's image must not read another user's memory into it) */
    for (uint32_t k = 0; img.chain && fstat(img.fd, &own) == 0 && k < img.chain->n; k++)
        if (fstat(img.chain->images[k].fd, &st) < 0 || st.st_uid != own.st_uid ||
            (st.st_mode & 022)) {
            snprintf(err, sizeof err, "--merge %s: the parent image %s belongs to uid %u, or "
                     "others may write it: an image takes memory only from its owner's own images",
                     image, img.chain->paths[k], (unsigned)st.st_uid);
            ctx_close(&img);
            return fail(EPERM, "%s", err);
        }
    for (uint32_t k = 0; img.chain && stat(file, &dst) == 0 && k < img.chain->n; k++)
        if (fstat(img.chain->images[k].fd, &st) == 0 && st.st_dev == dst.st_dev &&
            st.st_ino == dst.st_ino) {
            ctx_close(&img);
            return fail(EEXIST, "--merge: %s is one of the parents of %s: write the merged image "
                        "to another name (or over %s itself)", file, image, image);
        }
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        ctx_close(&img);
        return fail(e, "--merge: cannot create %s: %s", tmp, strerror(e));
    }
    uint64_t bytes = 0;
    sub[0] = 0;
    rc = ctx_merge(&img, fd, &bytes, sub, sizeof sub);
    ctx_close(&img);
    if (rc == 0 && sync && fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
        rc = -errno;
        snprintf(sub, sizeof sub, "cannot flush %.400s: %s", tmp, strerror(errno));
    }
    close(fd);
    struct ctx_image check;
    if (rc == 0) { /* what takes the name must read back */
        rc = ctx_open(tmp, &check, err, sizeof err);
        if (rc == 0)
            rc = ctx_verify_data(&check, err, sizeof err);
        if (rc == 0)
            ctx_close(&check);
        if (rc < 0)
            snprintf(sub, sizeof sub, "the merged image does not read back: %.800s", err);
    }
    if (rc == 0 && rename(tmp, file) < 0) {
        rc = -errno;
        snprintf(sub, sizeof sub, "cannot rename %.400s to %.400s: %s", tmp, file, strerror(errno));
    }
    if (rc < 0) {
        unlink(tmp);
        return fail(-rc, "--merge %s: %s", image, sub);
    }
    if (verbose)
        fprintf(stderr, "cr_checkpoint: %s and its chain merged into %s (%llu bytes)\n", image,
                file, (unsigned long long)bytes);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "tree", no_argument, NULL, 'T' },     { "pid", no_argument, NULL, 'p' },
        { "pgid", no_argument, NULL, 'g' },     { "sid", no_argument, NULL, 's' },
        { "process", no_argument, NULL, 'p' },  { "group", no_argument, NULL, 'g' },
        { "session", no_argument, NULL, 's' },  { "dir", required_argument, NULL, 'd' },
        { "abort", no_argument, NULL, 19 },     { "early-stop", no_argument, NULL, 20 },
        { "early-abrt", no_argument, NULL, 21 }, { "sync", no_argument, NULL, 22 },
        { "nosync", no_argument, NULL, 23 },    { "ptraced-error", no_argument, NULL, 24 },
        { "ptraced-skip", no_argument, NULL, 25 }, { "ptraced-allow", no_argument, NULL, 26 },
        { "ptracer-error", no_argument, NULL, 27 }, { "ptracer-skip", no_argument, NULL, 28 },
        { "kmsg-none", no_argument, NULL, 29 }, { "kmsg-error", no_argument, NULL, 30 },
        { "kmsg-warning", no_argument, NULL, 31 },
        { "file", required_argument, NULL, 'f' }, { "fd", required_argument, NULL, 'F' },
        { "cwd", no_argument, NULL, 'c' },      { "atomic", no_argument, NULL, 1 },
        { "backup", optional_argument, NULL, 2 }, { "clobber", no_argument, NULL, 3 },
        { "noclobber", no_argument, NULL, 4 },  { "run", no_argument, NULL, 5 },
        { "stop", no_argument, NULL, 6 },       { "term", no_argument, NULL, 7 },
        { "kill", no_argument, NULL, 8 },       { "cont", no_argument, NULL, 9 },
        { "signal", required_argument, NULL, 'S' }, { "time", required_argument, NULL, 't' },
        { "quiet", no_argument, NULL, 'q' },    { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },     { "version", no_argument, NULL, 'V' },
        { "no-cow", no_argument, NULL, 10 },   { "sockets", required_argument, NULL, 11 },
        { "pipes", required_argument, NULL, 18 },
        { "no-verify", no_argument, NULL, 17 },
        { "save-exe", no_argument, NULL, 12 }, { "save-private", no_argument, NULL, 13 },
        { "save-shared", no_argument, NULL, 14 }, { "save-all", no_argument, NULL, 15 },
        { "save-none", no_argument, NULL, 16 },
        { "compress", optional_argument, NULL, 32 }, { "no-compress", no_argument, NULL, 33 },
        { "backend", required_argument, NULL, 37 },
        { "incremental", no_argument, NULL, 34 }, { "full", no_argument, NULL, 35 },
        { "merge", required_argument, NULL, 36 }, { "no-precopy", no_argument, NULL, 38 },
        { NULL, 0, NULL, 0 }
    };
    int scope = CTX_SCOPE_TREE, in_cwd = 0, fd = -1, sig = 0, no_cow = 0, verify = 1, sync = 1;
    int early = 0, warnings = 0; /* --kmsg-warning: 1, --kmsg-none: -1 */
    unsigned ptrace_flags = 0;
    const char *dirarg = NULL;
    const char *sockets = getenv("CR_SOCKETS"), *pipes = getenv("CR_PIPES");
    const char *compress = getenv("CR_COMPRESS"), *compress_from = "CR_COMPRESS=";
    int no_compress = 0;
    const char *backend = getenv("CR_BACKEND"), *backend_from = "CR_BACKEND=";
    const char *incr_env = getenv("CR_INCREMENTAL");
    int incremental = -1; /* -1: as CR_INCREMENTAL says */
    const char *precopy_env = getenv("CR_PRECOPY");
    int no_precopy = 0;
    const char *merge = NULL;
    unsigned save = 0;
    enum replace mode = ATOMIC;
    const char *file = NULL, *backup = NULL;
    double timeout = 10;
    int c;
    opterr = 0; /* -? asks for help (as BLCR's); other unknown options are named below */
    while ((c = getopt_long(argc, argv, "TpgsF:f:d:cS:t:qvhV", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'T': scope = CTX_SCOPE_TREE; break;
        case 'p': scope = CTX_SCOPE_PROC; break;
        case 'g': scope = CTX_SCOPE_PGRP; break;
        case 's': scope = CTX_SCOPE_SESS; break;
        case 'f': file = optarg; break;
        case 'd': dirarg = optarg; break;
        case 'F':
            fd = (int)strtol(optarg, &end, 10);
            if (*end || fd < 0 || fcntl(fd, F_GETFL) < 0)
                return fail(EBADF, "-F %s: not an open file descriptor", optarg);
            break;
        case 'c': in_cwd = 1; break;
        case 1: mode = ATOMIC; break;
        case 2: mode = BACKUP; backup = optarg; break;
        case 3: mode = CLOBBER; break;
        case 4: mode = NOCLOBBER; break;
        case 5: sig = 0; early = 0; break;
        case 6: sig = SIGSTOP; early = 0; break;
        case 7: sig = SIGTERM; early = 0; break;
        case 8: sig = SIGKILL; early = 0; break;
        case 9: sig = SIGCONT; early = 0; break;
        case 19: sig = SIGABRT; early = 0; break;
        case 20: sig = SIGSTOP; early = 1; break;
        case 21: sig = SIGABRT; early = 1; break;
        case 22: sync = 1; break;
        case 23: sync = 0; break;
        case 24: ptrace_flags &= ~(unsigned)(CR_REQ_PTRACED_SKIP | CR_REQ_PTRACED_ALLOW); break;
        case 25: ptrace_flags = (ptrace_flags & ~(unsigned)CR_REQ_PTRACED_ALLOW) | CR_REQ_PTRACED_SKIP; break;
        case 26: ptrace_flags = (ptrace_flags & ~(unsigned)CR_REQ_PTRACED_SKIP) | CR_REQ_PTRACED_ALLOW; break;
        case 27: ptrace_flags &= ~(unsigned)CR_REQ_PTRACER_SKIP; break;
        case 28: ptrace_flags |= CR_REQ_PTRACER_SKIP; break;
        case 29: warnings = -1; break;
        case 30: warnings = 0; break;
        case 31: warnings = 1; break;
        case 'S':
            if ((sig = parse_signal(optarg)) < 0)
                return fail(EINVAL, "-S %s: not a signal", optarg);
            early = 0;
            break;
        case 't':
            timeout = strtod(optarg, &end);
            if (*end || timeout < 0 || timeout > 86400)
                return fail(EINVAL, "-t %s: want a number of seconds", optarg);
            if (timeout == 0) /* BLCR's "no limit" */
                timeout = 86400;
            break;
        case 10: no_cow = 1; break;
        case 17: verify = 0; break;
        case 11: sockets = optarg; break;
        case 18: pipes = optarg; break;
        case 12: save |= CR_CTL_SAVE_EXE; break;
        case 13: save |= CR_CTL_SAVE_PRIVATE; break;
        case 14: save |= CR_CTL_SAVE_SHARED; break;
        case 15: save = CR_CTL_SAVE_EXE | CR_CTL_SAVE_PRIVATE | CR_CTL_SAVE_SHARED; break;
        case 16: save = 0; break;
        case 32: compress = optarg ? optarg : "yes"; compress_from = "--compress="; no_compress = 0; break;
        case 33: no_compress = 1; break;
        case 37: backend = optarg; backend_from = "--backend="; break;
        case 34: incremental = 1; break;
        case 35: incremental = 0; break;
        case 38: no_precopy = 1; break;
        case 36: merge = optarg; break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("cr_checkpoint (slurm-cr) %s\n", PACKAGE_VERSION); return 0;
        case '?':
            if (optopt == '?') {
                usage(stdout);
                return 0;
            }
            /* fall through */
        default:
            if (optopt)
                return fail(EINVAL, "unknown option or missing argument: -%c (see cr_checkpoint --help)", optopt);
            return fail(EINVAL, "unknown option or missing argument: %s (see cr_checkpoint --help)",
                        argv[optind - 1]);
        }
    }
    if (merge) {
        if (optind != argc || !file)
            return fail(EINVAL, "--merge IMAGE wants -f FILE and no PID (see cr_checkpoint --help)");
        return merge_chain(merge, file, sync);
    }
    if (optind != argc - 1)
        return fail(EINVAL, "want exactly one PID (see cr_checkpoint --help)");
    if ((file != NULL) + (dirarg != NULL) + (fd >= 0) + in_cwd > 1)
        return fail(EINVAL, "conflicting destinations: give one of -f, -d, -F and -c");
    unsigned flags = save | ptrace_flags | (sync ? 0 : CR_CTL_NOSYNC);
    if (early)
        no_cow = 1; /* the process does not run on before the signal */
    if (sockets && !strcmp(sockets, "refuse"))
        flags |= CR_CTL_SOCKETS_REFUSE;
    else if (sockets && !strcmp(sockets, "delay"))
        flags |= CR_CTL_SOCKETS_DELAY;
    else if (sockets && *sockets && strcmp(sockets, "dead"))
        return fail(EINVAL, "--sockets=%s: want dead, delay or refuse", sockets);
    if (pipes && !strcmp(pipes, "refuse"))
        flags |= CR_CTL_PIPES_REFUSE;
    else if (pipes && *pipes && strcmp(pipes, "disconnect"))
        return fail(EINVAL, "--pipes=%s: want disconnect or refuse", pipes);
    unsigned zflags = 0;
    if (!no_compress && compress && cr_compress_flags(compress, &zflags) < 0)
        return fail(EINVAL, "%s%s: want a zstd level from 1 to %d, or 0/no/off", compress_from,
                    compress, CR_CTL_COMPRESS_MAX);
    flags |= zflags;
    if (incremental < 0 && incr_env && *incr_env) {
        if (!strcmp(incr_env, "yes") || !strcmp(incr_env, "1") || !strcmp(incr_env, "on"))
            incremental = 1;
        else if (!strcmp(incr_env, "no") || !strcmp(incr_env, "0") || !strcmp(incr_env, "off"))
            incremental = 0;
        else
            return fail(EINVAL, "CR_INCREMENTAL=%s: want yes or no", incr_env);
    }
    if (incremental > 0)
        flags |= CR_CTL_INCREMENTAL;
    if (!no_precopy && precopy_env && *precopy_env) {
        if (!strcmp(precopy_env, "no") || !strcmp(precopy_env, "0") || !strcmp(precopy_env, "off"))
            no_precopy = 1;
        else if (!strcmp(precopy_env, "always"))
            flags |= CR_CTL_PRECOPY_ANY_SIZE; /* (however little memory: tests) */
        else if (strcmp(precopy_env, "yes") && strcmp(precopy_env, "1") && strcmp(precopy_env, "on") &&
                 strcmp(precopy_env, "auto"))
            return fail(EINVAL, "CR_PRECOPY=%s: want yes, no or always", precopy_env);
    }
    if (no_precopy)
        flags |= CR_REQ_NO_PRECOPY;
    char *end;
    long lpid = strtol(argv[optind], &end, 10);
    if (*end || lpid <= 0 || lpid > INT_MAX)
        return fail(EINVAL, "'%s' is not a process id", argv[optind]);
    pid_t asked = (pid_t)lpid, pid = crq_restored_by(asked); /* cr_restart's: what it restored */

    long uid = proc_uid(pid);
    if (uid < 0)
        return fail(ESRCH, "no process %d", (int)pid);
    /* the ptrace backend: for a process without the runtime (one with it goes through
     * its runtime, whose callbacks must run) */
    int by_ptrace = 0;
    if (backend && *backend && strcmp(backend, "user")) {
        if (strcmp(backend, "kmod") && strcmp(backend, "auto"))
            return fail(EINVAL, "%s%s: want user, kmod or auto", backend_from, backend);
        struct sockaddr_un runtime_addr;
        by_ptrace = cr_ctl_find_address(pid, &runtime_addr, 0) < 0;
        if (by_ptrace && (flags & CR_CTL_COMPRESS_MASK))
            return fail(ENOTSUP, "--backend=kmod writes uncompressed images: drop --compress "
                        "(or CR_COMPRESS)");
        if (by_ptrace && (flags & CR_CTL_SOCKETS_DELAY))
            return fail(ENOTSUP, "--sockets=delay needs the runtime: not with --backend=kmod");
        if (by_ptrace && fd >= 0 && lseek(fd, 0, SEEK_CUR) < 0)
            return fail(ESPIPE, "--backend=kmod writes to a file, not to a pipe");
    }
    if (!by_ptrace && getuid() != 0 && uid != (long)getuid())
        return fail(EPERM, "process %d belongs to uid %ld: only its owner or root may "
                    "checkpoint it", (int)pid, uid);
    if (by_ptrace && crq_proc_state(pid) == 'T')
        return fail(EBUSY, "process %d is stopped: checked through ptrace it would be let run; "
                    "continue it (kill -CONT %d) and checkpoint it then (--stop stops it again)",
                    (int)pid, (int)pid);
    /* stopped by job control: held through ptrace while its runtime saves it, it stays
     * stopped for its parent (stopped_hold.c); alone (it cannot have made children since
     * it stopped), or as the first process of its tree (a shell's stopped job: its
     * stopped children, whose parent is then frozen, are continued for their own
     * checkpoints and stop again, tree_request.c) */
    int hold_stopped = 0, hold_tree = 0;
    if (!by_ptrace && crq_proc_state(pid) == 'T') {
        if (scope != CTX_SCOPE_PROC && scope != CTX_SCOPE_TREE)
            return fail(EBUSY, "process %d is stopped and a process group or session was asked: "
                        "its runtime cannot act until it runs: continue it (kill -CONT %d) and "
                        "checkpoint it then (--stop stops it again), or checkpoint its tree "
                        "(--tree) or it alone (-p)", (int)pid, (int)pid);
        if (scope == CTX_SCOPE_TREE && has_children(pid))
            hold_tree = 1;
        else
            hold_stopped = 1, scope = CTX_SCOPE_PROC;
        if (sig == SIGSTOP)
            sig = 0; /* it stays stopped: a new SIGSTOP would tell its parent again */
    }
    if (crq_proc_state(pid) == 't')
        return fail(EBUSY, "process %d is stopped by its tracer (a debugger or strace); its "
                    "runtime cannot act until the tracer lets it run: detach the tracer first",
                    (int)pid);

    /* the destination */
    char defname[PATH_MAX + 32], tmpname[PATH_MAX + 40], backname[PATH_MAX + 40];
    char base[NAME_MAX + 1], tmpbase[NAME_MAX + 8], backbase[NAME_MAX + 16];
    int own_fd = fd < 0, dir = -1, unnamed = 0;
    const char *writing = NULL, *writing_base = base;
    if (own_fd) {
        if (dirarg) { /* --dir: context.PID in it, made if need be (never through a link) */
            char perr[PATH_MAX + 200], leaf[NAME_MAX + 1];
            int parent = cr_open_parent(dirarg, geteuid() == 0, leaf, sizeof leaf, perr, sizeof perr);
            if (parent < 0)
                return fail(-parent, "--dir: %s", perr);
            struct stat st;
            if (mkdirat(parent, leaf, 0700) < 0 && errno != EEXIST)
                return fail(errno, "cannot create the directory %s: %s", dirarg, strerror(errno));
            if (fstatat(parent, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return fail(ENOTDIR, "--dir %s: not a directory", dirarg);
            close(parent);
            snprintf(defname, sizeof defname, "%s/context.%d", dirarg, (int)asked);
            file = defname;
        }
        if (!file) { /* (--cwd, BLCR's name of the default) */
            snprintf(defname, sizeof defname, "context.%d", (int)asked);
            file = defname;
        }
        /* everything from here is relative to the directory: as root, found without
         * following another user's links (safe_path.h) */
        char perr[PATH_MAX + 200];
        dir = cr_open_parent(file, geteuid() == 0, base, sizeof base, perr, sizeof perr);
        if (dir < 0)
            return fail(-dir, "%s", perr);
        struct stat st;
        if (incremental > 0 && earlier_of(dir, base, pid))
            return fail(EEXIST, "%s holds an earlier checkpoint of process %d, which an incremental "
                        "checkpoint may take its unchanged memory from: write each one under a "
                        "name of its own (-f %s.2, ...), or leave out --incremental", file,
                        (int)pid, file);
        if (mode == NOCLOBBER && fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return fail(EEXIST, "%s exists (--noclobber)", file);
        if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
            return fail(EISDIR, "%s is a directory: name a file in it (-f %s/context.%d), or "
                        "write there with --dir %s", file, file, (int)asked, file);
        if (mode == CLOBBER) {
            writing = file;
            fd = open_clobber(dir, base, geteuid() == 0);
            if (fd == -EPERM || fd == -ELOOP)
                return fail(-fd, "%s is a link or has other names (hard links); as root, "
                            "--clobber writes only a plain file of its own", file);
            if (fd < 0)
                errno = -fd;
        } else {
            snprintf(tmpname, sizeof tmpname, "%s.tmp", file);
            snprintf(tmpbase, sizeof tmpbase, "%s.tmp", base);
            writing = tmpname;
            writing_base = tmpbase;
            /* a file without a name until it is complete: whatever happens to us, no
             * partial FILE.tmp is left (it gets its name only at the end) */
            fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
            unnamed = fd >= 0;
            if (!unnamed) { /* a filesystem without O_TMPFILE (NFS, ...) */
                if (unlinkat(dir, tmpbase, 0) < 0 && errno != ENOENT)
                    return fail(errno, "cannot remove the stale %s: %s", tmpname, strerror(errno));
                fd = openat(dir, tmpbase, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            }
        }
        if (fd < 0)
            return fail(errno, "cannot create %s: %s", writing, strerror(errno));
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned cflags = flags | (!no_cow && (sig == 0 || sig == SIGCONT) ? CR_CTL_CONTINUE : 0);
    /* several processes go into one tree file; one alone into a file of its own */
    struct crtree tree = { 0 };
    int nlive = 1, rc;
    struct crq q;
    /* a tree without the runtime: held and written from outside, each process by the
     * ptrace dumper, the tree's relations by the tree's own code */
    static const struct crtree_ptrace held = { cr_ptrace_seize, cr_ptrace_dump, cr_ptrace_release };
    static struct stopped_hold hold; /* (large: not on the stack) */
    static const struct crtree_job_hold job_hold = { release_held_program, &hold };
    if (scope != CTX_SCOPE_PROC) {
        nlive = crtree_find(&tree, pid, scope, fd, (unsigned)(timeout * 1000), cflags);
        if (nlive < 0) {
            if (own_fd && !unnamed)
                unlinkat(dir, writing_base, 0);
            return fail(-nlive, "%s", tree.msg);
        }
        if (by_ptrace)
            tree.ptrace = &held;
        if (hold_tree && !(nlive == 1 && tree.n == 1 && lseek(fd, 0, SEEK_CUR) < 0)) {
            char herr[sizeof q.msg];
            rc = hold_start(&hold, pid, herr, sizeof herr);
            if (rc < 0) {
                crtree_close(&tree);
                if (own_fd && !unnamed)
                    unlinkat(dir, writing_base, 0);
                return fail(-rc, "%s", herr);
            }
            tree.job_hold = &job_hold;
        }
        /* A process found alone may fork before it is frozen: only the tree's way
         * looks for children again once it is (its file is then an ordinary
         * one-process file).  The tree's way writes with random access; to a pipe, a
         * process alone is asked alone (its children made meanwhile are left out). */
        if (nlive == 1 && tree.n == 1 && lseek(fd, 0, SEEK_CUR) < 0)
            crtree_close(&tree);
    }
    int as_tree = scope != CTX_SCOPE_PROC && tree.m;
    if (hold_tree && !as_tree)
        hold_stopped = 1; /* (alone after all: its children ended) */
    uint64_t expect = 0;
    for (int i = 0; as_tree && i < tree.n; i++)
        expect += resident(tree.m[i].pid);
    struct progress *shown = progress_start("cr_checkpoint: written", as_tree ? expect : resident(pid),
                                            written, &fd, quiet);
    if (as_tree) {
        rc = crtree_checkpoint(&tree);
        memset(&q, 0, sizeof q);
        q.sock = -1;
        q.err = rc < 0 ? tree.err : 0;
        q.bytes = tree.bytes;
        snprintf(q.msg, sizeof q.msg, "%.700s", tree.msg);
        rc = 0; /* the message names the process */
        if (tree.n == 1 && tree.m[0].q.err && tree.m[0].q.msg[0]) {
            snprintf(q.msg, sizeof q.msg, "%.700s", tree.m[0].q.msg); /* as for a process alone */
            rc = tree.ptrace ? 0 : 1; /* (the ptrace dumper's messages name it) */
        }
    } else if (by_ptrace) {
        memset(&q, 0, sizeof q);
        q.sock = -1;
        rc = cr_ptrace_checkpoint(pid, fd, flags, (unsigned)(timeout * 1000), &q.bytes, q.msg,
                                  sizeof q.msg); /* (-p: alone, its children left out) */
        q.err = rc < 0 ? -rc : 0;
        rc = 0;
    } else if (hold_stopped) {
        char herr[sizeof q.msg];
        rc = hold_start(&hold, pid, herr, sizeof herr);
        if (rc < 0) {
            memset(&q, 0, sizeof q);
            q.sock = -1;
            q.err = -rc;
            snprintf(q.msg, sizeof q.msg, "%s", herr);
        } else {
            rc = crq_start(&q, pid, fd, (unsigned)(timeout * 1000), cflags | CR_CTL_STOPPED_HELD |
                                                                     CR_REQ_PTRACED_ALLOW /* by us */);
            if (rc == 0) /* its threads let go once it is frozen: the runtime waits for it */
                crq_wait_phase(&q, CR_CTL_FROZEN, -1);
            hold_release_program(&hold);
            if (rc == 0)
                crq_wait(&q, -1);
        }
    } else {
        rc = crq_start(&q, pid, fd, (unsigned)(timeout * 1000), cflags);
        if (rc == 0)
            crq_wait(&q, -1);
    }
    progress_stop(shown);
    int err = q.err;
    char note[sizeof q.msg] = "";
    if (!err) /* why --incremental gave a full one, why it was not pre-copied */
        snprintf(note, sizeof note, "%s", as_tree && tree.n == 1 ? tree.m[0].q.msg : q.msg);
    char why[3 * PATH_MAX + 900];
    snprintf(why, sizeof why, "%s", q.msg);
    if (!err && own_fd) { /* what is put in place must read back: else the old one stays */
        char self[64], rerr[800];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        struct ctx_tree check;
        int rc2 = ctx_tree_open(self, &check, rerr, sizeof rerr);
        for (uint32_t i = 0; rc2 == 0 && verify && i < check.n; i++)
            if (check.images[i].proc)
                rc2 = ctx_verify_data(&check.images[i], rerr, sizeof rerr);
        if (rc2 == 0 && check.n == 1 && check.images[0].parent) {
            rc2 = check_chain(&check.images[0], file, dir, base, rerr, sizeof rerr);
            if (rc2 == 0 && verbose)
                say_chain(&check.images[0]);
        }
        if (rc2 == 0 && (verbose || warnings > 0) && warnings >= 0)
            ctx_say_outside(&check, stderr, "cr_checkpoint");
        if (rc2 < 0) {
            err = -rc2;
            snprintf(why, sizeof why, "the file written does not read back (%s); %s is left as it "
                     "was", rerr, file);
        }
        ctx_tree_close(&check); /* (idempotent: the reader closes what it fails on) */
    }
    if (!err && unnamed) { /* complete: it becomes FILE.tmp, then FILE */
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        if (unlinkat(dir, tmpbase, 0) < 0 && errno != ENOENT) {
            err = errno;
            snprintf(why, sizeof why, "cannot remove the stale %s: %s", tmpname, strerror(err));
        } else if (linkat(AT_FDCWD, self, dir, tmpbase, AT_SYMLINK_FOLLOW) < 0) {
            err = errno;
            snprintf(why, sizeof why, "cannot name the new file %s: %s", tmpname, strerror(err));
        } else {
            unnamed = 0;
        }
    }
    if (own_fd)
        close(fd);
    if (!err && own_fd && mode != CLOBBER) {
        if (mode == BACKUP) {
            int bdir = dir;
            if (!backup) { /* BLCR's: the first FILE.~N~ that is not there (nor a link) */
                struct stat st;
                for (int n = 1; n < 100000; n++) {
                    snprintf(backbase, sizeof backbase, "%.*s.~%d~", NAME_MAX - 10, base, n);
                    if (fstatat(dir, backbase, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        break;
                }
                snprintf(backname, sizeof backname, "%.*s%s", (int)(strlen(file) - strlen(base)),
                         file, backbase);
                backup = backname;
            } else {
                char perr[PATH_MAX + 200];
                bdir = cr_open_parent(backup, geteuid() == 0, backbase, sizeof backbase, perr,
                                      sizeof perr);
                if (bdir < 0) {
                    err = -bdir;
                    snprintf(why, sizeof why, "--backup: %s", perr);
                }
            }
            if (!err && renameat(dir, base, bdir, backbase) < 0 && errno != ENOENT) {
                err = errno;
                snprintf(why, sizeof why, "cannot keep the old %s as %s: %s", file, backup,
                         strerror(err));
            }
            if (bdir >= 0 && bdir != dir)
                close(bdir);
        }
        if (!err && renameat(dir, tmpbase, dir, base) < 0) {
            err = errno;
            snprintf(why, sizeof why, "cannot rename %s to %s: %s", tmpname, file, strerror(err));
        }
        if (!err && sync)
            fsync_dir(dir);
    }
    if (err) {
        if (own_fd && !unnamed)
            unlinkat(dir, writing_base, 0); /* never leave a partial file as the destination */
        crq_close(&q);       /* the runtime resumes the process unharmed */
        if (as_tree)
            crtree_close(&tree);
        hold_end(&hold);     /* (stopped: it stays so) */
        if (rc < 0 || (as_tree && rc == 0)) /* never reached the runtime, or names the process */
            return fail(err, "%s", why);
        return fail(err, "checkpoint of process %d failed: %s", (int)pid, why);
    }
    if (as_tree) {
        crtree_commit(&tree, sig);
        crtree_close(&tree);
        hold_end(&hold); /* (a stopped job's first process: it stays stopped) */
    } else if (by_ptrace) {
        if (sig && kill(pid, sig) < 0)
            return fail(errno, "process %d was written, but signal %d could not be sent: %s",
                        (int)pid, sig, strerror(errno));
    } else if (hold_stopped) {
        /* until its runtime has let it go (it closes the connection), its manager still
         * held: let go before, it would stop with the commit unread */
        if (crq_send(&q, CR_CMD_COMMIT, sig) == 0) {
            struct pollfd pf = { q.sock, POLLIN, 0 };
            char dummy;
            for (int waited = 0; waited < timeout * 1000 && poll(&pf, 1, 50) == 0; waited += 50)
                ;
            (void)!recv(q.sock, &dummy, 1, MSG_DONTWAIT);
        }
        crq_close(&q);
        hold_end(&hold);
    } else {
        crq_commit(&q, sig);
        crq_close(&q);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* why --incremental gave a full one (the first of a chain only when asked -v) */
    if (note[0] && !quiet && (verbose || (!strstr(note, CR_NOTE_FIRST) && !strstr(note, CR_NOTE_PRECOPY))))
        fprintf(stderr, "cr_checkpoint: process %d: %s\n", (int)pid, note);
    if (verbose)
        fprintf(stderr, "cr_checkpoint: process %d written to %s (%llu bytes) in %.3f s\n",
                (int)pid, own_fd ? file : "the given fd", (unsigned long long)q.bytes,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
