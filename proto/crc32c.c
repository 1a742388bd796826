/*
 * crc32c.c: CRC-32C in hardware (SSE4.2) or by slicing-by-8 (crc32c.h).
 *
 * Slicing-by-8: table[0] is the usual byte-at-a-time table; table[k][b] is
 * the CRC of byte b followed by k zero bytes, so eight table lookups
 * advance the CRC by eight input bytes at once.  The tables are built once
 * by a constructor, which also probes the CPU.
 */
#include "proto/crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc_table[8][256];
static bool crc_hw;

static void crc32c_init_tables(void)
{
    uint32_t i, k, c;

    for (i = 0; i < 256; i++) {
        c = i;
        for (k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
        crc_table[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            crc_table[k][i] = (crc_table[k - 1][i] >> 8) ^
                              crc_table[0][crc_table[k - 1][i] & 0xff];
}

__attribute__((constructor)) static void crc32c_init(void)
{
    crc32c_init_tables();
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint32_t crc32c_slice8(uint32_t c, const uint8_t *p)
{
    uint32_t lo = c ^ le32(p), hi = le32(p + 4);

    return crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
           crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
           crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
           crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
}

uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;

    for (; len >= 8; len -= 8, p += 8)
        c = crc32c_slice8(c, p);
    for (; len; len--, p++)
        c = (c >> 8) ^ crc_table[0][(c ^ *p) & 0xff];
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = ~crc;

    for (; len && ((uintptr_t)p & 7); len--, p++)
        c = _mm_crc32_u8((uint32_t)c, *p);
    for (; len >= 8; len -= 8, p += 8) {
        uint64_t w;

        memcpy(&w, p, 8); /* aligned here; memcpy keeps aliasing rules */
        c = _mm_crc32_u64(c, w);
    }
    for (; len; len--, p++)
        c = _mm_crc32_u8((uint32_t)c, *p);
    return ~(uint32_t)c;
}
#else
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    return crc32c_sw(crc, buf, len);
}
#endif

bool crc32c_hw_available(void)
{
    return crc_hw;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
    return crc_hw ? crc32c_hw(crc, buf, len) : crc32c_sw(crc, buf, len);
}
