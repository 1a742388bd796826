/*
 * scram.c: SCRAM-SHA-256 and SCRAM-SHA-512 client messages (RFC 5802,
 * RFC 7677) with OpenSSL's PBKDF2, HMAC and digests.
 */
#include "broker/scram.h"

#include "common/err.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const EVP_MD *scram_md(int bits)
{
    return bits == 512 ? EVP_sha512() : EVP_sha256();
}

static size_t scram_len(int bits)
{
    return bits == 512 ? 64 : 32;
}

/* The user name as a saslname: ',' and '=' escaped (RFC 5802 5.1). */
static char *saslname(const char *user)
{
    char *out = malloc(strlen(user) * 3 + 1), *o = out;

    if (!out)
        return NULL;
    for (const char *p = user; *p; p++) {
        if (*p == ',' || *p == '=') {
            memcpy(o, *p == ',' ? "=2C" : "=3D", 3);
            o += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
    return out;
}

static char *b64(const uint8_t *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);

    if (out)
        EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

/* Base64 text of len bytes to at most cap bytes: the length, or -1. */
static int unb64(const char *s, size_t len, uint8_t *out, size_t cap)
{
    int pad = 0, n;

    if (len == 0 || len % 4 || len / 4 * 3 > cap)
        return -1;
    pad = (s[len - 1] == '=') + (s[len - 2] == '=');
    n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
    return n < 0 ? -1 : n - pad;
}

int scram_first(struct scram *s, int bits, const char *user, const char *cnonce,
                char **out)
{
    uint8_t raw[18];
    char *name;

    memset(s, 0, sizeof(*s));
    s->bits = bits;
    if (cnonce) {
        snprintf(s->cnonce, sizeof(s->cnonce), "%s", cnonce);
    } else {
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            return err_set(CHUTE_ERR_SYSTEM, "no random bytes for a nonce");
        EVP_EncodeBlock((unsigned char *)s->cnonce, raw, sizeof(raw));
    }
    name = saslname(user);
    if (!name || asprintf(&s->first_bare, "n=%s,r=%s", name, s->cnonce) < 0) {
        free(name);
        s->first_bare = NULL;
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    }
    free(name);
    if (asprintf(out, "n,,%s", s->first_bare) < 0)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    return 0;
}

/* The value of attribute `key` ("r", "s", "i") in a server message. */
static int attr(const char *msg, size_t len, char key, const char **v,
                size_t *vlen)
{
    const char *p = msg, *end = msg + len;

    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (stop - p >= 2 && p[0] == key && p[1] == '=') {
            *v = p + 2;
            *vlen = (size_t)(stop - p - 2);
            return 0;
        }
        p = stop + 1;
    }
    return -1;
}

static int server_error(const char *msg, size_t len, const char *which)
{
    const char *v;
    size_t n;

    if (attr(msg, len, 'e', &v, &n) == 0)
        return err_set(CHUTE_ERR_PROTOCOL, "SCRAM: the broker says \"%.*s\"",
                       (int)n, v);
    return err_set(CHUTE_ERR_PROTOCOL, "SCRAM: %s", which);
}

static void hmac(int bits, const uint8_t *key, size_t klen, const void *msg,
                 size_t mlen, uint8_t *out)
{
    unsigned int n = 0;

    HMAC(scram_md(bits), key, (int)klen, msg, mlen, out, &n);
}

/* ClientProof and ServerSignature from the password and AuthMessage. */
static int prove(struct scram *s, const char *password, const uint8_t *salt,
                 int salt_len, int iter, const char *auth, uint8_t *proof)
{
    size_t n = scram_len(s->bits);
    uint8_t salted[SCRAM_SIG_MAX], ckey[SCRAM_SIG_MAX], stored[SCRAM_SIG_MAX];
    uint8_t csig[SCRAM_SIG_MAX], skey[SCRAM_SIG_MAX];

    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iter,
                          scram_md(s->bits), (int)n, salted) != 1)
        return err_set(CHUTE_ERR_SYSTEM, "SCRAM: PBKDF2 failed");
    hmac(s->bits, salted, n, "Client Key", 10, ckey);
    EVP_Digest(ckey, n, stored, NULL, scram_md(s->bits), NULL);
    hmac(s->bits, stored, n, auth, strlen(auth), csig);
    for (size_t i = 0; i < n; i++)
        proof[i] = ckey[i] ^ csig[i];
    hmac(s->bits, salted, n, "Server Key", 10, skey);
    hmac(s->bits, skey, n, auth, strlen(auth), s->server_sig);
    s->sig_len = n;
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(ckey, sizeof(ckey));
    return 0;
}

int scram_final(struct scram *s, const char *password, const char *msg,
                size_t len, char **out)
{
    const char *r, *salt64, *it;
    size_t rlen, slen, ilen;
    uint8_t salt[256], proof[SCRAM_SIG_MAX];
    char num[16], *auth = NULL, *p64;
    int salt_len, iter;

    if (attr(msg, len, 'r', &r, &rlen) < 0 ||
        attr(msg, len, 's', &salt64, &slen) < 0 ||
        attr(msg, len, 'i', &it, &ilen) < 0)
        return server_error(msg, len,
                            "the broker's first message lacks "
                            "r=, s= or i=");
    if (rlen <= strlen(s->cnonce) ||
        memcmp(r, s->cnonce, strlen(s->cnonce)) != 0)
        return err_set(CHUTE_ERR_PROTOCOL, "SCRAM: the broker's nonce does "
                                           "not extend ours");
    salt_len = unb64(salt64, slen, salt, sizeof(salt));
    snprintf(num, sizeof(num), "%.*s", (int)(ilen < 15 ? ilen : 15), it);
    iter = atoi(num);
    if (salt_len <= 0 || iter < 1 || iter > SCRAM_ITERATIONS_MAX)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "SCRAM: bad salt or iteration "
                       "count (%s) from the broker",
                       num);
    if (asprintf(&auth, "%s,%.*s,c=biws,r=%.*s", s->first_bare, (int)len, msg,
                 (int)rlen, r) < 0)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    int rc = prove(s, password, salt, salt_len, iter, auth, proof);
    free(auth);
    if (rc < 0)
        return rc;
    p64 = b64(proof, scram_len(s->bits));
    if (!p64 || asprintf(out, "c=biws,r=%.*s,p=%s", (int)rlen, r, p64) < 0)
        rc = err_set(CHUTE_ERR_SYSTEM, "out of memory");
    free(p64);
    return rc;
}

int scram_check(struct scram *s, const char *msg, size_t len)
{
    const char *v;
    size_t vlen;
    uint8_t sig[SCRAM_SIG_MAX + 3];

    if (attr(msg, len, 'v', &v, &vlen) < 0)
        return server_error(msg, len, "the broker's final message lacks v=");
    if (!s->sig_len || unb64(v, vlen, sig, sizeof(sig)) != (int)s->sig_len ||
        CRYPTO_memcmp(sig, s->server_sig, s->sig_len) != 0)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "SCRAM: the broker's signature is "
                       "wrong (it does not know the password)");
    return 0;
}

void scram_release(struct scram *s)
{
    free(s->first_bare);
    s->first_bare = NULL;
    OPENSSL_cleanse(s->server_sig, sizeof(s->server_sig));
}
