/* Coordinated checkpoints of a step (scontrol checkpoint create|vacate): every task on
 * every node is frozen before any of them is written, so that no task runs on past the
 * moment the others were taken.  The node agents of a helper step each freeze their
 * local tasks (the runtime's phased protocol: FROZEN, then PREPARE, WRITE, COMMIT),
 * say "frozen NODE" on stdout, and wait for the requester, which has heard every node,
 * to send "write" (or "abort") to all of them on stdin (srun --input=all). */
#ifndef SLURM_CR_COORDINATED_H
#define SLURM_CR_COORDINATED_H

#include <sys/types.h>

struct coord_task {
    pid_t pid;                 /* the process to checkpoint */
    unsigned rank;
    const char *dest;          /* its context file (written whole, then renamed by the caller) */
    int status;                /* result: 0 or an errno */
    char err[800];
    unsigned long long bytes;
};

/* Freezes the n tasks (each must stop within maxwait_s seconds), reports to the
 * requester and waits (at most wait_s seconds) for its verdict, then writes each
 * image and lets the task go on (stop: SIGSTOP instead).  On a failure anywhere, or
 * "abort", or no verdict in time, the tasks resume unharmed and nothing is kept.
 * Returns 0 or the first errno. */
int cr_coordinated(struct coord_task *t, int n, int stop, unsigned maxwait_s, unsigned wait_s,
                   const char *node);

#endif
