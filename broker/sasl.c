/*
 * sasl.c: the SaslHandshake / SaslAuthenticate exchange and the four
 * mechanisms' messages.
 */
#include "broker/sasl.h"

#include "broker/conn.h"
#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const mechanism_names[] = {
    [SASL_PLAIN] = "PLAIN",
    [SASL_SCRAM_SHA_256] = "SCRAM-SHA-256",
    [SASL_SCRAM_SHA_512] = "SCRAM-SHA-512",
    [SASL_OAUTHBEARER] = "OAUTHBEARER",
};

const char *sasl_mechanism_name(int mechanism)
{
    if (mechanism < 0 || mechanism > SASL_OAUTHBEARER)
        return "?";
    return mechanism_names[mechanism];
}

static const struct sasl_config *cfg_of(const struct conn *c)
{
    return c->set.security->sasl;
}

/* "SASL SCRAM-SHA-512 as user \"alice\"": who we tried to be. */
static void who(const struct conn *c, char *buf, size_t size)
{
    const struct sasl_config *cfg = cfg_of(c);

    if (cfg->mechanism == SASL_OAUTHBEARER)
        snprintf(buf, size, "SASL OAUTHBEARER (token from \"%s\")",
                 cfg->token_file);
    else
        snprintf(buf, size, "SASL %s as user \"%s\"",
                 sasl_mechanism_name(cfg->mechanism), cfg->username);
}

/* "SASL SCRAM-SHA-512 as user \"alice\": DETAIL" ends the exchange. */
static void fail(struct conn *c, const char *detail)
{
    char why[768], w[320];

    who(c, w, sizeof(w));
    snprintf(why, sizeof(why), "%s: %s", w, detail);
    conn_sasl_failed(c, why);
}

char *sasl_token_read(const char *path, struct timespec *mtime, ino_t *ino)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    ssize_t n;

    if (fd < 0 || fstat(fd, &st) < 0) {
        err_sys("cannot read token file \"%s\"", path);
        goto out;
    }
    buf = malloc(SASL_TOKEN_MAX + 1);
    n = buf ? read(fd, buf, SASL_TOKEN_MAX + 1) : -1;
    if (n < 0 || n > SASL_TOKEN_MAX) {
        err_set(CHUTE_ERR_INVALID, "token file \"%s\": %s", path,
                n < 0 ? "cannot read it" : "larger than 64 KiB");
        goto drop;
    }
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        n--;
    buf[n] = 0;
    size_t lead = strspn(buf, " \t\r\n");
    memmove(buf, buf + lead, (size_t)n - lead + 1);
    if (!*buf) {
        err_set(CHUTE_ERR_INVALID, "token file \"%s\" is empty", path);
        goto drop;
    }
    *mtime = st.st_mtim;
    *ino = st.st_ino;
    goto out;
drop:
    free(buf);
    buf = NULL;
out:
    if (fd >= 0)
        close(fd);
    return buf;
}

bool sasl_token_changed(const struct sasl_session *s,
                        const struct sasl_config *cfg)
{
    struct stat st;

    if (cfg->mechanism != SASL_OAUTHBEARER || stat(cfg->token_file, &st) < 0)
        return false;
    return st.st_ino != s->token_ino ||
           st.st_mtim.tv_sec != s->token_mtime.tv_sec ||
           st.st_mtim.tv_nsec != s->token_mtime.tv_nsec;
}

static void on_authenticate(struct conn *c, void *arg, int err,
                            const uint8_t *body, size_t len);

static void send_authenticate(struct conn *c, const void *msg, size_t len)
{
    int32_t corr = conn_corr(c);
    size_t start = c->out.len;

    kafka_req_begin(&c->out, KAFKA_API_SASL_AUTHENTICATE, c->sasl.auth_ver,
                    corr, c->client_id);
    kbuf_bytes(&c->out, msg, len);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_SASL_AUTHENTICATE, c->sasl.auth_ver, true,
              on_authenticate, NULL);
}

/* The mechanism's first message: PLAIN's "\0user\0password", SCRAM's
 * client-first, OAUTHBEARER's "n,,\1auth=Bearer TOKEN\1\1". */
static int first_message(struct conn *c, char **msg, size_t *len)
{
    const struct sasl_config *cfg = cfg_of(c);
    int rc = 0;

    switch (cfg->mechanism) {
    case SASL_PLAIN:
        *len = 2 + strlen(cfg->username) + strlen(cfg->password);
        *msg = malloc(*len + 1);
        if (!*msg)
            return err_set(CHUTE_ERR_SYSTEM, "out of memory");
        snprintf(*msg, *len + 1, "%c%s%c%s", 0, cfg->username, 0,
                 cfg->password);
        return 0;
    case SASL_OAUTHBEARER: {
        char *token = sasl_token_read(cfg->token_file, &c->sasl.token_mtime,
                                      &c->sasl.token_ino);
        if (!token)
            return CHUTE_ERR_INVALID;
        if (asprintf(msg, "n,,\001auth=Bearer %s\001\001", token) < 0)
            rc = err_set(CHUTE_ERR_SYSTEM, "out of memory");
        OPENSSL_cleanse(token, strlen(token));
        free(token);
        break;
    }
    default:
        scram_release(&c->sasl.scram);
        rc = scram_first(&c->sasl.scram,
                         cfg->mechanism == SASL_SCRAM_SHA_512 ? 512 : 256,
                         cfg->username, NULL, msg);
    }
    if (rc == 0)
        *len = strlen(*msg);
    return rc;
}

static void send_first(struct conn *c)
{
    char *msg = NULL;
    size_t len = 0;

    c->sasl.step = 0;
    if (first_message(c, &msg, &len) < 0) {
        fail(c, chute_errmsg());
        return;
    }
    send_authenticate(c, msg, len);
    OPENSSL_cleanse(msg, len);
    free(msg);
}

