/* The context file, format version 1: one format for every backend.
 *
 * Layout (little-endian, x86_64 first):
 *   header                      struct ctx_header, at offset 0
 *   metadata records            PROC, THREAD..., FD..., VMA..., BLOCKS (per process)
 *   zero padding                up to data_offset (page-aligned)
 *   memory blocks               page-aligned, each at most CTX_BLOCK_MAX_PAGES pages
 *                               (compressed images: see CTX_HDR_COMPRESSED)
 *   trailer records             BLOCK_CRCS (one crc32c per block, of its memory), END
 *
 * Every record is a struct ctx_rec followed by `length` bytes of payload; its crc
 * covers type, length, seq and the payload.  Variable-length strings sit at the end
 * of a payload and are NUL-terminated inside it.  The header says where every
 * section starts, so a reader can check each length and offset before using it.
 */
#ifndef SLURM_CR_CONTEXT_FORMAT_H
#define SLURM_CR_CONTEXT_FORMAT_H

#include <stdint.h>

#define CTX_MAGIC          "SLURMCR-CONTEXT\n" /* 16 bytes, no NUL */
#define CTX_MAGIC_LEN      16
#define CTX_VERSION        1
#define CTX_ARCH_X86_64    62 /* ELF e_machine */
#define CTX_BLOCK_MAX_PAGES 256
#define CTX_PATH_MAX       4096
#define CTX_NSIG           65 /* signals 1..64 */
#define CTX_NRLIMIT        16
#define CTX_AUXV_MAX       64 /* u64 words (pairs) */

enum ctx_scope { CTX_SCOPE_PROC = 1, CTX_SCOPE_PGRP = 2, CTX_SCOPE_SESS = 3, CTX_SCOPE_TREE = 4 };

struct ctx_header {
    char magic[CTX_MAGIC_LEN];
    uint32_t version;
    uint32_t header_size;      /* sizeof(struct ctx_header) */
    uint32_t arch;             /* CTX_ARCH_* */
    uint32_t page_size;
    char kernel_release[72];   /* uname -r, NUL-terminated */
    char glibc_version[32];
    uint64_t created_ns;       /* CLOCK_REALTIME */
    uint32_t scope;            /* enum ctx_scope */
    uint32_t nproc;
    uint32_t flags;
    uint32_t uid;              /* real uid of the checkpointed process */
    uint32_t nrecords;         /* metadata records */
    uint32_t nblocks;          /* memory blocks, all processes */
    uint64_t records_offset;
    uint64_t records_length;
    uint64_t data_offset;      /* page-aligned */
    uint64_t data_length;      /* nblocks' pages * page_size */
    uint64_t trailer_offset;   /* data_offset + data_length */
    uint64_t reserved[6];
    uint32_t header_crc;       /* crc32c of every byte before this field */
    uint32_t pad;
};

enum ctx_rec_type {
    CTX_REC_PROC = 1,
    CTX_REC_THREAD = 2,
    CTX_REC_FD = 3,
    CTX_REC_VMA = 4,
    CTX_REC_BLOCKS = 5,
    CTX_REC_BLOCK_CRCS = 6,
    CTX_REC_END = 7,
    CTX_REC_TREE_PROC = 8,     /* tree files only: one per process of the tree */
    CTX_REC_LOCK = 9,          /* struct ctx_lock: right after the fd record it belongs to */
    CTX_REC_EPOLL_FILE = 10,   /* struct ctx_epoll_file: right after its epoll's fd record */
    CTX_REC_DELETED_DIR = 11,  /* struct ctx_deleted_dir: right after the process record (the
                                  working directory) or a directory's fd record */
    CTX_REC_FD_OWNER = 12,     /* struct ctx_fd_owner: right after the fd record it belongs to */
    CTX_REC_AIO = 15,          /* struct ctx_aio: after the process's VMA records */
    CTX_REC_SOCK_ATTACH = 20,  /* struct ctx_sock_attach: right after the socket's fd record
                                  (and its lock and owner records) */
    CTX_REC_BLOCK_ZSTD = 19,   /* struct ctx_block_zstd per block: right after BLOCKS, in an
                                  image with CTX_HDR_COMPRESSED (and only there) */
    CTX_REC_PARENT = 40,       /* struct ctx_parent: right before BLOCKS, in an image with
                                  CTX_HDR_INCREMENTAL (and only there) */
    CTX_REC_PARENT_PAGES = 41, /* struct ctx_parent_run[]: right after PARENT */
    CTX_REC_THREAD_REGS = 45,  /* struct ctx_thread_regs: right after each THREAD record, in
                                  an image with CTX_HDR_PTRACE (and only there) */
    CTX_REC_DNOTIFY = 52,      /* struct ctx_dnotify: right after the FD_OWNER record of a
                                  directory the process watches with dnotify */
    CTX_REC_PID_MAP = 80,      /* struct ctx_pid_map: after the process record (and its
                                  STOPPED record), in an image of a process with the
                                  runtime: where its table of the pids the program knows
                                  by their first values lives, and that table */
    CTX_REC_STOPPED = 50,      /* struct ctx_stopped: right after the process record, in an
                                  image of a process alone that was stopped (SIGSTOP,
                                  SIGTSTP) at the checkpoint: it stops once restored,
                                  and cr_restart with it */
    CTX_REC_PENDING = 46,      /* struct ctx_pending: after its thread's THREAD_REGS record
                                  (or its other PENDING record), CTX_HDR_PTRACE only */
};

struct ctx_rec {
    uint32_t type;
    uint32_t length;           /* payload bytes */
    uint32_t seq;              /* 0,1,2... across the whole file */
    uint32_t crc;              /* crc32c(type, length, seq, payload) */
};

struct ctx_file_id {           /* identity of a file on disk */
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec;
    uint32_t mode, pad;
};

struct ctx_sigaction {
    uint64_t handler, flags, restorer, mask;
};

