/* libcr.so: the BLCR-compatible API (include/libcr.h) over the slurm-cr runtime.
 * Linking with -lcr loads libcr_run.so, which holds the mechanism (callbacks.c). */
#define _GNU_SOURCE
#define CR_DEPRECATED /* we define them */
#include "libcr.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "callbacks.h"
#include "control.h"
#include "request_client.h"
#include "tree_request.h"

#define API __attribute__((visibility("default")))

static int set_errno(int e)
{
    errno = e;
    return -1;
}

#define NEED_INIT(fail)                 \
    struct cri_thread *t = cri_current(); \
    if (!t) {                           \
        errno = CR_ENOINIT;             \
        return fail;                    \
    }

API cr_client_id_t cr_init(void)
{
    struct cri_thread *t = cri_thread_init();
    return t ? t->id : set_errno(ENOMEM);
}

API cr_callback_id_t cr_register_callback(cr_callback_t func, void *arg, int flags)
{
    NEED_INIT(-1);
    int r = cri_register(t, func, arg, flags);
    return r < 0 ? set_errno(-r) : r;
}

API int cr_replace_callback(cr_callback_id_t id, cr_callback_t func, void *arg, int flags)
{
    NEED_INIT(-1);
    int r = cri_replace(t, id, func, arg, flags);
    return r < 0 ? set_errno(-r) : 0;
}

API int cr_replace_self(cr_callback_t func, void *arg, int flags)
{
    int r = cri_replace_self(func, arg, flags);
    return r < 0 ? set_errno(-r) : 0;
}

API int cr_checkpoint(int flags)
{
    return cri_checkpoint(flags);
}

static int in_callback(void)
{
    struct cri_thread *t = cri_current();
    return t && t->frame;
}

static int cs_call(cr_client_id_t id, int op)
{
    if (id == CR_ID_CALLBACK)
        return in_callback() ? 0 : set_errno(EINVAL);
    NEED_INIT(-1);
    if (id != t->id)
        return set_errno(EINVAL);
    if (t->frame)
        return 0; /* inside a callback nothing blocks */
    int r = op == 2 ? cri_leave_cs(t) : cri_enter_cs(t, op == 1);
    return r < 0 ? set_errno(-r) : r;
}

API int cr_enter_cs(cr_client_id_t id) { return cs_call(id, 0); }
API int cr_tryenter_cs(cr_client_id_t id) { return cs_call(id, 1); }
API int cr_leave_cs(cr_client_id_t id) { return cs_call(id, 2); }

API int cr_status(void)
{
    NEED_INIT(-1);
    (void)t;
    return cri_status();
}

/* ---- requests ---- */

struct handle {
    int self;
    unsigned ticket;           /* self: the answer to wait for */
    struct crq q;              /* another process */
    int signal;
    int done, err;
    char msg[768];
};

API int cri_init_checkpoint_args_t(cr_version_t version, cr_checkpoint_args_t *args)
{
    if (!args)
        return set_errno(EINVAL);
    if (version != CR_CHECKPOINT_ARGS_VERSION)
        return set_errno(CR_EVERSION);
    memset(args, 0, sizeof *args);
    args->cr_version = version;
    args->cr_scope = CR_SCOPE_PROC;
    args->cr_target = 0;
    args->cr_fd = -1;
    return 0;
}

/* What the request asks of the runtime, from BLCR's flags. */
static unsigned request_flags(const cr_checkpoint_args_t *args)
{
    unsigned f = args->cr_signal == 0 || args->cr_signal == SIGCONT ? CR_CTL_CONTINUE : 0;
    if (args->cr_flags & CR_CHKPT_DUMP_EXEC)
        f |= CR_CTL_SAVE_EXE;
    if (args->cr_flags & CR_CHKPT_DUMP_PRIVATE)
        f |= CR_CTL_SAVE_PRIVATE;
    if (args->cr_flags & CR_CHKPT_DUMP_SHARED)
        f |= CR_CTL_SAVE_SHARED;
    /* CR_COMPRESS, as for cr_checkpoint (a value it would refuse compresses nothing) */
    unsigned z;
    const char *level = getenv("CR_COMPRESS");
    if (level && cr_compress_flags(level, &z) == 0)
        f |= z;
    return f;
}

static int has_children(void)
{
    char path[64], c;
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "re");
    int yes = f && fread(&c, 1, 1, f) == 1;
    if (f)
        fclose(f);
    return yes;
}

/* A checkpoint of our own tree: every process of it goes into one file, which the
 * tools' requester (cr_checkpoint) writes; it is left out of the tree as a requester
 * inside its target is.  We wait for it here while the checkpoint freezes us too;
 * restarted, we find no such child (it was not in the tree): the restarted copy. */
