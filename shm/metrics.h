/*
 * metrics.h: per-worker histograms and counters in the state object, for
 * the Prometheus endpoint (supervisor/metrics.c).  Workers observe; the
 * supervisor renders.  Every field is a relaxed atomic: a scrape may see
 * a batch counted in one histogram and not yet in another.
 */
#ifndef CHUTE_SHM_METRICS_H
#define CHUTE_SHM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define METRICS_BUCKETS 16
#define METRICS_BROKERS 16

struct metrics_hist {
    _Atomic uint64_t bucket[METRICS_BUCKETS]; /* cumulative counts are made
                                                 when rendering */
    _Atomic uint64_t count;
    _Atomic uint64_t sum;
};

struct metrics_broker {
    _Atomic int32_t node_id;  /* -1: entry unused */
    uint32_t pad;
    struct metrics_hist latency_us; /* Produce request round trips */
    _Atomic uint64_t errors;  /* requests that failed (transport/timeout) */
};

struct state_metrics {
    _Atomic uint64_t retries;          /* batches sent again */
    struct metrics_hist batch_bytes;   /* sealed batch size on the wire */
    struct metrics_hist batch_records; /* records per batch */
    struct metrics_hist compression;   /* raw / wire, x100 */
    struct metrics_broker brokers[METRICS_BROKERS];
};

/* Called by workers. */
void metrics_init(struct state_metrics *m);
void metrics_batch(struct state_metrics *m, uint32_t records,
                   uint32_t raw_bytes, uint32_t wire_bytes);
void metrics_request(struct state_metrics *m, int32_t broker,
                     int64_t latency_us, bool ok);
void metrics_retry(struct state_metrics *m);

#endif
