/* POSIX record locks (F_SETLK): a write lock on [0,100), a read lock on [200,300):
 * another process sees both, held by us, and nothing in between. */
#include "conf.h"

static void other(char *msg, size_t len, void *arg)
{
    (void)arg;
    int fd = open("records", O_RDWR);
    static const struct { off_t start; short want; const char *name; } q[] = {
        { 10, F_WRLCK, "[10,20) (in the write lock)" },
        { 250, F_RDLCK, "[250,260) (in the read lock)" },
        { 150, F_UNLCK, "[150,160) (between them)" },
    };
    for (int i = 0; i < 3; i++) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = q[i].start, .l_len = 10 };
        if (fcntl(fd, F_GETLK, &fl) < 0) {
            snprintf(msg, len, "F_GETLK: %s", strerror(errno));
            return;
        }
        if (fl.l_type != q[i].want || (q[i].want != F_UNLCK && fl.l_pid != getppid())) {
            snprintf(msg, len, "%s: expected %s held by %d, got type %d held by %d", q[i].name,
                     q[i].want == F_WRLCK ? "a write lock" : q[i].want == F_RDLCK ? "a read lock" : "no lock", (int)getppid(),
                     fl.l_type, (int)fl.l_pid);
            return;
        }
    }
}

int main(void)
{
    int fd = open("records", O_RDWR | O_CREAT, 0600);
    cf_sys(fd);
    cf_sys(ftruncate(fd, 1000));
    struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100 };
    struct flock r = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 100 };
    cf_sys(fcntl(fd, F_SETLK, &w));
    cf_sys(fcntl(fd, F_SETLK, &r));
    cf_ready();
    cf_wait();
    cf_in_child(other, NULL, "POSIX locks");
    cf_pass();
}