struct ctx_proc {
    int32_t pid, ppid, pgid, sid;
    uint32_t uid, gid, euid, egid;
    uint32_t umask, nthreads, nfds, nvmas;
    uint32_t nblocks, first_block;         /* this process's blocks in the BLOCKS table */
    uint32_t auxv_words;
    int32_t ctty_pts;                           /* controlling terminal /dev/pts/N: N + 1; 0 none */
    /* mm fields, as for PR_SET_MM_MAP */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv[CTX_AUXV_MAX];
    uint64_t rlim_cur[CTX_NRLIMIT], rlim_max[CTX_NRLIMIT];
    struct ctx_sigaction sigactions[CTX_NSIG];  /* index = signal number */
    uint64_t itimer[3][4];                      /* which: interval sec/usec, value sec/usec */
    uint64_t runtime_state;                     /* address of the runtime's restart block */
    uint64_t vdso_crc;                          /* crc32c of the [vdso] bytes */
    uint64_t shared_pending;                    /* signals pending for the process */
    int32_t pdeathsig, dumpable, subreaper, no_new_privs; /* prctl values */
    struct ctx_file_id exe_id;
    char comm[16];
    uint32_t exe_len, cwd_len;                  /* both include the NUL */
    /* char exe[exe_len]; char cwd[cwd_len]; */
};

