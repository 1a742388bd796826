/*
 * test_varint.c: unit tests of proto/varint.c against Kafka's examples.
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

#include "proto/varint.h"
#include "tests/hex.h"

static const struct {
    int64_t v;
    const char *hex;
} zigzag[] = {
    {0, "00"},
    {-1, "01"},
    {1, "02"},
    {-2, "03"},
    {63, "7e"},
    {-64, "7f"},
    {64, "8001"},
    {300, "d804"},
    {INT32_MAX, "feffffff0f"},
    {INT32_MIN, "ffffffff0f"},
};

static const struct {
    int64_t v;
    const char *hex;
} zigzag64[] = {
    {1700000000000LL, "80a0abfef962"},
    {INT64_MAX, "feffffffffffffffff01"},
    {INT64_MIN, "ffffffffffffffffff01"},
    {-1, "01"},
};

static const struct {
    uint32_t v;
    const char *hex;
} unsigned_vec[] = {
    {0, "00"},     {1, "01"},     {127, "7f"},
    {128, "8001"}, {300, "ac02"}, {UINT32_MAX, "ffffffff0f"},
};

static void check_bytes(const uint8_t *got, size_t n, const char *hex)
{
    uint8_t want[16];
    long wn = hex_decode(hex, want, sizeof(want));

    assert_int_equal(n, wn);
    assert_memory_equal(got, want, n);
}

static void test_varint_vectors(void **state)
{
    uint8_t buf[VARINT_MAX64];
    int32_t back;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(zigzag) / sizeof(zigzag[0]); i++) {
        n = varint_encode(buf, (int32_t)zigzag[i].v);
        check_bytes(buf, n, zigzag[i].hex);
        assert_int_equal(varint_size((int32_t)zigzag[i].v), n);
        assert_int_equal(varint_decode(buf, n, &back), (int)n);
        assert_int_equal(back, zigzag[i].v);
    }
}

static void test_varlong_vectors(void **state)
{
    uint8_t buf[VARINT_MAX64];
    int64_t back;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(zigzag64) / sizeof(zigzag64[0]); i++) {
        n = varlong_encode(buf, zigzag64[i].v);
        check_bytes(buf, n, zigzag64[i].hex);
        assert_int_equal(varlong_size(zigzag64[i].v), n);
        assert_int_equal(varlong_decode(buf, n, &back), (int)n);
        assert_true(back == zigzag64[i].v);
    }
}

static void test_uvarint_vectors(void **state)
{
    uint8_t buf[VARINT_MAX32];
    uint32_t back;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(unsigned_vec) / sizeof(unsigned_vec[0]); i++) {
        n = uvarint_encode(buf, unsigned_vec[i].v);
        check_bytes(buf, n, unsigned_vec[i].hex);
        assert_int_equal(uvarint_size(unsigned_vec[i].v), n);
        assert_int_equal(uvarint_decode(buf, n, &back), (int)n);
        assert_int_equal(back, unsigned_vec[i].v);
    }
}

/* Inputs every 32-bit decoder must reject: truncated or overlong. */
static const char *bad32[] = {
    "",             /* empty */
    "80",           /* ends inside the number */
    "ffffffff",     /* ends inside the number */
    "ffffffff10",   /* fifth byte carries bits above 31 */
    "808080808000", /* six bytes: overlong */
};

static void test_varint_rejects(void **state)
{
    uint8_t buf[16];
    int32_t v;
    uint32_t u;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad32) / sizeof(bad32[0]); i++) {
        long n = hex_decode(bad32[i], buf, sizeof(buf));

        assert_true(n >= 0);
        assert_int_equal(varint_decode(buf, (size_t)n, &v), -1);
        assert_int_equal(uvarint_decode(buf, (size_t)n, &u), -1);
    }
}

static void test_varlong_rejects(void **state)
{
    uint8_t buf[16];
    int64_t v;

    (void)state;
    memset(buf, 0x80, sizeof(buf));
    assert_int_equal(varlong_decode(buf, 10, &v), -1); /* truncated */
    buf[10] = 0;
    assert_int_equal(varlong_decode(buf, 11, &v), -1); /* 11 bytes */
    buf[9] = 0x02; /* 10th byte with a bit above 63 */
    assert_int_equal(varlong_decode(buf, 10, &v), -1);
    buf[9] = 0x01;
    assert_int_equal(varlong_decode(buf, 10, &v), 10);
}

static void test_varint_roundtrip_range(void **state)
{
    uint8_t buf[VARINT_MAX64];
    int64_t x, back;

    (void)state;
    for (x = -70000; x <= 70000; x += 7) {
        size_t n = varlong_encode(buf, x * 131071);

        assert_int_equal(varlong_decode(buf, n, &back), (int)n);
        assert_true(back == x * 131071);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_vectors),
        cmocka_unit_test(test_varlong_vectors),
        cmocka_unit_test(test_uvarint_vectors),
        cmocka_unit_test(test_varint_rejects),
        cmocka_unit_test(test_varlong_rejects),
        cmocka_unit_test(test_varint_roundtrip_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
