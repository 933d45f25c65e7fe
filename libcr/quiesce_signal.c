/* The quiesce signal, and keeping it out of the program's way.
 *
 * The runtime stops threads with a real-time signal of its own.  Runtimes have their
 * favourites (the JDK interrupts blocking I/O with SIGRTMAX-2, profilers use SIGRTMAX-1
 * and -2, .NET SIGRTMIN), so the default is one in the middle of the range, and
 * CR_SIGNUM (BLCR's name) chooses another.  A program that installs a handler for it
 * anyway gets it: the runtime moves to a free signal first.  The program sees its own
 * view of that signal (the action and the blocked bit it set), while the runtime keeps
 * it deliverable, so that a thread that blocks every signal can still be stopped.
 *
 * A thread that blocks it behind the wrapper's back (with a raw rt_sigprocmask, as
 * glibc's own helper thread for SIGEV_THREAD timers does) is reached through
 * SIGSETXID instead, which glibc keeps open in every thread for setuid(): for the
 * length of the freeze, that signal's handler also stops a thread when the runtime
 * sent it (an SI_QUEUE carrying &crt), and passes glibc's own on to glibc.
 *
 * No quiesce signal may be sent while a thread is in the middle of something the
 * signal would break (an exec, a move): cr_signal_quiet_begin/end bracket such parts,
 * and cr_freeze_threads waits for them. */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_signals.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

#define API __attribute__((visibility("default")))

/* what the program set for the runtime's signal: its action, and whether each thread
 * asked for it to be blocked */
static struct sigaction program_action;
static __thread int program_blocked;

int cr_signal_quiet_begin(void)
{
    if (getpid() != crt.pid)
        return 0; /* a vfork child: not one of the threads a checkpoint stops */
    for (;;) {
        __atomic_add_fetch(&crt.quiet, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&crt.freezing, __ATOMIC_SEQ_CST))
            return 1;
        __atomic_sub_fetch(&crt.quiet, 1, __ATOMIC_SEQ_CST);
        /* a checkpoint is stopping the threads: its signal parks us here, and we go
         * on once it has let them go */
        uint32_t gen = __atomic_load_n(&crt.gen, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&crt.freezing, __ATOMIC_SEQ_CST))
            cr_futex_wait(&crt.gen, gen, 20);
    }
}

void cr_signal_quiet_end(int counted)
{
    if (counted)
        __atomic_sub_fetch(&crt.quiet, 1, __ATOMIC_SEQ_CST);
}

