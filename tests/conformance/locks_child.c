/* Locks in a process tree: an flock the parent took before forking (the child's fd is
 * the same open file: one lock, taken once), and a POSIX record lock the child took on
 * another file (its own).  Another process sees both, the POSIX one held by the
 * child. */
#include "conf.h"
#include <sys/file.h>

static void other(char *msg, size_t len, void *arg)
{
    pid_t child = *(pid_t *)arg;
    int a = open("flocked", O_RDONLY), b = open("recorded", O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
    if (a < 0 || b < 0 || fcntl(b, F_GETLK, &fl) < 0)
        snprintf(msg, len, "open/F_GETLK: %s", strerror(errno));
    else if (flock(a, LOCK_SH | LOCK_NB) == 0)
        snprintf(msg, len, "another open file took 'flocked': its exclusive flock is no longer held");
    else if (fl.l_type != F_WRLCK || fl.l_pid != child)
        snprintf(msg, len, "'recorded': expected a write lock held by the child %d, got type %d held by %d",
                 (int)child, fl.l_type, (int)fl.l_pid);
}

int main(void)
{
    int fd = open("flocked", O_RDWR | O_CREAT, 0600), rec = open("recorded", O_RDWR | O_CREAT, 0600);
    cf_sys(fd);
    cf_sys(rec);
    cf_sys(flock(fd, LOCK_EX));
    int locked[2], go[2];
    cf_sys(pipe(locked));
    cf_sys(pipe(go));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
        char b;
        close(go[1]);
        if (fcntl(rec, F_SETLK, &w) < 0 || write(locked[1], "l", 1) != 1 || read(go[0], &b, 1) != 1)
            _exit(1);
        _exit(0); /* its POSIX lock goes with it, the flock stays with the open file */
    }
    close(go[0]);
    close(locked[1]);
    char b;
    cf_check(cf_readable(locked[0], 10) && read(locked[0], &b, 1) == 1, "the child did not lock");
    cf_ready();
    cf_wait();
    cf_in_child(other, &c, "locks of the tree");
    cf_write_all(go[1], "g", 1);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
