/*
 * test_kbuf.c: unit tests of proto/kbuf.c, the writer and the reader.
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

#include "proto/kbuf.h"
#include "tests/hex.h"

static void assert_buf_hex(const struct kbuf *b, const char *hex)
{
    uint8_t want[256];
    long n = hex_decode(hex, want, sizeof(want));

    assert_int_equal(b->oom, 0);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, b->len);
}

static void test_kbuf_fixed_width(void **state)
{
    struct kbuf b;

    (void)state;
    kbuf_init(&b);
    kbuf_i8(&b, -2);
    kbuf_i16(&b, 0x1234);
    kbuf_i32(&b, -1);
    kbuf_i64(&b, 1700000000000LL);
    kbuf_u32(&b, 0xe99b8dd8u);
    assert_buf_hex(&b, "fe 1234 ffffffff 0000018bcfe56800 e99b8dd8");
    kbuf_patch_i32(&b, 3, 0x0a0b0c0d);
    assert_buf_hex(&b, "fe 1234 0a0b0c0d 0000018bcfe56800 e99b8dd8");
    kbuf_reset(&b);
    assert_int_equal(b.len, 0);
    kbuf_release(&b);
    assert_null(b.data);
}

static void test_kbuf_strings_and_varints(void **state)
{
    struct kbuf b;

    (void)state;
    kbuf_init(&b);
    kbuf_str(&b, "test");
    kbuf_str(&b, NULL);
    kbuf_strn(&b, "t1xx", 2);
    kbuf_bytes(&b, "v", 1);
    kbuf_bytes(&b, NULL, 0);
    kbuf_uvarint(&b, 300);
    kbuf_varint(&b, 300);
    kbuf_varlong(&b, -1);
    assert_buf_hex(&b, "0004 74657374 ffff 0002 7431 00000001 76 ffffffff"
                       "ac02 d804 01");
    kbuf_release(&b);
}

static void test_kbuf_grows(void **state)
{
    struct kbuf b;
    int i;

    (void)state;
    kbuf_init(&b);
    for (i = 0; i < 100000; i++)
        kbuf_i32(&b, i);
    assert_int_equal(b.oom, 0);
    assert_int_equal(b.len, 400000);
    assert_true(b.cap >= b.len);
    assert_int_equal(b.data[4 * 99999 + 3], 99999 & 0xff);
    kbuf_release(&b);
}

static void test_kbuf_oom_is_sticky(void **state)
{
    struct kbuf b;

    (void)state;
    kbuf_init(&b);
    kbuf_i32(&b, 1);
    assert_true(kbuf_reserve(&b, SIZE_MAX - 2) < 0);
    assert_int_equal(b.oom, 1);
    kbuf_i32(&b, 2);
    assert_int_equal(b.len, 4);
    kbuf_reset(&b);
    assert_int_equal(b.oom, 0);
    kbuf_release(&b);
}

static void test_kr_reads(void **state)
{
    uint8_t in[64];
    long n = hex_decode("fe 1234 ffffffff 0000018bcfe56800 0004 74657374 ffff"
                        "00000001 76 ffffffff d804 01 ac02",
                        in, sizeof(in));
    struct kreader r;
    const char *s;
    const uint8_t *p;
    size_t sl;
    int32_t pl;

    (void)state;
    kr_init(&r, in, (size_t)n);
    assert_int_equal(kr_i8(&r), -2);
    assert_int_equal(kr_i16(&r), 0x1234);
    assert_int_equal(kr_i32(&r), -1);
    assert_true(kr_i64(&r) == 1700000000000LL);
    assert_int_equal(kr_str(&r, &s, &sl), 0);
    assert_int_equal(sl, 4);
    assert_memory_equal(s, "test", 4);
    assert_int_equal(kr_str(&r, &s, &sl), -1);
    assert_null(s);
    assert_int_equal(kr_bytes(&r, &p, &pl), 0);
    assert_int_equal(pl, 1);
    assert_int_equal(p[0], 'v');
    assert_int_equal(kr_bytes(&r, &p, &pl), -1);
    assert_int_equal(pl, -1);
    assert_int_equal(kr_varint(&r), 300);
    assert_true(kr_varlong(&r) == -1);
    assert_int_equal(kr_uvarint(&r), 300);
    assert_int_equal(kr_left(&r), 0);
    assert_int_equal(r.err, 0);
}

static void test_kr_out_of_bounds_is_sticky(void **state)
{
    const uint8_t in[] = {0x00, 0x01, 0x02};
    struct kreader r;

    (void)state;
    kr_init(&r, in, sizeof(in));
    assert_int_equal(kr_i32(&r), 0);
    assert_int_equal(r.err, 1);
    assert_int_equal(kr_i8(&r), 0); /* would fit, but err is sticky */
    assert_int_equal(kr_left(&r), 0);
}

/* Each input must fail the read named by `what`. */
static const struct {
    const char *hex;
    int what; /* 0 str, 1 bytes, 2 array, 3 varint, 4 skip 3 */
} bad_reads[] = {
    {"0005 61626364", 0}, /* string longer than the buffer */
    {"fffe", 0},          /* length -2 */
    {"00000002 61", 1},   /* bytes longer than the buffer */
    {"fffffffe", 1},      /* length -2 */
    {"00000003 0000", 2}, /* count above the bytes left */
    {"fffffffe", 2},      /* count -2 */
    {"80", 3},            /* truncated varint */
    {"0102", 4},          /* skip past the end */
};

static void test_kr_rejects(void **state)
{
    uint8_t in[16];
    const char *s;
    const uint8_t *p;
    size_t sl;
    int32_t pl;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_reads) / sizeof(bad_reads[0]); i++) {
        long n = hex_decode(bad_reads[i].hex, in, sizeof(in));
        struct kreader r;

        kr_init(&r, in, (size_t)n);
        switch (bad_reads[i].what) {
        case 0:
            assert_int_equal(kr_str(&r, &s, &sl), -1);
            break;
        case 1:
            assert_int_equal(kr_bytes(&r, &p, &pl), -1);
            break;
        case 2:
            assert_int_equal(kr_array_len(&r), 0);
            break;
        case 3:
            assert_int_equal(kr_varint(&r), 0);
            break;
        default:
            kr_skip(&r, 3);
            break;
        }
        assert_int_equal(r.err, 1);
    }
}

static void test_kr_array_null_and_count(void **state)
{
    uint8_t in[16];
    long n = hex_decode("ffffffff 00000002 0000", in, sizeof(in));
    struct kreader r;

    (void)state;
    kr_init(&r, in, (size_t)n);
    assert_int_equal(kr_array_len(&r), -1);
    assert_int_equal(kr_array_len(&r), 2);
    assert_int_equal(r.err, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kbuf_fixed_width),
        cmocka_unit_test(test_kbuf_strings_and_varints),
        cmocka_unit_test(test_kbuf_grows),
        cmocka_unit_test(test_kbuf_oom_is_sticky),
        cmocka_unit_test(test_kr_reads),
        cmocka_unit_test(test_kr_out_of_bounds_is_sticky),
        cmocka_unit_test(test_kr_rejects),
        cmocka_unit_test(test_kr_array_null_and_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
