/*
 * sender.c: sealed batches to Produce requests, and what the answers mean.
 *
 * For each broker whose connection has room, one Produce request carries
 * the head batch of every partition that broker leads and that may send:
 * with idempotence up to max.in.flight batches of a partition are in
 * flight (their sequences keep them in order), without it one.  With
 * idempotence, too, a partition sends one batch at a time until the
 * broker has acknowledged one of the current epoch (idem_in_flight_limit:
 * a broker without our sequence state would take a later batch as the
 * start when an earlier one got a retriable error).  A partition whose
 * answer failed sends nothing until every batch it has in flight is back
 * (so nothing overtakes the failed one, and nothing goes to a new leader
 * while the old one still holds some), then resends in sequence order,
 * one at a time again.  idem.c decides per answer; this file carries it
 * out, including the epoch bump of a slot, which never re-stamps a batch
 * that may have been written (see "unsure batches").
 */
#include "common/log.h"
#include "common/proc.h"
#include "proto/kafka.h"
#include "worker/idem.h"
#include "worker/wrk.h"

#include <stdlib.h>
#include <string.h>

#define REQUEST_BYTES_MAX (64u << 20)
/* How long an acknowledgement vouches that the broker still holds the
 * partition's sequence state: a broker forgets an idle producer
 * (producer.id.expiration.ms, a day by default), and then takes any
 * sequence again. */
#define BROKER_STATE_TRUST_MS 60000

/* ---- unsure batches ---- */

/* An epoch bump re-stamps a slot's waiting batches with new sequences.  A
 * batch that went out in the current epoch and got no answer saying it
 * was not written (a timeout, a dropped connection, NOT_LEADER_OR_FOLLOWER
 * after the old leader appended it) may be in the log: re-stamped, it
 * would be written twice.  So a slot due for a bump first sends such
 * batches again as they are, until the broker takes them (written, or a
 * duplicate of what it has) or refuses them out of order (not written),
 * or they fail; only then does it bump.  A replacement cannot know which
 * of the batches it adopts went out: it counts every one sealed in the
 * slot's current epoch as unsure (recover.c). */
static void refused_list(struct wrk *w, struct wpart *p, int32_t head,
                         int16_t epoch, uint32_t from)
{
    for (int32_t i = head; i != WRK_NONE; i = w->chunk_next[i])
        if (chunk_at(&w->pool, i)->producer_epoch == epoch &&
            part_seq_order(w, p, i) >= from)
            w->chunk_unsure[i] = false;
}

/* The broker refused batch `idx` as out of order (or knew no producer):
 * it was not written, nor was any later batch of the partition in that
 * epoch, since a broker writes a producer's batches in sequence order. */
static void refused_from(struct wrk *w, struct wpart *p, int32_t idx)
{
    int16_t epoch = chunk_at(&w->pool, idx)->producer_epoch;
    uint32_t from = part_seq_order(w, p, idx);

    w->chunk_unsure[idx] = false;
    refused_list(w, p, p->q_head, epoch, from);
    refused_list(w, p, p->f_head, epoch, from);
}

/* Whether nothing of the partition before batch `idx` (in sequence) is in
 * flight or waiting: then no earlier batch can fill a gap before it. */
static bool oldest_unresolved(const struct wrk *w, const struct wpart *p,
                              int32_t idx)
{
    uint32_t at = part_seq_order(w, p, idx);

    for (int32_t i = p->f_head; i != WRK_NONE; i = w->chunk_next[i])
        if (part_seq_order(w, p, i) < at)
            return false;
    for (int32_t i = p->q_head; i != WRK_NONE; i = w->chunk_next[i])
        if (part_seq_order(w, p, i) < at)
            return false;
    return true;
}

/* ---- what may be sent ---- */

static int per_partition_limit(const struct wrk *w, const struct wpart *p,
                               int64_t now)
{
    bool state = p->confirmed_ms > 0 &&
                 now - p->confirmed_ms < BROKER_STATE_TRUST_MS;

    return idem_in_flight_limit(w->s->idempotent, w->s->max_in_flight, state);
}

