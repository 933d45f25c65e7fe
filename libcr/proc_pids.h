/* What /proc shows of the pids a restored program knows by their first values
 * (proc_pids.c, beside pid_map.c's table). */
#ifndef SLURM_CR_PROC_PIDS_H
#define SLURM_CR_PROC_PIDS_H

#include <stddef.h>
#include <sys/types.h>

/* A read() of the program's (from: its caller) on an fd of a /proc file that prints
 * pids, while a pid table exists: 1 and *r if served translated, else 0. */
int cr_proc_read(int fd, void *buf, size_t n, const void *from, ssize_t *r);

/* fds first..last closed or replaced (the runtime's close, dup2, dup3, close_range):
 * no longer read translated. */
void cr_proc_closed(int first, int last);

#endif
