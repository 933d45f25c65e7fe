/* cr_restart: restart a process from a context file.  It becomes the parent of the
 * restored process and exits as it exits (same code, or the same signal). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "context_reader.h"
#include "progress.h"
#include "restart.h"
#include "restart_lazy.h"
#include "pid_map.h"

static int quiet;
static volatile pid_t child;
static volatile int child_is_root; /* a tree restored in place: a SIGCONT continues its job */

enum hook { ON_SUCCESS, ON_FAIL_ARGS, ON_FAIL_TEMP, ON_FAIL_ENV, ON_FAIL_PERM, NHOOKS };
static const char *hooks[NHOOKS];

static void usage(FILE *out)
{
    fprintf(out,
"Usage: cr_restart [OPTIONS] FILE\n"
"       cr_restart [OPTIONS] -f FILE | -F FD | -d DIR\n"
"       cr_restart [OPTIONS] -f FILE --in-place-of -- COMMAND [ARGS...]\n"
"Restart the process (or the tree of processes) saved in the context FILE.\n"
"cr_restart stays its parent and exits with its exit status (or is killed by the\n"
"same signal), passing on the signals it gets; killed (SIGKILL), it takes the\n"
"process (a tree's first) along.  A tree keeps its old pids: in place\n"
"(root, when they are free) or in a pid namespace of its own; for a normal user, new\n"
"pids in place that its programs still see as the old ones.\n\n"
"  -f, --file=FILE            the context file (or give it as the last argument)\n"
"  -F, --fd=FD                read the context file from the open descriptor FD\n"
"  -d, --dir=DIR              the one context.* file in DIR (cr_checkpoint --dir)\n"
"  --relocate OLD=NEW         the files under OLD are now under NEW (up to 16; \\=\n"
"                             and \\\\ stand for = and \\ in a path)\n"
"  --restore-pid              the exact old pids, in place (root,\n"
"                             CAP_CHECKPOINT_RESTORE, or the crctl module's grant\n"
"                             for a file of your own; EBUSY if one is taken)\n"
"  --no-restore-pid           a new pid (a tree: its own pid namespace, for a normal\n"
"                             user with a user namespace)\n"
"                             default: the old pids in place if allowed (root,\n"
"                             CAP_CHECKPOINT_RESTORE; /dev/crctl for a process alone)\n"
"                             and free, else new pids its programs see as the old\n"
"                             ones (a normal user's process or tree saved under\n"
"                             cr_run), a new pid (a process alone) or a pid\n"
"                             namespace (root's tree)\n"
"  --pid-namespace            a process alone: its old pid in a pid namespace (and a\n"
"                             user namespace) of its own (the default for one saved\n"
"                             without cr_run with its own SCM_CREDENTIALS queued)\n"
"  --restore-pgid, --restore-sid  a process that led its process group or session\n"
"                             leads a new one (default; a tree: as saved)\n"
"  --no-restore-pgid, --no-restore-sid  it stays in cr_restart's (a lone process)\n"
"  --run                      let it run (default)\n"
"  --stop (--freeze) | --term | --abort | --kill | --cont | -S, --signal=SIG\n"
"                             send that signal to the process once restored\n"
"                             (--early-stop, --early-abrt: SIGSTOP, SIGABRT)\n"
"  --omit-maybe | --omit-always | --omit-never\n"
"                             accepted: cr_restart itself is never in a checkpoint;\n"
"                             checkpointing its pid checkpoints the restored process\n"
"  --kmsg-error               on failure say why (default); --kmsg-warning: also name\n"
"                             the fds that come back disconnected; --kmsg-none: neither\n"
"  --step-dir=DIR             one task of a Slurm step restarted whole: its\n"
"                             connections to the step's other tasks are made again\n"
"                             with them, meeting through files in DIR (shared by\n"
"                             every task; without it they come back reset), once\n"
"                             every task has bound its listening sockets again;\n"
"                             datagrams another task had sent to its unix sockets\n"
"                             are sent again by that task before either runs\n"
"  --lazy                     the process runs before its memory is read: its\n"
"                             larger private anonymous regions are filled on demand\n"
"                             and in the background by cr_restart (userfaultfd);\n"
"                             needs CAP_SYS_PTRACE (root), one process (not a tree),\n"
"                             an uncompressed image on a local file system; refused\n"
"                             with the reason otherwise\n"
"  --eager                    read all of its memory before it runs\n"
"                             (default: lazy where possible, from 16 MiB of such\n"
"                             memory, else eager; CR_RESTART_MODE=eager: eager,\n"
"                             =lazy: lazy wherever possible, whatever the size)\n"
"  --run-on-success=CMD       run CMD (with sh -c) once the process is restored\n"
"  --run-on-fail-args=CMD     if the arguments are wrong, exec CMD instead of failing\n"
"  --run-on-fail-temp=CMD     ... after a temporary failure (memory, address space)\n"
"  --run-on-fail-env=CMD      ... after a failure of the environment (missing or changed\n"
"                             files, another kernel)\n"
"  --run-on-fail-perm=CMD     ... after a permanent failure (corrupt or foreign file)\n"
"  --run-on-failure=CMD       all four of the above\n"
"  --in-place-of              the arguments after -- are the command this restart\n"
"                             stands in for (a launcher that puts cr_restart in front\n"
"                             of a command, as Slurm's spank_prepend_task_argv does):\n"
"                             they are not run; give the file with -f, -F or -d\n"
"  -q, --quiet                print no error messages\n"
"  -h, -?, --help             show this help\n"
"  -V, -v, --version          show the version (-v: as BLCR's)\n\n"
"On failure the exit status is the errno of the cause; CR_RESTART_ERRNO and\n"
"CR_RESTART_ERROR are set for the --run-on-fail-* commands.\n");
}

