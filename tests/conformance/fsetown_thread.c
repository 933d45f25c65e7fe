/* A pipe whose signals go to one thread (F_SETOWN_EX F_OWNER_TID, F_SETSIG): that
 * thread, whose number a restart changes, still owns them and gets the signal when
 * data arrives. */
#include "conf.h"
#include <pthread.h>

static int p[2], sig, verdict_pipe[2];

static void *owner(void *arg)
{
    (void)arg;
    struct f_owner_ex ex = { F_OWNER_TID, (pid_t)syscall(SYS_gettid) };
    char ok = 0, msg[200] = "";
    if (fcntl(p[0], F_SETOWN_EX, &ex) < 0 || fcntl(p[0], F_SETSIG, sig) < 0 ||
        fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0 || write(verdict_pipe[1], &ok, 1) != 1)
        return NULL;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    siginfo_t si;
    struct timespec ts = { CF_WAIT_SECONDS + 30, 0 };
    int got;
    do /* the data comes after the restart; the runtime's signal may interrupt the wait */
        got = sigtimedwait(&s, &si, &ts);
    while (got < 0 && errno == EINTR);
    struct f_owner_ex now;
    pid_t me = (pid_t)syscall(SYS_gettid);
    if (fcntl(p[0], F_GETOWN_EX, &now) < 0 || now.type != F_OWNER_TID || now.pid != me)
        snprintf(msg, sizeof msg, "F_GETOWN_EX: expected thread %d, got type %d pid %d", (int)me, now.type, now.pid);
    else if (got != sig || si.si_fd != p[0])
        snprintf(msg, sizeof msg, "the owning thread did not get its signal with si_fd %d (%d, si_fd %d)", p[0], got,
                 si.si_fd);
    if (write(verdict_pipe[1], msg, strlen(msg) + 1) < 0)
        return NULL;
    return NULL;
}

int main(void)
{
    sig = SIGRTMIN + 4;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL)); /* in every thread: the owner waits for it */
    cf_sys(pipe(p));
    cf_sys(pipe(verdict_pipe));
    pthread_t t;
    cf_check(pthread_create(&t, NULL, owner, NULL) == 0, "pthread_create");
    char ok;
    cf_check(read(verdict_pipe[0], &ok, 1) == 1, "the owning thread did not set up");
    cf_ready();
    cf_wait();
    cf_write_all(p[1], "!", 1);
    char msg[200] = "";
    cf_check(cf_readable(verdict_pipe[0], 10) && read(verdict_pipe[0], msg, sizeof msg) > 0, "no verdict from the owning thread");
    cf_check(msg[0] == 0, "%s", msg);
    pthread_join(t, NULL);
    cf_pass();
}
