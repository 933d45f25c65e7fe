/* Coordinated checkpoints of a step (scontrol checkpoint create|vacate): every task on
 * every node is frozen before any of them is written, so that no task runs on past the
 * moment the others were taken.  The node agents of a helper step each freeze their
 * local tasks (the runtime's phased protocol: FROZEN, then PREPARE, WRITE, COMMIT),
 * say "frozen NODE" on stdout, and wait for the requester, which has heard every node,
 * to send "write" (or "abort") to all of them on stdin (srun --input=all). */
#ifndef SLURM_CR_COORDINATED_H
#define SLURM_CR_COORDINATED_H

#include <sys/types.h>

struct coord_task {
    pid_t pid;                 /* the process to checkpoint */
    unsigned rank;
    const char *dest;          /* its context file (written whole, then renamed by the caller) */
    int status;                /* result: 0 or an errno */
    char err[800];
    unsigned long long bytes;
};

/* The barrier: called once the local tasks are frozen (ok) or not; returns 1 when
 * every node's tasks are frozen and the images may be written. */
typedef int (*coord_verdict)(int ok, void *arg);

/* Freezes the n tasks (each must stop within maxwait_s seconds), asks the verdict,
 * then writes each image and lets the task go on (stop: SIGSTOP instead).  On a
 * failure anywhere or a negative verdict the tasks resume unharmed and nothing is
 * kept.  Returns 0 or the first errno. */
struct step_meet; /* step_conns.h: with it, the step's connections are matched across nodes
                     once the local tasks are frozen, before the verdict */
/* by_ptrace: the ptrace dumper's functions (the node agent with backend=kmod; the
 * plugin, which does not link it, gives NULL): a task without the runtime is then held
 * and written from outside (tree_request.h), one with it still through its runtime. */
struct crtree_ptrace;
int cr_coordinated(struct coord_task *t, int n, int stop, unsigned maxwait_s, coord_verdict verdict,
                   void *arg, const struct step_meet *meet, const struct crtree_ptrace *by_ptrace);

/* The node agent's verdict: says "frozen NODE" or "abort NODE" on stdout and waits
 * for the requester's "write" on stdin; arg: struct coord_stdin. */
struct coord_stdin {
    const char *node;
    unsigned wait_s;
};
int cr_coord_stdin_verdict(int ok, void *arg);

/* Fault injection for the tests (tests/slurm/faults.sh, node_failure.sh): with
 * CR_AGENT_STOP_AT=POINT:NODE in its environment, the agent of NODE stops itself
 * (SIGSTOP) at POINT ("conns": after the word to write, before it lists its tasks'
 * connections; "write": before it writes its tasks' images), to be killed there. */
void cr_coord_fault_point(const char *point, const char *node);

/* The periodic writers' verdict, through the generation's directory on the shared
 * filesystem: each node adds frozen.NODEID (or abort.NODEID) and waits until every
 * node has a frozen mark (write) or any has an abort mark or wait_ms pass (abort). */
struct coord_files {
    const char *tmpdir;
    unsigned nodeid, nnodes, wait_ms;
};
int cr_coord_files_verdict(int ok, void *arg);

#endif
