/* CRC-32C (Castagnoli): the checksum of every record and memory block.
 * Freestanding: also built into the restorer, which has no libc. */
#ifndef SLURM_CR_CRC32C_H
#define SLURM_CR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c(0, buf, len) starts a checksum; pass the result back in to continue it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
