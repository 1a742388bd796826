/*
 * test_conn.c: unit tests of broker/conn.c's time limits against brokers
 * on loopback that misbehave: one that never completes the TCP handshake
 * (its accept queue is full), one that accepts and never answers, and one
 * that answers ApiVersions and then nothing.  One table row per case: the
 * two limits, the broker, the requests pushed once the connection is
 * ready, and when the first failure must come.
 *
 * Then the limits on what a broker can make it do: a response frame
 * longer than CONN_FRAME_MAX (a table of lengths, and a broker that claims
 * 2 GB and streams junk: the connection closes after one read, its buffer
 * never grows past a read's worth), and the reconnect schedule against a
 * port that refuses (reconnect.backoff.ms and .max.ms with jitter, and one
 * warning logged however often it fails).
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/conn.h"
#include "common/log.h"
#include "common/proc.h"
#include "proto/kafka.h"

#define FILLERS 3      /* connects that fill a listen(fd, 0) queue */
#define GUARD_S 6.0    /* a case that waits longer has failed */

enum broker_kind {
    BLACKHOLE,         /* SYN dropped: the connect never completes */
    SILENT,            /* accepts, reads, never writes */
    HANDSHAKE_ONLY,    /* answers ApiVersions, nothing else */
    OVERSIZE,          /* answers ApiVersions, then a frame of 2 GB */
};

struct fake_broker {
    enum broker_kind kind;
    int listen_fd, client_fd, fillers[FILLERS];
    int port;
    ev_io accept_io, client_io;
    uint8_t in[4096];
    size_t in_len;
};

struct probe {
    struct ev_loop *loop;
    struct conn conn;
    int pushed, done;
    int64_t start_ms;  /* conn_want, or the push once ready */
    int64_t fail_ms;   /* first failure after start_ms, -1: none */
    int err;           /* the first failed request's */
};

static const struct conn_case {
    const char *name;
    enum broker_kind kind;
    int request_ms, socket_ms;
    int16_t apis[2];   /* pushed once ready; -1: none */
    int64_t min_ms, max_ms; /* first failure after start_ms */
} cases[] = {
    /* Without socket.timeout.ms these waited request.timeout.ms. */
    {"connect", BLACKHOLE, 3000, 200, {-1, -1}, 150, 1500},
    {"handshake", SILENT, 3000, 200, {-1, -1}, 150, 1500},
    {"metadata", HANDSHAKE_ONLY, 3000, 200, {KAFKA_API_METADATA, -1}, 150,
     1500},
    {"init producer id", HANDSHAKE_ONLY, 3000, 200,
     {KAFKA_API_INIT_PRODUCER_ID, -1}, 150, 1500},
    /* Produce keeps request.timeout.ms, not the shorter socket limit. */
    {"produce", HANDSHAKE_ONLY, 1000, 200, {KAFKA_API_PRODUCE, -1}, 900,
     2500},
    /* The earliest deadline counts, not the oldest request's. */
    {"metadata behind produce", HANDSHAKE_ONLY, 3000, 200,
     {KAFKA_API_PRODUCE, KAFKA_API_METADATA}, 150, 1500},
    /* ...and a long socket limit does not shorten Produce's. */
    {"socket longer", HANDSHAKE_ONLY, 300, 3000, {KAFKA_API_PRODUCE, -1}, 250,
     1500},
};

/* ---- the fake broker ------------------------------------------------------
 */

static int listen_loopback(int backlog, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Fills the accept queue of a listen(fd, 0) socket that never accepts:
 * the kernel drops every later SYN. */
static void fill_queue(struct fake_broker *b)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)b->port)};

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < FILLERS; i++) {
        b->fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(b->fillers[i], (struct sockaddr *)&a, sizeof(a));
    }
    usleep(100000); /* let the kernel settle the fillers' handshakes */
}

/* ApiVersions v0-2 answer: Produce 3-8, Metadata 1-8, ApiVersions 0-2,
 * InitProducerId 0-4. */
static void answer_apiversions(struct fake_broker *b, int32_t corr, int16_t ver)
{
    static const int16_t apis[][3] = {{KAFKA_API_PRODUCE, 3, 8},
                                      {KAFKA_API_METADATA, 1, 8},
                                      {KAFKA_API_API_VERSIONS, 0, 2},
                                      {KAFKA_API_INIT_PRODUCER_ID, 0, 4}};
    struct kbuf k;

    kbuf_init(&k);
    kbuf_i32(&k, 0);
    kbuf_i32(&k, corr);
    kbuf_i16(&k, 0);
    kbuf_i32(&k, 4);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            kbuf_i16(&k, apis[i][j]);
    if (ver >= 1)
        kbuf_i32(&k, 0);
    kbuf_patch_i32(&k, 0, (int32_t)k.len - 4);
    assert_int_equal(send(b->client_fd, k.data, k.len, MSG_NOSIGNAL),
                     (ssize_t)k.len);
    kbuf_release(&k);
}

