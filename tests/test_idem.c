/*
 * test_idem.c: the idempotent producer's decisions (worker/idem.c), as a
 * table: for an answer to a batch, what the worker must do.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "proto/kafka.h"
#include "worker/idem.h"

struct decide_case {
    const char *what;
    bool idempotent;
    int16_t error;
    bool expired;
    int16_t epoch;            /* the slot's epoch now */
    struct idem_batch batch;
    struct idem_seq seq;
    enum idem_action want;
};

static const struct decide_case decide_cases[] = {
    {"success", true, 0, false, 0, {0, 10, 0}, {10, 0}, IDEM_ACK},
    {"success after timeout", true, 0, true, 0, {0, 10, 0}, {10, 0},
     IDEM_ACK},
    {"duplicate is written", true, KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER, false,
     0, {0, 10, 0}, {10, 0}, IDEM_ACK},
    {"duplicate without idempotence fails", false,
     KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER, false, 0, {-1, 10, -1}, {0, 0},
     IDEM_FAIL},
    {"not leader retries", true, KAFKA_ERR_NOT_LEADER_OR_FOLLOWER, false, 0,
     {0, 10, 0}, {10, 0}, IDEM_RETRY},
    {"timeout retries", true, KAFKA_ERR_REQUEST_TIMED_OUT, false, 0,
     {0, 10, 0}, {10, 0}, IDEM_RETRY},
    {"not enough replicas retries", false, KAFKA_ERR_NOT_ENOUGH_REPLICAS,
     false, 0, {-1, 10, -1}, {0, 0}, IDEM_RETRY},
    {"retriable but expired fails", true, KAFKA_ERR_NOT_LEADER_OR_FOLLOWER,
     true, 0, {0, 10, 0}, {10, 0}, IDEM_FAIL},
    {"too large fails", true, KAFKA_ERR_MESSAGE_TOO_LARGE, false, 0,
     {0, 10, 0}, {10, 0}, IDEM_FAIL},
    {"authorization fails", false, KAFKA_ERR_TOPIC_AUTHORIZATION_FAILED,
     false, 0, {-1, 10, -1}, {0, 0}, IDEM_FAIL},
    {"out of order behind a failed batch requeues", true,
     KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, false, 0, {10, 5, 0}, {15, 0},
     IDEM_REQUEUE},
    {"out of order at the head bumps", true,
     KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, false, 0, {10, 5, 0}, {15, 10},
     IDEM_BUMP},
    {"unknown producer bumps", true, KAFKA_ERR_UNKNOWN_PRODUCER_ID, false, 3,
     {0, 5, 3}, {5, 0}, IDEM_BUMP},
    {"fenced epoch needs a new id", true, KAFKA_ERR_INVALID_PRODUCER_EPOCH,
     false, 2, {0, 5, 2}, {5, 0}, IDEM_NEW_PID},
    {"stale epoch requeues for re-sequencing", true,
     KAFKA_ERR_INVALID_PRODUCER_EPOCH, false, 3, {0, 5, 2}, {5, 0},
     IDEM_REQUEUE},
    {"stale epoch, any error, requeues", true,
     KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, false, 1, {7, 5, 0}, {0, 0},
     IDEM_REQUEUE},
    /* A just-created partition (Kafka 4.1.1): batch 0+614 got
     * NOT_LEADER_OR_FOLLOWER, then the broker, which had no state for the
     * producer, wrote batch 614+540 sent behind it.  Sequence 0 can never
     * be written in this epoch: bump at once instead of retrying it until
     * message.timeout.ms. */
    {"success ahead of an unwritten batch bumps", true, 0, false, 0,
     {614, 540, 0}, {1154, 0}, IDEM_ACK_BUMP},
    {"duplicate ahead of an unwritten batch bumps", true,
     KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER, false, 0, {614, 540, 0}, {1154, 0},
     IDEM_ACK_BUMP},
    /* A replacement resends the batch its predecessor died resolving:
     * acknowledged already, and no sign that the broker skipped any. */
    {"success of the batch acknowledged last, no bump", true, 0, false, 0,
     {2194, 1988, 0}, {4200, 4182}, IDEM_ACK},
    {"duplicate of an earlier acknowledged batch, no bump", true,
     KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER, false, 0, {10, 5, 0}, {40, 30},
     IDEM_ACK},
    {"acknowledged across the wrap, no bump", true, 0, false, 0,
     {INT32_MAX - 4, 10, 0}, {20, 5}, IDEM_ACK},
    {"success of a stale epoch is written, no bump", true, 0, false, 1,
     {614, 540, 0}, {0, 0}, IDEM_ACK},
    {"success without idempotence ignores sequences", false, 0, false, 0,
     {-1, 10, -1}, {0, 0}, IDEM_ACK},
};