static bool sendable(const struct wrk *w, const struct wpart *p, int32_t node,
                     int64_t now)
{
    if (p->leader != node || p->q_head == WRK_NONE || p->retry_at_ms > now ||
        w->newpid_pending[p->slot])
        return false;
    /* Due for a bump: only to learn the fate of unsure batches. */
    if (w->bump_pending[p->slot] && !part_unsure(w, p))
        return false;
    if (p->inflight == 0)
        return true;
    return !p->recovering && p->inflight_node == node &&
           p->inflight < per_partition_limit(w, p, now);
}

static int cmp_entry(const void *a, const void *b)
{
    const struct req_entry *x = a, *y = b;

    if (x->part->topic != y->part->topic)
        return x->part->topic < y->part->topic ? -1 : 1;
    return (x->part->partition > y->part->partition) -
           (x->part->partition < y->part->partition);
}

struct produce_req *sender_collect(struct wrk *w, int32_t node)
{
    int64_t now = mono_ms();
    size_t n = 0, bytes = 0;
    struct produce_req *req;

    for (struct wpart *p = w->parts; p; p = p->next)
        n += sendable(w, p, node, now);
    if (n == 0)
        return NULL;
    req = malloc(sizeof(*req) + n * sizeof(req->e[0]));
    if (!req)
        return NULL;
    req->w = w;
    req->node = node;
    req->n = 0;
    for (struct wpart *p = w->parts; p && req->n < n; p = p->next) {
        if (!sendable(w, p, node, now))
            continue;
        struct pool_chunk *ch = chunk_at(&w->pool, p->q_head);
        if (req->n && bytes + ch->wire_len > REQUEST_BYTES_MAX)
            break;
        bytes += ch->wire_len;
        int32_t idx = part_queue_pop(w, p);
        part_flight_push(w, p, idx);
        w->chunk_unsure[idx] = true;
        p->inflight_node = node;
        req->e[req->n++] = (struct req_entry){p, idx, false};
    }
    qsort(req->e, req->n, sizeof(req->e[0]), cmp_entry);
    return req;
}

static void frame_request(struct wrk *w, struct conn *c,
                          struct produce_req *req, int32_t corr)
{
    size_t start = c->out.len, topics = 0;

    for (size_t i = 0; i < req->n; i++)
        topics += i == 0 || req->e[i].part->topic != req->e[i - 1].part->topic;
    kafka_produce_begin(&c->out, req->ver, corr, w->s->client_id, w->s->acks,
                        w->s->request_timeout_ms, topics);
    for (size_t i = 0, j; i < req->n; i = j) {
        for (j = i; j < req->n && req->e[j].part->topic == req->e[i].part->topic;
             j++)
            ;
        kafka_produce_topic(&c->out, w->topics[req->e[i].part->topic].name,
                            j - i);
        for (size_t k = i; k < j; k++) {
            int32_t idx = req->e[k].chunk;
            const uint8_t *bytes = chunk_send(&w->pool, idx);
            kafka_produce_partition(&c->out, req->e[k].part->partition, bytes,
                                    chunk_at(&w->pool, idx)->wire_len);
        }
    }
    kafka_req_end(&c->out, start);
}

/* ---- answers ---- */

static void fail_batch(struct wrk *w, struct wpart *p, int32_t idx,
                       int16_t error)
{
    log_warn("topic \"%s\" partition %d: %u records failed: %s",
             w->topics[p->topic].name, p->partition,
             chunk_at(&w->pool, idx)->count,
             kafka_err_name(error));
    /* A sequenced batch that will never be written leaves a gap the
     * broker would refuse every later batch for: start a new epoch. */
    if (w->s->idempotent)
        w->bump_pending[p->slot] = true;
    resolve_batch(w, idx, error, -1);
}

/* Whether message.timeout.ms passed for a batch.  Its accepted time is
 * its oldest record's, a stamp a client wrote: it counts as no more than
 * half of message.timeout.ms before the batch's opening, so that no
 * client's clock expires a batch while a broker is answering it (one
 * expired in flight closes the connection that every user's batches to
 * that broker travel on). */
static bool expired(struct wrk *w, int32_t chunk)
{
    struct pool_chunk *ch = chunk_at(&w->pool, chunk);
    int64_t timeout = (int64_t)w->s->message_timeout_ms * 1000000;
    int64_t accepted = ch->accepted_ns;

    if (accepted < ch->opened_ns - timeout / 2)
        accepted = ch->opened_ns - timeout / 2;
    return clock_ns(CLOCK_MONOTONIC) - accepted >= timeout;
}