/* A frame that claims 2 GB, then 1 MiB of it at once. */
static void answer_oversize(struct fake_broker *b)
{
    static uint8_t junk[1 << 20];
    size_t off = 0;

    memset(junk, 0x41, sizeof(junk));
    junk[0] = 0x7f, junk[1] = junk[2] = junk[3] = 0xff;
    while (off < sizeof(junk)) {
        ssize_t n = send(b->client_fd, junk + off, sizeof(junk) - off,
                         MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the socket's buffers are full: enough */
        off += (size_t)n;
    }
}

/* Reads request frames; answers ApiVersions if the broker does. */
static void client_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fake_broker *b = w->data;
    ssize_t n = recv(b->client_fd, b->in + b->in_len,
                     sizeof(b->in) - b->in_len, 0);
    struct kreader r;

    (void)revents;
    if (n <= 0) {
        ev_io_stop(loop, w);
        return;
    }
    b->in_len += (size_t)n;
    for (;;) {
        kr_init(&r, b->in, b->in_len);
        int32_t size = kr_i32(&r);
        if (r.err || b->in_len < 4 + (size_t)size)
            return;
        int16_t api = kr_i16(&r), ver = kr_i16(&r);
        int32_t corr = kr_i32(&r);
        if (api == KAFKA_API_API_VERSIONS && b->kind != SILENT)
            answer_apiversions(b, corr, ver);
        else if (b->kind == OVERSIZE)
            answer_oversize(b);
        memmove(b->in, b->in + 4 + size, b->in_len - 4 - (size_t)size);
        b->in_len -= 4 + (size_t)size;
    }
}

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct fake_broker *b = w->data;

    (void)revents;
    b->client_fd = accept4(b->listen_fd, NULL, NULL, SOCK_NONBLOCK);
    if (b->client_fd < 0)
        return;
    ev_io_stop(loop, w);
    ev_io_init(&b->client_io, client_cb, b->client_fd, EV_READ);
    b->client_io.data = b;
    ev_io_start(loop, &b->client_io);
}

static void fake_start(struct fake_broker *b, struct ev_loop *loop,
                       enum broker_kind kind)
{
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->client_fd = -1;
    for (int i = 0; i < FILLERS; i++)
        b->fillers[i] = -1;
    b->listen_fd = listen_loopback(kind == BLACKHOLE ? 0 : 8, &b->port);
    if (kind == BLACKHOLE) {
        fill_queue(b);
        return;
    }
    ev_io_init(&b->accept_io, accept_cb, b->listen_fd, EV_READ);
    b->accept_io.data = b;
    ev_io_start(loop, &b->accept_io);
}

static void fake_stop(struct fake_broker *b, struct ev_loop *loop)
{
    ev_io_stop(loop, &b->accept_io);
    ev_io_stop(loop, &b->client_io);
    for (int i = 0; i < FILLERS; i++)
        if (b->fillers[i] >= 0)
            close(b->fillers[i]);
    if (b->client_fd >= 0)
        close(b->client_fd);
    close(b->listen_fd);
}

/* ---- the connection under test --------------------------------------------
 */

static void failed_at(struct probe *p, int err)
{
    if (p->fail_ms < 0) {
        p->fail_ms = mono_ms() - p->start_ms;
        p->err = err;
    }
}

static void on_response(struct conn *c, void *arg, int err,
                        const uint8_t *body, size_t len)
{
    struct probe *p = arg;

    (void)c;
    (void)body;
    (void)len;
    if (err)
        failed_at(p, err);
    if (++p->done == p->pushed)
        ev_break(p->loop, EVBREAK_ALL);
}

static void push(struct probe *p, int16_t api)
{
    struct conn *c = &p->conn;
    int32_t corr = conn_corr(c);
    size_t start = c->out.len;

    /* The broker never reads past the header: any body will do. */
    kafka_req_begin(&c->out, api, 0, corr, c->client_id);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, api, 0, true, on_response, p);
    p->pushed++;
}

static const struct conn_case *running;

/* The oversize broker's request: one Metadata once ready. */
static void on_ready_metadata(struct conn *c, void *ctx)
{
    struct probe *p = ctx;

    (void)c;
    p->start_ms = mono_ms();
    push(p, KAFKA_API_METADATA);
}

