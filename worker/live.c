/*
 * live.c: the worker's view of the live settings.  The switch in
 * live_set() is the one place that knows which field of struct
 * wrk_settings each live value lands in; the compiler (-Wswitch) fails the
 * build when a new enum live_setting has no case.
 */
#include "worker/live.h"

#include "common/log.h"
#include "shm/instance.h"
#include "worker/worker.h"

static void live_set(struct wrk_settings *s, enum live_setting id, int64_t v)
{
    switch (id) {
    case LIVE_LINGER_MS:
        s->linger_ms = (int)v;
        break;
    case LIVE_BATCH_SIZE:
        s->batch_size = (uint32_t)v;
        break;
    case LIVE_BATCH_NUM_MESSAGES:
        s->batch_num_messages = (uint32_t)v;
        break;
    case LIVE_CODEC:
        s->codec = (int16_t)v;
        break;
    case LIVE_MESSAGE_TIMEOUT_MS:
        s->message_timeout_ms = (int)v;
        break;
    case LIVE_REQUEST_TIMEOUT_MS:
        s->request_timeout_ms = (int)v;
        break;
    case LIVE_RETRY_BACKOFF_MS:
        s->retry_backoff_ms = (int)v;
        break;
    case LIVE_RETRY_BACKOFF_MAX_MS:
        s->retry_backoff_max_ms = (int)v;
        break;
    case LIVE_RETRIES:
        s->retries = (int)v;
        break;
    case LIVE_METADATA_MAX_AGE_MS:
        s->metadata_max_age_ms = (int)v;
        break;
    case LIVE_LOG_LEVEL:
        s->log_level = (int)v;
        break;
    case LIVE_SOCKET_TIMEOUT_MS:
        s->socket_timeout_ms = (int)v;
        break;
    case LIVE_NONE:
    case LIVE_COUNT:
        break;
    }
}

void live_settings_fill(struct wrk_settings *s,
                        const int64_t values[LIVE_MAX], uint32_t batch_cap)
{
    for (int id = LIVE_NONE + 1; id < LIVE_COUNT; id++)
        live_set(s, (enum live_setting)id, values[id]);
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
