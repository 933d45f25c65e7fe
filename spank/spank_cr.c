/* spank_cr.so: the SPANK plugin that brings checkpoint/restart back to Slurm.
 *
 * This first part gives srun and sbatch the historical options (--checkpoint,
 * --checkpoint-dir, --restart-dir), refuses bad values at submit time with Slurm's
 * old message, starts every task with the slurm-cr runtime preloaded, and gives the
 * task the old environment (SLURM_CHECKPOINT, SLURM_CHECKPOINT_DIR,
 * SLURM_CHECKPOINT_IMAGE_DIR, SLURM_RESTART_DIR).  Any task can then be
 * checkpointed by its owner or root with cr_checkpoint, and restarted with cr_restart.
 * With --checkpoint and a directory, a writer per node takes periodic checkpoints
 * (periodic.c); with --restart-dir, every task restarts from the latest complete
 * generation there instead of starting afresh (restart.c).
 *
 * The batch step (sbatch) is its script's process tree: checkpointed whole with
 * cr_checkpoint into <dir>/<jobid>/gen.N/script.ckpt, restarted from there (sbatch
 * --restart-dir=<dir>/<jobid>, or by itself when the job is requeued and has a
 * complete checkpoint).  Its `srun` is slurm-cr's wrapper (batch_bin= first in PATH),
 * which runs the real srun outside the tree and, restored, runs it again from the
 * step's images (slurm_checkpoint/batch/srun.c).
 *
 * plugstack.conf:  required /path/spank_cr.so [runtime=PATH] [checkpoint_dir=DIR]
 *                  [generations=N] [cr_restart=PATH] [cr_checkpoint=PATH] [agent=PATH]
 *                  [batch_bin=DIR] [scratch_dir=DIR] [compress=LEVEL]
 *                  [backend=user|kmod|auto] [preload=yes|no]
 * backend=kmod: the node agent (scontrol checkpoint) writes a task without the runtime
 * from outside, through ptrace and the crctl module (slurm_checkpoint/agent_backend.h);
 * preload=no starts the tasks without the runtime (then only backend=kmod or auto
 * can checkpoint them).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <slurm/spank.h>

#include "control.h"
#include "periodic.h"
#include "restart.h"
#include "staging.h"

SPANK_PLUGIN(cr, 1);

#ifndef CR_RUN_LIB
#define CR_RUN_LIB "libcr_run.so"
#endif

#ifndef CR_RESTART_PROG
#define CR_RESTART_PROG "/usr/local/bin/cr_restart"
#endif
#ifndef CR_AGENT_PROG
#define CR_AGENT_PROG "/usr/local/libexec/slurm-cr/cr_agent"
#endif
#ifndef CR_CHECKPOINT_PROG
#define CR_CHECKPOINT_PROG "/usr/local/bin/cr_checkpoint"
#endif
#ifndef CR_BATCH_BIN
#define CR_BATCH_BIN "/usr/local/libexec/slurm-cr/batch"
#endif
#define BATCH_STEP 0xfffffffbU

static char runtime[4096] = CR_RUN_LIB;
static char cr_restart[4096] = CR_RESTART_PROG; /* cr_restart= in plugstack.conf */
static char agent[4096] = CR_AGENT_PROG;        /* agent= in plugstack.conf */
static char cr_checkpoint[4096] = CR_CHECKPOINT_PROG; /* cr_checkpoint= */
static char batch_bin[4096] = CR_BATCH_BIN;     /* batch_bin= */
static char scratch_dir[4096];                  /* scratch_dir= (node-local staging, %n: node) */
static char site_dir[4096];      /* checkpoint_dir= in plugstack.conf */
static char compress[16];        /* compress= in plugstack.conf: the steps' CR_COMPRESS */
static char backend[8];          /* backend= in plugstack.conf: the steps' CR_BACKEND */
static int preload = 1;          /* preload=no: the tasks start without the runtime */
static long interval = -1;       /* seconds, from --checkpoint; 0: none */
static char ckpt_dir[4096];      /* --checkpoint-dir */
static char restart_dir[4096];   /* --restart-dir */
static unsigned keep = 2;        /* generations= in plugstack.conf */
static int reg_fd = -1;          /* to the periodic writer: "RANK PID" of each task */
static pid_t writer;
static char image_dir[4096];     /* this step's, when it has a checkpoint dir */

/* Slurm's time formats: "minutes", "minutes:seconds", "hours:minutes:seconds",
 * "days-hours", "days-hours:minutes", "days-hours:minutes:seconds".  Returns seconds,
 * or -1. */
