/* Work the manager shares with the program's threads while they are parked in a
 * checkpoint's freeze (parked_help.c): the kernel's walks of the page tables, which
 * take a time in proportion to the memory, split between as many threads as there
 * are, each on a core of its own when the machine has them free. */
#ifndef SLURM_CR_PARKED_HELP_H
#define SLURM_CR_PARKED_HELP_H

#include <stdint.h>

#define CR_HELP_PARTS_MAX 32

/* One part of a piece of work, into its output copy 0 (the first thread to claim
 * it) or 1 (the manager doing it again while that thread has no core): runs in the
 * manager or in a parked thread, frozen (no malloc, no stdio, no lock), and may run
 * twice at once, once in each copy. */
typedef void (*cr_help_fn)(void *arg, uint32_t part, uint32_t copy);

/* The manager, every other thread parked: runs parts 0..nparts-1 (at most
 * CR_HELP_PARTS_MAX) of fn, as many parked threads as may help (cr_help_hands)
 * claiming parts too; returns once every part is done in one copy or the other
 * (cr_help_copy: which), never waiting for another thread. */
void cr_help_run(cr_help_fn fn, void *arg, uint32_t nparts);
uint32_t cr_help_copy(uint32_t part);
/* Once the threads run again, before the outputs may go: every thread out of the
 * work (one that lost a part to the manager may still be finishing it). */
void cr_help_settle(void);
/* How many threads could take parts: the manager and those parked, no more than the
 * cores the process may run on. */
uint32_t cr_help_hands(void);
/* A parked thread, each time it wakes: the free parts of the work under way. */
void cr_help_offer(void);
/* The restored copy: no work under way (none of its threads was ever in one). */
void cr_help_restored(void);

#endif
