/*
 * topics.c: the intake topic table, as only the supervisor writes it.  A
 * topic is added when a client asks for it and the cluster knows it (or
 * creates it), and its partition count grows when a periodic refresh finds
 * partitions added.  Look-ups run on the supervisor's loop (mdfetch.c), so
 * one slow topic holds up nobody else.  Each topic's own settings
 * (linger.ms, batch limits, codec: the global value or a topic.NAME.
 * setting) go into the state object's topic settings table, which workers
 * read and clients cannot write.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "broker/mdfetch.h"
#include "proto/codec.h"

#include <stdlib.h>
#include <string.h>

#define RESOLVE_TIMEOUT_MS 10000

struct sup_resolve {
    struct sup *sup;
    struct mdfetch *fetch;
    char *name;
    topics_cb *cb;
    void *arg;
};

/* Writes the settings of topic `id`, named `name`, into the table. */
static void publish_one(struct sup *s, uint32_t id, const char *name)
{
    struct state_topic_settings *t = &s->in.state->topics.topic[id];
    int64_t values[TOPIC_SET_MAX];

    if (config_topic_values(&s->cfg, name, values) < 0)
        log_warn("%s; it takes the codec's default level", chute_errmsg());
    for (int i = 0; i < TOPIC_SET_MAX; i++)
        atomic_store_explicit(&t->values[i], (int32_t)values[i],
                              memory_order_relaxed);
}

void topics_publish_settings(struct sup *s)
{
    struct state_topics *st = &s->in.state->topics;

    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        struct status_topic *t = instance_topic(&s->in, id);
        if (atomic_load(&t->state) == TOPIC_READY)
            publish_one(s, id, t->name);
    }
    atomic_fetch_add_explicit(&st->generation, 1, memory_order_release);
}

int topics_add(struct sup *s, const char *name, int partitions)
{
    /* Another client may have won the race for the same name. */
    int id = instance_find_topic(&s->in, name);

    if (id >= 0)
        return id;
    for (id = 0; id < TOPIC_MAX; id++) {
        struct status_topic *t = instance_topic(&s->in, (uint32_t)id);
        if (atomic_load(&t->state) != TOPIC_FREE)
            continue;
        /* Before the topic is ready: a worker that sees it sees these. */
        publish_one(s, (uint32_t)id, name);
        t->name_len = (uint32_t)strlen(name);
        memcpy(t->name, name, t->name_len + 1);
        atomic_store(&t->partitions, (uint32_t)partitions);
        atomic_store_explicit(&t->state, TOPIC_READY, memory_order_release);
        log_info("topic \"%s\": id %d, %d partitions", name, id, partitions);
        return id;
    }
    return err_set(CHUTE_ERR_TOO_MANY, "the topic table (%d) is full",
                   TOPIC_MAX);
}

static void resolved(void *arg, int result)
{
    struct sup_resolve *r = arg;
    int id = result > 0 ? topics_add(r->sup, r->name, result) : result;

    r->cb(r->arg, id);
    free(r->name);
    free(r);
}

struct sup_resolve *topics_resolve(struct sup *s, const char *name,
                                   topics_cb *cb, void *arg)
{
    int id = instance_find_topic(&s->in, name);
    size_t len = strlen(name);
    struct sup_resolve *r;

    if (id >= 0 || len == 0 || len > TOPIC_NAME_MAX) {
        cb(arg, id >= 0 ? id
                        : err_set(CHUTE_ERR_INVALID,
                                  "invalid topic name \"%s\"", name));
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r && (r->name = strdup(name))) {
        r->sup = s;
        r->cb = cb;
        r->arg = arg;
        r->fetch = mdfetch_start(s->loop, s->cfg.bootstrap_servers,
                                 s->cfg.client_id, name, RESOLVE_TIMEOUT_MS,
                                 s->cfg.socket_timeout_ms, resolved, r);
        if (r->fetch)
            return r;
        free(r->name);
    } else {
        err_set(CHUTE_ERR_SYSTEM, "out of memory");
    }
    free(r);
    cb(arg, CHUTE_ERR_SYSTEM);
    return NULL;
}

void topics_resolve_cancel(struct sup_resolve *r)
{
    if (!r)
        return;
    mdfetch_cancel(r->fetch);
    free(r->name);
    free(r);
}

