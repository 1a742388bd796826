/*
 * test_bootstrap.c: unit tests of broker/bootstrap.c, one table of lists
 * and what they parse to.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <string.h>

#include "broker/bootstrap.h"
#include "common/err.h"

static const struct {
    const char *list;
    int rc;
    const char *parsed; /* "host port;host port;" */
} cases[] = {
    {"localhost:9092", 0, "localhost 9092;"},
    {"a:1,b:2", 0, "a 1;b 2;"},
    {" a:1 , b:65535 ", 0, "a 1;b 65535;"},
    {"a:1,,b:2,", 0, "a 1;b 2;"},
    {"[::1]:9093", 0, "::1 9093;"},
    {"10.0.0.1:9092\tx.y:9", 0, "10.0.0.1 9092;x.y 9;"},
    {"", CHUTE_ERR_INVALID, NULL},
    {" , ", CHUTE_ERR_INVALID, NULL},
    {"localhost", CHUTE_ERR_INVALID, NULL},
    {"a:1,b", CHUTE_ERR_INVALID, NULL},
    {":9092", CHUTE_ERR_INVALID, NULL},
    {"a:", CHUTE_ERR_INVALID, NULL},
    {"a:0", CHUTE_ERR_INVALID, NULL},
    {"a:65536", CHUTE_ERR_INVALID, NULL},
    {"a:99999999999999999999", CHUTE_ERR_INVALID, NULL},
    {"a:12x", CHUTE_ERR_INVALID, NULL},
    {"[]:1", CHUTE_ERR_INVALID, NULL},
};

static void test_bootstrap_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bootstrap b;
        char got[1024] = "";
        int rc = bootstrap_parse(&b, cases[i].list);

        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].list, rc, cases[i].rc);
        if (rc < 0) {
            assert_non_null(strstr(chute_errmsg(), "bootstrap.servers"));
            continue;
        }
        for (int j = 0; j < b.count; j++) {
            size_t n = strlen(got);
            snprintf(got + n, sizeof(got) - n, "%s %d;", b.servers[j].host,
                     b.servers[j].port);
        }
        assert_string_equal(got, cases[i].parsed);
        bootstrap_release(&b);
    }
}

static void test_bootstrap_error_names_entry(void **state)
{
    struct bootstrap b;

    (void)state;
    assert_int_equal(bootstrap_parse(&b, "good:1,bad-one"), CHUTE_ERR_INVALID);
    assert_non_null(strstr(chute_errmsg(), "\"bad-one\""));
}

static void test_bootstrap_round_robin(void **state)
{
    struct bootstrap b;

    (void)state;
    assert_int_equal(bootstrap_parse(&b, "a:1,b:2,c:3"), 0);
    assert_string_equal(bootstrap_next(&b)->host, "a");
    assert_string_equal(bootstrap_next(&b)->host, "b");
    assert_string_equal(bootstrap_next(&b)->host, "c");
    assert_string_equal(bootstrap_next(&b)->host, "a");
    bootstrap_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_table),
        cmocka_unit_test(test_bootstrap_error_names_entry),
        cmocka_unit_test(test_bootstrap_round_robin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
