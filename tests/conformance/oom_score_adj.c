/* /proc/self/oom_score_adj raised to 321. */
#include "conf.h"

int main(void)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    cf_sys(fd);
    cf_write_all(fd, "321\n", 4);
    close(fd);
    cf_ready();
    cf_wait();
    FILE *f = fopen("/proc/self/oom_score_adj", "r");
    int v = -9999;
    cf_check(f && fscanf(f, "%d", &v) == 1 && v == 321, "oom_score_adj: expected 321, got %d", v);
    cf_pass();
}
