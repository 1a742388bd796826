/*
 * status.c: the control socket's status reply, read from the shared
 * memory counters of the workers, slots, pool and topics.
 */
#include "supervisor/sup.h"
#include "supervisor/clients.h"

#include "common/proc.h"
#include "common/procmem.h"
#include "proto/kafka.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* A slot's owner and target.  Both -1 means the ownership tables are not
 * in use (fixed sharding, slot % workers): then that is the owner. */
static void slot_owner(const struct sup *s, uint32_t slot, int32_t *owner,
                       int32_t *target)
{
    *owner = atomic_load(&s->in.state->slot_owner[slot]);
    *target = atomic_load(&s->in.state->slot_target[slot]);
    if (*owner < 0 && *target < 0 && s->worker_count)
        *owner = *target = (int32_t)(slot % s->worker_count);
    else if (*target < 0)
        *target = *owner;
}

/* TLS and SASL: counts, and the supervisor's latest failure. */
static Chute__Ctl__StatusReply__Brokers *brokers_status(struct sup *s)
{
    Chute__Ctl__StatusReply__Brokers *b = malloc(sizeof(*b));
    struct security_counts n;
    int64_t now = mono_ms();

    if (!b)
        return NULL;
    chute__ctl__status_reply__brokers__init(b);
    security_count(&s->sec, &s->in, &n);
    b->security_protocol =
        (char *)security_protocol_name(s->cfg.security_protocol);
    b->tls_failures = n.tls_failures;
    b->sasl_failures = n.sasl_failures;
    b->reauthentications = n.reauths;
    b->last_failure = s->sec.faults.last;
    if (s->sec.faults.last_ms && now >= s->sec.faults.last_ms)
        b->last_failure_age_ms = (uint64_t)(now - s->sec.faults.last_ms);
    return b;
}

static Chute__Ctl__StatusReply__Worker *worker_status(struct sup *s, uint32_t i)
{
    Chute__Ctl__StatusReply__Worker *w = malloc(sizeof(*w));
    struct state_worker *st = instance_worker(&s->in, i);
    size_t n = 0, nt = 0;
    uint64_t now = (uint64_t)mono_ms(), beat;
    int64_t rss;

    if (!w)
        return NULL;
    chute__ctl__status_reply__worker__init(w);
    w->index = i;
    w->pid = (uint32_t)atomic_load(&st->pid);
    w->uptime_ms = w->pid ? now - atomic_load(&st->started_ms) : 0;
    beat = atomic_load(&st->heartbeat_ms);
    w->heartbeat_age_ms = w->pid && beat && beat <= now ? now - beat : 0;
    w->restarts = atomic_load(&st->restarts);
    w->records_sent = atomic_load(&st->records_sent);
    w->records_acked = atomic_load(&st->records_acked);
    w->records_failed = atomic_load(&st->records_failed);
    w->records_invalid = atomic_load(&st->records_invalid);
    w->batches_sent = atomic_load(&st->batches_sent);
    w->bytes_sent = atomic_load(&st->bytes_sent);
    rss = w->pid ? procmem_rss((pid_t)w->pid) : -1;
    w->rss_bytes = rss > 0 ? (uint64_t)rss : 0;
    w->slots = calloc(s->in.slots, sizeof(uint32_t));
    w->target_slots = calloc(s->in.slots, sizeof(uint32_t));
    for (uint32_t slot = 0; w->slots && w->target_slots && slot < s->in.slots;
         slot++) {
        int32_t owner, target;
        slot_owner(s, slot, &owner, &target);
        if (owner == (int32_t)i)
            w->slots[n++] = slot;
        if (target == (int32_t)i)
            w->target_slots[nt++] = slot;
    }
    w->n_slots = n;
    w->n_target_slots = nt;
    return w;
}

static Chute__Ctl__StatusReply__Slot *slot_status(struct sup *s, uint32_t i)
{
    Chute__Ctl__StatusReply__Slot *sl = malloc(sizeof(*sl));
    struct ring r;

    if (!sl)
        return NULL;
    chute__ctl__status_reply__slot__init(sl);
    instance_ring(&s->in, i, &r);
    sl->index = i;
    slot_owner(s, i, &sl->owner, &sl->target);
    sl->head = atomic_load(&r.cons->head);
    sl->tail = atomic_load(&r.prod->tail);
    sl->resolved = atomic_load(&r.cons->resolved);
    sl->blocked_by_pid = atomic_load(&r.cons->blocked_by);
    sl->dead_writers = atomic_load(&r.cons->dead_writers);
    sl->corrupt_bytes = atomic_load(&r.cons->corrupt);
    sl->ring_used_bytes = sl->tail > sl->head ? sl->tail - sl->head : 0;
    sl->ring_size = s->in.ring_size;
    return sl;
}

/* Workers to list: those the supervisor runs, and any index that still
 * runs (retiring) or owns or is meant to own a slot (while scaling). */
