/* Callback chains, critical sections and hooks (see callbacks.h).
 *
 * A chain runs its callbacks nested: cr_checkpoint() inside callback k runs callback
 * k+1, and the last one runs the terminal step (the manager's freeze-and-dump for
 * thread context, parking the thread for signal context).  So every callback is on
 * the stack when the checkpoint is taken, and each one's cr_checkpoint() returns 0 in
 * the continuing process and 1 in the restored one, like setjmp. */
#define _GNU_SOURCE
#include "callbacks.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#include "runtime.h"

struct cri_callback *cri_tc;
unsigned cri_ntc;
static unsigned cri_captc;
cr_hook_fn_t cri_hooks[CR_NUM_HOOKS];
int cri_omit;
uint32_t cri_state = CR_STATE_IDLE, cri_cs_total;
struct cri_failure cri_failure;
struct cr_checkpoint_info cri_ckinfo;
struct cr_restart_info cri_rsinfo;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static int next_client_id;
static __thread struct cri_thread *cri_tls __attribute__((tls_model("initial-exec")));

static void futex_wait(uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Registration changes what the quiesce handler reads: keep it out meanwhile. */
static void block_quiesce(uint64_t *old)
{
    uint64_t set = 1ULL << (crt.signum - 1);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, old, 8);
}

static void restore_mask(const uint64_t *old)
{
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, 8);
}


/* The manager holds the registry while it runs the thread-context chain. */
void cri_lock_registry(void) { pthread_mutex_lock(&reg_lock); }
void cri_unlock_registry(void) { pthread_mutex_unlock(&reg_lock); }
struct cri_thread *cri_current(void) { return cri_tls; }

struct cri_thread *cri_thread_init(void)
{
    if (cri_tls)
        return cri_tls;
    struct cri_thread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_lock(&reg_lock);
    t->id = next_client_id++;
    pthread_mutex_unlock(&reg_lock);
    t->hold = CR_HOLD_DFLT;
    cri_tls = t;
    return t;
}

/* ids: thread-context ones count up from 0, signal-context ones carry a high bit */
#define SC_ID_BIT 0x1000000

