/* Work the manager shares with the program's threads while they are parked in a
 * checkpoint's freeze (parked_help.c): the kernel's walks of the page tables, which
 * take a time in proportion to the memory, split between as many threads as there
 * are, each on a core of its own when the machine has them free. */
#ifndef SLURM_CR_PARKED_HELP_H
#define SLURM_CR_PARKED_HELP_H

#include <stdint.h>

/* One part of a piece of work: runs in the manager or in a parked thread, frozen
 * (no malloc, no stdio, no lock). */
typedef void (*cr_help_fn)(void *arg, uint32_t part);

/* The manager, every other thread parked: runs parts 0..nparts-1 of fn, as many
 * parked threads as may help (cr_help_hands) taking parts too, one at a time; returns
 * once every part is done and no thread runs fn any more. */
void cr_help_run(cr_help_fn fn, void *arg, uint32_t nparts);
/* How many threads could take parts: the manager and those parked, no more than the
 * cores the process may run on. */
uint32_t cr_help_hands(void);
/* A parked thread, each time it wakes: the parts of the work under way it can take. */
void cr_help_offer(void);

#endif