static void self_tree(struct handle *h, const cr_checkpoint_args_t *args, unsigned timeout_ms)
{
    const char *prog = getenv("CR_CHECKPOINT_PROG"); /* tests, and installs that moved */
    if (!prog || !*prog)
        prog = CR_CHECKPOINT_PROG;
    int err[2];
    h->done = 1;
    if (pipe2(err, O_CLOEXEC) < 0) {
        h->err = errno;
        return;
    }
    char fdarg[16], pidarg[16], sigarg[16], targ[32];
    snprintf(fdarg, sizeof fdarg, "%d", args->cr_fd);
    snprintf(pidarg, sizeof pidarg, "%d", (int)getpid());
    snprintf(sigarg, sizeof sigarg, "%d", args->cr_signal);
    snprintf(targ, sizeof targ, "%u", (timeout_ms + 999) / 1000);
    pid_t child = fork();
    if (child == 0) {
        dup2(err[1], 2);
        int fl = fcntl(args->cr_fd, F_GETFD);
        fcntl(args->cr_fd, F_SETFD, fl & ~FD_CLOEXEC);
        const char *argv[16];
        int n = 0;
        argv[n++] = prog;
        argv[n++] = "--tree";
        argv[n++] = "-F";
        argv[n++] = fdarg;
        argv[n++] = "-t";
        argv[n++] = targ;
        if (args->cr_signal) {
            argv[n++] = "-S";
            argv[n++] = sigarg;
        }
        if (args->cr_flags & CR_CHKPT_DUMP_EXEC)
            argv[n++] = "--save-exe";
        if (args->cr_flags & CR_CHKPT_DUMP_PRIVATE)
            argv[n++] = "--save-private";
        if (args->cr_flags & CR_CHKPT_DUMP_SHARED)
            argv[n++] = "--save-shared";
        argv[n++] = pidarg;
        argv[n] = NULL;
        execv(prog, (char *const *)argv);
        dprintf(2, "cannot run %s: %s", prog, strerror(errno));
        _exit(127);
    }
    close(err[1]);
    if (child < 0) {
        h->err = errno;
        close(err[0]);
        return;
    }
    int status = 0;
    pid_t w;
    while ((w = waitpid(child, &status, 0)) < 0 && errno == EINTR)
        ;
    if (w < 0 && errno == ECHILD) { /* restarted: the requester was not in the tree */
        h->err = CR_ERESTARTED;
        close(err[0]);
        return;
    }
    ssize_t len = read(err[0], h->msg, sizeof h->msg - 1);
    h->msg[len > 0 ? len : 0] = 0;
    close(err[0]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        h->err = 0;
    else
        h->err = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EIO;
}

/* Any thread may ask, registered with cr_init() or not (as with BLCR). */
API int cr_request_checkpoint(cr_checkpoint_args_t *args, cr_checkpoint_handle_t *handle)
{
    struct cri_thread *t = cri_current();
    if (!args || !handle)
        return set_errno(EINVAL);
    if (args->cr_version != CR_CHECKPOINT_ARGS_VERSION)
        return set_errno(CR_EVERSION);
    if ((unsigned)args->cr_scope > CR_SCOPE_TREE)
        return set_errno(EINVAL);
    if (args->cr_fd == CR_DEST_CWD || fcntl(args->cr_fd, F_GETFD) < 0)
        return set_errno(EBADF);
    if (args->cr_signal < 0 || args->cr_signal > 64)
        return set_errno(EINVAL);
    pid_t target = args->cr_target ? args->cr_target : getpid();
    unsigned timeout_ms = args->cr_timeout ? args->cr_timeout * 1000 : 86400000;
    struct handle *h = calloc(1, sizeof *h);
    if (!h)
        return set_errno(ENOMEM);
    h->q.sock = -1; /* (0 would be closed at reap: the program's stdin) */
    h->signal = args->cr_signal;
    if (target == getpid() && args->cr_scope != CR_SCOPE_PROC && args->cr_scope != CR_SCOPE_TREE) {
        free(h); /* a group or session of our own: we would be frozen while asking */
        return set_errno(ENOTSUP);
    }
    if (target != getpid() && args->cr_scope != CR_SCOPE_PROC) {
        /* another process's tree, group or session: one file for all of them, taken
         * now (the handle is done at once); a process alone goes the usual way */
        static const int scopes[] = { CTX_SCOPE_PROC, CTX_SCOPE_PGRP, CTX_SCOPE_SESS, CTX_SCOPE_TREE };
        struct crtree tr;
        int n = crtree_find(&tr, target, scopes[args->cr_scope], args->cr_fd, timeout_ms,
                            request_flags(args));
        if (n < 0 || tr.n > 1) {
            if (n >= 0 && crtree_checkpoint(&tr) == 0)
                crtree_commit(&tr, args->cr_signal);
            h->done = 1;
            h->err = tr.err;
            snprintf(h->msg, sizeof h->msg, "%.760s", tr.msg);
            h->q.sock = -1;
            crtree_close(&tr);
            *handle = (cr_checkpoint_handle_t)(uintptr_t)h;
            return 0;
        }
        crtree_close(&tr);
    }
    if (target == getpid() && args->cr_scope == CR_SCOPE_TREE && has_children() &&
        !(args->cr_flags & CR_CHKPT_PROHIBIT_SELF)) {
        self_tree(h, args, timeout_ms); /* ours and our children's */
        *handle = (cr_checkpoint_handle_t)(uintptr_t)h;
        return 0;
    }
    if (target == getpid()) {
        if (args->cr_flags & CR_CHKPT_PROHIBIT_SELF) {
            free(h);
            return set_errno(EDEADLK);
        }
        int r = cri_self_request(args->cr_fd, args->cr_signal, timeout_ms, request_flags(args),
                                 &h->ticket);
        if (r < 0) {
            free(h);
            return set_errno(-r == ENOTSUP ? CR_ENOSUPPORT : -r);
        }
        h->self = 1;
        /* as with BLCR, the checkpoint is taken before the call returns (in the
         * restarted copy it returns too), unless this thread holds a critical section:
         * then it is taken when the thread leaves it */
        if (!t || t->cs_depth == 0)
            h->done = cri_self_wait(h->ticket, -1, &h->err, h->msg, sizeof h->msg) == 1;
    } else {
        if (kill(target, 0) < 0) {
            int e = errno;
            free(h);
            return set_errno(e);
        }
        int r = crq_start(&h->q, target, args->cr_fd, timeout_ms, request_flags(args));
        if (r < 0) {
            free(h);
            return set_errno(-r == ENOTSUP ? CR_ENOSUPPORT : -r);
        }
    }
    *handle = (cr_checkpoint_handle_t)(uintptr_t)h;
    return 0;
}

static int ms_of(const struct timeval *tv)
{
    if (!tv)
        return -1;
    long ms = tv->tv_sec * 1000 + tv->tv_usec / 1000;
    return ms < 0 ? 0 : ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

API int cr_wait_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout)
{
    struct handle *h = handle ? (struct handle *)(uintptr_t)*handle : NULL;
    if (!h)
        return set_errno(EINVAL);
    if (h->done)
        return 1;
    struct timespec t0, t1;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t0);
    int ms = ms_of(timeout), r;
    if (h->self) {
        r = cri_self_wait(h->ticket, ms, &h->err, h->msg, sizeof h->msg);
    } else {
        r = crq_wait(&h->q, ms);
        if (r == 1) {
            h->err = h->q.err;
            snprintf(h->msg, sizeof h->msg, "%s", h->q.msg);
            if (!h->err)
                crq_commit(&h->q, h->signal);
            crq_close(&h->q);
        }
    }
    if (timeout) { /* the time left, as select() does */
        syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t1);
        long used = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        long left = timeout->tv_sec * 1000000L + timeout->tv_usec - used;
        if (left < 0)
            left = 0;
        timeout->tv_sec = left / 1000000;
        timeout->tv_usec = left % 1000000;
    }
    if (r == 1)
        h->done = 1;
    return r;
}

