/*
 * metrics.c: the Prometheus endpoint (metrics.listen=HOST:PORT), served
 * from the supervisor's libev loop.
 *
 * HTTP/1.0 style: one request per connection, answered and closed.  A
 * request is read whole (at most METRICS_REQUEST_MAX bytes, up to the blank
 * line that ends its headers) without blocking; a connection that sends
 * garbage, too much, or not all of it within METRICS_TIMEOUT_S is
 * answered with an error or just closed.  GET (or HEAD) /metrics gets the
 * text exposition format 0.0.4 (docs/metrics.md lists every metric), any
 * other path 404, any other method 405.
 *
 * Everything is read from the shared memory at scrape time: the workers'
 * counters and histograms (shm/metrics.h), the rings, the pool, the topic
 * and error tables and the clients' refusal counters.  The values are
 * relaxed atomics read one by one, so a scrape is not a snapshot; each
 * histogram's _count is the sum of its buckets, so +Inf always equals it.
 *
 * The workers are forked from the supervisor without exec: a fork handler
 * closes this file's sockets in the child, so a worker never holds the
 * port or a scrape's connection open.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "proto/kafka.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define METRICS_REQUEST_MAX 8192
#define METRICS_CONNS_MAX 32
#define METRICS_TIMEOUT_S 5.0     /* to send the whole request */
#define METRICS_WRITE_TIMEOUT_S 10.0 /* to take the whole answer */
#define METRICS_ACCEPT_PAUSE_S 1.0 /* after EMFILE and the like */

struct mconn {
    int fd;
    bool writing;
    ev_io io;
    ev_timer timer;
    char *out;                /* the answer, headers included */
    size_t out_len, out_off;
    size_t len;
    char req[METRICS_REQUEST_MAX];
};

/* One supervisor per process: its endpoint. */
static struct {
    struct sup *s;
    int fd;
    ev_io io;
    ev_timer pause;           /* accepting again after a failed accept */
    struct mconn *conns[METRICS_CONNS_MAX];
    bool atfork;
} M = {.fd = -1};

/* ---- rendering ---------------------------------------------------------- */

