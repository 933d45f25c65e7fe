/* A POSIX record lock on a file the process also maps: any close of an fd of that
 * file drops the lock, and a restart opens (and closes) the file to map it again.
 * Another process still sees the write lock on [0,4096), held by us, and the
 * mapping still is the file. */
#include "conf.h"
#include <sys/mman.h>

static void other(char *msg, size_t len, void *arg)
{
    (void)arg;
    int fd = open("mapped", O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 10 };
    if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
        snprintf(msg, len, "open/F_GETLK: %s", strerror(errno));
    else if (fl.l_type != F_WRLCK || fl.l_pid != getppid())
        snprintf(msg, len, "expected a write lock held by %d, got type %d held by %d", (int)getppid(),
                 fl.l_type, (int)fl.l_pid);
}

int main(void)
{
    int fd = open("mapped", O_RDWR | O_CREAT, 0600);
    cf_sys(fd);
    cf_sys(ftruncate(fd, 4096));
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    struct flock w = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4096 };
    cf_sys(fcntl(fd, F_SETLK, &w));
    strcpy(m, "before");
    cf_ready();
    cf_wait();
    cf_in_child(other, NULL, "POSIX lock of a mapped file");
    strcpy(m, "after");
    char buf[8] = "";
    cf_check(pread(fd, buf, sizeof buf, 0) > 0 && !strcmp(buf, "after"),
             "the mapping is no longer the file: it reads '%s'", buf);
    cf_pass();
}
