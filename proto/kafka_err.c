/*
 * kafka_err.c: Kafka error codes: names, and whether the Java client
 * retries them and refreshes metadata for them (KAFKA-PROTOCOL.md §7).
 * Apart from the codec so that libchute can name errors without it.
 */
#include "proto/kafka.h"

#include <stddef.h>

/* ---- error codes (§7) -------------------------------------------------- */

enum { ERR_R = 1, ERR_M = 2 }; /* retriable, refresh metadata */

static const struct {
    int16_t code;
    const char *name;
    int flags;
} kafka_errs[] = {
    {-181, "SSL_HANDSHAKE_FAILED", 0}, /* chute's (librdkafka's _SSL) */
    {-1, "UNKNOWN_SERVER_ERROR", 0},
    {0, "NONE", 0},
    {2, "CORRUPT_MESSAGE", ERR_R},
    {3, "UNKNOWN_TOPIC_OR_PARTITION", ERR_R | ERR_M},
    {4, "INVALID_MSG_SIZE", 0},
    {5, "LEADER_NOT_AVAILABLE", ERR_R | ERR_M},
    {6, "NOT_LEADER_OR_FOLLOWER", ERR_R | ERR_M},
    {7, "REQUEST_TIMED_OUT", ERR_R},
    {9, "REPLICA_NOT_AVAILABLE", ERR_R | ERR_M},
    {10, "MESSAGE_TOO_LARGE", 0},
    {13, "NETWORK_EXCEPTION", ERR_R | ERR_M},
    {14, "COORDINATOR_LOAD_IN_PROGRESS", ERR_R},
    {15, "COORDINATOR_NOT_AVAILABLE", ERR_R},
    {16, "NOT_COORDINATOR", ERR_R},
    {17, "INVALID_TOPIC_EXCEPTION", 0},
    {18, "RECORD_LIST_TOO_LARGE", 0},
    {19, "NOT_ENOUGH_REPLICAS", ERR_R},
    {20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", ERR_R},
    {21, "INVALID_REQUIRED_ACKS", 0},
    {29, "TOPIC_AUTHORIZATION_FAILED", 0},
    {31, "CLUSTER_AUTHORIZATION_FAILED", 0},
    {32, "INVALID_TIMESTAMP", 0},
    {33, "UNSUPPORTED_SASL_MECHANISM", 0},
    {34, "ILLEGAL_SASL_STATE", 0},
    {35, "UNSUPPORTED_VERSION", 0},
    {42, "INVALID_REQUEST", 0},
    {43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", 0},
    {45, "OUT_OF_ORDER_SEQUENCE_NUMBER", 0},
    {46, "DUPLICATE_SEQUENCE_NUMBER", 0},
    {47, "INVALID_PRODUCER_EPOCH", 0},
    {53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 0},
    {56, "KAFKA_STORAGE_ERROR", ERR_R | ERR_M},
    {58, "SASL_AUTHENTICATION_FAILED", 0},
    {59, "UNKNOWN_PRODUCER_ID", 0},
    {72, "LISTENER_NOT_FOUND", ERR_R | ERR_M},
    {74, "FENCED_LEADER_EPOCH", ERR_R | ERR_M},
    {76, "UNSUPPORTED_COMPRESSION_TYPE", 0},
    {87, "INVALID_RECORD", 0},
    {90, "PRODUCER_FENCED", 0},
    {120, "TRANSACTION_ABORTABLE", 0},
};

/* Index of code in kafka_errs, or -1. */
static int kafka_err_find(int16_t code)
{
    size_t i;

    for (i = 0; i < sizeof(kafka_errs) / sizeof(kafka_errs[0]); i++)
        if (kafka_errs[i].code == code)
            return (int)i;
    return -1;
}

const char *kafka_err_name(int16_t code)
{
    int i = kafka_err_find(code);

    return i < 0 ? "UNKNOWN" : kafka_errs[i].name;
}

bool kafka_err_retriable(int16_t code)
{
    int i = kafka_err_find(code);

    return i >= 0 && (kafka_errs[i].flags & ERR_R);
}

bool kafka_err_refresh_metadata(int16_t code)
{
    int i = kafka_err_find(code);

    return i >= 0 && (kafka_errs[i].flags & ERR_M);
}

