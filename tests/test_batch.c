/*
 * test_batch.c: unit tests of proto/batch.c with the verified §5 vector.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <string.h>

#include "proto/batch.h"
#include "proto/record.h"
#include "chute/chute.h"
#include "tests/hex.h"

/* Key "k", value "v", ts 1700000000000, not idempotent, uncompressed. */
static const char vector_hex[] =
    "0000000000000000 0000003a ffffffff 02 e99b8dd8 0000 00000000"
    "0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001"
    "10 00 00 00 02 6b 02 76 00";

static const struct batch_meta vector_meta = {
    .attributes = BATCH_CODEC_NONE,
    .last_offset_delta = 0,
    .base_timestamp = 1700000000000LL,
    .max_timestamp = 1700000000000LL,
    .producer_id = -1,
    .producer_epoch = -1,
    .base_sequence = -1,
    .record_count = 1,
};

static size_t build_vector(uint8_t *batch)
{
    uint8_t tail[16];
    size_t tn = record_tail_write(tail, "k", 1, "v", 1, NULL, 0);
    size_t total = BATCH_HEADER_SIZE +
                   record_write(batch + BATCH_HEADER_SIZE, 0, 0, tail, tn);

    batch_write_header(batch, total, &vector_meta);
    return total;
}

static void test_batch_vector_bytes(void **state)
{
    uint8_t batch[128], want[128];
    long wn = hex_decode(vector_hex, want, sizeof(want));

    (void)state;
    memset(batch, 0xaa, sizeof(batch));
    assert_int_equal(wn, 70);
    assert_int_equal(build_vector(batch), 70);
    assert_memory_equal(batch, want, 70);
}

static void test_batch_parse_roundtrip(void **state)
{
    uint8_t batch[128];
    size_t total = build_vector(batch), got_total = 0;
    struct batch_meta m;

    (void)state;
    assert_int_equal(batch_parse_header(batch, total, &m, &got_total), 0);
    assert_int_equal(got_total, total);
    assert_int_equal(m.attributes, vector_meta.attributes);
    assert_int_equal(m.last_offset_delta, vector_meta.last_offset_delta);
    assert_true(m.base_timestamp == vector_meta.base_timestamp);
    assert_true(m.max_timestamp == vector_meta.max_timestamp);
    assert_true(m.producer_id == vector_meta.producer_id);
    assert_int_equal(m.producer_epoch, vector_meta.producer_epoch);
    assert_int_equal(m.base_sequence, vector_meta.base_sequence);
    assert_int_equal(m.record_count, vector_meta.record_count);
    assert_int_equal(batch_check_crc(batch, total), 0);
}

static void test_batch_crc_detects_corruption(void **state)
{
    uint8_t batch[128];
    size_t total = build_vector(batch), i;

    (void)state;
    for (i = BATCH_CRC_START; i < total; i++) {
        batch[i] ^= 0x01;
        assert_int_equal(batch_check_crc(batch, total), CHUTE_ERR_PROTOCOL);
        batch[i] ^= 0x01;
    }
    /* bytes before 21 are not covered */
    batch[0] ^= 0xff;
    assert_int_equal(batch_check_crc(batch, total), 0);
}

static void test_batch_parse_rejects(void **state)
{
    uint8_t batch[128];
    size_t total = build_vector(batch), t, out;
    struct batch_meta m;

    (void)state;
    for (t = 0; t < total; t++) /* shorter than the batch says */
        assert_int_equal(batch_parse_header(batch, t, &m, &out),
                         CHUTE_ERR_PROTOCOL);
    batch[16] = 1;
    assert_int_equal(batch_parse_header(batch, total, &m, &out),
                     CHUTE_ERR_PROTOCOL);
    batch[16] = 2;
    batch[11] = 48; /* batchLength 48 < 49: shorter than the header */
    assert_int_equal(batch_parse_header(batch, total, &m, &out),
                     CHUTE_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_vector_bytes),
        cmocka_unit_test(test_batch_parse_roundtrip),
        cmocka_unit_test(test_batch_crc_detects_corruption),
        cmocka_unit_test(test_batch_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
