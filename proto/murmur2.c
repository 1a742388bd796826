/*
 * murmur2.c: Kafka's murmur2 key hash (murmur2.h).
 */
#include "proto/murmur2.h"

#define MURMUR2_SEED 0x9747b28cu
#define MURMUR2_M    0x5bd1e995u

static uint32_t murmur2_tail(uint32_t h, const uint8_t *p, size_t rest)
{
    switch (rest) {
    case 3:
        h ^= (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= MURMUR2_M;
    }
    return h;
}

uint32_t murmur2(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint32_t h = MURMUR2_SEED ^ (uint32_t)len;

    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;

        k *= MURMUR2_M;
        k ^= k >> 24;
        k *= MURMUR2_M;
        h *= MURMUR2_M;
        h ^= k;
    }
    h = murmur2_tail(h, p, len);
    h ^= h >> 13;
    h *= MURMUR2_M;
    h ^= h >> 15;
    return h;
}

int32_t murmur2_partition(const void *key, size_t len, int32_t partitions)
{
    if (partitions <= 0)
        return -1;
    return (int32_t)((murmur2(key, len) & 0x7fffffffu) % (uint32_t)partitions);
}
