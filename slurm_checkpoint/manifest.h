/* Reading a step's checkpoint: the latest complete generation and its manifest
 * (see generation.h for the layout). */
#ifndef SLURM_CR_MANIFEST_H
#define SLURM_CR_MANIFEST_H

#include <stddef.h>

struct cr_manifest {
    char dir[4200];        /* image_dir/gen.N */
    unsigned gen, tasks, nodes;
    char (*file)[64];      /* file[rank]: its context file, relative to dir */
    char (*node)[64];      /* node[rank]: where it was taken */
};

/* The latest complete generation of image_dir: the one `latest` points at, or else
 * the complete one whose manifest is newest.  0, or -errno with msg saying what is
 * wrong (no such directory, no complete generation, a manifest that does not list
 * every rank...). */
int cr_manifest_latest(const char *image_dir, struct cr_manifest *m, char *msg, size_t len);

void cr_manifest_free(struct cr_manifest *m);

#endif
