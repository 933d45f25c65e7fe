/* A thread in seccomp strict mode (only read, write, _exit and sigreturn), waiting on a
 * pipe for the main thread's word: the process is refused rather than killed (a
 * thread in strict mode cannot run the freeze), and both threads finish after. */
#include "conf.h"
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/prctl.h>

static int to_strict[2], from_strict[2];

static void *strict(void *arg)
{
    (void)arg;
    char c = 0;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) < 0)
        c = 'e';
    else if (write(from_strict[1], "s", 1) != 1 || read(to_strict[0], &c, 1) != 1)
        c = 'r';
    if (write(from_strict[1], &c, 1) != 1)
        c = 'w';
    syscall(SYS_exit, 0); /* exit(2) itself: exit_group is not allowed */
    return NULL;
}

int main(void)
{
    cf_sys(pipe(to_strict));
    cf_sys(pipe(from_strict));
    pthread_t t;
    cf_check(pthread_create(&t, NULL, strict, NULL) == 0, "pthread_create failed");
    char c = 0;
    cf_check(cf_readable(from_strict[0], 10) && read(from_strict[0], &c, 1) == 1 && c == 's',
             "the thread did not enter strict mode");
    cf_ready();
    cf_wait();
    cf_write_all(to_strict[1], "x", 1);
    cf_check(cf_readable(from_strict[0], 10) && read(from_strict[0], &c, 1) == 1 && c == 'x',
             "the strict thread did not answer ('%c')", c);
    pthread_join(t, NULL);
    cf_pass();
}
