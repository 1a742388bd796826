/*
 * chunk.c: the life cycle of a batch in a pool chunk (see chunk.h and
 * docs/crash-consistency.md for why each store comes where it does).
 */
#include "worker/chunk.h"

#include "common/err.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/codec.h"
#include "proto/record.h"
#include "worker/worker.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The most any codec can make of a chunk's records: what the scratch
 * buffer holds. */
static size_t scratch_size(size_t cap)
{
    size_t most = 0;

    for (int codec = BATCH_CODEC_GZIP; codec <= BATCH_CODEC_ZSTD; codec++)
        if (codec_bound(codec, cap) > most)
            most = codec_bound(codec, cap);
    return most;
}

int chunk_pool_init(struct chunk_pool *pool, struct instance *in,
                    int32_t worker, uint32_t workers)
{
    memset(pool, 0, sizeof(*pool));
    pool->in = in;
    pool->count = in->chunk_count;
    pool->cap = in->chunk_size - sizeof(struct pool_chunk);
    pool->worker = worker;
    pool->base = (uint32_t)worker * (pool->count / (workers ? workers : 1));
    pool->scratch_cap = scratch_size(pool->cap);
    pool->spare = CHUNK_NONE;
    pool->scratch = malloc(pool->scratch_cap);
    if (!pool->scratch)
        return err_set(CHUTE_ERR_SYSTEM,
                       "out of memory for a %zu-byte compression buffer",
                       pool->scratch_cap);
    return 0;
}

void chunk_pool_release(struct chunk_pool *pool)
{
    free(pool->scratch);
    pool->scratch = NULL;
    if (pool->spare != CHUNK_NONE)
        chunk_free(pool, pool->spare);
    pool->spare = CHUNK_NONE;
}

/* Publishes count and used together (see union chunk_fill). */
static void set_fill(struct pool_chunk *ch, uint32_t count, uint32_t used)
{
    union chunk_fill f = {.count = count, .used = used};

    atomic_store_explicit(&ch->fill, f.word, memory_order_release);
}

static void set_state(struct pool_chunk *ch, uint32_t state)
{
    atomic_store_explicit(&ch->state, state, memory_order_release);
}

/*
 * Who took a chunk: `worker` holds the taker's index + 1, stored right
 * after the CAS and 0 from chunk_free() on.  Between that CAS and the
 * first record a chunk is OPEN and empty, and its slot, topic and
 * partition still name its previous batch: only the taker's index tells
 * whose it is (chunk_find_left).
 */
static int32_t taker_of(struct pool_chunk *ch)
{
    return __atomic_load_n(&ch->worker, __ATOMIC_RELAXED) - 1;
}

/* The first free chunk from this worker's base: the chunks it freed last
 * come back first, so the memory a worker batches into stays in the
 * cache and mapped instead of cycling through the whole pool. */
int32_t chunk_take(struct chunk_pool *pool)
{
    for (uint32_t i = 0; i < pool->count; i++) {
        uint32_t idx = (pool->base + i) % pool->count;
        struct pool_chunk *ch = chunk_at(pool, (int32_t)idx);
        uint32_t expect = CHUNK_FREE;
        if (atomic_load_explicit(&ch->state, memory_order_relaxed) ==
                CHUNK_FREE &&
            atomic_compare_exchange_strong(&ch->state, &expect, CHUNK_OPEN)) {
            __atomic_store_n(&ch->worker, pool->worker + 1, __ATOMIC_RELAXED);
            return (int32_t)idx;
        }
    }
    return CHUNK_NONE;
}

