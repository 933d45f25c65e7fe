/* A stopped process checkpointed alone, held through ptrace so that its runtime can
 * run without a SIGCONT its parent would see (stopped_hold.c). */
#ifndef SLURM_CR_STOPPED_HOLD_H
#define SLURM_CR_STOPPED_HOLD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HOLD_MAX_THREADS 1024

struct stopped_hold {
    pid_t pid;
    pthread_t tracer;          /* the thread that traces (ptrace's requests must come
                                  from it) */
    int started;
    int phase;                 /* futex-free handshake under lock: see stopped_hold.c */
    int want;                  /* 1: let the program's threads go; 2: every thread */
    int done;                  /* the last want carried out */
    int err;
    char msg[400];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t want_since;       /* the tracer's: since when it lets go */
    int n;
    struct { pid_t tid; int runtime, state; } t[HOLD_MAX_THREADS];
};

/* Seizes every thread of pid (stopped) and lets the runtime's own run: 0, or -errno
 * with the reason in err (nothing is held then). */
int hold_start(struct stopped_hold *h, pid_t pid, char *err, size_t len);
/* Once the process is frozen (or the checkpoint failed before): the program's threads
 * let go, each stopping again where it waits, without a word to the parent. */
void hold_release_program(struct stopped_hold *h);
/* The end: every thread let go (the runtime's stop again too). */
void hold_end(struct stopped_hold *h);

#endif