static void family(FILE *f, const char *name, const char *type,
                   const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped per the text format (backslash, double quote,
 * newline).  Other control and non-ASCII bytes, which no valid topic
 * name holds, become '?' so that the output stays valid UTF-8. */
static void label_value(FILE *f, const char *v, size_t max)
{
    for (size_t i = 0; i < max && v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else
            fputc(c >= 0x20 && c < 0x7f ? c : '?', f);
    }
}

/* v / 10^decimals as an exact decimal, without trailing zeros. */
static void scaled(FILE *f, uint64_t v, unsigned decimals)
{
    uint64_t p = 1;
    char frac[24];
    int n;

    for (unsigned i = 0; i < decimals; i++)
        p *= 10;
    fprintf(f, "%" PRIu64, v / p);
    if (v % p == 0)
        return;
    n = snprintf(frac, sizeof(frac), "%0*" PRIu64, (int)decimals, v % p);
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    fprintf(f, ".%s", frac);
}

static uint64_t load(_Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

struct hist {
    uint64_t bucket[METRICS_BUCKETS];
    uint64_t sum;
};

static void hist_add(struct hist *h, struct metrics_hist *m)
{
    for (unsigned i = 0; i < METRICS_BUCKETS; i++)
        h->bucket[i] += load(&m->bucket[i]);
    h->sum += load(&m->sum);
}

/* The samples of one histogram: bucket i holds values up to base << i
 * (the last one everything), in units of 10^-decimals.  `labels` is ""
 * or preformatted `name="value"` pairs. */
static void hist_put(FILE *f, const char *name, const char *labels,
                     const struct hist *h, uint64_t base, unsigned decimals)
{
    const char *sep = *labels ? "," : "";
    uint64_t cum = 0;

    for (unsigned i = 0; i < METRICS_BUCKETS; i++) {
        cum += h->bucket[i];
        fprintf(f, "%s_bucket{%s%sle=\"", name, labels, sep);
        if (i + 1 < METRICS_BUCKETS)
            scaled(f, base << i, decimals);
        else
            fputs("+Inf", f);
        fprintf(f, "\"} %" PRIu64 "\n", cum);
    }
    fprintf(f, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels,
            *labels ? "}" : "");
    scaled(f, h->sum, decimals);
    fprintf(f, "\n%s_count%s%s%s %" PRIu64 "\n", name, *labels ? "{" : "",
            labels, *labels ? "}" : "", cum);
}

/* A counter or gauge without labels. */
static void single(FILE *f, const char *name, const char *type,
                   const char *help, uint64_t v)
{
    family(f, name, type, help);
    fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* TLS and SASL to the brokers, the supervisor's and every worker's. */
static void put_security(FILE *f, struct sup *s)
{
    struct security_counts n;

    security_count(&s->sec, &s->in, &n);
    single(f, "chute_broker_tls_failures_total", "counter",
           "Broker connections that failed in TLS (certificate, name, "
           "protocol).", n.tls_failures);
    single(f, "chute_broker_sasl_failures_total", "counter",
           "Broker connections that failed SASL authentication.",
           n.sasl_failures);
    single(f, "chute_broker_reauthentications_total", "counter",
           "SASL re-authentications before the session lifetime ran out "
           "(KIP-368).", n.reauths);
}

static bool topic_ready(struct sup *s, uint32_t id)
{
    return id < TOPIC_MAX &&
           atomic_load(&instance_topic(&s->in, id)->state) == TOPIC_READY;
}

static void topic_label(FILE *f, struct sup *s, uint32_t id)
{
    fputs("topic=\"", f);
    label_value(f, instance_topic(&s->in, id)->name, TOPIC_NAME_MAX + 1);
    fputc('"', f);
}

static void put_failed(void *ctx, uint32_t topic, int16_t error,
                       uint64_t records)
{
    void **a = ctx;
    FILE *f = a[0];
    const char *name = kafka_err_name(error);

    if (!topic_ready(a[1], topic))
        return;
    fputs("chute_records_failed_total{", f);
    topic_label(f, a[1], topic);
    /* Codes kafka_err_name() does not know all share one name: keep
     * their series apart. */
    if (strcmp(name, "UNKNOWN") == 0)
        fprintf(f, ",error=\"UNKNOWN_%d\"} %" PRIu64 "\n", error, records);
    else
        fprintf(f, ",error=\"%s\"} %" PRIu64 "\n", name, records);
}

static void render_records(FILE *f, struct sup *s)
{
    static const char *const reasons[REFUSED_REASONS] = {
        [REFUSED_TOO_LARGE] = "too_large",
        [REFUSED_QUEUE_FULL] = "queue_full",
        [REFUSED_CLOSED] = "closed",
        [REFUSED_INVALID] = "invalid",
    };
    uint64_t sent = 0, bytes = 0, batches = 0, requests = 0, invalid = 0;
    uint64_t retries = 0;
    void *ctx[2] = {f, s};

    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_worker *w = instance_worker(&s->in, i);
        sent += load(&w->records_sent);
        bytes += load(&w->bytes_sent);
        batches += load(&w->batches_sent);
        requests += load(&w->requests_sent);
        invalid += load(&w->records_invalid);
        retries += load(&instance_metrics(&s->in, i)->retries);
    }
    single(f, "chute_records_sent_total", "counter",
           "Records the workers took from the rings.", sent);
    family(f, "chute_records_acked_total", "counter",
           "Records the cluster acknowledged, by topic.");
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        if (!topic_ready(s, id))
            continue;
        fputs("chute_records_acked_total{", f);
        topic_label(f, s, id);
        fprintf(f, "} %" PRIu64 "\n", load(&s->in.state->topic_acked[id]));
    }
    family(f, "chute_records_failed_total", "counter",
           "Records that failed for good, by topic and Kafka error.");
    instance_each_error(&s->in, put_failed, ctx);
    single(f, "chute_records_invalid_total", "counter",
           "Records the workers rejected as malformed.", invalid);
    put_security(f, s);
    family(f, "chute_records_refused_total", "counter",
           "Records chute_send() refused, by reason.");
    for (unsigned r = 0; r < REFUSED_INVALID + 1; r++) {
        uint64_t n = 0;
        for (uint32_t u = 0; u < s->in.users; u++)
            n += load(&s->in.user[u]->refused[r]); /* clients' own word */
        fprintf(f, "chute_records_refused_total{reason=\"%s\"} %" PRIu64 "\n",
                reasons[r], n);
    }
    single(f, "chute_bytes_sent_total", "counter",
           "Bytes of record batches sent in Produce requests.", bytes);
    single(f, "chute_batches_sent_total", "counter",
           "Record batches sent, retries included.", batches);
    single(f, "chute_requests_sent_total", "counter",
           "Produce requests sent.", requests);
    single(f, "chute_retries_total", "counter",
           "Batches sent again after an error.", retries);
}

static void render_batches(FILE *f, struct sup *s)
{
    struct hist bytes = {{0}, 0}, records = {{0}, 0}, ratio = {{0}, 0};

    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_metrics *m = instance_metrics(&s->in, i);
        hist_add(&bytes, &m->batch_bytes);
        hist_add(&records, &m->batch_records);
        hist_add(&ratio, &m->compression);
    }
    family(f, "chute_batch_size_bytes", "histogram",
           "Size of sealed record batches on the wire.");
    hist_put(f, "chute_batch_size_bytes", "", &bytes, 1024, 0);
    family(f, "chute_batch_records", "histogram", "Records per batch.");
    hist_put(f, "chute_batch_records", "", &records, 1, 0);
    family(f, "chute_batch_compression_ratio", "histogram",
           "Uncompressed over wire size of each batch.");
    hist_put(f, "chute_batch_compression_ratio", "", &ratio, 100, 2);
}