static void back_off(struct wrk *w, struct wpart *p)
{
    int shift = p->retries < 16 ? p->retries : 16;
    int64_t backoff = (int64_t)w->s->retry_backoff_ms << shift;

    if (backoff > w->s->retry_backoff_max_ms)
        backoff = w->s->retry_backoff_max_ms;
    p->retries++;
    p->retry_at_ms = mono_ms() + backoff;
}

void sender_settle(struct wrk *w, struct req_entry *e, int16_t error,
                   int64_t offset)
{
    struct wpart *p = e->part;
    struct pool_chunk *ch = chunk_at(&w->pool, e->chunk);
    struct idem_batch b = {ch->base_sequence, (int32_t)ch->count,
                           ch->producer_epoch};
    struct idem_seq seq = {p->sp->next_seq, p->sp->acked_seq};
    int16_t epoch =
        (int16_t)atomic_load(&instance_pslot(w->in, p->slot)->epoch);

    e->done = true;
    part_flight_remove(w, p, e->chunk);
    if (error == KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER ||
        error == KAFKA_ERR_UNKNOWN_PRODUCER_ID)
        refused_from(w, p, e->chunk);
    /* Out of time or out of retries: the batch fails with this error. */
    bool give_up = expired(w, e->chunk) || p->retries >= w->s->retries;

    enum idem_action act =
        idem_decide(w->s->idempotent, error, give_up, epoch, &b, &seq);

    /* Refused out of order, its sequence not the one the broker expects,
     * yet nothing before it is outstanding: no resend of an earlier batch
     * will fill the gap, and resending this one alone would be refused
     * again at once, forever (the sequence bookkeeping is wrong, see
     * CHUTE_TEST_SEQUENCE_SKEW): start a new epoch. */
    if (act == IDEM_REQUEUE &&
        error == KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER && b.epoch == epoch &&
        oldest_unresolved(w, p, e->chunk))
        act = IDEM_BUMP;

    if (error)
        log_debug("topic \"%s\" partition %d: batch seq %d+%d epoch %d "
                  "(next expected %d) from broker %d: %s",
                  w->topics[p->topic].name, p->partition, b.base_seq, b.count,
                  b.epoch, seq.acked_seq, p->inflight_node,
                  kafka_err_name(error));
    if (act != IDEM_ACK)
        p->confirmed_ms = 0; /* one batch at a time until the next ack */
    switch (act) {
    case IDEM_ACK:
        if (w->s->idempotent && b.epoch == epoch) {
            idem_acked(&seq, &b);
            p->sp->acked_seq = seq.acked_seq;
            p->confirmed_ms = mono_ms();
        }
        p->retries = 0;
        resolve_batch(w, e->chunk, 0, offset);
        return;
    case IDEM_ACK_BUMP:
        /* Written out of order (idem_in_flight_limit should prevent it):
         * the batches before it can only go in a new epoch, after it. */
        log_warn("topic \"%s\" partition %d: broker %d wrote sequence %d "
                 "while %d was not written (it had no state for producer "
                 "%lld); bumping the epoch",
                 w->topics[p->topic].name, p->partition, p->inflight_node,
                 b.base_seq, seq.acked_seq, (long long)ch->producer_id);
        w->bump_pending[p->slot] = true;
        p->retries = 0;
        resolve_batch(w, e->chunk, 0, offset);
        return;
    case IDEM_FAIL:
        fail_batch(w, p, e->chunk, error ? error : KAFKA_ERR_REQUEST_TIMED_OUT);
        return;
    case IDEM_RETRY:
        back_off(w, p);
        metrics_retry(w->metrics);
        break;
    case IDEM_REQUEUE:
        break;
    case IDEM_BUMP:
        w->bump_pending[p->slot] = true;
        break;
    case IDEM_NEW_PID:
        w->newpid_pending[p->slot] = true;
        break;
    }
    p->recovering = p->inflight > 0;
    chunk_unsend(&w->pool, e->chunk);
    part_queue_return(w, p, e->chunk);
    if (kafka_err_refresh_metadata(error)) {
        p->leader = -1;
        w->metadata_wanted = true;
    }
}

