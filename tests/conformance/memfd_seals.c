/* A memfd with data, sealed against shrinking, growing and further seals. */
#include "conf.h"
#include <sys/mman.h>
#include <sys/stat.h>

int main(void)
{
    static char want[20000], got[20000];
    int fd = memfd_create("conf-sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    cf_sys(fd);
    cf_fill(want, sizeof want, 7);
    cf_write_all(fd, want, sizeof want);
    cf_sys(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
    off_t pos = lseek(fd, 1234, SEEK_SET);
    cf_sys(pos);
    cf_ready();
    cf_wait();
    int seals = fcntl(fd, F_GET_SEALS);
    cf_check(seals == (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), "seals: expected 0x%x, got 0x%x (%s)",
             F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, seals, seals < 0 ? strerror(errno) : "");
    char link[64], name[256];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, name, sizeof name - 1);
    cf_sys(n);
    name[n] = 0;
    cf_check(strncmp(name, "/memfd:conf-sealed", 18) == 0, "name: expected '/memfd:conf-sealed', got '%s'", name);
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(st.st_size == (off_t)sizeof want, "size: expected %zu, got %lld", sizeof want, (long long)st.st_size);
    cf_check(lseek(fd, 0, SEEK_CUR) == 1234, "offset: expected 1234, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_check(pread(fd, got, sizeof got, 0) == (ssize_t)sizeof got && memcmp(want, got, sizeof want) == 0, "contents differ");
    cf_check(ftruncate(fd, 10) < 0 && errno == EPERM, "ftruncate to shrink: expected EPERM (sealed), got %s",
             errno == EPERM ? "success" : strerror(errno));
    cf_check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "FD_CLOEXEC: expected set, got %d", fcntl(fd, F_GETFD));
    cf_pass();
}
