/* Progress of long work on a terminal (cr_checkpoint, cr_restart): a thread that
 * looks at how far the work is, every 200 ms, and redraws one line on stderr once it
 * has lasted a second (CR_PROGRESS_AFTER_MS); nothing when stderr is no terminal. */
#ifndef SLURM_CR_PROGRESS_H
#define SLURM_CR_PROGRESS_H

#include <stdint.h>

struct progress;

/* done(arg): bytes done so far (or -1: unknown now); total: expected bytes (0: not
 * known).  NULL when there is nothing to show (quiet, no terminal). */
struct progress *progress_start(const char *what, uint64_t total,
                                int64_t (*done)(void *arg), void *arg, int quiet);
/* Stops the thread and clears the line. */
void progress_stop(struct progress *p);

#endif
