/* TCP bytes the checkpoint took from a connection whose peer had shut down writing
 * behind them, held by the runtime and served again (tcp_held.c). */
#ifndef SLURM_CR_TCP_HELD_H
#define SLURM_CR_TCP_HELD_H

#include <stddef.h>
#include <sys/types.h>

/* In the frozen process: fd's bytes (len of them at data) held to be served before
 * the kernel's EOF (what was held for it before is replaced); 0 or -errno. */
int cr_tcp_hold(int fd, const char *data, size_t len);
/* The bytes still held for fd (*data: where), 0 none. */
size_t cr_tcp_held(int fd, const char **data);
/* held_reads.c: a read of fd (recv's flags): 1 answered here (*out, errno set), 0 not */
int cr_tcp_held_serve(int fd, void *buf, size_t n, int flags, ssize_t *out);
int cr_tcp_held_fd(int fd);
/* The restored copy: the restart sent them again through the connection made again. */
void cr_tcp_held_restored(void);
extern int cr_tcp_nheld;

#endif
