/*
 * chunk.h: the life cycle of a batch in a pool chunk, the one module that
 * changes a chunk's state.
 *
 *   FREE --take--> OPEN --append...--> OPEN --seal--> SEALED --send-->
 *   IN_FLIGHT --(answer: retry)--> SEALED ... --free--> FREE
 *
 * Every move is one release store after the data it covers is written, so
 * a worker that dies at any instruction leaves each chunk in a state its
 * replacement understands; the rules are in docs/crash-consistency.md and
 * next to each function in chunk.c.  The drain fills and seals, the
 * sender sends and frees (through resolve.c), recovery finds what a dead
 * worker left (chunk_find_left) and takes it back.
 *
 * The data area: [61-byte batch header][records ...] growing up, one
 * struct chunk_origin per record growing down from the end.
 *
 * The functions take a struct chunk_pool, not the worker: the pool may
 * live in private memory (tests/test_chunk.c).  A chunk index is an
 * int32_t, CHUNK_NONE for none.
 */
#ifndef CHUTE_WORKER_CHUNK_H
#define CHUTE_WORKER_CHUNK_H

#include "shm/instance.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNK_NONE (-1)

struct chunk_pool {
    struct instance *in;
    uint32_t count;           /* chunks in the pool */
    size_t cap;               /* data bytes per chunk */
    int32_t worker;           /* this worker's index, recorded as taker */
    uint32_t base;            /* where chunk_take() starts looking */
    uint8_t *scratch;         /* compression output: codec_bound() of a
                                 chunk's records, for every codec */
    size_t scratch_cap;
    int32_t spare;            /* an empty OPEN chunk kept to compress into,
                                 or CHUNK_NONE (see chunk_seal) */
};

/* What a batch carries for idempotence (-1 everywhere without). */
struct chunk_producer {
    int64_t id;
    int16_t epoch;
    int32_t base_sequence;
};

/* Where a batch's records go. */
struct chunk_dest {
    uint32_t topic;
    int32_t partition;
    uint32_t slot;
};

/* Attaches to the instance's pool as worker `worker` of `workers` (each
 * starts taking chunks at its own place).  0 or CHUTE_ERR_SYSTEM. */
int chunk_pool_init(struct chunk_pool *pool, struct instance *in,
                    int32_t worker, uint32_t workers);
/* Frees the scratch buffer and gives the spare chunk back to the pool. */
void chunk_pool_release(struct chunk_pool *pool);

static inline struct pool_chunk *chunk_at(const struct chunk_pool *pool,
                                          int32_t idx)
{
    return instance_chunk(pool->in, (uint32_t)idx);
}

static inline uint8_t *chunk_data(struct pool_chunk *ch)
{
    return (uint8_t *)(ch + 1);
}

/* The origin of record i (they grow down from the chunk's end). */
static inline struct chunk_origin *
chunk_origin(const struct chunk_pool *pool, struct pool_chunk *ch, uint32_t i)
{
    return (struct chunk_origin *)(chunk_data(ch) + pool->cap) - (i + 1);
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

static inline uint32_t chunk_state(struct pool_chunk *ch)
{
    return atomic_load_explicit(&ch->state, memory_order_acquire);
}

/* ---- the life cycle ---- */

/* FREE -> OPEN: a free chunk for this worker, or CHUNK_NONE. */
int32_t chunk_take(struct chunk_pool *pool);
/* Starts a batch for `dest` in a taken chunk; its first record will be at
 * ring position ring_pos with timestamp ts. */
void chunk_open(struct chunk_pool *pool, int32_t idx,
                const struct chunk_dest *dest, uint64_t ring_pos, int64_t ts);
/* Bytes record `rec` takes in the open batch. */
size_t chunk_record_size(struct chunk_pool *pool, int32_t idx,
                         const struct ring_rec *rec);
/* Whether rsize more bytes keep the batch within `limit` bytes (header
 * included) and `max_records`, and the chunk within its size.  An empty
 * batch takes any record (message.max.bytes bounds it). */
bool chunk_fits(struct chunk_pool *pool, int32_t idx, size_t rsize,
                size_t limit, uint32_t max_records);
/* Appends a record ending at ring position `end`: `rec` is the worker's
 * own copy of its header (checked), `tail` its tail_len bytes of key,
 * value and headers, which may still be in client-writable memory: they
 * are copied into the batch and the copy is checked (record_tail_check).
 * False, and nothing committed, when the copy is malformed; else the one
 * store that commits it is the chunk's fill word. */
bool chunk_append(struct chunk_pool *pool, int32_t idx,
                  const struct ring_rec *rec, const uint8_t *tail,
                  uint64_t end);
/* OPEN -> SEALED: compresses with `codec` (BATCH_CODEC_*) at `level`
 * (compression.level, proto/codec.h) when that makes the batch smaller
 * (into a copy: the open original stays intact until the copy is
 * SEALED), else leaves it uncompressed; writes header and CRC.  Returns
 * the sealed chunk: idx, or the copy.  The copy goes into the pool's
 * spare when it has one, else into a free chunk; the original then
 * becomes the spare (emptied, still OPEN and this worker's), or is freed
 * when there is a spare already.  So once a worker has compressed a
 * batch, it can compress every later one even while the pool is empty
 * (when the sender holds every other chunk, and seals what is open so
 * that answers free some). */
int32_t chunk_seal(struct chunk_pool *pool, int32_t idx, int16_t codec,
                   int16_t level, const struct chunk_producer *pr);
/* Gives a SEALED batch a new producer id, epoch and sequence (an epoch
 * bump or a new producer id): header and CRC again. */
void chunk_restamp(struct chunk_pool *pool, int32_t idx,
                   const struct chunk_producer *pr);
/* SEALED -> IN_FLIGHT, before its bytes go out; returns them
 * (wire_len bytes). */
const uint8_t *chunk_send(struct chunk_pool *pool, int32_t idx);
/* IN_FLIGHT -> SEALED: to be sent again, byte-identical. */
void chunk_unsend(struct chunk_pool *pool, int32_t idx);
/* -> FREE: taker and fill first, so a chunk that is taken again and found
 * OPEN by a replacement counts no stale records and names no stale taker. */
void chunk_free(struct chunk_pool *pool, int32_t idx);

/* ---- what a dead worker left ---- */

/*
 * Puts in out[] the chunks of `slots` (slot_count of them) that a
 * predecessor left holding records, in slot then ring order, after
 * freeing what is provably obsolete: the open original of a sealed copy,
 * an unfinished copy, an empty chunk this worker's index took.  Returns
 * how many.  Any other chunk may belong to a running worker: untouched.
 */
uint32_t chunk_find_left(struct chunk_pool *pool, const bool *slots,
                         uint32_t slot_count, int32_t *out);
/* Whether a chunk found left makes sense: an owned slot, a ready topic
 * and a partition that hashes to that slot, sizes within the chunk. */
bool chunk_adoptable(struct chunk_pool *pool, int32_t idx, const bool *owned,
                     uint32_t slot_count);
/* Takes back a SEALED or IN_FLIGHT chunk found left: SEALED, to go again
 * byte-identical (written or not, a broker de-duplicates it). */
void chunk_adopt_sealed(struct chunk_pool *pool, int32_t idx);

#endif
