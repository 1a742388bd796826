/*
 * shard.c: the worker's side of slot ownership.  The state object holds,
 * per slot, its owner and its target (set by the supervisor).  A worker
 * drains exactly the slots it owns.  To hand one over it stops draining
 * it, seals its open batches and keeps sending until nothing of the slot
 * is unresolved; then it stores owner = target.  The new owner, seeing
 * itself as owner, adopts whatever the pool still holds for the slot (a
 * predecessor that died half-way) and drains from where the ring stands.
 * So per-partition order holds across a move: the old owner's batches are
 * all resolved before the new owner sends anything of the slot, and the
 * slot's producer id and sequences move with it in the state object.
 */
#include "common/err.h"
#include "common/log.h"
#include "worker/wrk.h"

#include <string.h>

static int32_t owner_of(const struct wrk *w, uint32_t slot)
{
    return atomic_load_explicit(&w->in->state->slot_owner[slot],
                                memory_order_acquire);
}

static int32_t target_of(const struct wrk *w, uint32_t slot)
{
    return atomic_load_explicit(&w->in->state->slot_target[slot],
                                memory_order_acquire);
}

void shard_init(struct wrk *w)
{
    w->slot_count = w->in->slots;
    for (uint32_t s = 0; s < w->slot_count; s++) {
        instance_ring(w->in, s, &w->rings[s]);
        w->rings[s].stream_zero = true;
        w->owned[s] = owner_of(w, s) == (int32_t)w->index;
        if (w->owned[s])
            atomic_store(&w->rings[s].cons->owner, (int32_t)w->index);
    }
}

/* Hands a slot over once the last of its batches is resolved. */
static void leave(struct wrk *w, uint32_t slot, int32_t target)
{
    if (!w->leaving[slot]) {
        w->leaving[slot] = true;
        accum_seal_slot(w, slot);
        log_info("slot %u: handing over to worker %d", slot, target);
    }
    if (!resolve_slot_empty(w, slot))
        return;
    resolve_publish(w, slot);
    w->owned[slot] = false;
    w->leaving[slot] = false;
    atomic_store(&w->rings[slot].cons->owner, target);
    atomic_store_explicit(&w->in->state->slot_owner[slot], target,
                          memory_order_release);
    log_info("slot %u: handed over to worker %d", slot, target);
}

void shard_tick(struct wrk *w)
{
    bool taken[SLOT_MAX];
    bool any = false;

    memset(taken, 0, sizeof(taken));
    for (uint32_t s = 0; s < w->slot_count; s++) {
        int32_t target = target_of(w, s);
        if (w->owned[s] && target >= 0 && target != (int32_t)w->index)
            leave(w, s, target);
        else if (!w->owned[s] && owner_of(w, s) == (int32_t)w->index)
            taken[s] = any = true;
    }
    if (!any)
        return;
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (taken[s]) {
            w->owned[s] = true;
            w->leaving[s] = false;
            atomic_store(&w->rings[s].cons->owner, (int32_t)w->index);
            log_info("slot %u: taken over", s);
        }
    if (recover_slots(w, taken) < 0)
        log_error("taking over slots: %s", chute_errmsg());
    ev_idle_start(w->loop, &w->drain_idle);
}
