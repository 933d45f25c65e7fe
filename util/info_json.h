/* cr_info --json (see info_json.c). */
#ifndef SLURM_CR_INFO_JSON_H
#define SLURM_CR_INFO_JSON_H

#include "context_reader.h"

/* One line: the file (tr NULL when it could not be read) and whether it is valid. */
void info_json(const char *path, const struct ctx_tree *tr, const char *error);

#endif
