/*
 * conn.c: a pipelined, non-blocking Kafka broker connection on libev.
 */
#include "broker/conn.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_READ_CHUNK 65536
/* Re-authenticate once this share of the session lifetime has passed. */
#define CONN_REAUTH_SHARE 0.85
/* How often a connection looks whether its OAUTHBEARER token changed. */
#define CONN_TOKEN_CHECK_MS 1000

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void send_apiversions(struct conn *c);
static void maybe_reauth(struct conn *c);
static void became_ready(struct conn *c);

void conn_init(struct conn *c, struct ev_loop *loop, int32_t node_id,
               const char *host, int port, const char *client_id,
               const struct conn_settings *set,
               const struct conn_owner *owner)
{
    memset(c, 0, sizeof(*c));
    c->loop = loop;
    c->fd = -1;
    c->node_id = node_id;
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    c->client_id = client_id;
    c->set = *set;
    c->owner = *owner;
    /* Workers forked at one moment must not reconnect in step. */
    c->rng = (uint64_t)clock_ns(CLOCK_MONOTONIC) ^ (uint64_t)getpid() << 32 ^
             (uintptr_t)c;
    c->next_corr = 1;
    c->apiversions_ver = 2;
    kbuf_init(&c->out);
    ev_init(&c->io, conn_io_cb);
    c->io.data = c;
    ev_init(&c->timer, conn_timer_cb);
    c->timer.data = c;
}

void conn_retarget(struct conn *c, const char *host, int port)
{
    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
}

static int setting(const int *p, int def)
{
    return p ? *p : def;
}

