/* State of the preloaded runtime (libcr_run.so) shared by its parts: the quiesce
 * signal handler, the manager thread and the dumper. */
#ifndef SLURM_CR_RUNTIME_H
#define SLURM_CR_RUNTIME_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <ucontext.h>

#include "context_format.h"
#include "restore_plan.h"

#ifndef CR_LAUNCHER_SOCK_DEFINED
#define CR_LAUNCHER_SOCK_DEFINED
struct cr_launcher_sock {
    int fd;
    uint64_t dev, ino;
};
#endif

/* The runtime's look-ups of libc's functions run before cr_runtime_init() (which has
 * no priority, so runs after every constructor given one): once its control socket is
 * up a checkpoint may come, and the dump reads what they set (cr_pid_map_usable: a
 * freshly exec'd process caught before them was saved without its pid table) */
#define CR_LOOKUP_CONSTRUCTOR __attribute__((constructor(200)))
#define CR_DEFAULT_SIGNUM 50   /* the quiesce signal unless CR_SIGNUM says (quiesce_signal.c) */
#define CR_MAX_THREADS 1024
#define CR_MAX_INTERNAL_FDS 8
#define CR_MAX_LAUNCHER_SOCKS 8

/* thread_attrs.c: what the kernel keeps per thread (or process) beyond registers */
struct cr_thread_attrs {
    int saved, nice_ok, nice, policy, priority, keepcaps, no_new_privs, pdeathsig;
    int ioprio;                /* ioprio_get of the thread (-1: not told) */
    int tsc;                   /* PR_GET_TSC (0: not told) */
    long timerslack, persona, affinity_len;
    unsigned long affinity[16];  /* up to 1024 CPUs */
};
struct cr_process_attrs {
    int saved, thp_disable, oom_ok;
    int dumpable;              /* PR_GET_DUMPABLE */
    int mdwe;                  /* PR_GET_MDWE: memory-deny-write-execute flags (-1: not told) */
    unsigned membarriers;      /* registered: 1 private expedited, 2 its sync-core, 4 its rseq */
    long oom_score_adj;
};
void cr_attrs_save_thread(struct cr_thread_attrs *a);
void cr_attrs_restore_thread(const struct cr_thread_attrs *a);
void cr_attrs_save_process(struct cr_process_attrs *a);
void cr_attrs_restore_process(const struct cr_process_attrs *a);
/* the dump reads /proc/self, which an undumpable process may not: dumpable meanwhile */
void cr_attrs_dump_begin(const struct cr_process_attrs *a);
void cr_attrs_dump_end(const struct cr_process_attrs *a);

struct cr_thread_slot {
    int tid;                   /* 0: free */
    int parked;                /* futex word: 1 once the thread's state is recorded */
    uint32_t gen;              /* the release generation it waits to change */
    ucontext_t *uc;            /* the frame it was interrupted with */
    uint64_t fs_base, clear_tid, robust_head, robust_len, sigmask;
    uint64_t pending;          /* its own and the process's, as rt_sigpending says */
    stack_t altstack;
    char comm[16];
    struct ctx_jmp resume;
    struct cr_thread_attrs attrs;
};

/* Written by the restorer into the restored process, read by its manager. */
struct cr_restart_block {
    uint64_t restarts;         /* how many times this image was restarted */
    uint64_t hole_start, hole_len; /* the restorer's own mapping, to unmap */
    char src[CTX_PATH_MAX];    /* the context file it was restarted from */
    struct rp_lazy_note lazy;  /* the memory a lazy restart still fills (restore_plan.h) */
};
_Static_assert(__builtin_offsetof(struct cr_restart_block, lazy) == RP_LAZY_NOTE_OFF,
               "the restorer writes the lazy note at RP_LAZY_NOTE_OFF");

/* A checkpoint the process asked of itself (libcr's cr_request_checkpoint with
 * target 0): handed to the manager through memory, answered the same way. */
struct cr_self_request {
    uint32_t pending;          /* set by the requester, cleared by the manager */
    uint32_t done;             /* futex: bumped when the answer is there */
    int fd, signal;
    unsigned timeout_ms, flags; /* flags: CR_CTL_* */
    int err;                   /* 0, CR_ERESTARTED in the restored copy, or the errno */
    char msg[512];
};

#define CR_MAX_POSIX_TIMERS 64

struct cr_posix_timer {        /* timer_create()'s, saved in the runtime's own memory */
    int id, clockid, signo, notify; /* notify: SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD_ID */
    int slot;                  /* SIGEV_THREAD_ID: the thread's slot (-1: the manager) */
    uint64_t value;            /* sigev_value */
    struct itimerspec spec;    /* time left and interval */
};

