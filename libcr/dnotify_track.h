/* The program's dnotify registrations (fcntl F_NOTIFY), as it made them
 * (dnotify_track.c). */
#ifndef SLURM_CR_DNOTIFY_TRACK_H
#define SLURM_CR_DNOTIFY_TRACK_H

#include <stdint.h>

/* The mask of the registration made on fd when it was the directory dev/ino: 0, or
 * -1 none seen. */
int cr_dnotify_of(int fd, uint64_t dev, uint64_t ino, uint32_t *mask);
/* fds first..last were closed or replaced. */
void cr_dnotify_closed(int first, int last);

#endif
