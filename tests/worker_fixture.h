/*
 * worker_fixture.h: a worker over an instance in private memory, for the
 * unit tests of worker/ (test_chunk.c, test_sender.c, test_recover.c).
 *
 * The intake and state objects are calloc'd with the layout
 * instance_create() gives them (no report rings: every client has
 * report_ring -1), one topic WF_TOPIC of WF_PARTITIONS partitions is
 * ready with its settings published (batches of up to WF_BATCH_SIZE bytes
 * and WF_BATCH_RECORDS records, uncompressed, no linger), and a struct
 * wrk gets what worker.c's start() gives it: the pool,
 * the partition and resolution lists, its stats and metrics.  No socket,
 * no event loop: the tests call the modules directly.
 *
 * Include after <cmocka.h>.
 */
#ifndef CHUTE_TESTS_WORKER_FIXTURE_H
#define CHUTE_TESTS_WORKER_FIXTURE_H

#include "common/log.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/record.h"
#include "worker/chunk.h"
#include "worker/wrk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WF_SLOTS      4
#define WF_RING_SIZE  4096
#define WF_CHUNKS     8
#define WF_CHUNK_SIZE 8192
#define WF_PARTITIONS 16
#define WF_TOPIC      0
#define WF_CLIENT     3    /* the client every test record comes from */
#define WF_REC_STEP   64   /* ring bytes a test record takes */
#define WF_BATCH_SIZE    4096
#define WF_BATCH_RECORDS 10

static inline void wf_layout(struct instance *in)
{
    in->slots = WF_SLOTS; /* one user space */
    in->users = 1;
    in->user_slots = WF_SLOTS;
    in->ring_size = WF_RING_SIZE;
    in->stats_off = sizeof(struct intake_header);
    in->slots_off =
        in->stats_off + CLIENT_MAX * sizeof(struct intake_client_stat);
    in->slot_stride = sizeof(struct ring_prod) + WF_RING_SIZE;
    in->user_size = in->slots_off + WF_SLOTS * in->slot_stride;
    in->topics_off = sizeof(struct status_header);
    in->clients_off = in->topics_off + TOPIC_MAX * sizeof(struct status_topic);
    in->rings_off = in->clients_off + CLIENT_MAX * sizeof(struct status_client);
    in->owners_off = in->rings_off + SLOT_MAX * sizeof(struct ring_cons);
    in->users_off = in->owners_off + REPORT_RINGS * 8;
    in->status_size = in->users_off + USER_MAX * sizeof(struct status_user);
    in->workers_off = sizeof(struct state_header);
    in->pslots_off = in->workers_off + WORKER_MAX * sizeof(struct state_worker);
    in->partitions_off = in->pslots_off + SLOT_MAX * sizeof(struct state_slot);
    in->errors_off =
        in->partitions_off + PARTITION_MAX * sizeof(struct state_partition);
    in->metrics_off =
        in->errors_off + TOPIC_ERROR_MAX * sizeof(struct state_error);
    in->pool_off = in->metrics_off + WORKER_MAX * sizeof(struct state_metrics);
    in->chunk_size = WF_CHUNK_SIZE;
    in->chunk_count = WF_CHUNKS;
    in->state_size = in->pool_off + (size_t)WF_CHUNK_SIZE * WF_CHUNKS;
}

/* Publishes a topic's settings as the supervisor does (topics.c): the
 * fixture's batch limits, no linger, `codec` at `level`. */
static inline void wf_topic_settings(struct instance *in, uint32_t topic,
                                     int16_t codec, int16_t level)
{
    _Atomic int32_t *v = in->state->topics.topic[topic].values;

    atomic_store(&v[TOPIC_SET_LINGER_MS], 0);
    atomic_store(&v[TOPIC_SET_BATCH_SIZE], WF_BATCH_SIZE);
    atomic_store(&v[TOPIC_SET_BATCH_NUM_MESSAGES], WF_BATCH_RECORDS);
    atomic_store(&v[TOPIC_SET_CODEC], codec);
    atomic_store(&v[TOPIC_SET_LEVEL], level);
}

