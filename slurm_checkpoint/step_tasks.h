/* The tasks of a step on this node, found in /proc: processes of this user whose
 * parent is a slurmstepd and whose environment names the job, the step and this node
 * (several slurmd may share one kernel, so the node name is checked too, and, when both
 * have one, that the task's SLURM_CONF is ours: several clusters may share it). */
#ifndef SLURM_CR_STEP_TASKS_H
#define SLURM_CR_STEP_TASKS_H

#include <sys/types.h>

struct step_task {
    pid_t pid;        /* what to checkpoint: the task, or the process cr_restart restored */
    pid_t task_pid;   /* the task itself (Slurm's child) */
    unsigned rank;    /* SLURM_PROCID */
    unsigned ntasks;  /* SLURM_STEP_NUM_TASKS: the step's tasks on every node (0: not known) */
    char image_dir[4096]; /* its SLURM_CHECKPOINT_IMAGE_DIR, "" if none */
    char interval[32];    /* its SLURM_CHECKPOINT (seconds), "" if none */
    char scratch[4096];   /* its SLURM_CHECKPOINT_SCRATCH_DIR (node-local staging), "" if none */
};

/* comm and ppid of pid from /proc/PID/stat; 0, or -1 when it is gone. */
int step_proc_stat(pid_t pid, char *comm, size_t len, pid_t *ppid);

/* What to checkpoint for task pid: pid, or, when the task is cr_restart (restarted at
 * launch), the process it restored. */
pid_t step_task_target(pid_t pid);

/* Up to max tasks of job.step on node (step "batch": the batch script); the count,
 * or -errno. */
int step_tasks_find(const char *job, const char *step, const char *node, struct step_task *t, int max);

#endif
