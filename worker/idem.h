/*
 * idem.h: the idempotent producer's rules, as pure functions so that they
 * can be tested on their own (tests/test_idem.c).
 *
 * Each slot has a producer id and epoch; each partition a next sequence
 * (given to the next sealed batch) and an acked sequence (the next one the
 * broker expects: every batch before it is written).  A sealed batch keeps
 * its sequence for good, so a resend is byte-identical and a broker drops
 * it as a duplicate, except after an epoch bump, which re-sequences every
 * unacknowledged batch of the slot from 0 (KIP-360).
 */
#ifndef CHUTE_WORKER_IDEM_H
#define CHUTE_WORKER_IDEM_H

#include <stdbool.h>
#include <stdint.h>

#define IDEM_EPOCH_MAX 32767

enum idem_action {
    IDEM_ACK,     /* written, or a duplicate of a written batch */
    IDEM_ACK_BUMP, /* written, but ahead of an earlier batch that is not:
                      the broker had no sequence state for the producer
                      and took this one as the start, so the earlier one
                      can never be written in this epoch: count this one
                      written, leave the sequences, bump the epoch */
    IDEM_RETRY,   /* resend the same bytes after a backoff */
    IDEM_REQUEUE, /* an earlier batch was not written: resend after it,
                     not counted as a retry */
    IDEM_BUMP,    /* the broker lost our sequence state or saw a gap: bump
                     the epoch, re-sequence, resend */
    IDEM_NEW_PID, /* our epoch is fenced: get a new producer id */
    IDEM_FAIL,    /* give up on the batch */
};

struct idem_batch {
    int32_t base_seq;
    int32_t count;
    int16_t epoch;
};

struct idem_seq {
    int32_t next_seq;  /* for the next batch sealed */
    int32_t acked_seq; /* the next sequence the broker expects */
};

/* Sequences wrap from INT32_MAX to 0. */
static inline int32_t idem_seq_add(int32_t seq, int32_t n)
{
    return (int32_t)(((uint32_t)seq + (uint32_t)n) & 0x7fffffffu);
}

/* What to do with a batch the broker answered with `error` (0 = success,
 * or a transport/timeout error mapped to a retriable Kafka code).
 * `expired`: message.timeout.ms has passed for the batch. */
enum idem_action idem_decide(bool idempotent, int16_t error, bool expired,
                             int16_t current_epoch, const struct idem_batch *b,
                             const struct idem_seq *s);

/* How many batches of a partition may be in flight at once.  With
 * idempotence up to max_in_flight (at most IDEM_IN_FLIGHT_MAX), but one
 * until `broker_has_state`: the broker has acknowledged a batch of the
 * current epoch on the partition.  A broker without sequence state for a
 * producer takes any first sequence, so if the first of two pipelined
 * batches got a retriable error (a partition that has just been created:
 * NOT_LEADER_OR_FOLLOWER, then leader) the second would be written first
 * and the first never; with state, the broker refuses the second
 * (OUT_OF_ORDER_SEQUENCE_NUMBER) and it is resent after the first. */
#define IDEM_IN_FLIGHT_MAX 5
int idem_in_flight_limit(bool idempotent, int max_in_flight,
                         bool broker_has_state);

/* Gives a batch being sealed its base sequence. */
int32_t idem_assign(struct idem_seq *s, int32_t count);
/* Records that a batch was written (a batch acknowledged before, resent,
 * leaves the acknowledged sequence where it is). */
void idem_acked(struct idem_seq *s, const struct idem_batch *b);
/* After an epoch bump: sequences restart at 0. */
void idem_reset(struct idem_seq *s);
/* The epoch after `epoch`, or -1 when a new producer id is needed. */
int32_t idem_next_epoch(int16_t epoch);

#endif
