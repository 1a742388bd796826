/*
 * varint.c: LEB128 and zigzag integers (see varint.h).
 *
 * All forms share one 64-bit LEB128 core; the 32-bit forms pass a smaller
 * byte limit so that a sixth byte, or a fifth byte carrying bits above
 * bit 31, counts as malformed.
 */
#include "proto/varint.h"

static uint32_t zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static size_t leb_encode(uint8_t *dst, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

static size_t leb_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Reads at most max bytes; the last allowed byte may hold only the bits
 * that still fit in `bits`. */
static int leb_decode(const uint8_t *p, size_t len, size_t max, unsigned bits,
                      uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < len && i < max; i++) {
        unsigned shift = 7 * (unsigned)i;
        uint64_t b = p[i] & 0x7f;

        if (shift + 7 > bits && (b >> (bits - shift)) != 0)
            return -1;
        v |= b << shift;
        if (!(p[i] & 0x80)) {
            *out = v;
            return (int)i + 1;
        }
    }
    return -1;
}

size_t uvarint_encode(uint8_t *dst, uint32_t v)
{
    return leb_encode(dst, v);
}

size_t varint_encode(uint8_t *dst, int32_t v)
{
    return leb_encode(dst, zigzag32(v));
}

size_t varlong_encode(uint8_t *dst, int64_t v)
{
    return leb_encode(dst, zigzag64(v));
}

int uvarint_decode(const uint8_t *p, size_t len, uint32_t *out)
{
    uint64_t v;
    int n = leb_decode(p, len, VARINT_MAX32, 32, &v);

    if (n > 0)
        *out = (uint32_t)v;
    return n;
}

int varint_decode(const uint8_t *p, size_t len, int32_t *out)
{
    uint32_t u;
    int n = uvarint_decode(p, len, &u);

    if (n > 0)
        *out = (int32_t)((u >> 1) ^ (0u - (u & 1)));
    return n;
}

int varlong_decode(const uint8_t *p, size_t len, int64_t *out)
{
    uint64_t u;
    int n = leb_decode(p, len, VARINT_MAX64, 64, &u);

    if (n > 0)
        *out = (int64_t)((u >> 1) ^ (0 - (u & 1)));
    return n;
}

size_t uvarint_size(uint32_t v)
{
    return leb_size(v);
}

size_t varint_size(int32_t v)
{
    return leb_size(zigzag32(v));
}

size_t varlong_size(int64_t v)
{
    return leb_size(zigzag64(v));
}