static enum hook classify(int err)
{
    switch (err) {
    case ENOMEM: case EAGAIN: case EEXIST: case EBUSY: case EINTR:
        return ON_FAIL_TEMP;
    case ENOENT: case ESTALE: case ENOEXEC: case ENOTSUP: case ENOTDIR: case EACCES:
        return ON_FAIL_ENV;
    default:
        return ON_FAIL_PERM;
    }
}

static int fail(enum hook kind, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(enum hook kind, int err, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!quiet)
        fprintf(stderr, "cr_restart: %s\n", msg);
    if (hooks[kind]) {
        char num[16];
        snprintf(num, sizeof num, "%d", err);
        setenv("CR_RESTART_ERRNO", num, 1);
        setenv("CR_RESTART_ERROR", msg, 1);
        fflush(NULL);
        execl("/bin/sh", "sh", "-c", hooks[kind], (char *)NULL);
        fprintf(stderr, "cr_restart: cannot run '%s': %s\n", hooks[kind], strerror(errno));
    }
    return err & 0xff ? err & 0xff : 1;
}

/* --dir: the one context.* file in it. */
static int find_context_in(const char *dir, char *out, size_t outlen, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        snprintf(err, errlen, "--dir %s: %s", dir, strerror(e));
        return -e;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "context.", 8) && (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)) {
            if (n++ == 0)
                snprintf(out, outlen, "%s/%s", dir, e->d_name);
        }
    closedir(d);
    if (n == 1)
        return 0;
    snprintf(err, errlen, n ? "--dir %s holds %d context.* files: name one with -f" :
                              "--dir %s holds no context.* file", dir, n);
    return n ? -EINVAL : -ENOENT;
}

/* Bytes the processes under pid have read (the restorers read the image). */
static int64_t read_by(pid_t pid)
{
    char path[96], buf[4096], *save = NULL; /* (strtok_r: the main thread is busy too) */
    int64_t sum = 0;
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = pid != getpid() ? fopen(path, "re") : NULL;
    while (f && fgets(buf, sizeof buf, f))
        if (!strncmp(buf, "rchar:", 6))
            sum += strtoll(buf + 6, NULL, 10);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    if ((f = fopen(path, "re")) && fgets(buf, sizeof buf, f))
        for (char *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
            sum += read_by((pid_t)atoi(tok));
    if (f)
        fclose(f);
    return sum;
}

static int64_t restored_bytes(void *arg)
{
    (void)arg;
    return read_by(getpid());
}

/* signals that came before the restored process existed: sent to it once it does */
static volatile sig_atomic_t early_signal[NSIG];

static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* a terminal's signals already reach the whole process group */
    if (si->si_code > 0)
        return;
    if (child > 0 && sig == SIGCONT && child_is_root)
        cr_tree_continue(child);
    else if (child > 0)
        kill(child, sig);
    else
        early_signal[sig] = 1;
}

