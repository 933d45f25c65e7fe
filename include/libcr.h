/* libcr.h: the slurm-cr checkpoint/restart API.
 *
 * Source-compatible with BLCR 0.8's libcr: same names, types, constants, error codes
 * and semantics, so a program written for BLCR compiles against this header and links
 * with -lcr unchanged.  Link with -lcr (pkg-config slurm-cr), and start the program
 * with cr_run or directly: linking libcr loads the slurm-cr runtime.
 */
#ifndef SLURM_CR_LIBCR_H
#define SLURM_CR_LIBCR_H 1

#include <errno.h>
#include <sys/select.h> /* struct timeval */
#include <sys/types.h>

#include "blcr_common.h" /* versions, CR_SIGNUM, error codes, scopes, request flags */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ---- */
typedef int cr_version_t;
#define CR_CHECKPOINT_ARGS_VERSION 1
#define CR_RESTART_ARGS_VERSION 1
#define CR_MAX_CALLBACKS 0x1FFFFFF

typedef int (*cr_callback_t)(void *);
typedef int cr_client_id_t;
typedef int cr_callback_id_t;
typedef unsigned int cr_spinlock_t;
typedef unsigned long cr_checkpoint_handle_t;
typedef unsigned long cr_restart_handle_t;

typedef struct cr_checkpoint_args {
    cr_version_t cr_version;
    cr_scope_t cr_scope;
    pid_t cr_target;        /* 0: the calling process */
    int cr_fd;              /* where the context file is written */
    int cr_signal;          /* sent to the target once the checkpoint is taken; 0: none */
    unsigned int cr_timeout; /* seconds for the target to stop; 0: unbounded */
    unsigned int cr_flags;  /* CR_CHKPT_* */
} cr_checkpoint_args_t;

typedef struct cr_restart_args {
    cr_version_t cr_version;
    int cr_fd;              /* the context file, open for reading */
    int cr_signal;          /* sent to the restarted process once it runs; 0: none */
    unsigned int cr_flags;  /* CR_RSTRT_* */
    struct cr_rstrt_relocate *cr_relocate; /* moved paths, or NULL */
} cr_restart_args_t;

struct cr_checkpoint_info {
    int signal;             /* sent after the checkpoint, or 0 */
    const char *dest;       /* path of the context file being written */
    pid_t requester;
    pid_t target;
    cr_scope_t scope;
};

struct cr_restart_info {
    pid_t requester;        /* pid of cr_restart */
    const char *src;        /* path of the context file restarted from */
};

enum { CR_STATE_IDLE, CR_STATE_PENDING, CR_STATE_ACTIVE };

/* callback contexts */
#define CR_THREAD_CONTEXT 0x4000000
#define CR_SIGNAL_CONTEXT 0x2000000
#define CR_ID_CALLBACK ((cr_client_id_t)(-1))
#define CR_SPINLOCK_INITIALIZER 0U

typedef enum {
    CR_HOOK_CONT_SIGNAL_CONTEXT = 0, /* continuing, in a thread with signal-context callbacks or critical sections */
    CR_HOOK_CONT_THREAD_CONTEXT,     /* continuing, in the thread that ran thread-context callbacks */
    CR_HOOK_CONT_NO_CALLBACKS,       /* continuing, in any other thread */
    CR_HOOK_RSTRT_SIGNAL_CONTEXT,    /* the same three when restarting */
    CR_HOOK_RSTRT_THREAD_CONTEXT,
    CR_HOOK_RSTRT_NO_CALLBACKS,
    CR_NUM_HOOKS
} cr_hook_event_t;
typedef void (*cr_hook_fn_t)(cr_hook_event_t);
#define CR_HOOK_FN_ERROR ((cr_hook_fn_t)(~0UL))

enum { CR_HOLD_SCOPE_THREAD, CR_HOLD_SCOPE_INIT, CR_HOLD_SCOPE_UNINIT };

#define CR_POLL_CHKPT_ERR_PRE -1
#define CR_POLL_CHKPT_ERR_POST -2
#define CR_POLL_CHKPT_ERR_LOG -3
#define CR_POLL_RSTRT_ERR_PRE -1
#define CR_POLL_RSTRT_ERR_POST -2
#define CR_POLL_RSTRT_ERR_LOG -3

