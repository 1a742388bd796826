/*
 * accum.c: the record accumulator.  Drains the rings this worker owns,
 * checks every record (the intake object is untrusted), and appends it to
 * its partition's open batch in a pool chunk.  A batch is sealed when it
 * reaches batch.size or batch.num.messages, or when linger.ms has passed:
 * sealing compresses the records, writes the RecordBatch header and CRC,
 * and queues the chunk for the sender.
 *
 * Each slot keeps the list of its unresolved chunks in ring order; the
 * first one's ring position is the slot's published `resolved` position,
 * the one chute_flush() waits on.
 */
#include "common/log.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/lz4frame.h"
#include "proto/record.h"
#include "worker/idem.h"
#include "worker/wrk.h"

#include <stdlib.h>
#include <string.h>

#ifndef RECORD_OVERHEAD_MAX
#define RECORD_OVERHEAD_MAX 21
#endif
#define DRAIN_BUDGET 4096          /* records per slot per pass */
#define DEAD_WRITER_CHECK_MS 200   /* how long a claim may sit uncommitted
                                      before we ask whether its writer lives */

static uint8_t *chunk_data(struct pool_chunk *ch)
{
    return (uint8_t *)(ch + 1);
}

static size_t chunk_data_cap(const struct wrk *w)
{
    return w->in->chunk_size - sizeof(struct pool_chunk);
}

/* The origins of a chunk's records, last record first. */
static struct chunk_origin *chunk_origins(struct wrk *w, struct pool_chunk *ch)
{
    return (struct chunk_origin *)(chunk_data(ch) + chunk_data_cap(w)) -
           ch->count;
}

uint32_t worker_chunk_size(uint32_t batch_size, uint32_t max_record,
                           uint32_t batch_num_messages)
{
    uint64_t data = batch_size > max_record ? batch_size : max_record;
    uint64_t size = sizeof(struct pool_chunk) + data + 64 +
                    sizeof(struct chunk_origin) * (uint64_t)batch_num_messages;

    return (uint32_t)((size + 4095) & ~(uint64_t)4095);
}

int accum_init(struct wrk *w)
{
    uint32_t n = w->in->chunk_count;

    w->chunk_next = malloc(n * sizeof(int32_t));
    w->slot_next = malloc(n * sizeof(int32_t));
    w->slot_prev = malloc(n * sizeof(int32_t));
    w->chunk_part = calloc(n, sizeof(*w->chunk_part));
    w->scratch_cap = lz4frame_bound(chunk_data_cap(w));
    w->scratch = malloc(w->scratch_cap);
    if (!w->chunk_next || !w->slot_next || !w->slot_prev || !w->chunk_part ||
        !w->scratch)
        return -1;
    for (uint32_t s = 0; s < SLOT_MAX; s++)
        w->slot_first[s] = w->slot_last[s] = WRK_NONE;
    w->alloc_hint = w->index * (n / (w->s->worker_count ? w->s->worker_count
                                                        : 1));
    return 0;
}

void accum_release(struct wrk *w)
{
    free(w->chunk_next);
    free(w->slot_next);
    free(w->slot_prev);
    free(w->chunk_part);
    free(w->scratch);
    for (struct wpart *p = w->parts, *next; p; p = next) {
        next = p->next;
        free(p);
    }
    for (int t = 0; t < TOPIC_MAX; t++)
        free(w->topics[t].parts);
}

struct wpart *accum_part(struct wrk *w, uint32_t topic, int32_t partition)
{
    struct wtopic *t = &w->topics[topic];

    if (partition >= t->nparts) {
        int32_t n = partition + 1;
        struct wpart **parts = realloc(t->parts, (size_t)n * sizeof(*parts));
        if (!parts)
            return NULL;
        memset(parts + t->nparts, 0,
               (size_t)(n - t->nparts) * sizeof(*parts));
        t->parts = parts;
        t->nparts = n;
    }
    if (!t->parts[partition]) {
        struct wpart *p = calloc(1, sizeof(*p));
        if (!p)
            return NULL;
        p->topic = topic;
        p->partition = partition;
        p->slot = layout_slot_of(topic, partition, w->slot_count);
        p->open = p->q_head = p->q_tail = WRK_NONE;
        p->f_head = p->f_tail = WRK_NONE;
        p->leader = -1;
        p->sp = instance_find_partition(w->in, topic, partition, true);
        if (!p->sp) {
            free(p);
            return NULL;
        }
        p->next = w->parts;
        w->parts = p;
        t->parts[partition] = p;
        if (!t->known) {
            const struct intake_topic *it = instance_topic(w->in, topic);
            size_t n = strnlen(it->name, TOPIC_NAME_MAX);
            memcpy(t->name, it->name, n);
            t->name[n] = '\0';
            t->known = true;
            cluster_want_metadata(w);
        }
    }
    return t->parts[partition];
}

