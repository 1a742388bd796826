/*
 * mdfetch.c: one topic's metadata, asked of the cluster until it answers
 * for the topic or the deadline passes.
 */
#include "broker/mdfetch.h"

#include "broker/bootstrap.h"
#include "common/err.h"
#include "common/proc.h"
#include "broker/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/layout.h"

static_assert(KAFKA_PARTITIONS_MAX <= PARTITION_MAX,
              "no topic takes more partitions than the instance has "
              "sequence states for");

#define MDFETCH_RETRY_S 0.2

/* The process's security.protocol and what goes with it (chuted has one). */
static const struct conn_security *mdfetch_sec;

void mdfetch_security(const struct conn_security *sec)
{
    mdfetch_sec = sec;
}

struct mdfetch {
    struct ev_loop *loop;
    struct conn conn;
    struct bootstrap servers;
    const char *client_id;
    int timeout_ms;          /* the whole look-up's */
    int socket_timeout_ms;   /* each connect and request: socket.timeout.ms */
    char *topic;
    int16_t ver;
    int16_t last_error;
    char fault[256];         /* the last TLS or SASL failure, for the error */
    ev_timer retry, deadline;
    ev_idle finish;          /* runs the callback outside conn's callbacks */
    int result;              /* 0: not yet */
    mdfetch_cb *cb;          /* one of cb and md_cb */
    mdfetch_md_cb *md_cb;
    void *arg;
    struct kafka_metadata md; /* the answer, once result > 0 */
    size_t md_topic;          /* the topic's index in md.topics */
};

static void conclude(struct mdfetch *f, int result)
{
    if (f->result)
        return;
    f->result = result;
    ev_timer_stop(f->loop, &f->retry);
    ev_timer_stop(f->loop, &f->deadline);
    ev_idle_start(f->loop, &f->finish);
}

static void on_metadata(struct conn *c, void *arg, int err, const uint8_t *body,
                        size_t len)
{
    struct mdfetch *f = arg;
    struct kafka_metadata md;

    (void)c;
    if (err || f->result)
        return; /* a lost connection is retried by the timer */
    if (kafka_metadata_parse(body, len, f->ver, &md) < 0) {
        kafka_metadata_free(&md);
        return;
    }
    for (size_t i = 0; i < md.topic_count; i++) {
        const struct kafka_topic *t = &md.topics[i];
        if (!t->name || strcmp(t->name, f->topic) != 0)
            continue;
        f->last_error = t->error;
        if (t->partitions_over) {
            conclude(f, err_set(CHUTE_ERR_UNKNOWN_TOPIC,
                                "topic \"%s\" has %zu partitions, more than "
                                "chute takes (%d)",
                                f->topic, t->partitions_over,
                                KAFKA_PARTITIONS_MAX));
            break;
        }
        if (t->error == 0 && t->partition_count > 0) {
            f->md = md; /* kept for md_cb, freed with f */
            f->md_topic = i;
            conclude(f, (int)t->partition_count);
            return;
        } else if (t->error && !kafka_err_retriable(t->error))
            conclude(f, err_set(CHUTE_ERR_UNKNOWN_TOPIC,
                                "the cluster refused topic \"%s\": %s",
                                f->topic, kafka_err_name(t->error)));
    }
    kafka_metadata_free(&md);
}

static void send_request(struct conn *c, void *ctx)
{
    struct mdfetch *f = ctx;
    const char *names[1] = {f->topic};
    int32_t corr = conn_corr(c);
    size_t start = c->out.len;

    f->ver = conn_version(c, KAFKA_API_METADATA, 1, 8);
    if (f->ver < 0) {
        conclude(f, err_set(CHUTE_ERR_PROTOCOL,
                            "broker supports no Metadata version in 1..8"));
        return;
    }
    kafka_metadata_req(&c->out, f->ver, corr, c->client_id, names, 1, true);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_METADATA, f->ver, true, on_metadata, f);
}

/* A connection to the next bootstrap server, not started yet. */
static void connect_next(struct mdfetch *f)
{
    const struct bootstrap_server *bs = bootstrap_next(&f->servers);
    struct conn_owner owner = {send_request, NULL, f};

    /* A look-up lasts seconds and retries on its own: librdkafka's
     * default reconnect schedule. */
    struct conn_settings set = {&f->timeout_ms, &f->socket_timeout_ms, NULL,
                                NULL, mdfetch_sec};

    conn_init(&f->conn, f->loop, -1, bs->host, bs->port, f->client_id, &set,
              &owner);
}

/* Every MDFETCH_RETRY_S: ask again (a topic being created has no leader
 * yet), or reconnect. */
