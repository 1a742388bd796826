/*
 * conn.h: one non-blocking connection to a Kafka broker, driven by libev.
 *
 * A connection connects, negotiates API versions (ApiVersions v2), and
 * then carries pipelined requests: callers append a framed request to
 * conn->out and register it with conn_push(); responses come back in
 * order and are matched by correlation id.  Any transport error, protocol
 * error or request timeout closes the connection and fails every pending
 * request with CONN_ERR_TRANSPORT or CONN_ERR_TIMEOUT, then the owner's
 * on_down callback runs; the connection reconnects with backoff when the
 * owner asks for it again (conn_want()).
 *
 * Two time limits, as librdkafka means them: a Produce request has
 * request.timeout.ms (which the caller also sends to the broker as the
 * acks timeout); the TCP connect and ApiVersions handshake together, and
 * every other request (Metadata, InitProducerId), have socket.timeout.ms.
 * Reconnects follow reconnect.backoff.ms and reconnect.backoff.max.ms with
 * jitter (backoff.h).  The connection reads all four through pointers
 * each time it uses one, so that a reload reaches connections already
 * open.  A failure (connect, handshake, transport, time limit) is logged,
 * unless one was less than CONN_WARN_EVERY_MS ago: the next one logged
 * then says how many were not.
 *
 * A response frame longer than CONN_FRAME_MAX closes the connection as
 * soon as its length arrives: a broker cannot make it buffer more.
 *
 * Security (struct conn_security, librdkafka's security.protocol): with
 * TLS the TCP connect is followed by a non-blocking TLS handshake
 * (tls.h), and every read and write goes through OpenSSL; with SASL,
 * ApiVersions is followed by the SASL exchange (sasl.h) before the
 * connection is ready.  The handshakes together share the connect's
 * socket.timeout.ms.  A broker that gives a session lifetime (KIP-368)
 * gets a re-authentication before 85% of it has passed: the connection
 * takes no new requests from then, waits until those in flight are
 * answered, authenticates again on the same socket, and is ready again
 * (the owner's ready callback runs once more).  A TLS or SASL failure is
 * a conn_fault with its sentence kept for status until the connection
 * is ready again.
 */
#ifndef CHUTE_BROKER_CONN_H
#define CHUTE_BROKER_CONN_H

#include "broker/backoff.h"
#include "broker/sasl.h"
#include "broker/tls.h"
#include "proto/kafka.h"
#include "proto/kbuf.h"

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CONN_PENDING_MAX 64
/* The largest response chute takes: it fetches nothing, and a Metadata
 * answer for a million partitions is about 50 MB. */
#define CONN_FRAME_MAX (64 * 1024 * 1024)
#define CONN_WARN_EVERY_MS 5000

enum conn_state {
    CONN_DOWN,       /* not connected; may be waiting for backoff */
    CONN_CONNECTING, /* TCP connect under way */
    CONN_TLS,        /* TLS handshake under way */
    CONN_HANDSHAKE,  /* ApiVersions sent */
    CONN_SASL,       /* SASL exchange (first, or a re-authentication) */
    CONN_READY,
};

enum conn_err {
    CONN_OK = 0,
    CONN_ERR_TRANSPORT = 1, /* connection lost: the request may be written */
    CONN_ERR_TIMEOUT = 2,   /* a time limit passed: may be written */
};

/* Why the last attempt failed, when it was for want of security: what
 * a user must act on (status, metrics). */
enum conn_fault {
    CONN_FAULT_NONE,
    CONN_FAULT_TLS,  /* TLS handshake: certificate, name, protocol */
    CONN_FAULT_SASL, /* SASL: mechanism, credentials, token */
};

/* Where a process counts TLS and SASL failures and re-authentications
 * (the counters may be in shared memory), and the latest failure's
 * sentence (for status). */
struct conn_faults {
    _Atomic uint64_t *tls_failures, *sasl_failures, *reauths;
    char last[448];
    int64_t last_ms; /* mono_ms() of it, 0: none yet */
};

/* security.protocol and what it needs; the owner's, read at each
 * connect (a reload may rebuild tls->ctx in place). */
struct conn_security {
    struct tls *tls;                /* NULL: no TLS */
    const struct sasl_config *sasl; /* NULL: no SASL */
    struct conn_faults *faults;     /* NULL: not counted */
};

struct conn;
/* err: enum conn_err; body/len: response body after the correlation id. */
typedef void conn_cb(struct conn *c, void *arg, int err, const uint8_t *body,
                     size_t len);

