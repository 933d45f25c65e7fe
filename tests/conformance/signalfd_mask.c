/* A signalfd for SIGUSR1 and SIGRTMIN+1 (both blocked): its mask, and it reads a
 * signal raised afterwards. */
#include "conf.h"
#include <sys/signalfd.h>

int main(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGRTMIN + 1);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    int fd = signalfd(-1, &s, SFD_NONBLOCK);
    cf_sys(fd);
    cf_ready();
    cf_wait();
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
    unsigned long long mask = strtoull(cf_proc_field(info, "sigmask:"), NULL, 16);
    unsigned long long want = (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGRTMIN + 1 - 1));
    cf_check(mask == want, "sigmask: expected %016llx, got %016llx", want, mask);
    struct signalfd_siginfo si;
    cf_check(read(fd, &si, sizeof si) < 0 && errno == EAGAIN, "a signal is there before any was raised");
    cf_sys(sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 5 }));
    cf_check(read(fd, &si, sizeof si) == sizeof si, "the signalfd does not read SIGRTMIN+1: %s", strerror(errno));
    cf_check((int)si.ssi_signo == SIGRTMIN + 1 && si.ssi_int == 5, "read signal %u value %d, expected %d value 5", si.ssi_signo, si.ssi_int,
             SIGRTMIN + 1);
    cf_pass();
}