/* ---- functions ---- */

/* Once in every thread that calls libcr; returns an id for cr_{enter,leave}_cs(). */
cr_client_id_t cr_init(void);

/* Callbacks: CR_THREAD_CONTEXT ones run in the runtime's thread and all reach
 * cr_checkpoint() before any CR_SIGNAL_CONTEXT one runs; those run in the thread that
 * registered them, from a signal handler, in reverse order of registration. */
cr_callback_id_t cr_register_callback(cr_callback_t func, void *arg, int flags);
int cr_replace_callback(cr_callback_id_t id, cr_callback_t func, void *arg, int flags);
int cr_replace_self(cr_callback_t func, void *arg, int flags);

/* Inside a callback: 0 continuing, >0 restarted, <0 -errno of a cancelled checkpoint. */
int cr_checkpoint(int flags);

/* Critical sections: no checkpoint is taken while any thread is inside one. */
int cr_enter_cs(cr_client_id_t id);
int cr_tryenter_cs(cr_client_id_t id);
int cr_leave_cs(cr_client_id_t id);
int cr_status(void);

/* Requests (another process, or 0 for the caller itself) */
#define cr_initialize_checkpoint_args_t(a) cri_init_checkpoint_args_t(CR_CHECKPOINT_ARGS_VERSION, (a))
int cri_init_checkpoint_args_t(cr_version_t version, cr_checkpoint_args_t *args);
int cr_request_checkpoint(cr_checkpoint_args_t *args, cr_checkpoint_handle_t *handle);
int cr_wait_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout);
int cr_reap_checkpoint(cr_checkpoint_handle_t *handle);
int cr_log_checkpoint(cr_checkpoint_handle_t *handle, unsigned int len, char *msg);
int cr_poll_checkpoint_msg(cr_checkpoint_handle_t *handle, struct timeval *timeout, char **msg_p);
int cr_poll_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout);
int cr_forward_checkpoint(cr_scope_t scope, pid_t target);

/* Restart from a context file (done by cr_restart(1), started for the caller): the
 * restarted process becomes the caller's child (a tree: see libcr(3)); the poll and
 * the reap give its pid. */
#define cr_initialize_restart_args_t(a) cri_init_restart_args_t(CR_RESTART_ARGS_VERSION, (a))
int cri_init_restart_args_t(cr_version_t version, cr_restart_args_t *args);
int cr_request_restart(cr_restart_args_t *args, cr_restart_handle_t *handle);
int cr_wait_restart(cr_restart_handle_t *handle, struct timeval *timeout);
int cr_reap_restart(cr_restart_handle_t *handle);
int cr_log_restart(cr_restart_handle_t *handle, unsigned int len, char *msg);
int cr_poll_restart_msg(cr_restart_handle_t *handle, struct timeval *timeout, char **msg_p);
int cr_poll_restart(cr_restart_handle_t *handle, struct timeval *timeout);

const struct cr_checkpoint_info *cr_get_checkpoint_info(void);
const struct cr_restart_info *cr_get_restart_info(void);

cr_hook_fn_t cr_register_hook(cr_hook_event_t event, cr_hook_fn_t hook_fn);
int cr_hold_ctrl(int scope, int flags);
int cr_inc_persist(void);
int cr_dec_persist(void);

void cr_spinlock_init(cr_spinlock_t *lock);
void cr_spinlock_lock(cr_spinlock_t *lock);
void cr_spinlock_unlock(cr_spinlock_t *lock);
int cr_spinlock_trylock(cr_spinlock_t *lock);

const char *cr_strerror(int errnum);

/* Deprecated BLCR calls: checkpoint the calling process. */
#ifndef CR_DEPRECATED
#if defined(__GNUC__)
#define CR_DEPRECATED __attribute__((__deprecated__))
#else
#define CR_DEPRECATED
#endif
#endif
int cr_request(void) CR_DEPRECATED;                       /* to context.<pid> in the cwd */
int cr_request_file(const char *filename) CR_DEPRECATED;
int cr_request_fd(int fd) CR_DEPRECATED;

#ifdef __cplusplus
}
#endif

#endif
