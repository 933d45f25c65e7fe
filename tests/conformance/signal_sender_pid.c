/* A signal from a child of the tree after a restart names it by the pid fork() gave:
 * a SA_SIGINFO handler's si_pid (kill) and sigwaitinfo's (sigqueue, with its value). */
#include "conf.h"
#include <sched.h>

static volatile sig_atomic_t handler_pid, handled;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    handler_pid = si->si_pid;
    handled = 1;
}

int main(void)
{
    struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    cf_sys(sigaction(SIGUSR1, &sa, NULL));
    struct sigaction back;
    cf_sys(sigaction(SIGUSR1, NULL, &back));
    cf_check(back.sa_sigaction == on_usr1, "sigaction reports another handler than the program's");
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    cf_sys(sigprocmask(SIG_BLOCK, &usr2, NULL));
    int go[2];
    cf_sys(pipe(go));
    pid_t child = fork();
    cf_sys(child);
    if (child == 0) { /* once told: kill, then sigqueue its parent */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        pid_t parent = getppid();
        if (kill(parent, SIGUSR1) < 0 || sigqueue(parent, SIGUSR2, (union sigval){ .sival_int = 42 }) < 0)
            _exit(3);
        _exit(0);
    }
    close(go[0]);
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "g", 1);
    siginfo_t si;
    struct timespec ten = { 10, 0 };
    int sig;
    while ((sig = sigtimedwait(&usr2, &si, &ten)) < 0 && errno == EINTR) /* (SIGUSR1's handler) */
        ;
    cf_check(sig == SIGUSR2, "sigtimedwait: no SIGUSR2 from the child within 10 s (%s)", strerror(errno));
    cf_check(si.si_pid == child && si.si_code == SI_QUEUE && si.si_value.sival_int == 42,
             "sigtimedwait: si_pid %d si_code %d value %d, expected %d, SI_QUEUE, 42", (int)si.si_pid,
             si.si_code, si.si_value.sival_int, (int)child);
    int st = cf_waitpid(child, 10, "the child that signals");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed to signal its parent (status 0x%x)", st);
    for (double end = cf_now() + 10; !handled && cf_now() < end;)
        sched_yield();
    cf_check(handled, "no SIGUSR1 from the child within 10 s");
    cf_check(handler_pid == child, "the handler's si_pid: %d, expected the child, %d", (int)handler_pid, (int)child);
    cf_pass();
}
