/*
 * sender.c: sealed batches to Produce requests.  For each broker whose
 * connection has room for another request, it takes the head batch of
 * every partition that broker leads (one batch per partition in flight,
 * which keeps per-partition order through retries), frames one Produce
 * request, and handles the answer: acknowledge, retry with backoff until
 * message.timeout.ms, or fail.
 */
#include "common/log.h"
#include "common/proc.h"
#include "proto/kafka.h"
#include "worker/wrk.h"

#include <stdlib.h>
#include <string.h>

#define REQUEST_BYTES_MAX (64u << 20)

struct req_entry {
    struct wpart *part;
    int32_t chunk;
    bool done;
};

struct produce_req {
    struct wrk *w;
    int32_t node;
    int16_t ver;
    size_t n;
    struct req_entry e[];
};

static int32_t queue_pop(struct wrk *w, struct wpart *p)
{
    int32_t idx = p->q_head;

    p->q_head = w->chunk_next[idx];
    if (p->q_head == WRK_NONE)
        p->q_tail = WRK_NONE;
    return idx;
}

static void queue_push_front(struct wrk *w, struct wpart *p, int32_t idx)
{
    w->chunk_next[idx] = p->q_head;
    p->q_head = idx;
    if (p->q_tail == WRK_NONE)
        p->q_tail = idx;
}

static bool sendable(const struct wpart *p, int32_t node, int64_t now)
{
    return p->leader == node && p->q_head != WRK_NONE &&
           p->in_flight == WRK_NONE && p->retry_at_ms <= now;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct req_entry *x = a, *y = b;

    if (x->part->topic != y->part->topic)
        return x->part->topic < y->part->topic ? -1 : 1;
    return (x->part->partition > y->part->partition) -
           (x->part->partition < y->part->partition);
}

static struct produce_req *collect(struct wrk *w, int32_t node)
{
    int64_t now = mono_ms();
    size_t n = 0, bytes = 0;
    struct produce_req *req;

    for (struct wpart *p = w->parts; p; p = p->next)
        n += sendable(p, node, now);
    if (n == 0)
        return NULL;
    req = malloc(sizeof(*req) + n * sizeof(req->e[0]));
    if (!req)
        return NULL;
    req->w = w;
    req->node = node;
    req->n = 0;
    for (struct wpart *p = w->parts; p && req->n < n; p = p->next) {
        if (!sendable(p, node, now))
            continue;
        struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)p->q_head);
        if (req->n && bytes + ch->wire_len > REQUEST_BYTES_MAX)
            break;
        bytes += ch->wire_len;
        p->in_flight = queue_pop(w, p);
        req->e[req->n++] = (struct req_entry){p, p->in_flight, false};
    }
    qsort(req->e, req->n, sizeof(req->e[0]), cmp_entry);
    return req;
}

static void frame_request(struct wrk *w, struct conn *c, int16_t ver,
                          struct produce_req *req, int32_t corr)
{
    size_t start = c->out.len, topics = 0;

    for (size_t i = 0; i < req->n; i++)
        topics += i == 0 || req->e[i].part->topic != req->e[i - 1].part->topic;
    kafka_produce_begin(&c->out, ver, corr, w->s->client_id, w->s->acks,
                        w->s->request_timeout_ms, topics);
    for (size_t i = 0, j; i < req->n; i = j) {
        for (j = i; j < req->n && req->e[j].part->topic == req->e[i].part->topic;
             j++)
            ;
        kafka_produce_topic(&c->out, w->topics[req->e[i].part->topic].name,
                            j - i);
        for (size_t k = i; k < j; k++) {
            struct pool_chunk *ch =
                instance_chunk(w->in, (uint32_t)req->e[k].chunk);
            atomic_store_explicit(&ch->state, CHUNK_IN_FLIGHT,
                                  memory_order_release);
            kafka_produce_partition(&c->out, req->e[k].part->partition,
                                    (const uint8_t *)(ch + 1), ch->wire_len);
        }
    }
    kafka_req_end(&c->out, start);
}

static void finish(struct wrk *w, struct req_entry *e, int16_t error)
{
    struct wpart *p = e->part;

    e->done = true;
    p->in_flight = WRK_NONE;
    p->retries = 0;
    if (error)
        log_warn("topic \"%s\" partition %d: %u records failed: %s",
                 w->topics[p->topic].name, p->partition,
                 instance_chunk(w->in, (uint32_t)e->chunk)->count,
                 kafka_err_name(error));
    accum_resolve(w, e->chunk, error);
}

static bool expired(struct wrk *w, int32_t chunk)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)chunk);

    return clock_ns(CLOCK_MONOTONIC) - ch->opened_ns >=
           (int64_t)w->s->message_timeout_ms * 1000000;
}

/* Puts the batch back at the head of its partition's queue, after a
 * backoff that doubles with every retry up to retry.backoff.max.ms. */
