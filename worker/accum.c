/*
 * accum.c: the record accumulator.  Drains the rings this worker owns,
 * checks every record (the intake object is untrusted), and appends it to
 * its partition's open batch in a pool chunk.  A batch is sealed when it
 * reaches batch.size or batch.num.messages, or when linger.ms has passed:
 * sealing (chunk.c) compresses the records, writes the RecordBatch header
 * and CRC, and the batch joins its partition's queue for the sender.
 * Those settings are the topic's own (struct wtopic), read at each use: a
 * reload reaches the batches open at the time too.
 */
#include "common/log.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/record.h"
#include "worker/wrk.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_BUDGET 4096          /* steps per slot per pass */
#define DRAIN_AHEAD 2048           /* bytes of ring prefetched past the
                                      record being taken */
#define DEAD_WRITER_CHECK_MS 200   /* how long a claim may sit uncommitted
                                      before we ask whether its writer lives */


/* With idempotence a batch waits, open, until its slot has a producer id:
 * its sequence is given here. */
bool accum_seal(struct wrk *w, struct wpart *p)
{
    const struct topic_settings *set = &w->topics[p->topic].set;
    struct chunk_producer pr;
    int32_t sealed;
    struct pool_chunk *ch;

    if (!producer_ready(w, p->slot))
        return false;
    pr = producer_next(w, p);
    sealed = chunk_seal(&w->pool, p->open, set->codec, set->level, &pr);
    ch = chunk_at(&w->pool, sealed);
    metrics_batch(w->metrics, ch->count, BATCH_HEADER_SIZE + ch->used,
                  ch->wire_len);
    producer_sealed(w, p, ch);
    if (sealed != p->open)
        resolve_replace(w, p->slot, p->open, sealed);
    part_queue(w, p, sealed);
    p->open = WRK_NONE;
    return true;
}

enum append_result { APPENDED, NO_CHUNK, BATCH_FULL, MALFORMED };

/* Appends one record whose header (rec, the worker's copy) is checked and
 * whose tail is still in the ring.  NO_CHUNK: the pool is empty;
 * BATCH_FULL: the open batch is full and cannot be sealed yet (no
 * producer id); MALFORMED: the tail, once copied, is not a record's. */
static enum append_result append(struct wrk *w, struct wpart *p,
                                 const struct ring_rec *rec,
                                 const uint8_t *tail, uint64_t pos,
                                 uint64_t end)
{
    const struct topic_settings *set = &w->topics[p->topic].set;
    size_t limit = set->batch_size < w->s->max_record ? set->batch_size
                                                      : w->s->max_record;

    if (p->open != WRK_NONE &&
        !chunk_fits(&w->pool, p->open,
                    chunk_record_size(&w->pool, p->open, rec), limit,
                    set->batch_num_messages) &&
        !accum_seal(w, p))
        return BATCH_FULL;
    if (p->open == WRK_NONE) {
        struct chunk_dest dest = {p->topic, p->partition, p->slot};
        int32_t idx = chunk_take(&w->pool);
        if (idx == WRK_NONE)
            return NO_CHUNK;
        chunk_open(&w->pool, idx, &dest, pos, rec->timestamp);
        p->open = idx;
        resolve_track(w, p->slot, idx);
    }
    if (chunk_append(&w->pool, p->open, rec, tail, end))
        return APPENDED;
    if (chunk_records(chunk_at(&w->pool, p->open)) == 0) {
        /* Opened for this record alone: give the chunk back (it resolves
         * nothing, no record being in it). */
        int32_t empty = p->open;
        p->open = WRK_NONE;
        resolve_batch(w, empty, 0, -1);
    }
    return MALFORMED;
}

/* Checks the worker's copy of a committed record's header before anything
 * trusts it (its tail is checked once copied: chunk_append). */
static struct wpart *check_record(struct wrk *w, uint32_t slot,
                                  const struct ring_rec *rec, uint32_t len)
{
    uint32_t user = instance_slot_user(w->in, slot);
    struct status_topic *t;
    uint32_t parts;

    if (rec->tail_len > len - sizeof(*rec) || rec->topic >= TOPIC_MAX ||
        rec->client >= CLIENT_MAX)
        return NULL;
    t = instance_topic(w->in, rec->topic);
    if (atomic_load_explicit(&t->state, memory_order_acquire) != TOPIC_READY)
        return NULL;
    parts = atomic_load_explicit(&t->partitions, memory_order_relaxed);
    if (rec->partition < 0 || (uint32_t)rec->partition >= parts ||
        layout_user_slot(user, rec->topic, rec->partition,
                         w->in->user_slots) != slot)
        return NULL;
    if (rec->tail_len + BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX >
        w->s->max_record)
        return NULL;
    if (!instance_user_may(w->in, user, rec->topic)) {
        atomic_fetch_add(&instance_user(w->in, user)->refused, 1);
        return NULL;
    }
    return part_get(w, user, rec->topic, rec->partition);
}

