/* A generation of a step's checkpoint, written by every node of the step.
 *
 * Layout under the step's image dir (<checkpoint dir>/<jobid>.<stepid>):
 *   gen.N.tmp/task.RANK.ckpt   each node writes its tasks' files (atomically)
 *   gen.N.tmp/part.NODEID      then the list of its tasks ("task RANK FILE NODE"),
 *                              after "ntasks T", the step's task count as the node knows it
 * The node that finds every part there (exactly one: it claims gen.N.tmp/.finish)
 * writes the manifest ("generation N", "tasks T", "nodes K", then the parts' lines
 * sorted by rank; only if they are ranks 0..T-1, each once: a task that ended before it
 * was saved makes the generation incomplete), fsyncs it, renames gen.N.tmp to gen.N and points `latest` at it.
 * A generation is complete only as gen.N with its manifest.
 * Periodic writers number generations by their ticks (alike on every node);
 * `scontrol checkpoint` takes the next free number and marks it with
 * gen.N.tmp/.request, which the writers skip.
 * The batch step (<checkpoint dir>/<jobid>) has one "task", the batch script's process
 * tree, in gen.N/script.ckpt, with a copy of the script Slurm ran (batch_script.h). */
#ifndef SLURM_CR_GENERATION_H
#define SLURM_CR_GENERATION_H

#include <stddef.h>

struct cr_gen {
    char image_dir[4096];
    char tmpdir[4200];
    unsigned gen, nodeid, nnodes;
    unsigned ntasks;     /* tasks of the whole step (0: not known); set after cr_gen_begin */
    int batch;           /* the batch step: its file is script.ckpt */
};

/* Creates (or joins) gen.N.tmp; 0 or -errno. */
int cr_gen_begin(struct cr_gen *g, const char *image_dir, unsigned gen, unsigned nodeid,
                 unsigned nnodes);

/* Where this node writes the file of rank (tmp: the name it is written under first). */
void cr_gen_task_path(const struct cr_gen *g, unsigned rank, int tmp, char *out, size_t len);

/* This node's tasks are written: records its part, and completes the generation if it
 * was the last part.  Returns 1 if this call completed it, 0 if other nodes are still
 * writing, -errno on failure (msg says what). */
int cr_gen_node_done(struct cr_gen *g, const unsigned *ranks, int n, const char *node,
                     char *msg, size_t msglen);

/* This node failed: its files go, so the generation can never complete. */
void cr_gen_node_failed(struct cr_gen *g, const unsigned *ranks, int n);

/* The largest N of any gen.N or gen.N.tmp in image_dir (0: none). */
unsigned cr_gen_highest(const char *image_dir);

/* Keeps the `keep` newest complete generations, newest by the time their manifest was
 * written; also removes gen.M.tmp with M < below (abandoned generations). */
void cr_gen_prune(const char *image_dir, unsigned keep, unsigned below);

/* Removes a generation directory (one level, and .finish). */
int cr_gen_remove(const char *dir);

#endif