struct broker_sum {
    int32_t id;
    struct hist latency;
    uint64_t errors;
};

static int broker_cmp(const void *a, const void *b)
{
    int32_t x = ((const struct broker_sum *)a)->id;
    int32_t y = ((const struct broker_sum *)b)->id;

    return (x > y) - (x < y);
}

static void render_brokers(FILE *f, struct sup *s)
{
    struct broker_sum *b = calloc(WORKER_MAX * METRICS_BROKERS, sizeof(*b));
    size_t n = 0, k;
    char labels[32];

    if (!b)
        return;
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_metrics *m = instance_metrics(&s->in, i);
        for (unsigned j = 0; j < METRICS_BROKERS; j++) {
            int32_t id = atomic_load_explicit(&m->brokers[j].node_id,
                                              memory_order_relaxed);
            if (id == -1)
                continue;
            for (k = 0; k < n && b[k].id != id; k++)
                ;
            if (k == n)
                b[n++].id = id;
            hist_add(&b[k].latency, &m->brokers[j].latency_us);
            b[k].errors += load(&m->brokers[j].errors);
        }
    }
    qsort(b, n, sizeof(*b), broker_cmp);
    family(f, "chute_request_latency_seconds", "histogram",
           "Produce request round trips, by broker id.");
    for (k = 0; k < n; k++) {
        snprintf(labels, sizeof(labels), "broker=\"%" PRId32 "\"", b[k].id);
        hist_put(f, "chute_request_latency_seconds", labels, &b[k].latency,
                 250, 6);
    }
    family(f, "chute_request_errors_total", "counter",
           "Produce requests that failed (transport error or timeout), "
           "by broker id.");
    for (k = 0; k < n; k++)
        fprintf(f, "chute_request_errors_total{broker=\"%" PRId32
                   "\"} %" PRIu64 "\n",
                b[k].id, b[k].errors);
    free(b);
}

static uint64_t ring_fill(const struct sup *s, const struct ring *r)
{
    /* Clients write tail: keep what it says within bounds. */
    uint64_t head = load(&r->cons->head), tail = load(&r->prod->tail);
    uint64_t fill = tail > head ? tail - head : 0;

    return fill < s->in.ring_size ? fill : s->in.ring_size;
}