/* A record that fails its checks is dropped and counted (resolve.c
 * decides whom to charge), with a warning at most once a second. */
static void reject(struct wrk *w, uint32_t slot, const struct ring_rec *rec)
{
    static int64_t logged_ms;
    static uint64_t since_log;
    int64_t now = mono_ms();

    resolve_rejected(w, slot, rec);
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

/* message.timeout.ms covers records still in the ring too: when no chunk
 * is free (the cluster is gone and the pool full of waiting batches), a
 * record older than that fails without ever being batched. */
static bool expire_unbatched(struct wrk *w, const struct ring_rec *rec)
{
    int64_t age = clock_ns(CLOCK_MONOTONIC) - rec->accepted_ns;

    if (rec->accepted_ns <= 0 ||
        age < (int64_t)w->s->message_timeout_ms * 1000000)
        return false;
    resolve_record(w, rec, KAFKA_ERR_REQUEST_TIMED_OUT);
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
        atomic_fetch_add(&w->rings[slot].cons->dead_writers, 1);
        log_warn("slot %u: a claim stayed unwritten for %d ms; skipped it",
                 slot, RING_UNBLOCK_MS);
        return true;
    }
    if (now - w->pending_since_ms[slot] < DEAD_WRITER_CHECK_MS)
        return false;
    bool alive = pid_alive(v->pid);
    if (alive && now - w->pending_since_ms[slot] < w->s->claim_timeout_ms) {
        /* Alive, maybe stopped: its record waits, and status shows who
         * holds the slot. */
        atomic_store(&w->rings[slot].cons->blocked_by, v->pid);
        return false;
    }
    /* Dead, or alive and holding the slot past ring.claim.timeout.ms (a
     * broken or hostile client of this slot's user): its late commit
     * fails (ring_commit). */
    if (!ring_abandon(&w->rings[slot], pos, -(int32_t)v->len))
        return false;
    atomic_fetch_add(&w->rings[slot].cons->dead_writers, 1);
    if (alive)
        log_warn("slot %u: writer %d held a claim for %d ms "
                 "(ring.claim.timeout.ms) without committing; skipped its "
                 "record", slot, v->pid, w->s->claim_timeout_ms);
    else
        log_warn("slot %u: writer %d died before committing; skipped its "
                 "record", slot, v->pid);
    return true;
}

/* Tests only (CHUTE_TEST_POISON, worker.c): a record whose tail holds the
 * text crashes or hangs the worker here. */
static void test_poison(const struct wrk *w, const struct ring_view *v)
{
    const char *text = w->test_poison;

    if (!text || !memmem(v->rec + 1, v->len - sizeof(*v->rec), text,
                         strlen(text)))
        return;
    if (w->test_poison_hang)
        for (;;)
            pause();
    raise(SIGSEGV);
}

/* One committed record: checked, then appended (or rejected, or failed
 * in place).  False when it must wait: no free chunk, or a full batch
 * that cannot be sealed before the slot has a producer id. */
static bool take_record(struct wrk *w, uint32_t slot, uint64_t pos,
                        const struct ring_view *v)
{
    /* The header is copied once; a client rewriting the ring meanwhile
     * changes nothing the worker goes by. */
    struct ring_rec hdr;
    struct wpart *p;
    enum append_result ar;

    memcpy(&hdr, v->rec, sizeof(hdr));
    p = check_record(w, slot, &hdr, v->len);
    if (!p) {
        reject(w, slot, &hdr);
        return true;
    }
    hdr.client = resolve_writer(w, slot, &hdr);
    test_poison(w, v);
    ar = append(w, p, &hdr, (const uint8_t *)(v->rec + 1), pos, pos + v->len);
    if (ar == MALFORMED) {
        reject(w, slot, &hdr);
        return true;
    }
    if (ar == APPENDED) {
        w->pass_records++; /* counted once per pass (accum_drain) */
        return true;
    }
    if (ar == NO_CHUNK && expire_unbatched(w, &hdr))
        return true; /* failed in place, as its batch would have */
    /* Wait for a free chunk (seal everything so some frees) or for the
     * producer id; the tick looks again. */
    w->pool_starved |= ar == NO_CHUNK;
    return false;
}

/* A tail no claim made (a client wrote it): the records committed before
 * the first unwritten word are taken, then the rest of the ring is
 * skipped as corrupt and the tail put back, so that claims work again.
 * Returns the new head. */
static uint64_t repair_tail(struct wrk *w, uint32_t slot, uint64_t pos)
{
    static int64_t logged_ms;
    struct ring *r = &w->rings[slot];
    uint64_t tail = ring_tail(r), skipped;
    int64_t now = mono_ms();

    ring_consume(r, pos);
    skipped = ring_skip(r);
    atomic_fetch_add(&r->cons->corrupt, skipped);
    if (now - logged_ms < 1000)
        return ring_head(r);
    logged_ms = now;
    log_error("slot %u: the ring's tail (%llu) is not one a claim makes "
              "(head %llu, ring %u bytes): skipped the rest of the ring as "
              "corrupt and put the tail back",
              slot, (unsigned long long)tail, (unsigned long long)pos,
              r->size);
    return ring_head(r);
}