static inline void wf_instance_init(struct instance *in)
{
    struct status_topic *t;

    log_set_level(LOG_ERROR); /* the warnings tests provoke on purpose */
    memset(in, 0, sizeof(*in));
    wf_layout(in);
    in->user[0] = calloc(1, in->user_size);
    in->status = calloc(1, in->status_size);
    in->state = calloc(1, in->state_size);
    assert_non_null(in->user[0]);
    assert_non_null(in->status);
    assert_non_null(in->state);
    wf_topic_settings(in, WF_TOPIC, BATCH_CODEC_NONE, -1);
    t = instance_topic(in, WF_TOPIC);
    strcpy(t->name, "t");
    atomic_store(&t->partitions, WF_PARTITIONS);
    atomic_store(&t->state, TOPIC_READY);
    for (uint32_t c = 0; c < CLIENT_MAX; c++)
        atomic_store(&instance_client(in, c)->report_ring, -1);
    atomic_store(&instance_user(in, 0)->bound, 1);
    for (uint32_t i = 0; i < TOPIC_MAX / 64; i++) /* every topic allowed */
        atomic_store(&instance_user(in, 0)->topics[i], ~0ULL);
    for (uint32_t s = 0; s < SLOT_MAX; s++)
        atomic_store(&instance_pslot(in, s)->producer_id, -1);
}

static inline void wf_instance_release(struct instance *in)
{
    free(in->user[0]);
    free(in->status);
    free(in->state);
}

static inline void wf_settings(struct wrk_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->name = "test";
    s->client_id = "chute-test";
    s->max_record = 4096;
    s->acks = -1;
    s->request_timeout_ms = 30000;
    s->message_timeout_ms = 300000;
    s->retry_backoff_ms = 100;
    s->retry_backoff_max_ms = 1000;
    s->retries = 10;
    s->max_in_flight = 5;
    s->worker_count = 2;
}

/* Worker `index` of s->worker_count, owning the slots dealt to it
 * round-robin, as worker.c's start() leaves it before recover_slots(). */
static inline void wf_worker_init(struct wrk *w, struct instance *in,
                                  const struct wrk_settings *s, int32_t index)
{
    memset(w, 0, sizeof(*w));
    w->in = in;
    w->s = s;
    w->index = (uint32_t)index;
    w->pid = 1;
    w->slot_count = WF_SLOTS;
    w->stats = instance_worker(in, (uint32_t)index);
    w->metrics = instance_metrics(in, (uint32_t)index);
    w->topics[WF_TOPIC].known = true; /* no metadata wanted for its name */
    strcpy(w->topics[WF_TOPIC].name, "t");
    live_topic_read(in, WF_TOPIC, &w->topics[WF_TOPIC].set);
    for (uint32_t slot = 0; slot < WF_SLOTS; slot++) {
        instance_ring(in, slot, &w->rings[slot]);
        w->owned[slot] = slot % s->worker_count == (uint32_t)index;
    }
    assert_int_equal(chunk_pool_init(&w->pool, in, index, s->worker_count),
                     0);
    assert_int_equal(part_init(w), 0);
    assert_int_equal(resolve_init(w), 0);
}

static inline void wf_worker_release(struct wrk *w)
{
    resolve_release(w);
    part_release(w);
    chunk_pool_release(&w->pool);
}

/* The n-th partition of WF_TOPIC whose slot is `slot`. */
static inline int32_t wf_partition_in(uint32_t slot, int n)
{
    for (int32_t p = 0; p < WF_PARTITIONS; p++)
        if (layout_slot_of(WF_TOPIC, p, WF_SLOTS) == slot && n-- == 0)
            return p;
    fail_msg("no partition %d in slot %u", n, slot);
    return -1;
}

/* A committed ring record as a client writes it: header, then the tail. */
struct wf_rec {
    struct ring_rec h;
    uint8_t tail[512];
};

static inline void wf_rec(struct wf_rec *r, int32_t partition, int64_t ts,
                          uint64_t opaque, const void *value, int32_t len)
{
    memset(r, 0, sizeof(*r));
    r->h.client = WF_CLIENT;
    r->h.topic = WF_TOPIC;
    r->h.partition = partition;
    r->h.timestamp = ts;
    r->h.opaque = opaque;
    r->h.accepted_ns = clock_ns(CLOCK_MONOTONIC);
    assert_true(record_tail_size(NULL, -1, value, len, NULL, 0) <=
                sizeof(r->tail));
    r->h.tail_len =
        (uint32_t)record_tail_write(r->tail, NULL, -1, value, len, NULL, 0);
}

/* Record i of a test batch: value "record <i>", timestamp 1000 + i,
 * opaque 100 + i. */
static inline void wf_rec_n(struct wf_rec *r, int32_t partition, uint32_t i)
{
    char value[32];
    int len = snprintf(value, sizeof(value), "record %u", i);

    wf_rec(r, partition, 1000 + i, 100 + i, value, len);
}