static uint32_t workers_shown(const struct sup *s)
{
    uint32_t n = s->worker_count;

    for (uint32_t i = n; i < WORKER_MAX; i++)
        if (atomic_load(&instance_worker(&s->in, i)->pid) > 0)
            n = i + 1;

    for (uint32_t slot = 0; slot < s->in.slots; slot++) {
        int32_t owner, target;
        slot_owner(s, slot, &owner, &target);
        if (owner >= 0 && (uint32_t)owner >= n)
            n = (uint32_t)owner + 1;
        if (target >= 0 && (uint32_t)target >= n)
            n = (uint32_t)target + 1;
    }
    return n > WORKER_MAX ? WORKER_MAX : n;
}

struct error_walk {
    uint32_t topic;
    Chute__Ctl__StatusReply__TopicCounters *t;
};

static void add_error(void *ctx, uint32_t topic, int16_t error,
                      uint64_t records)
{
    struct error_walk *ew = ctx;
    Chute__Ctl__StatusReply__TopicCounters *t = ew->t;
    Chute__Ctl__StatusReply__TopicCounters__Error *e, **grown;

    if (topic != ew->topic)
        return;
    grown = realloc(t->errors, (t->n_errors + 1) * sizeof(*grown));
    e = malloc(sizeof(*e));
    if (!grown || !e) {
        free(e);
        if (grown)
            t->errors = grown;
        return;
    }
    chute__ctl__status_reply__topic_counters__error__init(e);
    e->code = error;
    e->name = (char *)kafka_err_name(error);
    e->records = records;
    t->errors = grown;
    t->errors[t->n_errors++] = e;
}

static Chute__Ctl__StatusReply__TopicCounters *topic_status(struct sup *s,
                                                            uint32_t id)
{
    Chute__Ctl__StatusReply__TopicCounters *t = malloc(sizeof(*t));
    struct status_topic *it = instance_topic(&s->in, id);

    if (!t)
        return NULL;
    chute__ctl__status_reply__topic_counters__init(t);
    t->name = strdup(it->name);
    t->partitions = (int32_t)atomic_load(&it->partitions);
    t->records_acked = atomic_load(&s->in.state->topic_acked[id]);
    t->records_failed = atomic_load(&s->in.state->topic_failed[id]);
    struct error_walk ew = {id, t};
    instance_each_error(&s->in, add_error, &ew);
    return t;
}

/* uid's entry in c->users, added if new; NULL when out of memory. */
static Chute__Ctl__StatusReply__Control__User *
control_user(Chute__Ctl__StatusReply__Control *c, uint32_t uid)
{
    Chute__Ctl__StatusReply__Control__User *u;

    for (size_t k = 0; k < c->n_users; k++)
        if (c->users[k]->uid == uid)
            return c->users[k];
    u = malloc(sizeof(*u));
    if (!u)
        return NULL;
    chute__ctl__status_reply__control__user__init(u);
    u->uid = uid;
    c->users[c->n_users++] = u;
    return u;
}

/* Each uid with a connection open, and how many it has. */
static void control_users(struct sup *s, Chute__Ctl__StatusReply__Control *c)
{
    c->users = calloc(SUP_CTL_CLIENTS_MAX, sizeof(*c->users));
    for (int i = 0; c->users && i < SUP_CTL_CLIENTS_MAX; i++) {
        Chute__Ctl__StatusReply__Control__User *u;

        if (!s->clients[i])
            continue;
        u = control_user(c, (uint32_t)s->clients[i]->peer.uid);
        if (u)
            u->connections++;
    }
}

static Chute__Ctl__StatusReply__Control *control_status(struct sup *s)
{
    Chute__Ctl__StatusReply__Control *c = malloc(sizeof(*c));
    const struct sup_ctl_stats *st = &s->ctl_stats;

    if (!c)
        return NULL;
    chute__ctl__status_reply__control__init(c);
    c->connections = ctlserver_connections(s);
    c->connections_max = (uint32_t)s->cfg.control_connections_max;
    c->per_user_max = (uint32_t)s->cfg.control_connections_per_user;
    c->refused_not_admin = st->refused_not_admin;
    c->refused_user_limit = st->refused_user_limit;
    c->refused_full = st->refused_full;
    c->closed_idle = st->closed_idle;
    c->closed_request_timeout = st->closed_request_timeout;
    c->closed_too_large = st->closed_too_large;
    c->accept_pauses = st->accept_pauses;
    control_users(s, c);
    return c;
}