static void forward_early_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (early_signal[sig]) {
            early_signal[sig] = 0;
            if (sig == SIGCONT && child_is_root)
                cr_tree_continue(child);
            else
                kill(child, sig);
        }
}

/* The first of the image's old pids that some process has now, or 0. */
static pid_t old_pid_taken(const struct ctx_tree *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (kill(t->procs[i].pid, 0) == 0 || errno == EPERM)
            return t->procs[i].pid;
    return 0;
}

/* --run-on-success's command, beside the restored process: its pid, waited for before we
 * end (whoever started us may count on what it did once we are gone) */
static pid_t run_hook(const char *cmd)
{
    pid_t p = fork();
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

/* --stop: the restorer stops itself after it has reported success, so the hook (the
 * restart API's "ok", which then sends cr_signal and SIGCONT) waits until the stop has
 * happened: a SIGCONT that came before it would be lost and leave the process stopped
 * for good.  WNOWAIT: the state stays for whoever waits next; an end is not waited
 * here either (the main loop reaps it). */
static void wait_stopped(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
}


/* An incremental image's parents, next to it: every one there, the very file it was
 * made from, and its owner's alone (the parents' paths are the image's contents: root
 * restarting a user's image must not read another user's memory into it), or a
 * refusal that says which is not. */
static int open_chain(struct ctx_image *img, const char *path, uid_t owner, char *err, size_t len)
{
    if (!img->parent)
        return 0;
    int rc = ctx_chain_open(img, path, err, len);
    struct stat st;
    for (uint32_t k = 0; rc == 0 && k < img->chain->n; k++)
        if (fstat(img->chain->images[k].fd, &st) < 0 || st.st_uid != owner || (st.st_mode & 022)) {
            snprintf(err, len, "the parent image %s belongs to uid %u, or others may write it: an "
                     "image of uid %u takes memory only from that user's own images",
                     img->chain->paths[k], (unsigned)st.st_uid, (unsigned)owner);
            rc = -EPERM;
        }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "relocate", required_argument, NULL, 'r' },
        { "no-restore-pid", no_argument, NULL, 1 }, { "restore-pid", no_argument, NULL, 2 },
        { "stop", no_argument, NULL, 3 }, { "term", no_argument, NULL, 4 },
        { "kill", no_argument, NULL, 5 }, { "cont", no_argument, NULL, 6 },
        { "run-on-success", required_argument, NULL, 10 },
        { "run-on-fail-args", required_argument, NULL, 11 },
        { "run-on-fail-temp", required_argument, NULL, 12 },
        { "run-on-fail-env", required_argument, NULL, 13 },
        { "run-on-fail-perm", required_argument, NULL, 14 },
        { "run-on-failure", required_argument, NULL, 15 },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "file", required_argument, NULL, 'f' }, { "fd", required_argument, NULL, 'F' },
        { "dir", required_argument, NULL, 'd' }, { "signal", required_argument, NULL, 'S' },
        { "run", no_argument, NULL, 7 }, { "freeze", no_argument, NULL, 3 },
        { "abort", no_argument, NULL, 8 }, { "early-stop", no_argument, NULL, 3 },
        { "early-abrt", no_argument, NULL, 8 },
        { "omit-maybe", no_argument, NULL, 9 }, { "omit-always", no_argument, NULL, 9 },
        { "omit-never", no_argument, NULL, 9 },
        { "restore-pgid", no_argument, NULL, 16 }, { "no-restore-pgid", no_argument, NULL, 17 },
        { "restore-sid", no_argument, NULL, 18 }, { "no-restore-sid", no_argument, NULL, 19 },
        { "kmsg-none", no_argument, NULL, 20 }, { "kmsg-error", no_argument, NULL, 21 },
        { "kmsg-warning", no_argument, NULL, 22 }, { "step-dir", required_argument, NULL, 23 },
        { "in-place-of", no_argument, NULL, 24 }, { "pid-namespace", no_argument, NULL, 25 },
        { "lazy", no_argument, NULL, 27 }, { "eager", no_argument, NULL, 28 },
        { NULL, 0, NULL, 0 }
    };
    struct cr_restart_opts o = { 0 };
    int c, restore_pid = -1 /* not asked */, after = 0, bad = 0, sources = 0, warnings = 0, in_place_of = 0;
    const char *path = NULL, *dir = NULL, *mode_env = getenv("CR_RESTART_MODE");
    char err[1024], fdpath[64];
    int mode = mode_env && *mode_env ? cr_restart_mode_parse(mode_env) : CR_RESTART_AUTO;
    if (mode < 0)
        return fail(ON_FAIL_ARGS, EINVAL, "CR_RESTART_MODE=%s: want auto, eager or lazy", mode_env);
    opterr = 0; /* -? asks for help (as BLCR's); other unknown options are named below */
    while ((c = getopt_long(argc, argv, "qhVvf:F:d:S:", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (cr_restart_add_relocation(&o, optarg, err, sizeof err) < 0) {
                bad = 1;
                if (!quiet)
                    fprintf(stderr, "cr_restart: %s\n", err);
            }
            break;
        case 1: restore_pid = 0; break;
        case 2: restore_pid = 1; break;
        case 25: restore_pid = 2; break;
        case 3: after = SIGSTOP; break;
        case 4: after = SIGTERM; break;
        case 5: after = SIGKILL; break;
        case 6: after = SIGCONT; break;
        case 7: after = 0; break;
        case 8: after = SIGABRT; break;
        case 9: break; /* cr_restart is never checkpointed itself (see the man page) */
        case 16: o.keep_pgid = 0; break;
        case 17: o.keep_pgid = 1; break;
        case 18: o.keep_sid = 0; break;
        case 19: o.keep_sid = 1; break;
        case 20: warnings = -1; break;
        case 21: warnings = 0; break;
        case 22: warnings = 1; break;
        case 23: {
            /* the tasks of a restarted step meet there: it must be there, a directory */
            struct stat sd;
            if (optarg[0] != '/' || stat(optarg, &sd) < 0 || !S_ISDIR(sd.st_mode))
                return fail(ON_FAIL_ARGS, optarg[0] != '/' ? EINVAL : errno ? errno : ENOTDIR,
                            "--step-dir=%s: want an existing directory, by its absolute path, that "
                            "every task of the restarted step sees (on shared storage)", optarg);
            o.step_dir = optarg;
            break;
        }
        case 24: in_place_of = 1; break;
        case 27: mode = CR_RESTART_LAZY; break;
        case 28: mode = CR_RESTART_EAGER; break;
        case 'S': {
            char *end;
            long s = strtol(optarg, &end, 10);
            if (*end || s <= 0 || s >= NSIG) {
                if (!quiet)
                    fprintf(stderr, "cr_restart: -S %s: want a signal number from 1 to %d\n",
                            optarg, NSIG - 1);
                bad = 1;
            }
            after = (int)s;
            break;
        }
        case 'f': path = optarg; sources++; break;
        case 'd': dir = optarg; sources++; break;
        case 'F': {
            char *end;
            long fd = strtol(optarg, &end, 10);
            if (*end || fd < 0 || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
                return fail(ON_FAIL_ARGS, EBADF, "-F %s: not an open file descriptor", optarg);
            snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%ld", fd);
            path = fdpath;
            sources++;
            break;
        }
        case 10: case 11: case 12: case 13: case 14:
            hooks[c - 10] = optarg;
            break;
        case 15:
            hooks[ON_FAIL_ARGS] = hooks[ON_FAIL_TEMP] = hooks[ON_FAIL_ENV] = hooks[ON_FAIL_PERM] = optarg;
            break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': case 'v': printf("cr_restart (slurm-cr) %s\n", PACKAGE_VERSION); return 0;
        case '?':
            if (optopt == '?') {
                usage(stdout);
                return 0;
            }
            /* fall through */
        default:
            if (!quiet && optopt)
                fprintf(stderr, "cr_restart: unknown option or missing argument: -%c\n", optopt);
            else if (!quiet)
                fprintf(stderr, "cr_restart: unknown option or missing argument: %s\n",
                        argv[optind - 1]);
            bad = 1;
            break;
        }
    }
    if (in_place_of) {
        /* getopt stopped at "--": what follows is the command we replace, never options */
        if (optind < 2 || strcmp(argv[optind - 1], "--"))
            return fail(ON_FAIL_ARGS, EINVAL, "--in-place-of wants -- before the command it "
                        "stands in for (cr_restart -f FILE --in-place-of -- COMMAND...)");
        optind = argc;
    }
    if (!sources && optind == argc - 1)
        path = argv[optind++], sources = 1;
    if (bad || sources != 1 || optind != argc)
        return fail(ON_FAIL_ARGS, EINVAL, "want options and exactly one context file (see "
                    "cr_restart --help)");
    char found[PATH_MAX];
    if (dir) {
        int rc = find_context_in(dir, found, sizeof found, err, sizeof err);
        if (rc < 0)
            return fail(ON_FAIL_ARGS, -rc, "%s", err);
        path = found;
    }

    struct stat st;
    if (stat(path, &st) < 0)
        return fail(ON_FAIL_ENV, errno, "cannot open %s: %s", path, strerror(errno));
    if (getuid() != 0 && st.st_uid != getuid()) /* before reading it */
        return fail(ON_FAIL_PERM, EPERM, "%s belongs to uid %u: only its owner or root may "
                    "restart it", path, (unsigned)st.st_uid);
    struct ctx_tree tree;
    int rc = ctx_tree_open(path, &tree, err, sizeof err);
    if (rc < 0)
        return fail(rc == -ENOENT || rc == -EACCES ? ON_FAIL_ENV : ON_FAIL_PERM, -rc, "%s: %s",
                    path, err);
    /* who may restart it, and as whom: the file that was read, not its contents */
    if (fstat(tree.fd, &st) < 0)
        return fail(ON_FAIL_ENV, errno, "cannot stat %s: %s", path, strerror(errno));
    /* BLCR gave a restarted process its old pid by default: so do we where Linux lets
     * us (root, CAP_CHECKPOINT_RESTORE) and the pid is free; otherwise a new pid (see
     * cr_restart(1) --pid-namespace for why a namespace is not the default).  A process
     * alone gets it on its own path (a child of ours like any, lazy or not); a tree's
     * old pids come with the tree path. */
    int lone = !(tree.hdr.flags & CTX_HDR_TREE);
    /* a normal user: the crctl module, where it is loaded, grants what root has here
     * (CAP_CHECKPOINT_RESTORE, for this restore of this file only), for a process alone
     * or, with --restore-pid, a tree (each process made with its old pid by its parent,
     * which inherits the grant: doc/kmod-design.md section 4).  By default a process
     * alone asks when its pid is free; a user's tree keeps its own pid namespace (what
     * scripts and tests/engine/tree.sh expect of a user's restart: cr_restart, its init,
     * then the tree) */
    /* (--restore-pid with a pid taken: said here, as root hears it, before the module is asked) */
    if (restore_pid == 1 && !cr_restart_may_restore_pid() && cr_restart_grant_possible() &&
        old_pid_taken(&tree))
        return fail(ON_FAIL_ENV, EBUSY, "%s: --restore-pid: pid %d is in use; nothing was started "
                    "(restart without --restore-pid for %s)", path, (int)old_pid_taken(&tree),
                    lone ? "a new pid" : "the tree's own pid namespace");
    if ((restore_pid == 1 || (restore_pid == -1 && lone && !old_pid_taken(&tree))) &&
        !cr_restart_may_restore_pid()) {
        pid_t *pids = calloc(tree.n, sizeof *pids);
        if (!pids)
            return fail(ON_FAIL_ENV, ENOMEM, "%s: out of memory", path);
        for (uint32_t i = 0; i < tree.n; i++)
            pids[i] = tree.procs[i].pid;
        int g = cr_restart_grant(tree.fd, pids, tree.n, err, sizeof err);
        free(pids);
        if (g < 0 && restore_pid == 1)
            return fail(ON_FAIL_PERM, -g, "%s: --restore-pid: %s", path, err);
        if (g < 0 && !quiet)
            fprintf(stderr, "cr_restart: %s: the process gets a new pid\n", err);
    }
    if (restore_pid == -1 && cr_restart_may_restore_pid()) {
        pid_t taken = old_pid_taken(&tree);
        if (!taken)
            restore_pid = 1;
        else if (!quiet && lone)
            fprintf(stderr, "cr_restart: pid %d is in use: the process gets a new pid "
                    "(--restore-pid makes that an error, EBUSY, as BLCR's default)\n", (int)taken);
        else if (!quiet)
            fprintf(stderr, "cr_restart: pid %d is in use: the tree gets its old pids in a pid "
                    "namespace of its own (--restore-pid makes that an error, EBUSY, as BLCR's "
                    "default)\n", (int)taken);
    }
    /* a normal user's process alone, by default: a new pid in place that the program
     * goes on seeing as its old one, as a tree's (pid_map.c), where its image has the
     * runtime's table (saved under cr_run); a program that kept its pid (a fork check,
     * Python's multiprocessing and asyncio) runs on as it would have */
    int lone_map = lone && restore_pid == -1 && !cr_restart_may_restore_pid() &&
                   tree.images[0].proc && tree.images[0].pid_map;
    o.new_pids = lone_map;
    /* a message queued with the process's own credentials (SCM_CREDENTIALS) is sent
     * again by the process: they come back as they were only with its old pid, which
     * a pid namespace gives where the old pid in place is not to be had (with the
     * table, the program reads its old pid in them: pid_map.c) */
    int creds_fd = lone && !lone_map && restore_pid != 1 && restore_pid != 2 ?
                   cr_image_sends_own_creds(&tree.images[0]) : -1;
    if (creds_fd >= 0 && restore_pid == 0)
        return fail(ON_FAIL_ARGS, EINVAL, "%s: --no-restore-pid: fd %d has a message queued with "
                    "the process's own credentials (SCM_CREDENTIALS), which would come back "
                    "with a new pid; restart it with its old pid (--pid-namespace, or "
                    "--restore-pid), or checkpoint once the program has received it", path, creds_fd);
    if (creds_fd >= 0) {
        if (!quiet)
            fprintf(stderr, "cr_restart: fd %d has a message queued with the process's own "
                    "credentials (SCM_CREDENTIALS): the process gets its old pid in a pid "
                    "namespace of its own (--pid-namespace) so that they come back as they were\n",
                    creds_fd);
        restore_pid = 2;
    }
    /* the image's absolute path: for the process, and for the checks (the files of
     * its generation) */
    char *abs = realpath(path, NULL);
    o.src = abs ? abs : path;
    if (restore_pid == 1 && lone) {
        if (!cr_restart_may_restore_pid())
            return fail(ON_FAIL_PERM, EPERM, "%s: --restore-pid needs root or CAP_CHECKPOINT_RESTORE "
                        "(--pid-namespace gives the old pid in a pid namespace of its own)", path);
        o.want_pid = tree.procs[0].pid;
        if (old_pid_taken(&tree))
            return fail(ON_FAIL_ENV, EBUSY, "%s: --restore-pid: pid %d is in use; nothing was "
                        "started (restart without --restore-pid for a new pid)", path, (int)o.want_pid);
    }
    /* a process alone is a plain child of ours (with its old pid or a new one), unless
     * it gets a namespace of its own (--pid-namespace); a tree gets its old pids in
     * place or in a pid namespace, which root makes without a user namespace */
    int as_tree = !lone || restore_pid == 2;
    int keep_cap = restore_pid == 1                                ? CAP_CHECKPOINT_RESTORE
                   : as_tree && cr_restart_may_restore_pid()       ? CAP_SYS_ADMIN
                                                                    : -1;
    /* a normal user's tree: new pids in place, which its programs go on seeing as the
     * old ones (pid_map.c), rather than a user namespace, in which other users' files
     * show as nobody's; where a process has no table (written without the runtime, or
     * by an older one) or the tree is too large for it, the namespace */
    int pid_mode = restore_pid == 1 ? CR_TREE_OLD_PIDS : CR_TREE_NAMESPACE;
    char why_ns[200] = "";
    if (as_tree && restore_pid == -1 && !cr_restart_may_restore_pid()) {
        pid_mode = CR_TREE_NEW_PIDS;
        for (uint32_t i = 0; i < tree.n && pid_mode == CR_TREE_NEW_PIDS; i++) {
            const struct ctx_image *img = &tree.images[i];
            if (!img->proc)
                continue;
            if (!img->pid_map)
                snprintf(why_ns, sizeof why_ns, "process %d (%s) was saved without the runtime's "
                         "pid table (not under cr_run)", tree.procs[i].pid, tree.procs[i].comm);
            else if (img->pid_map->n + tree.n + 3 > CR_PID_MAP_MAX) /* (+ its parent, group
                                                                     and session outside) */
                snprintf(why_ns, sizeof why_ns, "the tree has more processes than the runtime's "
                         "pid table holds (%u)", CR_PID_MAP_MAX);
            if (why_ns[0])
                pid_mode = CR_TREE_NAMESPACE;
        }
    }
    /* (on a terminal, or asked for: scripts and job logs are not given it each time) */
    if (as_tree && pid_mode == CR_TREE_NAMESPACE && !cr_restart_may_restore_pid() && !quiet &&
        (warnings > 0 || (warnings == 0 && isatty(STDERR_FILENO)) || why_ns[0]))
        fprintf(stderr, "cr_restart: note: %s%sthe old pids need a user namespace: in it, other "
                "users' files and processes (root's too) show as nobody's, supplementary groups as "
                "nogroup, and set-user-id programs give no privilege (root's cr_restart needs "
                "none)\n", why_ns, why_ns[0] ? ": " : "without privilege ");
    rc = cr_restart_take_identity(&tree, &st, path, keep_cap, err, sizeof err);
    if (rc < 0) {
        ctx_tree_close(&tree);
        return fail(ON_FAIL_PERM, -rc, "%s", err);
    }
    for (uint32_t i = 0; i < tree.n; i++) {
        if (!tree.images[i].proc)
            continue;
        char sub[900];
        rc = open_chain(&tree.images[i], path, st.st_uid, sub, sizeof sub);
        if (rc == 0)
            rc = cr_restart_check(&tree.images[i], &o, sub, sizeof sub);
        if (rc < 0) {
            if (tree.n > 1)
                snprintf(err, sizeof err, "process %d (%s): %s", tree.procs[i].pid,
                         tree.procs[i].comm, sub);
            else
                snprintf(err, sizeof err, "%s", sub);
            return fail(ON_FAIL_ENV, -rc, "%s: %s", path, err);
        }
    }
    if (as_tree && (o.keep_pgid || o.keep_sid))
        return fail(ON_FAIL_ARGS, EINVAL, "%s: a tree comes back with its process groups and "
                    "sessions as saved (in a pid namespace of its own); --no-restore-pgid and "
                    "--no-restore-sid apply to one process alone", path);

    /* lazy where it is asked for, or where it is possible and worth it */
    char why[700] = "";
    if (mode != CR_RESTART_EAGER) {
        int lrc = cr_lazy_possible(&tree.images[0], as_tree, why, sizeof why);
        if (lrc < 0 && mode == CR_RESTART_LAZY)
            return fail(lrc == -EPERM ? ON_FAIL_PERM : ON_FAIL_ENV, -lrc, "%s: --lazy: %s; "
                        "restart it with --eager", path, why);
        o.lazy = lrc == 0 && (mode != CR_RESTART_AUTO ||
                              cr_lazy_bytes(&tree.images[0]) >= CR_LAZY_AUTO_BYTES);
        if (lrc == 0 && !o.lazy)
            snprintf(why, sizeof why, "less than %llu MiB to restore lazily",
                     CR_LAZY_AUTO_BYTES >> 20);
    } else
        snprintf(why, sizeof why, "--eager");
    if (warnings > 0 && !quiet && !o.lazy)
        fprintf(stderr, "cr_restart: memory read before the process runs (eager restart): %s\n", why);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    /* every signal sent to us goes on to the restored process, as with BLCR; not those
     * about ourselves (faults, a broken pipe of ours, job control, children) */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD && sig != SIGILL && sig != SIGFPE &&
            sig != SIGBUS && sig != SIGSEGV && sig != SIGTRAP && sig != SIGSYS && sig != SIGPIPE &&
            sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
            sigaction(sig, &sa, NULL);

    o.stop_first = after == SIGSTOP;
    int exit_fd = -1;
    struct cr_lazy *lazy = NULL;
    struct progress *shown = progress_start("cr_restart: read", tree.file_size, restored_bytes,
                                            NULL, quiet);
    pid_t pid = as_tree ? cr_restart_spawn_tree(&tree, &o, pid_mode, &exit_fd, err, sizeof err)
                        : cr_restart_spawn(&tree.images[0], &o, &lazy, err, sizeof err);
    progress_stop(shown);
    cr_restart_grant_end(); /* the processes exist: their pids are chosen */
    cr_restart_drop_caps(); /* (a tree's user namespace gave us every capability there) */
    free(abs);
    cr_restart_opts_free(&o);
    if (pid < 0)
        return fail(classify(-pid), -pid, "cannot restart %s: %s", path, err);
    child_is_root = as_tree && exit_fd < 0;
    child = pid;
    forward_early_signals();
    if (warnings > 0 && !quiet)
        ctx_say_outside(&tree, stderr, "cr_restart");
    /* it was stopped at the checkpoint and stops once restored: we stop with it, so
     * that whoever started us sees the job stopped as it saw the process (BLCR's
     * cr_restart was the process); continued, we continue it (a SIGCONT sent to it
     * alone continues us: its runtime sends us one).  A tree's root, in a pid
     * namespace, is not our child: its init tells us of each stop */
    int mirror_stops = tree.images[0].stopped != NULL;
    ctx_tree_close(&tree);
    if (after && after != SIGSTOP && exit_fd >= 0) /* every process of the tree, not its
                                                      namespace's pid 1 */
        cr_tree_signal(pid, after);
    else if (after && after != SIGSTOP)
        kill(pid, after); /* (a SIGSTOP was each restorer's own, before the program ran) */
    else if (after == SIGSTOP && exit_fd < 0)
        wait_stopped(pid);
    pid_t hook = hooks[ON_SUCCESS] ? run_hook(hooks[ON_SUCCESS]) : -1;
    int status, told = 0;
    while (exit_fd >= 0 && mirror_stops) {
        ssize_t n = read(exit_fd, &status, sizeof status);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == (ssize_t)sizeof status && WIFSTOPPED(status)) {
            raise(SIGSTOP);
            continue;
        }
        told = n == (ssize_t)sizeof status; /* how the root ended (or init did first) */
        break;
    }
    for (;;) {
        int ended;
        pid_t w = waitpid(-1, &ended, mirror_stops ? WUNTRACED : 0);
        if (w == pid && WIFSTOPPED(ended)) {
            raise(SIGSTOP);
            continue;
        }
        if (w == hook)
            hook = -1;
        if (w == pid && !told)
            status = ended;
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return fail(ON_FAIL_TEMP, errno, "lost the restored process: %s", strerror(errno));
    }
    while (hook > 0 && waitpid(hook, NULL, 0) < 0 && errno == EINTR)
        ;
    if (lazy) { /* its children forked early may still miss pages: served to the end */
        char summary[200];
        int lrc = cr_lazy_finish(lazy, err, sizeof err, summary, sizeof summary);
        if (lrc < 0)
            return fail(ON_FAIL_PERM, -lrc, "%s: %s", path, err);
        if (warnings > 0 && !quiet)
            fprintf(stderr, "cr_restart: %s\n", summary);
    }
    /* the tree's pid 1 passes on how its root ended */
    if (exit_fd >= 0 && !told && read(exit_fd, &status, sizeof status) != (ssize_t)sizeof status)
        return fail(ON_FAIL_TEMP, EIO, "the restored tree's namespace ended without its root's status");
    fflush(NULL);
    cr_exit_as(status); /* leave as the restored process left */
}
