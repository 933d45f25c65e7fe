/* The program's mq_notify registrations, as it made them (mq_notify_track.c). */
#ifndef SLURM_CR_MQ_NOTIFY_TRACK_H
#define SLURM_CR_MQ_NOTIFY_TRACK_H

#include <stdint.h>

#include "context_format.h"

/* The sigevent of the last registration on the queue of that inode: 0, or -1 none. */
int cr_mq_notify_of(uint64_t dev, uint64_t ino, struct ctx_mq_notify *note);

#endif
