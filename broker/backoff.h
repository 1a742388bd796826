/*
 * backoff.h: the reconnect schedule of a broker connection, as librdkafka
 * keeps it (rd_kafka_broker_update_reconnect_backoff): an attempt may
 * start reconnect.backoff.ms after the previous attempt started, the wait
 * doubling up to reconnect.backoff.max.ms, each wait with -25 % .. +50 %
 * jitter and capped at the max; once the next attempt was due more than
 * the max ago (the connection lived, or nobody wanted it), the wait starts
 * again from reconnect.backoff.ms.  A wait of 0 reconnects at once.
 *
 * Pure: the caller gives the time and a random number.
 */
#ifndef CHUTE_BROKER_BACKOFF_H
#define CHUTE_BROKER_BACKOFF_H

#include <stdint.h>

/* librdkafka's defaults of reconnect.backoff.ms and .max.ms. */
#define BACKOFF_DEFAULT_MS 100
#define BACKOFF_DEFAULT_MAX_MS 10000

struct backoff {
    int64_t next_ms; /* when the next attempt may start; 0: any time */
    int64_t wait_ms; /* the wait before jitter of the next attempt */
};

/* An attempt starts at now_ms: returns the earliest time the next may
 * start (now_ms + a wait in [0.75, 1.5] x the current one, at most
 * max_ms), and doubles the current wait up to max_ms.  rnd is any random
 * number. */
int64_t backoff_attempt(struct backoff *b, int64_t now_ms, int base_ms,
                        int max_ms, uint32_t rnd);

#endif