API int cr_log_checkpoint(cr_checkpoint_handle_t *handle, unsigned int len, char *msg)
{
    struct handle *h = handle ? (struct handle *)(uintptr_t)*handle : NULL;
    if (!h)
        return set_errno(EINVAL);
    size_t need = h->msg[0] ? strlen(h->msg) + 1 : 0;
    if (need && len && msg)
        snprintf(msg, len, "%s", h->msg);
    return (int)need;
}

API int cr_reap_checkpoint(cr_checkpoint_handle_t *handle)
{
    struct handle *h = handle ? (struct handle *)(uintptr_t)*handle : NULL;
    if (!h)
        return set_errno(EINVAL);
    if (!h->done)
        return set_errno(EAGAIN);
    int err = h->err;
    crq_close(&h->q);
    free(h);
    *handle = 0;
    return err ? set_errno(err) : 1;
}

API int cr_poll_checkpoint_msg(cr_checkpoint_handle_t *handle, struct timeval *timeout, char **msg_p)
{
    int rc = cr_wait_checkpoint(handle, timeout);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return CR_POLL_CHKPT_ERR_PRE;
    if (msg_p) {
        int len = cr_log_checkpoint(handle, 0, NULL);
        *msg_p = NULL;
        if (len > 0) {
            if (!(*msg_p = malloc((size_t)len)))
                return CR_POLL_CHKPT_ERR_LOG;
            cr_log_checkpoint(handle, (unsigned)len, *msg_p);
        }
    }
    if (cr_reap_checkpoint(handle) < 0)
        return CR_POLL_CHKPT_ERR_POST;
    return 1;
}

