/*
 * test_crc32c.c: unit tests of proto/crc32c.c; the hardware and the table
 * implementations are checked against known values and against each other.
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

#include "proto/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
    const char *in;
    uint32_t crc;
} vectors[] = {
    {"", 0x00000000u},
    {"a", 0xC1D04330u},
    {"123456789", 0xE3069283u},
    {"The quick brown fox jumps over the lazy dog", 0x22620404u},
};

static void check_vectors(crc_fn fn)
{
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        assert_int_equal(fn(0, vectors[i].in, strlen(vectors[i].in)),
                         vectors[i].crc);
}

static void test_crc32c_vectors(void **state)
{
    (void)state;
    check_vectors(crc32c);
    check_vectors(crc32c_sw);
    if (crc32c_hw_available())
        check_vectors(crc32c_hw);
    else
        print_message("no SSE4.2: hardware path not tested\n");
}

/* 32 zero bytes and 32 0xff bytes: the iSCSI test patterns (RFC 3720). */
static void test_crc32c_rfc3720(void **state)
{
    uint8_t buf[32];

    (void)state;
    memset(buf, 0, sizeof(buf));
    assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(crc32c(0, buf, sizeof(buf)), 0x62A8AB43u);
}

static void test_crc32c_chains(void **state)
{
    const char *s = "123456789";
    size_t cut;

    (void)state;
    for (cut = 0; cut <= 9; cut++) {
        assert_int_equal(crc32c(crc32c(0, s, cut), s + cut, 9 - cut),
                         0xE3069283u);
        assert_int_equal(crc32c_sw(crc32c_sw(0, s, cut), s + cut, 9 - cut),
                         0xE3069283u);
    }
}

/* Every length and alignment up to 64 bytes, then a large buffer: the
 * two implementations must agree. */
static void test_crc32c_hw_matches_sw(void **state)
{
    size_t big = 1 << 20, off, len;
    uint8_t *buf = malloc(big);

    (void)state;
    assert_non_null(buf);
    srand(7);
    for (off = 0; off < big; off++)
        buf[off] = (uint8_t)rand();
    if (!crc32c_hw_available()) {
        free(buf);
        skip();
    }
    for (off = 0; off < 16; off++)
        for (len = 0; len <= 64; len++)
            assert_int_equal(crc32c_hw(0x1234, buf + off, len),
                             crc32c_sw(0x1234, buf + off, len));
    assert_int_equal(crc32c_hw(0, buf + 3, big - 3),
                     crc32c_sw(0, buf + 3, big - 3));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_crc32c_rfc3720),
        cmocka_unit_test(test_crc32c_chains),
        cmocka_unit_test(test_crc32c_hw_matches_sw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
