/* An eventfd in semaphore mode, non-blocking, with a count of 5. */
#include "conf.h"
#include <sys/eventfd.h>

int main(void)
{
    int fd = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK);
    cf_sys(fd);
    cf_ready();
    cf_wait();
    int fl = fcntl(fd, F_GETFL);
    cf_check(fl >= 0 && (fl & O_NONBLOCK), "O_NONBLOCK: expected set, got flags 0%o", fl);
    char info[64] = "";
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
    const char *cnt = cf_proc_field(info, "eventfd-count:");
    cf_check(strtoull(cnt, NULL, 16) == 5, "eventfd-count: expected 5, got '%s'", cnt);
    for (int i = 0; i < 5; i++) {
        uint64_t v = 0;
        ssize_t n = read(fd, &v, sizeof v);
        cf_check(n == 8 && v == 1, "read %d: expected 1 (semaphore), got %llu (%s)", i + 1, (unsigned long long)v,
                 n < 0 ? strerror(errno) : "ok");
    }
    uint64_t v;
    cf_check(read(fd, &v, sizeof v) < 0 && errno == EAGAIN, "read 6: expected EAGAIN (count 0)");
    cf_pass();
}
