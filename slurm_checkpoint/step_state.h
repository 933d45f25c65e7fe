/* What `scontrol checkpoint` keeps about a step, in files of its image dir (owned by
 * the job user, written only with the user's identity):
 *   disabled     the disable counter (`disable` adds one, `enable` takes one off)
 *   last_error   the result of the last request: "ERRNO MESSAGE"
 *   busy         "SECONDS" since the epoch while a request is running */
#ifndef SLURM_CR_STEP_STATE_H
#define SLURM_CR_STEP_STATE_H

#include <stddef.h>
#include <time.h>

/* The disable counter (0 when the file is not there). */
int cr_state_disabled(const char *image_dir);

/* Adds delta to the counter; the new value, or -errno (-EINVAL: enable without a
 * disable). */
int cr_state_add_disabled(const char *image_dir, int delta);

/* The last request's result (err 0: it succeeded). */
int cr_state_set_error(const char *image_dir, int err, const char *msg);
int cr_state_get_error(const char *image_dir, int *err, char *msg, size_t len);

/* A request begins (when: now) or ends (when: 0); cr_state_busy gives its start, or 0. */
int cr_state_set_busy(const char *image_dir, time_t when);
time_t cr_state_busy(const char *image_dir);

#endif
