/*
 * test_backoff.c: broker/backoff.c, the reconnect schedule, against the
 * numbers of librdkafka's own unit test of it (rdkafka_broker.c,
 * rd_ut_reconnect_backoff: reconnect.backoff.ms 10, .max.ms 90) and the
 * jitter's bounds over many random draws.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "broker/backoff.h"

#define NOW 1000000

/* Attempts at one moment, back to back: each wait lies in the range of
 * librdkafka's test; the lowest and highest random numbers reach its
 * ends. */
static const struct {
    int lo, hi;
} ut_waits[] = {{7, 15}, {15, 30}, {30, 60}, {60, 90}, {67, 90}, {67, 90}};

static void test_backoff_librdkafka(void **state)
{
    static const uint32_t rnds[] = {0, UINT32_MAX, 12345, 0x9e3779b9};

    (void)state;
    for (size_t r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
        struct backoff b = {0};

        for (size_t i = 0; i < sizeof(ut_waits) / sizeof(ut_waits[0]); i++) {
            int64_t wait = backoff_attempt(&b, NOW, 10, 90, rnds[r]) - NOW;
            if (wait < ut_waits[i].lo || wait > ut_waits[i].hi)
                fail_msg("attempt %zu, random %u: wait %lld, want %d..%d",
                         i + 1, rnds[r], (long long)wait, ut_waits[i].lo,
                         ut_waits[i].hi);
            if (r == 0 && wait != ut_waits[i].lo)
                fail_msg("attempt %zu: random 0 waits %lld, not the least",
                         i + 1, (long long)wait);
        }
    }
}

/* Every wait is 0.75..1.5 times the current one and at most the max, the
 * current one doubles up to the max, and a quiet time longer than the max
 * starts again from the first wait. */
static void test_backoff_jitter_bounds(void **state)
{
    static const int cases[][2] = {{100, 10000}, {1, 1}, {0, 0}, {0, 500},
                                   {3000, 3000}, {100, 150}, {50, 3600000}};
    uint64_t rng = 0x243f6a8885a308d3ULL;

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        int base = cases[c][0], max = cases[c][1];
        struct backoff b = {0};
        int64_t now = NOW, cur = base;

        for (int i = 0; i < 2000; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            if (i % 50 == 49) { /* quiet longer than the max: start over */
                now += (int64_t)max + 2000;
                cur = base;
            }
            int64_t wait = backoff_attempt(&b, now, base, max,
                                           (uint32_t)rng) - now;
            int64_t lo = cur * 3 / 4, hi = cur * 3 / 2 < max ? cur * 3 / 2
                                                              : max;
            if (wait < (lo < max ? lo : max) || wait > hi)
                fail_msg("base %d max %d, attempt %d: wait %lld, want "
                         "%lld..%lld", base, max, i, (long long)wait,
                         (long long)lo, (long long)hi);
            now += wait; /* the next attempt as soon as allowed */
            cur = cur * 2 < max ? cur * 2 : max;
        }
    }
}

/* The jitter really spreads: first waits of fresh schedules, base 100,
 * cover 75..150 (librdkafka's -25 % .. +50 %). */
static void test_backoff_spread(void **state)
{
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    int64_t lo = INT64_MAX, hi = 0;

    (void)state;
    for (int i = 0; i < 5000; i++) {
        struct backoff b = {0};
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int64_t wait = backoff_attempt(&b, NOW, 100, 10000, (uint32_t)rng) -
                       NOW;
        lo = wait < lo ? wait : lo;
        hi = wait > hi ? wait : hi;
    }
    if (lo != 75 || hi != 150)
        fail_msg("first waits spread over %lld..%lld, want 75..150",
                 (long long)lo, (long long)hi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_librdkafka),
        cmocka_unit_test(test_backoff_jitter_bounds),
        cmocka_unit_test(test_backoff_spread),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
