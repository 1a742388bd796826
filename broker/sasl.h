/*
 * sasl.h: SASL authentication of a broker connection (Kafka's
 * SaslHandshake v1 and SaslAuthenticate v0/v1, KIP-43, KIP-152), with
 * PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER.
 *
 * conn.c starts an exchange once ApiVersions is answered (and again,
 * KIP-368, before the session lifetime the broker gave runs out); this
 * module sends the requests, reads the answers, and tells the connection
 * the outcome: conn_sasl_done() with the session lifetime, or
 * conn_sasl_failed() with one sentence saying why (the mechanism, the
 * user, the broker's own message; never the password or the token).
 *
 * OAUTHBEARER's token is read from a file at each authentication and
 * re-authentication, so a token written there by whatever renews it is
 * used from the next one; conn.c also re-authenticates when the file
 * changes (sasl_token_changed).
 */
#ifndef CHUTE_BROKER_SASL_H
#define CHUTE_BROKER_SASL_H

#include "broker/scram.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum sasl_mechanism {
    SASL_PLAIN,
    SASL_SCRAM_SHA_256,
    SASL_SCRAM_SHA_512,
    SASL_OAUTHBEARER,
};

/* The largest OAUTHBEARER token file read. */
#define SASL_TOKEN_MAX 65536

struct sasl_config {
    int mechanism;        /* enum sasl_mechanism */
    const char *username; /* PLAIN, SCRAM */
    const char *password;
    const char *token_file; /* OAUTHBEARER: a file holding the token */
};

struct sasl_session {
    int step;            /* SaslAuthenticate round trips done */
    int16_t auth_ver;    /* SaslAuthenticate version in use */
    int64_t lifetime_ms; /* the broker's session_lifetime_ms, 0: none */
    struct scram scram;
    struct timespec token_mtime; /* of the token file last read */
    ino_t token_ino;
};

struct conn;

/* "SCRAM-SHA-512": the name Kafka knows a mechanism by. */
const char *sasl_mechanism_name(int mechanism);
/* Sends SaslHandshake on c (ApiVersions answered). */
void sasl_start(struct conn *c, const struct sasl_config *cfg);
void sasl_release(struct sasl_session *s);
/* Whether the token file differs from the one last read. */
bool sasl_token_changed(const struct sasl_session *s,
                        const struct sasl_config *cfg);

/* The OAUTHBEARER token in `path`, surrounding white space dropped, as a
 * heap string; NULL (err_set) if it cannot be read or is empty. */
char *sasl_token_read(const char *path, struct timespec *mtime, ino_t *ino);

#endif