static long parse_interval(const char *s)
{
    long f[4] = { 0, 0, 0, 0 }, days = 0;
    int n = 0, has_days = 0;
    const char *p = s;
    if (!s || !*s)
        return -1;
    const char *dash = strchr(s, '-');
    if (dash) {
        char *end;
        days = strtol(s, &end, 10);
        if (end != dash || days < 0)
            return -1;
        has_days = 1;
        p = dash + 1;
    }
    while (*p) {
        char *end;
        if (!isdigit((unsigned char)*p) || n == 3)
            return -1;
        f[n++] = strtol(p, &end, 10);
        p = end;
        if (*p == ':')
            p++;
        else if (*p)
            return -1;
    }
    if (!n)
        return -1;
    if (has_days) /* days-hours[:minutes[:seconds]] */
        return days * 86400 + f[0] * 3600 + f[1] * 60 + f[2];
    switch (n) {
    case 1: return f[0] * 60;                       /* minutes */
    case 2: return f[0] * 60 + f[1];                /* minutes:seconds */
    default: return f[0] * 3600 + f[1] * 60 + f[2]; /* hours:minutes:seconds */
    }
}

static int opt_checkpoint(int val, const char *optarg, int remote)
{
    (void)val;
    long v = parse_interval(optarg);
    if (v < 0) {
        slurm_error("Invalid checkpoint interval specification: %s", optarg ? optarg : "");
        return -1;
    }
    interval = v;
    (void)remote;
    return 0;
}

static int opt_dir(const char *optarg, char *out, size_t len, const char *what)
{
    if (!optarg || optarg[0] != '/' || strlen(optarg) >= len) {
        slurm_error("--%s wants an absolute path, not '%s'", what, optarg ? optarg : "");
        return -1;
    }
    snprintf(out, len, "%s", optarg);
    return 0;
}

static int opt_checkpoint_dir(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    return opt_dir(optarg, ckpt_dir, sizeof ckpt_dir, "checkpoint-dir");
}

static int opt_restart_dir(int val, const char *optarg, int remote)
{
    (void)val;
    (void)remote;
    return opt_dir(optarg, restart_dir, sizeof restart_dir, "restart-dir");
}

static struct spank_option options[] = {
    { "checkpoint", "interval",
      "checkpoint the step every interval (minutes, or Slurm's [days-]hours:minutes:seconds "
      "formats; 0: never)", 1, 0, opt_checkpoint },
    { "checkpoint-dir", "dir", "directory for the step's checkpoint images", 1, 0, opt_checkpoint_dir },
    { "restart-dir", "dir", "directory of the images to restart the step from", 1, 0, opt_restart_dir },
    SPANK_OPTIONS_TABLE_END
};