struct ctx_jmp {               /* callee-saved state, see snapshot.S */
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

struct ctx_thread {
    int32_t tid;
    uint32_t index;
    uint64_t fs_base, gs_base;
    uint64_t clear_tid_addr;   /* PR_GET_TID_ADDRESS: &pthread->tid */
    uint64_t robust_head, robust_len;
    uint64_t sigmask;          /* mask to resume with (the runtime handler's) */
    uint64_t pending;          /* signals pending for this thread alone */
    uint64_t altstack_sp, altstack_size;
    uint32_t altstack_flags, pad;
    uint64_t frame_addr;       /* the interrupted context: a ucontext in the thread's memory */
    uint64_t gregs[23];        /* copy of its registers, for cr_info */
    struct ctx_jmp resume;     /* where the thread resumes in the runtime */
    char comm[16];
};

/* An image written by the ptrace dumper (cr_checkpoint --backend=kmod) of a process
 * that has no runtime: each thread resumes from the registers it was interrupted with
 * (CTX_REC_THREAD_REGS), not in the runtime (ctx_thread.resume is zero, frame_addr 0,
 * ctx_proc.runtime_state 0); the restorer's rt_sigreturn frame is built from them. */
#define CTX_HDR_PTRACE 0x40

/* A pre-copied image (libcr/precopy.c): most of its memory was written while the
 * process ran, the pages written since rewritten in place at the stop.  Its data area
 * may therefore hold pages no block uses (memory dropped or changed shape since) and
 * begin well after the records: each raw block is at a page-aligned offset of its own
 * inside the data area, in any order, no two overlapping.  Never with CTX_HDR_TREE,
 * CTX_HDR_COMPRESSED or CTX_HDR_INCREMENTAL. */
#define CTX_HDR_PRECOPY 0x80

/* A thread's registers as the kernel gave them to its tracer: the general registers in
 * the order of struct user_regs_struct (sys/user.h), the FPU/vector state as
 * PTRACE_GETREGSET NT_X86_XSTATE gives it (XSAVE standard format, the kernel's
 * software bytes at offset 464 saying its size and features).  A thread stopped inside
 * a system call has rax -ERESTART*, orig_rax the call: the restart decides (as the
 * kernel does at a signal without a handler) to call it again. */
#define CTX_XSAVE_MIN 576            /* the legacy area and the XSAVE header */
#define CTX_XSAVE_MAX 65536
enum ctx_uregs {                     /* indices in ctx_thread_regs.regs */
    CTX_UREG_R15, CTX_UREG_R14, CTX_UREG_R13, CTX_UREG_R12, CTX_UREG_RBP, CTX_UREG_RBX,
    CTX_UREG_R11, CTX_UREG_R10, CTX_UREG_R9, CTX_UREG_R8, CTX_UREG_RAX, CTX_UREG_RCX,
    CTX_UREG_RDX, CTX_UREG_RSI, CTX_UREG_RDI, CTX_UREG_ORIG_RAX, CTX_UREG_RIP, CTX_UREG_CS,
    CTX_UREG_EFLAGS, CTX_UREG_RSP, CTX_UREG_SS, CTX_UREG_FS_BASE, CTX_UREG_GS_BASE,
    CTX_UREG_DS, CTX_UREG_ES, CTX_UREG_FS, CTX_UREG_GS, CTX_NUREGS
};

struct ctx_thread_regs {
    int32_t tid;               /* the THREAD record's, just before */
    uint32_t xsave_len;        /* CTX_XSAVE_MIN..CTX_XSAVE_MAX, a multiple of 8 */
    uint64_t rseq_addr;        /* its rseq area (PTRACE_GET_RSEQ_CONFIGURATION), registered
                                  again at restart; 0: none */
    uint32_t rseq_len, rseq_sig;
    /* its attributes (the runtime keeps its own in its memory: thread_attrs.c), put
     * back by cr_restart as the runtime does, best effort where Linux wants privilege */
    int32_t nice, nice_ok;     /* getpriority, when it could be read */
    int32_t policy, priority;  /* sched_getscheduler (-1: unknown), sched_getparam */
    int64_t timerslack;        /* PR_GET_TIMERSLACK (0: unknown) */
    int32_t keepcaps;          /* PR_GET_KEEPCAPS (-1: unknown) */
    uint32_t affinity_len;     /* bytes of affinity (0: unknown), a multiple of 8 */
    int64_t persona;           /* personality(0xffffffff) (-1: unknown) */
    uint64_t affinity[16];     /* sched_getaffinity: up to 1024 CPUs */
    /* the process's, in its first thread's record (proc_attrs 1) and no other's */
    uint32_t proc_attrs, membarriers; /* private expedited registrations: bit 0 plain,
                                  1 SYNC_CORE, 2 RSEQ */
    int32_t thp_disable;       /* PR_GET_THP_DISABLE (-1: unknown) */
    int32_t oom_score_adj;     /* /proc/PID/oom_score_adj (-1001: unknown) */
    int32_t ioprio;            /* ioprio_get of the thread (-1: unknown) */
    int32_t tsc;               /* PR_GET_TSC (0: unknown) */
    int32_t mdwe;              /* the process's PR_GET_MDWE, first thread only (-1: unknown;
                                  0 in the others) */
    int32_t mcl_future;        /* the process's mlockall MCL_FUTURE (| MCL_ONFAULT), first
                                  thread only; 0: none (and in the others) */
    uint64_t regs[CTX_NUREGS];
    /* unsigned char xsave[xsave_len]; */
};

/* Signals pending at the checkpoint of a process without the runtime, with their
 * siginfo as PTRACE_PEEKSIGINFO gives them (128 bytes each, in the order they would
 * be delivered), queued again by cr_restart from the thread itself
 * (rt_tgsigqueueinfo) or, for the process's, from its main thread (rt_sigqueueinfo):
 * the kernel lets a process give itself a signal with any siginfo.  (The runtime keeps
 * its own in its memory: pending_signals.c.) */
#define CTX_SIGINFO_SIZE 128
#define CTX_PENDING_MAX 65536
struct ctx_pending {
    int32_t tid;               /* the thread's (the THREAD record just before) */
    uint32_t shared;           /* 1: pending for the process (in the first thread's records) */
    uint32_t count;            /* 1..CTX_PENDING_MAX siginfos after this */
    uint32_t pad;
    /* unsigned char siginfo[count][CTX_SIGINFO_SIZE]; */
};

enum ctx_fd_kind {
    CTX_FD_FILE = 1,           /* regular file: reopened by path at pos */
    CTX_FD_DIR = 2,
    CTX_FD_DEVICE = 3,         /* /dev/null family: reopened by path */
    CTX_FD_INHERIT = 4,        /* stdio on a terminal, pipe or socket: cr_restart's own */
    CTX_FD_PIPE = 5,           /* an end of a pipe whose both ends are in the process */
    CTX_FD_EVENTFD = 6,
    CTX_FD_EPOLL = 7,
    CTX_FD_SOCKET_DEAD = 8,    /* a connection to the outside: restored as reset */
    CTX_FD_UNIX_PAIR = 9,      /* a unix socket whose peer is in the process; pos: the
                                  peer's inode, flags: the socket type, extra: data */
    CTX_FD_LISTEN = 10,        /* a listening socket; pos: domain, flags: type,
                                  extra: the address it was bound to */
    CTX_FD_TIMERFD = 11,       /* extra: struct ctx_timerfd */
    CTX_FD_SIGNALFD = 12,      /* pos: the signal mask */
    CTX_FD_FIFO = 13,          /* a named FIFO, reopened by path; pos: capacity, extra:
                                  the data waiting in it (when it is read in the process) */
    CTX_FD_DUP = 14,           /* the same open file description as fd source_fd, an
                                  earlier record (dup(), or inherited): one offset */
    CTX_FD_PTY = 16,           /* a pseudo-terminal whose master is in the checkpoint: pos
                                  its index (/dev/pts/N), flags CTX_FD_PTY_MASTER or not,
                                  extra (master): struct ctx_pty; restored as a new pair */
    CTX_FD_SHARED = 15,        /* the same open file description as fd source_fd of the
                                  tree's process number pos, an earlier one (a file
                                  opened once and inherited: one offset) */
    CTX_FD_DISCONNECTED = 17,  /* a pipe end or terminal that led outside and was not
                                  stdio: comes back as the same kind of end, its other
                                  side closed (flags: CTX_FD_DISCONNECTED_TERMINAL); a
                                  pipe's pos: its capacity, extra (a read end): the data
                                  that was waiting in it */
    CTX_FD_PIDFD = 18,         /* a pidfd: pos the pid (the tree's), flags
                                  CTX_FD_PIDFD_SELF for the process itself,
                                  CTX_FD_PIDFD_ENDED (pos 0) of one ended and reaped */
    CTX_FD_MQUEUE = 19,        /* a POSIX message queue: path its name ("/q"), extra a
                                  struct ctx_mqueue; CTX_FD_DELETED: deleted (mq_unlink),
                                  its messages follow (none when source_fd names the
                                  earlier fd that has it), else opened by name */
    CTX_FD_INOTIFY = 20,       /* an inotify instance: extra its watches, each a struct
                                  ctx_inotify_watch and its path */
    CTX_FD_OPATH = 21,         /* an O_PATH fd of any file (id.mode: a symbolic link is
                                  opened O_NOFOLLOW), reopened by path; CTX_FD_DELETED as
                                  for a file or directory */
    CTX_FD_SOCKET = 22,        /* a socket whose whole state is in the process: unbound,
                                  bound, listening, UDP (connected or not), or connected
                                  to a socket of the process (CTX_SOCK_CONNECT_LATE);
                                  extra: struct ctx_socket, then its queued datagrams
                                  (struct ctx_sock_msg each, from_fd: the sender) */
    CTX_FD_SOCKPAIR = 23,      /* CTX_FD_UNIX_PAIR with the socket's state: pos the peer's
                                  inode (0: the peer was closed), extra: struct ctx_socket,
                                  then what is queued to it (struct ctx_sock_msg each: one
                                  datagram or message, or a stream's bytes, apart where
                                  a file in flight comes with one) */
    CTX_FD_TCP = 24,           /* a TCP connection whose peer is in the checkpoint (pos the
                                  peer's inode) or was closed by it (pos 0), made again as a
                                  TCP connection on the same addresses: extra struct
                                  ctx_socket (nmsgs 0), struct ctx_tcp, then the bytes
                                  queued to it (its unread queue and its peer's unsent one) */
    CTX_FD_STEP_CONN = 30,     /* a TCP connection to another task of a Slurm step
                                  (checkpointed whole, CR_CTL_STEP): extra a struct
                                  ctx_socket (addr, peer: the two ends as they were),
                                  then what was queued to it (struct ctx_sock_msg
                                  each); made again with its peer by cr_restart
                                  --step-dir, else restored reset */
    CTX_FD_PMI = 31,           /* a task's link to its step's PMI server (PMI_FD, saved
                                  with CR_CTL_STEP): the new step's PMI_FD takes its
                                  number at restart, else restored reset; flags
                                  CTX_FD_PMI_PMIX (images before CTX_FD_PMIX_LINK): a
                                  PMIx server's, restored reset; CTX_FD_PMI_INIT11 or
                                  CTX_FD_PMI_INIT20: the client had initialised PMI at
                                  that version, the new step's server is told so */
    CTX_FD_NETLINK = 40,       /* a netlink socket (nothing queued to it, no dump under
                                  way): extra a struct ctx_socket (domain AF_NETLINK,
                                  its type, protocol and options; no address, no
                                  message) then a struct ctx_netlink */
    CTX_FD_LAUNCHER_SOCK = 45, /* a listening socket the process had at its start: its
                                  launcher's (slurmstepd's, shared by the node's tasks),
                                  not the program's: extra a struct ctx_socket (what
                                  it was); restored as a socket of its kind, unbound */
    CTX_FD_FANOTIFY = 52,      /* an fanotify group with inode marks and nothing queued:
                                  extra a struct ctx_fanotify, then its marks (struct
                                  ctx_fanotify_mark and a path of the marked inode each) */
    CTX_FD_MQUEUE_NOTIFY = 51, /* CTX_FD_MQUEUE with the notification the process had
                                  registered on the queue (mq_notify): extra a struct
                                  ctx_mq_notify, then CTX_FD_MQUEUE's extra */
    CTX_FD_INOTIFY_QUEUED = 50, /* an inotify instance with events not read at the
                                  checkpoint: extra a struct ctx_inotify_queue, its
                                  watches as CTX_FD_INOTIFY's, then the events as read
                                  (struct inotify_event and its name each), which the
                                  runtime serves before the kernel's (inotify_replay.c) */
    CTX_FD_PMIX_LINK = 55,     /* a PMIx client's TCP link to its step's PMIx server
                                  (PMIX_SERVER_URI*, saved with CR_CTL_STEP): extra a
                                  struct ctx_pmix_link; at restart in a new step, a new
                                  link to that step's server, introduced with the
                                  client's handshake; else restored reset */
    CTX_FD_STEP_DGRAM = 60,    /* a named unix datagram socket of a task of a Slurm step
                                  (CR_CTL_STEP) with datagrams queued from one socket of
                                  another task of the step (UCX's wake-ups between the
                                  ranks of a node): extra a struct ctx_socket, its
                                  datagrams (struct ctx_sock_msg each, from_fd -1), then
                                  a struct ctx_step_dgram_from; at restart (--step-dir)
                                  the task that has the sender's socket again sends them
                                  again from it, before either runs */
};

/* CTX_FD_STEP_DGRAM: the socket of another task that sent the queued datagrams */
struct ctx_step_dgram_from {
    uint32_t addr_len;         /* a struct sockaddr_un: a path or an abstract name */
    uint8_t addr[112];
};

/* CTX_FD_PMIX_LINK: who the client said it was to its server (PMIx 4's handshake), and
 * where its library keeps its own name, told the new step's at restart. */
struct ctx_pmix_link {
    char nspace[256];          /* PMIX_NAMESPACE: the old step's, NUL-terminated */
    uint32_t rank;             /* PMIX_RANK */
    uint32_t bftype;           /* its buffers: 1 non-described, 2 fully described */
    uint64_t myid_addr;        /* the client library's own pmix_proc_t (nspace[256] then
                                  rank) in the process's memory; 0: not found */
    uint64_t note_addr;        /* the runtime's note of the link (the step it was made
                                  with at the last restart, pmix_link.c), set again */
    char sec[16];              /* its security module ("native") */
    char version[32];          /* the PMIx version it speaks (PMIX_VERSION) */
    char bfrops[16];           /* its buffer operations ("v41") */
    char gds[16];              /* its data store for the server ("hash") */
};

/* CTX_FD_NETLINK: where it is bound, what it listens to, where it sends. */
struct ctx_netlink {
    uint32_t portid;           /* bound to it (0: unbound) */
    uint32_t own_port;         /* 1: the port was the process's pid or the kernel's choice:
                                  whatever the kernel gives the restarted one; 0: bound
                                  to portid again */
    uint32_t dst_portid, dst_group; /* connected to (0, 0: not connected) */
    uint32_t flags;            /* CTX_NETLINK_*: its SOL_NETLINK switches that are on */
    uint32_t groups[32];       /* its multicast memberships, group g at bit (g-1) % 32 of
                                  groups[(g-1) / 32] (NETLINK_LIST_MEMBERSHIPS) */
};
#define CTX_NETLINK_PKTINFO          0x1
#define CTX_NETLINK_BROADCAST_ERROR  0x2
#define CTX_NETLINK_NO_ENOBUFS       0x4
#define CTX_NETLINK_LISTEN_ALL_NSID  0x8
#define CTX_NETLINK_CAP_ACK          0x10
#define CTX_NETLINK_EXT_ACK          0x20
#define CTX_NETLINK_GET_STRICT_CHK   0x40
#define CTX_NETLINK_FLAGS            0x7f

/* The socket options a program changed (those a new socket of its kind reports
 * otherwise), set again before bind/listen.  SO_RCVBUF/SO_SNDBUF: what the kernel
 * reported (twice what was asked). */
struct ctx_sockopt {
    int32_t level, name;
    uint32_t len;              /* 1..16 bytes of val */
    uint32_t pad;
    unsigned char val[16];
};
#define CTX_SOCKOPT_MAX 48

#define CTX_SOCK_LISTENING 0x1 /* listening (backlog: its backlog) */
#define CTX_SOCK_CONNECTED 0x2 /* connected to peer[] (UDP: its default destination) */
#define CTX_SOCK_PATH_GONE 0x4 /* a unix socket whose path was deleted: bound, then unlinked */
#define CTX_SOCK_CONNECT_LATE 0x8 /* connected to peer[], a socket of the process:
                                  connected again once every fd is in place (a connection
                                  its listening socket had not accepted, nothing sent on
                                  it; a unix datagram socket connected to a bound one) */
#define CTX_SOCK_STATES    0xf

struct ctx_socket {
    int32_t domain, type, protocol; /* as socket() takes them (AF_UNIX, INET, INET6) */
    uint32_t state;            /* CTX_SOCK_* */
    uint32_t shutdown;         /* SHUT_RD + 1 bits, as sock_diag: 1 no more reading, 2 writing */
    int32_t backlog;           /* listening: what listen() was given */
    uint32_t addr_len, peer_len;  /* 0: unbound / no peer; at most 128 */
    unsigned char addr[128], peer[128];
    uint32_t nopts, nmsgs;     /* at most CTX_SOCKOPT_MAX options; messages after this */
    struct ctx_sockopt opts[CTX_SOCKOPT_MAX];
};

/* CTX_FD_TCP: the connection's state, after its struct ctx_socket (whose shutdown says
 * what the program shut down: 1 SHUT_RD, 2 SHUT_WR). */
struct ctx_tcp {
    uint32_t state;            /* TCP_ESTABLISHED, TCP_CLOSE_WAIT... as TCP_INFO says */
    uint32_t flags;            /* CTX_TCP_* */
    uint64_t data_len;         /* bytes queued to it that the program has not read */
};
#define CTX_TCP_FIN_IN      0x1 /* its peer shut down writing: EOF after the data */
#define CTX_TCP_PEER_CLOSED 0x2 /* its peer's socket was closed (pos 0) */
#define CTX_TCP_CLOSED      0x4 /* the connection is over both ways (TCP_CLOSE: no peer
                                   address), the data still to read */
