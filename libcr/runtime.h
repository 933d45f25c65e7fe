/* State of the preloaded runtime (libcr_run.so) shared by its parts: the quiesce
 * signal handler, the manager thread and the dumper. */
#ifndef SLURM_CR_RUNTIME_H
#define SLURM_CR_RUNTIME_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <ucontext.h>

#include "context_format.h"

#define CR_QUIESCE_SIGNAL 62   /* a real-time signal glibc does not use (SIGRTMAX - 2) */
#define CR_MAX_THREADS 1024
#define CR_MAX_INTERNAL_FDS 8

struct cr_thread_slot {
    int tid;                   /* 0: free */
    int parked;                /* futex word: 1 once the thread's state is recorded */
    ucontext_t *uc;            /* the frame it was interrupted with */
    uint64_t fs_base, clear_tid, robust_head, robust_len, sigmask;
    stack_t altstack;
    char comm[16];
    struct ctx_jmp resume;
};

/* Written by the restorer into the restored process, read by its manager. */
struct cr_restart_block {
    uint64_t restarts;         /* how many times this image was restarted */
    uint64_t hole_start, hole_len; /* the restorer's own mapping, to unmap */
};

struct cr_runtime {
    int listen_fd;
    pid_t pid, manager_tid;
    int internal_fds[CR_MAX_INTERNAL_FDS]; /* the runtime's own fds: never saved */

    uint32_t gen;              /* futex: bumped to release parked threads */
    int freezing;
    uint32_t nparked;          /* futex: threads that recorded their state */
    uint32_t nresumed;         /* futex: restored threads that finished their fix-ups */
    uint32_t nslots;
    struct cr_thread_slot slots[CR_MAX_THREADS];
    struct cr_thread_slot manager;

    struct cr_restart_block restart;
    char exe_path[CTX_PATH_MAX];
};

extern struct cr_runtime crt;

long cr_snapshot(struct ctx_jmp *j) __attribute__((returns_twice));

/* After a restore, in each thread: register rseq again, restore the robust list. */
void cr_thread_fixup(const struct cr_thread_slot *slot);

/* Writes the whole process to fd.  On failure returns -errno and describes the step
 * that failed in msg. */
int cr_dump(int fd, char *msg, size_t msglen, uint64_t *bytes);

void cr_internal_fd_add(int fd);
void cr_internal_fd_del(int fd);
int cr_internal_fd(int fd);

#endif
