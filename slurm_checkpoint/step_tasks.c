/* Finding a step's tasks on this node: see step_tasks.h. */
#define _GNU_SOURCE
#include "step_tasks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int step_proc_stat(pid_t pid, char *comm, size_t len, pid_t *ppid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
    if (!open_p || !close_p || close_p < open_p)
        return -1;
    snprintf(comm, len, "%.*s", (int)(close_p - open_p - 1), open_p + 1);
    char state;
    int pp;
    if (sscanf(close_p + 1, " %c %d", &state, &pp) != 2)
        return -1;
    *ppid = (pid_t)pp;
    return 0;
}

/* The value of NAME in the environment block env (len bytes), or NULL. */
static const char *env_get(const char *env, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = env; p < env + len; p += strlen(p) + 1)
        if (!strncmp(p, name, nl) && p[nl] == '=')
            return p + nl + 1;
    return NULL;
}

static pid_t child_of(pid_t parent)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d && (e = readdir(d)) && !found) {
        pid_t pid = (pid_t)atoi(e->d_name), pp;
        char comm[64];
        if (pid > 0 && step_proc_stat(pid, comm, sizeof comm, &pp) == 0 && pp == parent)
            found = pid;
    }
    if (d)
        closedir(d);
    return found;
}

pid_t step_task_target(pid_t pid)
{
    char comm[64];
    pid_t ppid, c;
    /* a task restarted at launch is cr_restart: what runs is its child, or for a
     * tree (a batch script) its grandchild, below the tree's pid 1 (a cr_restart too) */
    for (int depth = 0; depth < 2; depth++) {
        if (step_proc_stat(pid, comm, sizeof comm, &ppid) < 0 || strcmp(comm, "cr_restart") ||
            (c = child_of(pid)) <= 0)
            break;
        pid = c;
    }
    return pid;
}

int step_tasks_find(const char *job, const char *step, const char *node, struct step_task *t, int max)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -errno;
    struct dirent *e;
    int n = 0;
    uid_t me = getuid();
    size_t cap = 1 << 18;
    char *env = malloc(cap + 1);
    if (!env) {
        closedir(d);
        return -ENOMEM;
    }
    while ((e = readdir(d)) && n < max) {
        pid_t pid = (pid_t)atoi(e->d_name), ppid;
        char path[64], comm[64], pcomm[64];
        struct stat st;
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        if (stat(path, &st) < 0 || st.st_uid != me)
            continue;
        if (step_proc_stat(pid, comm, sizeof comm, &ppid) < 0 ||
            step_proc_stat(ppid, pcomm, sizeof pcomm, &ppid) < 0 || strcmp(pcomm, "slurmstepd"))
            continue;
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        size_t len = 0;
        ssize_t r;
        while (len < cap && (r = read(fd, env + len, cap - len)) > 0)
            len += (size_t)r;
        close(fd);
        env[len] = 0;
        const char *j = env_get(env, len, "SLURM_JOB_ID"), *s = env_get(env, len, "SLURM_STEP_ID"),
                   *nn = env_get(env, len, "SLURMD_NODENAME"), *r_ = env_get(env, len, "SLURM_PROCID"),
                   *img = env_get(env, len, "SLURM_CHECKPOINT_IMAGE_DIR"),
                   *iv = env_get(env, len, "SLURM_CHECKPOINT"),
                   *sc = env_get(env, len, "SLURM_CHECKPOINT_SCRATCH_DIR"),
                   *nt = env_get(env, len, "SLURM_STEP_NUM_TASKS");
        /* several clusters on one host (test clusters, with the same node names): a
         * task of another one names another slurm.conf */
        const char *conf = env_get(env, len, "SLURM_CONF"), *myconf = getenv("SLURM_CONF");
        if (conf && myconf && strcmp(conf, myconf))
            continue;
        /* the batch script has no SLURM_STEP_ID */
        int batch = !strcmp(step, "batch");
        if (!j || !nn || !r_ || strcmp(j, job) || strcmp(nn, node) || (batch ? s != NULL : !s || strcmp(s, step)))
            continue;
        t[n].task_pid = pid;
        t[n].pid = step_task_target(pid);
        t[n].rank = (unsigned)atoi(r_);
        t[n].ntasks = batch ? 1 : nt ? (unsigned)atoi(nt) : 0;
        snprintf(t[n].image_dir, sizeof t[n].image_dir, "%s", img ? img : "");
        snprintf(t[n].scratch, sizeof t[n].scratch, "%s", sc && sc[0] == '/' ? sc : "");
        snprintf(t[n].interval, sizeof t[n].interval, "%s", iv && strspn(iv, "0123456789") == strlen(iv) ? iv : "");
        n++;
    }
    free(env);
    closedir(d);
    return n;
}
