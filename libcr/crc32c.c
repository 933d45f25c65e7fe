/* CRC-32C with the SSE4.2 instruction when the CPU has it (8 bytes a step, on three
 * streams at once over long buffers: the instruction's latency is three of its
 * throughput), and a table otherwise (e.g. qemu's default CPU model).  No libc: the
 * restorer uses it. */
#include "crc32c.h"

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */
#define STREAM 8192      /* bytes of each of the three streams */

static uint32_t table[256];
/* The CRC register after STREAM zero bytes, by byte of the register it started from:
 * how the three streams' registers are put together (the update is linear). */
static uint32_t shift_stream[4][256];
static int mode; /* 0 unknown, 1 table, 2 sse4.2 */

__attribute__((target("sse4.2")))
static void shift_init(void)
{
    uint32_t bit[32];
    for (int i = 0; i < 32; i++) {
        uint64_t c = 1u << i;
        for (int n = 0; n < STREAM; n += 8)
            c = __builtin_ia32_crc32di(c, 0);
        bit[i] = (uint32_t)c;
    }
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int i = 0; i < 8; i++)
                if (b >> i & 1)
                    v ^= bit[8 * k + i];
            shift_stream[k][b] = v;
        }
}

static uint32_t shift(uint32_t c)
{
    return shift_stream[0][c & 0xff] ^ shift_stream[1][(c >> 8) & 0xff] ^
           shift_stream[2][(c >> 16) & 0xff] ^ shift_stream[3][c >> 24];
}

static void crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
    uint32_t eax = 1, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "c"(0));
    if (ecx & (1u << 20))
        shift_init();
    __atomic_store_n(&mode, (ecx & (1u << 20)) ? 2 : 1, __ATOMIC_RELEASE);
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t len)
{
    uint64_t c = crc;
    while (len && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        len--;
    }
    while (len >= 3 * STREAM) { /* register(A B C) = shift(shift(reg(A)) ^ reg0(B)) ^ reg0(C) */
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *end = p + STREAM;
        do {
            uint64_t a, b, d;
            __builtin_memcpy(&a, p, 8);
            __builtin_memcpy(&b, p + STREAM, 8);
            __builtin_memcpy(&d, p + 2 * STREAM, 8);
            c = __builtin_ia32_crc32di(c, a);
            c1 = __builtin_ia32_crc32di(c1, b);
            c2 = __builtin_ia32_crc32di(c2, d);
            p += 8;
        } while (p < end);
        c = shift((uint32_t)c) ^ (uint32_t)c1;
        c = shift((uint32_t)c) ^ (uint32_t)c2;
        p += 2 * STREAM;
        len -= 3 * STREAM;
    }
    while (len >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return (uint32_t)c;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    int m = __atomic_load_n(&mode, __ATOMIC_ACQUIRE);
    if (!m) {
        crc32c_init();
        m = mode;
    }
    crc = ~crc;
    if (m == 2)
        crc = crc32c_hw(crc, p, len);
    else
        while (len--)
            crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
