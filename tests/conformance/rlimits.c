/* Soft and hard limits of several resources, lowered from their defaults. */
#include "conf.h"
#include <sys/resource.h>

static const struct { int res; const char *name; rlim_t soft, hard; } lim[] = {
    { RLIMIT_CORE, "RLIMIT_CORE", 4096, 1 << 20 },
    { RLIMIT_NOFILE, "RLIMIT_NOFILE", 1000, 1001 },
    { RLIMIT_CPU, "RLIMIT_CPU", 100000, 200000 },
    { RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 4096, 8192 },
    { RLIMIT_RTTIME, "RLIMIT_RTTIME", 5000000, 6000000 },
    { RLIMIT_NICE, "RLIMIT_NICE", 0, 0 },
};
#define N (sizeof lim / sizeof lim[0])

int main(void)
{
    for (size_t i = 0; i < N; i++) {
        struct rlimit r;
        cf_sys(getrlimit(lim[i].res, &r));
        struct rlimit w = { lim[i].soft, lim[i].hard };
        if (r.rlim_max != RLIM_INFINITY && w.rlim_max > r.rlim_max)
            w.rlim_max = r.rlim_max; /* never above what we have */
        if (w.rlim_cur > w.rlim_max)
            w.rlim_cur = w.rlim_max;
        if (setrlimit(lim[i].res, &w) < 0)
            cf_fail("setrlimit %s: %s", lim[i].name, strerror(errno));
    }
    struct rlimit want[N];
    for (size_t i = 0; i < N; i++)
        cf_sys(getrlimit(lim[i].res, &want[i]));
    cf_ready();
    cf_wait();
    for (size_t i = 0; i < N; i++) {
        struct rlimit r;
        cf_sys(getrlimit(lim[i].res, &r));
        cf_check(r.rlim_cur == want[i].rlim_cur && r.rlim_max == want[i].rlim_max,
                 "%s: expected soft %llu hard %llu, got soft %llu hard %llu", lim[i].name,
                 (unsigned long long)want[i].rlim_cur, (unsigned long long)want[i].rlim_max,
                 (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    }
    cf_pass();
}
