/*
 * recover.c: taking over a slot's batches from a predecessor, a worker that
 * died or the slot's previous owner (docs/crash-consistency.md).
 *
 * Other workers keep running meanwhile, taking chunks from the pool and
 * filling them: a recovering worker touches only what is provably its own
 * (see collect()), never a chunk another worker may hold.
 */
#include "common/log.h"
#include "proto/batch.h"
#include "worker/chunk.h"
#include "worker/idem.h"
#include "worker/wrk.h"

#include <stdlib.h>

/* A chunk found in the pool is only adopted if it makes sense for this
 * worker: an owned slot, a known topic and partition that hash to that
 * slot, counts and sizes within the chunk. */
static bool adoptable(struct wrk *w, const struct pool_chunk *ch,
                      uint32_t state)
{
    size_t cap = chunk_data_cap(w);
    const struct intake_topic *t;

    if (ch->slot >= w->slot_count || !w->owned[ch->slot] ||
        ch->topic >= TOPIC_MAX || ch->count == 0 ||
        (uint64_t)BATCH_HEADER_SIZE + ch->used +
                (uint64_t)ch->count * sizeof(struct chunk_origin) >
            cap)
        return false;
    t = instance_topic(w->in, ch->topic);
    if (atomic_load(&t->state) != TOPIC_READY || ch->partition < 0 ||
        (uint32_t)ch->partition >= atomic_load(&t->partitions) ||
        layout_slot_of(ch->topic, ch->partition, w->slot_count) != ch->slot)
        return false;
    return state == CHUNK_OPEN ||
           (ch->wire_len > BATCH_HEADER_SIZE &&
            ch->wire_len + (uint64_t)ch->count * sizeof(struct chunk_origin) <=
                cap);
}

/* A sealed copy made it: the open original it came from goes. */
static void drop_sealed_sources(struct wrk *w, const int32_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx[i]);
        if (atomic_load(&ch->state) < CHUNK_SEALED || ch->source < 0 ||
            (uint32_t)ch->source >= w->in->chunk_count)
            continue;
        struct pool_chunk *src = instance_chunk(w->in, (uint32_t)ch->source);
        /* An empty chunk is not the original: it may be one another worker
         * has just taken, still naming its previous batch. */
        if (atomic_load(&src->state) == CHUNK_OPEN && chunk_records(src) &&
            src->topic == ch->topic && src->partition == ch->partition &&
            src->ring_first == ch->ring_first)
            chunk_free(src);
    }
}

static struct wrk *sort_w; /* qsort has no context argument */

/* Slot, then ring position: each slot's list and each partition's queue
 * come out in the order their records were sent. */
static int by_ring_position(const void *a, const void *b)
{
    const struct pool_chunk *x = instance_chunk(sort_w->in, *(const uint32_t *)a);
    const struct pool_chunk *y = instance_chunk(sort_w->in, *(const uint32_t *)b);

    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->ring_first > y->ring_first) - (x->ring_first < y->ring_first);
}

/* The partition's next sequence must follow every batch sealed under the
 * slot's current producer id and epoch (a death between SEALED and the
 * sequence update leaves it behind). */
static void catch_up_sequence(struct wrk *w, struct wpart *p,
                              const struct pool_chunk *ch)
{
    const struct state_slot *ps = instance_pslot(w->in, p->slot);
    int32_t after = idem_seq_add(ch->base_sequence, (int32_t)ch->count);
    uint32_t ahead = ((uint32_t)after - (uint32_t)p->sp->next_seq) & 0x7fffffffu;

    if (!w->s->idempotent || ch->producer_id != atomic_load(&ps->producer_id) ||
        ch->producer_epoch != atomic_load(&ps->epoch))
        w->bump_pending[p->slot] |= w->s->idempotent;
    else if (ahead && ahead < (1u << 30))
        p->sp->next_seq = after;
}