/* The mechanisms a SaslHandshake answer lists, "A, B", for the log. */
static void list_mechanisms(struct kreader *r, char *buf, size_t size)
{
    int32_t n = kr_array_len(r);
    size_t off = 0;

    buf[0] = 0;
    for (int32_t i = 0; i < n && !r->err && off < size; i++) {
        const char *s;
        size_t l;
        if (kr_str(r, &s, &l) < 0)
            break;
        off += (size_t)snprintf(buf + off, size - off, "%s%.*s", i ? ", " : "",
                                (int)l, s);
    }
}

static void on_handshake(struct conn *c, void *arg, int err,
                         const uint8_t *body, size_t len)
{
    struct kreader r;
    char offered[256], detail[400];

    (void)arg;
    if (err)
        return; /* the connection closed and said why */
    kr_init(&r, body, len);
    int16_t code = kr_i16(&r);
    list_mechanisms(&r, offered, sizeof(offered));
    if (r.err) {
        fail(c, "malformed SaslHandshake answer");
        return;
    }
    if (code == KAFKA_ERR_UNSUPPORTED_SASL_MECHANISM) {
        snprintf(detail, sizeof(detail),
                 "the broker does not enable this "
                 "mechanism (it offers %s; check sasl.mechanism)",
                 offered[0] ? offered : "none");
        fail(c, detail);
        return;
    }
    if (code) {
        snprintf(detail, sizeof(detail), "SaslHandshake failed (%s)",
                 kafka_err_name(code));
        fail(c, detail);
        return;
    }
    send_first(c);
}

/* The next message of a SCRAM exchange, after the broker's `msg`. */
static void scram_step(struct conn *c, const uint8_t *msg, int32_t len)
{
    char *out = NULL;

    if (c->sasl.step == 1) {
        if (scram_final(&c->sasl.scram, cfg_of(c)->password, (const char *)msg,
                        (size_t)len, &out) < 0) {
            fail(c, chute_errmsg());
            return;
        }
        send_authenticate(c, out, strlen(out));
        free(out);
        return;
    }
    if (scram_check(&c->sasl.scram, (const char *)msg, (size_t)len) < 0) {
        fail(c, chute_errmsg());
        return;
    }
    scram_release(&c->sasl.scram);
    conn_sasl_done(c, c->sasl.lifetime_ms);
}

/* A SaslAuthenticate answer that carries no error: the mechanism's next
 * step, or the end. */
static void next_step(struct conn *c, const uint8_t *msg, int32_t len,
                      int64_t lifetime_ms)
{
    int mech = cfg_of(c)->mechanism;

    c->sasl.step++;
    if (mech == SASL_PLAIN) {
        conn_sasl_done(c, lifetime_ms);
    } else if (mech == SASL_OAUTHBEARER) {
        /* A challenge instead of an empty answer is the broker's JSON
         * error (RFC 7628 3.2.2). */
        if (len > 0) {
            char detail[256];
            snprintf(detail, sizeof(detail),
                     "the broker refused the "
                     "token: %.*s",
                     len > 200 ? 200 : (int)len, msg);
            fail(c, detail);
            return;
        }
        conn_sasl_done(c, lifetime_ms);
    } else {
        if (c->sasl.step == 2)
            c->sasl.lifetime_ms = lifetime_ms;
        scram_step(c, msg ? msg : (const uint8_t *)"", len < 0 ? 0 : len);
    }
}

static void on_authenticate(struct conn *c, void *arg, int err,
                            const uint8_t *body, size_t len)
{
    struct kreader r;
    const char *emsg;
    size_t elen;
    const uint8_t *bytes;
    int32_t blen;
    int64_t lifetime = 0;
    char detail[480];

    (void)arg;
    if (err)
        return;
    kr_init(&r, body, len);
    int16_t code = kr_i16(&r);
    kr_str(&r, &emsg, &elen);
    kr_bytes(&r, &bytes, &blen);
    if (c->sasl.auth_ver >= 1)
        lifetime = kr_i64(&r);
    if (r.err) {
        fail(c, "malformed SaslAuthenticate answer");
        return;
    }
    if (code) {
        snprintf(detail, sizeof(detail), "%s%s%s%.*s",
                 code == KAFKA_ERR_SASL_AUTHENTICATION_FAILED
                     ? "authentication failed (wrong user name, password or "
                       "token?): "
                     : "",
                 kafka_err_name(code), emsg ? ": " : "",
                 emsg ? (int)(elen > 240 ? 240 : elen) : 0, emsg ? emsg : "");
        fail(c, detail);
        return;
    }
    next_step(c, bytes, blen, lifetime);
}

void sasl_start(struct conn *c, const struct sasl_config *cfg)
{
    int32_t corr;
    size_t start = c->out.len;

    c->sasl.auth_ver = conn_version(c, KAFKA_API_SASL_AUTHENTICATE, 0, 1);
    if (conn_version(c, KAFKA_API_SASL_HANDSHAKE, 1, 1) < 0 ||
        c->sasl.auth_ver < 0) {
        fail(c, "the broker has no SaslHandshake v1 and SaslAuthenticate "
                "(Kafka 1.0 or later needed)");
        return;
    }
    c->sasl.lifetime_ms = 0;
    corr = conn_corr(c);
    kafka_req_begin(&c->out, KAFKA_API_SASL_HANDSHAKE, 1, corr, c->client_id);
    kbuf_str(&c->out, sasl_mechanism_name(cfg->mechanism));
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_SASL_HANDSHAKE, 1, true, on_handshake, NULL);
}

void sasl_release(struct sasl_session *s)
{
    scram_release(&s->scram);
}
