/* Two signals pending (SIGUSR1 and SIGRTMIN+2 with a value, both blocked) when the
 * checkpoint comes, read after the restart through a signalfd made before. */
#include "conf.h"
#include <sys/signalfd.h>

int main(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGRTMIN + 2);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    cf_sys(fd);
    cf_sys(kill(getpid(), SIGUSR1));
    cf_sys(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 31 }));
    cf_ready();
    cf_wait();
    struct signalfd_siginfo si[2];
    int got1 = 0, got2 = 0;
    for (int i = 0; i < 2; i++) {
        cf_check(read(fd, &si[i], sizeof si[i]) == sizeof si[i], "read %d of the signalfd: %s", i + 1, strerror(errno));
        if ((int)si[i].ssi_signo == SIGUSR1)
            got1 = 1;
        if ((int)si[i].ssi_signo == SIGRTMIN + 2 && si[i].ssi_int == 31 && si[i].ssi_code == SI_QUEUE)
            got2 = 1;
    }
    cf_check(got1 && got2, "pending: SIGUSR1 %s, SIGRTMIN+2 with value 31 %s", got1 ? "read" : "lost",
             got2 ? "read" : "lost or changed");
    struct signalfd_siginfo more;
    cf_check(read(fd, &more, sizeof more) < 0 && errno == EAGAIN, "a signal more than was pending");
    cf_pass();
}