static void refreshed(void *arg, int result)
{
    struct sup_refresh *r = arg;
    struct status_topic *t = instance_topic(&r->sup->in, r->topic);
    uint32_t had = atomic_load(&t->partitions);

    r->fetch = NULL;
    if (result < 0) {
        log_warn("topic \"%s\": metadata refresh failed: %s", t->name,
                 chute_errmsg());
    } else if ((uint32_t)result > had) {
        /* Kafka only ever adds partitions: grow, never shrink. */
        atomic_store(&t->partitions, (uint32_t)result);
        log_info("topic \"%s\": %u -> %d partitions", t->name, had, result);
    }
}

void topics_refresh(struct sup *s)
{
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        struct sup_refresh *r = &s->refreshes[id];
        struct status_topic *t = instance_topic(&s->in, id);
        if (r->fetch || atomic_load(&t->state) != TOPIC_READY)
            continue;
        r->sup = s;
        r->topic = id;
        r->fetch = mdfetch_start(s->loop, s->cfg.bootstrap_servers,
                                 s->cfg.client_id, t->name, RESOLVE_TIMEOUT_MS,
                                 s->cfg.socket_timeout_ms, refreshed, r);
    }
}

void topics_stop(struct sup *s)
{
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        mdfetch_cancel(s->refreshes[id].fetch);
        s->refreshes[id].fetch = NULL;
    }
}

/* ---- describing every known topic (the control socket's Topics) ------ */

struct describe_one {
    struct sup_describe *d;
    struct mdfetch *fetch; /* NULL once answered */
    Chute__Ctl__TopicsReply__Topic *t;
    Chute__Ctl__TopicsReply__Settings settings; /* t->settings */
};

struct sup_describe {
    struct sup *sup;
    Chute__Ctl__TopicsReply reply;
    size_t pending; /* look-ups not answered yet */
    bool starting;  /* inside topics_describe() */
    topics_describe_cb *cb;
    void *arg;
    struct describe_one one[TOPIC_MAX];
};

static char describe_oom[] = "out of memory";

/* error_message is protobuf-c's static empty string until set here. */
static void describe_msg_free(Chute__Ctl__TopicsReply__Topic *t)
{
    if (t->error_code && t->error_message != describe_oom)
        free(t->error_message);
}

static void describe_error(Chute__Ctl__TopicsReply__Topic *t, int err)
{
    char *msg = strdup(chute_errmsg());

    describe_msg_free(t);
    t->error_code = err;
    t->error_message = msg ? msg : describe_oom;
}

static void describe_free(struct sup_describe *d)
{
    Chute__Ctl__TopicsReply *r = &d->reply;

    for (size_t i = 0; i < r->n_topics; i++) {
        Chute__Ctl__TopicsReply__Topic *t = r->topics[i];
        mdfetch_cancel(d->one[i].fetch);
        for (size_t p = 0; p < t->n_partitions; p++)
            free(t->partitions[p]);
        free(t->partitions);
        free(t->name);
        describe_msg_free(t);
        free(t);
    }
    for (size_t i = 0; i < r->n_brokers; i++) {
        free(r->brokers[i]->host);
        free(r->brokers[i]);
    }
    free(r->topics);
    free(r->brokers);
    free(d);
}

/* Adds the brokers of md that the reply does not have yet. */
static int add_brokers(Chute__Ctl__TopicsReply *r,
                       const struct kafka_metadata *md)
{
    for (size_t i = 0; i < md->broker_count; i++) {
        const struct kafka_broker *kb = &md->brokers[i];
        Chute__Ctl__TopicsReply__Broker *b, **grown;
        size_t k;

        for (k = 0; k < r->n_brokers; k++)
            if (r->brokers[k]->node_id == kb->node_id)
                break;
        if (k < r->n_brokers)
            continue;
        grown = realloc(r->brokers, (r->n_brokers + 1) * sizeof(*grown));
        if (!grown)
            return -1;
        r->brokers = grown;
        b = calloc(1, sizeof(*b));
        if (!b)
            return -1;
        chute__ctl__topics_reply__broker__init(b);
        b->node_id = kb->node_id;
        b->port = kb->port;
        b->host = strdup(kb->host ? kb->host : "");
        r->brokers[r->n_brokers++] = b;
        if (!b->host)
            return -1;
    }
    return 0;
}