API int cr_poll_checkpoint(cr_checkpoint_handle_t *handle, struct timeval *timeout)
{
    return cr_poll_checkpoint_msg(handle, timeout, NULL);
}

API int cr_forward_checkpoint(cr_scope_t scope, pid_t target)
{
    if (!in_callback())
        return set_errno(CR_ENOTCB);
    if ((int)scope < CR_SCOPE_PROC || scope > CR_SCOPE_TREE)
        return set_errno(EINVAL);
    /* overlapping the current request (this very process) is no error */
    if ((scope == CR_SCOPE_PROC || scope == CR_SCOPE_TREE) && (target == 0 || target == getpid()))
        return 0;
    if (target < 0 || (kill(target, 0) < 0 && errno == ESRCH))
        return set_errno(ESRCH);
    /* other processes would have to go into the same context file: that needs
     * multi-process images, which this release does not write yet */
    return set_errno(ENOTSUP);
}

API const struct cr_checkpoint_info *cr_get_checkpoint_info(void)
{
    return cri_checkpoint_info();
}

API const struct cr_restart_info *cr_get_restart_info(void)
{
    return cri_restart_info();
}

API cr_hook_fn_t cr_register_hook(cr_hook_event_t event, cr_hook_fn_t hook_fn)
{
    NEED_INIT(CR_HOOK_FN_ERROR);
    (void)t;
    cr_hook_fn_t old = cri_register_hook(event, hook_fn);
    if (old == CR_HOOK_FN_ERROR)
        errno = EINVAL;
    return old;
}

/* The runtime always holds every thread until all callbacks are done (CR_HOLD_BOTH,
 * BLCR's default); the values are kept and reported. */
static int hold_init = CR_HOLD_BOTH, hold_uninit = CR_HOLD_BOTH;

API int cr_hold_ctrl(int scope, int flags)
{
    NEED_INIT(-1);
    int *slot = scope == CR_HOLD_SCOPE_THREAD ? &t->hold : scope == CR_HOLD_SCOPE_INIT ? &hold_init
              : scope == CR_HOLD_SCOPE_UNINIT ? &hold_uninit : NULL;
    if (!slot || flags < CR_HOLD_READ || flags > CR_HOLD_DFLT ||
        (flags == CR_HOLD_DFLT && scope != CR_HOLD_SCOPE_THREAD))
        return set_errno(EINVAL);
    int old = *slot;
    if (flags != CR_HOLD_READ)
        *slot = flags;
    return old;
}

API int cr_inc_persist(void)
{
    NEED_INIT(-1);
    return ++t->persist;
}

API int cr_dec_persist(void)
{
    NEED_INIT(-1);
    if (t->persist <= 0)
        return set_errno(ERANGE); /* (BLCR's) */
    return --t->persist;
}

API void cr_spinlock_init(cr_spinlock_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

API int cr_spinlock_trylock(cr_spinlock_t *lock)
{
    return __atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE) == 0;
}

API void cr_spinlock_lock(cr_spinlock_t *lock)
{
    while (!cr_spinlock_trylock(lock))
        while (__atomic_load_n(lock, __ATOMIC_RELAXED))
            __builtin_ia32_pause();
}

API void cr_spinlock_unlock(cr_spinlock_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }

/* ---- the deprecated self-checkpoint calls: 0 continuing, 1 restarted, -1 error ---- */

API int cr_request_fd(int fd)
{
    if (!cri_current() && !cri_thread_init())
        return set_errno(ENOMEM);
    cr_checkpoint_args_t args;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = fd;
    if (cr_request_checkpoint(&args, &h) < 0)
        return -1;
    while (cr_wait_checkpoint(&h, NULL) == 0)
        ;
    if (cr_reap_checkpoint(&h) > 0)
        return 0;
    return errno == CR_ERESTARTED ? 1 : -1;
}

API int cr_request_file(const char *filename)
{
    int fd = open(filename, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int r = cr_request_fd(fd);
    int e = errno;
    close(fd); /* in the restarted copy too: it was reopened there */
    errno = e;
    return r;
}

API int cr_request(void)
{
    char name[64];
    snprintf(name, sizeof name, "context.%d", (int)getpid());
    return cr_request_file(name);
}