static uint64_t ring_dead(const struct sup *s, const struct ring *r)
{
    (void)s;
    return load(&r->cons->dead_writers);
}

static uint64_t ring_corrupt(const struct sup *s, const struct ring *r)
{
    (void)s;
    return load(&r->cons->corrupt);
}

static uint64_t ring_blocked(const struct sup *s, const struct ring *r)
{
    (void)s;
    return pid_alive(atomic_load(&r->cons->blocked_by));
}

/* Per user space bound to a uid: refusals of the topic access rules and
 * objects found cut short. */
static void render_users(FILE *f, struct sup *s)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } per_user[] = {
        {"chute_user_refused_acl_total",
         "Topic resolves and records refused by the access rules (acl.*), "
         "by uid.", offsetof(struct status_user, refused)},
        {"chute_user_truncated_total",
         "Times a service process found a uid's shared memory cut short by "
         "a client (its records lost), by uid.",
         offsetof(struct status_user, truncated)},
    };

    for (size_t m = 0; m < sizeof(per_user) / sizeof(per_user[0]); m++) {
        family(f, per_user[m].name, "counter", per_user[m].help);
        for (uint32_t u = 0; u < s->in.users; u++) {
            struct status_user *su = instance_user(&s->in, u);
            if (!atomic_load(&su->bound))
                continue;
            fprintf(f, "%s{uid=\"%" PRIu32 "\"} %" PRIu64 "\n",
                    per_user[m].name, atomic_load(&su->uid),
                    load((_Atomic uint64_t *)((uint8_t *)su +
                                              per_user[m].off)));
        }
    }
}

static void render_rings(FILE *f, struct sup *s)
{
    static const struct {
        const char *name, *type, *help;
        uint64_t (*get)(const struct sup *s, const struct ring *r);
    } per_slot[] = {
        {"chute_ring_fill_bytes", "gauge",
         "Bytes claimed and not yet consumed in a slot's ring.", ring_fill},
        {"chute_ring_dead_writers_total", "counter",
         "Claimed records whose writer died or never wrote them, skipped.",
         ring_dead},
        {"chute_ring_corrupt_bytes_total", "counter",
         "Ring bytes skipped as corrupt.", ring_corrupt},
        {"chute_ring_blocked", "gauge",
         "1 while a live writer's unfinished record holds the ring.",
         ring_blocked},
    };
    struct ring r;

    for (size_t m = 0; m < sizeof(per_slot) / sizeof(per_slot[0]); m++) {
        family(f, per_slot[m].name, per_slot[m].type, per_slot[m].help);
        for (uint32_t i = 0; i < s->in.slots; i++) {
            instance_ring(&s->in, i, &r);
            fprintf(f, "%s{slot=\"%" PRIu32 "\"} %" PRIu64 "\n",
                    per_slot[m].name, i, per_slot[m].get(s, &r));
        }
    }
    single(f, "chute_ring_size_bytes", "gauge", "Bytes of data per ring.",
           s->in.ring_size);
}

/* Workers of the configuration, and retired ones still draining. */
static bool worker_listed(const struct sup *s, uint32_t i)
{
    return i < s->worker_count || s->workers[i].pid > 0;
}

