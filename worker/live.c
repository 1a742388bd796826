/*
 * live.c: the worker's view of the live settings and of each topic's
 * settings, filled from the state object by the lists that also make the
 * ids and the fields (LIVE_SETTINGS, TOPIC_SETTINGS, shm/layout.h).
 */
#include "worker/live.h"

#include "common/log.h"
#include "shm/instance.h"
#include "worker/worker.h"

void live_settings_fill(struct wrk_settings *s,
                        const int64_t values[LIVE_MAX])
{
#define LIVE_FILL(id, field, type) s->field = (type)values[LIVE_##id];
    LIVE_SETTINGS(LIVE_FILL)
#undef LIVE_FILL
}

void live_topic_read(const struct instance *in, uint32_t topic,
                     struct topic_settings *out)
{
    const struct state_topic_settings *t = &in->state->topics.topic[topic];
    uint32_t cap = live_batch_cap(in);

#define TOPIC_FILL(id, field, type)                                           \
    out->field = (type)atomic_load_explicit(&t->values[TOPIC_SET_##id],        \
                                            memory_order_relaxed);
    TOPIC_SETTINGS(TOPIC_FILL)
#undef TOPIC_FILL
    /* The pool's chunks are cut already. */
    if (out->batch_size > cap)
        out->batch_size = cap;
}

uint32_t live_topics_generation(const struct instance *in)
{
    return atomic_load_explicit(&in->state->topics.generation,
                                memory_order_acquire);
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
    live_settings_fill(s, values);
    log_set_level((enum log_level)s->log_level);
    log_info("settings %u applied (message.timeout.ms %d, retries %d)", gen,
             s->message_timeout_ms, s->retries);
    return true;
}
