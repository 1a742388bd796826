/*
 * mdfetch.h: a one-shot, blocking metadata look-up of one topic, for the
 * supervisor's topic resolution.  It runs a broker connection on a private
 * libev loop, so it shares all of conn.c's protocol handling.
 */
#ifndef CHUTE_WORKER_MDFETCH_H
#define CHUTE_WORKER_MDFETCH_H

#include <stdint.h>

/* Asks the cluster for `topic` (auto-creating it where the cluster does).
 * Returns its partition count (> 0), CHUTE_ERR_UNKNOWN_TOPIC when the
 * cluster refuses it, or CHUTE_ERR_TIMED_OUT. */
int mdfetch_topic(const char *bootstrap, const char *client_id,
                  const char *topic, int timeout_ms);

#endif