static void on_partition(void *ctx, const char *topic, size_t topic_len,
                         int32_t partition, int16_t error, int64_t offset)
{
    struct produce_req *req = ctx;
    struct wrk *w = req->w;

    for (size_t i = 0; i < req->n; i++) {
        struct req_entry *e = &req->e[i];
        const char *name = w->topics[e->part->topic].name;
        if (e->done || e->part->partition != partition ||
            strlen(name) != topic_len || memcmp(name, topic, topic_len))
            continue;
        sender_settle(w, e, error, offset);
        return;
    }
}

static void on_produce(struct conn *c, void *arg, int err, const uint8_t *body,
                       size_t len)
{
    struct produce_req *req = arg;
    struct wrk *w = req->w;

    metrics_request(w->metrics, req->node,
                    (clock_ns(CLOCK_MONOTONIC) - req->sent_ns) / 1000,
                    err == CONN_OK);
    if (err == CONN_OK && !body) {
        /* acks=0: nothing comes back; written is all we learn. */
        for (size_t i = 0; i < req->n; i++)
            sender_settle(w, &req->e[i], 0, -1);
    } else if (err == CONN_OK &&
               kafka_produce_parse(body, len, req->ver, on_partition, req) < 0) {
        log_warn("broker %d: malformed Produce response", c->node_id);
    }
    /* Whatever the answer did not cover may or may not be written: resend
     * it as it is, which a broker de-duplicates. */
    for (size_t i = 0; i < req->n; i++)
        if (!req->e[i].done)
            sender_settle(w, &req->e[i],
                   err == CONN_ERR_TIMEOUT ? KAFKA_ERR_REQUEST_TIMED_OUT
                                           : KAFKA_ERR_NETWORK_EXCEPTION,
                   -1);
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
        struct produce_req *req = sender_collect(w, b->id);
        if (!req)
            return;
        int32_t corr = conn_corr(c);
        req->ver = ver;
        req->sent_ns = clock_ns(CLOCK_MONOTONIC);
        frame_request(w, c, req, corr);
        conn_push(c, corr, KAFKA_API_PRODUCE, ver, w->s->acks != 0,
                  on_produce, req);
        atomic_fetch_add(&w->stats->requests_sent, 1);
        for (size_t i = 0; i < req->n; i++) {
            atomic_fetch_add(&w->stats->batches_sent, 1);
            atomic_fetch_add(
                &w->stats->bytes_sent,
                chunk_at(&w->pool, req->e[i].chunk)->wire_len);
        }
    }
}

void sender_pump(struct wrk *w)
{
    bool leaderless = false;

    w->pump_wanted = false;
    producer_settle(w);
    for (struct wpart *p = w->parts; p; p = p->next)
        if (p->q_head != WRK_NONE && p->leader < 0)
            leaderless = true;
    if (leaderless)
        w->metadata_wanted = true;
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

/* message.timeout.ms covers a record wherever it waits: in an open batch
 * (no producer id yet), queued (no leader, backing off), or in flight to a
 * broker that does not answer, whose connection is then closed so that the
 * answer-less batches come back as possibly written and fail. */
void sender_expire(struct wrk *w)
{
    for (struct wpart *p = w->parts; p; p = p->next) {
        if (p->open != WRK_NONE && expired(w, p->open)) {
            int32_t open = p->open;
            log_warn("topic \"%s\" partition %d: records expired before "
                     "their batch could be sealed (no producer id)",
                     w->topics[p->topic].name, p->partition);
            p->open = WRK_NONE;
            resolve_batch(w, open,
                          cluster_fault_error(w, -1,
                                              KAFKA_ERR_REQUEST_TIMED_OUT),
                          -1);
        }
        while (p->q_head != WRK_NONE && expired(w, p->q_head))
            fail_batch(w, p, part_queue_pop(w, p),
                       p->leader < 0
                           ? cluster_fault_error(
                                 w, -1, KAFKA_ERR_LEADER_NOT_AVAILABLE)
                           : cluster_fault_error(
                                 w, p->leader, KAFKA_ERR_REQUEST_TIMED_OUT));
        if (p->f_head != WRK_NONE && expired(w, p->f_head)) {
            struct conn *c = cluster_conn(w, p->inflight_node);
            if (c)
                conn_abort(c, "message.timeout.ms passed for a batch in "
                              "flight");
        }
    }
}
