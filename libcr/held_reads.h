/* What the runtime took from the kernel at a checkpoint and serves again to the
 * program's reads (held_reads.c: the interposed calls; inotify_replay.c: inotify
 * events; tcp_held.c: TCP bytes behind a FIN). */
#ifndef SLURM_CR_HELD_READS_H
#define SLURM_CR_HELD_READS_H

#include <signal.h>

/* The tables' lock, taken with every signal blocked: the quiesce signal never finds a
 * thread holding it, so the frozen process's dump may look at them without it. */
void cr_held_lock(sigset_t *old);
void cr_held_unlock(const sigset_t *old);

#endif