void chunk_open(struct chunk_pool *pool, int32_t idx,
                const struct chunk_dest *dest, uint64_t ring_pos, int64_t ts)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    assert(chunk_state(ch) == CHUNK_OPEN && chunk_records(ch) == 0);
    /* count is 0 (chunk_free) until the first record commits, so these
     * fields are valid whenever a replacement finds records here. */
    ch->topic = dest->topic;
    ch->partition = dest->partition;
    ch->slot = dest->slot;
    ch->wire_len = 0;
    ch->source = -1;
    ch->reported = 0;
    atomic_store_explicit(&ch->reporting, 0, memory_order_relaxed);
    ch->base_ts = ts;
    ch->max_ts = ts;
    ch->ring_first = ring_pos;
    ch->producer_id = -1;
    ch->producer_epoch = -1;
    ch->base_sequence = -1;
    ch->codec = BATCH_CODEC_NONE;
    ch->opened_ns = clock_ns(CLOCK_MONOTONIC);
    ch->accepted_ns = ch->opened_ns;
}

size_t chunk_record_size(struct chunk_pool *pool, int32_t idx,
                         const struct ring_rec *rec)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    return record_size(rec->timestamp - ch->base_ts, (int32_t)ch->count,
                       rec->tail_len);
}

bool chunk_fits(struct chunk_pool *pool, int32_t idx, size_t rsize,
                size_t limit, uint32_t max_records)
{
    struct pool_chunk *ch = chunk_at(pool, idx);
    size_t after = BATCH_HEADER_SIZE + ch->used + rsize;

    if (ch->count == 0)
        return true;
    return after <= limit && ch->count < max_records &&
           after + sizeof(struct chunk_origin) * (ch->count + 1) <= pool->cap;
}

bool chunk_append(struct chunk_pool *pool, int32_t idx,
                  const struct ring_rec *rec, const uint8_t *tail,
                  uint64_t end)
{
    struct pool_chunk *ch = chunk_at(pool, idx);
    int64_t delta = rec->timestamp - ch->base_ts;
    uint8_t *dst = chunk_data(ch) + BATCH_HEADER_SIZE + ch->used;
    struct record_tail_info info;
    size_t rsize = record_size(delta, (int32_t)ch->count, rec->tail_len);

    assert(chunk_state(ch) == CHUNK_OPEN);
    assert(BATCH_HEADER_SIZE + ch->used + rsize +
               sizeof(struct chunk_origin) * (ch->count + 1) <=
           pool->cap);
    record_write(dst, delta, (int32_t)ch->count, tail, rec->tail_len);
    /* The tail may come from memory a client can still write: only the
     * copy, which ends the record just written, is checked and kept. */
    if (record_tail_check(dst + rsize - rec->tail_len, rec->tail_len,
                          &info) < 0)
        return false;
    *chunk_origin(pool, ch, ch->count) =
        (struct chunk_origin){rec->opaque, end, rec->client, {0, 0, 0}};
    if (rec->timestamp > ch->max_ts)
        ch->max_ts = rec->timestamp;
    /* The client's clock is only trusted to make the record older than
     * its batch, never younger than its drain. */
    if (rec->accepted_ns > 0 && rec->accepted_ns < ch->accepted_ns)
        ch->accepted_ns = rec->accepted_ns;
    /* The commit point: from here on the record is in the batch. */
    set_fill(ch, ch->count + 1, ch->used + (uint32_t)rsize);
    return true;
}

/* Writes header and CRC for the chunk's producer fields. */
static void stamp(struct pool_chunk *ch)
{
    struct batch_meta m = {0};

    m.attributes = ch->codec;
    m.last_offset_delta = (int32_t)ch->count - 1;
    m.base_timestamp = ch->base_ts;
    m.max_timestamp = ch->max_ts;
    m.producer_id = ch->producer_id;
    m.producer_epoch = ch->producer_epoch;
    m.base_sequence = ch->base_sequence;
    m.record_count = (int32_t)ch->count;
    batch_write_header(chunk_data(ch), ch->wire_len, &m);
}

static void set_producer(struct pool_chunk *ch, const struct chunk_producer *pr)
{
    ch->producer_id = pr->id;
    ch->producer_epoch = pr->epoch;
    ch->base_sequence = pr->base_sequence;
}

