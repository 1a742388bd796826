/*
 * recover.c: taking over a slot's batches from a predecessor, a worker that
 * died or the slot's previous owner (docs/crash-consistency.md).
 *
 * Other workers keep running meanwhile, taking chunks from the pool and
 * filling them: chunk_find_left() returns only what is provably this
 * worker's; here each of those joins the worker's lists again.
 */
#include "common/err.h"
#include "common/log.h"
#include "worker/wrk.h"

#include <stdlib.h>

/* Records that cannot be sent (a topic, partition or size that makes no
 * sense for this worker) are lost: say so with what the chunk claims. */
static void drop(struct wrk *w, int32_t idx)
{
    struct pool_chunk *ch = chunk_at(&w->pool, idx);

    log_error("slot %u: dropping %u records of chunk %d (state %u, topic %u "
              "partition %d): not a batch this worker can send",
              ch->slot, ch->count, idx, chunk_state(ch), ch->topic,
              ch->partition);
    chunk_free(&w->pool, idx);
}

/* Takes one adoptable chunk back into the worker's lists: an open batch
 * goes on filling, a sealed or in-flight one is queued, in ring order,
 * which is also sequence order. */
static void adopt(struct wrk *w, int32_t idx, uint64_t *ring_done)
{
    struct pool_chunk *ch = chunk_at(&w->pool, idx);
    struct wpart *p = part_get(w, instance_slot_user(w->in, ch->slot),
                               ch->topic, ch->partition);
    uint64_t end = chunk_origin(&w->pool, ch, ch->count - 1)->ring_end;
    bool unsure;

    if (!p) {
        drop(w, idx);
        return;
    }
    if (end > ring_done[ch->slot])
        ring_done[ch->slot] = end;
    resolve_track(w, p->slot, idx);
    if (chunk_state(ch) == CHUNK_OPEN) {
        /* A partition has one open batch at a time and a replacement
         * re-opens the one it finds, so a second should never appear; if
         * one does, the first is sealed to make room. */
        if (p->open != WRK_NONE && !accum_seal(w, p)) {
            log_error("slot %u: two open batches of topic %u partition %d "
                      "and no producer id to seal one: chunk %d waits",
                      p->slot, p->topic, p->partition, idx);
            return;
        }
        p->open = idx;
        return;
    }
    chunk_adopt_sealed(&w->pool, idx);
    unsure = producer_adopted(w, p, ch);
    part_queue(w, p, idx);
    /* Sent in the slot's epoch, for all we know, and never answered: an
     * epoch bump must not re-stamp it before a broker has answered it as
     * it is (sender.c, "unsure batches"). */
    w->chunk_unsure[idx] = unsure;
}

int recover_slots(struct wrk *w, const bool *slots)
{
    uint64_t ring_done[SLOT_MAX] = {0};
    int32_t *idx = malloc(w->pool.count * sizeof(*idx));
    uint32_t found, adopted = 0;

    if (!idx)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory for %u chunk indices",
                       w->pool.count);
    found = chunk_find_left(&w->pool, slots, w->slot_count, idx);
    for (uint32_t i = 0; i < found; i++) {
        if (!chunk_adoptable(&w->pool, idx[i], w->owned, w->slot_count)) {
            drop(w, idx[i]);
            continue;
        }
        adopt(w, idx[i], ring_done);
        adopted++;
    }
    free(idx);
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (slots[s]) {
            ring_resume(&w->rings[s], ring_done[s]);
            resolve_publish(w, s);
        }
    if (adopted)
        log_info("took over %u batches from the pool", adopted);
    return 0;
}
