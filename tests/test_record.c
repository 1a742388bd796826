/*
 * test_record.c: unit tests of proto/record.c: tail encoding vectors,
 * whole-record encoding, checking of corrupt tails and parsing.
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

#include "proto/record.h"
#include "tests/hex.h"

static const struct record_header two_headers[] = {
    {"h", 1, "x", 1},
    {"n", 1, NULL, -1},
};

static const struct {
    const char *name;
    const char *key;
    int32_t key_len;
    const char *value;
    int32_t value_len;
    const struct record_header *h;
    size_t n;
    const char *hex;
} tails[] = {
    {"key k value v (§5)", "k", 1, "v", 1, NULL, 0, "02 6b 02 76 00"},
    {"null key and value", NULL, 0, NULL, 0, NULL, 0, "01 01 00"},
    {"negative length is null", "k", -1, "v", -1, NULL, 0, "01 01 00"},
    {"empty key and value", "", 0, "", 0, NULL, 0, "00 00 00"},
    {"two headers", NULL, 0, "v", 1, two_headers, 2,
     "01 02 76 04 02 68 02 78 02 6e 01"},
};

#define NTAILS (sizeof(tails) / sizeof(tails[0]))

static size_t write_tail(size_t i, uint8_t *buf)
{
    size_t size =
        record_tail_size(tails[i].key, tails[i].key_len, tails[i].value,
                         tails[i].value_len, tails[i].h, tails[i].n);
    size_t n =
        record_tail_write(buf, tails[i].key, tails[i].key_len, tails[i].value,
                          tails[i].value_len, tails[i].h, tails[i].n);

    assert_int_equal(size, n);
    return n;
}

static void test_record_tail_vectors(void **state)
{
    uint8_t buf[64], want[64];
    size_t i;

    (void)state;
    for (i = 0; i < NTAILS; i++) {
        size_t n = write_tail(i, buf);
        long wn = hex_decode(tails[i].hex, want, sizeof(want));

        print_message("tail: %s\n", tails[i].name);
        assert_int_equal(n, wn);
        assert_memory_equal(buf, want, n);
    }
}

static void test_record_tail_check_accepts(void **state)
{
    struct record_tail_info info;
    uint8_t buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < NTAILS; i++) {
        size_t n = write_tail(i, buf);

        assert_int_equal(record_tail_check(buf, n, &info), 0);
        assert_int_equal(info.header_count, tails[i].n);
    }
    write_tail(0, buf);
    assert_int_equal(record_tail_check(buf, 5, &info), 0);
    assert_int_equal(info.key_len, 1);
    assert_int_equal(info.key[0], 'k');
    assert_int_equal(info.value_len, 1);
    assert_int_equal(info.value[0], 'v');
}

/* Every proper prefix of a valid tail is invalid, and so is any tail
 * followed by a stray byte.  Each prefix is copied to its own allocation so
 * that ASan catches a read past it. */
static void test_record_tail_check_truncated(void **state)
{
    struct record_tail_info info;
    uint8_t buf[64];
    size_t i, cut;

    (void)state;
    for (i = 0; i < NTAILS; i++) {
        size_t n = write_tail(i, buf);

        for (cut = 0; cut < n; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);

            memcpy(copy, buf, cut);
            assert_int_equal(record_tail_check(copy, cut, &info), -1);
            free(copy);
        }
        buf[n] = 0;
        assert_int_equal(record_tail_check(buf, n + 1, &info), -1);
    }
}

static const struct {
    const char *why;
    const char *hex;
} bad_tails[] = {
    {"key length -2", "03 01 00"},
    {"value length -2", "01 03 00"},
    {"negative header count", "01 01 01"},
    {"null header key", "01 01 02 01 01"},
    {"header key length -2", "01 01 02 03 01"},
    {"header value length -2", "01 01 02 00 03"},
    {"key longer than the tail", "7e 00 00"},
    {"huge key length", "feffffff0f 01 00"},
    {"overlong key varint", "808080808000 01 01 00"},
    {"header count above the headers", "01 01 04 00 01"},
};

static void test_record_tail_check_rejects(void **state)
{
    struct record_tail_info info;
    uint8_t buf[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_tails) / sizeof(bad_tails[0]); i++) {
        long n = hex_decode(bad_tails[i].hex, buf, sizeof(buf));

        print_message("bad tail: %s\n", bad_tails[i].why);
        assert_true(n > 0);
        assert_int_equal(record_tail_check(buf, (size_t)n, &info), -1);
    }
}

