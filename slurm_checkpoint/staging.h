/* Staging: a task's context file is written to node-local scratch first (fast, and
 * a slow or full shared filesystem does not hold the frozen task), then copied into
 * the step's generation on the shared checkpoint dir, synced, read back and compared,
 * and only then given its final name; the manifest comes after every node's files
 * (generation.h).  Scratch: <scratch_dir>/<image dir's name>/gen.N/<file>, the job
 * user's own; "%n" in scratch_dir is the node's name (several slurmd on one host). */
#ifndef SLURM_CR_STAGING_H
#define SLURM_CR_STAGING_H

#include <stddef.h>

/* scratch_dir with %n replaced by node; 0 or -ENAMETOOLONG */
int cr_stage_expand(const char *scratch_dir, const char *node, char *out, size_t len);

/* Creates (as the caller) the scratch directory for generation gen of image_dir and
 * gives the path of `name` in it; 0 or -errno with msg. */
int cr_stage_path(const char *scratch, const char *image_dir, unsigned gen, const char *name,
                  char *out, size_t len, char *msg, size_t msglen);

/* Copies src to dst_tmp, fsyncs it, reads both back and compares them, renames dst_tmp
 * to dst; src is removed either way.  0 or -errno with msg (dst_tmp removed). */
int cr_stage_file(const char *src, const char *dst_tmp, const char *dst, char *msg, size_t msglen);

/* Removes the scratch directory of generation gen (after the node's part). */
void cr_stage_done(const char *scratch, const char *image_dir, unsigned gen);

#endif
