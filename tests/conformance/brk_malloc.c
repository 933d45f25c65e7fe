/* The heap: 10,000 small blocks and a 64 MiB block allocated before, the program
 * break moved by sbrk: afterwards the blocks hold their data, the break is where it
 * was, and malloc of large and many small blocks works, as does sbrk. */
#include "conf.h"

#define N 10000

static char *small[N];

int main(void)
{
    for (int i = 0; i < N; i++) {
        small[i] = malloc(16 + (size_t)(i % 200));
        cf_check(small[i] != NULL, "malloc");
        cf_fill(small[i], 16 + (size_t)(i % 200), (unsigned)i);
    }
    size_t big_len = 64 << 20;
    char *big = malloc(big_len);
    cf_check(big != NULL, "malloc 64 MiB");
    for (size_t o = 0; o < big_len; o += 4096)
        big[o] = (char)(o >> 12);
    char *grown = sbrk(8192);
    cf_check(grown != (void *)-1, "sbrk: %s", strerror(errno));
    memset(grown, 0x6b, 8192);
    void *brk0 = sbrk(0);
    cf_ready();
    cf_wait();
    cf_check(sbrk(0) == brk0, "the program break: expected %p, got %p", brk0, sbrk(0));
    cf_check(grown[0] == 0x6b && grown[8191] == 0x6b, "the memory sbrk gave differs");
    for (int i = 0; i < N; i++) {
        char want[256];
        cf_fill(want, 16 + (size_t)(i % 200), (unsigned)i);
        cf_check(memcmp(small[i], want, 16 + (size_t)(i % 200)) == 0, "small block %d differs", i);
    }
    for (size_t o = 0; o < big_len; o += 4096)
        cf_check(big[o] == (char)(o >> 12), "the 64 MiB block differs at +%zu", o);
    char *more = sbrk(4096);
    cf_check(more == brk0, "sbrk(4096) afterwards: expected %p, got %p (%s)", brk0, (void *)more, strerror(errno));
    more[4095] = 1;
    char *b2 = malloc(big_len);
    cf_check(b2 != NULL, "malloc 64 MiB afterwards");
    memset(b2, 0x11, big_len);
    static char *s2[N];
    for (int i = 0; i < N; i++) {
        s2[i] = malloc(32 + (size_t)(i % 300));
        cf_check(s2[i] != NULL, "small malloc %d afterwards", i);
        memset(s2[i], i & 0xff, 32 + (size_t)(i % 300));
    }
    for (int i = 0; i < N; i++) {
        cf_check((unsigned char)s2[i][0] == (i & 0xff) && (unsigned char)s2[i][31 + i % 300] == (i & 0xff), "small block %d afterwards overlaps another", i);
        free(s2[i]);
        free(small[i]);
    }
    free(b2);
    free(big);
    cf_pass();
}