static void render_pool_workers(FILE *f, struct sup *s)
{
    static const char *const states[] = {
        [CHUNK_FREE] = "free",
        [CHUNK_OPEN] = "open",
        [CHUNK_SEALED] = "sealed",
        [CHUNK_IN_FLIGHT] = "in_flight",
    };
    uint64_t count[4] = {0};

    for (uint32_t i = 0; i < s->in.chunk_count; i++) {
        uint32_t st = atomic_load_explicit(&instance_chunk(&s->in, i)->state,
                                           memory_order_relaxed);
        if (st < 4)
            count[st]++;
    }
    family(f, "chute_pool_chunks", "gauge",
           "Buffer pool chunks, by state.");
    for (unsigned i = 0; i < 4; i++)
        fprintf(f, "chute_pool_chunks{state=\"%s\"} %" PRIu64 "\n", states[i],
                count[i]);
    single(f, "chute_pool_capacity_chunks", "gauge",
           "Buffer pool chunks in all.", s->in.chunk_count);
    family(f, "chute_worker_restarts_total", "counter",
           "Times the supervisor restarted a worker.");
    for (uint32_t i = 0; i < WORKER_MAX; i++)
        if (worker_listed(s, i))
            fprintf(f,
                    "chute_worker_restarts_total{worker=\"%" PRIu32 "\"} %u\n",
                    i, atomic_load(&instance_worker(&s->in, i)->restarts));
    family(f, "chute_worker_up", "gauge", "1 while the worker runs.");
    for (uint32_t i = 0; i < WORKER_MAX; i++)
        if (worker_listed(s, i))
            fprintf(f, "chute_worker_up{worker=\"%" PRIu32 "\"} %d\n", i,
                    s->workers[i].pid > 0);
}

/* The control socket: the supervisor's own counters (struct
 * sup_ctl_stats), which start from 0 with each chuted. */
static void render_control(FILE *f, struct sup *s)
{
    const struct sup_ctl_stats *st = &s->ctl_stats;

    single(f, "chute_control_connections", "gauge",
           "Control-socket connections open.", ctlserver_connections(s));
    family(f, "chute_control_refused_total", "counter",
           "Control requests and connections refused, by reason.");
    fprintf(f, "chute_control_refused_total{reason=\"not_admin\"} %" PRIu64
               "\n", st->refused_not_admin);
    fprintf(f, "chute_control_refused_total{reason=\"user_limit\"} %" PRIu64
               "\n", st->refused_user_limit);
    fprintf(f, "chute_control_refused_total{reason=\"full\"} %" PRIu64 "\n",
            st->refused_full);
    family(f, "chute_control_closed_total", "counter",
           "Control connections chuted closed, by reason.");
    fprintf(f, "chute_control_closed_total{reason=\"idle\"} %" PRIu64 "\n",
            st->closed_idle);
    fprintf(f, "chute_control_closed_total{reason=\"request_timeout\"} %"
               PRIu64 "\n", st->closed_request_timeout);
    fprintf(f, "chute_control_closed_total{reason=\"too_large\"} %" PRIu64
               "\n", st->closed_too_large);
    single(f, "chute_control_accept_pauses_total", "counter",
           "Times accept() ran out of descriptors or memory and the control "
           "socket was left alone for a while.", st->accept_pauses);
}

/* The exposition, malloc'ed; NULL when out of memory. */
static char *render(struct sup *s, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    if (!f)
        return NULL;
    render_records(f, s);
    render_batches(f, s);
    render_brokers(f, s);
    render_rings(f, s);
    render_users(f, s);
    render_pool_workers(f, s);
    render_control(f, s);
    if (ferror(f) | fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- HTTP ----------------------------------------------------------------- */

static void conn_close(struct mconn *c)
{
    for (unsigned i = 0; i < METRICS_CONNS_MAX; i++)
        if (M.conns[i] == c)
            M.conns[i] = NULL;
    ev_io_stop(M.s->loop, &c->io);
    ev_timer_stop(M.s->loop, &c->timer);
    close(c->fd);
    free(c->out);
    free(c);
}

/* Sends what is left of the answer; closes once it is all sent. */
static void conn_flush(struct mconn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return; /* the EV_WRITE watcher calls again */
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    conn_close(c);
}

/* Queues an answer and starts sending it. */
static void respond(struct mconn *c, const char *status, const char *extra,
                    const char *type, const char *body, size_t body_len,
                    bool head)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
                     status, type, body_len, extra);

    if (head)
        body_len = 0;
    c->out = malloc((size_t)n + body_len);
    if (n < 0 || (size_t)n >= sizeof(hdr) || !c->out) {
        conn_close(c);
        return;
    }
    memcpy(c->out, hdr, (size_t)n);
    if (body_len)
        memcpy(c->out + n, body, body_len);
    c->out_len = (size_t)n + body_len;
    c->writing = true;
    ev_io_stop(M.s->loop, &c->io);
    ev_io_set(&c->io, c->fd, EV_WRITE);
    ev_io_start(M.s->loop, &c->io);
    ev_timer_stop(M.s->loop, &c->timer);
    ev_timer_set(&c->timer, METRICS_WRITE_TIMEOUT_S, 0);
    ev_timer_start(M.s->loop, &c->timer);
    conn_flush(c);
}

