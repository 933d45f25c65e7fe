/* A region written and then protected PROT_NONE: still PROT_NONE, and the data is
 * there once readable again. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (8 * 4096)

static char *perms_of(void *addr)
{
    static char perm[8];
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    perm[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) == 3 && lo <= (unsigned long)addr && (unsigned long)addr < hi) {
            snprintf(perm, sizeof perm, "%s", p);
            break;
        }
    }
    if (f)
        fclose(f);
    return perm;
}

int main(void)
{
    char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(m, LEN, 42);
    uint64_t want = cf_sum(m, LEN);
    cf_sys(mprotect(m, LEN, PROT_NONE));
    cf_ready();
    cf_wait();
    char *p = perms_of(m);
    cf_check(strcmp(p, "---p") == 0, "protection: expected ---p, got '%s'", p);
    cf_sys(mprotect(m, LEN, PROT_READ));
    uint64_t got = cf_sum(m, LEN);
    cf_check(got == want, "data under PROT_NONE: checksum expected %016llx, got %016llx", (unsigned long long)want,
             (unsigned long long)got);
    cf_pass();
}
