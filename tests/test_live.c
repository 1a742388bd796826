/*
 * test_live.c: unit tests of worker/live.c: each live value lands in its
 * field of struct wrk_settings, each per-topic value in its field of
 * struct topic_settings with batch.size capped by the pool's chunks, and
 * a worker applies the live block once per generation.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proto/batch.h"
#include "worker/live.h"
#include "worker/worker.h"

/* Empty settings, and live values all different, each valid for its
 * setting. */
static void sample(struct wrk_settings *s, int64_t v[LIVE_MAX])
{
    memset(s, 0, sizeof(*s));
    memset(v, 0, sizeof(int64_t) * LIVE_MAX);
    for (int id = LIVE_NONE + 1; id < LIVE_COUNT; id++)
        v[id] = 1000 + id;
    v[LIVE_LOG_LEVEL] = LOG_ERROR;
}

static void test_live_fill(void **state)
{
    int64_t v[LIVE_MAX];
    struct wrk_settings s;

    (void)state;
    sample(&s, v);
    live_settings_fill(&s, v);
    const struct {
        enum live_setting id;
        int64_t field;
    } lands[] = {
        {LIVE_MESSAGE_TIMEOUT_MS, s.message_timeout_ms},
        {LIVE_REQUEST_TIMEOUT_MS, s.request_timeout_ms},
        {LIVE_RETRY_BACKOFF_MS, s.retry_backoff_ms},
        {LIVE_RETRY_BACKOFF_MAX_MS, s.retry_backoff_max_ms},
        {LIVE_RETRIES, s.retries},
        {LIVE_METADATA_MAX_AGE_MS, s.metadata_max_age_ms},
        {LIVE_LOG_LEVEL, s.log_level},
        {LIVE_SOCKET_TIMEOUT_MS, s.socket_timeout_ms},
        {LIVE_RECONNECT_BACKOFF_MS, s.reconnect_backoff_ms},
        {LIVE_RECONNECT_BACKOFF_MAX_MS, s.reconnect_backoff_max_ms},
        {LIVE_CLAIM_TIMEOUT_MS, s.claim_timeout_ms},
    };
    size_t n = sizeof(lands) / sizeof(lands[0]);

    for (size_t i = 0; i < n; i++)
        if (lands[i].field != v[lands[i].id])
            fail_msg("live value %d landed as %lld, want %lld", lands[i].id,
                     (long long)lands[i].field, (long long)v[lands[i].id]);
    if (n != LIVE_COUNT - 1)
        fail_msg("lands[] has %zu rows for %d live values", n,
                 LIVE_COUNT - 1);
    /* The fields that are not live stay as they were. */
    assert_int_equal(s.acks, 0);
    assert_int_equal(s.max_in_flight, 0);
}

/* A topic's entry of the table the supervisor publishes, values all
 * different and valid for their setting. */
static void topic_sample(struct state_header *st, uint32_t topic)
{
    _Atomic int32_t *v = st->topics.topic[topic].values;

    for (int id = TOPIC_SET_NONE + 1; id < TOPIC_SET_COUNT; id++)
        atomic_store(&v[id], 2000 + 10 * id);
    atomic_store(&v[TOPIC_SET_CODEC], BATCH_CODEC_LZ4);
}

static void test_topic_read(void **state)
{
    struct state_header *st = calloc(1, sizeof(*st));
    struct instance in = {.state = st, .chunk_size = 65536};
    struct topic_settings t, other;
    _Atomic int32_t *v = st->topics.topic[7].values;

    (void)state;
    assert_non_null(st);
    topic_sample(st, 7);
    live_topic_read(&in, 7, &t);
    live_topic_read(&in, 6, &other); /* unpublished: all 0 */
    const struct {
        enum topic_setting id;
        int64_t field;
    } lands[] = {
        {TOPIC_SET_LINGER_MS, t.linger_ms},
        {TOPIC_SET_BATCH_SIZE, t.batch_size},
        {TOPIC_SET_BATCH_NUM_MESSAGES, t.batch_num_messages},
        {TOPIC_SET_CODEC, t.codec},
        {TOPIC_SET_LEVEL, t.level},
    };
    size_t n = sizeof(lands) / sizeof(lands[0]);

    for (size_t i = 0; i < n; i++)
        if (lands[i].field != atomic_load(&v[lands[i].id]))
            fail_msg("topic value %d landed as %lld, want %d", lands[i].id,
                     (long long)lands[i].field, atomic_load(&v[lands[i].id]));
    if (n != TOPIC_SET_COUNT - 1)
        fail_msg("lands[] has %zu rows for %d topic values", n,
                 TOPIC_SET_COUNT - 1);
    assert_int_equal(other.batch_size, 0);
    assert_int_equal(other.linger_ms, 0);
    free(st);
}

/* batch.size past what a chunk holds is cut to it. */
static void test_topic_batch_cap(void **state)
{
    struct state_header *st = calloc(1, sizeof(*st));
    struct instance in = {.state = st, .chunk_size = 65536};
    struct topic_settings t;

    (void)state;
    assert_non_null(st);
    topic_sample(st, 0);
    atomic_store(&st->topics.topic[0].values[TOPIC_SET_BATCH_SIZE], 1 << 20);
    live_topic_read(&in, 0, &t);
    assert_int_equal(t.batch_size, live_batch_cap(&in));
    assert_int_equal(live_batch_cap(&in),
                     65536 - sizeof(struct pool_chunk) - 64);
    atomic_store(&st->topics.topic[0].values[TOPIC_SET_BATCH_SIZE], 4096);
    live_topic_read(&in, 0, &t);
    assert_int_equal(t.batch_size, 4096);
    atomic_store(&st->topics.generation, 9);
    assert_int_equal(live_topics_generation(&in), 9);
    free(st);
}

/* A worker reads the block when its generation moves, not before. */
static void test_live_apply(void **state)
{
    struct state_header *st = calloc(1, sizeof(*st));
    struct instance in = {.state = st, .chunk_size = 65536};
    struct wrk_settings s;
    int64_t v[LIVE_MAX];
    uint32_t seen = 1;

    (void)state;
    assert_non_null(st);
    sample(&s, v);
    for (int id = 0; id < LIVE_MAX; id++)
        atomic_store(&st->live.values[id], v[id]);
    atomic_store(&st->live.generation, 1);
    assert_false(live_apply(&s, &in, &seen));
    assert_int_equal(s.retries, 0);
    atomic_store(&st->live.generation, 2);
    assert_true(live_apply(&s, &in, &seen));
    assert_int_equal(seen, 2);
    assert_int_equal(s.retries, v[LIVE_RETRIES]);
    assert_int_equal(s.socket_timeout_ms, v[LIVE_SOCKET_TIMEOUT_MS]);
    assert_false(live_apply(&s, &in, &seen));
    atomic_store(&st->live.values[LIVE_RETRIES], 3);
    atomic_store(&st->live.generation, 3);
    assert_true(live_apply(&s, &in, &seen));
    assert_int_equal(s.retries, 3);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_fill),
        cmocka_unit_test(test_topic_read),
        cmocka_unit_test(test_topic_batch_cap),
        cmocka_unit_test(test_live_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