static int add_partitions(Chute__Ctl__TopicsReply__Topic *t,
                          const struct kafka_topic *kt)
{
    t->partition_count = (int32_t)kt->partition_count;
    t->partitions = calloc(kt->partition_count, sizeof(*t->partitions));
    if (!t->partitions)
        return -1;
    for (size_t p = 0; p < kt->partition_count; p++) {
        Chute__Ctl__TopicsReply__Partition *tp = malloc(sizeof(*tp));
        if (!tp)
            return -1;
        chute__ctl__topics_reply__partition__init(tp);
        tp->index = kt->partitions[p].index;
        tp->leader = kt->partitions[p].leader;
        tp->leader_epoch = kt->partitions[p].leader_epoch;
        tp->error = kt->partitions[p].error;
        t->partitions[t->n_partitions++] = tp;
    }
    return 0;
}

/* What the workers batch topic `id` with: its published settings, as
 * live_topic_read() gives them to a worker. */
static void describe_settings(struct sup *s, uint32_t id,
                              Chute__Ctl__TopicsReply__Settings *out)
{
    struct topic_settings set;
    const char *codec;

    live_topic_read(&s->in, id, &set);
    codec = codec_name(set.codec);
    chute__ctl__topics_reply__settings__init(out);
    out->linger_ms = set.linger_ms;
    out->batch_size = (int32_t)set.batch_size;
    out->batch_num_messages = (int32_t)set.batch_num_messages;
    out->compression_codec = (char *)(codec ? codec : "?");
    out->compression_level = set.level;
}

static void describe_finish(struct sup_describe *d)
{
    d->cb(d->arg, &d->reply);
    describe_free(d);
}

static void described(void *arg, int result, const struct kafka_metadata *md,
                      const struct kafka_topic *kt)
{
    struct describe_one *o = arg;
    struct sup_describe *d = o->d;

    o->fetch = NULL;
    if (result < 0)
        describe_error(o->t, result);
    else if (add_partitions(o->t, kt) < 0 || add_brokers(&d->reply, md) < 0)
        describe_error(o->t, err_set(CHUTE_ERR_SYSTEM, "out of memory"));
    if (--d->pending == 0 && !d->starting)
        describe_finish(d);
}

struct sup_describe *topics_describe(struct sup *s, topics_describe_cb *cb,
                                     void *arg)
{
    struct sup_describe *d = calloc(1, sizeof(*d));

    if (d) {
        chute__ctl__topics_reply__init(&d->reply);
        d->reply.topics = calloc(TOPIC_MAX, sizeof(*d->reply.topics));
    }
    if (!d || !d->reply.topics) {
        free(d);
        err_set(CHUTE_ERR_SYSTEM, "out of memory");
        cb(arg, NULL);
        return NULL;
    }
    d->sup = s;
    d->cb = cb;
    d->arg = arg;
    d->starting = true;
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        struct status_topic *it = instance_topic(&s->in, id);
        struct describe_one *o = &d->one[d->reply.n_topics];
        Chute__Ctl__TopicsReply__Topic *t;

        if (atomic_load(&it->state) != TOPIC_READY)
            continue;
        t = malloc(sizeof(*t));
        if (!t)
            break;
        chute__ctl__topics_reply__topic__init(t);
        t->name = strdup(it->name);
        if (!t->name) {
            free(t);
            break;
        }
        d->reply.topics[d->reply.n_topics++] = t;
        t->topic_id = (int32_t)id;
        t->published_partitions = (int32_t)atomic_load(&it->partitions);
        describe_settings(s, id, &o->settings);
        t->settings = &o->settings;
        o->d = d;
        o->t = t;
        d->pending++;
        o->fetch = mdfetch_start_md(s->loop, s->cfg.bootstrap_servers,
                                    s->cfg.client_id, t->name,
                                    RESOLVE_TIMEOUT_MS,
                                    s->cfg.socket_timeout_ms, described, o);
        if (!o->fetch) {
            d->pending--;
            describe_error(t, CHUTE_ERR_SYSTEM);
        }
    }
    d->starting = false;
    if (d->pending == 0) {
        describe_finish(d);
        return NULL;
    }
    return d;
}

void topics_describe_cancel(struct sup_describe *d)
{
    if (d)
        describe_free(d);
}
