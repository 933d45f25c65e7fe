/* CPU affinity narrowed to the first CPU allowed. */
#include "conf.h"
#include <sched.h>

int main(void)
{
    cpu_set_t s;
    cf_sys(sched_getaffinity(0, sizeof s, &s));
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &s))
            first = i;
    CPU_ZERO(&s);
    CPU_SET(first, &s);
    cf_sys(sched_setaffinity(0, sizeof s, &s));
    cf_ready();
    cf_wait();
    cpu_set_t g;
    cf_sys(sched_getaffinity(0, sizeof g, &g));
    cf_check(CPU_EQUAL(&s, &g), "affinity: expected CPU %d only, got %d CPUs (first %s)", first, CPU_COUNT(&g),
             CPU_ISSET(first, &g) ? "in" : "not in");
    cf_pass();
}
