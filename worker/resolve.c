/*
 * resolve.c: the end of a batch.  Each record's client learns what became
 * of it (its counters and, if it asked, a delivery report), the worker's
 * and the topic's counters move, and the chunk goes back to the pool.
 *
 * Each slot keeps the list of its unresolved chunks in ring order; the
 * first one's ring position is the slot's published `resolved` position,
 * the one chute_flush() waits on.
 */
#include "common/err.h"
#include "common/proc.h"
#include "worker/wrk.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int resolve_init(struct wrk *w)
{
    uint32_t n = w->in->chunk_count;

    w->slot_next = malloc(n * sizeof(*w->slot_next));
    w->slot_prev = malloc(n * sizeof(*w->slot_prev));
    if (!w->slot_next || !w->slot_prev)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory for %u slot links",
                       n);
    for (uint32_t s = 0; s < SLOT_MAX; s++)
        w->slot_first[s] = w->slot_last[s] = WRK_NONE;
    return 0;
}

void resolve_release(struct wrk *w)
{
    free(w->slot_next);
    free(w->slot_prev);
}

/* ---- slot lists of unresolved chunks ---- */

void resolve_track(struct wrk *w, uint32_t slot, int32_t chunk)
{
    w->slot_next[chunk] = WRK_NONE;
    w->slot_prev[chunk] = w->slot_last[slot];
    if (w->slot_last[slot] == WRK_NONE)
        w->slot_first[slot] = chunk;
    else
        w->slot_next[w->slot_last[slot]] = chunk;
    w->slot_last[slot] = chunk;
}

static void untrack(struct wrk *w, uint32_t slot, int32_t chunk)
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

void resolve_replace(struct wrk *w, uint32_t slot, int32_t old, int32_t by)
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
}

void resolve_publish(struct wrk *w, uint32_t slot)
{
    struct ring *r = &w->rings[slot];
    int32_t first = w->slot_first[slot];
    uint64_t pos = first == WRK_NONE ? ring_head(r)
                                     : chunk_at(&w->pool, first)->ring_first;

    if (pos > atomic_load_explicit(&r->cons->resolved, memory_order_relaxed))
        atomic_store_explicit(&r->cons->resolved, pos, memory_order_release);
}

bool resolve_slot_empty(struct wrk *w, uint32_t slot)
{
    return w->slot_first[slot] == WRK_NONE;
}

bool resolve_empty(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] && w->slot_first[s] != WRK_NONE)
            return false;
    return true;
}

/* ---- clients ---- */

static void count_client(struct wrk *w, uint32_t client, bool acked,
                         uint64_t n)
{
    struct status_client *c;

    if (client >= CLIENT_MAX)
        return;
    c = instance_client(w->in, client);
    atomic_fetch_add_explicit(acked ? &c->records_acked : &c->records_failed,
                              n, memory_order_relaxed);
}

/* The delivery-report ring of a client that asked for reports, or -1. */
static int32_t report_ring_of(struct wrk *w, uint32_t client)
{
    int32_t idx;

    if (client >= CLIENT_MAX)
        return -1; /* nobody's (resolve_writer) */
    idx = atomic_load_explicit(&instance_client(w->in, client)->report_ring,
                               memory_order_relaxed);
    return idx >= 0 && idx < REPORT_RINGS ? idx : -1;
}

/* Writes the report of one record into a claimed record of its client's
 * report ring. */
static void fill_report(struct ring_rec *rec, uint32_t topic,
                        int32_t partition, const struct chunk_origin *o,
                        int64_t offset, int16_t error, uint32_t flags)
{
    static_assert(sizeof(struct ring_rec) + sizeof(struct ring_report) <=
                      REPORT_RECORD_SIZE,
                  "a report fits its record");
    rec->client = o->client;
    rec->topic = topic;
    rec->partition = partition;
    rec->tail_len = sizeof(struct ring_report);
    rec->timestamp = 0;
    rec->opaque = o->opaque;
    *(struct ring_report *)(rec + 1) =
        (struct ring_report){o->opaque, error ? -1 : offset, error, flags};
}

/* Tells a client what became of one record through its report ring
 * `idx`; a full ring drops the report and counts it. */
