/*
 * part.c: the partitions this worker writes to, and the two lists each
 * keeps of its batches: sealed and waiting (the queue), and in flight,
 * oldest first.  Both are linked through chunk_next (a chunk is on at
 * most one list).  Private memory only: a replacement rebuilds the lists
 * from the pool (recover.c).
 */
#include "worker/wrk.h"

#include "common/err.h"
#include "common/log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int part_init(struct wrk *w)
{
    uint32_t n = w->in->chunk_count;

    w->chunk_next = malloc(n * sizeof(*w->chunk_next));
    w->chunk_unsure = calloc(n, sizeof(*w->chunk_unsure));
    if (!w->chunk_next || !w->chunk_unsure)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory for %u chunk links",
                       n);
    return 0;
}

void part_release(struct wrk *w)
{
    free(w->chunk_next);
    free(w->chunk_unsure);
    for (struct wpart *p = w->parts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    w->parts = NULL;
    for (int t = 0; t < TOPIC_MAX; t++)
        free(w->topics[t].parts);
}

static struct wpart *create(struct wrk *w, uint32_t user, uint32_t topic,
                            int32_t partition)
{
    struct wpart *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->topic = topic;
    p->partition = partition;
    p->slot = layout_user_slot(user, topic, partition, w->in->user_slots);
    p->open = p->q_head = p->q_tail = WRK_NONE;
    p->f_head = p->f_tail = WRK_NONE;
    p->leader = -1;
    p->sp = instance_find_partition(w->in, user, topic, partition, true);
    if (!p->sp) {
        free(p);
        return NULL;
    }
    p->next = w->parts;
    w->parts = p;
    return p;
}

/* The worker's copy of a topic's name: the intake table is client-
 * writable, so it is read once, bounded, when the topic first appears.
 * Its settings were published before the topic turned ready. */
static void learn_topic(struct wrk *w, struct wtopic *t, uint32_t topic)
{
    const struct status_topic *it = instance_topic(w->in, topic);
    size_t n = strnlen(it->name, TOPIC_NAME_MAX);

    memcpy(t->name, it->name, n);
    t->name[n] = '\0';
    live_topic_read(w->in, topic, &t->set);
    t->known = true;
    w->metadata_wanted = true; /* its leaders */
    part_linger_update(w);
}

void part_linger_update(struct wrk *w)
{
    int32_t least = -1;

    for (uint32_t id = 0; id < TOPIC_MAX; id++)
        if (w->topics[id].known &&
            (least < 0 || w->topics[id].set.linger_ms < least))
            least = w->topics[id].set.linger_ms;
    w->linger_min_ms = least < 0 ? 0 : least;
}

void part_topics_apply(struct wrk *w)
{
    uint32_t gen = live_topics_generation(w->in);
    uint32_t n = 0;

    if (gen == w->topics_seen)
        return;
    w->topics_seen = gen;
    for (uint32_t id = 0; id < TOPIC_MAX; id++) {
        if (!w->topics[id].known)
            continue;
        live_topic_read(w->in, id, &w->topics[id].set);
        n++;
    }
    part_linger_update(w);
    log_info("topic settings %u applied (%u topics)", gen, n);
}

struct wpart *part_get(struct wrk *w, uint32_t user, uint32_t topic,
                       int32_t partition)
{
    struct wtopic *t = &w->topics[topic];
    int32_t i = partition * USER_MAX + (int32_t)user;

    if (i >= t->nparts) {
        int32_t n = (partition + 1) * USER_MAX;
        struct wpart **parts = realloc(t->parts, (size_t)n * sizeof(*parts));
        if (!parts)
            return NULL;
        memset(parts + t->nparts, 0,
               (size_t)(n - t->nparts) * sizeof(*parts));
        t->parts = parts;
        t->nparts = n;
    }
    if (!t->parts[i]) {
        t->parts[i] = create(w, user, topic, partition);
        if (t->parts[i] && !t->known)
            learn_topic(w, t, topic);
    }
    return t->parts[i];
}

/* ---- the queue: sealed, waiting ---- */

void part_queue(struct wrk *w, struct wpart *p, int32_t idx)
{
    w->chunk_unsure[idx] = false;
    w->chunk_next[idx] = WRK_NONE;
    if (p->q_tail == WRK_NONE)
        p->q_head = idx;
    else
        w->chunk_next[p->q_tail] = idx;
    p->q_tail = idx;
}

int32_t part_queue_pop(struct wrk *w, struct wpart *p)
{
    int32_t idx = p->q_head;

    p->q_head = w->chunk_next[idx];
    if (p->q_head == WRK_NONE)
        p->q_tail = WRK_NONE;
    return idx;
}

uint32_t part_seq_order(const struct wrk *w, const struct wpart *p,
                        int32_t idx)
{
    const struct pool_chunk *ch = chunk_at(&w->pool, idx);

    return ((uint32_t)ch->base_sequence - (uint32_t)p->sp->acked_seq) &
           0x7fffffffu;
}

void part_queue_return(struct wrk *w, struct wpart *p, int32_t idx)
{
    int32_t *link = &p->q_head;

    if (w->s->idempotent)
        while (*link != WRK_NONE &&
               part_seq_order(w, p, *link) < part_seq_order(w, p, idx))
            link = &w->chunk_next[*link];
    w->chunk_next[idx] = *link;
    *link = idx;
    if (w->chunk_next[idx] == WRK_NONE)
        p->q_tail = idx;
}

/* ---- in flight, oldest first ---- */

void part_flight_push(struct wrk *w, struct wpart *p, int32_t idx)
{
    w->chunk_next[idx] = WRK_NONE;
    if (p->f_tail == WRK_NONE)
        p->f_head = idx;
    else
        w->chunk_next[p->f_tail] = idx;
    p->f_tail = idx;
    p->inflight++;
}

void part_flight_remove(struct wrk *w, struct wpart *p, int32_t idx)
{
    int32_t *link = &p->f_head, prev = WRK_NONE;

    while (*link != idx) {
        assert(*link != WRK_NONE); /* idx must be in flight */
        prev = *link;
        link = &w->chunk_next[*link];
    }
    *link = w->chunk_next[idx];
    if (p->f_tail == idx)
        p->f_tail = prev;
    p->inflight--;
    if (p->inflight == 0)
        p->recovering = false;
}

bool part_unsure(const struct wrk *w, const struct wpart *p)
{
    for (int32_t i = p->q_head; i != WRK_NONE; i = w->chunk_next[i])
        if (w->chunk_unsure[i])
            return true;
    return false;
}

bool part_slot_in_flight(const struct wrk *w, uint32_t slot)
{
    for (const struct wpart *p = w->parts; p; p = p->next)
        if (p->slot == slot && p->inflight)
            return true;
    return false;
}
