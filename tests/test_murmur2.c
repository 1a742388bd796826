/*
 * test_murmur2.c: unit tests of proto/murmur2.c with the vectors of the
 * protocol notes (§8), which match Java Kafka and librdkafka.
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

#include "proto/murmur2.h"

static const struct {
    const char *key;
    uint32_t hash;
} vectors[] = {
    {"kafka", 0xd067cf64u}, {"giberish123456789", 0x8f552b0cu},
    {"1234", 0x9fc97b14u},  {"234", 0xe7c009cau},
    {"34", 0x873930dau},    {"4", 0x5a4b5ca1u},
    {"", 0x106e08d9u},
};

static void test_murmur2_vectors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++)
        assert_int_equal(murmur2(vectors[i].key, strlen(vectors[i].key)),
                         vectors[i].hash);
}

static void test_murmur2_partition(void **state)
{
    (void)state;
    assert_int_equal(murmur2_partition("kafka", 5, 6), 4);
    /* 0x8f552b0c has the top bit set: it must be masked, not negated */
    assert_int_equal(murmur2_partition("giberish123456789", 17, 1000),
                     (int32_t)((0x8f552b0cu & 0x7fffffffu) % 1000));
    assert_int_equal(murmur2_partition("kafka", 5, 1), 0);
    assert_int_equal(murmur2_partition("kafka", 5, 0), -1);
}

/* Bytes >= 0x80 must be read unsigned (Java masks them with 0xff).  The
 * hashes come from a separate Python model of the §8 algorithm. */
static void test_murmur2_high_bytes(void **state)
{
    const uint8_t tail3[] = {0x80, 0xff, 0x01};
    const uint8_t word_tail1[] = {0xff, 0xfe, 0xfd, 0xfc, 0x80};

    (void)state;
    assert_int_equal(murmur2(tail3, 3), 0xd9aba19fu);
    assert_int_equal(murmur2(word_tail1, 5), 0xf14578f3u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_murmur2_vectors),
        cmocka_unit_test(test_murmur2_partition),
        cmocka_unit_test(test_murmur2_high_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
