/* The runtime's copy of inotify events taken at a checkpoint, served again by read()
 * (inotify_replay.c). */
#ifndef SLURM_CR_INOTIFY_REPLAY_H
#define SLURM_CR_INOTIFY_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dump;

/* In the frozen process: the events of fd's instance not read yet (those the runtime
 * still serves from an earlier checkpoint, then the kernel's) into out (cap bytes),
 * kept to be served again, behind a new sentinel watch (*sentinel its number); the
 * bytes (0: nothing queued), or -errno with the message in d, nothing taken. */
ssize_t cr_inotify_keep(struct dump *d, int fd, char *out, size_t cap, int32_t *sentinel,
                        uint32_t *nevents);
/* Bytes of events the runtime still serves for fd. */
size_t cr_inotify_held(int fd);
/* held_reads.c's read() of fd: 1 answered here (*out its result, errno set), 0 not
 * an instance with kept events */
int cr_inotify_serve(int fd, void *buf, size_t n, ssize_t *out);
extern int cr_inotify_nreplays;
/* fds first..last were closed or replaced: what was kept for them goes. */
void cr_inotify_replay_closed(int first, int last);

#endif
