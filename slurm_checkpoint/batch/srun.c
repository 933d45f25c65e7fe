/* srun, as a batch script of slurm-cr sees it (the plugin puts this program's
 * directory first in the batch script's PATH).
 *
 * A checkpoint of the batch script takes its whole process tree; the real srun, with
 * its connections to slurmctld and slurmstepd, cannot come back from an image.  So
 * this wrapper, which is part of the tree, runs the real srun outside it: a detached
 * runner (its parent exits, so it is nobody's descendant in the tree) starts srun and
 * reports over a socket pair what the plugin in srun says ("step JOB STEP IMAGE_DIR")
 * and srun's wait status ("exit STATUS").  The wrapper then exits as srun did.
 *
 * Restored from a checkpoint, the wrapper finds its socket dead (ECONNRESET): it
 * runs srun again with --restart-dir=IMAGE_DIR when that step has a complete
 * generation (the step resumes from its images and keeps writing them there,
 * SLURM_CR_STEP_IMAGE_DIR), or as it was given otherwise.  The restored script's
 * environment is the old job's: the Slurm variables are taken from the cr_restart
 * that restored the tree (an ancestor), so that srun runs in the job that restarted
 * it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "step_tasks.h"

static const char *me = "srun (slurm-cr)";
static volatile pid_t srun_pid;

static void forward(int sig)
{
    if (srun_pid > 0)
        kill(srun_pid, sig);
}

/* The real srun: the first srun in PATH that is not this program. */
static int find_srun(char *out, size_t len)
{
    char self[PATH_MAX], cand[PATH_MAX], real[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    const char *forced = getenv("SLURM_CR_REAL_SRUN");
    if (forced && forced[0] == '/') {
        snprintf(out, len, "%s", forced);
        return 0;
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(cand, sizeof cand, "%s/srun", d);
        if (access(cand, X_OK) < 0 || !realpath(cand, real) || !strcmp(real, self))
            continue;
        snprintf(out, len, "%s", cand);
        free(copy);
        return 0;
    }
    free(copy);
    return -1;
}

static int slurm_var(const char *kv)
{
    return !strncmp(kv, "SLURM", 5) || !strncmp(kv, "_SLURM", 6) || !strncmp(kv, "SBATCH_", 7);
}


/* The environment of process pid (NUL-separated, len bytes), or NULL. */
static char *read_environ(pid_t pid, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 20;
    char *env = malloc(cap + 1);
    ssize_t r;
    *len = 0;
    while (env && *len < cap && (r = read(fd, env + *len, cap - *len)) > 0)
        *len += (size_t)r;
    close(fd);
    if (!env || !*len) {
        free(env);
        return NULL;
    }
    env[*len] = 0;
    return env;
}

static const char *job_of(const char *env, size_t len)
{
    for (const char *p = env; p < env + len; p += strlen(p) + 1)
        if (!strncmp(p, "SLURM_JOB_ID=", 13))
            return p + 13;
    return NULL;
}

/* In a restored tree: the Slurm environment of the job that restarted it, from the
 * nearest ancestor in another job than ours (cr_restart, outside the restored tree:
 * every process of the tree has the old job's; a name tells nothing, a restored
 * process is named cr_restart for a moment and its /proc/PID/exe stays so).  Pids as
 * /proc shows them: /proc/self is right even inside the tree's pid namespace. */
static void take_restarting_env(void)
{
    char self[64], comm[64];
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    const char *ours = getenv("SLURM_JOB_ID");
    if (n <= 0 || !ours)
        return;
    self[n] = 0;
    pid_t pid = (pid_t)atoi(self), pp;
    char *env = NULL;
    size_t len = 0;
    for (int depth = 0; depth < 64 && pid > 1; depth++, pid = pp) {
        if (step_proc_stat(pid, comm, sizeof comm, &pp) < 0 || !strcmp(comm, "slurmstepd"))
            return; /* not restored */
        if (depth == 0 || !(env = read_environ(pid, &len)))
            continue;
        const char *job = job_of(env, len);
        if (job && strcmp(job, ours))
            break;
        free(env);
        env = NULL;
    }
    if (!env)
        return;
    /* ours go, theirs come */
    extern char **environ;
    for (;;) {
        char **e;
        for (e = environ; *e && !(slurm_var(*e) && strncmp(*e, "SLURM_CR_", 9)); e++)
            ;
        if (!*e)
            break;
        char name[512];
        snprintf(name, sizeof name, "%.*s", (int)(strcspn(*e, "=")), *e);
        unsetenv(name);
    }
    for (char *p = env; p < env + len; p += strlen(p) + 1)
        if (slurm_var(p) && strchr(p, '='))
            putenv(p); /* env stays allocated */
}

/* Does DIR hold a complete generation (latest/manifest, or any gen.N/manifest)? */
static int has_generation(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/latest/manifest", dir);
    return access(path, R_OK) == 0;
}

/* Runs srun (argv) outside our tree; returns its wait status, or -1 when this
 * process was restored from a checkpoint meanwhile (the socket is dead), -2 when the
 * runner vanished. */
static int run(char **argv, char *stepdir, size_t len)
{
    int s[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0) {
        fprintf(stderr, "%s: socketpair: %s\n", me, strerror(errno));
        exit(1);
    }
    pid_t mid = fork();
    if (mid < 0) {
        fprintf(stderr, "%s: fork: %s\n", me, strerror(errno));
        exit(1);
    }
    if (mid == 0) {
        close(s[0]);
        pid_t runner = fork();
        if (runner != 0)
            _exit(runner < 0);
        /* the runner: detached from the tree */
        pid_t c = fork();
        if (c == 0) {
            char fd[16];
            snprintf(fd, sizeof fd, "%d", s[1]);
            setenv("SLURM_CR_SRUN_FD", fd, 1);
            fcntl(s[1], F_SETFD, 0);
            execv(argv[0], argv);
            fprintf(stderr, "%s: cannot run %s: %s\n", me, argv[0], strerror(errno));
            _exit(127);
        }
        if (c < 0) {
            fprintf(stderr, "%s: fork: %s\n", me, strerror(errno));
            _exit(1);
        }
        dprintf(s[1], "pid %d\n", (int)c);
        int st;
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
            ;
        dprintf(s[1], "exit %d\n", st);
        _exit(0);
    }
    close(s[1]);
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    char buf[8192];
    size_t have = 0;
    int status = -2;
    for (;;) {
        ssize_t r = read(s[0], buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = -1; /* a dead socket: we were restored */
            break;
        }
        if (r == 0)
            break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            int v;
            unsigned j, k;
            char dir[PATH_MAX];
            if (sscanf(line, "exit %d", &v) == 1)
                status = v;
            else if (sscanf(line, "pid %d", &v) == 1)
                srun_pid = v;
            else if (sscanf(line, "step %u %u %4095s", &j, &k, dir) == 3 && dir[0] == '/')
                snprintf(stepdir, len, "%s", dir);
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have + 1);
        if (status >= 0)
            break;
    }
    close(s[0]);
    srun_pid = 0;
    return status;
}