static void retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct mdfetch *f = t->data;

    (void)loop;
    (void)revents;
    if (conn_ready(&f->conn) && f->conn.pending_count == 0) {
        send_request(&f->conn, f);
        return;
    }
    if (f->conn.fault)
        snprintf(f->fault, sizeof(f->fault), "%s", f->conn.fault_why);
    if (f->conn.state == CONN_DOWN && f->conn.retry_at_ms &&
        f->servers.count > 1) {
        conn_release(&f->conn); /* that server failed: try the next */
        connect_next(f);
    }
    conn_want(&f->conn);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct mdfetch *f = t->data;

    (void)loop;
    (void)revents;
    if (f->last_error == KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION)
        conclude(f, err_set(CHUTE_ERR_UNKNOWN_TOPIC,
                            "the cluster does not know topic \"%s\" "
                            "(UNKNOWN_TOPIC_OR_PARTITION until the deadline)",
                            f->topic));
    else if (f->fault[0] || f->conn.fault)
        conclude(f, err_set(CHUTE_ERR_TIMED_OUT,
                            "no metadata for topic \"%s\": %s", f->topic,
                            f->conn.fault ? f->conn.fault_why : f->fault));
    else
        conclude(f, err_set(CHUTE_ERR_TIMED_OUT,
                            "no metadata for topic \"%s\" from the cluster%s%s",
                            f->topic, f->last_error ? ": " : "",
                            f->last_error ? kafka_err_name(f->last_error)
                                          : ""));
}

static void free_fetch(struct mdfetch *f)
{
    ev_timer_stop(f->loop, &f->retry);
    ev_timer_stop(f->loop, &f->deadline);
    ev_idle_stop(f->loop, &f->finish);
    conn_release(&f->conn);
    bootstrap_release(&f->servers);
    kafka_metadata_free(&f->md);
    free(f->topic);
    free(f);
}

static void finish_cb(struct ev_loop *loop, ev_idle *idle, int revents)
{
    struct mdfetch *f = idle->data;
    mdfetch_cb *cb = f->cb;
    void *arg = f->arg;
    int result = f->result;

    (void)loop;
    (void)revents;
    if (f->md_cb) {
        /* The answer lives in f: stop everything first, so that the
         * callback may start or cancel other look-ups, then free. */
        ev_idle_stop(f->loop, &f->finish);
        if (result > 0)
            f->md_cb(arg, result, &f->md, &f->md.topics[f->md_topic]);
        else
            f->md_cb(arg, result, NULL, NULL);
        free_fetch(f);
        return;
    }
    free_fetch(f);
    cb(arg, result);
}

static struct mdfetch *start(struct ev_loop *loop, const char *bootstrap,
                             const char *client_id, const char *topic,
                             int timeout_ms, int socket_timeout_ms,
                             mdfetch_cb *cb, mdfetch_md_cb *md_cb, void *arg)
{
    struct mdfetch *f = calloc(1, sizeof(*f));

    if (!f || !(f->topic = strdup(topic))) {
        free(f);
        err_set(CHUTE_ERR_SYSTEM, "out of memory");
        return NULL;
    }
    if (bootstrap_parse(&f->servers, bootstrap) < 0) {
        free(f->topic);
        free(f);
        return NULL;
    }
    f->loop = loop;
    f->cb = cb;
    f->md_cb = md_cb;
    f->arg = arg;
    f->client_id = client_id;
    f->timeout_ms = timeout_ms;
    f->socket_timeout_ms = socket_timeout_ms;
    connect_next(f);
    ev_timer_init(&f->retry, retry_cb, MDFETCH_RETRY_S, MDFETCH_RETRY_S);
    ev_timer_init(&f->deadline, deadline_cb, timeout_ms / 1000.0, 0);
    ev_idle_init(&f->finish, finish_cb);
    f->retry.data = f->deadline.data = f->finish.data = f;
    ev_timer_start(loop, &f->retry);
    ev_timer_start(loop, &f->deadline);
    conn_want(&f->conn);
    return f;
}

struct mdfetch *mdfetch_start(struct ev_loop *loop, const char *bootstrap,
                              const char *client_id, const char *topic,
                              int timeout_ms, int socket_timeout_ms,
                              mdfetch_cb *cb, void *arg)
{
    return start(loop, bootstrap, client_id, topic, timeout_ms,
                 socket_timeout_ms, cb, NULL, arg);
}

struct mdfetch *mdfetch_start_md(struct ev_loop *loop, const char *bootstrap,
                                 const char *client_id, const char *topic,
                                 int timeout_ms, int socket_timeout_ms,
                                 mdfetch_md_cb *cb, void *arg)
{
    return start(loop, bootstrap, client_id, topic, timeout_ms,
                 socket_timeout_ms, NULL, cb, arg);
}

void mdfetch_cancel(struct mdfetch *f)
{
    if (f)
        free_fetch(f);
}
