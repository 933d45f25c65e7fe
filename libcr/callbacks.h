/* The runtime's side of the libcr API: callback chains, critical sections, hooks and
 * request information.  libcr.so (the public API) and libcr_omit.so call these cri_*
 * entry points; the manager thread and the quiesce handler drive them. */
#ifndef SLURM_CR_CALLBACKS_H
#define SLURM_CR_CALLBACKS_H

#include <stdint.h>

#include "libcr.h"
#include <stddef.h>

#define CRI_API __attribute__((visibility("default")))

struct cri_callback {
    cr_callback_t fn;
    void *arg;
    int flags;
};

struct cri_chain;

struct cri_frame {             /* one callback running in this thread */
    struct cri_frame *up;
    struct cri_chain *chain;
    unsigned step;
    int called;                /* it called cr_checkpoint() */
    int result;
};

struct cri_thread {            /* per thread, made by cr_init() */
    int id;
    int cs_depth;
    int cs_used;
    int persist;
    int hold;
    struct cri_callback *sc;   /* signal-context callbacks, in registration order */
    unsigned nsc, capsc;
    struct cri_frame *frame;   /* innermost running callback */
};

struct cri_chain {             /* callbacks to run, then the terminal step */
    struct cri_thread *t;
    const struct cri_callback *cbs;
    unsigned n;
    int reverse;               /* signal context: last registered first */
    int is_signal;
    int (*terminal)(void *arg);
    void *arg;
};

/* Runs the chain; returns what cr_checkpoint() returns to its callbacks. */
int cri_run_chain(struct cri_chain *c);

/* What callbacks asked for: 0, or CR_CHECKPOINT_{TEMP,PERM}_FAILURE / OMIT with a code. */
struct cri_failure {
    int kind;                  /* CR_CHECKPOINT_* flag of the first failure, or 0 */
    int code;                  /* errno to report */
};
extern struct cri_failure cri_failure;
void cri_failure_reset(void);

/* Thread-context callbacks and hooks, process-wide. */
extern struct cri_callback *cri_tc;
extern unsigned cri_ntc;
extern cr_hook_fn_t cri_hooks[CR_NUM_HOOKS];
extern int cri_omit;

/* Checkpoint state (CR_STATE_*) and the number of threads inside critical sections;
 * both are futex words. */
extern uint32_t cri_state, cri_cs_total;
int cri_wait_cs_free(unsigned timeout_ms);
void cri_set_state(uint32_t state);

extern struct cr_checkpoint_info cri_ckinfo;
extern struct cr_restart_info cri_rsinfo;

void cri_lock_registry(void);
void cri_unlock_registry(void);
void cri_run_hook(int restarted, int thread_context);

/* entry points for libcr.so / libcr_omit.so */
CRI_API struct cri_thread *cri_thread_init(void);
CRI_API struct cri_thread *cri_current(void);
CRI_API int cri_register(struct cri_thread *t, cr_callback_t fn, void *arg, int flags);
CRI_API int cri_replace(struct cri_thread *t, int id, cr_callback_t fn, void *arg, int flags);
CRI_API int cri_replace_self(cr_callback_t fn, void *arg, int flags);
CRI_API int cri_checkpoint(int flags);
CRI_API int cri_enter_cs(struct cri_thread *t, int try_only);
CRI_API int cri_leave_cs(struct cri_thread *t);
CRI_API int cri_status(void);
CRI_API const struct cr_checkpoint_info *cri_checkpoint_info(void);
CRI_API const struct cr_restart_info *cri_restart_info(void);
CRI_API cr_hook_fn_t cri_register_hook(cr_hook_event_t event, cr_hook_fn_t fn);
CRI_API void cri_set_omit(void);

/* Self-checkpoints: the request goes to our own manager through memory. */
CRI_API int cri_self_request(int fd, int signal, unsigned timeout_ms, unsigned flags,
                             unsigned *ticket);
CRI_API int cri_self_wait(unsigned ticket, int timeout_ms, int *err, char *msg, unsigned msglen);

#endif
