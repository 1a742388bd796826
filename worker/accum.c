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
#include "worker/chunk.h"
#include "worker/idem.h"
#include "worker/wrk.h"

#include <stdlib.h>
#include <string.h>

#define DRAIN_BUDGET 4096          /* records per slot per pass */
#define DEAD_WRITER_CHECK_MS 200   /* how long a claim may sit uncommitted
                                      before we ask whether its writer lives */


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
    w->chunk_unsure = calloc(n, sizeof(*w->chunk_unsure));
    w->scratch_cap = lz4frame_bound(chunk_data_cap(w));
    w->scratch = malloc(w->scratch_cap);
    if (!w->chunk_next || !w->slot_next || !w->slot_prev || !w->chunk_part ||
        !w->chunk_unsure || !w->scratch)
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
    free(w->chunk_unsure);
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

void accum_slot_append(struct wrk *w, uint32_t slot, int32_t chunk)
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
            chunk_set_taker(ch, (int32_t)w->index);
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

    /* count is 0 (chunk_free) until the first record commits, so these
     * fields are valid whenever a replacement finds records here. */
    ch->topic = p->topic;
    ch->partition = p->partition;
    ch->slot = p->slot;
    ch->wire_len = 0;
    ch->source = -1;
    ch->reported = 0;
    ch->base_ts = ts;
    ch->max_ts = ts;
    ch->ring_first = ring_pos;
    ch->producer_id = -1;
    ch->producer_epoch = -1;
    ch->base_sequence = -1;
    ch->codec = BATCH_CODEC_NONE;
    ch->opened_ns = clock_ns(CLOCK_MONOTONIC);
    ch->accepted_ns = ch->opened_ns;
    p->open = idx;
    w->chunk_part[idx] = p;
    accum_slot_append(w, p->slot, idx);
}