static void on_ready(struct conn *c, void *ctx)
{
    struct probe *p = ctx;

    (void)c;
    p->start_ms = mono_ms();
    for (int i = 0; i < 2 && running->apis[i] >= 0; i++)
        push(p, running->apis[i]);
    if (!p->pushed)
        fail_msg("%s: the connection became ready", running->name);
}

static void on_down(struct conn *c, void *ctx)
{
    struct probe *p = ctx;

    (void)c;
    failed_at(p, CONN_ERR_TIMEOUT);
    ev_break(p->loop, EVBREAK_ALL);
}

static void guard_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)t;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

/* Connects and runs the loop until the probe is done, at most GUARD_S. */
static void connect_and_run(struct probe *p)
{
    ev_timer guard;

    ev_timer_init(&guard, guard_cb, GUARD_S, 0);
    ev_timer_start(p->loop, &guard);
    p->start_ms = mono_ms();
    conn_want(&p->conn);
    ev_run(p->loop, 0);
    ev_timer_stop(p->loop, &guard);
}

static void run_case(const struct conn_case *cc)
{
    static const int huge = 60000;
    struct fake_broker b;
    struct probe p = {.fail_ms = -1};
    struct conn_owner owner = {on_ready, on_down, &p};
    int request_ms = huge, socket_ms = huge;
    struct conn_settings set = {&request_ms, &socket_ms, NULL, NULL, NULL};

    running = cc;
    p.loop = ev_loop_new(EVFLAG_AUTO);
    fake_start(&b, p.loop, cc->kind);
    conn_init(&p.conn, p.loop, 1, "127.0.0.1", b.port, "test", &set, &owner);
    /* Set after conn_init: the limits are read at each use (a reload). */
    request_ms = cc->request_ms;
    socket_ms = cc->socket_ms;
    connect_and_run(&p);
    conn_release(&p.conn);
    fake_stop(&b, p.loop);
    ev_loop_destroy(p.loop);
    if (p.fail_ms < 0)
        fail_msg("%s: nothing failed within %.0f s", cc->name, GUARD_S);
    if (p.err != CONN_ERR_TIMEOUT || p.fail_ms < cc->min_ms ||
        p.fail_ms > cc->max_ms)
        fail_msg("%s (request.timeout.ms %d, socket.timeout.ms %d): failed "
                 "with %d after %lld ms, want %d within %lld..%lld ms",
                 cc->name, cc->request_ms, cc->socket_ms, p.err,
                 (long long)p.fail_ms, CONN_ERR_TIMEOUT,
                 (long long)cc->min_ms, (long long)cc->max_ms);
    printf("  %-24s failed after %lld ms\n", cc->name, (long long)p.fail_ms);
}

static void test_conn_case(void **state)
{
    run_case(*state);
}

/* ---- frame lengths ---------------------------------------------------- */

static const struct {
    uint32_t size;
    bool ok;
} frame_sizes[] = {
    {0, false},         {3, false},
    {4, true},          {65536, true},
    {CONN_FRAME_MAX, true}, {CONN_FRAME_MAX + 1, false},
    {0x7fffffff, false}, {UINT32_MAX, false},
};

static void test_conn_frame_ok(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(frame_sizes) / sizeof(frame_sizes[0]); i++)
        if (conn_frame_ok(frame_sizes[i].size) != frame_sizes[i].ok)
            fail_msg("a frame of %u bytes: %s", frame_sizes[i].size,
                     frame_sizes[i].ok ? "refused" : "taken");
}

/* The broker claims 2 GB for its answer and sends 1 MiB at once: the
 * request fails as a transport error, and the input buffer stays within
 * two reads (64 KiB each): it was never grown for the claim or the junk. */
static void test_conn_oversize(void **state)
{
    static const int limit_ms = 3000;
    struct fake_broker b;
    struct probe p = {.fail_ms = -1};
    struct conn_owner owner = {NULL, NULL, &p};
    struct conn_settings set = {&limit_ms, &limit_ms, NULL, NULL, NULL};
    size_t cap;

    (void)state;
    p.loop = ev_loop_new(EVFLAG_AUTO);
    fake_start(&b, p.loop, OVERSIZE);
    conn_init(&p.conn, p.loop, 1, "127.0.0.1", b.port, "test", &set, &owner);
    p.conn.owner.ready = on_ready_metadata;
    connect_and_run(&p);
    cap = p.conn.in_cap;
    conn_release(&p.conn);
    fake_stop(&b, p.loop);
    ev_loop_destroy(p.loop);
    if (p.fail_ms < 0 || p.err != CONN_ERR_TRANSPORT || p.fail_ms > 1500)
        fail_msg("the 2 GB frame failed with %d after %lld ms, want %d "
                 "at once", p.err, (long long)p.fail_ms, CONN_ERR_TRANSPORT);
    if (cap > 2 * 65536)
        fail_msg("the input buffer grew to %zu bytes", cap);
    printf("  2 GB frame refused after %lld ms, buffer %zu bytes\n",
           (long long)p.fail_ms, cap);
}

