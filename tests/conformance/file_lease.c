/* A read lease (F_SETLEASE) on a file the process opened read-only, and a write lease
 * on another it opened for writing: both held after the restart (F_GETLEASE), and an
 * open for writing by another process breaks the read lease with SIGIO. */
#include "conf.h"

int main(void)
{
    char path[] = "lease.file";
    int w = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    cf_sys(w);
    cf_write_all(w, "leased", 6);
    close(w);
    int fd = open(path, O_RDONLY);
    cf_sys(fd);
    cf_sys(fcntl(fd, F_SETLEASE, F_RDLCK));
    int w2 = open("lease2.file", O_CREAT | O_TRUNC | O_WRONLY, 0600);
    cf_sys(w2);
    cf_sys(fcntl(w2, F_SETLEASE, F_WRLCK));
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGIO);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    cf_ready();
    cf_wait();
    int l = fcntl(fd, F_GETLEASE);
    cf_check(l == F_RDLCK, "F_GETLEASE: expected F_RDLCK (%d), got %d", F_RDLCK, l);
    l = fcntl(w2, F_GETLEASE);
    cf_check(l == F_WRLCK, "F_GETLEASE of the second: expected F_WRLCK (%d), got %d", F_WRLCK, l);
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) /* blocks until the lease is given up (or the lease break time) */
        _exit(open(path, O_WRONLY | O_NONBLOCK) < 0 && errno == EWOULDBLOCK ? 0 : 1);
    struct timespec ts = { 10, 0 };
    cf_check(sigtimedwait(&s, NULL, &ts) == SIGIO, "no SIGIO when another process opened the file for writing");
    cf_check(cf_waitpid(c, 10, "the child") == 0, "the child's open was not refused by the lease");
    cf_pass();
}