void accum_queue(struct wrk *w, struct wpart *p, int32_t idx)
{
    w->chunk_unsure[idx] = false;
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

/* Gives the batch its producer id, epoch and sequence (idempotence); the
 * partition's next sequence moves only once the batch is SEALED, and a
 * replacement catches it up from the sealed batches (accum_recover). */
static void assign_producer(struct wrk *w, struct wpart *p,
                            struct pool_chunk *ch)
{
    struct state_slot *ps = instance_pslot(w->in, p->slot);

    if (!w->s->idempotent)
        return;
    ch->producer_id = atomic_load(&ps->producer_id);
    ch->producer_epoch = (int16_t)atomic_load(&ps->epoch);
    ch->base_sequence = p->sp->next_seq;
    /* CHUTE_TEST_SEQUENCE_SKEW=1 (tests only): the first batch of each
     * partition sealed after sequence 0 skips one sequence number, a gap
     * the broker must refuse (tests/integration/test_kafka_sequence.sh). */
    if (w->test_seq_skew && !p->skewed && ch->base_sequence > 0) {
        ch->base_sequence = idem_seq_add(ch->base_sequence, 1);
        p->skewed = true;
    }
}

static bool has_producer(struct wrk *w, uint32_t slot)
{
    return !w->s->idempotent ||
           atomic_load(&instance_pslot(w->in, slot)->producer_id) >= 0;
}

/* The compressed form of open chunk `src` in a new chunk, or WRK_NONE
 * when no chunk is free or compressing does not pay.  The open chunk stays
 * intact until the copy is SEALED, so a crash in between loses nothing. */
static int32_t compressed_copy(struct wrk *w, int32_t src)
{
    struct pool_chunk *from = instance_chunk(w->in, (uint32_t)src), *to;
    ssize_t n = lz4frame_compress(chunk_data(from) + BATCH_HEADER_SIZE,
                                  from->used, w->scratch, w->scratch_cap);
    int32_t dst;

    if (n <= 0 || (size_t)n >= from->used || (dst = chunk_alloc(w)) < 0)
        return WRK_NONE;
    to = instance_chunk(w->in, (uint32_t)dst);
    memcpy(chunk_data(to) + BATCH_HEADER_SIZE, w->scratch, (size_t)n);
    memcpy(chunk_origin(w, to, from->count - 1),
           chunk_origin(w, from, from->count - 1),
           from->count * sizeof(struct chunk_origin));
    to->topic = from->topic;
    to->partition = from->partition;
    to->slot = from->slot;
    to->base_ts = from->base_ts;
    to->max_ts = from->max_ts;
    to->ring_first = from->ring_first;
    to->opened_ns = from->opened_ns;
    to->accepted_ns = from->accepted_ns;
    to->codec = BATCH_CODEC_LZ4;
    to->wire_len = (uint32_t)(BATCH_HEADER_SIZE + (size_t)n);
    to->source = src;
    to->reported = 0;
    chunk_set_fill(to, from->count, from->used);
    return dst;
}

/* The sealed copy takes the open chunk's place in its slot's list. */
static void replace_chunk(struct wrk *w, uint32_t slot, int32_t old, int32_t by)
{
    w->slot_prev[by] = w->slot_prev[old];
    w->slot_next[by] = w->slot_next[old];
    if (w->slot_prev[old] == WRK_NONE)
        w->slot_first[slot] = by;
    else
        w->slot_next[w->slot_prev[old]] = by;
    if (w->slot_next[old] == WRK_NONE)
        w->slot_last[slot] = by;
    else
        w->slot_prev[w->slot_next[old]] = by;
    w->chunk_part[by] = w->chunk_part[old];
    w->chunk_part[old] = NULL;
    chunk_free(instance_chunk(w->in, (uint32_t)old));
}

/* Compresses (when it pays), stamps header and CRC, queues the batch.
 * With idempotence a batch waits, open, until its slot has a producer id:
 * its sequence is given here. */
bool accum_seal(struct wrk *w, struct wpart *p)
{
    int32_t idx = p->open, copy = WRK_NONE;
    struct pool_chunk *ch = instance_chunk(w->in, (uint32_t)idx);

    if (!has_producer(w, p->slot))
        return false;
    if (w->s->codec == BATCH_CODEC_LZ4)
        copy = compressed_copy(w, idx);
    if (copy != WRK_NONE) {
        idx = copy;
        ch = instance_chunk(w->in, (uint32_t)idx);
    } else {
        ch->codec = BATCH_CODEC_NONE;
        ch->wire_len = BATCH_HEADER_SIZE + ch->used;
    }
    assign_producer(w, p, ch);
    accum_stamp(w, idx);
    metrics_batch(w->metrics, ch->count, BATCH_HEADER_SIZE + ch->used,
                  ch->wire_len);
    atomic_store_explicit(&ch->state, CHUNK_SEALED, memory_order_release);
    if (w->s->idempotent)
        p->sp->next_seq = idem_seq_add(ch->base_sequence, (int32_t)ch->count);
    if (copy != WRK_NONE)
        replace_chunk(w, p->slot, p->open, copy);
    accum_queue(w, p, idx);
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
        if (!fits(w, ch, rsize) && !accum_seal(w, p))
            return BATCH_FULL;
    }
    if (p->open == WRK_NONE) {
        int32_t idx = chunk_alloc(w);
        if (idx == WRK_NONE)
            return NO_CHUNK;
        open_batch(w, p, idx, pos, rec->timestamp);
    }
    ch = instance_chunk(w->in, (uint32_t)p->open);
    int64_t delta = rec->timestamp - ch->base_ts;
    rsize = record_write(chunk_data(ch) + BATCH_HEADER_SIZE + ch->used, delta,
                         (int32_t)ch->count, tail, rec->tail_len);
    *chunk_origin(w, ch, ch->count) =
        (struct chunk_origin){rec->opaque, end, rec->client, {0, 0, 0}};
    if (rec->timestamp > ch->max_ts)
        ch->max_ts = rec->timestamp;
    /* The client's clock is only trusted to make the record older than
     * its batch, never younger than its drain. */
    if (rec->accepted_ns > 0 && rec->accepted_ns < ch->accepted_ns)
        ch->accepted_ns = rec->accepted_ns;
    /* The commit point: from here on the record is in the batch. */
    chunk_set_fill(ch, ch->count + 1, ch->used + (uint32_t)rsize);
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
                                  const struct ring_view *v)
{
    const struct ring_rec *rec = v->rec;
    struct record_tail_info info;
    struct intake_topic *t;
    uint32_t parts;

    if (rec->tail_len > v->len - sizeof(*rec) || rec->topic >= TOPIC_MAX ||
        rec->client >= CLIENT_MAX)
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

/* A record that fails its checks is dropped and counted.  It is charged to
 * the client it names only if that client's pid wrote it: a corrupt record
 * must not make an innocent client's flush report failures. */
static void reject(struct wrk *w, uint32_t slot, const struct ring_rec *rec)
{
    static int64_t logged_ms;
    static uint64_t since_log;
    int64_t now = mono_ms();

    atomic_fetch_add(&w->stats->records_invalid, 1);
    if (rec->client < CLIENT_MAX &&
        atomic_load(&instance_client(w->in, rec->client)->pid) == rec->pid)
        count_client(w, rec->client, false, 1);
    since_log++;
    if (now - logged_ms >= 1000) {
        log_warn("slot %u: dropped %llu invalid record(s), e.g. topic %u "
                 "partition %d from pid %d",
                 slot, (unsigned long long)since_log, rec->topic,
                 rec->partition, rec->pid);
        logged_ms = now;
        since_log = 0;
    }
}

static void report(struct wrk *w, uint32_t topic, int32_t partition,
                   const struct chunk_origin *o, int64_t offset, int16_t error);

/* message.timeout.ms covers records still in the ring too: when no chunk
 * is free (the cluster is gone and the pool full of waiting batches), a
 * record older than that fails without ever being batched. */
static bool expire_unbatched(struct wrk *w, const struct ring_rec *rec)
{
    int64_t age = clock_ns(CLOCK_MONOTONIC) - rec->accepted_ns;
    struct chunk_origin o = {rec->opaque, 0, rec->client, {0, 0, 0}};

    if (rec->accepted_ns <= 0 ||
        age < (int64_t)w->s->message_timeout_ms * 1000000)
        return false;
    report(w, rec->topic, rec->partition, &o, -1, KAFKA_ERR_REQUEST_TIMED_OUT);
    count_client(w, rec->client, false, 1);
    atomic_fetch_add(&w->stats->records_failed, 1);
    atomic_fetch_add(&w->in->state->topic_failed[rec->topic], 1);
    instance_count_error(w->in, rec->topic, KAFKA_ERR_REQUEST_TIMED_OUT, 1);
    return true;
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
    if (!v->rec) { /* nothing written at all: see ring_unblock() */
        if (now - w->pending_since_ms[slot] < RING_UNBLOCK_MS ||
            !ring_unblock(&w->rings[slot], pos))
            return false;
        atomic_fetch_add(&w->rings[slot].ctl->dead_writers, 1);
        log_warn("slot %u: a claim stayed unwritten for %d ms; skipped it",
                 slot, RING_UNBLOCK_MS);
        return true;
    }
    if (now - w->pending_since_ms[slot] < DEAD_WRITER_CHECK_MS)
        return false;
    if (pid_alive(v->pid)) {
        /* Alive, maybe stopped: its record waits, and status shows who
         * holds the slot. */
        atomic_store(&w->rings[slot].ctl->blocked_by, v->pid);
        return false;
    }
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
        if (w->pending_since_ms[slot]) {
            w->pending_since_ms[slot] = 0;
            atomic_store(&r->ctl->blocked_by, 0);
        }
        if (k == RING_CORRUPT) {
            atomic_fetch_add(&r->ctl->corrupt, v.len);
        } else if (k == RING_RECORD) {
            struct wpart *p = check_record(w, slot, &v);
            enum append_result ar = p ? append(w, p, v.rec, pos, pos + v.len)
                                      : APPENDED;
            if (!p) {
                reject(w, slot, v.rec);
            } else if (ar == NO_CHUNK && expire_unbatched(w, v.rec)) {
                ; /* failed in place, as its batch would have */
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


    w->pool_starved = false; /* drain_cb sealed what it held when it was */
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && !w->leaving[s] && drain_slot(w, s))
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
            accum_seal(w, p); /* without a producer id yet, it stays open */
            continue;
        }
        if (next < 0 || due - now < next)
            next = due - now;
    }
    return next < 0 ? -1 : (next + 999999) / 1000000;
}

