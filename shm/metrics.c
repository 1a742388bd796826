/*
 * metrics.c: observing into the per-worker metrics block.
 */
#include "shm/metrics.h"

#include <string.h>

/* Bucket i holds values up to base * 2^i (the last one everything). */
static void observe(struct metrics_hist *h, uint64_t v, uint64_t base)
{
    unsigned i = 0;

    while (i + 1 < METRICS_BUCKETS && v > base << i)
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void metrics_init(struct state_metrics *m)
{
    for (unsigned i = 0; i < METRICS_BROKERS; i++)
        atomic_store(&m->brokers[i].node_id, -1);
}

void metrics_batch(struct state_metrics *m, uint32_t records,
                   uint32_t raw_bytes, uint32_t wire_bytes)
{
    observe(&m->batch_bytes, wire_bytes, 1024);
    observe(&m->batch_records, records, 1);
    observe(&m->compression, wire_bytes ? 100ull * raw_bytes / wire_bytes : 100,
            100);
}

void metrics_request(struct state_metrics *m, int32_t broker,
                     int64_t latency_us, bool ok)
{
    for (unsigned i = 0; i < METRICS_BROKERS; i++) {
        struct metrics_broker *b = &m->brokers[i];
        int32_t id = atomic_load_explicit(&b->node_id, memory_order_relaxed);
        if (id == -1) {
            /* Only this worker writes its block: no race to claim. */
            atomic_store_explicit(&b->node_id, broker, memory_order_relaxed);
            id = broker;
        }
        if (id != broker)
            continue;
        if (ok)
            observe(&b->latency_us, latency_us > 0 ? (uint64_t)latency_us : 0,
                    250);
        else
            atomic_fetch_add_explicit(&b->errors, 1, memory_order_relaxed);
        return;
    }
}

void metrics_retry(struct state_metrics *m)
{
    atomic_fetch_add_explicit(&m->retries, 1, memory_order_relaxed);
}