/* Random bytes: must never read out of bounds (ASan run) and accept only
 * what re-encodes to the same bytes. */
static void test_record_tail_check_random(void **state)
{
    struct record_tail_info info;
    uint8_t *buf;
    size_t round, len, j;

    (void)state;
    srand(11);
    for (round = 0; round < 20000; round++) {
        len = (size_t)rand() % 12;
        buf = malloc(len ? len : 1);
        for (j = 0; j < len; j++)
            buf[j] = (uint8_t)(rand() % 8 == 0 ? rand() : rand() % 6);
        if (record_tail_check(buf, len, &info) == 0)
            assert_true(info.header_count >= 0 && info.key_len >= -1 &&
                        info.value_len >= -1);
        free(buf);
    }
}

static void test_record_write_vector(void **state)
{
    uint8_t tail[16], rec[32], want[32];
    size_t tn = write_tail(0, tail);
    long wn = hex_decode("10 00 00 00 02 6b 02 76 00", want, sizeof(want));

    (void)state;
    assert_int_equal(record_size(0, 0, tn), wn);
    assert_int_equal(record_write(rec, 0, 0, tail, tn), wn);
    assert_memory_equal(rec, want, (size_t)wn);
}

static void test_record_parse_roundtrip(void **state)
{
    uint8_t tail[64], rec[256];
    size_t tn = write_tail(4, tail), off = 0;
    struct record_view v;
    struct kreader r;

    (void)state;
    off += record_write(rec, 0, 0, tail, tn);
    off += record_write(rec + off, -5000, 1, tail, tn);
    assert_int_equal(off, record_size(0, 0, tn) + record_size(-5000, 1, tn));
    kr_init(&r, rec, off);
    assert_int_equal(record_parse(&r, &v), 0);
    assert_int_equal(record_parse(&r, &v), 0);
    assert_true(v.ts_delta == -5000);
    assert_int_equal(v.offset_delta, 1);
    assert_null(v.tail.key);
    assert_int_equal(v.tail.value_len, 1);
    assert_int_equal(v.tail.header_count, 2);
    assert_int_equal(v.headers[0].key_len, 1);
    assert_memory_equal(v.headers[0].key, "h", 1);
    assert_memory_equal(v.headers[0].value, "x", 1);
    assert_null(v.headers[1].value);
    assert_int_equal(v.headers[1].value_len, -1);
    assert_int_equal(kr_left(&r), 0);
    assert_int_equal(record_parse(&r, &v), -1);
    assert_int_equal(r.err, 1);
}

/* More headers than the view holds: the count is exact, the rest skipped. */
static void test_record_parse_many_headers(void **state)
{
    struct record_header h[RECORD_VIEW_MAX_HEADERS + 4];
    uint8_t tail[256], rec[300];
    struct record_view v;
    struct kreader r;
    size_t i, tn, rn;

    (void)state;
    for (i = 0; i < RECORD_VIEW_MAX_HEADERS + 4; i++)
        h[i] = (struct record_header){"key", 3, "val", 3};
    tn = record_tail_write(tail, "k", 1, "v", 1, h, i);
    rn = record_write(rec, 7, 3, tail, tn);
    kr_init(&r, rec, rn);
    assert_int_equal(record_parse(&r, &v), 0);
    assert_int_equal(v.tail.header_count, RECORD_VIEW_MAX_HEADERS + 4);
    assert_memory_equal(v.headers[RECORD_VIEW_MAX_HEADERS - 1].value, "val", 3);
}

static void test_record_parse_truncated(void **state)
{
    uint8_t tail[64], rec[64];
    size_t tn = write_tail(4, tail), rn = record_write(rec, 9, 2, tail, tn);
    struct record_view v;
    struct kreader r;
    size_t cut;

    (void)state;
    for (cut = 0; cut < rn; cut++) {
        kr_init(&r, rec, cut);
        assert_int_equal(record_parse(&r, &v), -1);
    }
    rec[0] += 2; /* length one byte longer than the body it covers */
    rec[rn] = 0;
    kr_init(&r, rec, rn + 1);
    assert_int_equal(record_parse(&r, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_tail_vectors),
        cmocka_unit_test(test_record_tail_check_accepts),
        cmocka_unit_test(test_record_tail_check_truncated),
        cmocka_unit_test(test_record_tail_check_rejects),
        cmocka_unit_test(test_record_tail_check_random),
        cmocka_unit_test(test_record_write_vector),
        cmocka_unit_test(test_record_parse_roundtrip),
        cmocka_unit_test(test_record_parse_many_headers),
        cmocka_unit_test(test_record_parse_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
