/* BLCR compatibility (b), (c): a test harness in BLCR's style.
 *
 *   harness child OUT N K CTX FD   the worker: N steps, one line each to the file OUT,
 *                                  exit status from what it computed.  After step K
 *                                  (K 0: never) it checkpoints itself to CTX with
 *                                  cr_request_checkpoint + cr_poll_checkpoint; going on,
 *                                  it tells its parent (SIGUSR1) and waits on FD to end.
 *                                  Restarted, it finishes the N steps (and its callback
 *                                  writes cr_get_restart_info()'s src into OUT.src, and
 *                                  whether it leads its session into OUT.sid).
 *                                  HARNESS_SETSID set: it starts a session first.
 *   harness run OUT N K CTX [OLD NEW]
 *                                  starts a worker, kills it once it has checkpointed
 *                                  (moves the directory OLD to NEW, if given), restarts
 *                                  it from CTX with cr_request_restart (relocating OLD
 *                                  to NEW) + cr_poll_restart, waits for the restarted
 *                                  process as its parent and prints "status S", S the
 *                                  exit status.  In the environment:
 *                                    HARNESS_NO_RELOCATE  move, but do not tell the restart
 *                                    HARNESS_SIGNAL, HARNESS_FLAGS  cr_signal, cr_flags
 *                                        (unset: the initializer's, BLCR's
 *                                        CR_RSTRT_RESTORE_PID: the old pid for root, a
 *                                        new one for a user; either is checked)
 *                                    HARNESS_PIPE  the context file goes through a pipe
 *                                        that the harness fills after the request
 *                                    HARNESS_IGNORE_CHLD  ignore SIGCHLD: the harness
 *                                        only sees the worker end, prints "ended"
 *                                    HARNESS_ANY_PID  the pid may be cr_restart's,
 *                                        standing in for an ended worker
 *   harness fail CTX               restarts from a context file that must fail, and
 *                                  prints "errno E" and the log of the restart.
 *   harness tree CTX               restarts a tree file, prints "root PROGRAM" and, once
 *                                  the root is gone, "ended".
 * Each wait is bounded (60 s). */
#include <libcr.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    printf("%s: %s (%d)\n", what, cr_strerror(errno), errno);
    exit(100);
}

static const char *out_path;

/* Restarted, a callback writes where it was restarted from into OUT.src. */
static int on_checkpoint(void *arg)
{
    (void)arg;
    if (cr_checkpoint(CR_CHECKPOINT_READY) > 0) {
        const struct cr_restart_info *ri = cr_get_restart_info();
        char path[4200];
        snprintf(path, sizeof path, "%s.src", out_path);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dprintf(fd, "%s\n", ri && ri->src ? ri->src : "(none)");
            close(fd);
        }
        /* whether it leads its session again (CR_RSTRT_RESTORE_SID), into OUT.sid */
        snprintf(path, sizeof path, "%s.sid", out_path);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dprintf(fd, "%s\n", getsid(0) == getpid() ? "leader" : "member");
            close(fd);
        }
    }
    return 0;
}

static int child(const char *out, int n, int k, const char *ctx, int fd_parent)
{
    out_path = out;
    if (getenv("HARNESS_SETSID") && setsid() < 0)
        die("setsid");
    if (cr_init() < 0)
        die("cr_init");
    if (cr_register_callback(on_checkpoint, NULL, CR_THREAD_CONTEXT) < 0)
        die("cr_register_callback");
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0)
        die("open out");
    unsigned long v = 1;
    for (int i = 1; i <= n; i++) {
        for (int j = 0; j < 4000000; j++) /* work enough that the restarted worker is
                                              * still running when it is handed over */
            v = v * 6364136223846793005UL + 1442695040888963407UL;
        dprintf(o, "step %d value %lu\n", i, v % 1000003);
        if (i != k)
            continue;
        int cfd = open(ctx, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (cfd < 0)
            die("open ctx");
        cr_checkpoint_args_t args;
        cr_checkpoint_handle_t h;
        cr_initialize_checkpoint_args_t(&args);
        args.cr_fd = cfd;
        args.cr_scope = CR_SCOPE_PROC;
        args.cr_target = 0; /* myself */
        if (cr_request_checkpoint(&args, &h) < 0)
            die("cr_request_checkpoint");
        int rc;
        do
            rc = cr_poll_checkpoint(&h, NULL);
        while (rc == 0 || (rc == CR_POLL_CHKPT_ERR_PRE && errno == EINTR));
        if (rc > 0) { /* continuing: the harness kills us now */
            close(cfd);
            kill(getppid(), SIGUSR1);
            char c;
            ssize_t n;
            while ((n = read(fd_parent, &c, 1)) > 0 || (n < 0 && errno == EINTR))
                ; /* EOF (or no such fd): the harness is gone, so are we */
            _exit(99);
        }
        if (errno != CR_ERESTARTED)
            die("cr_poll_checkpoint");
        close(cfd); /* restarted: it was open in the image too */
    }
    close(o);
    return (int)(v % 97) + 3;
}

