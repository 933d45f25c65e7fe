/* Regions moved and resized by mremap: one grown from 4 to 16 pages (moved), one
 * shrunk from 8 to 2 pages, one moved to a chosen address. */
#include "conf.h"
#include <sys/mman.h>

#define PG 4096

static void mapped(char *a, size_t len, const char *what)
{
    struct cf_map mp;
    for (size_t o = 0; o < len; o += PG)
        cf_check(cf_map_of(a + o, &mp) && strcmp(mp.perms, "rw-p") == 0, "%s: page %zu at %p: expected rw-p, got %s", what, o / PG,
                 (void *)(a + o), mp.perms[0] ? mp.perms : "unmapped");
}

int main(void)
{
    char *a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(a != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(a, 4 * PG, 1);
    char *g = mremap(a, 4 * PG, 16 * PG, MREMAP_MAYMOVE);
    cf_check(g != MAP_FAILED, "mremap grow: %s", strerror(errno));
    cf_fill(g + 4 * PG, 12 * PG, 2);
    uint64_t gs = cf_sum(g, 16 * PG);
    char *s = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(s != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(s, 8 * PG, 3);
    cf_check(mremap(s, 8 * PG, 2 * PG, 0) == s, "mremap shrink: %s", strerror(errno));
    uint64_t ss = cf_sum(s, 2 * PG);
    char *hole = mmap(NULL, 20 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(hole != MAP_FAILED, "mmap: %s", strerror(errno));
    char *target = hole + 8 * PG;
    char *f = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(f != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(f, 3 * PG, 4);
    uint64_t fs = cf_sum(f, 3 * PG);
    cf_check(mremap(f, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, target) == target, "mremap fixed: %s", strerror(errno));
    cf_ready();
    cf_wait();
    mapped(g, 16 * PG, "the grown region");
    cf_check(cf_sum(g, 16 * PG) == gs, "the grown region's data differs");
    mapped(s, 2 * PG, "the shrunk region");
    cf_check(cf_sum(s, 2 * PG) == ss, "the shrunk region's data differs");
    struct cf_map mp;
    mapped(target, 3 * PG, "the region moved to a chosen address");
    cf_check(cf_sum(target, 3 * PG) == fs, "the moved region's data differs");
    cf_check(cf_map_of(target - PG, &mp) && strcmp(mp.perms, "---p") == 0, "the reservation around the moved region: expected ---p, got %s",
             mp.perms[0] ? mp.perms : "unmapped");
    cf_pass();
}