int main(int argc, char **argv)
{
    char real[PATH_MAX], stepdir[PATH_MAX] = "";
    take_restarting_env();
    if (find_srun(real, sizeof real) < 0) {
        fprintf(stderr, "%s: no srun in PATH other than this wrapper\n", me);
        return 127;
    }
    int fwd[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGCONT };
    for (size_t i = 0; i < sizeof fwd / sizeof *fwd; i++)
        signal(fwd[i], forward);
    char **av = calloc((size_t)argc + 2, sizeof *av);
    char restart[PATH_MAX + 32];
    av[0] = real;
    for (int i = 1; i < argc; i++)
        av[i] = argv[i];
    for (int attempt = 0;; attempt++) {
        int st = run(av, stepdir, sizeof stepdir);
        if (st >= 0) {
            if (WIFSIGNALED(st)) {
                signal(WTERMSIG(st), SIG_DFL);
                raise(WTERMSIG(st));
                return 128 + WTERMSIG(st);
            }
            return WEXITSTATUS(st);
        }
        if (st == -2) {
            fprintf(stderr, "%s: %s ended without a word (its runner was killed)\n", me, real);
            return 1;
        }
        /* restored: srun again, in the job that restarted us */
        take_restarting_env();
        if (stepdir[0] && has_generation(stepdir)) {
            snprintf(restart, sizeof restart, "--restart-dir=%s", stepdir);
            av[1] = restart;
            for (int i = 1; i < argc; i++)
                av[i + 1] = argv[i];
            av[argc + 1] = NULL;
            setenv("SLURM_CR_STEP_IMAGE_DIR", stepdir, 1);
        } else {
            for (int i = 1; i < argc; i++)
                av[i] = argv[i];
            av[argc] = NULL;
        }
    }
}
