/* Where a checkpoint's stop goes (stop_times.c): the manager marks each step while
 * the program's threads are frozen; with CR_STOP_TIMES=FILE in the program's
 * environment, one line per checkpoint is appended to FILE once they run again. */
#ifndef SLURM_CR_STOP_TIMES_H
#define SLURM_CR_STOP_TIMES_H

enum cr_stop_step {
    CR_STOP_FREEZE,   /* the freeze asked (threads signalled) */
    CR_STOP_FROZEN,   /* every thread parked */
    CR_STOP_STATE,    /* the process's state: proc, threads, fds, timers */
    CR_STOP_REGIONS,  /* the regions' VmFlags (smaps, or the pre-copy's) */
    CR_STOP_SCAN,     /* pre-copy: the pages written since the last pass */
    CR_STOP_COLLECT,  /* the page maps walked, the blocks made */
    CR_STOP_BLOCKS,   /* pre-copy: the blocks written since written */
    CR_STOP_RECORDS,  /* pre-copy: the records and the trailer */
    CR_STOP_FORK,     /* copy-on-write: the snapshot child made */
    CR_STOP_ENDED,    /* the frozen part of the dump returned */
    CR_STOP_SETTLED,  /* the callbacks' chain unwound, stopped children settled */
    CR_STOP_RELEASE,  /* the threads let go */
    CR_STOP_NSTEPS
};

/* Notes the time of a step (frozen-safe: the clock_gettime system call only). */
void cr_stop_mark(enum cr_stop_step step);
/* How many threads walked the page tables at the stop (shown as walkers=N). */
void cr_stop_walkers(unsigned n);
/* A pre-copy's stop walked again only what was written since its page map was taken
 * (pre_scan): how many KiB that was (shown as rewalked_kib=N). */
void cr_stop_rewalked(unsigned long long kib);
/* The threads run again: the line written when asked, the marks cleared. */
void cr_stop_report(void);
/* At start-up: whether the program's environment asks for the lines. */
void cr_stop_times_init(void);

#endif
