/* A directory watched with dnotify (fcntl F_NOTIFY, DN_CREATE | DN_MULTISHOT, its
 * signal chosen with F_SETSIG): a file created in it afterwards brings the signal,
 * with the directory's fd in si_fd.  Linux gives no way to read a dnotify
 * registration back: the runtime saw the program make it, and a restart registers it
 * again (the ptrace backend, without the runtime, refuses it: KNOWN). */
#include "conf.h"
#include <sys/stat.h>

static volatile sig_atomic_t got_fd = -1;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    got_fd = si->si_fd;
}

int main(void)
{
    char dir[] = "/tmp/cf-dnotify.XXXXXX";
    cf_check(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    cf_sys(fd);
    int sig = SIGRTMIN + 3;
    struct sigaction sa = { .sa_sigaction = on_sig, .sa_flags = SA_SIGINFO };
    cf_sys(sigaction(sig, &sa, NULL));
    cf_sys(fcntl(fd, F_SETSIG, sig));
    cf_sys(fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    cf_ready();
    cf_wait();
    char path[64];
    snprintf(path, sizeof path, "%s/new", dir);
    int f = open(path, O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    close(f);
    double end = cf_now() + 10;
    while (got_fd < 0 && cf_now() < end)
        usleep(10000);
    unlink(path);
    rmdir(dir);
    cf_check(got_fd == fd, "no dnotify signal for the file created in the watched directory "
             "(si_fd %d, expected %d)", (int)got_fd, fd);
    cf_pass();
}
