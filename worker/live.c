/*
 * live.c: the worker's view of the live settings, filled from the live
 * block by the list that also makes the ids and the fields
 * (LIVE_SETTINGS, shm/layout.h).
 */
#include "worker/live.h"

#include "common/log.h"
#include "shm/instance.h"
#include "worker/worker.h"

void live_settings_fill(struct wrk_settings *s,
                        const int64_t values[LIVE_MAX], uint32_t batch_cap)
{
#define LIVE_FILL(id, field, type) s->field = (type)values[LIVE_##id];
    LIVE_SETTINGS(LIVE_FILL)
#undef LIVE_FILL
    if (s->batch_size > batch_cap)
        s->batch_size = batch_cap;
}

uint32_t live_batch_cap(const struct instance *in)
{
    return in->chunk_size - (uint32_t)sizeof(struct pool_chunk) - 64;
}

bool live_apply(struct wrk_settings *s, const struct instance *in,
                uint32_t *seen)
{
    const struct state_live *l = &in->state->live;
    uint32_t gen = atomic_load_explicit(&l->generation, memory_order_acquire);
    int64_t values[LIVE_MAX];

    if (gen == *seen)
        return false;
    *seen = gen;
    for (int id = 0; id < LIVE_MAX; id++)
        values[id] = atomic_load_explicit(&l->values[id], memory_order_relaxed);
    live_settings_fill(s, values, live_batch_cap(in));
    log_set_level((enum log_level)s->log_level);
    log_info("settings %u applied (linger.ms %d, batch.size %u, codec %d)",
             gen, s->linger_ms, s->batch_size, s->codec);
    return true;
}