static int wait_child(pid_t pid, int *status)
{
    for (int i = 0; i < 6000; i++) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid)
            return 0;
        if (w < 0)
            return -1;
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    errno = ETIMEDOUT;
    return -1;
}

/* Restart from ctx, BLCR's way: request, poll until done (with the message when log is
 * not NULL), the pid of the process. */
static unsigned restart_flags; /* the last restart's cr_flags */
static pid_t restart(const char *ctx, struct cr_rstrt_relocate *reloc, char **log)
{
    int fd = open(ctx, O_RDONLY);
    if (fd < 0)
        die("open ctx");
    cr_restart_args_t args;
    cr_restart_handle_t h;
    if (cr_initialize_restart_args_t(&args) < 0)
        die("cr_initialize_restart_args_t");
    args.cr_fd = fd;
    args.cr_relocate = reloc;
    args.cr_signal = getenv("HARNESS_SIGNAL") ? atoi(getenv("HARNESS_SIGNAL")) : 0;
    if (getenv("HARNESS_FLAGS"))
        args.cr_flags = (unsigned)atoi(getenv("HARNESS_FLAGS"));
    restart_flags = args.cr_flags;
    int p[2] = { -1, -1 };
    if (getenv("HARNESS_PIPE")) { /* the file through a pipe we fill after the request */
        if (pipe(p) < 0)
            die("pipe");
        args.cr_fd = p[0];
    }
    if (cr_request_restart(&args, &h) < 0)
        die("cr_request_restart");
    if (p[1] >= 0) {
        close(p[0]);
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (write(p[1], buf, (size_t)n) != n)
                die("write to the pipe");
        close(p[1]);
    }
    int rc = 0;
    for (int i = 0; i < 60 && rc == 0; i++) {
        struct timeval tv = { 1, 0 };
        rc = log ? cr_poll_restart_msg(&h, &tv, log) : cr_poll_restart(&h, &tv);
    }
    close(fd);
    if (rc == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return rc;
}

static int run(const char *out, int n, int k, const char *ctx, const char *old, const char *new)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) { /* a fresh program, as cr_run starts one: exec ourselves */
        char ns[16], ks[16], fs[16];
        snprintf(ns, sizeof ns, "%d", n);
        snprintf(ks, sizeof ks, "%d", k);
        snprintf(fs, sizeof fs, "%d", p[0]);
        close(p[1]);
        sigprocmask(SIG_UNBLOCK, &usr1, NULL);
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        self[len > 0 ? len : 0] = 0;
        execl(self, "harness", "child", out, ns, ks, ctx, fs, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    struct timespec limit = { 60, 0 };
    int status;
    if (sigtimedwait(&usr1, NULL, &limit) != SIGUSR1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        printf("the worker did not checkpoint (exit %d)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 1;
    }
    kill(pid, SIGKILL);
    if (wait_child(pid, &status) < 0 || !WIFSIGNALED(status))
        die("the worker did not die");
    close(p[1]);

    struct cr_rstrt_relocate *reloc = NULL;
    if (old) {
        if (rename(old, new) < 0)
            die("rename");
    }
    if (old && !getenv("HARNESS_NO_RELOCATE")) { /* that one shows the move matters */
        reloc = malloc(CR_RSTRT_RELOCATE_SIZE(1));
        reloc->count = 1;
        reloc->path[0].oldpath = old;
        reloc->path[0].newpath = new;
    }
    char *log = NULL;
    int no_children = getenv("HARNESS_IGNORE_CHLD") != NULL;
    if (no_children)
        signal(SIGCHLD, SIG_IGN);
    pid_t r = restart(ctx, reloc, &log);
    if (r < 0) {
        printf("restart failed: %s (%d): %s\n", cr_strerror(errno), errno, log ? log : "");
        return 1;
    }
    if (no_children) { /* it is not ours: it runs to its end on its own */
        if (waitpid(r, &status, WNOHANG) != -1 || errno != ECHILD)
            printf("the restarted process is a child of a caller that takes none\n");
        for (int i = 0; i < 6000 && kill(r, 0) == 0; i++) {
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
        printf(kill(r, 0) == 0 ? "still running\n" : "ended\n");
        free(reloc);
        free(log);
        return 0;
    }
    /* the old pid where asked for and root (a user's restart gets a new one) */
    int old_pid = (restart_flags & CR_RSTRT_RESTORE_PID) && geteuid() == 0;
    if (old_pid && r != pid)
        printf("the restarted process has pid %d, not its old pid %d\n", (int)r, (int)pid);
    if (!old_pid && r == pid)
        printf("the restarted process has the old pid %d\n", (int)r);
    /* the worker itself (its command line is in its restored memory), not cr_restart
     * standing in for a worker that had already ended: this one has work left */
    char path[64], cmd[64] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)r);
    FILE *f = fopen(path, "re");
    size_t got = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;
    if (!getenv("HARNESS_ANY_PID") && (got < 14 || memcmp(cmd, "harness\0child\0", 14)))
        printf("the pid %d is not the worker's but '%s'\n", (int)r, cmd);
    if (f)
        fclose(f);
    /* BLCR: the restarted process is our child */
    if (getenv("HARNESS_SIGNAL") && atoi(getenv("HARNESS_SIGNAL")) == SIGSTOP) {
        /* left stopped: seen as our stopped child, then let go */
        for (int i = 0; i < 6000; i++) {
            pid_t w = waitpid(r, &status, WUNTRACED | WNOHANG);
            if (w == r || w < 0)
                break;
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
        if (!WIFSTOPPED(status))
            die("the restarted process is not stopped");
        printf("stopped\n");
        kill(r, SIGCONT);
    }
    if (wait_child(r, &status) < 0)
        die("waitpid of the restarted process");
    if (WIFEXITED(status))
        printf("status %d\n", WEXITSTATUS(status));
    else
        printf("signal %d\n", WTERMSIG(status));
    free(reloc);
    free(log);
    return 0;
}

/* The long way: wait, read the log, reap. */
static int fail(const char *ctx)
{
    int fd = open(ctx, O_RDONLY);
    if (fd < 0)
        die("open ctx");
    cr_restart_args_t args;
    cr_restart_handle_t h;
    cr_initialize_restart_args_t(&args);
    args.cr_fd = fd;
    if (cr_request_restart(&args, &h) < 0)
        die("cr_request_restart");
    /* nothing was waited for: not done yet, and the handle stays */
    if (cr_reap_restart(&h) != -1 || errno != EAGAIN) {
        printf("cr_reap_restart before any wait: errno %d, want EAGAIN\n", errno);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < 60 && rc == 0; i++) {
        struct timeval tv = { 1, 0 };
        rc = cr_wait_restart(&h, &tv);
    }
    if (rc != 1)
        die("cr_wait_restart");
    char log[2048] = "";
    int need = cr_log_restart(&h, sizeof log, log);
    if (need < 0) {
        printf("cr_log_restart after cr_wait_restart: %s\n", cr_strerror(errno));
        return 1;
    }
    if (need != (int)strlen(log) + 1) {
        printf("cr_log_restart says %d bytes for a message of %zu\n", need, strlen(log));
        return 1;
    }
    if (cr_reap_restart(&h) >= 0) {
        printf("restart of %s did not fail\n", ctx);
        return 1;
    }
    printf("errno %d\n%s\n", errno, log);
    close(fd);
    return 0;
}

/* A tree file: the poll gives its root, running under cr_restart (not our child). */
static int tree(const char *ctx)
{
    pid_t r = restart(ctx, NULL, NULL); /* cr_poll_restart, without the message */
    if (r < 0) {
        printf("restart failed: %s (%d)\n", cr_strerror(errno), errno);
        return 1;
    }
    /* its command line is in its restored memory (its comm may not be back yet) */
    char path[64], cmd[64] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)r);
    FILE *f = fopen(path, "re");
    if (!f || !fread(cmd, 1, sizeof cmd - 1, f))
        die("the restarted root is not there");
    fclose(f);
    int status;
    printf("root %s\n", cmd); /* its first word */
    if (waitpid(r, &status, WNOHANG) != -1 || errno != ECHILD)
        printf("the root of a tree is our child\n");
    for (int i = 0; i < 6000 && kill(r, 0) == 0; i++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    printf(kill(r, 0) == 0 ? "still running\n" : "ended\n");
    /* cr_restart was not left to us either (a zombie we would not know of) */
    if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
        printf("the restart left a child of ours\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 7 && !strcmp(argv[1], "child"))
        return child(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], atoi(argv[6]));
    if ((argc == 6 || argc == 8) && !strcmp(argv[1], "run"))
        return run(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], argc == 8 ? argv[6] : NULL,
                   argc == 8 ? argv[7] : NULL);
    if (argc == 3 && !strcmp(argv[1], "fail"))
        return fail(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "tree"))
        return tree(argv[2]);
    fprintf(stderr, "usage: harness child|run|fail ... (see the source)\n");
    return 2;
}
