/* A signal pending for one thread only (a blocked SIGURG queued to it with
 * rt_tgsigqueueinfo): still pending for that thread, not for the others, with its
 * code and value. */
#include "conf.h"
#include <pthread.h>

static int go[2], ready_[2];
static char result[200];

static void *run(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGURG);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (write(ready_[1], &tid, sizeof tid) != sizeof tid)
        return NULL;
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR)
        ;
    sigset_t p;
    sigpending(&p);
    siginfo_t si;
    struct timespec z = { 0, 0 };
    if (!sigismember(&p, SIGURG))
        snprintf(result, sizeof result, "the thread: SIGURG is no longer pending for it");
    else if (sigtimedwait(&s, &si, &z) != SIGURG)
        snprintf(result, sizeof result, "the thread: cannot take its pending SIGURG: %s", strerror(errno));
    else if (si.si_code != SI_QUEUE || si.si_value.sival_int != 4242)
        snprintf(result, sizeof result, "the thread's SIGURG: expected code SI_QUEUE (%d) value 4242, got code %d value %d", SI_QUEUE,
                 si.si_code, si.si_value.sival_int);
    return NULL;
}

int main(void)
{
    pthread_t t;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGURG);
    cf_block_usr2();
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    cf_sys(pipe(go));
    cf_sys(pipe(ready_));
    cf_check(pthread_create(&t, NULL, run, NULL) == 0, "pthread_create");
    pid_t tid;
    cf_check(cf_readable(ready_[0], 10) && read(ready_[0], &tid, sizeof tid) == sizeof tid, "the thread did not start");
    siginfo_t si = { .si_signo = SIGURG, .si_code = SI_QUEUE, .si_value.sival_int = 4242 };
    si.si_pid = getpid();
    si.si_uid = getuid();
    cf_sys(syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGURG, &si));
    cf_ready();
    cf_wait();
    sigset_t p;
    cf_sys(sigpending(&p));
    cf_check(!sigismember(&p, SIGURG), "SIGURG is pending for the main thread or the process, expected for the other thread only");
    cf_write_all(go[1], "g", 1);
    cf_check(pthread_join(t, NULL) == 0, "pthread_join");
    cf_check(!result[0], "%s", result);
    cf_pass();
}
