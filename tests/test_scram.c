/*
 * test_scram.c: broker/scram.c, the SCRAM client, against RFC 7677's
 * SCRAM-SHA-256 example and a SCRAM-SHA-512 exchange computed by Python's
 * hashlib and hmac (an implementation nobody here wrote), with what a
 * client must refuse: a nonce that does not extend ours, a server
 * signature that is wrong, an "e=" error, bad salts and iteration counts;
 * and the OAUTHBEARER token file reader of broker/sasl.c.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "broker/sasl.h"
#include "broker/scram.h"
#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

struct vector {
    int bits;
    const char *user, *password, *cnonce;
    const char *client_first, *server_first, *client_final, *server_final;
};

static const struct vector vectors[] = {
    /* RFC 7677, section 3. */
    {256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO",
     "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
     "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
     "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
     "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
    /* Python: hashlib.pbkdf2_hmac("sha512", ...), hmac.new(...). */
    {512, "alice", "alice-secret", "fyko+d2lbbFgONRv9qkxdawL",
     "n,,n=alice,r=fyko+d2lbbFgONRv9qkxdawL",
     "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
     "s=Y2h1dGUtdGVzdC1zYWx0IQ==,i=4096",
     "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
     "p=RvlVcPe0fjtbgDCaf1Sy8rALjRkHEAYjBs34QxlBca4iwSWE9IzaoISHMXDkY23QDAm"
     "lKB7XTuxIgIG8Zn2L7Q==",
     "v=Q+xZ/wWiQVmcwX5vsIsiwXmnf7T+s73Bzz6RFJb0yHrVcfBpdcxRKoVhZmvdX4wNtBV"
     "LxGN2sQ+CixXC1t2Xpg=="},
};

static void test_scram_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        struct scram s;
        char *first = NULL, *final = NULL;

        assert_int_equal(scram_first(&s, v->bits, v->user, v->cnonce, &first),
                         0);
        assert_string_equal(first, v->client_first);
        assert_int_equal(scram_final(&s, v->password, v->server_first,
                                     strlen(v->server_first), &final),
                         0);
        assert_string_equal(final, v->client_final);
        assert_int_equal(
            scram_check(&s, v->server_final, strlen(v->server_final)), 0);
        free(first);
        free(final);
        scram_release(&s);
    }
}

/* The server-final message of vector 0 with one character changed, an
 * error, or nothing: refused. */
static void test_scram_bad_server_final(void **state)
{
    const struct vector *v = &vectors[0];
    const char *bad[] = {"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
                         "e=invalid-proof", "", "v=AAAA"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scram s;
        char *first = NULL, *final = NULL;

        scram_first(&s, v->bits, v->user, v->cnonce, &first);
        assert_int_equal(scram_final(&s, v->password, v->server_first,
                                     strlen(v->server_first), &final),
                         0);
        assert_int_equal(scram_check(&s, bad[i], strlen(bad[i])),
                         CHUTE_ERR_PROTOCOL);
        if (i == 1)
            assert_non_null(strstr(chute_errmsg(), "invalid-proof"));
        free(first);
        free(final);
        scram_release(&s);
    }
}

static void test_scram_bad_server_first(void **state)
{
    const struct {
        const char *msg, *says;
    } bad[] = {
        {"r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"},
        {"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0", "iteration"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999",
         "iteration"},
        {"r=rOprNGfwEbeRWgbNEkqOx,s=!!!,i=4096", "salt"},
        {"r=rOprNGfwEbeRWgbNEkqOx,i=4096", "lacks"},
        {"e=unknown-user", "unknown-user"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scram s;
        char *first = NULL, *final = NULL;

        scram_first(&s, 256, "user", "rOprNGfwEbeRWgbNEkqO", &first);
        assert_int_equal(
            scram_final(&s, "pencil", bad[i].msg, strlen(bad[i].msg), &final),
            CHUTE_ERR_PROTOCOL);
        if (!strstr(chute_errmsg(), bad[i].says))
            fail_msg("\"%s\": \"%s\" does not say %s", bad[i].msg,
                     chute_errmsg(), bad[i].says);
        assert_null(final);
        free(first);
        scram_release(&s);
    }
}

/* RFC 5802 5.1: ',' and '=' in a user name are escaped; a random nonce
 * is printable and differs between calls. */
static void test_scram_names_and_nonces(void **state)
{
    struct scram a, b;
    char *fa = NULL, *fb = NULL;

    (void)state;
    assert_int_equal(scram_first(&a, 512, "a,b=c", NULL, &fa), 0);
    assert_int_equal(scram_first(&b, 512, "a,b=c", NULL, &fb), 0);
    assert_memory_equal(fa, "n,,n=a=2Cb=3Dc,r=", 17);
    assert_true(strlen(a.cnonce) >= 24);
    assert_null(strchr(a.cnonce, ','));
    assert_string_not_equal(a.cnonce, b.cnonce);
    free(fa);
    free(fb);
    scram_release(&a);
    scram_release(&b);
}

static void test_token_file(void **state)
{
    char path[] = "/tmp/test_scram_tokenXXXXXX";
    int fd = mkstemp(path);
    struct timespec mt;
    ino_t ino;
    char *tok;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "  abc.def.\n\n", 12), 12);
    close(fd);
    tok = sasl_token_read(path, &mt, &ino);
    assert_non_null(tok);
    assert_string_equal(tok, "abc.def.");
    free(tok);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, " \n", 2), 2);
    close(fd);
    assert_null(sasl_token_read(path, &mt, &ino));
    assert_non_null(strstr(chute_errmsg(), "is empty"));
    unlink(path);
    assert_null(sasl_token_read(path, &mt, &ino));
    assert_non_null(strstr(chute_errmsg(), path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scram_vectors),
        cmocka_unit_test(test_scram_bad_server_final),
        cmocka_unit_test(test_scram_bad_server_first),
        cmocka_unit_test(test_scram_names_and_nonces),
        cmocka_unit_test(test_token_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
