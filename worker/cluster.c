/*
 * cluster.c: what the worker knows of the cluster.  It keeps one
 * connection per broker it has learned of (plus one to a bootstrap
 * server until the first metadata answer), refreshes metadata when a
 * topic appears, when a partition has no known leader or an error says
 * the metadata is stale, and every metadata.max.age.ms.
 */
#include "common/log.h"
#include "common/proc.h"
#include "worker/wrk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_FAST_RETRY_MS 250

static void on_conn_ready(struct conn *c, void *ctx);
static void on_conn_down(struct conn *c, void *ctx);
static void try_metadata(struct wrk *w);
static void try_producer_ids(struct wrk *w);
static struct conn *ready_conn(struct wrk *w);

static const struct conn_owner cluster_owner = {on_conn_ready, on_conn_down,
                                                NULL};

/* The worker's settings its connections read at each use (a reload). */
static struct conn_settings conn_settings(const struct wrk *w)
{
    return (struct conn_settings){
        &w->s->request_timeout_ms, &w->s->socket_timeout_ms,
        &w->s->reconnect_backoff_ms, &w->s->reconnect_backoff_max_ms,
        w->s->security};
}

static void init_bootstrap_conn(struct wrk *w)
{
    struct conn_owner owner = cluster_owner;
    const struct bootstrap_server *bs = bootstrap_next(&w->servers);

    struct conn_settings set = conn_settings(w);

    owner.ctx = w;
    conn_init(&w->bootstrap, w->loop, -1, bs->host, bs->port,
              w->s->client_id, &set, &owner);
}

int cluster_init(struct wrk *w)
{
    int rc = bootstrap_parse(&w->servers, w->s->bootstrap_servers);

    if (rc < 0)
        return rc;
    init_bootstrap_conn(w);
    return 0;
}

void cluster_release(struct wrk *w)
{
    for (int i = 0; i < WRK_BROKER_MAX; i++)
        if (w->brokers[i].used)
            conn_release(&w->brokers[i].conn);
    conn_release(&w->bootstrap);
    bootstrap_release(&w->servers);
}

struct conn *cluster_conn(struct wrk *w, int32_t node_id)
{
    for (int i = 0; i < WRK_BROKER_MAX; i++)
        if (w->brokers[i].used && w->brokers[i].id == node_id)
            return &w->brokers[i].conn;
    return NULL;
}

static int16_t fault_error(const struct conn *c)
{
    if (!c || c->state == CONN_READY)
        return 0;
    return c->fault == CONN_FAULT_TLS    ? KAFKA_ERR_SSL_HANDSHAKE_FAILED
           : c->fault == CONN_FAULT_SASL ? KAFKA_ERR_SASL_AUTHENTICATION_FAILED
                                         : 0;
}

int16_t cluster_fault_error(struct wrk *w, int32_t node_id, int16_t otherwise)
{
    int16_t e = 0;

    if (node_id >= 0)
        e = fault_error(cluster_conn(w, node_id));
    else
        e = fault_error(&w->bootstrap);
    for (int i = 0; !e && node_id < 0 && i < WRK_BROKER_MAX; i++)
        if (w->brokers[i].used)
            e = fault_error(&w->brokers[i].conn);
    return e ? e : otherwise;
}

static void add_broker(struct wrk *w, const struct kafka_broker *kb)
{
    struct conn_owner owner = cluster_owner;
    struct conn_settings set = conn_settings(w);
    struct conn *c = cluster_conn(w, kb->node_id);

    owner.ctx = w;
    if (c) {
        if (strcmp(c->host, kb->host) == 0 && c->port == kb->port)
            return;
        conn_release(c); /* the broker moved: reconnect to its new address */
        conn_init(c, w->loop, kb->node_id, kb->host, kb->port,
                  w->s->client_id, &set, &owner);
        return;
    }
    for (int i = 0; i < WRK_BROKER_MAX; i++) {
        struct broker *b = &w->brokers[i];
        if (b->used)
            continue;
        b->used = true;
        b->id = kb->node_id;
        conn_init(&b->conn, w->loop, kb->node_id, kb->host, kb->port,
                  w->s->client_id, &set, &owner);
        return;
    }
    log_warn("more than %d brokers; ignoring broker %d", WRK_BROKER_MAX,
             kb->node_id);
}

