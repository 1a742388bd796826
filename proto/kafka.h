/*
 * kafka.h: the Kafka requests chute sends and the responses it reads.
 *
 * Only the non-flexible versions a producer needs: ApiVersions v0-2,
 * Metadata v1-8, Produce v3-8 (never v5: the librdkafka mock answers it
 * wrongly) and InitProducerId v0-1.  Writers append a framed request
 * (int32 size, request header v1, body) to a kbuf; several requests may
 * follow each other in one kbuf.  Parsers take the response body after the
 * correlation id, treat it as untrusted, and return 0 (or a non-negative
 * value) or CHUTE_ERR_PROTOCOL with a message (common/err.h).
 *
 * Error codes, their names and how to react to them follow §7 of the
 * protocol notes.
 */
#ifndef CHUTE_PROTO_KAFKA_H
#define CHUTE_PROTO_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/kbuf.h"

enum kafka_api {
    KAFKA_API_PRODUCE = 0,
    KAFKA_API_METADATA = 3,
    KAFKA_API_SASL_HANDSHAKE = 17,
    KAFKA_API_API_VERSIONS = 18,
    KAFKA_API_INIT_PRODUCER_ID = 22,
    KAFKA_API_SASL_AUTHENTICATE = 36,
};

#define KAFKA_API_MAX 64

enum kafka_err {
    KAFKA_ERR_UNKNOWN_SERVER_ERROR = -1,
    KAFKA_ERR_NONE = 0,
    KAFKA_ERR_CORRUPT_MESSAGE = 2,
    KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KAFKA_ERR_INVALID_MSG_SIZE = 4, /* sent by the librdkafka mock */
    KAFKA_ERR_LEADER_NOT_AVAILABLE = 5,
    KAFKA_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    KAFKA_ERR_REQUEST_TIMED_OUT = 7,
    KAFKA_ERR_REPLICA_NOT_AVAILABLE = 9,
    KAFKA_ERR_MESSAGE_TOO_LARGE = 10,
    KAFKA_ERR_NETWORK_EXCEPTION = 13,
    KAFKA_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    KAFKA_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    KAFKA_ERR_NOT_COORDINATOR = 16,
    KAFKA_ERR_INVALID_TOPIC_EXCEPTION = 17,
    KAFKA_ERR_RECORD_LIST_TOO_LARGE = 18,
    KAFKA_ERR_NOT_ENOUGH_REPLICAS = 19,
    KAFKA_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    KAFKA_ERR_INVALID_REQUIRED_ACKS = 21,
    KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
    KAFKA_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    KAFKA_ERR_INVALID_TIMESTAMP = 32,
    KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    KAFKA_ERR_ILLEGAL_SASL_STATE = 34,
    KAFKA_ERR_UNSUPPORTED_VERSION = 35,
    KAFKA_ERR_INVALID_REQUEST = 42,
    KAFKA_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    KAFKA_ERR_INVALID_PRODUCER_EPOCH = 47,
    KAFKA_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    KAFKA_ERR_KAFKA_STORAGE_ERROR = 56,
    KAFKA_ERR_SASL_AUTHENTICATION_FAILED = 58,
    /* chute's own, numbered as librdkafka's RD_KAFKA_RESP_ERR__SSL: a
     * record failed while its broker could not be reached over TLS. */
    KAFKA_ERR_SSL_HANDSHAKE_FAILED = -181,
    KAFKA_ERR_UNKNOWN_PRODUCER_ID = 59,
    KAFKA_ERR_LISTENER_NOT_FOUND = 72,
    KAFKA_ERR_FENCED_LEADER_EPOCH = 74,
    KAFKA_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KAFKA_ERR_INVALID_RECORD = 87,
    KAFKA_ERR_PRODUCER_FENCED = 90,
    KAFKA_ERR_TRANSACTION_ABORTABLE = 120,
};

/* "NOT_LEADER_OR_FOLLOWER", or "UNKNOWN" for a code not listed above. */
const char *kafka_err_name(int16_t code);
/* Java-retriable (§7 class R); the sequence errors 45/46/47/59 are not:
 * the idempotence logic handles them. */
bool kafka_err_retriable(int16_t code);
/* Retry only after refreshing metadata (§7 class M). */
bool kafka_err_refresh_metadata(int16_t code);

/* ---- framing ----------------------------------------------------------- */

/* Appends a 4-byte size placeholder and request header v1. */
void kafka_req_begin(struct kbuf *b, int16_t api, int16_t ver, int32_t corr,
                     const char *client_id);
/* Patches the size of the request that starts at start (the b->len
 * before kafka_req_begin). */
void kafka_req_end(struct kbuf *b, size_t start);

/* ---- ApiVersions ------------------------------------------------------- */

struct kafka_versions {
    int16_t min[KAFKA_API_MAX], max[KAFKA_API_MAX];
    bool have[KAFKA_API_MAX];
    int16_t error;
    int32_t throttle_ms;
};