int slurm_spank_init(spank_t sp, int ac, char **av)
{
    for (int i = 0; i < ac; i++) {
        if (!strncmp(av[i], "runtime=", 8))
            snprintf(runtime, sizeof runtime, "%s", av[i] + 8);
        else if (!strncmp(av[i], "checkpoint_dir=", 15))
            snprintf(site_dir, sizeof site_dir, "%s", av[i] + 15);
        else if (!strncmp(av[i], "generations=", 12) && atoi(av[i] + 12) > 0)
            keep = (unsigned)atoi(av[i] + 12);
        else if (!strncmp(av[i], "cr_restart=", 11) && av[i][11] == '/')
            snprintf(cr_restart, sizeof cr_restart, "%s", av[i] + 11);
        else if (!strncmp(av[i], "agent=", 6) && av[i][6] == '/')
            snprintf(agent, sizeof agent, "%s", av[i] + 6);
        else if (!strncmp(av[i], "cr_checkpoint=", 14) && av[i][14] == '/')
            snprintf(cr_checkpoint, sizeof cr_checkpoint, "%s", av[i] + 14);
        else if (!strncmp(av[i], "batch_bin=", 10) && av[i][10] == '/' && !strchr(av[i], ':'))
            snprintf(batch_bin, sizeof batch_bin, "%s", av[i] + 10);
        else if (!strncmp(av[i], "scratch_dir=", 12) && av[i][12] == '/')
            snprintf(scratch_dir, sizeof scratch_dir, "%s", av[i] + 12);
        else if (!strncmp(av[i], "compress=", 9)) {
            unsigned f;
            if (cr_compress_flags(av[i] + 9, &f) < 0 || strlen(av[i] + 9) >= sizeof compress) {
                slurm_error("spank_cr: compress=%s in plugstack.conf: want a zstd level from 1 "
                            "to %d, or 0/no/off", av[i] + 9, CR_CTL_COMPRESS_MAX);
                return -1;
            }
            snprintf(compress, sizeof compress, "%s", av[i] + 9);
        } else if (!strncmp(av[i], "backend=", 8)) {
            const char *b = av[i] + 8;
            if (strcmp(b, "user") && strcmp(b, "kmod") && strcmp(b, "auto")) {
                slurm_error("spank_cr: backend=%s in plugstack.conf: want user (the runtime "
                            "preloaded into the tasks), kmod (also a task without it, through "
                            "ptrace and the crctl module) or auto (as kmod, the module not "
                            "required)", b);
                return -1;
            }
            snprintf(backend, sizeof backend, "%s", b);
        } else if (!strcmp(av[i], "preload=no") || !strcmp(av[i], "preload=yes"))
            preload = av[i][8] == 'y';
        else if (!strncmp(av[i], "event_hook=", 11) && av[i][11] == '/')
            setenv("SLURM_CR_EVENT_HOOK", av[i] + 11, 1); /* the writer, forked from here */
        else {
            slurm_error("spank_cr: unknown or bad plugstack.conf argument '%s' (known: runtime=PATH, "
                        "checkpoint_dir=DIR, generations=N, cr_restart=/PATH, cr_checkpoint=/PATH, "
                        "agent=/PATH, batch_bin=/DIR, scratch_dir=/DIR, event_hook=/PATH, compress=LEVEL, "
                        "backend=user|kmod|auto, preload=yes|no)", av[i]);
            return -1;
        }
    }
    if (!preload && strcmp(backend, "kmod") && strcmp(backend, "auto")) {
        slurm_error("spank_cr: preload=no in plugstack.conf without backend=kmod (or auto): the "
                    "tasks could not be checkpointed at all; add backend=kmod");
        return -1;
    }
    /* registered here, not in a static table, so that sbatch sees them too */
    for (struct spank_option *o = options; o->name; o++)
        if (spank_option_register(sp, o) != ESPANK_SUCCESS) {
            slurm_error("spank_cr: cannot register --%s", o->name);
            return -1;
        }
    return 0;
}

static void set(spank_t sp, const char *var, const char *val)
{
    if (spank_setenv(sp, var, val, 1) != ESPANK_SUCCESS)
        slurm_error("spank_cr: cannot set %s", var);
}

/* The periodic writer: a child of slurmstepd with nothing but the job user's identity. */
static void start_writer(spank_t sp, const char *image_dir, int batch)
{
    uid_t uid = 0;
    gid_t gid = 0;
    uint32_t nodeid = 0, nnodes = 1, ntasks = 0;
    int p[2];
    char node[256] = "";
    spank_get_item(sp, S_JOB_NODEID, &nodeid);
    spank_get_item(sp, S_JOB_NNODES, &nnodes);
    spank_get_item(sp, S_JOB_TOTAL_TASK_COUNT, &ntasks);
    if (spank_getenv(sp, "SLURMD_NODENAME", node, sizeof node) != ESPANK_SUCCESS)
        gethostname(node, sizeof node - 1);
    if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS || uid == 0 ||
        pipe2(p, O_CLOEXEC) < 0) {
        slurm_error("spank_cr: periodic checkpoints are off for this step (no user or pipe)");
        return;
    }
    /* The writer is a grandchild that init reaps: a child of slurmstepd killed with the
     * step (scancel) would stay a zombie that slurmstepd never waits for, and the step
     * would not end ("job not ending with signals").  It ends when the pipe closes:
     * at slurm_spank_exit, or when slurmstepd is gone. */
    pid_t pid = fork();
    if (pid == 0) {
        if (fork() != 0)
            _exit(0);
        /* nothing of slurmstepd's: its sockets to srun must close when the step ends */
        int null = open("/dev/null", O_RDWR);
        if (dup2(p[0], 3) < 0 || null < 0)
            _exit(1);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        syscall(SYS_close_range, 4U, ~0U, 0U);
        /* user_init runs with privileges dropped for now (euid and groups the user's):
         * make that for good; with euid 0, drop root's groups first */
        if ((geteuid() == 0 && setgroups(1, &gid) < 0) || setresgid(gid, gid, gid) < 0 ||
            setresuid(uid, uid, uid) < 0)
            _exit(1);
        cr_periodic_writer(3, image_dir, interval, keep, node, nodeid, nnodes, ntasks,
                           batch ? cr_checkpoint : NULL, scratch_dir[0] ? scratch_dir : NULL);
    }
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        slurm_error("spank_cr: cannot start the checkpoint writer: %s", strerror(errno));
        return;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    writer = pid;
    reg_fd = p[1];
}

