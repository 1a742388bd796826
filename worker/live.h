/*
 * live.h: how the worker's view of the settings (struct wrk_settings,
 * worker.h) is filled from the live values (enum live_setting,
 * shm/layout.h), at the supervisor for a worker it forks and in a worker
 * when a reload (SIGHUP) bumps the live block's generation; and how a
 * topic's own settings (struct topic_settings) are read from the table
 * the supervisor publishes (struct state_topics).  Which property lands
 * in which value, converted how, is the configuration table's business
 * (supervisor/config.c); which field a value lands in is LIVE_SETTINGS's
 * and TOPIC_SETTINGS's (shm/layout.h).
 */
#ifndef CHUTE_WORKER_LIVE_H
#define CHUTE_WORKER_LIVE_H

#include "shm/layout.h"

#include <stdbool.h>
#include <stdint.h>

struct instance;
struct wrk_settings;

/* One topic's batching settings, in the workers' units. */
#define LIVE_TOPIC_FIELD(id, field, type) type field;
struct topic_settings {
    TOPIC_SETTINGS(LIVE_TOPIC_FIELD)
};
#undef LIVE_TOPIC_FIELD

/* Stores every live value into its field of s. */
void live_settings_fill(struct wrk_settings *s,
                        const int64_t values[LIVE_MAX]);

/* The settings the supervisor published for topic id `topic` of `in`;
 * batch.size is capped at what the pool's chunks hold (live_batch_cap). */
void live_topic_read(const struct instance *in, uint32_t topic,
                     struct topic_settings *out);

/* The generation of the published topic settings (acquire): read it
 * before the entries, and read them again once it moves. */
uint32_t live_topics_generation(const struct instance *in);

/* The largest batch.size the chunks of `in` hold. */
uint32_t live_batch_cap(const struct instance *in);

/* If the live block of `in` has a generation other than *seen: fills s
 * from it, sets the log level, logs the change, stores the generation
 * in *seen and returns true.  Else returns false. */
bool live_apply(struct wrk_settings *s, const struct instance *in,
                uint32_t *seen);

#endif