static void retry(struct wrk *w, struct req_entry *e, int16_t error)
{
    struct wpart *p = e->part;
    int64_t backoff = (int64_t)w->s->retry_backoff_ms << (p->retries < 16
                                                             ? p->retries
                                                             : 16);

    if (expired(w, e->chunk)) {
        finish(w, e, error ? error : KAFKA_ERR_REQUEST_TIMED_OUT);
        return;
    }
    if (backoff > w->s->retry_backoff_max_ms)
        backoff = w->s->retry_backoff_max_ms;
    e->done = true;
    p->in_flight = WRK_NONE;
    p->retries++;
    p->retry_at_ms = mono_ms() + backoff;
    atomic_store_explicit(&instance_chunk(w->in, (uint32_t)e->chunk)->state,
                          CHUNK_SEALED, memory_order_release);
    queue_push_front(w, p, e->chunk);
    if (kafka_err_refresh_metadata(error)) {
        p->leader = -1;
        cluster_want_metadata(w);
    }
}

static void on_partition(void *ctx, const char *topic, size_t topic_len,
                         int32_t partition, int16_t error, int64_t offset)
{
    struct produce_req *req = ctx;
    struct wrk *w = req->w;

    (void)offset;
    for (size_t i = 0; i < req->n; i++) {
        struct req_entry *e = &req->e[i];
        const char *name = w->topics[e->part->topic].name;
        if (e->done || e->part->partition != partition ||
            strlen(name) != topic_len || memcmp(name, topic, topic_len))
            continue;
        if (error == 0 || !kafka_err_retriable(error))
            finish(w, e, error);
        else
            retry(w, e, error);
        return;
    }
}

static void on_produce(struct conn *c, void *arg, int err, const uint8_t *body,
                       size_t len)
{
    struct produce_req *req = arg;
    struct wrk *w = req->w;

    if (err == CONN_OK && !body) {
        /* acks=0: nothing comes back; written is all we learn. */
        for (size_t i = 0; i < req->n; i++)
            finish(w, &req->e[i], 0);
    } else if (err == CONN_OK) {
        if (kafka_produce_parse(body, len, req->ver, on_partition,
                                req) < 0)
            log_warn("broker %d: malformed Produce response", c->node_id);
    }
    /* Whatever the answer did not cover, the transport lost: retry it. */
    for (size_t i = 0; i < req->n; i++)
        if (!req->e[i].done)
            retry(w, &req->e[i], err == CONN_ERR_TIMEOUT
                                     ? KAFKA_ERR_REQUEST_TIMED_OUT
                                     : KAFKA_ERR_NETWORK_EXCEPTION);
    free(req);
    sender_pump(w);
}

static void pump_broker(struct wrk *w, struct broker *b)
{
    struct conn *c = &b->conn;
    int16_t ver;

    while (conn_room(c, (unsigned)w->s->max_in_flight)) {
        if (kafka_pick_produce(&c->versions, &ver) < 0) {
            log_error("broker %d supports no Produce version in 3..8",
                      b->id);
            return;
        }
        struct produce_req *req = collect(w, b->id);
        if (!req)
            return;
        int32_t corr = conn_corr(c);
        req->ver = ver;
        frame_request(w, c, ver, req, corr);
        conn_push(c, corr, KAFKA_API_PRODUCE, ver, w->s->acks != 0,
                  on_produce, req);
        atomic_fetch_add(&w->stats->requests_sent, 1);
        for (size_t i = 0; i < req->n; i++) {
            atomic_fetch_add(&w->stats->batches_sent, 1);
            atomic_fetch_add(
                &w->stats->bytes_sent,
                instance_chunk(w->in, (uint32_t)req->e[i].chunk)->wire_len);
        }
    }
}

void sender_pump(struct wrk *w)
{
    bool leaderless = false;

    for (struct wpart *p = w->parts; p; p = p->next)
        if (p->q_head != WRK_NONE && p->leader < 0)
            leaderless = true;
    if (leaderless)
        cluster_want_metadata(w);
    for (int i = 0; i < WRK_BROKER_MAX; i++) {
        struct broker *b = &w->brokers[i];
        if (!b->used)
            continue;
        bool waiting = false;
        for (struct wpart *p = w->parts; p && !waiting; p = p->next)
            waiting = p->leader == b->id && p->q_head != WRK_NONE;
        if (!waiting)
            continue;
        conn_want(&b->conn);
        pump_broker(w, b);
    }
}

void sender_expire(struct wrk *w)
{
    for (struct wpart *p = w->parts; p; p = p->next) {
        while (p->q_head != WRK_NONE && expired(w, p->q_head)) {
            struct req_entry e = {p, queue_pop(w, p), false};
            int32_t keep = p->in_flight;
            finish(w, &e, p->leader < 0 ? KAFKA_ERR_LEADER_NOT_AVAILABLE
                                        : KAFKA_ERR_REQUEST_TIMED_OUT);
            p->in_flight = keep;
        }
    }
}
