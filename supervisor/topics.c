/*
 * topics.c: the intake topic table, as only the supervisor writes it.  A
 * topic is added when a client asks for it and the cluster knows it (or
 * creates it), and its partition count grows when a periodic refresh finds
 * partitions added.  Look-ups run on the supervisor's loop (mdfetch.c), so
 * one slow topic holds up nobody else.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "worker/mdfetch.h"

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

static int find_topic(struct sup *s, const char *name)
{
    for (int id = 0; id < TOPIC_MAX; id++) {
        struct intake_topic *t = instance_topic(&s->in, (uint32_t)id);
        if (atomic_load(&t->state) == TOPIC_READY &&
            strcmp(t->name, name) == 0)
            return id;
    }
    return -1;
}

/* Publishes a topic the cluster confirmed; returns its id. */
static int add_topic(struct sup *s, const char *name, int partitions)
{
    int id = find_topic(s, name); /* another client may have won the race */

    if (id >= 0)
        return id;
    for (id = 0; id < TOPIC_MAX; id++) {
        struct intake_topic *t = instance_topic(&s->in, (uint32_t)id);
        if (atomic_load(&t->state) != TOPIC_FREE)
            continue;
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
    int id = result > 0 ? add_topic(r->sup, r->name, result) : result;

    r->cb(r->arg, id);
    free(r->name);
    free(r);
}

struct sup_resolve *topics_resolve(struct sup *s, const char *name,
                                   topics_cb *cb, void *arg)
{
    int id = find_topic(s, name);
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
                                 resolved, r);
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
    struct intake_topic *t = instance_topic(&r->sup->in, r->topic);
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
        struct intake_topic *t = instance_topic(&s->in, id);
        if (r->fetch || atomic_load(&t->state) != TOPIC_READY)
            continue;
        r->sup = s;
        r->topic = id;
        r->fetch = mdfetch_start(s->loop, s->cfg.bootstrap_servers,
                                 s->cfg.client_id, t->name, RESOLVE_TIMEOUT_MS,
                                 refreshed, r);
    }
}

void topics_stop(struct sup *s)
{
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        mdfetch_cancel(s->refreshes[id].fetch);
        s->refreshes[id].fetch = NULL;
    }
}