/* Tells a client that asked for delivery reports what became of one
 * record; a full report ring drops the report and counts it. */
static void report(struct wrk *w, uint32_t topic, int32_t partition,
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
    rec->topic = topic;
    rec->partition = partition;
    rec->tail_len = sizeof(struct ring_report);
    rec->timestamp = 0;
    rec->opaque = o->opaque;
    *(struct ring_report *)(rec + 1) =
        (struct ring_report){o->opaque, error ? -1 : offset, error, 0};
    ring_commit(rec, len);
}

/* Tells each record's client what became of it: its counter and, if it
 * asked, a report.  `reported` marks the progress, so a worker taking over
 * a batch whose resolution was cut short goes on from there. */
static void count_clients(struct wrk *w, struct pool_chunk *ch,
                          int64_t base_offset, int16_t error)
{
    for (uint32_t i = ch->reported; i < ch->count; i++) {
        const struct chunk_origin *o = chunk_origin(w, ch, i);
        report(w, ch->topic, ch->partition, o,
               base_offset < 0 ? -1 : base_offset + i, error);
        count_client(w, o->client, error == 0, 1);
        ch->reported = i + 1;
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
    uint32_t slot = ch->slot;
    slot_remove(w, slot, idx);
    w->chunk_part[idx] = NULL;
    chunk_free(ch);
    w->chunk_freed = true;
    slot_publish(w, slot);
}

void accum_expire_open(struct wrk *w, struct wpart *p, int16_t error)
{
    int32_t idx = p->open;

    p->open = WRK_NONE;
    accum_resolve(w, idx, error, -1);
}

bool accum_slot_empty(struct wrk *w, uint32_t slot)
{
    return w->slot_first[slot] == WRK_NONE;
}

void accum_seal_slot(struct wrk *w, uint32_t slot)
{
    for (struct wpart *p = w->parts; p; p = p->next)
        if (p->slot == slot && p->open != WRK_NONE)
            accum_seal(w, p);
}

void accum_publish(struct wrk *w, uint32_t slot)
{
    slot_publish(w, slot);
}

bool accum_empty(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && w->slot_first[s] != WRK_NONE)
            return false;
    return true;
}