static void report_to(struct wrk *w, int32_t idx, uint32_t topic,
                      int32_t partition, const struct chunk_origin *o,
                      int64_t offset, int16_t error)
{
    struct ring r;
    uint64_t end;

    instance_report_ring(w->in, (uint32_t)idx, &r);
    struct ring_rec *rec = ring_claim(&r, REPORT_RECORD_SIZE, w->pid, &end);
    if (!rec) {
        atomic_fetch_add(&instance_client(w->in, o->client)->reports_lost, 1);
        return;
    }
    fill_report(rec, topic, partition, o, offset, error, 0);
    ring_commit(rec, REPORT_RECORD_SIZE);
}

/* Tests only (CHUTE_TEST_REPORT_DEATH, worker.c): the first worker to make
 * the file dies in a span of n >= 2 reports it claimed and wrote, the way
 * a SIGKILL would leave it: "half" after committing the last half (the
 * client may read those before the successor repeats them), "unmarked"
 * with the span's words as they were before its claim marked them (zero:
 * a death between the tail's move and the marks). */
static void test_report_death(const struct wrk *w, uint8_t *first, uint32_t n)
{
    int fd;

    if (w->test_report_death == REPORT_DEATH_NONE || n < 2)
        return;
    fd = open(w->test_report_death_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return;
    close(fd);
    for (uint32_t k = 0; k < n; k++) {
        struct ring_rec *rec = (struct ring_rec *)(first + k * REPORT_RECORD_SIZE);
        if (w->test_report_death == REPORT_DEATH_UNMARKED)
            memset(rec, 0, REPORT_RECORD_SIZE);
        else if (k >= n / 2)
            ring_commit(rec, REPORT_RECORD_SIZE);
    }
    raise(SIGKILL);
}

/* The reports of records [i, j) of `ch`, all of one client, into its
 * report ring `idx`: a span of records claimed at once (ring_claim_span),
 * written, then committed last to first, so that the client, which polls
 * the first, reads the span whole.  One claim per span instead of one per
 * record, and no cache line passed back and forth with the client per
 * report.  The ring's end may split the span in two claims; a full ring
 * drops the rest and counts them.  `flags` goes into every report
 * (REPORT_REPEAT). */
static void report_run(struct wrk *w, int32_t idx, struct pool_chunk *ch,
                       uint32_t i, uint32_t j, int64_t base_offset,
                       int16_t error, uint32_t flags)
{
    struct ring r;

    instance_report_ring(w->in, (uint32_t)idx, &r);
    while (i < j) {
        uint32_t client = chunk_origin(&w->pool, ch, i)->client, n;
        uint8_t *first = (uint8_t *)ring_claim_span(&r, REPORT_RECORD_SIZE,
                                                    j - i, w->pid, &n);

        if (!first) {
            atomic_fetch_add(&instance_client(w->in, client)->reports_lost,
                             j - i);
            return;
        }
        for (uint32_t k = 0; k < n; k++)
            fill_report((struct ring_rec *)(first + k * REPORT_RECORD_SIZE),
                        ch->topic, ch->partition,
                        chunk_origin(&w->pool, ch, i + k),
                        base_offset < 0 ? -1 : base_offset + i + k, error,
                        flags);
        test_report_death(w, first, n);
        for (uint32_t k = n; k-- > 0;)
            ring_commit((struct ring_rec *)(first + k * REPORT_RECORD_SIZE),
                        REPORT_RECORD_SIZE);
        i += n;
    }
}

static void report(struct wrk *w, uint32_t topic, int32_t partition,
                   const struct chunk_origin *o, int64_t offset, int16_t error)
{
    int32_t idx = report_ring_of(w, o->client);

    if (idx >= 0)
        report_to(w, idx, topic, partition, o, offset, error);
}

/* Tells each record's client what became of it, a run of one client's
 * records at a time (at most REPORT_SPAN_MAX of them): one look at its
 * report ring, one claim and one count per run.  `reported` marks the
 * progress, so a worker taking over a batch whose resolution was cut short
 * goes on from there; `reporting` marks the run being written, so that it
 * knows which reports it may repeat (a death repeats one run at most). */
static void tell_clients(struct wrk *w, struct pool_chunk *ch,
                         int64_t base_offset, int16_t error)
{
    uint32_t i = ch->reported, j;

    for (; i < ch->count; i = j) {
        uint32_t client = chunk_origin(&w->pool, ch, i)->client;
        int32_t ring = report_ring_of(w, client);
        /* A predecessor died in this run: some of its reports may be in
         * the ring already, the rest lost with its unfinished claims. */
        uint32_t flags = atomic_load_explicit(&ch->reporting,
                                              memory_order_relaxed) > i
                             ? REPORT_REPEAT
                             : 0;

        for (j = i + 1; j < ch->count && j - i < REPORT_SPAN_MAX; j++)
            if (chunk_origin(&w->pool, ch, j)->client != client)
                break;
        /* Before the first report of the run is claimed (the claim's
         * locked CAS keeps the order, for a successor to see). */
        atomic_store_explicit(&ch->reporting, j, memory_order_relaxed);
        if (ring >= 0)
            report_run(w, ring, ch, i, j, base_offset, error, flags);
        count_client(w, client, error == 0, j - i);
        ch->reported = j;
        atomic_store_explicit(&ch->reporting, 0, memory_order_release);
    }
}

static void count_records(struct wrk *w, uint32_t topic, int16_t error,
                          uint64_t n)
{
    bool acked = error == 0;

    atomic_fetch_add(acked ? &w->stats->records_acked
                           : &w->stats->records_failed,
                     n);
    atomic_fetch_add(acked ? &w->in->state->topic_acked[topic % TOPIC_MAX]
                           : &w->in->state->topic_failed[topic % TOPIC_MAX],
                     n);
    if (!acked)
        instance_count_error(w->in, topic, error, n);
}

void resolve_batch(struct wrk *w, int32_t idx, int16_t error,
                   int64_t base_offset)
{
    struct pool_chunk *ch = chunk_at(&w->pool, idx);
    uint32_t slot = ch->slot;

    /* The batch's counters move with its first record's resolution: a
     * replacement that finds `reported` > 0 has them already (only a death
     * between these two stores counts a batch twice). */
    if (ch->reported == 0)
        count_records(w, ch->topic, error, ch->count);
    tell_clients(w, ch, base_offset, error);
    untrack(w, slot, idx);
    chunk_free(&w->pool, idx);
    w->chunk_freed = true;
    resolve_publish(w, slot);
}

void resolve_record(struct wrk *w, const struct ring_rec *rec, int16_t error)
{
    struct chunk_origin o = {rec->opaque, 0, rec->client, {0, 0, 0}};

    report(w, rec->topic, rec->partition, &o, -1, error);
    count_client(w, rec->client, false, 1);
    count_records(w, rec->topic, error, 1);
}

/* The client a record of `slot` is counted and reported to: the one it
 * names, if that entry is of the slot's user (a record in a user's ring
 * was written by that uid: the slot says so, not the record) and its pid
 * wrote it.  Else RESOLVE_NOBODY: a forged name makes no innocent client's
 * flush report failures nor fills its report ring. */
uint16_t resolve_writer(struct wrk *w, uint32_t slot,
                        const struct ring_rec *rec)
{
    const struct status_client *c;
    uint32_t user = instance_slot_user(w->in, slot);

    if (rec->client >= CLIENT_MAX)
        return RESOLVE_NOBODY;
    c = instance_client(w->in, rec->client);
    if (atomic_load(&c->pid) != rec->pid || atomic_load(&c->user) != user ||
        atomic_load(&c->uid) != atomic_load(&instance_user(w->in, user)->uid))
        return RESOLVE_NOBODY;
    return rec->client;
}

/* A record that fails its checks is charged only to the client that wrote
 * it (resolve_writer). */
void resolve_rejected(struct wrk *w, uint32_t slot, const struct ring_rec *rec)
{
    uint16_t client = resolve_writer(w, slot, rec);

    atomic_fetch_add(&w->stats->records_invalid, 1);
    if (client != RESOLVE_NOBODY)
        count_client(w, client, false, 1);
}