static int user_spaces(struct sup *s, Chute__Ctl__StatusReply *st)
{
    st->users = calloc(s->in.users, sizeof(*st->users));
    if (!st->users)
        return -1;
    for (uint32_t u = 0; u < s->in.users; u++) {
        struct status_user *su = instance_user(&s->in, u);
        Chute__Ctl__StatusReply__UserSpace *us;
        if (!atomic_load(&su->bound) || !(us = malloc(sizeof(*us))))
            continue;
        chute__ctl__status_reply__user_space__init(us);
        us->index = u;
        us->uid = atomic_load(&su->uid);
        us->clients = clients_count(&s->in, us->uid);
        us->refused_acl = atomic_load(&su->refused);
        us->truncated = atomic_load(&su->truncated);
        st->users[st->n_users++] = us;
    }
    return 0;
}

/* The objects' sizes, fixed at start, and the processes' resident sets. */
static Chute__Ctl__StatusReply__Memory *memory_status(struct sup *s,
                                                      const Chute__Ctl__StatusReply *st)
{
    Chute__Ctl__StatusReply__Memory *m = malloc(sizeof(*m));
    int64_t rss = procmem_rss(0);

    if (!m)
        return NULL;
    chute__ctl__status_reply__memory__init(m);
    m->user_space_bytes = s->in.user_size;
    m->user_spaces = s->in.users;
    m->status_bytes = s->in.status_size;
    m->state_bytes = s->in.state_size;
    m->pool_bytes = (uint64_t)s->in.chunk_size * s->in.chunk_count;
    m->shared_bytes = m->user_space_bytes * m->user_spaces + m->status_bytes +
                      m->state_bytes;
    m->supervisor_rss_bytes = rss > 0 ? (uint64_t)rss : 0;
    for (size_t i = 0; i < st->n_workers; i++)
        m->workers_rss_bytes += st->workers[i]->rss_bytes;
    return m;
}

int sup_status_reply(struct sup *s, Chute__Ctl__Reply *r)
{
    Chute__Ctl__StatusReply *st = malloc(sizeof(*st));
    uint32_t topics = 0;

    if (!st)
        return -1;
    chute__ctl__status_reply__init(st);
    r->body_case = CHUTE__CTL__REPLY__BODY_STATUS;
    r->status = st;
    uint32_t workers = workers_shown(s);

    st->service_name = s->cfg.name;
    st->supervisor_pid = (uint32_t)getpid();
    st->worker_count = s->worker_count;
    st->accepting = atomic_load(&s->in.status->accepting) != 0 && !s->stopping;
    st->scale_done = sup_scale_done(s);
    st->workers = calloc(workers, sizeof(*st->workers));
    st->slots = calloc(s->in.slots, sizeof(*st->slots));
    st->topics = calloc(TOPIC_MAX, sizeof(*st->topics));
    if (!st->workers || !st->slots || !st->topics)
        return -1;
    for (uint32_t i = 0; i < workers; i++)
        if ((st->workers[st->n_workers] = worker_status(s, i)))
            st->n_workers++;
    for (uint32_t i = 0; i < s->in.slots; i++)
        if ((st->slots[st->n_slots] = slot_status(s, i)))
            st->n_slots++;
    for (uint32_t id = 0; id < TOPIC_MAX; id++)
        if (atomic_load(&instance_topic(&s->in, id)->state) == TOPIC_READY &&
            (st->topics[topics] = topic_status(s, id)))
            topics++;
    st->n_topics = topics;
    st->control = control_status(s);
    st->brokers = brokers_status(s);
    st->memory = memory_status(s, st);
    if (user_spaces(s, st) < 0)
        return -1;
    st->pool_chunks_total = s->in.chunk_count;
    for (uint32_t i = 0; i < s->in.chunk_count; i++)
        st->pool_chunks_used +=
            atomic_load(&instance_chunk(&s->in, i)->state) != CHUNK_FREE;
    return 0;
}

void sup_status_free(Chute__Ctl__Reply *r)
{
    Chute__Ctl__StatusReply *st = r->body_case == CHUTE__CTL__REPLY__BODY_STATUS
                                      ? r->status
                                      : NULL;

    if (!st)
        return;
    for (size_t i = 0; i < st->n_workers; i++) {
        free(st->workers[i]->slots);
        free(st->workers[i]->target_slots);
        free(st->workers[i]);
    }
    for (size_t i = 0; i < st->n_slots; i++)
        free(st->slots[i]);
    for (size_t i = 0; i < st->n_topics; i++) {
        for (size_t e = 0; e < st->topics[i]->n_errors; e++)
            free(st->topics[i]->errors[e]);
        free(st->topics[i]->errors);
        free(st->topics[i]->name);
        free(st->topics[i]);
    }
    for (size_t i = 0; i < st->n_users; i++)
        free(st->users[i]);
    free(st->users);
    for (size_t i = 0; st->control && i < st->control->n_users; i++)
        free(st->control->users[i]);
    if (st->control)
        free(st->control->users);
    free(st->control);
    free(st->brokers);
    free(st->memory);
    free(st->workers);
    free(st->slots);
    free(st->topics);
    free(st);
}