struct conn_pending {
    int32_t corr;
    int16_t api, ver;
    bool response;          /* false: acks=0 produce, done once written */
    size_t end;             /* conn->out offset after this request */
    int64_t deadline_ms;
    conn_cb *cb;
    void *arg;
};

/* The owner's settings, read at each use; NULL backoff pointers take
 * librdkafka's defaults (BACKOFF_DEFAULT_MS, BACKOFF_DEFAULT_MAX_MS). */
struct conn_settings {
    const int *request_timeout_ms;       /* Produce */
    const int *socket_timeout_ms;        /* connect + handshake, the rest */
    const int *reconnect_backoff_ms;     /* first wait between attempts */
    const int *reconnect_backoff_max_ms; /* longest */
    const struct conn_security *security; /* NULL: plaintext */
};

struct conn_owner {
    void (*ready)(struct conn *c, void *ctx);
    void (*down)(struct conn *c, void *ctx);
    void *ctx;
};

struct conn {
    struct ev_loop *loop;
    ev_io io;
    ev_timer timer;
    enum conn_state state;
    int fd;
    int32_t node_id;
    char host[256];
    int port;
    const char *client_id;
    struct conn_settings set;
    int64_t ready_by_ms;           /* connect + handshake deadline */
    struct conn_owner owner;

    struct kbuf out;        /* framed requests not yet written */
    size_t out_off;         /* bytes of out already written */
    uint8_t *in;            /* bytes read, not yet parsed */
    size_t in_len, in_cap;

    struct conn_pending pending[CONN_PENDING_MAX];
    unsigned pending_head, pending_count;
    int32_t next_corr;

    struct kafka_versions versions;
    int16_t apiversions_ver;
    struct backoff backoff;
    int64_t retry_at_ms;    /* no attempt before (backoff_attempt) */
    uint64_t rng;           /* the jitter's */
    uint32_t failures;      /* since the connection was last ready */
    uint32_t unlogged;      /* failures since the last one logged */
    int64_t logged_ms;      /* when a failure was last logged */
    uint64_t requests, bytes_out;

    SSL *ssl;                /* TLS session, NULL without TLS */
    struct sasl_session sasl;
    int64_t reauth_at_ms;    /* KIP-368: re-authenticate then, 0: never */
    bool reauth_due;         /* no new requests; re-auth once idle */
    bool authenticated;      /* SASL done once on this socket */
    int fault;               /* enum conn_fault of the last failure */
    char fault_why[256];     /* its sentence, no secrets in it */
    uint64_t tls_failures, sasl_failures, reauths;
};

/* client_id and what set points to are the owner's and must outlive c;
 * the settings are read again at each connect and request. */
void conn_init(struct conn *c, struct ev_loop *loop, int32_t node_id,
               const char *host, int port, const char *client_id,
               const struct conn_settings *set,
               const struct conn_owner *owner);
/* Points a connection that is down at another address (the next
 * bootstrap server), keeping its reconnect schedule and log state. */
void conn_retarget(struct conn *c, const char *host, int port);
/* Stops and frees everything; fails pending requests. */
void conn_release(struct conn *c);
/* Connects now if down and the backoff allows it. */
void conn_want(struct conn *c);
/* Whether requests may be sent now: ready, and no re-authentication
 * waiting for the requests in flight. */
bool conn_ready(const struct conn *c);
/* Requests that may still be sent before the in-flight limit. */
unsigned conn_room(const struct conn *c, unsigned max_in_flight);
/* Next correlation id, to frame a request with. */
int32_t conn_corr(struct conn *c);
/* Registers the request just framed at conn->out (ending at out.len); it
 * fails with CONN_ERR_TIMEOUT unless answered within request.timeout.ms
 * (Produce) or socket.timeout.ms (any other api). */
void conn_push(struct conn *c, int32_t corr, int16_t api, int16_t ver,
               bool response, conn_cb *cb, void *arg);
/* Closes the connection as if its requests timed out: every pending
 * request fails with CONN_ERR_TIMEOUT. */
void conn_abort(struct conn *c, const char *why);
/* Whether a response frame may be `size` bytes long: at least its
 * correlation id, at most CONN_FRAME_MAX. */
bool conn_frame_ok(uint32_t size);
/* For sasl.c: the exchange succeeded (lifetime_ms: the broker's session
 * lifetime, 0 for none), or failed for the reason given. */
void conn_sasl_done(struct conn *c, int64_t lifetime_ms);
void conn_sasl_failed(struct conn *c, const char *why);
/* Highest common version of `api` within [min, max], or -1. */
int16_t conn_version(const struct conn *c, int16_t api, int16_t min,
                     int16_t max);

#endif
