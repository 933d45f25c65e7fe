/* Restart at launch (srun --restart-dir=DIR), see restart.c. */
#ifndef SLURM_CR_RESTART_AT_LAUNCH_H
#define SLURM_CR_RESTART_AT_LAUNCH_H

#include <slurm/spank.h>

/* In slurm_spank_task_init: turns the task into cr_restart of its rank's context file
 * from the latest complete generation of restart_dir.  With spank_prepend_task_argv
 * (Slurm >= 23.11) returns 0 once Slurm will run cr_restart in front of the task's argv;
 * without, execs cr_restart and returns only on failure.  -1 (after saying why): the
 * task does not start. */
int cr_restart_at_launch(spank_t sp, const char *restart_dir, const char *cr_restart,
                         const char *agent);

/* Whether image_dir holds a complete generation (read as the caller). */
int cr_has_checkpoint(const char *image_dir);

#endif
