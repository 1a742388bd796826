/*
 * live.h: how the worker's view of the settings (struct wrk_settings,
 * worker.h) is filled from the live values (enum live_setting,
 * shm/layout.h), at the supervisor for a worker it forks and in a worker
 * when a reload (SIGHUP) bumps the live block's generation.  Which
 * property lands in which value, converted how, is the configuration
 * table's business (supervisor/config.c); which field of struct
 * wrk_settings a value lands in is LIVE_SETTINGS's (shm/layout.h).
 */
#ifndef CHUTE_WORKER_LIVE_H
#define CHUTE_WORKER_LIVE_H

#include "shm/layout.h"

#include <stdbool.h>
#include <stdint.h>

struct instance;
struct wrk_settings;

/* Stores every live value into its field of s; batch.size is capped at
 * batch_cap, since the pool's chunks are cut already. */
void live_settings_fill(struct wrk_settings *s,
                        const int64_t values[LIVE_MAX], uint32_t batch_cap);

/* The largest batch.size the chunks of `in` hold. */
uint32_t live_batch_cap(const struct instance *in);

/* If the live block of `in` has a generation other than *seen: fills s
 * from it, sets the log level, logs the change, stores the generation
 * in *seen and returns true.  Else returns false. */
bool live_apply(struct wrk_settings *s, const struct instance *in,
                uint32_t *seen);

#endif
