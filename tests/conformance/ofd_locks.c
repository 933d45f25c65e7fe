/* An open file description lock (F_OFD_SETLK), write on [0,50): another open file
 * sees it (l_pid -1) and cannot take it. */
#include "conf.h"

static void other(char *msg, size_t len, void *arg)
{
    (void)arg;
    int fd = open("ofd", O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 20, .l_len = 5 };
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        snprintf(msg, len, "F_OFD_GETLK: %s", strerror(errno));
    else if (fl.l_type != F_WRLCK || fl.l_pid != -1 || fl.l_start != 0 || fl.l_len != 50)
        snprintf(msg, len, "expected an OFD write lock on [0,50) (pid -1), got type %d on [%lld,+%lld) pid %d", fl.l_type,
                 (long long)fl.l_start, (long long)fl.l_len, (int)fl.l_pid);
    else {
        struct flock t = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        if (fcntl(fd, F_OFD_SETLK, &t) == 0)
            snprintf(msg, len, "another open file took the lock on [0,1)");
    }
}

int main(void)
{
    int fd = open("ofd", O_RDWR | O_CREAT, 0600);
    cf_sys(fd);
    struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 50 };
    cf_sys(fcntl(fd, F_OFD_SETLK, &w));
    cf_ready();
    cf_wait();
    cf_in_child(other, NULL, "OFD lock");
    cf_pass();
}
