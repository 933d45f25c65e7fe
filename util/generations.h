/* cr_info DIR: a step's checkpoint generations (see generations.c). */
#ifndef SLURM_CR_GENERATIONS_H
#define SLURM_CR_GENERATIONS_H

#include <stddef.h>

/* Prints the generations of the image directory path; 0 or an errno. */
int list_generations(const char *path, void (*size_str)(char *, size_t, unsigned long long));

#endif