static struct wtopic *topic_by_name(struct wrk *w, const char *name)
{
    for (int t = 0; t < TOPIC_MAX; t++)
        if (w->topics[t].known && strcmp(w->topics[t].name, name) == 0)
            return &w->topics[t];
    return NULL;
}

static void apply_topic(struct wrk *w, const struct kafka_topic *kt)
{
    struct wtopic *t = kt->name ? topic_by_name(w, kt->name) : NULL;

    if (!t)
        return;
    if (kt->partitions_over) {
        /* Its leaders stay as they were: log it, now and then. */
        if (mono_ms() - t->over_logged_ms >= 60000) {
            log_error("topic \"%s\": the cluster says it has %zu "
                      "partitions, more than chute takes (%d); its leaders "
                      "are not updated", t->name, kt->partitions_over,
                      KAFKA_PARTITIONS_MAX);
            t->over_logged_ms = mono_ms();
        }
        return;
    }
    if (kt->error && t->md_error != kt->error)
        log_warn("topic \"%s\": metadata error %s", t->name,
                 kafka_err_name(kt->error));
    t->md_error = kt->error;
    for (int32_t i = 0; i < t->nparts; i++) {
        struct wpart *p = t->parts[i];
        if (!p)
            continue;
        const struct kafka_partition *kp =
            kafka_topic_partition(kt, p->partition);
        int32_t leader = kp && kp->leader >= 0 ? kp->leader : -1;
        if (leader != p->leader && p->leader >= 0)
            log_info("topic \"%s\" partition %d: leader %d -> %d", t->name,
                     p->partition, p->leader, leader);
        if (leader != p->leader)
            p->confirmed_ms = 0; /* one batch first to the new leader */
        p->leader = leader;
    }
}

static void on_metadata(struct conn *c, void *arg, int err, const uint8_t *body,
                        size_t len)
{
    struct wrk *w = arg;
    struct kafka_metadata md;

    w->metadata_in_flight = false;
    if (err || kafka_metadata_parse(body, len, w->metadata_ver, &md) < 0) {
        log_warn("metadata request to %s:%d failed", c->host, c->port);
        w->metadata_wanted = true;
        return;
    }
    for (size_t i = 0; i < md.broker_count; i++)
        add_broker(w, &md.brokers[i]);
    for (size_t i = 0; i < md.topic_count; i++)
        apply_topic(w, &md.topics[i]);
    kafka_metadata_free(&md);
    w->metadata_at_ms = mono_ms();
    w->pump_wanted = true; /* leaders may be known now */
}

static struct conn *ready_conn(struct wrk *w)
{
    for (int i = 0; i < WRK_BROKER_MAX; i++)
        if (w->brokers[i].used && conn_ready(&w->brokers[i].conn))
            return &w->brokers[i].conn;
    if (conn_ready(&w->bootstrap))
        return &w->bootstrap;
    return NULL;
}

static void send_metadata(struct wrk *w, struct conn *c)
{
    const char *names[TOPIC_MAX];
    size_t n = 0;
    int32_t corr;
    size_t start;
    int16_t ver = conn_version(c, KAFKA_API_METADATA, 1, 8);

    if (ver < 0) {
        log_error("broker %s:%d supports no Metadata version in 1..8",
                  c->host, c->port);
        return;
    }
    for (int t = 0; t < TOPIC_MAX; t++)
        if (w->topics[t].known)
            names[n++] = w->topics[t].name;
    if (n == 0) {
        w->metadata_wanted = false;
        return; /* nothing to ask yet (a null list would mean all topics) */
    }
    corr = conn_corr(c);
    start = c->out.len;
    kafka_metadata_req(&c->out, ver, corr, w->s->client_id, names, n, true);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_METADATA, ver, true, on_metadata, w);
    w->metadata_ver = ver;
    w->metadata_in_flight = true;
    w->metadata_wanted = false;
    w->metadata_sent_ms = mono_ms();
}

