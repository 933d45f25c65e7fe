/* Where slurm-cr keeps apart from BLCR on purpose (tests/blcr/differences.sh), seen
 * from a BLCR-style program built against the installed libcr.h:
 *   - it installs a handler of its own for CR_SIGNUM, which a checkpoint never runs;
 *   - it waits in sigsuspend() for SIGUSR1, which a checkpoint (or a restart) ends
 *     with EINTR as BLCR's signal did ("woken"), as it called cr_init();
 *   - a second thread, which did not call cr_init(), waits in pause() with every
 *     signal blocked, which a checkpoint does not end ("thread woken");
 *   - a signal-context callback says "continue" or "restart" once cr_checkpoint()
 *     returns, so that --early-stop can be seen to stop it before the callback runs.
 * Usage: differences OUT: writes "pid P signum CR_SIGNUM" to OUT, then one line per event, then "done"
 * once SIGUSR1 came; exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libcr.h>

static int out = -1;

static void say(const char *s)
{
    (void)!write(out, s, strlen(s));
}

static void own_handler(int sig)
{
    (void)sig;
    say("own handler\n");
}

static volatile sig_atomic_t usr1;
static void on_usr1(int sig)
{
    (void)sig;
    usr1 = 1;
}

/* Not registered with cr_init(): nothing it can take is sent, so pause() never ends. */
static void *waiter(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        pause();
        say("thread woken\n");
    }
    return NULL;
}

static int callback(void *arg)
{
    (void)arg;
    int rc = cr_checkpoint(CR_CHECKPOINT_READY);
    say(rc > 0 ? "restart\n" : rc == 0 ? "continue\n" : "failed\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: differences OUT\n");
        return 2;
    }
    out = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out < 0 || cr_init() < 0) {
        perror("differences");
        return 1;
    }
    if (cr_register_callback(callback, NULL, CR_SIGNAL_CONTEXT) < 0) {
        perror("cr_register_callback");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = own_handler;
    sigaction(CR_SIGNUM, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t block, wait_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGUSR1);
    pthread_t th;
    if (pthread_create(&th, NULL, waiter, NULL)) {
        fprintf(stderr, "differences: pthread_create failed\n");
        return 1;
    }
    char line[64];
    snprintf(line, sizeof line, "pid %d signum %d\n", (int)getpid(), (int)CR_SIGNUM);
    say(line);
    while (!usr1) {
        sigsuspend(&wait_mask);
        if (!usr1)
            say("woken\n"); /* by something else than SIGUSR1 */
    }
    say("done\n");
    return 0;
}
