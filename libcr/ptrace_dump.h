/* The ptrace dumper (ptrace_dump.c): a checkpoint of a process that was not started
 * under cr_run, taken from outside through ptrace (cr_checkpoint --backend=kmod). */
#ifndef SLURM_CR_PTRACE_DUMP_H
#define SLURM_CR_PTRACE_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes process pid, alone, to out (a context file with CTX_HDR_PTRACE) while its
 * threads are held in ptrace stops; they run on unharmed whatever happens (detached,
 * their registers as they were).  flags: CR_CTL_* (sync, save, sockets, pipes);
 * timeout_ms: how long every thread may take to stop.  0 and the file's length in
 * *bytes, or -errno with a message naming what refused. */
int cr_ptrace_checkpoint(pid_t pid, int out, unsigned flags, unsigned timeout_ms, uint64_t *bytes,
                         char *msg, size_t msglen);

#endif
