/*
 * worker.h: the entry point of a worker process, forked by the supervisor.
 */
#ifndef CHUTE_WORKER_WORKER_H
#define CHUTE_WORKER_WORKER_H

#include "shm/instance.h"
#include "worker/live.h"

#include <stdbool.h>
#include <stdint.h>

/* What a worker needs of the configuration, in the units it uses.  The
 * fields a reload may change are filled from the live values in one place
 * (live.c); the supervisor fills the others at start (sup.c). */
struct wrk_settings {
    const char *name;
    const char *bootstrap_servers;
    const char *client_id;
    int linger_ms;
    uint32_t batch_size;
    uint32_t batch_num_messages;
    int16_t codec;             /* BATCH_CODEC_NONE or BATCH_CODEC_LZ4 */
    int16_t acks;              /* -1, 0 or 1 */
    uint32_t max_record;       /* message.max.bytes */
    int request_timeout_ms;
    int message_timeout_ms;
    int retry_backoff_ms;
    int retry_backoff_max_ms;
    int retries;               /* resends of a batch before it fails */
    int max_in_flight;
    int metadata_max_age_ms;
    int socket_timeout_ms;     /* connects and requests other than Produce */
    int log_level;             /* enum log_level */
    bool idempotent;           /* enable.idempotence */
    uint32_t worker_count;
    uint32_t live_generation;  /* of the live block these values are from */
};

/* Runs worker `index` until it has drained after SIGTERM; returns the
 * process exit status. */
int worker_main(struct instance *in, const struct wrk_settings *s,
                uint32_t index);

/* Pool chunk size that holds a batch for these settings. */
uint32_t worker_chunk_size(uint32_t batch_size, uint32_t max_record,
                           uint32_t batch_num_messages);

#endif