/* ---- slot lists of unresolved chunks ---- */

static void slot_append(struct wrk *w, uint32_t slot, int32_t chunk)
{
    w->slot_next[chunk] = WRK_NONE;
    w->slot_prev[chunk] = w->slot_last[slot];
    if (w->slot_last[slot] == WRK_NONE)
        w->slot_first[slot] = chunk;
    else
        w->slot_next[w->slot_last[slot]] = chunk;
    w->slot_last[slot] = chunk;
}

static void slot_remove(struct wrk *w, uint32_t slot, int32_t chunk)
{
    int32_t prev = w->slot_prev[chunk], next = w->slot_next[chunk];

    if (prev == WRK_NONE)
        w->slot_first[slot] = next;
    else
        w->slot_next[prev] = next;
    if (next == WRK_NONE)
        w->slot_last[slot] = prev;
    else
        w->slot_prev[next] = prev;
}

/* Publishes how far the slot is resolved: up to its oldest unresolved
 * chunk, or everything drained when it has none. */
static void slot_publish(struct wrk *w, uint32_t slot)
{
    struct ring *r = &w->rings[slot];
    int32_t first = w->slot_first[slot];
    uint64_t pos = first == WRK_NONE
                       ? ring_head(r)
                       : instance_chunk(w->in, (uint32_t)first)->ring_first;

    if (pos > atomic_load_explicit(&r->ctl->resolved, memory_order_relaxed))
        atomic_store_explicit(&r->ctl->resolved, pos, memory_order_release);
}

/* ---- chunks ---- */

static int32_t chunk_alloc(struct wrk *w)
{
    uint32_t n = w->in->chunk_count;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = (w->alloc_hint + i) % n;
        struct pool_chunk *ch = instance_chunk(w->in, idx);
        uint32_t expect = CHUNK_FREE;
        if (atomic_compare_exchange_strong(&ch->state, &expect, CHUNK_OPEN)) {
            w->alloc_hint = idx + 1;
            return (int32_t)idx;
        }
    }
    return WRK_NONE;
}

static void open_batch(struct wrk *w, struct wpart *p, int32_t idx,
                       uint64_t ring_pos, int64_t ts)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);

    ch->worker = (int32_t)w->index;
    ch->topic = p->topic;
    ch->partition = p->partition;
    ch->slot = p->slot;
    ch->count = 0;
    ch->used = 0;
    ch->wire_len = 0;
    ch->base_ts = ts;
    ch->max_ts = ts;
    ch->ring_first = ring_pos;
    ch->ring_end = ring_pos;
    ch->producer_id = -1;
    ch->producer_epoch = -1;
    ch->base_sequence = -1;
    ch->codec = BATCH_CODEC_NONE;
    ch->opened_ns = clock_ns(CLOCK_MONOTONIC);
    ch->accepted_ns = ch->opened_ns;
    p->open = idx;
    w->chunk_part[idx] = p;
    slot_append(w, p->slot, idx);
}

static void queue_push(struct wrk *w, struct wpart *p, int32_t idx)
{
    w->chunk_next[idx] = WRK_NONE;
    if (p->q_tail == WRK_NONE)
        p->q_head = idx;
    else
        w->chunk_next[p->q_tail] = idx;
    p->q_tail = idx;
}

void accum_stamp(struct wrk *w, int32_t idx)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);
    struct batch_meta m = {0};

    m.attributes = ch->codec;
    m.last_offset_delta = (int32_t)ch->count - 1;
    m.base_timestamp = ch->base_ts;
    m.max_timestamp = ch->max_ts;
    m.producer_id = ch->producer_id;
    m.producer_epoch = ch->producer_epoch;
    m.base_sequence = ch->base_sequence;
    m.record_count = (int32_t)ch->count;
    batch_write_header(chunk_data(ch), ch->wire_len, &m);
}

