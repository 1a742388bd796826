/*
 * test_live.c: unit tests of worker/live.c: each live value lands in its
 * field of struct wrk_settings, batch.size is capped by the pool's chunks,
 * and a worker applies the live block once per generation.
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
    v[LIVE_CODEC] = BATCH_CODEC_LZ4;
    v[LIVE_LOG_LEVEL] = LOG_ERROR;
}

static void test_live_fill(void **state)
{
    int64_t v[LIVE_MAX];
    struct wrk_settings s;

    (void)state;
    sample(&s, v);
    live_settings_fill(&s, v, UINT32_MAX);
    const struct {
        enum live_setting id;
        int64_t field;
    } lands[] = {
        {LIVE_LINGER_MS, s.linger_ms},
        {LIVE_BATCH_SIZE, s.batch_size},
        {LIVE_BATCH_NUM_MESSAGES, s.batch_num_messages},
        {LIVE_CODEC, s.codec},
        {LIVE_MESSAGE_TIMEOUT_MS, s.message_timeout_ms},
        {LIVE_REQUEST_TIMEOUT_MS, s.request_timeout_ms},
        {LIVE_RETRY_BACKOFF_MS, s.retry_backoff_ms},
        {LIVE_RETRY_BACKOFF_MAX_MS, s.retry_backoff_max_ms},
        {LIVE_RETRIES, s.retries},
        {LIVE_METADATA_MAX_AGE_MS, s.metadata_max_age_ms},
        {LIVE_LOG_LEVEL, s.log_level},
        {LIVE_SOCKET_TIMEOUT_MS, s.socket_timeout_ms},
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

static void test_live_batch_cap(void **state)
{
    int64_t v[LIVE_MAX];
    struct wrk_settings s;

    (void)state;
    sample(&s, v);
    v[LIVE_BATCH_SIZE] = 1 << 20;
    live_settings_fill(&s, v, 65536);
    assert_int_equal(s.batch_size, 65536);
    v[LIVE_BATCH_SIZE] = 4096;
    live_settings_fill(&s, v, 65536);
    assert_int_equal(s.batch_size, 4096);
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
    assert_int_equal(s.linger_ms, 0);
    atomic_store(&st->live.generation, 2);
    assert_true(live_apply(&s, &in, &seen));
    assert_int_equal(seen, 2);
    assert_int_equal(s.linger_ms, v[LIVE_LINGER_MS]);
    assert_int_equal(s.codec, BATCH_CODEC_LZ4);
    assert_int_equal(s.batch_size, v[LIVE_BATCH_SIZE]);
    assert_false(live_apply(&s, &in, &seen));
    /* batch.size past what a chunk holds is cut to it */
    atomic_store(&st->live.values[LIVE_BATCH_SIZE], 1 << 20);
    atomic_store(&st->live.generation, 3);
    assert_true(live_apply(&s, &in, &seen));
    assert_int_equal(s.batch_size, live_batch_cap(&in));
    assert_int_equal(live_batch_cap(&in),
                     65536 - sizeof(struct pool_chunk) - 64);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_fill),
        cmocka_unit_test(test_live_batch_cap),
        cmocka_unit_test(test_live_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
