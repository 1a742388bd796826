/*
 * chute.h: the client API of chute, a per-host Kafka producer service.
 *
 * A client opens a running chute instance by name, resolves the topics it
 * writes to, and sends records.  chute_send() copies the record into a
 * shared-memory ring that a chute worker drains; it makes no system call
 * in steady state.  chute_flush() waits until every record this client sent
 * is resolved (acknowledged by Kafka or failed) and says how many failed.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative chute_err code on failure; chute_errmsg() then holds a sentence
 * about that failure for the calling thread.
 *
 * A chute_t handle is not thread-safe: use one per thread, or lock.
 *
 * A handle survives fork(): in the child, the first call with it makes the
 * child a client of its own (its own client entry and, if the parent had
 * delivery reports on, its own report ring).  chute_flush() there waits
 * for the child's records only, and reports go to the process that sent
 * the record.  The parent may go on using the handle, or exit.
 */
#ifndef CHUTE_H
#define CHUTE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum chute_err {
    CHUTE_OK = 0,
    CHUTE_ERR_INVALID = -1,      /* bad argument */
    CHUTE_ERR_NO_SERVICE = -2,   /* no chuted runs under that name */
    CHUTE_ERR_LAYOUT = -3,       /* shared memory of another layout version */
    CHUTE_ERR_TOO_LARGE = -4,    /* record larger than message.max.bytes */
    CHUTE_ERR_QUEUE_FULL = -5,   /* ring stayed full for max.block.ms */
    CHUTE_ERR_UNKNOWN_TOPIC = -6,/* the cluster does not have the topic */
    CHUTE_ERR_PARTITION = -7,    /* partition out of range */
    CHUTE_ERR_TIMED_OUT = -8,    /* flush timed out */
    CHUTE_ERR_SYSTEM = -9,       /* a system call failed (see chute_errmsg) */
    CHUTE_ERR_CLOSED = -10,      /* the service stopped accepting records */
    CHUTE_ERR_PROTOCOL = -11,    /* malformed reply from the service */
    CHUTE_ERR_TOO_MANY = -12,    /* a fixed table (topics, clients) is full */
    CHUTE_ERR_DENIED = -13,      /* not allowed for this user */
} chute_err;

/* The name of an error code, e.g. "CHUTE_ERR_TOO_LARGE". */
const char *chute_err_name(int err);
/* A sentence about the last failure of this thread. */
const char *chute_errmsg(void);

typedef struct chute chute_t;
typedef int32_t chute_topic_t;

#define CHUTE_PARTITION_UA (-1) /* let chute choose the partition */
#define CHUTE_TIMESTAMP_NOW (-1)

typedef struct chute_header {
    const char *key;            /* non-NULL, NUL-terminated */
    const void *value;          /* NULL for a null header value */
    size_t value_len;
} chute_header_t;

typedef struct chute_record {
    chute_topic_t topic;        /* from chute_topic() */
    int32_t partition;          /* CHUTE_PARTITION_UA or an index */
    const void *key;            /* NULL for a null key */
    size_t key_len;
    const void *value;          /* NULL for a null value */
    size_t value_len;
    const chute_header_t *headers;
    size_t header_count;
    int64_t timestamp_ms;       /* CHUTE_TIMESTAMP_NOW for the current time */
    uint64_t opaque;            /* yours: comes back in the record's report */
} chute_record_t;

/* What became of one record, for clients that asked for delivery reports
 * (chute_set(c, "delivery.reports", "true")). */
typedef struct chute_report {
    uint64_t opaque;            /* the record's chute_record_t.opaque */
    chute_topic_t topic;
    int32_t partition;
    int64_t offset;             /* its offset, -1 if failed or unknown */
    int32_t error;              /* 0: delivered; else the Kafka error code */
} chute_report_t;

/* Attaches to the chute instance `name` (NULL for "default"). */
int chute_open(const char *name, chute_t **out);

/* Returns the topic's handle (>= 0), asking the service to resolve it
 * through the cluster's metadata if no client used it before. */
int chute_topic(chute_t *c, const char *topic);

/* Number of partitions of a resolved topic, or a negative error. */
int chute_topic_partitions(chute_t *c, chute_topic_t topic);

/* Hands one record to chute.  On success the record is chute's: it will be
 * delivered or reported failed.  Returns the chosen partition (>= 0). */
int chute_send(chute_t *c, const chute_record_t *rec);

/* Waits until every record this client sent is resolved, up to timeout_ms
 * (< 0 waits forever).  Returns how many of this client's records failed
 * since the previous flush, or CHUTE_ERR_TIMED_OUT. */
int chute_flush(chute_t *c, int timeout_ms);

/* Detaches; does not flush. */
void chute_close(chute_t *c);

/* Client settings.  Names and meaning follow librdkafka and the Java
 * client: "queue.full.policy" (block|fail) and "max.block.ms" (defaults:
 * the service's configuration), "sticky.partitioning.linger.ms" (10),
 * "delivery.reports" (false; set it before the first send). */
int chute_set(chute_t *c, const char *key, const char *value);

/* Takes up to `max` delivery reports without waiting; returns how many.
 * Reports come in per-partition order.  A client with reports enabled may
 * have at most 13,538 records whose reports it has not taken: past that,
 * chute_send() returns CHUTE_ERR_QUEUE_FULL until it polls.  After
 * chute_flush() returns, every report of the records it flushed is there
 * to take.  A worker that dies while it writes reports may leave some of
 * them to come twice (at most 64 per death): keep the first. */
int chute_poll_reports(chute_t *c, chute_report_t *out, size_t max);
/* Delivery reports a worker could not write (zero unless the client's
 * report ring was tampered with). */
uint64_t chute_reports_lost(chute_t *c);

/* The error name of a Kafka error code, e.g. "NOT_LEADER_OR_FOLLOWER". */
const char *chute_kafka_err_name(int32_t code);

#ifdef __cplusplus
}
#endif
#endif
