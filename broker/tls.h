/*
 * tls.h: the client side of TLS to the brokers (OpenSSL 3).
 *
 * One struct tls per process holds the settings (librdkafka's ssl.*
 * properties) and the SSL_CTX built from them.  A connection takes a
 * session from it when it connects (tls_session); the handshake and the
 * reads and writes are conn.c's, non-blocking.  tls_reload() builds the
 * context again from the same paths: certificates and keys rotated on
 * disk reach every connection made afterwards, while connections already
 * up keep the context they started with (OpenSSL counts the references).
 * A failed rebuild keeps the context that works, and says why.
 */
#ifndef CHUTE_BROKER_TLS_H
#define CHUTE_BROKER_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct tls_config {
    const char *ca_location;          /* file or dir; "": the system's */
    const char *certificate_location; /* PEM chain; "": no client cert */
    const char *key_location;         /* PEM key; "": no client cert */
    const char *key_password;         /* "": the key is not encrypted */
    const char *cipher_suites;        /* OpenSSL cipher list; "": default */
    bool verify_hostname;             /* endpoint identification https */
};

struct tls {
    struct tls_config cfg; /* the strings are the owner's */
    SSL_CTX *ctx;
    unsigned generation; /* contexts built so far */
};

/* Builds the first context, and ignores SIGPIPE in this process (and
 * the workers it forks): OpenSSL's writes do not pass MSG_NOSIGNAL.
 * 0, or CHUTE_ERR_INVALID naming the file or setting that failed and
 * OpenSSL's reason (never a password). */
int tls_init(struct tls *t, const struct tls_config *cfg);
/* Builds the context again from the same paths; on failure the running
 * one stays.  0 or CHUTE_ERR_INVALID. */
int tls_reload(struct tls *t);
void tls_release(struct tls *t);

/* A client session on fd for a broker named host (SNI unless host is an
 * address; the name or address its certificate must carry when
 * verify_hostname).  NULL (err_set) if OpenSSL cannot make one. */
SSL *tls_session(struct tls *t, const char *host, int fd);

/* Why a handshake, read or write failed, for a log line that names the
 * broker: the certificate check's verdict ("certificate has expired"),
 * or OpenSSL's reason.  ret is what the SSL call returned. */
const char *tls_failure(SSL *ssl, int ret, char *buf, size_t size);

#endif
