/* A periodic timerfd (every 10 ms) that has expired several times, the count not
 * read: after the restart one read gives at least that count (it goes on counting). */
#include "conf.h"
#include <sys/timerfd.h>

int main(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    cf_sys(t);
    struct itimerspec it = { { 0, 10000000 }, { 0, 10000000 } };
    cf_sys(timerfd_settime(t, 0, &it, NULL));
    struct timespec ts = { 0, 65000000 };
    nanosleep(&ts, NULL); /* six expirations or more, none read */
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", t);
    cf_ready();
    cf_wait();
    unsigned long long before = strtoull(cf_proc_field(info, "ticks:"), NULL, 10);
    uint64_t n = 0;
    cf_check(read(t, &n, 8) == 8, "no expiration to read: %s", strerror(errno));
    cf_check(n >= 6 && n >= before, "expirations: expected at least 6 (and %llu counted just before), got %llu", before,
             (unsigned long long)n);
    cf_pass();
}
