/* The requester's side of the control channel (control.h), shared by cr_checkpoint
 * and libcr's cr_request_checkpoint(). */
#ifndef SLURM_CR_REQUEST_CLIENT_H
#define SLURM_CR_REQUEST_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

struct crq {
    int sock;
    pid_t pid;
    int frozen;                /* the target's threads are stopped */
    int prepared;              /* (a tree's process) its first phase is done */
    int snapshot;              /* ... and a snapshot child holds its image (RELEASE it) */
    int done;
    uint64_t freeze_deadline;  /* ms, CLOCK_MONOTONIC */
    unsigned timeout_ms;
    int err;                   /* result: 0 or an errno */
    uint64_t bytes;
    char msg[768];             /* what failed, with the errno text */
};

/* Connects to the runtime of pid (checking that it really is pid's) and hands it fd.
 * Returns 0, or -errno with q->msg saying why (e.g. not started under cr_run). */
int crq_start(struct crq *q, pid_t pid, int fd, unsigned timeout_ms, unsigned flags);

/* Waits up to wait_ms (-1: as long as it takes) for the result: 1 when finished
 * (q->err, q->msg, q->bytes), 0 when still running.  The target must stop within
 * the timeout given to crq_start; the dump itself may take as long as it needs. */
int crq_wait(struct crq *q, int wait_ms);

/* As crq_wait, but returns 1 as soon as the reply `phase` (CR_CTL_FROZEN or
 * CR_CTL_PREPARED) has come, or the job is over (q->done). */
int crq_wait_phase(struct crq *q, int phase, int wait_ms);

/* Sends a command of a tree checkpoint (CR_CMD_WRITE, CR_CMD_COMMIT);
 * -errno with q->msg when the process is gone. */
int crq_send(struct crq *q, uint32_t op, int signal);
struct cr_ctl_prepare;
int crq_prepare(struct crq *q, const struct cr_ctl_prepare *prep);

/* After a successful dump: the file is in place; the runtime delivers `signal` (0:
 * none) before the process runs again, and this waits until it has let it go. */
void crq_commit(struct crq *q, int signal);

/* Waits until the runtime has let the process go after a COMMIT. */
void crq_commit_wait(struct crq *q);

/* The state letter of /proc/PID/stat (R, S, T for stopped...), or 0 if it is gone. */
char crq_proc_state(pid_t pid);

/* Whether pid is a cr_restart (its comm, and no runtime of its own), and the process
 * it restored (pid itself if it is none): as with BLCR, whose cr_restart left itself
 * out of checkpoints, a checkpoint of cr_restart's pid is one of what it restored. */
int crq_is_restarter(pid_t pid);
pid_t crq_restored_by(pid_t pid);

/* Every traced process and its tracer (pairs[i][0] traced by pairs[i][1]), from one
 * look at /proc; how many (at most max). */
int crq_traced(pid_t pairs[][2], int max);
/* What BLCR's ptrace options (CR_REQ_*) say of pid: 0 checkpoint it; 1 leave it out; or
 * -CR_EPTRACED, -CR_EPTRACER; msg says why. */
int crq_ptrace_verdict(const pid_t pairs[][2], int n, pid_t pid, unsigned flags, char *msg,
                       size_t len);

/* Closing without a commit makes the runtime resume the process unharmed. */
void crq_close(struct crq *q);

#endif
