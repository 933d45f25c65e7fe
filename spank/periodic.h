/* The per-node writer of periodic checkpoints (see periodic.c). */
#ifndef SLURM_CR_PERIODIC_H
#define SLURM_CR_PERIODIC_H

/* Runs until regfd is closed (or SIGTERM): reads "RANK PID" and "node NAME" lines from regfd, checkpoints those tasks
 * every `interval` seconds into image_dir, keeping `keep` generations; this is node
 * `nodeid` (named nodename) of the step's nnodes, which run ntasks tasks in all (a
 * generation that lacks one is not complete).  tree_tool (the batch step): the
 * path of cr_checkpoint, which checkpoints the batch script with its descendants into
 * script.ckpt; NULL: each task alone through the control protocol.  scratch (or
 * NULL): node-local directory the files are written to first, then staged to
 * image_dir ("%n": the node's name; staging.h). */
__attribute__((noreturn)) void cr_periodic_writer(int regfd, const char *image_dir, long interval,
                                                  unsigned keep, const char *nodename,
                                                  unsigned nodeid, unsigned nnodes, unsigned ntasks,
                                                  const char *tree_tool, const char *scratch);

#endif
