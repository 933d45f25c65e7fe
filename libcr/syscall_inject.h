/* System calls run by a stopped tracee on our behalf (syscall_inject.c): what only a
 * process can ask about itself (its signal handlers, its sigaltstack, where the kernel
 * clears its thread id...), asked from the ptrace dumper. */
#ifndef SLURM_CR_SYSCALL_INJECT_H
#define SLURM_CR_SYSCALL_INJECT_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct cr_inject {
    pid_t tid;                     /* a thread we trace, in a ptrace stop */
    uint64_t syscall_ip;           /* a `syscall` instruction in the target's memory */
    struct user_regs_struct saved; /* its registers, put back by cr_inject_end */
    uint64_t saved_mask;           /* its signal mask, likewise */
    int active;
};

/* Where the target has a `syscall` instruction (0f 05) it can execute: in its vdso, or
 * else in any executable mapping; 0 and *ip, or -errno with a message. */
int cr_inject_find_syscall(pid_t pid, uint64_t *ip, char *msg, size_t msglen);

/* Keeps the thread's registers and signal mask, and blocks every signal while calls
 * are injected (a signal delivered meanwhile would run a handler on our registers). */
int cr_inject_begin(struct cr_inject *in, pid_t tid, uint64_t syscall_ip, char *msg, size_t msglen);

/* The thread runs system call nr with args a..f: its result (-errno as the kernel gives
 * it) in *ret; 0, or -errno with a message when the thread could not be made to run it
 * (it is then left as cr_inject_end finds it). */
int cr_inject_call(struct cr_inject *in, long *ret, long nr, long a, long b, long c, long d, long e,
                   long f, char *msg, size_t msglen);

/* Waits for the next ptrace stop of traced thread tid: 0 and its wait status, 1 when
 * it ended instead (its exit is left to be reaped: it may be our own child, whose
 * status its waiting parent wants), or -errno. */
int cr_wait_traced(pid_t tid, int *status);

/* Puts the registers and signal mask back: the thread is as it was stopped. */
int cr_inject_end(struct cr_inject *in, char *msg, size_t msglen);

#endif
