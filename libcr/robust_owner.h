/* The robust mutexes a restored thread holds, given its new tid (robust_owner.c). */
#ifndef SLURM_CR_ROBUST_OWNER_H
#define SLURM_CR_ROBUST_OWNER_H

#include <stdint.h>
#include <sys/types.h>

/* In our own process (the runtime's restored thread), or in process pid: the robust
 * list at head_addr walked, old replaced by now as the owner of each mutex on it. */
void cr_robust_new_tid(uint64_t head_addr, pid_t old, pid_t now);
void cr_robust_new_tid_in(pid_t pid, uint64_t head_addr, pid_t old, pid_t now);

#endif