#define CTX_TCP_RESET       0x8 /* with CTX_TCP_CLOSED: it ended with a reset whose error
                                   (ECONNRESET) the program has not read: the data, then
                                   the error once, then end of file */
#define CTX_TCP_FLAGS       0xf

struct ctx_sock_msg {          /* one queued message, followed by its len bytes, then
                                  nfiles struct ctx_sock_file (each with its path) */
    uint32_t len;
    int32_t from_fd;           /* CTX_FD_SOCKET: the fd of the process that sent it
                                  (it is sent again from there); pairs: -1, the peer */
    uint32_t nfiles;           /* fds in flight with it (SCM_RIGHTS), pairs only */
    uint32_t flags;            /* CTX_SOCK_MSG_* (files before them: 0) */
};
/* it came with the credentials (SCM_CREDENTIALS) of the process itself, which sends it
 * again: a restart gives the process its old pid (in place or in a pid namespace), or
 * the credentials would change (pairs, and unix streams waiting in a backlog) */
#define CTX_SOCK_MSG_OWN_CREDS 1u
#define CTX_SOCK_MSG_FLAGS CTX_SOCK_MSG_OWN_CREDS
#define CTX_SOCK_FILES_MAX 16  /* fds in flight with one message */

struct ctx_sock_file {         /* an fd in flight: a regular file, followed by its path (or
                                  any open file an fd of the process has: what names it) */
    uint32_t open_flags;       /* F_GETFL */
    int32_t same_as_fd;        /* the same open file description as this fd of the
                                  process (-1: none; path and pos then say it) */
    uint64_t pos;
    struct ctx_file_id id;
    uint32_t path_len;         /* includes the NUL */
    uint32_t flags;            /* CTX_SOCK_FILE_* (files before them: 0) */
};
/* a regular file deleted while in flight, of which the process has no fd: its contents
 * (id.size bytes) follow its path, made again as an unnamed file (O_TMPFILE) of mode
 * id.mode where it was */
