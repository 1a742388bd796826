/*
 * mdfetch.h: a one-shot metadata look-up of one topic, for the
 * supervisor's topic resolution and refresh.  It drives a broker
 * connection (conn.c) on the caller's libev loop, so it shares all of the
 * worker's protocol handling and never blocks the loop; it tries each
 * bootstrap server in turn until one answers.
 */
#ifndef CHUTE_BROKER_MDFETCH_H
#define CHUTE_BROKER_MDFETCH_H

#include "proto/kafka.h"

#include <ev.h>
#include <stdint.h>

struct mdfetch;

/* result: the topic's partition count (> 0), or a negative chute_err with
 * chute_errmsg() saying why: CHUTE_ERR_UNKNOWN_TOPIC when the cluster
 * refuses the topic or still does not know it at the deadline,
 * CHUTE_ERR_TIMED_OUT when no broker answered. */
typedef void mdfetch_cb(void *arg, int result);

/* Starts a look-up of `topic` (auto-creating it where the cluster does);
 * `cb` runs exactly once, unless mdfetch_cancel() comes first: by
 * timeout_ms at the latest.  A server that does not connect or answer
 * within socket_timeout_ms is left for the next.  Returns NULL (and calls
 * nothing) if it cannot start. */
struct mdfetch *mdfetch_start(struct ev_loop *loop, const char *bootstrap,
                              const char *client_id, const char *topic,
                              int timeout_ms, int socket_timeout_ms,
                              mdfetch_cb *cb, void *arg);
/* The whole answer, for callers that want more than the partition count
 * (leaders, brokers): result as above; on success md is the Metadata
 * response and t the topic's entry in it, both valid only during the
 * call; on failure both are NULL. */
typedef void mdfetch_md_cb(void *arg, int result,
                           const struct kafka_metadata *md,
                           const struct kafka_topic *t);

/* As mdfetch_start(), with the whole answer given to cb. */
struct mdfetch *mdfetch_start_md(struct ev_loop *loop, const char *bootstrap,
                                 const char *client_id, const char *topic,
                                 int timeout_ms, int socket_timeout_ms,
                                 mdfetch_md_cb *cb, void *arg);

/* The security (TLS, SASL) of every look-up started from now; NULL (the
 * start) for plaintext.  sec must outlive the look-ups. */
struct conn_security;
void mdfetch_security(const struct conn_security *sec);

/* Stops a look-up; its callback will not run. */
void mdfetch_cancel(struct mdfetch *f);

#endif
