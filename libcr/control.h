/* The per-process control channel between a requester (cr_checkpoint, the node agent)
 * and the runtime's manager thread: an abstract unix SEQPACKET socket named
 * "slurm-cr/<pid>.<128 random bits>".  Abstract names have no permissions, so a name
 * others could guess could be taken first by any user; a random one cannot, and the
 * requester finds it among the sockets the target holds (/proc/PID/fd, which only the
 * target's owner and root may read).  Both ends check the other with SO_PEERCRED: the
 * runtime serves only its own uid and root; the requester talks only to the real
 * target pid. */
#ifndef SLURM_CR_CONTROL_H
#define SLURM_CR_CONTROL_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CR_CTL_MAGIC   0x43524331u /* "CRC1" */

/* The name of the runtime's snapshot child, a copy of the process writing a
 * checkpoint while the process goes on: a tree's requester leaves it out. */
#define CR_SNAPSHOT_COMM "cr-snapshot"
#define CR_CTL_VERSION 1
/* The manager thread's name while it runs a checkpoint, followed by the requester's
 * pid: another requester then knows the process is busy (EBUSY). */
#define CR_BUSY_COMM "cr-busy:"

enum cr_ctl_op { CR_CTL_CHECKPOINT = 1 };

#define CR_CTL_CONTINUE 0x1    /* the process goes on after the checkpoint: a
                                  copy-on-write snapshot may write the file */
#define CR_CTL_SOCKETS_REFUSE 0x2 /* fail on a connection to the outside instead of
                                     restoring it as a reset one */
#define CR_CTL_SAVE_EXE     0x4  /* save the executable's mappings whole */
#define CR_CTL_SAVE_PRIVATE 0x8  /* ... every private file mapping */
#define CR_CTL_SAVE_SHARED  0x10 /* ... every shared file mapping */
#define CR_CTL_SOCKETS_DELAY 0x40 /* wait (within the timeout) until no connection leads
                                     outside; new sockets wait meanwhile */
#define CR_CTL_PIPES_REFUSE 0x80 /* fail on a pipe or terminal to the outside (not stdio)
                                    instead of restoring it disconnected */
#define CR_CTL_NOSYNC 0x100  /* do not fsync the file (cr_checkpoint --nosync) */
/* the reason the runtime gives (DONE's msg, a note) when there was no parent yet */
#define CR_NOTE_FIRST "the first of a chain"
/* the start of the runtime's note when a checkpoint was not pre-copied (precopy.c):
 * cr_checkpoint shows it with -v */
#define CR_NOTE_PRECOPY "stopped for the whole write, not pre-copied"
#define CR_CTL_PRECOPY 0x800000 /* the requester takes CR_CTL_PRECOPYING answers: the
                                   runtime may write the memory before the freeze
                                   (precopy.c; crq_start asks it unless
                                   CR_REQ_NO_PRECOPY) */
#define CR_CTL_INCREMENTAL 0x800 /* store only the pages written since the previous
                                    checkpoint of the process, when it was one asked
                                    so too and is still where it was written (see
                                    dirty_track.c); else a full one, which starts the
                                    tracking for the next */
#define CR_CTL_STEP   0x400  /* one task of a Slurm step checkpointed whole (the node
                                agent): a TCP connection leading outside its tree leads
                                to another task, saved to be made again with it
                                (CTX_FD_STEP_CONN) */
/* zstd level 1..22 of a compressed checkpoint (0: not compressed), in bits 24-28 (far
 * from the other flags, which grow from the bottom). */
#define CR_CTL_COMPRESS_SHIFT 24
#define CR_CTL_COMPRESS_MASK (0x1fu << CR_CTL_COMPRESS_SHIFT)
#define CR_CTL_COMPRESS_MAX 22
#define CR_CTL_COMPRESS(level) (((unsigned)(level) << CR_CTL_COMPRESS_SHIFT) & CR_CTL_COMPRESS_MASK)
#define CR_CTL_COMPRESS_LEVEL(flags) (((flags) & CR_CTL_COMPRESS_MASK) >> CR_CTL_COMPRESS_SHIFT)
/* The requester's own choices (BLCR's ptrace options), never sent to a runtime:
 * crq_start() acts on them and takes them out of the request. */
#define CR_REQ_PTRACED_ALLOW 0x10000 /* checkpoint a traced process all the same */
#define CR_REQ_PTRACED_SKIP  0x20000 /* leave traced processes (and in a tree their
                                        descendants) out */
#define CR_REQ_PTRACER_SKIP  0x40000 /* leave processes that trace others out */
#define CR_CTL_PRECOPY_ANY_SIZE 0x400000 /* pre-copy whatever the memory's size
                                           (CR_PRECOPY=always: tests) */
#define CR_REQ_NO_PRECOPY    0x80000 /* never pre-copy (cr_checkpoint --no-precopy; a
                                        tree's processes, written in turns) */
#define CR_REQ_ONLY (CR_REQ_PTRACED_ALLOW | CR_REQ_PTRACED_SKIP | CR_REQ_PTRACER_SKIP | CR_REQ_NO_PRECOPY)
#define CR_CTL_STOPPED      0x200 /* the process was stopped (SIGSTOP): the requester
                                    continued it for the checkpoint, and it stops again
                                    before it runs the program (also once restored) */
#define CR_CTL_STOPPED_HELD 0x1000 /* the process alone was stopped (job control) and its
                                    requester holds its threads through ptrace: it runs
                                    the checkpoint without a SIGCONT its parent would
                                    see; going on, the requester's detaching stops it
                                    again (the runtime releases no thread before); once
                                    restored it stops itself (CTX_REC_STOPPED) */