int cri_register(struct cri_thread *t, cr_callback_t fn, void *arg, int flags)
{
    int ctx = flags & (CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT);
    if (ctx != CR_THREAD_CONTEXT && ctx != CR_SIGNAL_CONTEXT)
        return -EINVAL;
    if (t->frame)
        return -EBUSY;
    struct cri_callback cb = { fn, arg, flags };
    uint64_t old;
    int id;
    if (ctx == CR_THREAD_CONTEXT) {
        pthread_mutex_lock(&reg_lock);
        if (cri_ntc == cri_captc) {
            unsigned cap = cri_captc ? cri_captc * 2 : 8;
            struct cri_callback *n = malloc(cap * sizeof *n);
            if (!n) {
                pthread_mutex_unlock(&reg_lock);
                return -ENOMEM;
            }
            memcpy(n, cri_tc, cri_ntc * sizeof *n);
            block_quiesce(&old);
            struct cri_callback *gone = cri_tc;
            __atomic_store_n(&cri_tc, n, __ATOMIC_RELEASE);
            cri_captc = cap;
            restore_mask(&old);
            free(gone); /* only the manager reads it, and never while we hold reg_lock */
        }
        cri_tc[cri_ntc] = cb;
        __atomic_store_n(&cri_ntc, cri_ntc + 1, __ATOMIC_RELEASE);
        id = (int)cri_ntc - 1;
        pthread_mutex_unlock(&reg_lock);
        return id;
    }
    if (t->nsc >= CR_MAX_CALLBACKS)
        return -ENOSPC;
    if (t->nsc == t->capsc) {
        unsigned cap = t->capsc ? t->capsc * 2 : 8;
        struct cri_callback *n = malloc(cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        memcpy(n, t->sc, t->nsc * sizeof *n);
        block_quiesce(&old);
        struct cri_callback *gone = t->sc;
        t->sc = n;
        t->capsc = cap;
        restore_mask(&old);
        free(gone);
    }
    block_quiesce(&old);
    t->sc[t->nsc] = cb;
    t->nsc++;
    restore_mask(&old);
    return (int)(t->nsc - 1) | SC_ID_BIT;
}

int cri_replace(struct cri_thread *t, int id, cr_callback_t fn, void *arg, int flags)
{
    int ctx = flags & (CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT);
    if (t->frame)
        return -EBUSY;
    uint64_t old;
    if (ctx == CR_THREAD_CONTEXT && id >= 0 && !(id & SC_ID_BIT)) {
        pthread_mutex_lock(&reg_lock);
        int ok = (unsigned)id < cri_ntc;
        if (ok) {
            block_quiesce(&old);
            cri_tc[id] = (struct cri_callback){ fn, arg, flags };
            restore_mask(&old);
        }
        pthread_mutex_unlock(&reg_lock);
        return ok ? 0 : -EINVAL;
    }
    if (ctx == CR_SIGNAL_CONTEXT && id >= 0 && (id & SC_ID_BIT) && (unsigned)(id & ~SC_ID_BIT) < t->nsc) {
        block_quiesce(&old);
        t->sc[id & ~SC_ID_BIT] = (struct cri_callback){ fn, arg, flags };
        restore_mask(&old);
        return 0;
    }
    return -EINVAL;
}

int cri_replace_self(cr_callback_t fn, void *arg, int flags)
{
    struct cri_thread *t = cri_tls;
    struct cri_frame *f = t ? t->frame : NULL;
    if (!f)
        return -CR_ENOTCB;
    int want = f->chain->is_signal ? CR_SIGNAL_CONTEXT : CR_THREAD_CONTEXT;
    if ((flags & (CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT)) != want)
        return -EINVAL;
    struct cri_chain *c = f->chain;
    unsigned i = c->reverse ? c->n - 1 - f->step : f->step;
    ((struct cri_callback *)c->cbs)[i] = (struct cri_callback){ fn, arg, flags };
    return 0;
}

/* ---- running chains ---- */

static int chain_step(struct cri_chain *c, unsigned step)
{
    if (step >= c->n)
        return c->terminal(c->arg);
    unsigned i = c->reverse ? c->n - 1 - step : step;
    struct cri_callback cb = c->cbs[i];
    if (!cb.fn)
        return chain_step(c, step + 1);
    struct cri_frame f = { c->t->frame, c, step, 0, 0 };
    c->t->frame = &f;
    cb.fn(cb.arg);
    c->t->frame = f.up;
    if (!f.called) /* a callback that returns without cr_checkpoint(): go on after it */
        f.result = chain_step(c, step + 1);
    return f.result;
}

int cri_run_chain(struct cri_chain *c)
{
    return chain_step(c, 0);
}

void cri_failure_reset(void)
{
    memset(&cri_failure, 0, sizeof cri_failure);
}

static void record_failure(int flags)
{
    int kind = flags & CR_CHECKPOINT_ABORT_MASK;
    int code = (flags >> 16) & 0xffff;
    if (kind & CR_CHECKPOINT_PERM_FAILURE)
        kind = CR_CHECKPOINT_PERM_FAILURE, code = code ? code : CR_EPERMFAIL;
    else if (kind & CR_CHECKPOINT_TEMP_FAILURE)
        kind = CR_CHECKPOINT_TEMP_FAILURE, code = code ? code : CR_ETEMPFAIL;
    else
        kind = CR_CHECKPOINT_OMIT, code = CR_EOMITTED;
    /* a permanent failure outranks a temporary one, which outranks an omission */
    int cur = __atomic_load_n(&cri_failure.kind, __ATOMIC_ACQUIRE);
    int rank_new = kind == CR_CHECKPOINT_PERM_FAILURE ? 3 : kind == CR_CHECKPOINT_TEMP_FAILURE ? 2 : 1;
    int rank_cur = cur == CR_CHECKPOINT_PERM_FAILURE ? 3 : cur == CR_CHECKPOINT_TEMP_FAILURE ? 2 : cur ? 1 : 0;
    if (rank_new > rank_cur) {
        cri_failure.code = code;
        __atomic_store_n(&cri_failure.kind, kind, __ATOMIC_RELEASE);
    }
}

int cri_checkpoint(int flags)
{
    struct cri_thread *t = cri_tls;
    struct cri_frame *f = t ? t->frame : NULL;
    if (!f || f->called)
        return -CR_ENOTCB;
    f->called = 1;
    if (flags & CR_CHECKPOINT_ABORT_MASK) {
        record_failure(flags);
        /* the rest of this chain is skipped; a signal-context thread still parks so
         * that the manager sees every answer before it decides */
        int r = f->chain->is_signal ? f->chain->terminal(f->chain->arg) : -cri_failure.code;
        f->result = (flags & CR_CHECKPOINT_OMIT) ? -CR_EOMITTED : r;
        return f->result;
    }
    f->result = chain_step(f->chain, f->step + 1);
    return f->result;
}

/* ---- critical sections ---- */

void cri_set_state(uint32_t state)
{
    __atomic_store_n(&cri_state, state, __ATOMIC_RELEASE);
    futex_wake(&cri_state);
}

int cri_enter_cs(struct cri_thread *t, int try_only)
{
    if (t->cs_depth > 0) { /* already inside: nesting never waits */
        t->cs_depth++;
        __atomic_add_fetch(&cri_cs_total, 1, __ATOMIC_ACQ_REL);
        return 0;
    }
    for (;;) {
        uint32_t st = __atomic_load_n(&cri_state, __ATOMIC_ACQUIRE);
        if (st != CR_STATE_IDLE) {
            if (try_only)
                return 1;
            futex_wait(&cri_state, st, -1);
            continue;
        }
        __atomic_add_fetch(&cri_cs_total, 1, __ATOMIC_ACQ_REL);
        if (__atomic_load_n(&cri_state, __ATOMIC_ACQUIRE) != CR_STATE_IDLE) {
            /* a checkpoint became pending meanwhile: it goes first */
            if (__atomic_sub_fetch(&cri_cs_total, 1, __ATOMIC_ACQ_REL) == 0)
                futex_wake(&cri_cs_total);
            if (try_only)
                return 1;
            continue;
        }
        t->cs_depth = 1;
        t->cs_used = 1;
        return 0;
    }
}

int cri_leave_cs(struct cri_thread *t)
{
    if (t->cs_depth <= 0)
        return -EINVAL;
    t->cs_depth--;
    if (__atomic_sub_fetch(&cri_cs_total, 1, __ATOMIC_ACQ_REL) == 0)
        futex_wake(&cri_cs_total);
    /* the last leave takes a pending checkpoint before returning */
    if (t->cs_depth == 0) {
        uint32_t st;
        while ((st = __atomic_load_n(&cri_state, __ATOMIC_ACQUIRE)) != CR_STATE_IDLE)
            futex_wait(&cri_state, st, -1);
    }
    return 0;
}

int cri_status(void)
{
    return (int)__atomic_load_n(&cri_state, __ATOMIC_ACQUIRE);
}

/* Waits (in the manager, state PENDING) until no thread is in a critical section. */
int cri_wait_cs_free(unsigned timeout_ms)
{
    struct timespec start, now;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &start);
    uint32_t v;
    while ((v = __atomic_load_n(&cri_cs_total, __ATOMIC_ACQUIRE)) != 0) {
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
        long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited >= (long)timeout_ms)
            return -ETIMEDOUT;
        futex_wait(&cri_cs_total, v, 10);
    }
    return 0;
}

