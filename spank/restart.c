/* Restart at launch: srun --restart-dir=<dir>/<jobid>.<stepid> ./app
 *
 * In slurm_spank_task_init (the task process, with the job user's identity only, right
 * before Slurm would execve the application) the task is made to run
 *   cr_restart --run-on-success=EVENT --run-on-failure=EVENT -f <gen.N>/task.<rank>.ckpt
 * instead; cr_restart stays the task (Slurm's child) and exits as the restored process
 * does.  Two ways, chosen by configure:
 *
 * - Slurm >= 23.11 (spank_prepend_task_argv): the plugin puts cr_restart and its
 *   arguments in front of the task's argv, with "--in-place-of --" before the program
 *   srun was given (cr_restart does not run it), and takes the runtime out of the
 *   task's LD_PRELOAD.  Slurm then goes on launching the task as any other: the rest of
 *   the plugin stack's task_init, TaskProlog, its own environment and limits, its exec
 *   and its error reporting if that exec fails.  Nothing of Slurm's launch is skipped
 *   and the plugin execs nothing from inside a callback.
 * - Slurm 22.05 has no such call, so the plugin execve()s cr_restart itself, with the
 *   task's environment (without the runtime).  That skips what Slurm does after
 *   task_init, like the old checkpoint/blcr plugin did: TaskProlog, the task_init of the
 *   plugins after this one, and the propagation of the submitting shell's limits (the
 *   restored process gets the limits it was checkpointed with).
 *
 * Before that, and as the job user only: the directory, its latest complete
 * generation (one with a manifest), the manifest's task count against the step's, and
 * the rank's file; any failure is said once (by rank 0 when it is the step's, by the
 * rank when it is its own) and the task fails to start.  RSTRT_BEGIN, then
 * RSTRT_END or RSTRT_ERROR (events.h) per task, the END from cr_restart's hooks.
 *
 * The tasks of a step meet again in <dir>/meet.<job>.<step>.<restarts> (cr_restart
 * --step-dir): the connections between them are made again there before any runs.
 *
 * The batch step (sbatch --restart-dir=<dir>/<jobid>, or a requeued job) is one
 * "task": its script's process tree, restarted from script.ckpt by cr_restart in a pid
 * namespace of its own; the script Slurm ran then is given back from the copy in the
 * generation (--relocate), since Slurm removed it with the old job. */
#define _GNU_SOURCE
#include "restart.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_script.h"
#include "events.h"
#include "manifest.h"

#define SPANK_BATCH_STEP 0xfffffffbU

