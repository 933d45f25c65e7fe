/* The per-process control channel between a requester (cr_checkpoint, later the node
 * agent) and the runtime's manager thread: an abstract unix SEQPACKET socket named
 * after the target's pid.  Both ends check the other with SO_PEERCRED: the runtime
 * serves only its own uid and root; the requester talks only to the real target pid. */
#ifndef SLURM_CR_CONTROL_H
#define SLURM_CR_CONTROL_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CR_CTL_MAGIC   0x43524331u /* "CRC1" */
#define CR_CTL_VERSION 1

enum cr_ctl_op { CR_CTL_CHECKPOINT = 1 };

#define CR_CTL_CONTINUE 0x1    /* the process goes on after the checkpoint: a
                                  copy-on-write snapshot may write the file */
#define CR_CTL_SOCKETS_REFUSE 0x2 /* fail on a connection to the outside instead of
                                     restoring it as a reset one */
#define CR_CTL_SAVE_EXE     0x4  /* save the executable's mappings whole */
#define CR_CTL_SAVE_PRIVATE 0x8  /* ... every private file mapping */
#define CR_CTL_SAVE_SHARED  0x10 /* ... every shared file mapping */

struct cr_ctl_request {        /* requester -> runtime, with the destination fd (SCM_RIGHTS) */
    uint32_t magic, version, op, scope;
    uint32_t flags, timeout_ms;
};

/* The runtime answers twice: CR_CTL_FROZEN as soon as every thread is stopped (so a
 * requester can time out a process that never stops without timing out a long dump),
 * then CR_CTL_DONE with the result.  A failure to stop skips the first. */
enum cr_ctl_phase { CR_CTL_FROZEN = 1, CR_CTL_DONE = 2 };

struct cr_ctl_reply {
    uint32_t magic;
    uint16_t phase, pad;       /* enum cr_ctl_phase */
    int32_t err;               /* 0, or the errno of the failure */
    uint64_t bytes;            /* context file length */
    char msg[512];             /* what failed, without the errno text */
};

struct cr_ctl_commit {         /* requester -> runtime: the file is in place (or not) */
    uint32_t magic;
    int32_t signal;            /* signal to deliver before the threads resume, or 0 */
};

/* Fills `addr` with the abstract name for `pid`; returns the address length. */
socklen_t cr_ctl_address(pid_t pid, struct sockaddr_un *addr);

#endif
