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
 * fields a reload may change come from LIVE_SETTINGS (shm/layout.h) and
 * are filled from the live values in one place (live.c); the supervisor
 * fills the others at start (sup.c). */
struct conn_security;
#define WRK_LIVE_FIELD(id, field, type) type field;
struct wrk_settings {
    LIVE_SETTINGS(WRK_LIVE_FIELD)
    const char *name;
    const char *bootstrap_servers;
    const char *client_id;
    int16_t acks;              /* -1, 0 or 1 */
    uint32_t max_record;       /* message.max.bytes */
    int max_in_flight;
    bool idempotent;           /* enable.idempotence */
    uint32_t worker_count;
    int intake_gid;            /* group of the doorbells, -1: keep */
    uint32_t live_generation;  /* of the live block these values are from */
    /* security.protocol and its TLS context and SASL settings: the
     * supervisor's, copied by the fork; a reload rebuilds the worker's
     * TLS context from the same files (worker.c). */
    struct conn_security *security;
};
#undef WRK_LIVE_FIELD

/* Runs worker `index` until it has drained after SIGTERM; returns the
 * process exit status. */
int worker_main(struct instance *in, const struct wrk_settings *s,
                uint32_t index);

/* Pool chunk size that holds a batch for these settings. */
uint32_t worker_chunk_size(uint32_t batch_size, uint32_t max_record,
                           uint32_t batch_num_messages);

#endif