/* In slurmstepd, with the job user's identity, before the tasks are forked. */
int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!spank_remote(sp))
        return 0;
    /* the site's backend, unless the job chose (CR_BACKEND): for the node agent (the
     * helper step gets it here too), the periodic writer and the tasks' own cr_checkpoint */
    char jobb[16];
    if (spank_getenv(sp, "CR_BACKEND", jobb, sizeof jobb) == ESPANK_SUCCESS) {
        setenv("CR_BACKEND", jobb, 1); /* for the periodic writer, forked from here */
    } else if (backend[0]) {
        set(sp, "CR_BACKEND", backend);
        setenv("CR_BACKEND", backend, 1);
        /* said when the step starts, not only at its first checkpoint */
        if (!strcmp(backend, "kmod") && access("/dev/crctl", F_OK) < 0)
            slurm_error("spank_cr: backend=kmod in plugstack.conf, but the crctl module is not "
                        "loaded on this node (/dev/crctl: %s): tasks without the runtime cannot be "
                        "checkpointed here; load it (modprobe crctl, from the slurm-cr DKMS "
                        "package)", strerror(errno));
    }
    if (preload && access(runtime, R_OK) < 0) {
        slurm_error("spank_cr: the slurm-cr runtime %s is not readable (%s): tasks cannot be "
                    "checkpointed; fix runtime= in plugstack.conf", runtime, strerror(errno));
        return 0; /* the job runs anyway, without checkpoints */
    }
    char old[8192] = "", val[8192 + 4096];
    if (spank_getenv(sp, "LD_PRELOAD", old, sizeof old) != ESPANK_SUCCESS)
        old[0] = 0;
    if (preload && !strstr(old, runtime)) {
        snprintf(val, sizeof val, "%s%s%s", runtime, old[0] ? ":" : "", old);
        set(sp, "LD_PRELOAD", val);
    }
    /* the site's event hook, for the events that the tasks' tools report (restart at
     * launch, the node agent's step) */
    const char *hook = getenv("SLURM_CR_EVENT_HOOK");
    if (hook)
        set(sp, "SLURM_CR_EVENT_HOOK", hook);
    /* the site's compression, unless the job chose (CR_COMPRESS): for the node agent,
     * the periodic writer (forked from here) and the tasks' own requests */
    char jobz[64];
    if (spank_getenv(sp, "CR_COMPRESS", jobz, sizeof jobz) == ESPANK_SUCCESS)
        setenv("CR_COMPRESS", jobz, 1);
    else if (compress[0]) {
        set(sp, "CR_COMPRESS", compress);
        setenv("CR_COMPRESS", compress, 1);
    }
    uint32_t job = 0, step = 0;
    spank_get_item(sp, S_JOB_ID, &job);
    spank_get_item(sp, S_JOB_STEPID, &step);
    const char *dir = ckpt_dir[0] ? ckpt_dir : site_dir;
    int batch = step == BATCH_STEP;
    if (interval >= 0) {
        snprintf(val, sizeof val, "%ld", interval);
        set(sp, "SLURM_CHECKPOINT", val);
    }
    /* a step that the batch script's srun wrapper runs again from its images keeps
     * writing them where they are */
    char keep_dir[4096] = "";
    if (!batch && spank_getenv(sp, "SLURM_CR_STEP_IMAGE_DIR", keep_dir, sizeof keep_dir) == ESPANK_SUCCESS &&
        keep_dir[0] == '/')
        dir = dir[0] ? dir : keep_dir;
    else
        keep_dir[0] = 0;
    spank_unsetenv(sp, "SLURM_CR_STEP_IMAGE_DIR");
    if (dir[0]) {
        set(sp, "SLURM_CHECKPOINT_DIR", dir);
        if (batch) /* the batch script: <dir>/<jobid>, as the old plugin did */
            snprintf(val, sizeof val, "%s/%u", dir, job);
        else if (keep_dir[0])
            snprintf(val, sizeof val, "%s", keep_dir);
        else
            snprintf(val, sizeof val, "%s/%u.%u", dir, job, step);
        set(sp, "SLURM_CHECKPOINT_IMAGE_DIR", val);
        snprintf(image_dir, sizeof image_dir, "%.4095s", val);
        if (batch && access(batch_bin, X_OK) == 0) { /* the srun wrapper first in PATH */
            char path[8192] = "", newpath[8192 + 4200];
            spank_getenv(sp, "PATH", path, sizeof path);
            if (strncmp(path, batch_bin, strlen(batch_bin)) || path[strlen(batch_bin)] != ':') {
                snprintf(newpath, sizeof newpath, "%s%s%s", batch_bin, path[0] ? ":" : "", path);
                set(sp, "PATH", newpath);
            }
        }
    }
    if (restart_dir[0])
        set(sp, "SLURM_RESTART_DIR", restart_dir);
    /* sbatch --restart-dir is the batch script's: its steps must not inherit it */
    if (batch)
        spank_unsetenv(sp, "SLURM_SPANK__SLURM_SPANK_OPTION_cr_restart_dir");
    if (interval > 0 && dir[0])
        start_writer(sp, val, batch);
    else if (interval > 0)
        slurm_error("spank_cr: --checkpoint needs a place for the images: give --checkpoint-dir, "
                    "or set checkpoint_dir= in plugstack.conf; no periodic checkpoints");
    return 0;
}

