/* crc_check: crc32c() against a bit-by-bit CRC-32C over buffers of every length that
 * matters (short, around the three-stream size, long), at every alignment, started
 * fresh and continued; and the standard check value.  Exit 0 when all agree. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "crc32c.h"

static uint32_t slow(uint32_t crc, const unsigned char *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    return ~crc;
}

int main(void)
{
    if (crc32c(0, "123456789", 9) != 0xe3069283u)
        return fprintf(stderr, "crc32c(\"123456789\") = %08x, not e3069283\n",
                       crc32c(0, "123456789", 9)), 1;
    size_t cap = 200000;
    unsigned char *buf = malloc(cap + 16);
    if (!buf)
        return 1;
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < cap + 16; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    static const size_t lens[] = { 0, 1, 7, 8, 9, 63, 4096, 24575, 24576, 24577, 24583, 49152,
                                   49153, 65536, 73729, 100000, 199999 };
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++)
        for (size_t align = 0; align < 9; align++) {
            const unsigned char *p = buf + align;
            uint32_t want = slow(0, p, lens[l]), got = crc32c(0, p, lens[l]);
            uint32_t half = lens[l] / 3;
            uint32_t cont = crc32c(crc32c(0, p, half), p + half, lens[l] - half);
            if (got != want || cont != want)
                return fprintf(stderr, "length %zu at +%zu: %08x (continued %08x), want %08x\n",
                               lens[l], align, got, cont, want), 1;
        }
    puts("crc32c agrees");
    return 0;
}
