/*
 * test_lz4frame.c: unit tests of proto/lz4frame.c: round trips, the frame
 * descriptor Kafka requires, and rejection of broken frames.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chute/chute.h"
#include "proto/lz4frame.h"
#include "tests/fill.h"

/* Compresses and decompresses; returns the compressed size. */
static size_t roundtrip(size_t n, int fill)
{
    uint8_t *in = make_input(n, fill), *back = malloc(n + 1);
    size_t cap = lz4frame_bound(n);
    uint8_t *z = malloc(cap);
    ssize_t zn = lz4frame_compress(in, n, z, cap);

    assert_true(zn > 0);
    assert_true((size_t)zn <= cap);
    assert_int_equal(lz4frame_decompress(z, (size_t)zn, back, n + 1), n);
    assert_memory_equal(in, back, n);
    free(in);
    free(back);
    free(z);
    return (size_t)zn;
}

static const struct {
    size_t n;
    int fill;
} sizes[] = {
    {0, FILL_ZERO},       {1, FILL_TEXT},       {7, FILL_RANDOM},
    {65536, FILL_TEXT},   {65537, FILL_RANDOM}, {100000, FILL_RANDOM},
    {1 << 20, FILL_TEXT}, {1 << 20, FILL_ZERO},
};

static void test_lz4frame_roundtrips(void **state)
{
    size_t i;

    (void)state;
    srand(3);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        roundtrip(sizes[i].n, sizes[i].fill);
}

static void test_lz4frame_compresses(void **state)
{
    (void)state;
    assert_true(roundtrip(1 << 20, FILL_TEXT) < (1 << 20) / 20);
    /* incompressible data grows only by framing overhead */
    assert_true(roundtrip(1 << 20, FILL_RANDOM) < (1 << 20) + 1024);
}

/* Magic 04224d18, FLG 0x60 (version 01, independent blocks, no checksums,
 * no size, no dictionary), BD 0x40 (64 KiB), end mark 00000000. */
static void test_lz4frame_descriptor(void **state)
{
    const uint8_t magic[] = {0x04, 0x22, 0x4d, 0x18}, end[4] = {0};
    uint8_t *in = make_input(200000, FILL_TEXT);
    size_t cap = lz4frame_bound(200000);
    uint8_t *z = malloc(cap);
    ssize_t zn = lz4frame_compress(in, 200000, z, cap);

    (void)state;
    assert_true(zn > 11);
    assert_memory_equal(z, magic, 4);
    assert_int_equal(z[4], 0x60);
    assert_true(z[4] & 0x20); /* block independence */
    assert_int_equal(z[5], 0x40);
    assert_memory_equal(z + zn - 4, end, 4);
    free(in);
    free(z);
}

static void test_lz4frame_rejects(void **state)
{
    uint8_t *in = make_input(5000, FILL_TEXT), out[6000], z[6000];
    ssize_t zn = lz4frame_compress(in, 5000, z, sizeof(z));
    size_t cut;

    (void)state;
    assert_true(zn > 0);
    for (cut = 0; cut < (size_t)zn; cut++)
        assert_int_equal(lz4frame_decompress(z, cut, out, sizeof(out)),
                         CHUTE_ERR_PROTOCOL);
    assert_int_equal(lz4frame_decompress(z, (size_t)zn, out, 4999),
                     CHUTE_ERR_TOO_LARGE);
    z[zn] = 0; /* a stray byte after the frame */
    assert_int_equal(lz4frame_decompress(z, (size_t)zn + 1, out, 6000),
                     CHUTE_ERR_PROTOCOL);
    z[0] ^= 1; /* bad magic */
    assert_int_equal(lz4frame_decompress(z, (size_t)zn, out, 6000),
                     CHUTE_ERR_PROTOCOL);
    assert_int_equal(lz4frame_compress(in, 5000, z, 10), CHUTE_ERR_TOO_LARGE);
    free(in);
}

static void *compress_in_thread(void *arg)
{
    (void)arg;
    roundtrip(300000, FILL_TEXT);
    return NULL;
}

/* Each thread gets its own context (and frees it on exit: ASan run). */
static void test_lz4frame_threads(void **state)
{
    pthread_t t[4];
    int i;

    (void)state;
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, compress_in_thread, NULL),
                         0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lz4frame_roundtrips),
        cmocka_unit_test(test_lz4frame_compresses),
        cmocka_unit_test(test_lz4frame_descriptor),
        cmocka_unit_test(test_lz4frame_rejects),
        cmocka_unit_test(test_lz4frame_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