/* Drains one slot for up to DRAIN_BUDGET steps: records, padding, corrupt
 * words and unblocked claims all count, so that no ring content keeps the
 * worker from its loop.  Returns the steps taken. */
static unsigned drain_slot(struct wrk *w, uint32_t slot)
{
    struct ring *r = &w->rings[slot];
    uint64_t start = ring_head(r), pos = start, limit = ring_tail(r);
    uint64_t fetched = start; /* ring_prefetch()ed up to here */
    bool bad_tail = !ring_tail_sane(r, start, limit);
    unsigned n = 0;
    struct ring_view v;

    /* The tail is read once per pass (ring_peek_upto): the line clients
     * claim on moves between their core and ours once, not per record. */
    if (bad_tail)
        limit = start + r->size;

    /* Where we are, for the supervisor to find a slot whose data keeps
     * killing workers (supervisor/health.c). */
    atomic_store_explicit(&w->stats->drain_slot, slot + 1,
                          memory_order_relaxed);
    for (; n < DRAIN_BUDGET && pos - start < r->size; n++) {
        atomic_store_explicit(&w->stats->drain_pos, pos, memory_order_relaxed);
        uint64_t ahead = limit - pos < DRAIN_AHEAD ? limit : pos + DRAIN_AHEAD;
        if (fetched - pos > DRAIN_AHEAD) /* behind pos: a long record */
            fetched = pos;
        if (ahead != fetched) {
            ring_prefetch(r, fetched, ahead);
            fetched = ahead;
        }
        enum ring_peek k = ring_peek_upto(r, pos, limit, &v);
        if (bad_tail && (k == RING_EMPTY || (k == RING_PENDING && !v.rec))) {
            pos = repair_tail(w, slot, pos);
            n++;
            break;
        }
        if (k == RING_EMPTY)
            break;
        if (k == RING_PENDING) {
            if (!unblock(w, slot, pos, &v))
                break;
            continue;
        }
        if (w->pending_since_ms[slot]) {
            w->pending_since_ms[slot] = 0;
            atomic_store(&r->cons->blocked_by, 0);
        }
        if (k == RING_CORRUPT)
            atomic_fetch_add(&r->cons->corrupt, v.len);
        else if (k == RING_RECORD && !take_record(w, slot, pos, &v))
            break;
        pos += v.len;
    }
    ring_consume(r, pos);
    atomic_store_explicit(&w->stats->drain_slot, 0, memory_order_relaxed);
    resolve_publish(w, slot);
    return n;
}

unsigned accum_drain(struct wrk *w)
{
    unsigned steps = 0;

    w->pool_starved = false; /* drain_cb sealed what it held when it was */
    w->pass_records = 0;
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && !w->leaving[s])
            steps += drain_slot(w, s);
    if (w->pass_records)
        atomic_fetch_add_explicit(&w->stats->records_sent, w->pass_records,
                                  memory_order_relaxed);
    return steps;
}

bool accum_idle(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++) {
        struct ring *r = &w->rings[s];
        struct ring_view v;

        if (!w->owned[s])
            continue;
        /* A slot waiting on a claim is looked at again by the tick, not by
         * spinning; unless the claim is committed by now (its writer may
         * have looked for a sleeping worker before we were one).  Only a
         * record counts: whatever else a client left there (an empty or
         * corrupt ring) is the tick's to look at again, or the worker
         * would never be idle. */
        if (w->pending_since_ms[s]) {
            if (ring_peek(r, ring_head(r), &v) == RING_RECORD)
                return false;
            continue;
        }
        if (ring_tail(r) != ring_head(r))
            return false;
    }
    return true;
}

int64_t accum_seal_due(struct wrk *w, bool force)
{
    int64_t now = clock_ns(CLOCK_MONOTONIC), next = -1;

    for (struct wpart *p = w->parts; p; p = p->next) {
        if (p->open == WRK_NONE)
            continue;
        struct pool_chunk *ch = chunk_at(&w->pool, p->open);
        /* From the oldest record's acceptance (at most the batch's open),
         * as a producer in the application counts from the send call. */
        int64_t due = ch->accepted_ns +
                      (int64_t)w->topics[p->topic].set.linger_ms * 1000000;
        if (force || due <= now) {
            accum_seal(w, p); /* without a producer id yet, it stays open */
            continue;
        }
        if (next < 0 || due - now < next)
            next = due - now;
    }
    return next < 0 ? -1 : (next + 999999) / 1000000;
}

void accum_seal_slot(struct wrk *w, uint32_t slot)
{
    for (struct wpart *p = w->parts; p; p = p->next)
        if (p->slot == slot && p->open != WRK_NONE)
            accum_seal(w, p);
}
