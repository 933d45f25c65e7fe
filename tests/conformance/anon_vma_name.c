/* Anonymous memory named with PR_SET_VMA_ANON_NAME: /proc/self/maps shows the name
 * after the restart, and the data is there. */
#include "conf.h"
#include <sys/mman.h>
#include <sys/prctl.h>
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

int main(void)
{
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(p != MAP_FAILED, "mmap: %s", strerror(errno));
    if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, 3 * 4096, (unsigned long)"cf-arena") < 0 &&
        errno == EINVAL) { /* a kernel without CONFIG_ANON_VMA_NAME: nothing to check */
        cf_ready();
        cf_wait();
        cf_pass();
    }
    strcpy(p + 4096, "named");
    cf_ready();
    cf_wait();
    struct cf_map m;
    cf_check(cf_map_of(p, &m), "the named mapping is gone");
    cf_check(!strcmp(m.name, "[anon:cf-arena]"), "the mapping's name: expected [anon:cf-arena], got '%s'", m.name);
    cf_check(!strcmp(p + 4096, "named"), "the named mapping lost its data");
    cf_pass();
}