struct cr_runtime {
    int listen_fd;
    int busy;                  /* the manager runs a checkpoint (cr_run_job) */
    pid_t pid, manager_tid;
    int internal_fds[CR_MAX_INTERNAL_FDS]; /* the runtime's own fds: never saved */

    uint32_t gen;              /* futex: bumped to release parked threads */
    int freezing;
    int signum;                /* the quiesce signal (quiesce_signal.c) */
    uint32_t quiet;            /* threads where no quiesce signal may reach them (an exec) */
    uint32_t socket_gate;      /* --sockets=delay: new sockets wait while it is 1 */
    uint32_t nparked;          /* futex: threads that recorded their state */
    uint32_t nresumed;         /* futex: restored threads that finished their fix-ups */
    uint32_t nslots;
    struct cr_thread_slot slots[CR_MAX_THREADS];
    struct cr_thread_slot manager;

    int32_t result;            /* what parked threads' cr_checkpoint() returns */
    int wake_fd;               /* eventfd: wakes the manager for a self request */
    struct cr_self_request self;
    struct cri_thread *manager_cri; /* runs the thread-context callbacks */

    uint32_t ntimers;
    struct cr_posix_timer timers[CR_MAX_POSIX_TIMERS];
    struct cr_process_attrs attrs;

    struct cr_restart_block restart;
    char exe_path[CTX_PATH_MAX];
    /* the seccomp mode and filters the process had from its start (its launcher's: a
     * container's, a service's), which cr_restart has too; -1: not told */
    int seccomp_at_start, seccomp_filters_at_start;
    /* listening sockets the process had at its start: its launcher's, left open by it
     * (slurmstepd's), never the program's own (launcher_sock.c) */
    struct cr_launcher_sock launcher_socks[CR_MAX_LAUNCHER_SOCKS];
    uint32_t nlauncher_socks;
};

extern struct cr_runtime crt;

long cr_snapshot(struct ctx_jmp *j) __attribute__((returns_twice));

/* quiesce_signal.c: which signal, and the parts no signal may interrupt */
int cr_signal_choose(void (*handler)(int, siginfo_t *, void *));
int cr_signal_quiet_begin(void);   /* 1 when counted: pass it to _end */
void cr_signal_quiet_end(int counted);
/* a thread that blocks the quiesce signal: stopped through SIGSETXID (-ENOTSUP: no
 * glibc handler there); released once the freeze is over */
int cr_signal_setxid_stop(pid_t tid);
void cr_signal_setxid_release(void);

/* quiesce.c: stopping and resuming the other threads */
int cr_quiesce_install(void);
void cr_record_thread(struct cr_thread_slot *s, ucontext_t *uc);
void cr_thread_fixup(const struct cr_thread_slot *slot); /* after a restore, in each thread */
/* robust_owner.c: the robust mutexes the thread holds (its robust list at head) name
 * its new tid instead of the old one; after a restore, in each thread. */
void cr_robust_new_tid(uint64_t head, pid_t old, pid_t now);
int cr_freeze_threads(unsigned timeout_ms, char *msg, size_t msglen);
void cr_release_threads(int32_t result);

/* pending_signals.c: pending signals with their siginfo, taken while stopped and
 * queued again by the thread they belong to (the process's: by the main thread,
 * parked, when the manager asks before it releases the threads) */
void cr_pending_reset(void);
void cr_pending_save_thread(const struct cr_thread_slot *s);
int cr_pending_save_process(char *msg, size_t msglen); /* every thread parked */
void cr_pending_take_new(void);    /* the process's that came since, kept after those */
void cr_pending_restore_thread(const struct cr_thread_slot *s);
void cr_pending_leader_task(void); /* in the parked main thread */
void cr_pending_release(void);     /* the manager, before it lets the threads go */

/* stopped_children.c: children stopped when the checkpoint came, noted while frozen;
 * before the process runs again, each is stopped again and its stop reported to
 * wait() as it was */
void cr_stopped_children_save(void);
void cr_stopped_children_settle(void);
int cr_stopped_children_signal(const siginfo_t *si); /* a SIGCHLD the checkpoint caused */

/* checkpoint.c: one checkpoint, from request to resume */
struct cr_job {
    int conn;                  /* the requester's socket, or -1 for a self request */
    int fd;                    /* where the context file goes */
    unsigned timeout_ms;
    int signal;                /* sent once the checkpoint is taken */
    pid_t requester;
    int replied, restored;
    int cow;                   /* the process goes on: a snapshot child may write the file */
    uint16_t reply_flags;      /* CR_REPLY_* of the next reply */
    unsigned flags;            /* CR_CTL_* of the request */
    pid_t child;               /* that child, while it writes */
    int precopy;               /* the memory was pre-copied (precopy.c) */
    int precopy_tail;          /* and the stop wrote the rest: the fsync is left */
    struct dump *dump;
    int err;
    char msg[512];
    uint64_t bytes;
    uint32_t image_crc;        /* the written file's header_crc and created_ns */
    uint64_t image_created_ns;
};
int cr_run_job(struct cr_job *job); /* 1 in the restored copy */
void cr_start_listener(void);

