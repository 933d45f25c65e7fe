/* mqueue.c's queue, shared with mqueue_notify.c (a queue with a notification). */
#ifndef SLURM_CR_RES_MQUEUE_H
#define SLURM_CR_RES_MQUEUE_H

#include "resources.h"

/* extra: from the struct ctx_mqueue on (extra_len bytes) */
int mqueue_make(struct child *c, const struct ctx_fd *f, const char *extra, size_t extra_len);
int mqueue_valid(const struct ctx_fd *f, const char *extra, size_t extra_len,
                 const struct ctx_fd *const *earlier, uint32_t n);
void mqueue_describe(const struct ctx_fd *f, const char *extra, FILE *out, const char *acc);

#endif
