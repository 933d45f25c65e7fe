/* A signal from a child of the tree after a restart, read from a signalfd made
 * before the checkpoint: its ssi_pid is the pid fork() gave the child. */
#include "conf.h"
#include <sys/signalfd.h>

int main(void)
{
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    cf_sys(sigprocmask(SIG_BLOCK, &usr1, NULL));
    int sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
    cf_sys(sfd);
    int go[2];
    cf_sys(pipe(go));
    pid_t child = fork();
    cf_sys(child);
    if (child == 0) { /* once told: signals its parent */
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(kill(getppid(), SIGUSR1) < 0 ? 3 : 0);
    }
    close(go[0]);
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "g", 1);
    cf_check(cf_readable(sfd, 10), "no SIGUSR1 from the child on the signalfd within 10 s");
    struct signalfd_siginfo rec;
    cf_check(read(sfd, &rec, sizeof rec) == sizeof rec, "read the signalfd: %s", strerror(errno));
    cf_check(rec.ssi_signo == SIGUSR1 && rec.ssi_code == SI_USER && (pid_t)rec.ssi_pid == child,
             "the signalfd's record: signal %u code %d ssi_pid %u, expected SIGUSR1, SI_USER, the child %d",
             rec.ssi_signo, rec.ssi_code, rec.ssi_pid, (int)child);
    int st = cf_waitpid(child, 10, "the child that signals");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed to signal its parent (status 0x%x)", st);
    cf_pass();
}
