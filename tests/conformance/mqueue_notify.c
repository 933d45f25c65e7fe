/* A POSIX message queue with mq_notify(SIGEV_SIGNAL, SIGUSR1 with a value) registered
 * on it, empty: after the restart a message sent to it raises that signal with its
 * value. */
#include "conf.h"
#include <mqueue.h>

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/cf-notify-%d", getpid());
    struct mq_attr at = { 0, 4, 32, 0 };
    mqd_t q = mq_open(name, O_CREAT | O_RDWR | O_NONBLOCK, 0600, &at);
    cf_sys(q);
    mq_unlink(name);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1,
                           .sigev_value.sival_int = 77 };
    cf_sys(mq_notify(q, &ev));
    cf_ready();
    cf_wait();
    cf_sys(mq_send(q, "hello", 5, 1));
    struct timespec ts = { 5, 0 };
    siginfo_t si;
    int sig = sigtimedwait(&s, &si, &ts);
    cf_check(sig == SIGUSR1, "no SIGUSR1 after a message came: the notification was lost");
    cf_check(si.si_code == SI_MESGQ && si.si_value.sival_int == 77, "the notification: si_code %d value %d, "
             "expected SI_MESGQ value 77", si.si_code, si.si_value.sival_int);
    cf_pass();
}