static int usable(int sig)
{
    return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

/* A real-time signal nobody handles, from the middle of the range out, or 0. */
static int free_signal(int avoid)
{
    int mid = CR_DEFAULT_SIGNUM;
    for (int d = 0; d <= SIGRTMAX - SIGRTMIN; d++) {
        for (int side = -1; side <= 1; side += 2) {
            int sig = mid + side * d;
            struct sigaction cur;
            if (!usable(sig) || sig == avoid || __sigaction(sig, NULL, &cur) < 0)
                continue;
            if (cur.sa_handler == SIG_DFL && !(cur.sa_flags & SA_SIGINFO))
                return sig;
        }
    }
    return 0;
}

static void (*quiesce_handler)(int, siginfo_t *, void *);

static int install(int sig, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    return __sigaction(sig, &sa, NULL) < 0 ? -errno : 0;
}

int cr_signal_choose(void (*handler)(int, siginfo_t *, void *))
{
    const char *env = getenv("CR_SIGNUM");
    int sig = env && *env ? atoi(env) : CR_DEFAULT_SIGNUM;
    if (!usable(sig))
        sig = CR_DEFAULT_SIGNUM;
    struct sigaction cur;
    if (__sigaction(sig, NULL, &cur) == 0 && (cur.sa_handler != SIG_DFL || (cur.sa_flags & SA_SIGINFO)))
        sig = free_signal(sig); /* taken already (by a library loaded before us) */
    if (!sig)
        return -EBUSY;
    int rc = install(sig, handler);
    if (rc == 0)
        crt.signum = sig;
    quiesce_handler = handler;
    return rc;
}

/* ---- SIGSETXID: the way in to a thread that blocks the quiesce signal ---- */

#define SIGSETXID 33

struct kernel_action {
    uint64_t handler, flags, restorer, mask;
};
static struct kernel_action glibc_setxid; /* glibc's handler, while ours is in */
static int setxid_taken;

static void setxid_handler(int sig, siginfo_t *si, void *uc)
{
    if (si->si_code == SI_QUEUE && si->si_value.sival_ptr == &crt)
        quiesce_handler(sig, si, uc);
    else
        ((void (*)(int, siginfo_t *, void *))(uintptr_t)glibc_setxid.handler)(sig, si, uc);
}

int cr_signal_setxid_stop(pid_t tid)
{
    if (!setxid_taken) {
        /* glibc's sigaction refuses its internal signals: the kernel's, with the
         * return trampoline glibc gave the quiesce signal */
        struct kernel_action ours;
        if (syscall(SYS_rt_sigaction, SIGSETXID, NULL, &glibc_setxid, 8) < 0 ||
            !(glibc_setxid.flags & SA_SIGINFO) || glibc_setxid.handler <= 1 ||
            syscall(SYS_rt_sigaction, crt.signum, NULL, &ours, 8) < 0)
            return -ENOTSUP; /* no glibc handler to pass its own signals on to */
        ours.handler = (uint64_t)(uintptr_t)setxid_handler;
        if (syscall(SYS_rt_sigaction, SIGSETXID, &ours, NULL, 8) < 0)
            return -errno;
        setxid_taken = 1;
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGSETXID;
    si.si_code = SI_QUEUE;
    si.si_pid = crt.pid;
    si.si_uid = getuid();
    si.si_value.sival_ptr = &crt;
    return syscall(SYS_rt_tgsigqueueinfo, crt.pid, tid, SIGSETXID, &si) < 0 ? -errno : 0;
}

/* Once the threads it was sent to are stopped (or the freeze gave up: a late one
 * passes it to glibc, which ignores what is not its own). */
void cr_signal_setxid_release(void)
{
    if (setxid_taken)
        syscall(SYS_rt_sigaction, SIGSETXID, &glibc_setxid, NULL, 8);
    setxid_taken = 0;
}

/* The program wants the runtime's signal: the runtime takes another one first. */
static int move_away(void)
{
    struct sigaction ours;
    if (__sigaction(crt.signum, NULL, &ours) < 0)
        return -errno;
    int counted = cr_signal_quiet_begin();
    int sig = free_signal(crt.signum), rc = -EBUSY;
    if (sig && (rc = install(sig, ours.sa_sigaction)) == 0)
        __atomic_store_n(&crt.signum, sig, __ATOMIC_SEQ_CST);
    cr_signal_quiet_end(counted);
    return rc;
}

API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig != crt.signum || !crt.signum) /* (a handler's sender: pid_signals.c) */
        return cr_pid_sigaction(sig, act, old, __builtin_return_address(0));
    struct sigaction was = program_action;
    if (act) {
        int rc = move_away();
        if (rc < 0) {
            errno = -rc; /* no real-time signal left for the runtime */
            return -1;
        }
        if (__sigaction(sig, act, NULL) < 0)
            return -1;
        program_action = *act;
    }
    if (old)
        *old = was;
    return 0;
}

API __sighandler_t signal(int sig, __sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART; /* glibc's signal() has BSD semantics */
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    if (sigaction(sig, &sa, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

API __sighandler_t bsd_signal(int sig, __sighandler_t handler)
{
    return signal(sig, handler);
}

/* ---- the mask: the program's view of the runtime's signal, which stays open ---- */

static int has(const sigset_t *set, int sig)
{
    return (set->__val[(sig - 1) / (8 * sizeof(unsigned long))] >> ((sig - 1) % (8 * sizeof(unsigned long)))) & 1;
}

static void put(sigset_t *set, int sig, int on)
{
    unsigned long bit = 1UL << ((sig - 1) % (8 * sizeof(unsigned long)));
    unsigned long *w = &set->__val[(sig - 1) / (8 * sizeof(unsigned long))];
    *w = on ? *w | bit : *w & ~bit;
}

API int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    int sig = crt.signum;
    sigset_t copy;
    int wants = program_blocked;
    if (set && sig) {
        copy = *set;
        if (how == SIG_BLOCK && has(set, sig))
            wants = 1;
        else if (how == SIG_UNBLOCK && has(set, sig))
            wants = 0;
        else if (how == SIG_SETMASK)
            wants = has(set, sig);
        if (how != SIG_UNBLOCK) {
            put(&copy, sig, 0);
            /* SIGCANCEL and SIGSETXID stay open, as glibc keeps them */
            put(&copy, 32, 0);
            put(&copy, 33, 0);
        }
        set = &copy;
    }
    long r = syscall(SYS_rt_sigprocmask, how, set, old, 8);
    if (r < 0)
        return errno;
    if (old && sig)
        put(old, sig, program_blocked);
    program_blocked = wants;
    return 0;
}

API int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    int e = pthread_sigmask(how, set, old);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}
