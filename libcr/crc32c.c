/* CRC-32C with the SSE4.2 instruction when the CPU has it (8 bytes a step), and a
 * table otherwise (e.g. qemu's default CPU model).  No libc: the restorer uses it. */
#include "crc32c.h"

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[256];
static int mode; /* 0 unknown, 1 table, 2 sse4.2 */

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