/* Takes one adopted chunk back into the worker's lists. */
static void adopt(struct wrk *w, int32_t idx, uint64_t *ring_done)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);
    struct wpart *p = accum_part(w, ch->topic, ch->partition);
    uint64_t end = chunk_origin(w, ch, ch->count - 1)->ring_end;

    if (!p) {
        chunk_free(ch);
        return;
    }
    if (end > ring_done[ch->slot])
        ring_done[ch->slot] = end;
    w->chunk_part[idx] = p;
    accum_slot_append(w, p->slot, idx);
    if (atomic_load(&ch->state) == CHUNK_OPEN) {
        if (p->open != WRK_NONE && !accum_seal(w, p))
            return; /* cannot happen twice: kept open, sealed later */
        p->open = idx;
        return;
    }
    /* In flight when its worker died: written or not, it goes again,
     * byte-identical. */
    atomic_store(&ch->state, CHUNK_SEALED);
    catch_up_sequence(w, p, ch);
    accum_queue(w, p, idx);
}

/*
 * Puts in idx[] the chunks of `slots` that hold records; returns how many.
 * Such a chunk was filled by an owner of its slot, and every owner before
 * this worker is gone: dead, or it handed the slot over once nothing of it
 * was left in the pool.  No other chunk is ours to touch: an empty OPEN
 * chunk may be one another worker has just taken (its slot still names the
 * batch it held before), a chunk of another slot is its owner's.  Only an
 * empty OPEN chunk that this worker's index took is freed here: its taker
 * was our predecessor, which died before the first record.
 */
static uint32_t collect(struct wrk *w, const bool *slots, int32_t *idx)
{
    uint32_t found = 0;

    for (uint32_t i = 0; i < w->in->chunk_count; i++) {
        struct pool_chunk *ch = instance_chunk(w->in, i);
        uint32_t st = atomic_load_explicit(&ch->state, memory_order_acquire);

        if (st == CHUNK_FREE)
            continue;
        if (!chunk_records(ch)) {
            if (st == CHUNK_OPEN && chunk_taker(ch) == (int32_t)w->index)
                chunk_free(ch);
            continue;
        }
        if (ch->slot < w->slot_count && slots[ch->slot])
            idx[found++] = (int32_t)i;
    }
    return found;
}

/* Records that cannot be sent (a topic, partition or size that makes no
 * sense for this worker) are lost: say so with what the chunk claims. */
static void drop(struct wrk *w, int32_t idx, uint32_t st)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);

    log_error("slot %u: dropping %u records of chunk %d (state %u, topic %u "
              "partition %d): not a batch this worker can send",
              ch->slot, ch->count, idx, st, ch->topic, ch->partition);
    chunk_free(ch);
}

int accum_recover(struct wrk *w, const bool *slots)
{
    uint64_t ring_done[SLOT_MAX] = {0};
    int32_t *idx = malloc(w->in->chunk_count * sizeof(*idx));
    uint32_t found, adopted = 0;

    if (!idx)
        return -1;
    found = collect(w, slots, idx);
    drop_sealed_sources(w, idx, found);
    sort_w = w;
    qsort(idx, found, sizeof(*idx), by_ring_position);
    for (uint32_t i = 0; i < found; i++) {
        struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx[i]);
        uint32_t st = atomic_load(&ch->state);
        if (st == CHUNK_FREE) /* an original whose sealed copy made it */
            continue;
        if (st == CHUNK_OPEN && ch->source >= 0) {
            chunk_free(ch); /* an unfinished compressed copy */
            continue;
        }
        if (!adoptable(w, ch, st)) {
            drop(w, idx[i], st);
            continue;
        }
        adopt(w, idx[i], ring_done);
        adopted++;
    }
    free(idx);
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (slots[s]) {
            ring_resume(&w->rings[s], ring_done[s]);
            accum_publish(w, s);
        }
    if (adopted)
        log_info("took over %u batches from the pool", adopted);
    return 0;
}