/* Gives the batch its producer id, epoch and sequence (idempotence). */
static void assign_producer(struct wrk *w, struct wpart *p,
                            struct pool_chunk *ch)
{
    struct state_slot *ps = instance_pslot(w->in, p->slot);
    struct idem_seq seq = {p->sp->next_seq, p->sp->acked_seq};

    if (!w->s->idempotent)
        return;
    ch->producer_id = atomic_load(&ps->producer_id);
    ch->producer_epoch = (int16_t)atomic_load(&ps->epoch);
    ch->base_sequence = idem_assign(&seq, (int32_t)ch->count);
    p->sp->next_seq = seq.next_seq;
}

static bool has_producer(struct wrk *w, uint32_t slot)
{
    return !w->s->idempotent ||
           atomic_load(&instance_pslot(w->in, slot)->producer_id) >= 0;
}

/* Compresses (when it pays), stamps header and CRC, queues the batch.
 * With idempotence a batch waits, open, until its slot has a producer id:
 * its sequence is given here. */
static bool seal(struct wrk *w, struct wpart *p)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)p->open);
    uint8_t *data = chunk_data(ch);
    size_t len = ch->used;

    if (!has_producer(w, p->slot))
        return false;
    if (w->s->codec == BATCH_CODEC_LZ4) {
        ssize_t n = lz4frame_compress(data + BATCH_HEADER_SIZE, ch->used,
                                      w->scratch, w->scratch_cap);
        if (n > 0 && (size_t)n < ch->used) {
            memcpy(data + BATCH_HEADER_SIZE, w->scratch, (size_t)n);
            len = (size_t)n;
            ch->codec = BATCH_CODEC_LZ4;
        }
    }
    ch->wire_len = (uint32_t)(BATCH_HEADER_SIZE + len);
    assign_producer(w, p, ch);
    accum_stamp(w, p->open);
    atomic_store_explicit(&ch->state, CHUNK_SEALED, memory_order_release);
    queue_push(w, p, p->open);
    p->open = WRK_NONE;
    return true;
}

/* Whether a record of `rsize` bytes still fits the open batch. */
static bool fits(struct wrk *w, struct pool_chunk *ch, size_t rsize)
{
    size_t limit = w->s->batch_size < w->s->max_record ? w->s->batch_size
                                                       : w->s->max_record;
    size_t after = BATCH_HEADER_SIZE + ch->used + rsize;

    if (ch->count == 0)
        return true; /* a lone record is bounded by message.max.bytes */
    return after <= limit && ch->count < w->s->batch_num_messages &&
           after + sizeof(struct chunk_origin) * (ch->count + 1) <=
               chunk_data_cap(w);
}

enum append_result { APPENDED, NO_CHUNK, BATCH_FULL };

/* Appends one checked record.  NO_CHUNK: the pool is empty; BATCH_FULL:
 * the open batch is full and cannot be sealed yet (no producer id). */
static enum append_result append(struct wrk *w, struct wpart *p,
                                 const struct ring_rec *rec, uint64_t pos,
                                 uint64_t end)
{
    const uint8_t *tail = (const uint8_t *)(rec + 1);
    struct pool_chunk *ch;
    size_t rsize;

    if (p->open != WRK_NONE) {
        ch = instance_chunk(w->in, (uint32_t)p->open);
        rsize = record_size(rec->timestamp - ch->base_ts, (int32_t)ch->count,
                            rec->tail_len);
        if (!fits(w, ch, rsize) && !seal(w, p))
            return BATCH_FULL;
    }
    if (p->open == WRK_NONE) {
        int32_t idx = chunk_alloc(w);
        if (idx == WRK_NONE)
            return NO_CHUNK;
        open_batch(w, p, idx, pos, rec->timestamp);
    }
    ch = instance_chunk(w->in, (uint32_t)p->open);
    record_write(chunk_data(ch) + BATCH_HEADER_SIZE + ch->used,
                 rec->timestamp - ch->base_ts, (int32_t)ch->count, tail,
                 rec->tail_len);
    ch->used += (uint32_t)record_size(rec->timestamp - ch->base_ts,
                                      (int32_t)ch->count, rec->tail_len);
    ch->count++;
    chunk_origins(w, ch)[0] = (struct chunk_origin){rec->opaque, rec->client,
                                                    {0, 0, 0}};
    if (rec->timestamp > ch->max_ts)
        ch->max_ts = rec->timestamp;
    /* The client's clock is only trusted to make the record older than
     * its batch, never younger than its drain. */
    if (rec->accepted_ns > 0 && rec->accepted_ns < ch->accepted_ns)
        ch->accepted_ns = rec->accepted_ns;
    ch->ring_end = end;
    return APPENDED;
}

