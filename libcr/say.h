/* How the engine's functions refuse: the message into the caller's buffer, the errno
 * as the return value (negated), in one call. */
#ifndef SLURM_CR_SAY_H
#define SLURM_CR_SAY_H

#include <stddef.h>

/* Writes the message into err (len bytes) and returns -code. */
int cr_say(char *err, size_t len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
