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

/* Records in the chunk, read with acquire order: when not 0, the fields
 * its taker wrote before the first record (slot, topic, partition, ...)
 * are that taker's, not those of the batch the chunk held before. */
static inline uint32_t chunk_records(struct pool_chunk *ch)
{
    union chunk_fill f = {
        .word = atomic_load_explicit(&ch->fill, memory_order_acquire)};

    return f.count;
}

/*
 * Who took a chunk from the pool: `worker` holds the taker's index + 1,
 * stored right after the CAS that took the chunk, and 0 from chunk_free()
 * on.  Between that CAS and the first record a chunk is OPEN and empty,
 * and its slot, topic and partition still name its previous batch: only
 * the taker's index tells whose it is (see accum_recover).
 */
static inline void chunk_set_taker(struct pool_chunk *ch, int32_t worker)
{
    __atomic_store_n(&ch->worker, worker + 1, __ATOMIC_RELAXED);
}

/* The index of the worker that took the chunk, or -1 if not known yet. */
static inline int32_t chunk_taker(struct pool_chunk *ch)
{
    return __atomic_load_n(&ch->worker, __ATOMIC_RELAXED) - 1;
}

/* Empties and frees a chunk: taker and fill first, so a chunk that is
 * taken again and found OPEN by a replacement counts no stale records and
 * names no stale taker, and one found empty while it is being freed does
 * not name its last taker either. */
static inline void chunk_free(struct pool_chunk *ch)
{
    __atomic_store_n(&ch->worker, 0, __ATOMIC_RELAXED);
    chunk_set_fill(ch, 0, 0);
    atomic_store_explicit(&ch->state, CHUNK_FREE, memory_order_release);
}

#endif