/* An open batch of `n` records for partition p, as accum.c's append()
 * makes it: taken, opened, tracked, filled from ring position `pos` on
 * (each record WF_REC_STEP bytes of ring). */
static inline int32_t wf_open_batch(struct wrk *w, struct wpart *p,
                                    uint32_t n, uint64_t pos)
{
    struct chunk_dest dest = {p->topic, p->partition, p->slot};
    int32_t idx = chunk_take(&w->pool);
    struct wf_rec r;

    assert_int_not_equal(idx, CHUNK_NONE);
    chunk_open(&w->pool, idx, &dest, pos, 1000);
    p->open = idx;
    resolve_track(w, p->slot, idx);
    for (uint32_t i = 0; i < n; i++) {
        wf_rec_n(&r, p->partition, i);
        chunk_append(&w->pool, idx, &r.h, r.tail,
                     pos + WF_REC_STEP * (i + 1));
    }
    return idx;
}

/* A sealed, queued batch of `n` records (accum_seal: sequence, codec,
 * queue); returns its chunk. */
static inline int32_t wf_sealed_batch(struct wrk *w, struct wpart *p,
                                      uint32_t n, uint64_t pos)
{
    int32_t sealed;

    wf_open_batch(w, p, n, pos);
    assert_true(accum_seal(w, p));
    sealed = p->q_tail;
    assert_int_equal(chunk_state(chunk_at(&w->pool, sealed)), CHUNK_SEALED);
    return sealed;
}

/* Parses a sealed chunk's batch header and checks its CRC. */
static inline struct batch_meta wf_header(struct pool_chunk *ch)
{
    struct batch_meta m;
    size_t total;

    assert_int_equal(batch_parse_header(chunk_data(ch), ch->wire_len, &m,
                                        &total),
                     0);
    assert_int_equal(total, ch->wire_len);
    assert_int_equal(batch_check_crc(chunk_data(ch), total), 0);
    return m;
}

/* Checks that partition p's queue holds chunks[want[0] - 'A'], then
 * chunks[want[1] - 'A'], ..., and nothing more. */
static inline void wf_check_queue(const struct wrk *w, const struct wpart *p,
                                  const int32_t *chunks, const char *want)
{
    int32_t i = p->q_head;

    for (const char *c = want; *c; c++, i = w->chunk_next[i])
        assert_int_equal(i, chunks[*c - 'A']);
    assert_int_equal(i, WRK_NONE);
}

/* Gives slot `slot` a producer id and epoch (an InitProducerId answer). */
static inline void wf_producer(struct instance *in, uint32_t slot, int64_t id,
                               int32_t epoch)
{
    atomic_store(&instance_pslot(in, slot)->producer_id, id);
    atomic_store(&instance_pslot(in, slot)->epoch, epoch);
}

/* ---- fixtures ---- */

/* One worker over an instance (test_chunk.c, test_sender.c).  `row` is
 * the table row a test runs (see wf_add_rows), or NULL. */
struct wf_one {
    struct instance in;
    struct wrk_settings s;
    struct wrk w;
    const void *row;
};

/* A cmocka setup's body: worker `index` of `workers`; *state comes in
 * holding the row and goes out holding the fixture. */
static inline struct wf_one *wf_one_new(void **state, int32_t index,
                                        uint32_t workers)
{
    struct wf_one *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->row = *state;
    wf_instance_init(&f->in);
    wf_settings(&f->s);
    f->s.worker_count = workers;
    wf_worker_init(&f->w, &f->in, &f->s, index);
    *state = f;
    return f;
}

static inline int wf_one_free(void **state)
{
    struct wf_one *f = *state;

    wf_worker_release(&f->w);
    wf_instance_release(&f->in);
    free(f);
    return 0;
}

/* ---- tables ---- */

#define WF_ROWS(table) (sizeof(table) / sizeof((table)[0]))

/* Appends to tests[] (at *n) one test per row of `table`, named after the
 * row (its first member is its name), each run by `fn` on its own
 * fixture: setup finds the row in *state. */
static inline void wf_add_rows(struct CMUnitTest *tests, size_t *n,
                               const void *table, size_t rows, size_t size,
                               CMUnitTestFunction fn, CMFixtureFunction setup,
                               CMFixtureFunction teardown)
{
    for (size_t i = 0; i < rows; i++) {
        const void *row = (const uint8_t *)table + i * size;
        tests[(*n)++] = (struct CMUnitTest){
            *(const char *const *)row, fn, setup, teardown, (void *)row};
    }
}

#endif
