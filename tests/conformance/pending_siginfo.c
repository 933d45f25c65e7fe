/* Blocked signals sent with sigqueue: two instances of a real-time signal and one
 * SIGUSR1, each pending with its value, code, sender pid and uid. */
#include "conf.h"

int main(void)
{
    int rt = SIGRTMIN + 4;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, rt);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    pid_t me = getpid();
    cf_sys(sigqueue(me, rt, (union sigval){ .sival_int = 1111 }));
    cf_sys(sigqueue(me, rt, (union sigval){ .sival_int = 2222 }));
    cf_sys(sigqueue(me, SIGUSR1, (union sigval){ .sival_int = 3333 }));
    cf_ready();
    cf_wait();
    sigset_t p;
    cf_sys(sigpending(&p));
    cf_check(sigismember(&p, SIGUSR1) && sigismember(&p, rt), "pending: expected SIGUSR1 and SIGRTMIN+4, got %s%s",
             sigismember(&p, SIGUSR1) ? "SIGUSR1 " : "", sigismember(&p, rt) ? "SIGRTMIN+4" : "");
    static const int want_val[] = { 1111, 2222 };
    for (int i = 0; i < 2; i++) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, rt);
        siginfo_t si;
        struct timespec z = { 0, 0 };
        int sig = sigtimedwait(&one, &si, &z);
        cf_check(sig == rt, "instance %d of SIGRTMIN+4: not pending (%s)", i + 1, strerror(errno));
        cf_check(si.si_code == SI_QUEUE, "instance %d: si_code expected SI_QUEUE (%d), got %d", i + 1, SI_QUEUE, si.si_code);
        cf_check(si.si_value.sival_int == want_val[i], "instance %d: value expected %d, got %d", i + 1, want_val[i], si.si_value.sival_int);
        cf_check(si.si_pid == me, "instance %d: sender pid expected %d, got %d", i + 1, (int)me, (int)si.si_pid);
        cf_check(si.si_uid == getuid(), "instance %d: sender uid expected %d, got %d", i + 1, (int)getuid(), (int)si.si_uid);
    }
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    siginfo_t si;
    struct timespec z = { 0, 0 };
    cf_check(sigtimedwait(&one, &si, &z) == SIGUSR1, "SIGUSR1 not pending");
    cf_check(si.si_code == SI_QUEUE && si.si_value.sival_int == 3333 && si.si_pid == me,
             "SIGUSR1: expected SI_QUEUE value 3333 from %d, got code %d value %d from %d", (int)me, si.si_code,
             si.si_value.sival_int, (int)si.si_pid);
    cf_sys(sigpending(&p));
    cf_check(!sigismember(&p, rt) && !sigismember(&p, SIGUSR1), "a third instance is pending");
    cf_pass();
}