/* small shared helpers */
void cr_futex_wait(uint32_t *addr, uint32_t val, int timeout_ms);
void cr_futex_wake(uint32_t *addr);
void cr_futex_wait_shared(uint32_t *addr, uint32_t val, int timeout_ms);
void cr_futex_wake_shared(uint32_t *addr);
uint64_t cr_now_ms(void);
/* A small /proc file into buf, NUL-terminated (no stdio, no malloc: safe in a stopped
 * thread); its length, or -1 when it cannot be read or is empty. */
ssize_t cr_read_text(const char *path, char *buf, size_t cap);
/* each(n, arg) for every numbered entry of the directory path (a task, a pid) until
 * it returns nonzero: no malloc (opendir's would deadlock on a lock a frozen thread
 * holds, one stopped inside fork(), say).  What each returned to stop, 0 when it never
 * did, -1 when path cannot be opened. */
int cr_each_number(const char *path, int (*each)(long n, void *arg), void *arg);

/* Writes the process to a context file in two phases, each returning -errno and
 * describing in msg the step that failed: what fork would change (process ids,
 * threads, fds) first, while the threads are parked; then memory and the file, which
 * a snapshot child may do while the process goes on (see cr_dump_forkable). */
struct dump;
struct cr_ctl_prepare;
/* flags: CR_CTL_*; tree: what the requester found about the tree, or NULL */
int cr_dump_begin(struct dump **d, char *msg, size_t msglen, unsigned flags,
                  unsigned timeout_ms, const struct cr_ctl_prepare *tree);

/* Before the freeze of a checkpoint that will not be pre-copied and whose process goes
 * on (a snapshot child writes it): the dump's scratch mapped and the regions' VmFlags
 * read now, the program running, for cr_dump_begin (vmflags_watch.c says when they
 * still hold).  Whatever cr_dump_begin did not take is let go at the job's end; a
 * forked child and a restored copy forget it (the first unmaps its copy). */
void cr_dump_prepare(void);
void cr_dump_prepared_end(void);
void cr_dump_prepared_forked(void);
void cr_dump_prepared_restored(void);

int cr_dump_forkable(struct dump *d);
int cr_dump_finish(struct dump *d, int fd, uint64_t *bytes);
/* Finishes and keeps the result in the dump (shared with a snapshot child): returns an
 * exit status, 0 when written; then cr_dump_child_err/msg/bytes tell the rest. */
int cr_dump_write(struct dump *d, int fd);
uint32_t *cr_dump_released(struct dump *d); /* shared with a tree's snapshot child */
char *cr_dump_child_msg(struct dump *d);
uint64_t cr_dump_child_bytes(struct dump *d);
int cr_dump_child_err(struct dump *d);
void cr_dump_image_id(struct dump *d, uint32_t *header_crc, uint64_t *created_ns);
void cr_dump_free(struct dump *d);

/* POSIX timers: saved while the threads are parked, made again in the restored copy. */
void cr_posix_timers_init(void); /* at start: where glibc's data is */
int cr_save_posix_timers(char *msg, size_t msglen);
void cr_restore_posix_timers(void);
/* aio.c: the AIO contexts again, in the restored copy (-1: said on stderr) */
int cr_aio_restore(void);

/* --sockets=delay: how many sockets lead outside the process now (0 when none);
 * msg names the first. */
int cr_external_sockets(char *msg, size_t msglen);

/* The runtime takes fds only inside a section no close of the application overlaps,
 * and keeps them above the usual range (runtime.c). */
void cr_fd_section_begin(void);
void cr_fd_section_end(void);
int cr_keep_high(int fd);
/* A section where one is needed: on the manager thread while the program runs (1:
 * taken, for cr_fd_guard_end); a file of the runtime's own opened so, kept high. */
int cr_fd_guard_begin(void);
void cr_fd_guard_end(int taken);
int cr_open_private(const char *path, int flags);
/* the manager thread (and its snapshot child): the runtime's own calls, never the
 * program's (held_reads.c does not serve them) */
int cr_on_runtime_thread(void);

void cr_internal_fd_add(int fd);
void cr_internal_fd_del(int fd);
int cr_internal_fd(int fd);

#endif
