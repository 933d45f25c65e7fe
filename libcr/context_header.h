#ifndef SLURM_CR_CONTEXT_HEADER_H
#define SLURM_CR_CONTEXT_HEADER_H

#include "context_format.h"

/* Zeroes the header and fills magic, version, sizes, arch, page size, kernel and glibc
 * releases and the creation time; the writer fills the rest. */
void ctx_header_init(struct ctx_header *h);

#endif