/* ---- hooks and information ---- */

cr_hook_fn_t cri_register_hook(cr_hook_event_t event, cr_hook_fn_t fn)
{
    if ((int)event < 0 || event >= CR_NUM_HOOKS || fn == CR_HOOK_FN_ERROR)
        return CR_HOOK_FN_ERROR;
    return __atomic_exchange_n(&cri_hooks[event], fn, __ATOMIC_ACQ_REL);
}

void cri_run_hook(int restarted, int thread_context)
{
    struct cri_thread *t = cri_tls;
    int kind = thread_context ? 1 : (t && (t->nsc || t->cs_used)) ? 0 : 2;
    cr_hook_event_t ev = (cr_hook_event_t)((restarted ? 3 : 0) + kind);
    cr_hook_fn_t fn = __atomic_load_n(&cri_hooks[ev], __ATOMIC_ACQUIRE);
    if (fn)
        fn(ev);
}

const struct cr_checkpoint_info *cri_checkpoint_info(void)
{
    return cri_tls && cri_tls->frame ? &cri_ckinfo : NULL;
}

const struct cr_restart_info *cri_restart_info(void)
{
    return cri_tls && cri_tls->frame ? &cri_rsinfo : NULL;
}

void cri_set_omit(void)
{
    cri_omit = 1;
}