/* The chunk a compressed copy goes into: the spare, else a free one (or
 * CHUNK_NONE).  Both are OPEN, empty and this worker's. */
static int32_t copy_target(struct chunk_pool *pool)
{
    int32_t dst = pool->spare;

    if (dst == CHUNK_NONE)
        return chunk_take(pool);
    pool->spare = CHUNK_NONE;
    return dst;
}

/* The original of a SEALED copy becomes the spare (the copy went into
 * the old one, or into a free chunk when there was none): emptied, it is
 * an OPEN chunk without records that this worker took, which is what a
 * replacement frees (chunk_find_left).  Its other fields are the old
 * batch's, which no sealed copy counts on: a copy's source counts only
 * while it holds records. */
static void retire_original(struct chunk_pool *pool, int32_t idx)
{
    assert(pool->spare == CHUNK_NONE); /* copy_target took it */
    set_fill(chunk_at(pool, idx), 0, 0);
    pool->spare = idx;
}

/* Compresses the records of `from` into `to`, before the origins it
 * will hold: straight there when the codec's worst case fits, else
 * through the scratch buffer.  Returns the compressed size, or -1 when
 * it fails, does not fit or does not make the records smaller. */
static ssize_t compress_into(struct chunk_pool *pool, struct pool_chunk *from,
                             struct pool_chunk *to, int16_t codec,
                             int16_t level)
{
    const uint8_t *records = chunk_data(from) + BATCH_HEADER_SIZE;
    uint8_t *out = chunk_data(to) + BATCH_HEADER_SIZE;
    size_t room = pool->cap - BATCH_HEADER_SIZE -
                  from->count * sizeof(struct chunk_origin);
    ssize_t n;

    if (codec_bound(codec, from->used) <= room)
        return (n = codec_compress(codec, level, records, from->used, out,
                                   room)) > 0 && (size_t)n < from->used
                   ? n
                   : -1;
    n = codec_compress(codec, level, records, from->used, pool->scratch,
                       pool->scratch_cap);
    if (n <= 0 || (size_t)n >= from->used || (size_t)n > room)
        return -1;
    memcpy(out, pool->scratch, (size_t)n);
    return n;
}

/* The compressed form of open chunk `src` in another chunk, or CHUNK_NONE
 * when compressing does not make it smaller (or fails: the batch goes as
 * it is) or neither a spare nor a free chunk is there.  The copy names
 * its source, so a replacement that finds both knows which one counts. */
static int32_t compressed_copy(struct chunk_pool *pool, int32_t src,
                               int16_t codec, int16_t level)
{
    struct pool_chunk *from = chunk_at(pool, src), *to;
    bool had_spare = pool->spare != CHUNK_NONE;
    int32_t dst = copy_target(pool);
    ssize_t n;

    if (dst == CHUNK_NONE)
        return CHUNK_NONE;
    to = chunk_at(pool, dst);
    n = compress_into(pool, from, to, codec, level);
    if (n < 0) {
        /* Back where it came from: still OPEN, empty and ours. */
        if (had_spare)
            pool->spare = dst;
        else
            chunk_free(pool, dst);
        return CHUNK_NONE;
    }
    memcpy(chunk_origin(pool, to, from->count - 1),
           chunk_origin(pool, from, from->count - 1),
           from->count * sizeof(struct chunk_origin));
    to->topic = from->topic;
    to->partition = from->partition;
    to->slot = from->slot;
    to->base_ts = from->base_ts;
    to->max_ts = from->max_ts;
    to->ring_first = from->ring_first;
    to->opened_ns = from->opened_ns;
    to->accepted_ns = from->accepted_ns;
    to->codec = codec;
    to->wire_len = (uint32_t)(BATCH_HEADER_SIZE + (size_t)n);
    to->source = src;
    to->reported = 0;
    atomic_store_explicit(&to->reporting, 0, memory_order_relaxed);
    set_fill(to, from->count, from->used);
    return dst;
}

