/* The requester's side of a checkpoint of several processes (a tree, a process group
 * or a session) into one context file: find the processes, freeze them all (and the
 * children they made meanwhile), learn what none of them sees alone (pipes between
 * them, open file descriptions they share, the tree's stdio), then let each append
 * its image in turn, and write the tree's header around them. */
#ifndef SLURM_CR_TREE_REQUEST_H
#define SLURM_CR_TREE_REQUEST_H

#include <stdint.h>
#include <sys/types.h>

#include "context_format.h"
#include "request_client.h"

struct cr_ptrace_proc;
struct cr_ctl_prepare;

/* A tree without the runtime is held and written through ptrace (ptrace_dump.h): the
 * requester that links the ptrace dumper hands its functions in (cr_checkpoint
 * --backend=kmod, and the Slurm glue with backend=kmod; libcr does not link it). */
struct crtree_ptrace {
    int (*seize)(pid_t pid, unsigned timeout_ms, struct cr_ptrace_proc **out, char *msg,
                 size_t msglen);
    int (*dump)(struct cr_ptrace_proc *p, int out, unsigned flags,
                const struct cr_ctl_prepare *tree, uint64_t *bytes, char *msg, size_t msglen);
    void (*release)(struct cr_ptrace_proc *p, int signal);
};

struct crt_member {
    pid_t pid;                 /* as we see it */
    pid_t ppid;
    struct ctx_tree_proc rec;  /* as the tree sees itself */
    int zombie;
    int connected;
    int stopped;               /* found stopped: continued for the checkpoint (CR_CTL_STOPPED) */
    uint64_t unready_since;    /* ms: first found without its runtime up, or 0 */
    struct crq q;
    struct cr_ptrace_proc *held; /* through ptrace (crtree.ptrace): its threads stopped */
    int job_held;              /* the first process, stopped by job control: held through
                                  ptrace by the requester (crtree.job_hold) */
};

/* The tree's first process stopped by job control (SIGSTOP, SIGTSTP: a shell's job
 * after Ctrl-Z), its parent outside: a SIGCONT would tell that parent, so the
 * requester holds its threads through ptrace (util/stopped_hold.c) and asks it with
 * CR_CTL_STOPPED_HELD; `frozen` lets its program's threads go (each stops again where
 * it waits) once it is frozen, after which its stopped children are continued for
 * their own checkpoints as any stopped child of the tree is. */
struct crtree_job_hold {
    void (*frozen)(void *arg);
    void *arg;
};

struct crtree {
    int scope;                 /* enum ctx_scope */
    unsigned flags, timeout_ms;
    int fd;
    int n, cap;
    struct crt_member *m;      /* parents before children */
    int err;
    char msg[1024];
    uint64_t bytes;
    void *seen;                /* the fds of every member, while it is frozen */
    size_t nseen;
    int nskip;                 /* the requester and its ancestors below the target: */
    pid_t skip[64];            /* never frozen (a program that runs cr_checkpoint on itself) */
    int ntraced;               /* the traced processes and their tracers, looked at once */
    pid_t traced[256][2];
    char left_out[400];        /* why the last process was left out (ptrace options) */
    const struct crtree_ptrace *ptrace; /* set after crtree_find: every process is held and
                                           written from outside, none has the runtime */
    const struct crtree_job_hold *job_hold; /* set after crtree_find: the first process is
                                               stopped and held (its threads seized) */
    int job_let_go;            /* job_hold->frozen was called */
};

/* Finds the processes of `scope` around pid.  Returns how many live ones there are
 * (1: checkpoint pid alone, the usual way), or -errno with t->msg. */
int crtree_find(struct crtree *t, pid_t pid, int scope, int fd, unsigned timeout_ms, unsigned flags);

/* Freezes them all and writes the tree file to t->fd (one process alone: an ordinary
 * one-process file).  0, or -errno with t->msg (the processes then resume unharmed
 * when crtree_close is called). */
int crtree_checkpoint(struct crtree *t);

/* The same in two steps, for a requester that freezes several trees (a Slurm step's
 * tasks on every node) before any is written: crtree_freeze, then crtree_write. */
int crtree_freeze(struct crtree *t);
int crtree_write(struct crtree *t);

/* The file is in place: every process gets `signal` (0: none) and runs again. */
void crtree_commit(struct crtree *t, int signal);

void crtree_close(struct crtree *t);

#endif
