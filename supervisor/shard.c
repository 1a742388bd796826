/*
 * shard.c: which worker owns which slot, and moving slots while running
 * (the workers' side is worker/shard.c).  Slot s belongs to worker
 * s % workers.  Scaling sets every slot's target; each owner hands its
 * slots over itself once their batches are resolved.  Workers beyond the
 * new count retire once they own nothing; a slot whose owner is gone for
 * good (a retired or vanished index) is given straight to its target,
 * whose recovery adopts what the pool still holds for it.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"

#include <signal.h>

#define SHARD_TICK_S 0.05

static void set_targets(struct sup *s)
{
    for (uint32_t i = 0; i < s->in.slots; i++)
        atomic_store(&s->in.state->slot_target[i],
                     (int32_t)(i % s->worker_count));
}

void shard_assign(struct sup *s)
{
    set_targets(s);
    for (uint32_t i = 0; i < s->in.slots; i++) {
        int32_t owner = atomic_load(&s->in.state->slot_owner[i]);
        /* A fresh instance, or owners of a previous supervisor that do not
         * exist any more: the target owns the slot from the start. */
        if (owner < 0 || (uint32_t)owner >= s->worker_count)
            atomic_store(&s->in.state->slot_owner[i],
                         atomic_load(&s->in.state->slot_target[i]));
    }
}

bool sup_scale_done(const struct sup *s)
{
    for (uint32_t i = 0; i < s->in.slots; i++)
        if (atomic_load(&s->in.state->slot_owner[i]) !=
            atomic_load(&s->in.state->slot_target[i]))
            return false;
    return true;
}

static bool owns_any(const struct sup *s, uint32_t worker)
{
    for (uint32_t i = 0; i < s->in.slots; i++)
        if (atomic_load(&s->in.state->slot_owner[i]) == (int32_t)worker)
            return true;
    return false;
}

/* Retires workers that own nothing any more, and gives slots of workers
 * that are gone for good to their targets. */
static void shard_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct sup *s = t->data;

    (void)revents;
    for (uint32_t i = 0; i < s->in.slots; i++) {
        int32_t owner = atomic_load(&s->in.state->slot_owner[i]);
        if (owner >= (int32_t)s->worker_count && s->workers[owner].pid <= 0)
            atomic_store(&s->in.state->slot_owner[i],
                         atomic_load(&s->in.state->slot_target[i]));
    }
    for (uint32_t w = s->worker_count; w < WORKER_MAX; w++)
        if (s->workers[w].pid > 0 && !s->workers[w].retiring &&
            !owns_any(s, w)) {
            s->workers[w].retiring = true;
            kill(s->workers[w].pid, SIGTERM);
        }
    if (sup_scale_done(s)) {
        log_info("scaled to %u workers: every slot with its owner",
                 s->worker_count);
        ev_timer_stop(loop, t);
    }
}

int sup_scale(struct sup *s, uint32_t workers)
{
    uint32_t had = s->worker_count;

    if (s->stopping)
        return err_set(CHUTE_ERR_CLOSED, "chuted is stopping");
    if (workers < 1 || workers > s->in.slots || workers > WORKER_MAX)
        return err_set(CHUTE_ERR_INVALID,
                       "cannot scale to %u workers (1 to %u)", workers,
                       s->in.slots < WORKER_MAX ? s->in.slots : WORKER_MAX);
    for (uint32_t i = had; i < workers; i++) {
        s->workers[i].retiring = false;
        if (s->workers[i].pid <= 0 && sup_start_worker(s, i) < 0)
            return CHUTE_ERR_SYSTEM;
    }
    s->worker_count = workers;
    atomic_store(&s->in.state->worker_count, workers);
    set_targets(s);
    log_info("scaling from %u to %u workers", had, workers);
    ev_timer_stop(s->loop, &s->shard_timer);
    ev_timer_init(&s->shard_timer, shard_cb, SHARD_TICK_S, SHARD_TICK_S);
    s->shard_timer.data = s;
    ev_timer_start(s->loop, &s->shard_timer);
    return 0;
}

void shard_stop(struct sup *s)
{
    ev_timer_stop(s->loop, &s->shard_timer);
}
