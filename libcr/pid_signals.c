/* The sender a signal handler's siginfo names, as the program knows it (pid_map.c):
 * a handler the program installs with SA_SIGINFO is called through senders_known(),
 * which puts the sender's pid of the table in si_pid first (kill, sigqueue, tgkill,
 * a child's SIGCHLD).  Installed so from the start, whether or not a table ever comes
 * (a restart writes one into the process as it is: its handlers stay the kernel's):
 * without a table a signal costs one call and one load more.  sigaction() reports the
 * program's own handler; a handler installed through the raw system call is not
 * translated. */
#define _GNU_SOURCE
#include "pid_signals.h"
#include "pid_map.h"

#include <signal.h>
#include <stddef.h>

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

typedef void handler_fn(int, siginfo_t *, void *);
static handler_fn *program_handler[_NSIG];

static void senders_known(int sig, siginfo_t *info, void *uc)
{
    handler_fn *h = sig > 0 && sig < _NSIG ? __atomic_load_n(&program_handler[sig], __ATOMIC_ACQUIRE) : NULL;
    cr_pid_siginfo_known(info);
    if (h)
        h(sig, info, uc);
}

static int real_handler(const struct sigaction *a)
{
    return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

int cr_pid_sigaction(int sig, const struct sigaction *act, struct sigaction *old, const void *from)
{
    if (sig <= 0 || sig >= _NSIG || !cr_pid_program_call(from))
        return __sigaction(sig, act, old);
    struct sigaction copy;
    handler_fn *before = __atomic_load_n(&program_handler[sig], __ATOMIC_ACQUIRE);
    if (act && (act->sa_flags & SA_SIGINFO) && real_handler(act)) {
        copy = *act;
        __atomic_store_n(&program_handler[sig], act->sa_sigaction, __ATOMIC_RELEASE);
        copy.sa_sigaction = senders_known;
        act = &copy;
    }
    int r = __sigaction(sig, act, old);
    if (r < 0 && act == &copy) /* (nothing installed) */
        __atomic_store_n(&program_handler[sig], before, __ATOMIC_RELEASE);
    if (r == 0 && old && (old->sa_flags & SA_SIGINFO) && old->sa_sigaction == senders_known)
        old->sa_sigaction = before;
    return r;
}