#define CTX_SOCK_FILE_CONTENTS 1u
#define CTX_SOCK_FILE_CONTENTS_MAX (1u << 20)

struct ctx_timerfd {
    int32_t clockid;
    uint32_t ticks;            /* expirations not read yet */
    int64_t value_sec, value_nsec;     /* time left until the next expiration */
    int64_t interval_sec, interval_nsec;
};

struct ctx_pty {
    unsigned char termios[64]; /* struct termios of the terminal (60 bytes on x86_64) */
    uint16_t rows, cols, xpixel, ypixel;
    /* then what the terminal had written and its master not read yet (up to
     * CTX_PTY_DATA_MAX bytes, the rest of the record's extra) */
};
#define CTX_PTY_DATA_MAX (1u << 20)
#define CTX_FD_PTY_MASTER 0x1
#define CTX_FD_PTY_INPUT 0x10      /* a master's: after its struct ctx_pty, a struct
                                      ctx_pty_input and what was typed on it and not read
                                      yet (then what it had not read); not 0x2, which
                                      describe_path reads as CTX_FD_DELETED */
struct ctx_pty_input {
    uint32_t len;              /* the bytes that follow: in canonical mode (the termios
                                  saved) nlines lines, each a uint32_t length then what a
                                  read() gave, then the line not ended yet; else the
                                  bytes as they are */
    uint32_t nlines;
};
#define CTX_PTY_INPUT_MAX (5u * 4096)

#define CTX_FD_DISCONNECTED_TERMINAL 0x1 /* a hung-up terminal; else a pipe end */
#define CTX_FD_PIPE_PACKETS 0x8  /* a pipe, FIFO or disconnected pipe end in packet mode
                                    (O_DIRECT, pipe(7)): its data is a sequence of packets,
                                    each a uint32_t length (1 to 4096) then its bytes, each
                                    written again as one packet */

#define CTX_FD_EVENTFD_SEMAPHORE 0x1
#define CTX_FD_TIMERFD_ABSTIME 0x1   /* armed for a moment of its clock (TFD_TIMER_ABSTIME) */
#define CTX_FD_TIMERFD_CANCEL_ON_SET 0x2 /* and cancelled if the realtime clock is set */
#define CTX_FD_PIDFD_SELF 0x1
#define CTX_FD_PMI_PMIX 0x1
#define CTX_FD_PMI_INIT11 0x2    /* the client's init was answered at PMI 1.1 (rc=0) */
#define CTX_FD_PMI_INIT20 0x4    /* ... at PMI 2.0 */
#define CTX_FD_PIDFD_ENDED 0x2
#define CTX_FD_DELETED 0x2       /* a file deleted while open: its contents are saved in
                                    blocks marked CTX_BLOCK_FILE, id.size bytes long (its
                                    holes left out: no block); id.mode its mode; with
                                    source_fd >= 0, another open of the one an earlier
                                    fd source_fd has (no contents of its own).  A
                                    directory: see struct ctx_deleted_dir.  A FIFO (its
                                    path as the kernel names it, "... (deleted)"): made
                                    again under its name with id.mode, opened, deleted */
