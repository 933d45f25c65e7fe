/* LD_PRELOAD'd by tests/engine/eio.sh: write() and pread() on a file whose path
 * contains $EIO_PATH fail with EIO once $EIO_AFTER bytes of them went through, while
 * the file $EIO_ARM exists: the error a failing disk (a device-mapper `error` target)
 * gives, without root.  Only system calls in the wrappers: the runtime writes its
 * image with the program's threads frozen (no malloc, stdio or locks then). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *match, *arm;
static long long after, passed;

__attribute__((constructor)) static void eio_init(void)
{
    match = getenv("EIO_PATH");
    arm = getenv("EIO_ARM");
    const char *a = getenv("EIO_AFTER");
    after = a ? atoll(a) : 0;
}

/* Whether fd is the file to fail, now. */
static int target(int fd)
{
    if (!match || !*match || !arm || syscall(SYS_faccessat, AT_FDCWD, arm, F_OK, 0) != 0)
        return 0;
    char link[32] = "/proc/self/fd/", path[4096];
    char digits[12];
    int k = 0;
    unsigned v = (unsigned)fd;
    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 11);
    size_t at = strlen(link);
    while (k)
        link[at++] = digits[--k];
    link[at] = 0;
    long n = syscall(SYS_readlinkat, AT_FDCWD, link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    return strstr(path, match) != NULL;
}

/* 0: let len bytes through (counted); -1 with EIO: the "disk" fails here. */
static int fails(int fd, size_t len)
{
    if (!target(fd))
        return 0;
    if (passed + (long long)len > after) {
        errno = EIO;
        return -1;
    }
    passed += (long long)len;
    return 0;
}

ssize_t write(int fd, const void *buf, size_t len)
{
    if (fails(fd, len))
        return -1;
    return syscall(SYS_write, fd, buf, len);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
    if (fails(fd, len))
        return -1;
    return syscall(SYS_pread64, fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off) __attribute__((alias("pread")));