static void count_client(struct wrk *w, uint32_t client, bool acked,
                         uint64_t n)
{
    struct intake_client *c;

    if (client >= CLIENT_MAX)
        return;
    c = instance_client(w->in, client);
    atomic_fetch_add_explicit(acked ? &c->records_acked : &c->records_failed,
                              n, memory_order_relaxed);
}

/* Checks a committed record from the ring before anything trusts it. */
static struct wpart *check_record(struct wrk *w, uint32_t slot,
                                  const struct ring_rec *rec)
{
    struct record_tail_info info;
    struct intake_topic *t;
    uint32_t parts;

    if (rec->topic >= TOPIC_MAX || rec->client >= CLIENT_MAX)
        return NULL;
    t = instance_topic(w->in, rec->topic);
    if (atomic_load_explicit(&t->state, memory_order_acquire) != TOPIC_READY)
        return NULL;
    parts = atomic_load_explicit(&t->partitions, memory_order_relaxed);
    if (rec->partition < 0 || (uint32_t)rec->partition >= parts ||
        layout_slot_of(rec->topic, rec->partition, w->slot_count) != slot)
        return NULL;
    if (rec->tail_len + BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX >
            w->s->max_record ||
        record_tail_check((const uint8_t *)(rec + 1), rec->tail_len, &info) <
            0)
        return NULL;
    return accum_part(w, rec->topic, rec->partition);
}

static void reject(struct wrk *w, uint32_t slot, const struct ring_rec *rec)
{
    atomic_fetch_add(&w->stats->records_invalid, 1);
    count_client(w, rec->client, false, 1);
    log_warn("slot %u: dropped an invalid record (topic %u partition %d)",
             slot, rec->topic, rec->partition);
}

/* A record stays claimed but uncommitted: if its writer is gone, turn it
 * into padding so the slot moves on; a live writer (even a stopped one)
 * keeps its record. */
static bool unblock(struct wrk *w, uint32_t slot, uint64_t pos,
                    const struct ring_view *v)
{
    int64_t now = mono_ms();

    if (!w->pending_since_ms[slot])
        w->pending_since_ms[slot] = now;
    if (now - w->pending_since_ms[slot] < DEAD_WRITER_CHECK_MS || !v->rec ||
        pid_alive(v->pid))
        return false;
    if (!ring_abandon(&w->rings[slot], pos, -(int32_t)v->len))
        return false;
    atomic_fetch_add(&w->rings[slot].ctl->dead_writers, 1);
    log_warn("slot %u: writer %d died before committing; skipped its record",
             slot, v->pid);
    return true;
}

/* Drains up to DRAIN_BUDGET records of one slot; returns records read. */
static unsigned drain_slot(struct wrk *w, uint32_t slot)
{
    struct ring *r = &w->rings[slot];
    uint64_t pos = ring_head(r);
    unsigned n = 0;
    struct ring_view v;

    while (n < DRAIN_BUDGET) {
        enum ring_peek k = ring_peek(r, pos, &v);
        if (k == RING_EMPTY)
            break;
        if (k == RING_PENDING) {
            if (!unblock(w, slot, pos, &v))
                break;
            continue;
        }
        w->pending_since_ms[slot] = 0;
        if (k == RING_CORRUPT) {
            atomic_fetch_add(&r->ctl->corrupt, v.len);
        } else if (k == RING_RECORD) {
            struct wpart *p = check_record(w, slot, v.rec);
            enum append_result ar = p ? append(w, p, v.rec, pos, pos + v.len)
                                      : APPENDED;
            if (!p) {
                reject(w, slot, v.rec);
            } else if (ar != APPENDED) {
                /* Wait for a free chunk (seal everything so some frees) or
                 * for the producer id; the tick looks again. */
                w->pool_starved |= ar == NO_CHUNK;
                break;
            } else {
                atomic_fetch_add_explicit(&w->stats->records_sent, 1,
                                          memory_order_relaxed);
            }
            n++;
        }
        pos += v.len;
    }
    ring_consume(r, pos);
    slot_publish(w, slot);
    return n;
}

