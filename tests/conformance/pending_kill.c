/* Blocked signals whose siginfo only the kernel writes: two SIGRTMIN+3 sent with
 * kill() (SI_USER, pending for the process, two instances), a SIGALRM of an expired
 * itimer (SI_KERNEL) and a SIGUSR1 sent to the main thread with tgkill (SI_TKILL, or
 * SI_USER on newer kernels: the code it got once before); while a second thread
 * runs, each comes back with its code and sender. */
#include "conf.h"
#include <pthread.h>
#include <sys/time.h>

static void *idle(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void take(int sig, int code, pid_t from, const char *what)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    siginfo_t si;
    struct timespec z = { 0, 0 };
    cf_check(sigtimedwait(&one, &si, &z) == sig, "%s: not pending (%s)", what, strerror(errno));
    cf_check(si.si_code == code, "%s: si_code expected %d, got %d", what, code, si.si_code);
    if (code != SI_KERNEL)
        cf_check(si.si_pid == from && si.si_uid == getuid(), "%s: sender expected pid %d uid %d, got pid %d uid %d",
                 what, (int)from, (int)getuid(), (int)si.si_pid, (int)si.si_uid);
}

int main(void)
{
    int rt = SIGRTMIN + 3;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, rt);
    sigaddset(&s, SIGALRM);
    sigaddset(&s, SIGUSR1);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    pthread_t t;
    cf_check(pthread_create(&t, NULL, idle, NULL) == 0, "pthread_create");
    pid_t me = getpid();
    cf_sys(kill(me, rt));
    cf_sys(kill(me, rt));
    pid_t tid = (pid_t)syscall(SYS_gettid);
    siginfo_t si;
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    cf_sys(syscall(SYS_tgkill, me, tid, SIGUSR1));
    cf_sys(sigwaitinfo(&usr1, &si));
    int tgkill_code = si.si_code;
    cf_sys(syscall(SYS_tgkill, me, tid, SIGUSR1));
    struct itimerval it = { { 0, 0 }, { 0, 1000 } };
    cf_sys(setitimer(ITIMER_REAL, &it, NULL));
    sigset_t p;
    for (int i = 0; i < 1000 && (sigpending(&p), !sigismember(&p, SIGALRM)); i++)
        usleep(1000);
    cf_ready();
    cf_wait();
    take(rt, SI_USER, me, "first SIGRTMIN+3");
    take(rt, SI_USER, me, "second SIGRTMIN+3");
    take(SIGALRM, SI_KERNEL, 0, "SIGALRM of the itimer");
    take(SIGUSR1, tgkill_code, me, "SIGUSR1 sent to the main thread");
    cf_sys(sigpending(&p));
    cf_check(!sigismember(&p, rt) && !sigismember(&p, SIGALRM) && !sigismember(&p, SIGUSR1),
             "more instances are pending than were sent");
    cf_pass();
}
