/*
 * chunk.h: the layout of a pool chunk's data area, for the accumulator
 * and the takeover code: [61-byte batch header][records ...] growing up,
 * one struct chunk_origin per record growing down from the end.
 */
#ifndef CHUTE_WORKER_CHUNK_H
#define CHUTE_WORKER_CHUNK_H

#include "worker/wrk.h"

static inline uint8_t *chunk_data(struct pool_chunk *ch)
{
    return (uint8_t *)(ch + 1);
}

static inline size_t chunk_data_cap(const struct wrk *w)
{
    return w->in->chunk_size - sizeof(struct pool_chunk);
}

/* The origin of record i of a chunk (they grow down from its end). */
static inline struct chunk_origin *chunk_origin(struct wrk *w, struct pool_chunk *ch,
                                         uint32_t i)
{
    return (struct chunk_origin *)(chunk_data(ch) + chunk_data_cap(w)) -
           (i + 1);
}

/* Publishes count and used together (see union chunk_fill). */
static inline void chunk_set_fill(struct pool_chunk *ch, uint32_t count,
                           uint32_t used)
{
    union chunk_fill f = {.count = count, .used = used};

    atomic_store_explicit(&ch->fill, f.word, memory_order_release);
}

/* Empties and frees a chunk: fill first, so a chunk that is taken again
 * and found OPEN by a replacement counts no stale records. */
static inline void chunk_free(struct pool_chunk *ch)
{
    chunk_set_fill(ch, 0, 0);
    atomic_store_explicit(&ch->state, CHUNK_FREE, memory_order_release);
}

#endif
