/* 2000 pages of alternating protection (rw-, r--: 2000 mappings), each with its
 * own contents. */
#include "conf.h"
#include <sys/mman.h>

#define N 2000
#define PG 4096

int main(void)
{
    char *m = mmap(NULL, (size_t)N * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    static uint64_t sum[N];
    for (int i = 0; i < N; i++) {
        cf_fill(m + (size_t)i * PG, PG, (unsigned)i + 1000);
        sum[i] = cf_sum(m + (size_t)i * PG, PG);
    }
    for (int i = 1; i < N; i += 2)
        cf_sys(mprotect(m + (size_t)i * PG, PG, PROT_READ));
    cf_ready();
    cf_wait();
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    static char perm[N];
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char p[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, p) != 3)
            continue;
        for (unsigned long a = lo; a < hi; a += PG)
            if (a >= (unsigned long)m && a < (unsigned long)m + (size_t)N * PG)
                perm[(a - (unsigned long)m) / PG] = p[1] == 'w' ? 'w' : p[0] == 'r' ? 'r' : '?';
    }
    if (f)
        fclose(f);
    for (int i = 0; i < N; i++) {
        char want = i % 2 ? 'r' : 'w';
        cf_check(perm[i] == want, "page %d: expected %s, got %s", i, want == 'w' ? "rw-" : "r--",
                 perm[i] == 'w' ? "rw-" : perm[i] == 'r' ? "r--" : perm[i] ? "other" : "unmapped");
        uint64_t s = cf_sum(m + (size_t)i * PG, PG);
        cf_check(s == sum[i], "page %d: checksum expected %016llx, got %016llx", i, (unsigned long long)sum[i], (unsigned long long)s);
    }
    cf_pass();
}
