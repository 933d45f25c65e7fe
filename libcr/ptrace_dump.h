/* The ptrace dumper (ptrace_dump.c): a checkpoint of a process that was not started
 * under cr_run, taken from outside through ptrace (cr_checkpoint --backend=kmod). */
#ifndef SLURM_CR_PTRACE_DUMP_H
#define SLURM_CR_PTRACE_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cr_ctl_prepare;

/* Writes process pid, alone (its children, if any, left out: -p), to out (a context
 * file with CTX_HDR_PTRACE) while its
 * threads are held in ptrace stops; they run on unharmed whatever happens (detached,
 * their registers as they were).  flags: CR_CTL_* (sync, save, sockets, pipes);
 * timeout_ms: how long every thread may take to stop.  0 and the file's length in
 * *bytes, or -errno with a message naming what refused. */
int cr_ptrace_checkpoint(pid_t pid, int out, unsigned flags, unsigned timeout_ms, uint64_t *bytes,
                         char *msg, size_t msglen);

/* The same in steps, for a tree (tree_request.c), whose processes are all held
 * before any is written:
 * cr_ptrace_seize holds every thread of pid in a ptrace stop (timeout_ms for each to
 * stop); 0, or -errno with msg and nothing held.  */
struct cr_ptrace_proc;
int cr_ptrace_seize(pid_t pid, unsigned timeout_ms, struct cr_ptrace_proc **out, char *msg,
                    size_t msglen);

/* Writes the held process's image at out's current position: alone (tree NULL), or
 * as one process of a tree (what it shares with the others, as the runtime's tree
 * dump gets it in CR_CMD_PREPARE).  It stays held. */
int cr_ptrace_dump(struct cr_ptrace_proc *p, int out, unsigned flags,
                   const struct cr_ctl_prepare *tree, uint64_t *bytes, char *msg, size_t msglen);

/* Sends it `signal` (0: none) while it is still held, then lets it run on from where it
 * was stopped, and frees p (NULL: nothing). */
void cr_ptrace_release(struct cr_ptrace_proc *p, int signal);

#endif