#define CTX_FD_MEMFD 0x4         /* with CTX_FD_DELETED, a memfd (path /memfd:NAME (deleted)):
                                    extra is struct ctx_memfd; recreated by memfd_create,
                                    the shared mappings of its inode map it again */

struct ctx_memfd {
    uint32_t seals;            /* F_GET_SEALS, added again once the contents are back */
    uint32_t pad;
};

#define CTX_FD_NUMBER_MAX (1 << 20) /* fd numbers (and fds named in records) stay below */

struct ctx_fd {
    int32_t fd;
    uint32_t kind;             /* enum ctx_fd_kind */
    uint32_t open_flags;       /* F_GETFL (the access mode tells a pipe's end) */
    uint32_t fd_flags;         /* F_GETFD */
    uint64_t pos;              /* file offset; pipe: capacity; eventfd: counter */
    struct ctx_file_id id;     /* pipe: id.ino names the pipe */
    uint32_t path_len;         /* includes NUL */
    int32_t source_fd;         /* CTX_FD_INHERIT: which of cr_restart's fds 0-2 to take;
                                  a deleted file or queue: see CTX_FD_DELETED; else -1 */
    uint32_t extra_len;        /* bytes after the path: pipe data, or epoll targets */
    uint32_t flags;            /* CTX_FD_EVENTFD_* */
    /* char path[path_len]; unsigned char extra[extra_len]; */
};

struct ctx_mqueue {            /* the extra of a CTX_FD_MQUEUE record */
    int64_t maxmsg, msgsize;   /* mq_attr */
    uint32_t nmsgs, pad;       /* then each message in the order it is received, highest
                                  priority first: uint32_t prio, uint32_t len, len bytes */
};
#define CTX_MQ_PRIO_MAX 32768

struct ctx_mq_notify {         /* the start of a CTX_FD_MQUEUE_NOTIFY record's extra */
    int32_t notify;            /* SIGEV_SIGNAL or SIGEV_NONE */
    int32_t signo;             /* SIGEV_SIGNAL: 1..64 */
    uint64_t value;            /* sigev_value, as the program gave it */
};

struct ctx_inotify_watch {     /* in the extra of a CTX_FD_INOTIFY record, not aligned */
    int32_t wd;                /* its number, 1..CTX_INOTIFY_WD_MAX */
    uint32_t mask;             /* IN_* events and flags, as fdinfo shows them */
    uint32_t path_len;         /* then a path of the watched inode, NUL-terminated */
};
#define CTX_INOTIFY_WD_MAX (1 << 20)

struct ctx_dnotify {           /* CTX_REC_DNOTIFY */
    int32_t fd;
    uint32_t mask;             /* F_NOTIFY's: DN_* events, with DN_MULTISHOT */
};

struct ctx_pid_map {           /* CTX_REC_PID_MAP, then struct ctx_pid_pair[n] */
    uint64_t addr;             /* the runtime's struct cr_pid_map (pid_map.h), which a
                                  restart with new pids writes over */
    uint32_t n, cap;           /* the pairs that follow; cap: the table's room */
};
struct ctx_pid_pair {
    int32_t known;             /* the pid as the program knows it */
    int32_t real;              /* as the kernel numbered it at the checkpoint */
};

struct ctx_stopped {           /* CTX_REC_STOPPED */
    uint32_t signal;           /* the stop's signal as restored: SIGSTOP (the one that
                                  stopped it cannot be read without being its parent) */
    uint32_t pad;
};

struct ctx_fanotify {          /* the start of a CTX_FD_FANOTIFY record's extra */
    uint32_t flags;            /* fanotify_init's, as fdinfo shows them (FAN_CLOEXEC and
                                  FAN_NONBLOCK are the fd's, set by the driver) */
    uint32_t event_f_flags;    /* fanotify_init's: the events' files' open flags */
    uint32_t nmarks, pad;
};
struct ctx_fanotify_mark {     /* not aligned, in the extra */
    uint32_t mask, ignored_mask; /* as fdinfo shows them */
    uint32_t mflags;           /* FAN_MARK_IGNORED_SURV_MODIFY, FAN_MARK_EVICTABLE... */
    uint32_t path_len;         /* then a path of the marked inode, NUL-terminated */
};

struct ctx_inotify_queue {     /* the start of a CTX_FD_INOTIFY_QUEUED record's extra */
    int32_t sentinel_wd;       /* the number of the watch whose IN_IGNORED keeps the
                                  instance readable while the runtime serves the events
                                  (made again so at restart: the next watch gets the same
                                  number after it as in the process that went on) */
    uint32_t watches_len;      /* bytes of watches that follow */
    uint32_t events_len;       /* bytes of events after them */
    uint32_t nevents;
};
#define CTX_INOTIFY_EVENTS_MAX (8u << 20) /* beyond the default queue of 16384 events */

struct ctx_epoll_target {      /* the extra of a CTX_FD_EPOLL record */
    int32_t fd;                /* the number it was added with (its file: a ctx_epoll_file
                                  names the fd that has it, when this one no longer does) */
    uint32_t events;           /* as epoll_ctl takes them, and CTX_EPOLL_EDGE_TAKEN */
    uint64_t data;
};
/* In events, never given to epoll_ctl: an edge-triggered target (EPOLLET, not
 * EPOLLONESHOT) whose file was ready and whose edge the program had taken already (not
 * on the epoll's ready list): after the restart no event comes for it until its file
 * sees new activity.  Without it a ready target reports an edge once more. */
#define CTX_EPOLL_EDGE_TAKEN 0x04000000u

/* A file lock the process holds, taken again through fd `fd` (the fd record just before
 * it) before the program runs.  A flock or OFD lock belongs to the open file (an fd of
 * a dup or of a tree's shared file carries none: the first fd of that open file does);
 * a POSIX record lock belongs to the process. */