static void respond_text(struct mconn *c, const char *status,
                         const char *extra, const char *body, bool head)
{
    respond(c, status, extra, "text/plain; charset=utf-8", body,
            strlen(body), head);
}

static bool is_tchar(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The request's headers are all in: answer it. */
static void handle(struct mconn *c)
{
    char *line = c->req, *eol = memchr(line, '\n', c->len);
    char *method, *target, *version, *p;
    size_t mlen, tlen;
    bool head;

    if (eol > line && eol[-1] == '\r')
        eol--;
    *eol = '\0';
    /* METHOD SP TARGET SP HTTP/1.x */
    method = line;
    for (p = method; is_tchar(*p); p++)
        ;
    mlen = (size_t)(p - method);
    if (!mlen || *p != ' ')
        goto bad;
    target = p + 1;
    for (p = target; *p > ' ' && *p < 0x7f; p++)
        ;
    tlen = (size_t)(p - target);
    if (!tlen || *target != '/' || *p != ' ')
        goto bad;
    version = p + 1;
    if (strncmp(version, "HTTP/1.", 7) != 0 || version[7] < '0' ||
        version[7] > '9' || version[8])
        goto bad;
    head = mlen == 4 && memcmp(method, "HEAD", 4) == 0;
    if (!head && !(mlen == 3 && memcmp(method, "GET", 3) == 0)) {
        respond_text(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
                     "only GET and HEAD\n", false);
        return;
    }
    p = memchr(target, '?', tlen);
    if (p)
        tlen = (size_t)(p - target);
    if (tlen == 8 && memcmp(target, "/metrics", 8) == 0) {
        size_t len;
        char *text = render(M.s, &len);
        if (!text) {
            respond_text(c, "500 Internal Server Error", "",
                         "out of memory\n", head);
            return;
        }
        respond(c, "200 OK", "", "text/plain; version=0.0.4", text, len,
                head);
        free(text);
        return;
    }
    respond_text(c, "404 Not Found", "", "try /metrics\n", head);
    return;
bad:
    respond_text(c, "400 Bad Request", "", "malformed request\n", false);
}

/* True once the request holds the blank line that ends its headers. */
static bool request_complete(const struct mconn *c)
{
    for (size_t i = 1; i < c->len; i++)
        if (c->req[i] == '\n' &&
            (c->req[i - 1] == '\n' ||
             (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')))
            return true;
    return false;
}

static void http_conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct mconn *c = io->data;
    ssize_t n;

    (void)loop;
    (void)revents;
    if (c->writing) {
        conn_flush(c);
        return;
    }
    n = recv(c->fd, c->req + c->len, sizeof(c->req) - c->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) { /* gone before the request was whole */
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    if (request_complete(c))
        handle(c);
    else if (c->len == sizeof(c->req))
        respond_text(c, "431 Request Header Fields Too Large", "",
                     "request too large\n", false);
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    conn_close(t->data);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents);

static void pause_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)t;
    (void)revents;
    ev_io_start(loop, &M.io);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    (void)io;
    (void)revents;
    for (;;) {
        int fd = accept4(M.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct mconn *c = NULL;
        unsigned i;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* Out of descriptors or memory: level-triggered, the
                 * watcher would spin; try again a little later. */
                log_warn("metrics: accept: %s", strerror(errno));
                ev_io_stop(loop, &M.io);
                ev_timer_set(&M.pause, METRICS_ACCEPT_PAUSE_S, 0);
                ev_timer_start(loop, &M.pause);
            }
            return;
        }
        for (i = 0; i < METRICS_CONNS_MAX && M.conns[i]; i++)
            ;
        if (i < METRICS_CONNS_MAX)
            c = malloc(sizeof(*c));
        if (!c) {
            close(fd); /* too many scrapes at once */
            continue;
        }
        c->fd = fd;
        c->writing = false;
        c->out = NULL;
        c->out_len = c->out_off = c->len = 0;
        ev_io_init(&c->io, http_conn_cb, fd, EV_READ);
        c->io.data = c;
        ev_timer_init(&c->timer, conn_timeout_cb, METRICS_TIMEOUT_S, 0);
        c->timer.data = c;
        ev_io_start(loop, &c->io);
        ev_timer_start(loop, &c->timer);
        M.conns[i] = c;
    }
}

/* In a forked worker: let go of the port and of every scrape. */
static void metrics_atfork_child(void)
{
    if (M.fd >= 0)
        close(M.fd);
    M.fd = -1;
    for (unsigned i = 0; i < METRICS_CONNS_MAX; i++) {
        if (M.conns[i])
            close(M.conns[i]->fd);
        M.conns[i] = NULL; /* the child never frees: it only drops them */
    }
}

/* ---- start and stop --------------------------------------------------- */

/* Splits "HOST:PORT" ("[V6]:PORT"; an empty host or "*" means any
 * address) and opens a listening socket on it. */
static int listen_on(const char *orig)
{
    const char *spec = orig, *colon = strrchr(spec, ':');
    char host[256], *end;
    const char *node;
    size_t hlen;
    long port;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    int fd = -1, rc, one = 1, saved = 0;

    if (!colon)
        return err_set(CHUTE_ERR_INVALID,
                       "metrics.listen \"%s\": expected HOST:PORT", spec);
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port < 1 || port > 65535)
        return err_set(CHUTE_ERR_INVALID,
                       "metrics.listen \"%s\": the port must be 1 to 65535",
                       spec);
    hlen = (size_t)(colon - spec);
    if (hlen >= 2 && spec[0] == '[' && spec[hlen - 1] == ']') {
        spec++;
        hlen -= 2;
    } else if (memchr(spec, ':', hlen) || memchr(spec, '[', hlen)) {
        return err_set(CHUTE_ERR_INVALID,
                       "metrics.listen \"%s\": write an IPv6 host in brackets",
                       spec);
    }
    if (hlen >= sizeof(host))
        return err_set(CHUTE_ERR_INVALID,
                       "metrics.listen \"%s\": host name too long", spec);
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    node = !hlen || strcmp(host, "*") == 0 ? NULL : host;
    rc = getaddrinfo(node, colon + 1, &hints, &res);
    if (rc != 0)
        return err_set(CHUTE_ERR_INVALID, "metrics.listen \"%s\": %s", orig,
                       gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = saved;
        return err_sys("cannot listen on metrics.listen \"%s\"", orig);
    }
    return fd;
}

int metrics_start(struct sup *s)
{
    const char *spec = s->cfg.metrics_listen;
    int fd;

    if (!spec || !*spec)
        return 0;
    fd = listen_on(spec);
    if (fd < 0)
        return fd;
    if (!M.atfork) {
        if (pthread_atfork(NULL, NULL, metrics_atfork_child) != 0) {
            close(fd);
            return err_set(CHUTE_ERR_SYSTEM,
                           "metrics: cannot register a fork handler");
        }
        M.atfork = true;
    }
    M.s = s;
    M.fd = fd;
    ev_io_init(&M.io, accept_cb, fd, EV_READ);
    ev_timer_init(&M.pause, pause_cb, METRICS_ACCEPT_PAUSE_S, 0);
    ev_io_start(s->loop, &M.io);
    log_info("metrics on http://%s/metrics", spec);
    return 0;
}

void metrics_stop(struct sup *s)
{
    (void)s;
    if (M.fd < 0)
        return;
    for (unsigned i = 0; i < METRICS_CONNS_MAX; i++)
        if (M.conns[i])
            conn_close(M.conns[i]);
    ev_io_stop(M.s->loop, &M.io);
    ev_timer_stop(M.s->loop, &M.pause);
    close(M.fd);
    M.fd = -1;
}
