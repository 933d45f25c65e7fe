/* Memory the local tasks of a step share, at a coordinated freeze: System V segments
 * and shared mappings of what lives only while mapped (a deleted file, as /dev/shm
 * objects are once the program unlinked them; a memfd) that two or more tasks of
 * this node map.  Each task's image holds the pages (all were frozen before any was
 * written); the list of who shares what, DIR/shm.NODEID, tells the restarted tasks to
 * map one object again between them (libcr/restart_step_shm.c) instead of a copy
 * each.  What cannot come back shared is refused by name, the job going on. */
#ifndef SLURM_CR_STEP_SHM_H
#define SLURM_CR_STEP_SHM_H

#include "coordinated.h"
#include "tree_request.h"

/* Lists in DIR/shm.NODEID (renamed into place; none when nothing is shared) the
 * objects two or more of the n local tasks map: "MAJ:MIN INO RANK RANK...", one a
 * line; a named tmpfs file among them (Open MPI's vader segments) is copied once into
 * DIR/shmfile.NODEID.MAJ.MIN.INO.  Refuses (status, err) the tasks of an object attached by a process outside
 * the local tasks (System V: more attachments than theirs), mapped by two processes of
 * one task, or open as an fd where it cannot come back on the one object (a memfd's,
 * or in a task that does not map it).  Returns 0 or the first errno. */
int cr_step_shm_list(struct coord_task *t, int n, const struct crtree *tr, const char *dir,
                     unsigned nodeid, const char *node);

#endif