/* In the task, with the job user's identity, right before Slurm execs the program. */
int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    if (!spank_remote(sp))
        return 0;
    if (reg_fd >= 0) { /* the writer learns the node's name from the first task */
        char node[256];
        if (spank_getenv(sp, "SLURMD_NODENAME", node, sizeof node) == ESPANK_SUCCESS)
            dprintf(reg_fd, "node %s\n", node);
        close(reg_fd);
        reg_fd = -1;
    }
    uint32_t step = 0, restarts = 0;
    char count[32], node[256];
    /* where the node agent stages this task's checkpoints (scontrol checkpoint) */
    if (scratch_dir[0] && image_dir[0] &&
        spank_getenv(sp, "SLURMD_NODENAME", node, sizeof node) == ESPANK_SUCCESS) {
        char scratch[4096];
        if (cr_stage_expand(scratch_dir, node, scratch, sizeof scratch) == 0)
            set(sp, "SLURM_CHECKPOINT_SCRATCH_DIR", scratch);
    }
    spank_get_item(sp, S_JOB_STEPID, &step);
    /* requeued: Slurm's restart count, as an item or (for the batch step) in the job's
     * environment */
    if (spank_get_item(sp, S_SLURM_RESTART_COUNT, &restarts) != ESPANK_SUCCESS || !restarts)
        restarts = spank_getenv(sp, "SLURM_RESTART_COUNT", count, sizeof count) == ESPANK_SUCCESS ?
                       (uint32_t)atoi(count) : 0;
    if (!restart_dir[0] && step == BATCH_STEP && image_dir[0] && restarts > 0 &&
        cr_has_checkpoint(image_dir))
        /* a requeued batch job with a complete checkpoint resumes from it */
        return cr_restart_at_launch(sp, image_dir, cr_restart, agent);
    if (!restart_dir[0])
        return 0;
    return cr_restart_at_launch(sp, restart_dir, cr_restart, agent);
}

/* In srun: the batch script's srun wrapper learns the step's id and image dir. */
int slurm_spank_local_user_init(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    const char *fd = getenv("SLURM_CR_SRUN_FD");
    uint32_t job = 0, step = 0;
    if (!fd || atoi(fd) < 3 || spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_STEPID, &step) != ESPANK_SUCCESS)
        return 0;
    const char *dir = ckpt_dir[0] ? ckpt_dir : getenv("SLURM_CHECKPOINT_DIR");
    const char *keep_dir = getenv("SLURM_CR_STEP_IMAGE_DIR");
    if (!dir || dir[0] != '/')
        dir = site_dir;
    if (keep_dir && keep_dir[0] == '/')
        dprintf(atoi(fd), "step %u %u %s\n", job, step, keep_dir);
    else if (dir[0])
        dprintf(atoi(fd), "step %u %u %s/%u.%u\n", job, step, dir, job, step);
    else
        dprintf(atoi(fd), "step %u %u -\n", job, step);
    return 0;
}

/* In slurmstepd, right after each task is forked: tell the writer. */
int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
    (void)ac;
    (void)av;
    pid_t pid = 0;
    uint32_t rank = 0;
    if (reg_fd < 0 || spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_TASK_GLOBAL_ID, &rank) != ESPANK_SUCCESS)
        return 0;
    dprintf(reg_fd, "%u %d\n", rank, (int)pid);
    return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
    (void)sp;
    (void)ac;
    (void)av;
    if (writer > 0) {
        close(reg_fd); /* the writer ends when it sees the pipe closed */
        reg_fd = -1;
        writer = 0;
    }
    return 0;
}
