/*
 * mdfetch.c: blocking topic look-up over a private event loop.
 */
#include "worker/mdfetch.h"

#include "common/err.h"
#include "common/proc.h"
#include "worker/conn.h"

#include <stdlib.h>
#include <string.h>

#define MDFETCH_RETRY_S 0.2

struct fetch {
    struct ev_loop *loop;
    struct conn conn;
    const char *topic;
    int16_t ver;
    int result;             /* 0: not yet */
    int16_t last_error;
    ev_timer retry, deadline;
};

static void on_metadata(struct conn *c, void *arg, int err, const uint8_t *body,
                        size_t len)
{
    struct fetch *f = arg;
    struct kafka_metadata md;

    (void)c;
    if (err || kafka_metadata_parse(body, len, f->ver, &md) < 0)
        return; /* the connection closes; the retry timer reconnects */
    for (size_t i = 0; i < md.topic_count; i++) {
        const struct kafka_topic *t = &md.topics[i];
        if (!t->name || strcmp(t->name, f->topic) != 0)
            continue;
        f->last_error = t->error;
        if (t->error == 0 && t->partition_count > 0)
            f->result = (int)t->partition_count;
        else if (!kafka_err_retriable(t->error))
            f->result = err_set(CHUTE_ERR_UNKNOWN_TOPIC,
                                "the cluster refused topic \"%s\": %s",
                                f->topic, kafka_err_name(t->error));
    }
    kafka_metadata_free(&md);
    if (f->result)
        ev_break(f->loop, EVBREAK_ALL);
}

static void send_request(struct conn *c, void *ctx)
{
    struct fetch *f = ctx;
    const char *names[1] = {f->topic};
    int32_t corr = conn_corr(c);
    size_t start = c->out.len;

    f->ver = conn_version(c, KAFKA_API_METADATA, 1, 8);
    if (f->ver < 0) {
        f->result = err_set(CHUTE_ERR_PROTOCOL,
                            "broker supports no Metadata version in 1..8");
        ev_break(f->loop, EVBREAK_ALL);
        return;
    }
    kafka_metadata_req(&c->out, f->ver, corr, c->client_id, names, 1, true);
    kafka_req_end(&c->out, start);
    conn_push(c, corr, KAFKA_API_METADATA, f->ver, true, on_metadata, f);
}

/* Every MDFETCH_RETRY_S: ask again (a topic being created has no leader
 * yet), or reconnect. */
static void retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct fetch *f = t->data;

    (void)loop;
    (void)revents;
    if (f->conn.state == CONN_READY && f->conn.pending_count == 0)
        send_request(&f->conn, f);
    else
        conn_want(&f->conn);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct fetch *f = t->data;

    (void)revents;
    f->result = err_set(CHUTE_ERR_TIMED_OUT,
                        "no metadata for topic \"%s\" from the cluster%s%s",
                        f->topic, f->last_error ? ": " : "",
                        f->last_error ? kafka_err_name(f->last_error) : "");
    ev_break(loop, EVBREAK_ALL);
}

static int parse_first(const char *list, char *host, size_t size, int *port)
{
    const char *end = strpbrk(list, ", "), *colon;
    size_t n = end ? (size_t)(end - list) : strlen(list);

    colon = memrchr(list, ':', n);
    if (!colon || colon == list || (size_t)(colon - list) >= size)
        return -1;
    memcpy(host, list, (size_t)(colon - list));
    host[colon - list] = '\0';
    *port = atoi(colon + 1);
    return *port > 0 ? 0 : -1;
}

int mdfetch_topic(const char *bootstrap, const char *client_id,
                  const char *topic, int timeout_ms)
{
    struct fetch f = {.topic = topic};
    struct conn_owner owner = {send_request, NULL, &f};
    char host[256];
    int port;

    if (parse_first(bootstrap, host, sizeof(host), &port) < 0)
        return err_set(CHUTE_ERR_INVALID,
                       "bootstrap.servers \"%s\" has no host:port", bootstrap);
    f.loop = ev_loop_new(EVFLAG_AUTO);
    if (!f.loop)
        return err_set(CHUTE_ERR_SYSTEM, "cannot create an event loop");
    conn_init(&f.conn, f.loop, -1, host, port, client_id, timeout_ms, &owner);
    ev_timer_init(&f.retry, retry_cb, MDFETCH_RETRY_S, MDFETCH_RETRY_S);
    f.retry.data = &f;
    ev_timer_start(f.loop, &f.retry);
    ev_timer_init(&f.deadline, deadline_cb, timeout_ms / 1000.0, 0);
    f.deadline.data = &f;
    ev_timer_start(f.loop, &f.deadline);
    conn_want(&f.conn);
    ev_run(f.loop, 0);
    conn_release(&f.conn);
    ev_loop_destroy(f.loop);
    return f.result;
}
