/*
 * tls.c: the TLS client context and the reasons a handshake fails.
 */
#include "broker/tls.h"

#include "common/err.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool set(const char *s)
{
    return s && *s;
}

/* OpenSSL's reason for the last failure, and the queue emptied. */
static const char *ssl_reason(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();

    if (!e)
        snprintf(buf, size, "unknown OpenSSL error");
    else
        ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

static int ctx_fail(SSL_CTX *ctx, const char *what, const char *path)
{
    char why[256];

    ssl_reason(why, sizeof(why));
    SSL_CTX_free(ctx);
    if (path)
        return err_set(CHUTE_ERR_INVALID, "%s \"%s\": %s", what, path, why);
    return err_set(CHUTE_ERR_INVALID, "%s: %s", what, why);
}

/* The key's pass phrase comes from ssl.key.password, never a terminal. */
static int key_password_cb(char *buf, int size, int rwflag, void *arg)
{
    const char *pw = arg;
    size_t len = pw ? strlen(pw) : 0;

    (void)rwflag;
    if (len >= (size_t)size)
        return 0;
    memcpy(buf, pw ? pw : "", len);
    return (int)len;
}

static int load_trust(SSL_CTX *ctx, const char *ca)
{
    struct stat st;

    if (!set(ca))
        return SSL_CTX_set_default_verify_paths(ctx) == 1 ? 0 : -1;
    if (stat(ca, &st) == 0 && S_ISDIR(st.st_mode))
        return SSL_CTX_load_verify_locations(ctx, NULL, ca) == 1 ? 0 : -1;
    return SSL_CTX_load_verify_locations(ctx, ca, NULL) == 1 ? 0 : -1;
}

static int load_identity(SSL_CTX *ctx, const struct tls_config *c)
{
    if (set(c->certificate_location) != set(c->key_location))
        return err_set(CHUTE_ERR_INVALID, "a client certificate needs both "
                                          "\"ssl.certificate.location\" and "
                                          "\"ssl.key.location\"");
    if (!set(c->certificate_location))
        return 0;
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)c->key_password);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->certificate_location) != 1)
        return ctx_fail(NULL, "ssl.certificate.location",
                        c->certificate_location);
    if (SSL_CTX_use_PrivateKey_file(ctx, c->key_location, SSL_FILETYPE_PEM) !=
        1)
        return ctx_fail(NULL,
                        set(c->key_password)
                            ? "ssl.key.location (wrong ssl.key.password?)"
                            : "ssl.key.location (encrypted? set "
                              "ssl.key.password)",
                        c->key_location);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ctx_fail(NULL,
                        "ssl.key.location does not match the "
                        "certificate",
                        c->key_location);
    /* The callback's pointer must not outlive the settings. */
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    return 0;
}

static int build(const struct tls_config *c, SSL_CTX **out)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int rc;

    if (!ctx)
        return ctx_fail(NULL, "cannot make a TLS context", NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    /* conn.c's output buffer grows (moves) between partial writes. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (load_trust(ctx, c->ca_location) < 0)
        return ctx_fail(ctx, "ssl.ca.location",
                        set(c->ca_location) ? c->ca_location : "(system)");
    if (set(c->cipher_suites) &&
        SSL_CTX_set_cipher_list(ctx, c->cipher_suites) != 1)
        return ctx_fail(ctx, "ssl.cipher.suites", c->cipher_suites);
    if ((rc = load_identity(ctx, c)) < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int tls_init(struct tls *t, const struct tls_config *cfg)
{
    /* OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a broker that
     * closes the connection must give EPIPE, not kill the process (and the
     * workers, which inherit this through fork). */
    signal(SIGPIPE, SIG_IGN);
    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    if (build(&t->cfg, &t->ctx) < 0)
        return CHUTE_ERR_INVALID;
    t->generation = 1;
    return 0;
}

int tls_reload(struct tls *t)
{
    SSL_CTX *ctx;

    if (!t->ctx)
        return 0;
    if (build(&t->cfg, &ctx) < 0)
        return err_prefix(CHUTE_ERR_INVALID, "TLS files not reloaded, the "
                                             "previous ones stay in use");
    SSL_CTX_free(t->ctx); /* sessions made from it hold their own ref */
    t->ctx = ctx;
    t->generation++;
    return 0;
}

void tls_release(struct tls *t)
{
    SSL_CTX_free(t->ctx);
    t->ctx = NULL;
}

static bool is_address(const char *host)
{
    unsigned char a[16];

    return inet_pton(AF_INET, host, a) == 1 ||
           inet_pton(AF_INET6, host, a) == 1;
}

SSL *tls_session(struct tls *t, const char *host, int fd)
{
    SSL *ssl = SSL_new(t->ctx);
    X509_VERIFY_PARAM *vp;
    int ok;
    char why[256];

    if (!ssl)
        goto fail;
    vp = SSL_get0_param(ssl);
    if (is_address(host)) {
        ok = !t->cfg.verify_hostname || X509_VERIFY_PARAM_set1_ip_asc(vp, host);
    } else {
        X509_VERIFY_PARAM_set_hostflags(vp,
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = SSL_set_tlsext_host_name(ssl, host) &&
             (!t->cfg.verify_hostname || SSL_set1_host(ssl, host));
    }
    if (ok && SSL_set_fd(ssl, fd) == 1)
        return ssl;
fail:
    SSL_free(ssl);
    err_set(CHUTE_ERR_SYSTEM, "cannot start TLS: %s",
            ssl_reason(why, sizeof(why)));
    return NULL;
}

const char *tls_failure(SSL *ssl, int ret, char *buf, size_t size)
{
    long v = SSL_get_verify_result(ssl);
    int e = SSL_get_error(ssl, ret);
    char why[256];

    if (v != X509_V_OK) {
        ERR_clear_error();
        snprintf(buf, size, "TLS: the broker's certificate is refused: %s",
                 X509_verify_cert_error_string(v));
        return buf;
    }
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(buf, size, "TLS: %s",
                 ret == 0 || errno == 0 ? "connection closed by broker"
                                        : strerror(errno));
        return buf;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(buf, size, "TLS: connection closed by broker");
        return buf;
    }
    ssl_reason(why, sizeof(why));
    if (strstr(why, "alert unknown ca") ||
        strstr(why, "alert bad certificate") ||
        strstr(why, "certificate required") ||
        strstr(why, "alert certificate unknown"))
        snprintf(buf, size,
                 "TLS: the broker refused chute's client "
                 "certificate (ssl.certificate.location, or none given): %s",
                 why);
    else if (strstr(why, "wrong version number") ||
             strstr(why, "packet length"))
        snprintf(buf, size,
                 "TLS: the broker did not answer in TLS (a "
                 "plaintext or SASL_PLAINTEXT listener? check "
                 "security.protocol): %s",
                 why);
    else
        snprintf(buf, size, "TLS: %s", why);
    return buf;
}