/* A whole framed ApiVersions v2 request (empty body). */
void kafka_apiversions_req(struct kbuf *b, int32_t corr, const char *client_id);
/* Parses a v0-2 response.  Returns 0 once the body is understood, also
 * when out->error != 0; with error 35 (UNSUPPORTED_VERSION) the body is
 * read as v0 and out->max[KAFKA_API_API_VERSIONS], if out->have it, is the
 * broker's highest ApiVersions to retry with. */
int kafka_apiversions_parse(const uint8_t *body, size_t len, int16_t ver,
                            struct kafka_versions *out);
/* Highest version both sides support within [cmin, cmax]: 0 with *out set,
 * or -1 (CHUTE_ERR_INVALID) if there is none. */
int kafka_versions_pick(const struct kafka_versions *v, int16_t api,
                        int16_t cmin, int16_t cmax, int16_t *out);
/* Produce version in 3..8, never 5 (4, else 6, instead). */
int kafka_pick_produce(const struct kafka_versions *v, int16_t *out);

/* ---- Metadata ---------------------------------------------------------- */

struct kafka_broker {
    int32_t node_id;
    char *host;
    int32_t port;
};

struct kafka_partition {
    int16_t error;
    int32_t index;
    int32_t leader;       /* -1: no leader yet */
    int32_t leader_epoch; /* -1 below v7 */
};

/* The most partitions of one topic the parser keeps: the instance's
 * table of partition sequence states holds as many (PARTITION_MAX). */
#define KAFKA_PARTITIONS_MAX 16384

struct kafka_topic {
    int16_t error;
    char *name;
    bool is_internal;
    size_t partition_count;
    struct kafka_partition *partitions; /* sorted by index */
    /* A topic said to have more than KAFKA_PARTITIONS_MAX partitions: how
     * many (its partitions were read past, none kept); 0 otherwise. */
    size_t partitions_over;
};

struct kafka_metadata {
    int32_t throttle_ms;
    int32_t controller_id;
    char *cluster_id; /* NULL if absent or null */
    size_t broker_count;
    struct kafka_broker *brokers;
    size_t topic_count;
    struct kafka_topic *topics;
};

/* A whole framed Metadata request, ver 1..8.  n == 0 asks for all topics
 * (a null array); auto-creation is sent from v4 on. */
void kafka_metadata_req(struct kbuf *b, int16_t ver, int32_t corr,
                        const char *client_id, const char *const *topics,
                        size_t n, bool allow_auto_create);
/* Parses a v1..8 response into md (free with kafka_metadata_free, also
 * after a failure).  Returns 0 or CHUTE_ERR_PROTOCOL / CHUTE_ERR_SYSTEM. */
int kafka_metadata_parse(const uint8_t *body, size_t len, int16_t ver,
                         struct kafka_metadata *md);
void kafka_metadata_free(struct kafka_metadata *md);
/* Partition `index` of t, or NULL.  O(1) when the indexes are 0..n-1. */
const struct kafka_partition *kafka_topic_partition(const struct kafka_topic *t,
                                                    int32_t index);

/* ---- Produce ----------------------------------------------------------- */

/* Begins a Produce v3..8 request without a transactional id; follow with
 * topic_count kafka_produce_topic() calls, each followed by its
 * kafka_produce_partition() calls, then kafka_req_end(). */
void kafka_produce_begin(struct kbuf *b, int16_t ver, int32_t corr,
                         const char *client_id, int16_t acks,
                         int32_t timeout_ms, size_t topic_count);
void kafka_produce_topic(struct kbuf *b, const char *name,
                         size_t partition_count);
void kafka_produce_partition(struct kbuf *b, int32_t partition,
                             const uint8_t *batch, size_t len);

typedef void kafka_produce_cb(void *ctx, const char *topic, size_t topic_len,
                              int32_t partition, int16_t error,
                              int64_t base_offset);
/* Parses a v3..8 response.  The whole body is validated before cb runs
 * once per partition, so a malformed body produces no callbacks.  Returns
 * throttle_time_ms (>= 0) or CHUTE_ERR_PROTOCOL. */
int kafka_produce_parse(const uint8_t *body, size_t len, int16_t ver,
                        kafka_produce_cb *cb, void *ctx);

/* ---- InitProducerId ---------------------------------------------------- */

struct kafka_init_pid {
    int32_t throttle_ms;
    int16_t error;
    int64_t producer_id;
    int16_t producer_epoch;
};

/* A whole framed InitProducerId v0..1 request for an idempotent (not
 * transactional) producer: null transactional id, timeout 60000. */
void kafka_init_pid_req(struct kbuf *b, int16_t ver, int32_t corr,
                        const char *client_id);
int kafka_init_pid_parse(const uint8_t *body, size_t len, int16_t ver,
                         struct kafka_init_pid *out);

#endif