#define CR_CTL_TREE         0x20 /* one process of a tree: once frozen it waits for
                                    PREPARE (every process of the tree is frozen), then
                                    for WRITE (its turn to append its image to the
                                    shared file), then COMMIT; it stays frozen all along,
                                    unless a snapshot child holds its image (see
                                    CR_REPLY_SNAPSHOT) */

struct cr_ctl_request {        /* requester -> runtime, with the destination fd (SCM_RIGHTS) */
    uint32_t magic, version, op, scope;
    uint32_t flags, timeout_ms;
};

/* The runtime answers twice: CR_CTL_FROZEN as soon as every thread is stopped (so a
 * requester can time out a process that never stops without timing out a long dump),
 * then CR_CTL_DONE with the result.  A failure to stop skips the first. */
/* CR_CTL_PRECOPYING (only to a request with CR_CTL_PRECOPY): the runtime is writing
 * the memory while the process runs, and is making progress: the time given to stop
 * the process starts again. */
enum cr_ctl_phase { CR_CTL_FROZEN = 1, CR_CTL_DONE = 2, CR_CTL_PREPARED = 3, CR_CTL_PRECOPYING = 4 };

struct cr_ctl_reply {
    uint32_t magic;
    uint16_t phase;            /* enum cr_ctl_phase */
    uint16_t flags;            /* PREPARED: CR_REPLY_SNAPSHOT */
    int32_t err;               /* 0, or the errno of the failure */
    uint64_t bytes;            /* context file length */
    char msg[512];             /* what failed, without the errno text */
};

/* A tree's process whose snapshot child has its image: RELEASE lets the process run
 * on; the child then takes WRITE and answers DONE itself (no COMMIT follows). */
#define CR_REPLY_SNAPSHOT 0x1

enum cr_ctl_cmd { CR_CMD_COMMIT = 1, CR_CMD_PREPARE = 2, CR_CMD_WRITE = 3, CR_CMD_RELEASE = 4 };

struct cr_ctl_commit {         /* requester -> runtime: COMMIT (the file is in place),
                                  WRITE (a tree's process) */
    uint32_t magic;
    int32_t signal;            /* COMMIT: signal to deliver before the threads resume, or 0 */
    uint32_t op;               /* enum cr_ctl_cmd */
    uint32_t pad;
};

#define CR_CTL_MAX_TREE_PIPES  512
#define CR_CTL_MAX_TREE_SHARES 1024
#define CR_CTL_MAX_TREE_SOCKS  1024
#define CR_CTL_MAX_TREE_PTYS   64

/* PREPARE: what a process of a tree cannot see from inside, found by the requester
 * while the whole tree is frozen.  A requester may use the phases for processes that
 * are not a tree too (the Slurm node agent freezes a step's tasks on every node before
 * any is written): a PREPARE naming the process's own stdio, pipes and sockets, and a
 * WRITE at offset 0, give an ordinary one-process file. */
struct cr_ctl_prepare {
    uint32_t magic;
    int32_t signal;            /* unused */
    uint32_t op;               /* CR_CMD_PREPARE; the same head as struct cr_ctl_commit */
    uint32_t index;            /* this process's number in the tree */
    uint32_t npipes, nshares, nsocks, nptys, nfifo_skip;
    uint32_t alone;            /* 1: the tree is this one process (found without children
                                  once frozen): saved as a process alone, in a file of its own */
    struct {                   /* the tree's stdio (its root's fds 0-2), cr_restart's at restart */
        uint64_t dev, ino, rdev;
        uint32_t valid, pad;
    } stdio[3];
    uint64_t pipes[CR_CTL_MAX_TREE_PIPES]; /* pipes with both ends inside the tree */
    uint64_t socks[CR_CTL_MAX_TREE_SOCKS]; /* every socket a process of the tree has */
    int32_t ptys[CR_CTL_MAX_TREE_PTYS];    /* pseudo-terminals whose master is in the tree */
    uint64_t fifo_skip[CR_CTL_MAX_TREE_PTYS]; /* named FIFOs whose data an earlier process saves */
    struct cr_ctl_share {      /* an fd whose open file description an earlier process has */
        int32_t fd, member, origin_fd, pad;
    } shares[CR_CTL_MAX_TREE_SHARES];
};

/* Whether a PREPARE read from the socket can be used: its counts within its arrays,
 * its fd numbers real ones.  0, or -EPROTO. */
int cr_ctl_prepare_check(const struct cr_ctl_prepare *p);

/* Whether a request read from the socket (n bytes) is one this runtime serves. */
int cr_ctl_request_check(const struct cr_ctl_request *r, size_t n);

/* A compression setting (--compress=, CR_COMPRESS, compress= in plugstack.conf): a
 * zstd level 1..22, NULL/"yes"/"on" (CR_COMPRESS_DEFAULT), or "0"/"no"/"off"/""; its request
 * flags in *flags.  -EINVAL for anything else. */
#define CR_COMPRESS_DEFAULT 1      /* the fastest: a checkpoint is on the clock */
int cr_compress_flags(const char *s, unsigned *flags);

/* The runtime's side: fills `addr` with a new random name for `pid`; returns the
 * address length, or 0 if no random bytes could be had. */
socklen_t cr_ctl_new_address(pid_t pid, struct sockaddr_un *addr);

/* The requester's side: the nth name (from 0) the runtime of `pid` may listen on,
 * found among the sockets the process holds; from inside a user namespace, where
 * those cannot be read, among every name of that pid (the caller must then check
 * SO_PEERCRED).  Returns the address length, -ENOENT when there is no (further)
 * name, or -errno of reading /proc/PID/fd. */
int cr_ctl_find_address(pid_t pid, struct sockaddr_un *addr, int nth);

#endif