int32_t chunk_seal(struct chunk_pool *pool, int32_t idx, int16_t codec,
                   int16_t level, const struct chunk_producer *pr)
{
    int32_t copy = codec != BATCH_CODEC_NONE
                       ? compressed_copy(pool, idx, codec, level)
                       : CHUNK_NONE;
    int32_t sealed = copy != CHUNK_NONE ? copy : idx;
    struct pool_chunk *ch = chunk_at(pool, sealed);

    assert(chunk_state(chunk_at(pool, idx)) == CHUNK_OPEN &&
           chunk_records(chunk_at(pool, idx)) > 0);
    if (copy == CHUNK_NONE) {
        ch->codec = BATCH_CODEC_NONE;
        ch->wire_len = BATCH_HEADER_SIZE + ch->used;
    }
    set_producer(ch, pr);
    stamp(ch);
    set_state(ch, CHUNK_SEALED);
    /* Only now may the original go: until the copy is SEALED a
     * replacement takes the original and frees the copy. */
    if (copy != CHUNK_NONE)
        retire_original(pool, idx);
    return sealed;
}

void chunk_restamp(struct chunk_pool *pool, int32_t idx,
                   const struct chunk_producer *pr)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    assert(chunk_state(ch) == CHUNK_SEALED);
    set_producer(ch, pr);
    stamp(ch);
}

const uint8_t *chunk_send(struct chunk_pool *pool, int32_t idx)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    assert(chunk_state(ch) == CHUNK_SEALED);
    set_state(ch, CHUNK_IN_FLIGHT);
    return chunk_data(ch);
}

void chunk_unsend(struct chunk_pool *pool, int32_t idx)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    assert(chunk_state(ch) >= CHUNK_SEALED);
    set_state(ch, CHUNK_SEALED);
}

void chunk_free(struct chunk_pool *pool, int32_t idx)
{
    struct pool_chunk *ch = chunk_at(pool, idx);

    __atomic_store_n(&ch->worker, 0, __ATOMIC_RELAXED);
    set_fill(ch, 0, 0);
    set_state(ch, CHUNK_FREE);
}

/* ---- what a dead worker left ---- */

/* A sealed copy made it: the open original it came from goes.  An empty
 * chunk is not the original: it may be one another worker has just taken,
 * still naming its previous batch. */
static void drop_sealed_sources(struct chunk_pool *pool, const int32_t *idx,
                                uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        struct pool_chunk *ch = chunk_at(pool, idx[i]), *src;
        if (chunk_state(ch) < CHUNK_SEALED || ch->source < 0 ||
            (uint32_t)ch->source >= pool->count)
            continue;
        src = chunk_at(pool, ch->source);
        if (chunk_state(src) == CHUNK_OPEN && chunk_records(src) &&
            src->topic == ch->topic && src->partition == ch->partition &&
            src->ring_first == ch->ring_first)
            chunk_free(pool, ch->source);
    }
}

/* Slot, then ring position: each slot's list and each partition's queue
 * come out in the order their records were sent. */
static int by_ring_position(const void *a, const void *b, void *ctx)
{
    const struct chunk_pool *pool = ctx;
    const struct pool_chunk *x = chunk_at(pool, *(const int32_t *)a);
    const struct pool_chunk *y = chunk_at(pool, *(const int32_t *)b);

    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->ring_first > y->ring_first) - (x->ring_first < y->ring_first);
}