bool accum_drain(struct wrk *w)
{
    bool found = false;


    if (w->pool_starved) {
        accum_seal_due(w, true);
        w->pool_starved = false;
    }
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && drain_slot(w, s))
            found = true;
    return found;
}

bool accum_idle(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++) {
        if (!w->owned[s])
            continue;
        if (ring_tail(&w->rings[s]) != ring_head(&w->rings[s]))
            return false;
    }
    return true;
}

int64_t accum_seal_due(struct wrk *w, bool force)
{
    int64_t now = clock_ns(CLOCK_MONOTONIC), next = -1;
    int64_t linger = (int64_t)w->s->linger_ms * 1000000;

    for (struct wpart *p = w->parts; p; p = p->next) {
        if (p->open == WRK_NONE)
            continue;
        struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)p->open);
        int64_t due = ch->opened_ns + linger;
        if (force || due <= now) {
            seal(w, p); /* without a producer id yet, it stays open */
            continue;
        }
        if (next < 0 || due - now < next)
            next = due - now;
    }
    return next < 0 ? -1 : (next + 999999) / 1000000;
}

/* Tells a client that asked for delivery reports what became of one
 * record; a full report ring drops the report and counts it. */
static void report(struct wrk *w, const struct pool_chunk *ch,
                   const struct chunk_origin *o, int64_t offset, int16_t error)
{
    struct intake_client *c = instance_client(w->in, o->client);
    int32_t idx = atomic_load_explicit(&c->report_ring, memory_order_relaxed);
    uint32_t len = REPORT_RECORD_SIZE;
    struct ring r;
    uint64_t end;

    static_assert(sizeof(struct ring_rec) + sizeof(struct ring_report) <=
                      REPORT_RECORD_SIZE,
                  "a report fits its record");
    if (idx < 0 || idx >= REPORT_RINGS)
        return;
    instance_report_ring(w->in, (uint32_t)idx, &r);
    struct ring_rec *rec = ring_claim(&r, len, w->pid, &end);
    if (!rec) {
        atomic_fetch_add(&c->reports_lost, 1);
        return;
    }
    rec->client = o->client;
    rec->topic = ch->topic;
    rec->partition = ch->partition;
    rec->tail_len = sizeof(struct ring_report);
    rec->timestamp = 0;
    rec->opaque = o->opaque;
    *(struct ring_report *)(rec + 1) =
        (struct ring_report){o->opaque, error ? -1 : offset, error, 0};
    ring_commit(rec, len);
}

/* Adds the batch's records to each sending client's counters, one atomic
 * add per run of the same client, and writes the reports asked for. */
static void count_clients(struct wrk *w, struct pool_chunk *ch,
                          int64_t base_offset, int16_t error)
{
    const struct chunk_origin *o = chunk_origins(w, ch);
    uint32_t run = 0;

    for (uint32_t i = 0; i < ch->count; i++) {
        /* o[] holds the last record first. */
        const struct chunk_origin *oi = &o[ch->count - 1 - i];
        report(w, ch, oi, base_offset < 0 ? -1 : base_offset + i, error);
        run++;
        if (i + 1 == ch->count || o[ch->count - 2 - i].client != oi->client) {
            count_client(w, oi->client, error == 0, run);
            run = 0;
        }
    }
}

void accum_resolve(struct wrk *w, int32_t idx, int16_t error,
                   int64_t base_offset)
{
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);
    bool acked = error == 0;

    count_clients(w, ch, base_offset, error);
    atomic_fetch_add(acked ? &w->stats->records_acked
                           : &w->stats->records_failed,
                     ch->count);
    atomic_fetch_add(acked ? &w->in->state->topic_acked[ch->topic % TOPIC_MAX]
                           : &w->in->state->topic_failed[ch->topic % TOPIC_MAX],
                     ch->count);
    if (!acked)
        instance_count_error(w->in, ch->topic, error, ch->count);
    slot_remove(w, ch->slot, idx);
    w->chunk_part[idx] = NULL;
    atomic_store_explicit(&ch->state, CHUNK_FREE, memory_order_release);
    slot_publish(w, ch->slot);
}

void accum_expire_open(struct wrk *w, struct wpart *p, int16_t error)
{
    int32_t idx = p->open;

    p->open = WRK_NONE;
    accum_resolve(w, idx, error, -1);
}

bool accum_empty(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && w->slot_first[s] != WRK_NONE)
            return false;
    return true;
}