static void test_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(decide_cases) / sizeof(decide_cases[0]);
         i++) {
        const struct decide_case *c = &decide_cases[i];
        enum idem_action got = idem_decide(c->idempotent, c->error, c->expired,
                                           c->epoch, &c->batch, &c->seq);
        if (got != c->want)
            fail_msg("%s: got %d, want %d", c->what, got, c->want);
    }
}

/* The answers of the incident, replayed as the sender applies them: the
 * head's OUT_OF_ORDER_SEQUENCE_NUMBER must end in an epoch bump, never in
 * requeueing it behind batches the broker has already written. */
static void test_fresh_partition_replay(void **state)
{
    struct idem_seq s = {0, 0};
    struct idem_batch a = {0, 614, 0}, b = {0, 540, 0};
    enum idem_action act;

    (void)state;
    a.base_seq = idem_assign(&s, a.count);
    b.base_seq = idem_assign(&s, b.count);
    assert_int_equal(idem_decide(true, KAFKA_ERR_NOT_LEADER_OR_FOLLOWER, false,
                                 0, &a, &s),
                     IDEM_RETRY);
    act = idem_decide(true, KAFKA_ERR_NONE, false, 0, &b, &s);
    if (act == IDEM_ACK)
        idem_acked(&s, &b); /* what the sender does with an ack */
    assert_int_equal(s.acked_seq, 0); /* sequence 0 is not written */
    assert_int_equal(idem_decide(true, KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                 false, 0, &a, &s),
                     IDEM_BUMP);
}

/* Pipelining waits for the broker to hold the partition's sequence state:
 * until then a later batch could be written before an earlier one. */
static void test_in_flight_limit(void **state)
{
    (void)state;
    assert_int_equal(idem_in_flight_limit(true, 5, false), 1);
    assert_int_equal(idem_in_flight_limit(true, 5, true), 5);
    assert_int_equal(idem_in_flight_limit(true, 3, true), 3);
    assert_int_equal(idem_in_flight_limit(true, 100, true),
                     IDEM_IN_FLIGHT_MAX);
    assert_int_equal(idem_in_flight_limit(false, 5, true), 1);
    assert_int_equal(idem_in_flight_limit(true, 0, true), 1);
}

static void test_sequences_wrap(void **state)
{
    struct idem_seq s = {INT32_MAX - 4, INT32_MAX - 4};
    struct idem_batch b;

    (void)state;
    b.base_seq = idem_assign(&s, 10);
    b.count = 10;
    assert_int_equal(b.base_seq, INT32_MAX - 4);
    assert_int_equal(s.next_seq, 5); /* INT32_MAX-4 .. INT32_MAX, 0 .. 4 */
    assert_int_equal(idem_assign(&s, 1), 5);
    idem_acked(&s, &b);
    assert_int_equal(s.acked_seq, 5);
    /* The same batch again, or an older one (a replacement's resend):
     * the acknowledged sequence never moves back. */
    idem_acked(&s, &b);
    assert_int_equal(s.acked_seq, 5);
    b.base_seq = INT32_MAX - 20;
    idem_acked(&s, &b);
    assert_int_equal(s.acked_seq, 5);
    assert_int_equal(idem_seq_add(INT32_MAX, 1), 0);
    assert_int_equal(idem_seq_add(0, 0), 0);
}

static void test_reset_and_epochs(void **state)
{
    struct idem_seq s = {1234, 1000};

    (void)state;
    idem_reset(&s);
    assert_int_equal(s.next_seq, 0);
    assert_int_equal(s.acked_seq, 0);
    assert_int_equal(idem_next_epoch(0), 1);
    assert_int_equal(idem_next_epoch(32766), 32767);
    assert_int_equal(idem_next_epoch(32767), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_fresh_partition_replay),
        cmocka_unit_test(test_in_flight_limit),
        cmocka_unit_test(test_sequences_wrap),
        cmocka_unit_test(test_reset_and_epochs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