/* CTX_LOCK_LEASE: a lease (F_SETLEASE) of the fd's open file, type F_RDLCK or F_WRLCK */
enum ctx_lock_kind { CTX_LOCK_FLOCK = 1, CTX_LOCK_POSIX = 2, CTX_LOCK_OFD = 3, CTX_LOCK_LEASE = 4 };

struct ctx_lock {
    int32_t fd;
    uint32_t kind;             /* enum ctx_lock_kind */
    uint32_t type;             /* F_RDLCK (0) or F_WRLCK (1); flock: shared or exclusive */
    uint32_t pad;
    uint64_t start, len;       /* POSIX, OFD: the byte range, len 0 up to any end of file;
                                  flock, lease: 0, 0 */
};

/* A directory deleted while it was the working directory (its path, the process
 * record's cwd) or open (the fd record of kind CTX_FD_DIR with CTX_FD_DELETED just
 * before it, its path the record's): made again at restart under that path with its
 * mode, entered or opened, and removed. */
struct ctx_deleted_dir {
    int32_t fd;                /* -1: the working directory */
    uint32_t mode;             /* st_mode */
};

/* Who gets the signals of an open file (F_SETOWN_EX) and which signal (F_SETSIG), for
 * the fd record just before it (a dup, a tree's shared file or stdio that cr_restart
 * lends carries none).  The process itself (or one of its threads, or its process
 * group) is the restarted one. */
enum ctx_owner_type { CTX_OWNER_TID = 0, CTX_OWNER_PID = 1, CTX_OWNER_PGRP = 2 }; /* F_OWNER_* */

struct ctx_fd_owner {
    int32_t fd;
    uint32_t type;             /* enum ctx_owner_type */
    int32_t pid;               /* 0: none; the saved pid, pgid or a thread's tid (a
                                  ctx_thread's): the restarted process's */
    uint32_t sig;              /* F_SETSIG: 0 SIGIO, else 1..64 */
};

/* What a socket carries besides its state (for the fd record just before it; a dup or
 * a tree's shared socket carries none): its classic BPF filter (SO_ATTACH_FILTER, read
 * back with SO_GET_FILTER), or one multicast membership (a group joined on an
 * interface, with its source filter, read back with MCAST_MSFILTER). */
enum ctx_sock_attach_what { CTX_SOCK_FILTER = 1, CTX_SOCK_MCAST = 2 };
#define CTX_SOCK_FILTER_LOCKED 0x1  /* SO_LOCK_FILTER: the filter cannot be changed */
#define CTX_SOCK_FILTER_MAX 4096    /* BPF_MAXINSNS */
#define CTX_SOCK_MCAST_SRC_MAX 64   /* sources in one membership's filter */

struct ctx_sock_attach {
    int32_t fd;
    uint32_t what;             /* enum ctx_sock_attach_what */
    uint32_t flags;            /* a filter: CTX_SOCK_FILTER_LOCKED */
    uint32_t count;            /* a filter: its instructions (struct sock_filter, 8 bytes
                                  each, 1..CTX_SOCK_FILTER_MAX) after this; a membership:
                                  its sources (16 bytes each, an IPv4 one in the first 4)
                                  after this */
    /* a membership */
    int32_t family;            /* AF_INET or AF_INET6: the group's */
    uint32_t ifindex;          /* the interface it was joined on, when saved */
    uint32_t fmode;            /* MCAST_INCLUDE (1) or MCAST_EXCLUDE (0) the sources */
    uint32_t pad;
    char ifname[16];           /* that interface's name: joined on it again by name */
    unsigned char group[16];   /* the group's address (IPv4: the first 4 bytes) */
};

/* A target of the epoll (the fd record just before it) added through an fd number that
 * no longer leads to its file (closed after a dup, or reused): the file is fd holder's.
 * The interest is keyed by the old number (EPOLL_CTL_MOD/DEL name it) and kept so. */
struct ctx_epoll_file {
    int32_t epoll_fd;
    uint32_t target;           /* index in the epoll's ctx_epoll_target list */
    int32_t holder;
    uint32_t pad;
};

enum ctx_vma_kind {
    CTX_VMA_ANON = 1,          /* private anonymous (heap, stack, bss, malloc) */
    CTX_VMA_FILE_PRIVATE = 2,  /* private file mapping: file + modified pages */
    CTX_VMA_FILE_SHARED = 3,   /* shared file mapping: contents live in the file */
    CTX_VMA_SHARED_ANON = 4,   /* shared anonymous: contents saved */
    CTX_VMA_VDSO = 5,
    CTX_VMA_VVAR = 6,
    CTX_VMA_VVAR_VCLOCK = 7,
    CTX_VMA_VSYSCALL = 8,
};

#define CTX_VMA_GROWSDOWN 0x1
#define CTX_VMA_HEAP      0x2
#define CTX_VMA_STACK     0x4
#define CTX_VMA_SAVED     0x8  /* a file mapping whose every page is in the image
                                  (--save-*): restored as anonymous memory */
/* What madvise()/mlock() set on the region (the VmFlags of /proc/PID/smaps), applied
 * again by the restorer once the region is mapped and filled. */
#define CTX_VMA_HUGEPAGE    0x10  /* hg: MADV_HUGEPAGE */
#define CTX_VMA_NOHUGEPAGE  0x20  /* nh: MADV_NOHUGEPAGE */
#define CTX_VMA_DONTFORK    0x40  /* dc: MADV_DONTFORK */
#define CTX_VMA_WIPEONFORK  0x80  /* wf: MADV_WIPEONFORK */
#define CTX_VMA_DONTDUMP    0x100 /* dd: MADV_DONTDUMP */
#define CTX_VMA_LOCKED      0x200 /* lo: mlock(); a restart that cannot lock it fails */
#define CTX_VMA_LOCKONFAULT 0x400 /* lf: mlock2(MLOCK_ONFAULT), with CTX_VMA_LOCKED */
#define CTX_VMA_ADVICE      0x7f0 /* all of the above */
#define CTX_VMA_GUARDS      0x800 /* guard pages (MADV_GUARD_INSTALL): struct ctx_range
                                     runs follow the path, padded to 8 bytes */