static int fail(int say, int err, unsigned gen, int rank, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(int say, int err, unsigned gen, int rank, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (say)
        slurm_error("spank_cr: %s", msg);
    cr_event("RSTRT_ERROR", gen, rank, err, msg, 0, NULL);
    return -1;
}

/* 'text' for sh -c; 0 if text holds a quote */
static int quote(char *out, size_t len, const char *text)
{
    if (strchr(text, '\'') || strlen(text) + 3 > len)
        return 0;
    snprintf(out, len, "'%s'", text);
    return 1;
}

int cr_restart_at_launch(spank_t sp, const char *dir, const char *cr_restart, const char *agent)
{
    uint32_t rank = 0, ntasks = 0, job = 0, step = 0;
    uid_t uid = (uid_t)-1;
    char node[256] = "", msg[1536];
    int batch = spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS && step == SPANK_BATCH_STEP;
    if (spank_get_item(sp, S_TASK_GLOBAL_ID, &rank) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_TOTAL_TASK_COUNT, &ntasks) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS) {
        slurm_error("spank_cr: --restart-dir: Slurm did not give the task's rank, task count or user");
        return -1;
    }
    spank_get_item(sp, S_JOB_ID, &job);
    if (spank_getenv(sp, "SLURMD_NODENAME", node, sizeof node) != ESPANK_SUCCESS)
        gethostname(node, sizeof node - 1);
    /* everything below reads user-controlled paths: only ever as the user */
    if (geteuid() != uid || getuid() != uid || geteuid() == 0) {
        slurm_error("spank_cr: --restart-dir: the task runs as uid %u/%u, not as the job user %u; "
                    "refusing to read %s with those rights", (unsigned)getuid(), (unsigned)geteuid(),
                    (unsigned)uid, dir);
        return -1;
    }
    int say_step = rank == 0;
    cr_events_open(dir, node);
    struct cr_manifest m;
    int r = cr_manifest_latest(dir, &m, msg, sizeof msg);
    cr_event("RSTRT_BEGIN", r == 0 ? m.gen : 0, (int)rank, 0, NULL, 0, NULL);
    if (r < 0)
        return fail(say_step, -r, 0, (int)rank,
                    "--restart-dir=%s: %s; give the directory of a step's images, "
                    "<checkpoint-dir>/<jobid>.<stepid>, that holds a complete generation "
                    "(written by srun --checkpoint or scontrol checkpoint create)", dir, msg);
    if (batch && m.tasks != 1) {
        unsigned gen = m.gen, want = m.tasks;
        cr_manifest_free(&m);
        return fail(1, EINVAL, gen, 0,
                    "--restart-dir=%s: its checkpoint (generation %u) is a step of %u tasks, not a "
                    "batch script: give <checkpoint-dir>/<jobid> to sbatch, <jobid>.<stepid> to srun",
                    dir, gen, want);
    }
    if (!batch && m.tasks != ntasks) {
        unsigned gen = m.gen, want = m.tasks;
        cr_manifest_free(&m);
        return fail(say_step, EINVAL, gen, (int)rank,
                    "--restart-dir=%s: its checkpoint (generation %u) holds %u tasks, this step "
                    "has %u: restart it with -n%u (srun -n%u --restart-dir=%s ...)", dir, gen, want,
                    ntasks, want, want, dir);
    }
    char file[4400];
    snprintf(file, sizeof file, "%s/%s", m.dir, m.file[rank]);
    char m_dir[4200];
    snprintf(m_dir, sizeof m_dir, "%s", m.dir);
    unsigned gen = m.gen;
    cr_manifest_free(&m);
    if (access(file, R_OK) < 0)
        return fail(1, errno, gen, (int)rank, "--restart-dir=%s: rank %u: %s: %s", dir, rank, file,
                    strerror(errno));
    /* the hooks that report the end of the restart, run by cr_restart with sh -c;
     * static: with spank_prepend_task_argv, Slurm uses them after we return */
    static char qa[4200], qd[4200], qn[300], ok[9000], bad[9000], path[4400];
    if (!quote(qa, sizeof qa, agent) || !quote(qd, sizeof qd, dir) || !quote(qn, sizeof qn, node))
        return fail(1, EINVAL, gen, (int)rank, "--restart-dir=%s: a quote in a path", dir);
    snprintf(ok, sizeof ok, "--run-on-success=%s event RSTRT_END %s %s %u %u", qa, qd, qn, gen, rank);
    snprintf(bad, sizeof bad, "--run-on-failure=%s event RSTRT_ERROR %s %s %u %u", qa, qd, qn, gen, rank);
    snprintf(path, sizeof path, "%s", file);
    static char reloc[3][CR_BATCH_ARG_MAX];
    static char meet[4400];
    static char *argv[14];
    int argc = 0;
    argv[argc++] = (char *)cr_restart;
    argv[argc++] = ok;
    argv[argc++] = bad;
    if (!batch) {
        /* where the tasks meet to connect their connections to each other again: one
         * directory per start of the new step (a requeued job starts it again) */
        char count[32] = "0";
        spank_getenv(sp, "SLURM_RESTART_COUNT", count, sizeof count);
        uint32_t newstep = 0;
        spank_get_item(sp, S_JOB_STEPID, &newstep);
        snprintf(meet, sizeof meet, "%s/meet.%u.%u.%s", dir, job, newstep, count);
        if (mkdir(meet, 0700) < 0 && errno != EEXIST)
            return fail(1, errno, gen, (int)rank, "--restart-dir=%s: cannot create %s, where the "
                        "tasks meet again: %s", dir, meet, strerror(errno));
        static char arg[4420];
        snprintf(arg, sizeof arg, "--step-dir=%s", meet);
        argv[argc++] = arg;
    }
    if (batch) { /* the script from its copy; its output where this job's goes */
        cr_batch_relocate_arg(m_dir, reloc[0], sizeof reloc[0]);
        if (reloc[0][0])
            argv[argc++] = reloc[0];
        int k = cr_batch_restore_outputs(m_dir, reloc + 1, 2);
        for (int i = 0; i < k; i++)
            argv[argc++] = reloc[1 + i];
    }
    argv[argc++] = "-f";
    argv[argc++] = path;
    (void)job;
#if defined(HAVE_DECL_SPANK_PREPEND_TASK_ARGV) && HAVE_DECL_SPANK_PREPEND_TASK_ARGV
    /* cr_restart in front of the program srun was given, which it does not run */
    if (access(cr_restart, X_OK) < 0) /* said here, not by a failed exec in slurmstepd */
        return fail(1, errno, gen, (int)rank, "--restart-dir: cannot run %s: %s; set cr_restart= in "
                    "plugstack.conf", cr_restart, strerror(errno));
    argv[argc++] = "--in-place-of";
    argv[argc++] = "--";
    argv[argc] = NULL;
    /* the runtime stays out of cr_restart: the image holds its own */
    spank_err_t se = spank_unsetenv(sp, "LD_PRELOAD");
    if (se != ESPANK_SUCCESS && se != ESPANK_ENV_NOEXIST)
        return fail(1, EINVAL, gen, (int)rank, "--restart-dir: cannot take the runtime out of the "
                    "task's LD_PRELOAD: %s", spank_strerror(se));
    se = spank_prepend_task_argv(sp, argc, (const char **)argv);
    if (se != ESPANK_SUCCESS)
        return fail(1, EINVAL, gen, (int)rank, "--restart-dir: Slurm refused to run %s in front of "
                    "the task (spank_prepend_task_argv: %s)", cr_restart, spank_strerror(se));
    return 0;
#else
    argv[argc] = NULL;
    /* the task's environment, without the runtime: the image holds its own */
    char **env = NULL, **clean;
    size_t n = 0;
    if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || !env)
        return fail(1, EINVAL, gen, (int)rank, "--restart-dir: Slurm did not give the task's environment");
    while (env[n])
        n++;
    clean = calloc(n + 1, sizeof *clean);
    if (!clean)
        return fail(1, ENOMEM, gen, (int)rank, "--restart-dir: %s", strerror(ENOMEM));
    n = 0;
    for (char **e = env; *e; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11))
            clean[n++] = *e;
    execve(cr_restart, argv, clean);
    int e = errno;
    free(clean);
    return fail(1, e, gen, (int)rank, "--restart-dir: cannot run %s: %s; set cr_restart= in plugstack.conf",
                cr_restart, strerror(e));
#endif
}

int cr_has_checkpoint(const char *image_dir)
{
    struct cr_manifest m;
    char msg[256];
    if (cr_manifest_latest(image_dir, &m, msg, sizeof msg) < 0)
        return 0;
    cr_manifest_free(&m);
    return 1;
}
