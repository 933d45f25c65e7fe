/* The connections of a step's tasks, matched across nodes at a coordinated freeze:
 * each TCP connection of a task must lead to another task of the step (whose image
 * then holds the other end, CTX_FD_STEP_CONN); one that leads outside (a database, a
 * license server, a task of another job) cannot be made again at restart, and the
 * checkpoint is refused naming node, rank, fd and addresses, the job going on. */
#ifndef SLURM_CR_STEP_CONNS_H
#define SLURM_CR_STEP_CONNS_H

#include "coordinated.h"
#include "tree_request.h"

/* Where the nodes of a step meet: DIR (the generation being written, on the shared
 * storage) gets conns.NODEID from every node. */
struct step_meet {
    const char *dir;
    unsigned nodeid, nnodes, wait_ms;
    const char *node;          /* this node's name, for messages */
    int call_off_fd;           /* the requester's word after "write" ("abort", or its end):
                                * a node that died cannot list its connections; -1: none */
    unsigned gen;              /* the generation being written */
    unsigned busy_wait_s;      /* how long a task being checkpointed for another requester
                                * is waited for (cr_coordinated; 0: it fails at once) */
};

/* Lists the memory the local tasks share (step_shm.h: DIR/shm.NODEID, or refused).
 * Then lists the TCP connections of the n local tasks (tr[i]: task i's frozen tree;
 * frozen: whether every local task froze) in DIR/conns.NODEID, waits for every node's
 * list (at most wait_ms), and fails each task (status, err) with a connection no task
 * of the step has the other end of.  Returns 0 or the first errno. */
int cr_step_conns_check(struct coord_task *t, int n, const struct crtree *tr, int frozen,
                        const struct step_meet *m);

#endif