static void try_metadata(struct wrk *w)
{
    struct conn *c;

    if (!w->metadata_wanted || w->metadata_in_flight)
        return;
    c = ready_conn(w);
    if (c) {
        send_metadata(w, c);
        return;
    }
    /* Nothing is connected: go through a known broker, else bootstrap. */
    for (int i = 0; i < WRK_BROKER_MAX; i++)
        if (w->brokers[i].used)
            conn_want(&w->brokers[i].conn);
    if (w->bootstrap.state == CONN_DOWN && mono_ms() >= w->bootstrap.retry_at_ms)
        conn_want(&w->bootstrap);
}

static void on_init_pid(struct conn *c, void *arg, int err, const uint8_t *body,
                        size_t len)
{
    struct wrk *w = c->owner.ctx;
    uint32_t slot = (uint32_t)(uintptr_t)arg;
    struct kafka_init_pid r;

    w->initpid_in_flight = false;
    if (err || kafka_init_pid_parse(body, len, w->initpid_ver, &r) < 0) {
        log_warn("InitProducerId to %s:%d failed", c->host, c->port);
        return;
    }
    if (r.error) {
        log_warn("InitProducerId: %s", kafka_err_name(r.error));
        return;
    }
    producer_install(w, slot, r.producer_id, r.producer_epoch);
    log_info("slot %u: producer id %lld epoch %d", slot,
             (long long)r.producer_id, r.producer_epoch);
    /* Records may have waited for this: look at the rings again. */
    w->drain_wanted = true;
    try_producer_ids(w);
}

static void try_producer_ids(struct wrk *w)
{
    int slot = producer_slot_needing_id(w);
    struct conn *c;
    int32_t corr;
    size_t start;

    if (slot < 0 || w->initpid_in_flight || !(c = ready_conn(w)))
        return;
    w->initpid_ver = conn_version(c, KAFKA_API_INIT_PRODUCER_ID, 0, 1);
    if (w->initpid_ver < 0) {
        log_error("broker %s:%d supports no InitProducerId version in 0..1",
                  c->host, c->port);
        return;
    }
    corr = conn_corr(c);
    start = c->out.len;
    kafka_init_pid_req(&c->out, w->initpid_ver, corr, w->s->client_id);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_INIT_PRODUCER_ID, w->initpid_ver, true,
              on_init_pid, (void *)(uintptr_t)slot);
    w->initpid_in_flight = true;
}

void cluster_turn(struct wrk *w)
{
    if (w->metadata_wanted &&
        mono_ms() - w->metadata_sent_ms >= METADATA_FAST_RETRY_MS)
        try_metadata(w);
}

void cluster_tick(struct wrk *w)
{
    if (mono_ms() - w->metadata_at_ms >= w->s->metadata_max_age_ms)
        w->metadata_wanted = true;
    try_metadata(w);
    try_producer_ids(w);
    if (producer_slot_needing_id(w) >= 0 && !ready_conn(w))
        conn_want(&w->bootstrap);
}

static void on_conn_ready(struct conn *c, void *ctx)
{
    struct wrk *w = ctx;

    (void)c;
    try_metadata(w);
    try_producer_ids(w);
    w->pump_wanted = true;
}

static void on_conn_down(struct conn *c, void *ctx)
{
    struct wrk *w = ctx;

    if (c == &w->bootstrap) {
        /* Try the next bootstrap server next time, on the same reconnect
         * schedule (and log throttle). */
        const struct bootstrap_server *bs = bootstrap_next(&w->servers);
        conn_retarget(c, bs->host, bs->port);
    }
    w->metadata_wanted = true;
}