/*
 * The chunks of `slots` that hold records.  Such a chunk was filled by an
 * owner of its slot, and every owner before this worker is gone: dead, or
 * it handed the slot over once nothing of it was left in the pool.  No
 * other chunk is ours to touch: an empty OPEN chunk may be one another
 * worker has just taken (its slot still names the batch it held before),
 * a chunk of another slot is its owner's.  Two kinds of empty chunk are
 * freed: an OPEN one this worker's index took (its taker was our
 * predecessor, which died before the first record, or whose spare it
 * was), and a SEALED or IN_FLIGHT one of our slots (its worker died
 * inside chunk_free(), between the fill and the state stores; only a
 * slot's owner seals its chunks).  This worker's own spare (a running
 * worker takes slots over too) is none of these.
 */
static uint32_t collect(struct chunk_pool *pool, const bool *slots,
                        uint32_t slot_count, int32_t *out)
{
    uint32_t found = 0;

    for (uint32_t i = 0; i < pool->count; i++) {
        struct pool_chunk *ch = chunk_at(pool, (int32_t)i);
        uint32_t st = chunk_state(ch);

        if (st == CHUNK_FREE || (int32_t)i == pool->spare)
            continue;
        if (!chunk_records(ch)) {
            if (st == CHUNK_OPEN ? taker_of(ch) == pool->worker
                                 : ch->slot < slot_count && slots[ch->slot])
                chunk_free(pool, (int32_t)i);
            continue;
        }
        if (ch->slot < slot_count && slots[ch->slot])
            out[found++] = (int32_t)i;
    }
    return found;
}

uint32_t chunk_find_left(struct chunk_pool *pool, const bool *slots,
                         uint32_t slot_count, int32_t *out)
{
    uint32_t found = collect(pool, slots, slot_count, out), kept = 0;

    drop_sealed_sources(pool, out, found);
    qsort_r(out, found, sizeof(*out), by_ring_position, pool);
    for (uint32_t i = 0; i < found; i++) {
        struct pool_chunk *ch = chunk_at(pool, out[i]);
        uint32_t st = chunk_state(ch);
        if (st == CHUNK_FREE) /* an original whose sealed copy made it */
            continue;
        if (st == CHUNK_OPEN && ch->source >= 0) {
            chunk_free(pool, out[i]); /* an unfinished compressed copy */
            continue;
        }
        out[kept++] = out[i];
    }
    return kept;
}

bool chunk_adoptable(struct chunk_pool *pool, int32_t idx, const bool *owned,
                     uint32_t slot_count)
{
    struct pool_chunk *ch = chunk_at(pool, idx);
    uint64_t origins = (uint64_t)ch->count * sizeof(struct chunk_origin);
    const struct status_topic *t;

    if (ch->slot >= slot_count || !owned[ch->slot] || ch->topic >= TOPIC_MAX ||
        ch->count == 0 ||
        (uint64_t)BATCH_HEADER_SIZE + ch->used + origins > pool->cap)
        return false;
    t = instance_topic(pool->in, ch->topic);
    if (atomic_load(&t->state) != TOPIC_READY || ch->partition < 0 ||
        (uint32_t)ch->partition >= atomic_load(&t->partitions) ||
        layout_user_slot(instance_slot_user(pool->in, ch->slot), ch->topic,
                         ch->partition, pool->in->user_slots) != ch->slot)
        return false;
    return chunk_state(ch) == CHUNK_OPEN ||
           (ch->wire_len > BATCH_HEADER_SIZE &&
            ch->wire_len + origins <= pool->cap);
}

void chunk_adopt_sealed(struct chunk_pool *pool, int32_t idx)
{
    /* In flight when its worker died: written or not, it goes again,
     * byte-identical. */
    set_state(chunk_at(pool, idx), CHUNK_SEALED);
}

uint32_t worker_chunk_size(uint32_t batch_size, uint32_t max_record,
                           uint32_t batch_num_messages)
{
    uint64_t data = batch_size > max_record ? batch_size : max_record;
    uint64_t size = sizeof(struct pool_chunk) + data + 64 +
                    sizeof(struct chunk_origin) * (uint64_t)batch_num_messages;

    return (uint32_t)((size + 4095) & ~(uint64_t)4095);
}