/* xorshift64*: the jitter needs nothing better. */
static uint32_t next_random(struct conn *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (uint32_t)((c->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

/* A failure is logged unless one was less than CONN_WARN_EVERY_MS ago;
 * the next one logged says how many were not. */
static void log_failure(struct conn *c, const char *why)
{
    int64_t now = mono_ms();

    if (c->logged_ms && now - c->logged_ms < CONN_WARN_EVERY_MS) {
        c->unlogged++;
        log_debug("broker %d (%s:%d): %s", c->node_id, c->host, c->port, why);
        return;
    }
    if (c->unlogged)
        log_warn("broker %d (%s:%d): %s (%u more failures since the last "
                 "warning; reconnecting with backoff)",
                 c->node_id, c->host, c->port, why, c->unlogged);
    else
        log_warn("broker %d (%s:%d): %s", c->node_id, c->host, c->port, why);
    c->logged_ms = now;
    c->unlogged = 0;
}

static struct conn_pending *pending_at(struct conn *c, unsigned i)
{
    return &c->pending[(c->pending_head + i) % CONN_PENDING_MAX];
}

static struct conn_pending pending_pop(struct conn *c)
{
    struct conn_pending p = *pending_at(c, 0);

    c->pending_head = (c->pending_head + 1) % CONN_PENDING_MAX;
    c->pending_count--;
    return p;
}

/* Closes the socket and fails every pending request with `err`. */
static void conn_close(struct conn *c, int err, const char *why)
{
    bool was_up = c->state != CONN_DOWN;

    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        ev_io_stop(c->loop, &c->io);
        close(c->fd);
        c->fd = -1;
    }
    ev_timer_stop(c->loop, &c->timer);
    sasl_release(&c->sasl);
    c->reauth_at_ms = 0;
    c->reauth_due = false;
    c->authenticated = false;
    if (was_up)
        c->failures++;
    if (was_up && why)
        log_failure(c, why);
    c->state = CONN_DOWN;
    kbuf_reset(&c->out);
    c->out_off = 0;
    c->in_len = 0;
    while (c->pending_count) {
        struct conn_pending p = pending_pop(c);
        if (p.cb)
            p.cb(c, p.arg, err, NULL, 0);
    }
    if (was_up && c->owner.down)
        c->owner.down(c, c->owner.ctx);
}

/* A failure of TLS or SASL: kept for status, then as any failure. */
static void conn_fault(struct conn *c, int fault, const char *why)
{
    size_t n = strnlen(why, sizeof(c->fault_why) - 1);

    struct conn_faults *f = c->set.security ? c->set.security->faults : NULL;

    c->fault = fault;
    memcpy(c->fault_why, why, n);
    c->fault_why[n] = 0;
    if (fault == CONN_FAULT_TLS)
        c->tls_failures++;
    else
        c->sasl_failures++;
    if (f) {
        _Atomic uint64_t *count =
            fault == CONN_FAULT_TLS ? f->tls_failures : f->sasl_failures;
        if (count)
            atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
        snprintf(f->last, sizeof(f->last), "broker %d (%.80s:%d): %.300s",
                 c->node_id, c->host, c->port, c->fault_why);
        f->last_ms = mono_ms();
    }
    conn_close(c, CONN_ERR_TRANSPORT, why);
}

void conn_abort(struct conn *c, const char *why)
{
    if (c->state != CONN_DOWN)
        conn_close(c, CONN_ERR_TIMEOUT, why);
}

void conn_release(struct conn *c)
{
    conn_close(c, CONN_ERR_TRANSPORT, NULL);
    kbuf_release(&c->out);
    free(c->in);
    c->in = NULL;
}

static int open_socket(struct conn *c)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[16];
    int fd = -1, one = 1;

    snprintf(port, sizeof(port), "%d", c->port);
    if (getaddrinfo(c->host, port, &hints, &res) != 0 || !res)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 &&
            errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* The pending request whose deadline comes first, or NULL.  Requests
 * have different limits (Produce or not), so it need not be the oldest. */
static const struct conn_pending *first_deadline(struct conn *c)
{
    const struct conn_pending *first = NULL;

    for (unsigned i = 0; i < c->pending_count; i++) {
        const struct conn_pending *p = pending_at(c, i);
        if (!first || p->deadline_ms < first->deadline_ms)
            first = p;
    }
    return first;
}

static bool connecting(const struct conn *c)
{
    return c->state == CONN_CONNECTING || c->state == CONN_TLS;
}

static bool oauth(const struct conn *c)
{
    return c->set.security && c->set.security->sasl &&
           c->set.security->sasl->mechanism == SASL_OAUTHBEARER;
}

/* When a ready connection has to look at its session: its re-auth time,
 * and for OAUTHBEARER every CONN_TOKEN_CHECK_MS for a new token. */
static int64_t session_check_at(const struct conn *c)
{
    int64_t at = c->reauth_at_ms;

    if (c->state != CONN_READY || c->reauth_due)
        return -1;
    if (oauth(c) && (!at || at > mono_ms() + CONN_TOKEN_CHECK_MS))
        at = mono_ms() + CONN_TOKEN_CHECK_MS;
    return at ? at : -1;
}

static void arm_timer(struct conn *c)
{
    const struct conn_pending *p = first_deadline(c);
    int64_t at = connecting(c) ? c->ready_by_ms
                 : p           ? p->deadline_ms
                               : -1;
    int64_t session = session_check_at(c);

    if (session >= 0 && (at < 0 || session < at))
        at = session;
    double left = (double)(at - mono_ms());

    ev_timer_stop(c->loop, &c->timer);
    if (at < 0)
        return;
    ev_timer_set(&c->timer, left > 0 ? left / 1000.0 : 0.001, 0);
    ev_timer_start(c->loop, &c->timer);
}

void conn_want(struct conn *c)
{
    int64_t now = mono_ms();

    if (c->state != CONN_DOWN || now < c->retry_at_ms)
        return;
    c->retry_at_ms = backoff_attempt(
        &c->backoff, now,
        setting(c->set.reconnect_backoff_ms, BACKOFF_DEFAULT_MS),
        setting(c->set.reconnect_backoff_max_ms, BACKOFF_DEFAULT_MAX_MS),
        next_random(c));
    c->fd = open_socket(c);
    if (c->fd < 0) {
        c->state = CONN_CONNECTING; /* so conn_close reports and backs off */
        conn_close(c, CONN_ERR_TRANSPORT, "cannot connect");
        return;
    }
    c->state = CONN_CONNECTING;
    c->ready_by_ms = now + *c->set.socket_timeout_ms;
    ev_io_set(&c->io, c->fd, EV_READ | EV_WRITE);
    ev_io_start(c->loop, &c->io);
    arm_timer(c);
}

bool conn_ready(const struct conn *c)
{
    return c->state == CONN_READY && !c->reauth_due;
}

unsigned conn_room(const struct conn *c, unsigned max_in_flight)
{
    if (!conn_ready(c) || c->pending_count >= max_in_flight ||
        c->pending_count >= CONN_PENDING_MAX)
        return 0;
    return max_in_flight - c->pending_count;
}

int32_t conn_corr(struct conn *c)
{
    int32_t corr = c->next_corr++;

    if (c->next_corr == INT32_MAX)
        c->next_corr = 1;
    return corr;
}

static void set_events(struct conn *c, int want)
{
    if (c->fd < 0 || (c->io.events & (EV_READ | EV_WRITE)) == want)
        return;
    ev_io_stop(c->loop, &c->io);
    ev_io_set(&c->io, c->fd, want);
    ev_io_start(c->loop, &c->io);
}

static void update_events(struct conn *c)
{
    set_events(c, EV_READ | (c->out.len > c->out_off ? EV_WRITE : 0));
}

/* What an SSL_read_ex or SSL_write_ex that returned r (n bytes) means:
 * n, 0 if it would block, -1 with `why` filled. */
static ssize_t tls_result(struct conn *c, int r, size_t n, char *why,
                          size_t size)
{
    int e;

    if (r == 1)
        return (ssize_t)n;
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    tls_failure(c->ssl, r, why, size);
    return -1;
}

/* Writes up to len bytes: how many, 0 when the socket (or TLS) would
 * block, -1 with `why` filled on failure. */
static ssize_t transport_send(struct conn *c, const uint8_t *p, size_t len,
                              char *why, size_t size)
{
    size_t n = 0;

    if (!c->ssl) {
        ssize_t sent = send(c->fd, p, len, MSG_NOSIGNAL);
        if (sent >= 0 || errno == EAGAIN || errno == EINTR)
            return sent < 0 ? 0 : sent;
        snprintf(why, size, "%s", strerror(errno));
        return -1;
    }
    int r = SSL_write_ex(c->ssl, p, len, &n); /* before n is read */

    return tls_result(c, r, n, why, size);
}

/* Reads into p: how many, 0 when nothing is there yet, -1 with `why`
 * on failure or when the broker closed the connection. */
static ssize_t transport_recv(struct conn *c, uint8_t *p, size_t cap,
                              char *why, size_t size)
{
    size_t n = 0;

    if (!c->ssl) {
        ssize_t got = recv(c->fd, p, cap, 0);
        if (got > 0 || (got < 0 && (errno == EAGAIN || errno == EINTR)))
            return got < 0 ? 0 : got;
        snprintf(why, size, "%s", got == 0 ? "connection closed by broker"
                                           : strerror(errno));
        return -1;
    }
    int r = SSL_read_ex(c->ssl, p, cap, &n); /* before n is read */

    return tls_result(c, r, n, why, size);
}

/* When a request pushed now fails: the handshake shares the connect's
 * deadline; then Produce has request.timeout.ms, the rest
 * socket.timeout.ms. */
static int64_t request_deadline(const struct conn *c, int16_t api)
{
    if (c->state != CONN_READY)
        return c->ready_by_ms; /* also a re-authentication's */
    return mono_ms() + (api == KAFKA_API_PRODUCE ? *c->set.request_timeout_ms
                                                 : *c->set.socket_timeout_ms);
}

void conn_push(struct conn *c, int32_t corr, int16_t api, int16_t ver,
               bool response, conn_cb *cb, void *arg)
{
    struct conn_pending *p = pending_at(c, c->pending_count++);

    p->corr = corr;
    p->api = api;
    p->ver = ver;
    p->response = response;
    p->end = c->out.len;
    p->deadline_ms = request_deadline(c, api);
    p->cb = cb;
    p->arg = arg;
    c->requests++;
    arm_timer(c);
    update_events(c);
}

int16_t conn_version(const struct conn *c, int16_t api, int16_t min,
                     int16_t max)
{
    int16_t v;

    if (kafka_versions_pick(&c->versions, api, min, max, &v) < 0)
        return -1;
    return v;
}

/* Completes acks=0 requests at the head once their bytes are written. */
static void complete_unanswered(struct conn *c)
{
    while (c->pending_count && !pending_at(c, 0)->response &&
           pending_at(c, 0)->end <= c->out_off) {
        struct conn_pending p = pending_pop(c);
        p.cb(c, p.arg, CONN_OK, NULL, 0);
    }
}

static void on_writable(struct conn *c)
{
    char why[320];

    while (c->out_off < c->out.len) {
        ssize_t n = transport_send(c, c->out.data + c->out_off,
                                   c->out.len - c->out_off, why, sizeof(why));
        if (n < 0) {
            conn_close(c, CONN_ERR_TRANSPORT, why);
            return;
        }
        if (n == 0)
            break;
        c->out_off += (size_t)n;
        c->bytes_out += (uint64_t)n;
    }
    complete_unanswered(c);
    maybe_reauth(c);
    if (c->fd < 0)
        return;
    if (c->out_off == c->out.len) {
        /* Keep offsets of pending requests meaningful: rebase them. */
        for (unsigned i = 0; i < c->pending_count; i++)
            pending_at(c, i)->end = 0;
        kbuf_reset(&c->out);
        c->out_off = 0;
    }
    update_events(c);
}

/* Dispatches one response frame; returns false if the connection closed. */
static bool dispatch(struct conn *c, const uint8_t *frame, size_t len)
{
    struct kreader r;
    int32_t corr;

    kr_init(&r, frame, len);
    corr = kr_i32(&r);
    if (r.err) {
        conn_close(c, CONN_ERR_TRANSPORT, "short response frame");
        return false;
    }
    /* A broker that answers acks=0 (the mock does): nothing waits. */
    if (!c->pending_count || pending_at(c, 0)->corr != corr) {
        for (unsigned i = 0; i < c->pending_count; i++)
            if (pending_at(c, i)->corr == corr) {
                conn_close(c, CONN_ERR_TRANSPORT, "response out of order");
                return false;
            }
        return true;
    }
    struct conn_pending p = pending_pop(c);
    arm_timer(c);
    p.cb(c, p.arg, CONN_OK, frame + 4, len - 4);
    if (c->fd < 0)
        return false;
    /* acks=0 requests written behind the one just answered are done now:
     * a real broker never answers them, and waiting would time them out
     * and resend them (duplicates). */
    complete_unanswered(c);
    maybe_reauth(c);
    if (c->fd < 0)
        return false;
    arm_timer(c);
    return c->fd >= 0;
}

static bool grow_input(struct conn *c, size_t need)
{
    if (c->in_cap >= need)
        return true;
    size_t cap = c->in_cap ? c->in_cap : CONN_READ_CHUNK;
    while (cap < need)
        cap *= 2;
    uint8_t *p = realloc(c->in, cap);
    if (!p)
        return false;
    c->in = p;
    c->in_cap = cap;
    return true;
}

bool conn_frame_ok(uint32_t size)
{
    return size >= 4 && size <= CONN_FRAME_MAX;
}

/* Dispatches every whole frame read; checks the length of the next one
 * as soon as it is in, so the buffer never holds more than one frame of
 * at most CONN_FRAME_MAX and a read.  False if the connection closed. */
static bool parse_frames(struct conn *c)
{
    size_t off = 0;
    char why[96];

    while (c->in_len - off >= 4) {
        const uint8_t *p = c->in + off;
        uint32_t size = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                        (uint32_t)p[2] << 8 | p[3];
        if (!c->ssl && c->state == CONN_HANDSHAKE &&
            (p[0] == 0x15 || p[0] == 0x16) && p[1] == 0x03) {
            conn_fault(c, CONN_FAULT_TLS, "the broker answered in TLS: "
                       "this is a TLS listener (security.protocol=ssl or "
                       "sasl_ssl)");
            return false;
        }
        if (!conn_frame_ok(size)) {
            snprintf(why, sizeof(why), "response frame of %u bytes (at most "
                     "%u): closing the connection", size, CONN_FRAME_MAX);
            log_error("broker %d (%s:%d): %s", c->node_id, c->host, c->port,
                      why);
            conn_close(c, CONN_ERR_TRANSPORT, NULL);
            return false;
        }
        if (c->in_len - off - 4 < size)
            break;
        if (!dispatch(c, p + 4, size))
            return false;
        off += 4 + (size_t)size;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return true;
}

/* A plaintext connection the broker closes before ApiVersions is
 * answered: most likely a TLS listener. */
static void closed_in_handshake(struct conn *c, const char *why)
{
    char full[512];

    if (c->state != CONN_HANDSHAKE) {
        conn_close(c, CONN_ERR_TRANSPORT, why);
        return;
    }
    /* TLS 1.3: the broker checks our certificate after the handshake
     * and says so in an alert, read here. */
    if (c->ssl) {
        conn_fault(c, CONN_FAULT_TLS, why);
        return;
    }
    snprintf(full, sizeof(full), "%s before answering ApiVersions (a TLS "
             "listener? security.protocol is plaintext or sasl_plaintext)",
             why);
    conn_fault(c, CONN_FAULT_TLS, full);
}

static void on_readable(struct conn *c)
{
    char why[320];

    for (;;) {
        if (!grow_input(c, c->in_len + CONN_READ_CHUNK)) {
            conn_close(c, CONN_ERR_TRANSPORT, "out of memory");
            return;
        }
        ssize_t n = transport_recv(c, c->in + c->in_len,
                                   c->in_cap - c->in_len, why, sizeof(why));
        if (n < 0) {
            closed_in_handshake(c, why);
            return;
        }
        if (n == 0)
            break;
        c->in_len += (size_t)n;
        /* A short plain read emptied the socket; OpenSSL may hold more
         * than one read returns, so TLS reads until it would block. */
        if (!parse_frames(c) || (!c->ssl && (size_t)n < CONN_READ_CHUNK))
            break;
    }
}

/* One step of the TLS handshake; ApiVersions once it is done. */
static void tls_step(struct conn *c)
{
    int r = SSL_connect(c->ssl), e;
    char why[320];

    if (r == 1) {
        c->state = CONN_HANDSHAKE;
        send_apiversions(c);
        return;
    }
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        set_events(c, EV_READ | (e == SSL_ERROR_WANT_WRITE ? EV_WRITE : 0));
        return;
    }
    conn_fault(c, CONN_FAULT_TLS, tls_failure(c->ssl, r, why, sizeof(why)));
}

static void start_tls(struct conn *c)
{
    c->ssl = tls_session(c->set.security->tls, c->host, c->fd);
    if (!c->ssl) {
        conn_fault(c, CONN_FAULT_TLS, chute_errmsg());
        return;
    }
    c->state = CONN_TLS;
    tls_step(c);
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        conn_close(c, CONN_ERR_TRANSPORT, strerror(err ? err : errno));
        return;
    }
    if (c->set.security && c->set.security->tls) {
        start_tls(c);
        return;
    }
    c->state = CONN_HANDSHAKE;
    send_apiversions(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;

    (void)loop;
    if (c->state == CONN_CONNECTING) {
        if (revents & (EV_WRITE | EV_READ))
            on_connected(c);
        return;
    }
    if (c->state == CONN_TLS) {
        tls_step(c);
        return;
    }
    /* OpenSSL may need to read to write and the reverse: try both. */
    if (c->ssl)
        revents |= EV_READ | EV_WRITE;
    if ((revents & EV_READ) && c->fd >= 0)
        on_readable(c);
    if ((revents & EV_WRITE) && c->fd >= 0)
        on_writable(c);
}

static const char *api_name(int16_t api)
{
    switch (api) {
    case KAFKA_API_PRODUCE:
        return "Produce";
    case KAFKA_API_METADATA:
        return "Metadata";
    case KAFKA_API_API_VERSIONS:
        return "ApiVersions";
    case KAFKA_API_INIT_PRODUCER_ID:
        return "InitProducerId";
    case KAFKA_API_SASL_HANDSHAKE:
        return "SaslHandshake";
    case KAFKA_API_SASL_AUTHENTICATE:
        return "SaslAuthenticate";
    }
    return "unknown";
}

/* "request timed out (Metadata, socket.timeout.ms)": which limit passed. */
static const char *timeout_reason(const struct conn *c,
                                  const struct conn_pending *p, char *buf,
                                  size_t size)
{
    snprintf(buf, size, "%s timed out (%s, %s)",
             c->state == CONN_READY ? "request" : "handshake", api_name(p->api),
             p->api == KAFKA_API_PRODUCE ? "request.timeout.ms"
                                         : "socket.timeout.ms");
    return buf;
}

static void conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = w->data;
    const struct conn_pending *p = first_deadline(c);
    char why[96];

    (void)loop;
    (void)revents;
    if (connecting(c) && c->ready_by_ms <= mono_ms()) {
        conn_close(c, CONN_ERR_TIMEOUT,
                   c->state == CONN_TLS
                       ? "TLS handshake timed out (socket.timeout.ms)"
                       : "connect timed out (socket.timeout.ms)");
        return;
    }
    if (c->state == CONN_READY && !c->reauth_due &&
        ((c->reauth_at_ms && c->reauth_at_ms <= mono_ms()) ||
         (oauth(c) && sasl_token_changed(&c->sasl, c->set.security->sasl)))) {
        c->reauth_due = true;
        maybe_reauth(c);
        if (c->fd < 0)
            return;
    }
    if (p && p->deadline_ms <= mono_ms()) {
        conn_close(c, CONN_ERR_TIMEOUT,
                   timeout_reason(c, p, why, sizeof(why)));
        return;
    }
    arm_timer(c);
}

static void on_apiversions(struct conn *c, void *arg, int err,
                           const uint8_t *body, size_t len)
{
    (void)arg;
    if (err)
        return;
    int rc = kafka_apiversions_parse(body, len, c->apiversions_ver,
                                     &c->versions);
    if (rc < 0 && c->versions.error == KAFKA_ERR_UNSUPPORTED_VERSION &&
        c->apiversions_ver > 0) {
        /* The broker is older than ApiVersions v2: ask again lower. */
        c->apiversions_ver--;
        send_apiversions(c);
        return;
    }
    if (rc < 0 || c->versions.error) {
        conn_close(c, CONN_ERR_TRANSPORT, "ApiVersions failed");
        return;
    }
    if (c->set.security && c->set.security->sasl) {
        c->state = CONN_SASL;
        sasl_start(c, c->set.security->sasl);
        return;
    }
    became_ready(c);
}

/* The connection carries requests from now (again, after a re-auth). */
static void became_ready(struct conn *c)
{
    c->state = CONN_READY;
    c->fault = CONN_FAULT_NONE;
    c->fault_why[0] = 0;
    if (c->failures > 1)
        log_info("broker %d (%s:%d): connected again after %u failed "
                 "attempts", c->node_id, c->host, c->port, c->failures);
    else
        log_debug("broker %d (%s:%d) ready", c->node_id, c->host, c->port);
    c->failures = 0;
    c->unlogged = 0;
    if (c->owner.ready)
        c->owner.ready(c, c->owner.ctx);
}

void conn_sasl_done(struct conn *c, int64_t lifetime_ms)
{
    bool again = c->authenticated;

    c->authenticated = true;
    c->reauth_due = false;
    c->reauth_at_ms = 0;
    if (lifetime_ms > 0)
        c->reauth_at_ms = mono_ms() + (int64_t)((double)lifetime_ms *
                                                CONN_REAUTH_SHARE);
    if (again) {
        struct conn_faults *f = c->set.security->faults;
        c->reauths++;
        if (f && f->reauths)
            atomic_fetch_add_explicit(f->reauths, 1, memory_order_relaxed);
        log_debug("broker %d (%s:%d): re-authenticated (session lifetime "
                  "%lld ms)", c->node_id, c->host, c->port,
                  (long long)lifetime_ms);
    }
    became_ready(c);
}

void conn_sasl_failed(struct conn *c, const char *why)
{
    conn_fault(c, CONN_FAULT_SASL, why);
}

/* A re-authentication that is due starts once nothing is in flight:
 * the answers to requests sent before it still come. */
static void maybe_reauth(struct conn *c)
{
    if (!c->reauth_due || c->state != CONN_READY || c->pending_count)
        return;
    c->state = CONN_SASL;
    c->ready_by_ms = mono_ms() + *c->set.socket_timeout_ms;
    sasl_start(c, c->set.security->sasl);
}

static void send_apiversions(struct conn *c)
{
    int32_t corr = conn_corr(c);
    size_t start = c->out.len;

    /* ApiVersions v0-v2 requests have an empty body. */
    kafka_req_begin(&c->out, KAFKA_API_API_VERSIONS, c->apiversions_ver, corr,
                    c->client_id);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_API_VERSIONS, c->apiversions_ver, true,
              on_apiversions, NULL);
}