/* ---- reconnects ------------------------------------------------------- */

struct refused {
    struct ev_loop *loop;
    struct conn conn;
    int64_t at[64];    /* when each attempt failed */
    int attempts;
};

static void on_refused(struct conn *c, void *ctx)
{
    struct refused *r = ctx;

    (void)c;
    if (r->attempts < 64)
        r->at[r->attempts] = mono_ms();
    r->attempts++;
}

/* As an owner does: wants the connection every 5 ms. */
static void want_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct refused *r = t->data;

    (void)loop;
    (void)revents;
    conn_want(&r->conn);
}

/* A loopback port nobody listens on. */
static int closed_port(void)
{
    int port, fd = listen_loopback(1, &port);

    close(fd);
    return port;
}

/* Reads what went to stderr (fd 2) while fn ran. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    static char text[16384];
    FILE *tmp = tmpfile();
    int saved = dup(2);
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    dup2(fileno(tmp), 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

static void refuse_for_2s(void *arg)
{
    struct refused *r = arg;
    ev_timer want, guard;

    ev_timer_init(&want, want_cb, 0.005, 0.005);
    want.data = r;
    ev_timer_start(r->loop, &want);
    ev_timer_init(&guard, guard_cb, 2.0, 0);
    ev_timer_start(r->loop, &guard);
    ev_run(r->loop, 0);
    ev_timer_stop(r->loop, &want);
    ev_timer_stop(r->loop, &guard);
}

/* reconnect.backoff.ms 50 and .max.ms 400: attempt n + 1 starts
 * 0.75..1.5 x 50 x 2^n ms after attempt n (at most 400), give or take the
 * owner's 5 ms polling; and two seconds of refusals log one warning. */
static void test_conn_reconnect_backoff(void **state)
{
    static const int socket_ms = 1000, base = 50, max = 400;
    struct refused r = {0};
    struct conn_owner owner = {NULL, on_refused, &r};
    struct conn_settings set = {&socket_ms, &socket_ms, &base, &max, NULL};
    char *log;
    int64_t cur = base, warns = 0;

    (void)state;
    r.loop = ev_loop_new(EVFLAG_AUTO);
    conn_init(&r.conn, r.loop, 7, "127.0.0.1", closed_port(), "test", &set,
              &owner);
    log_set_level(LOG_WARN);
    log = capture_stderr(refuse_for_2s, &r);
    log_set_level(LOG_ERROR);
    conn_release(&r.conn);
    ev_loop_destroy(r.loop);
    /* 50, 100, 200, 400, 400...: about 8 attempts in 2 s, never 2000/5. */
    if (r.attempts < 5 || r.attempts > 14)
        fail_msg("%d attempts in 2 s", r.attempts);
    for (int i = 1; i < r.attempts && i < 64; i++) {
        int64_t gap = r.at[i] - r.at[i - 1];
        int64_t lo = cur * 3 / 4 - 5, hi = (cur * 3 / 2 < max ? cur * 3 / 2
                                                               : max) + 25;
        if (gap < lo || gap > hi)
            fail_msg("attempt %d came %lld ms after the one before, want "
                     "%lld..%lld", i + 1, (long long)gap, (long long)lo,
                     (long long)hi);
        cur = cur * 2 < max ? cur * 2 : max;
    }
    for (char *l = log; (l = strstr(l, " WARN ")); l++)
        warns++;
    if (warns != 1 || !strstr(log, "broker 7 (127.0.0.1:"))
        fail_msg("%d attempts logged %lld warnings:\n%s", r.attempts,
                 (long long)warns, log);
    printf("  %d attempts refused in 2 s, %lld warning\n", r.attempts,
           (long long)warns);
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 3];
    size_t n = 0;

    log_set_level(LOG_ERROR); /* each case's timeout is a WARN */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tests[n++] = (struct CMUnitTest){.name = cases[i].name,
                                         .test_func = test_conn_case,
                                         .initial_state = (void *)&cases[i]};
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_conn_frame_ok);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_conn_oversize);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test(test_conn_reconnect_backoff);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