#define CTX_VMA_SYSV        0x1000 /* SHARED_ANON: an attached System V segment, removed
                                      (IPC_RMID) but for its attachments; id.ino its shmid,
                                      id.size its size, id.mode its permissions
                                      and SHM_LOCKED (02000).  Restored
                                      as a new IPC_PRIVATE segment: the same shmid only
                                      for root (shm_next_id) and if it is free; an
                                      unprivileged process cannot choose one */
#define CTX_VMA_SEALED      0x2000 /* sl: mseal(), sealed again once everything else is
                                      done to the region */
#define CTX_VMA_MAYWRITE    0x4000 /* with SYSV: attached for writing (mw), whatever its
                                      protection now; without it, SHM_RDONLY */
#define CTX_VMA_KNOWN_FLAGS 0x7fff /* a reader refuses any other bit */

struct ctx_vma {
    uint64_t start, end, pgoff;
    uint32_t prot;             /* PROT_* */
    uint32_t kind;             /* enum ctx_vma_kind */
    uint32_t flags;            /* CTX_VMA_* */
    uint32_t path_len;         /* includes NUL; 0 for anonymous */
    struct ctx_file_id id;
    /* char path[path_len]; with CTX_VMA_GUARDS, from the next multiple of 8 bytes to
     * the end of the record: struct ctx_range guards[], in order, inside the region */
};

struct ctx_range {
    uint64_t start, end;
};

struct ctx_block {             /* one run of saved pages */
    uint64_t addr;             /* memory address; for file contents, the offset in the file */
    uint64_t file_offset;      /* page-aligned */
    uint32_t npages;
    uint32_t vma;              /* index of its VMA inside its process; with CTX_BLOCK_FILE,
                                  the index of the fd record whose contents it holds */
};
#define CTX_BLOCK_FILE 0x80000000u

/* A Linux AIO context (io_setup) of the process: its ring is the VMA at addr, len
 * bytes (kind CTX_VMA_FILE_PRIVATE with CTX_VMA_SAVED, path "/[aio] (deleted)"), saved
 * whole with no request in flight.  Made again at restart with a ring of nr events at
 * the same address, the kernel's tail at `tail` and the events from head to tail (not
 * reaped yet, modulo nr) as they were. */
struct ctx_aio {
    uint64_t addr, len;
    uint32_t nr, head, tail, pad;
};
#define CTX_AIO_LEN_MAX (64ULL << 20)
/* A compressed image (header flag CTX_HDR_COMPRESSED, cr_checkpoint --compress): each
 * block is stored either raw, as in any image, or as one zstd frame when that saves at
 * least an eighth of it (a block that does not shrink costs nothing to read back).
 * The BLOCKS record is followed by a CTX_REC_BLOCK_ZSTD record, one struct
 * ctx_block_zstd per block in block order.  The data area is laid out in block order
 * with no choice left to the writer (the reader checks it exactly):
 *   - a raw block starts at the next page boundary (it can be mapped straight from the
 *     file), and takes npages pages;
 *   - a compressed block starts right where the previous block ended (no padding), and
 *     takes stored_len bytes;
 *   - data_length runs to the page boundary after the last block.
 * Gaps before raw blocks hold zeros.  BLOCK_CRCS keeps the crc32c of each block's
 * memory (what decompression must give back); stored_crc covers the bytes in the file. */
#define CTX_HDR_COMPRESSED 0x10

struct ctx_block_zstd {
    uint32_t stored_len;       /* 0: stored raw; else the zstd frame's length, less than
                                  npages pages, decompressing to exactly npages pages */
    uint32_t stored_crc;       /* crc32c of the frame's bytes; 0 when raw */
};

/* An incremental image (header flag CTX_HDR_INCREMENTAL, cr_checkpoint --incremental):
 * its blocks hold only the pages written since its parent, the checkpoint of the same
 * process just before it; the pages that did not change are named by runs
 * (CTX_REC_PARENT_PAGES) whose memory is wherever the parent has it (its own blocks,
 * or its parent's, and so on up to a full image).  Memory in neither a block nor a
 * run is zero, whatever the parent held there.  A run lies in a private region (ANON
 * or FILE_PRIVATE) that the process had, unchanged, since the parent was taken; its
 * crc is that of the memory, which the parent's bytes must give back.  The parent
 * is found by name (relative: next to this file) and must be the very file it was:
 * its header_crc, created_ns and length.  Never in a tree file. */
#define CTX_HDR_INCREMENTAL 0x20
#define CTX_CHAIN_MAX 64       /* images in a chain, this one included */

struct ctx_parent {
    uint32_t header_crc;       /* the parent's */
    uint32_t depth;            /* images above this one: 1 when the parent is full */
    uint64_t created_ns;       /* the parent's */
    uint64_t file_length;      /* the parent's */
    uint32_t nruns;            /* struct ctx_parent_run in the next record */
    uint32_t name_len;         /* includes the NUL; 2..CTX_PATH_MAX */
    /* char name[name_len]: the parent's path, relative to this file's directory (no
     * '/' in it) or absolute */
};

struct ctx_parent_run {        /* memory the parent holds, in address order */
    uint64_t addr;
    uint32_t npages;           /* 1..CTX_BLOCK_MAX_PAGES */
    uint32_t vma;              /* index of its VMA inside its process */
    uint32_t crc;              /* crc32c of its npages pages */
    uint32_t pad;
};

/* A tree file: its header has CTX_HDR_TREE, scope and nproc; its records are one
 * CTX_REC_TREE_PROC per process, parents before children; each live process's image
 * is a complete single-process context file embedded at a page-aligned offset
 * (offsets inside it are relative to its start); END closes the file. */
#define CTX_HDR_TREE 0x1

enum ctx_tree_state { CTX_TREE_LIVE = 1, CTX_TREE_ZOMBIE = 2 };

struct ctx_tree_proc {
    int32_t pid, ppid, pgid, sid;  /* as the tree sees them (its own pid namespace's) */
    uint32_t state;            /* enum ctx_tree_state */
    int32_t exit_status;       /* a zombie's wait status */
    uint64_t image_offset;     /* live: its embedded image */
    uint64_t image_length;
    char comm[16];
};

struct ctx_end {
    uint64_t file_length;      /* offset just past this record */
    uint32_t nblocks, pad;
};

#endif
