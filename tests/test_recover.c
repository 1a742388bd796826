/*
 * test_recover.c: unit tests of worker/recover.c, a worker taking over the
 * batches of its slots from the pool (docs/crash-consistency.md).
 *
 * The instance lives in private memory (worker_fixture.h).  Three workers
 * share it: `dead`, worker 1, which owned the odd slots and dies; `w`, its
 * replacement (worker 1 again); and `other`, worker 0, alive, owning the
 * even slots.  Each row of the table lets `dead` run the life-cycle
 * functions (chunk.c, accum_seal) up to a point and die there: where the
 * crash falls between two stores of one function, the stores after it are
 * undone by hand (the only other hand-written fields: a cut-short
 * resolution's progress and acknowledged sequence, and a corrupt
 * partition number).  Then `w` runs
 * recover_slots(), and the row says what must become of each chunk: taken
 * back as the partition's open batch, queued, freed or left alone, and
 * where the slot's ring, next sequence and epoch then stand.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "proto/kafka.h"
#include "tests/worker_fixture.h"

#define ME 1      /* the dead worker and its replacement: odd slots */
#define OTHER 0   /* a live worker: even slots */
#define SLOT 1    /* the slot of partition P */
#define PID 4000
#define COPY_RECORDS 40 /* a batch that compresses */

struct fixture {
    struct instance in;
    struct wrk_settings s;
    struct wrk dead, w, other;
    const void *row;          /* the table row the test runs, or NULL */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->row = *state;
    wf_instance_init(&f->in);
    wf_settings(&f->s);
    f->s.idempotent = true;
    wf_worker_init(&f->dead, &f->in, &f->s, ME);
    wf_worker_init(&f->w, &f->in, &f->s, ME);
    wf_worker_init(&f->other, &f->in, &f->s, OTHER);
    for (uint32_t s = 0; s < WF_SLOTS; s++) {
        wf_producer(&f->in, s, PID + s, 0);
        /* Clients wrote this far into every ring. */
        atomic_store(&f->w.rings[s].prod->tail, WF_RING_SIZE);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    wf_worker_release(&f->dead);
    wf_worker_release(&f->w);
    wf_worker_release(&f->other);
    wf_instance_release(&f->in);
    free(f);
    return 0;
}

static struct pool_chunk *chunk(struct fixture *f, int32_t idx)
{
    return chunk_at(&f->w.pool, idx);
}

/* ---- where the predecessor died ---------------------------------------- */

/* Each leaves its chunks in c[]; p is partition P of `dead`. */
typedef void crash_fn(struct fixture *f, struct wpart *p, int32_t *c);

static void after_cas_before_taker(struct fixture *f, struct wpart *p,
                                   int32_t *c)
{
    (void)p;
    c[0] = chunk_take(&f->dead.pool);
    chunk(f, c[0])->worker = 0; /* the store right after the CAS */
}

static void after_take(struct fixture *f, struct wpart *p, int32_t *c)
{
    (void)p;
    c[0] = chunk_take(&f->dead.pool);
}

static void after_open(struct fixture *f, struct wpart *p, int32_t *c)
{
    struct chunk_dest dest = {p->topic, p->partition, p->slot};

    c[0] = chunk_take(&f->dead.pool);
    chunk_open(&f->dead.pool, c[0], &dest, 0, 1000);
}

static void mid_fill(struct fixture *f, struct wpart *p, int32_t *c)
{
    c[0] = wf_open_batch(&f->dead, p, 3, 0);
}

/* Record 3's bytes and origin are written, its fill store is not. */
static void mid_append(struct fixture *f, struct wpart *p, int32_t *c)
{
    struct wf_rec r;
    uint64_t fill;

    c[0] = wf_open_batch(&f->dead, p, 2, 0);
    fill = atomic_load(&chunk(f, c[0])->fill);
    wf_rec_n(&r, p->partition, 2);
    chunk_append(&f->dead.pool, c[0], &r.h, r.tail,
                 3 * WF_REC_STEP);
    atomic_store(&chunk(f, c[0])->fill, fill);
}

/* chunk_seal() with LZ4 all the way, then the free of the original undone:
 * died after the copy was SEALED.  c[0] the original, c[1] the copy. */
static void copy_sealed(struct fixture *f, struct wpart *p, int32_t *c)
{
    static uint8_t before[WF_CHUNK_SIZE];
    struct chunk_producer pr;

    c[0] = wf_open_batch(&f->dead, p, COPY_RECORDS, 0);
    memcpy(before, chunk(f, c[0]), WF_CHUNK_SIZE);
    pr = producer_next(&f->dead, p);
    c[1] = chunk_seal(&f->dead.pool, c[0], BATCH_CODEC_LZ4, -1, &pr);
    assert_int_not_equal(c[1], c[0]); /* it compressed */
    memcpy((void *)chunk(f, c[0]), before, WF_CHUNK_SIZE);
}

/* ... and the copy's SEALED store undone too: died before it. */
static void copy_unsealed(struct fixture *f, struct wpart *p, int32_t *c)
{
    copy_sealed(f, p, c);
    atomic_store(&chunk(f, c[1])->state, CHUNK_OPEN);
}

/* chunk_seal() with LZ4 all the way: the copy SEALED, the original emptied
 * into the worker's spare.  c[0] the spare, c[1] the copy. */
static void spare_kept(struct fixture *f, struct wpart *p, int32_t *c)
{
    struct chunk_producer pr;

    c[0] = wf_open_batch(&f->dead, p, COPY_RECORDS, 0);
    pr = producer_next(&f->dead, p);
    c[1] = chunk_seal(&f->dead.pool, c[0], BATCH_CODEC_LZ4, -1, &pr);
    assert_int_equal(f->dead.pool.spare, c[0]);
}

/* The second batch SEALED, the partition's next_seq not yet moved. */
static void sealed_before_next_seq(struct fixture *f, struct wpart *p,
                                   int32_t *c)
{
    struct chunk_producer pr;

    c[0] = wf_sealed_batch(&f->dead, p, 3, 0);
    wf_open_batch(&f->dead, p, 2, 3 * WF_REC_STEP);
    pr = producer_next(&f->dead, p);
    c[1] = chunk_seal(&f->dead.pool, p->open, BATCH_CODEC_NONE, -1, &pr);
}

/* An epoch bump stored the slot's new epoch, then died before it
 * re-stamped the waiting batches. */
static void bumped_before_restamp(struct fixture *f, struct wpart *p,
                                  int32_t *c)
{
    c[0] = wf_sealed_batch(&f->dead, p, 3, 0);
    c[1] = wf_sealed_batch(&f->dead, p, 2, 3 * WF_REC_STEP);
    atomic_store(&instance_pslot(&f->in, SLOT)->epoch, 1);
}

static void in_flight(struct fixture *f, struct wpart *p, int32_t *c)
{
    c[0] = wf_sealed_batch(&f->dead, p, 3, 0);
    chunk_send(&f->dead.pool, c[0]);
}

/* An answer came: the first record was told (counted), then it died. */
static void mid_resolution(struct fixture *f, struct wpart *p, int32_t *c)
{
    in_flight(f, p, c);
    atomic_fetch_add(&instance_client(&f->in, WF_CLIENT)->records_acked, 1);
    chunk(f, c[0])->reported = 1;
}

/* Resolved, then it died inside chunk_free(): fill 0, state not FREE. */
static void mid_free(struct fixture *f, struct wpart *p, int32_t *c)
{
    in_flight(f, p, c);
    resolve_batch(&f->dead, c[0], 0, 500);
    atomic_store(&chunk(f, c[0])->state, CHUNK_IN_FLIGHT);
}

/* A batch that claims a partition the topic does not have (one that
 * would hash to the same slot). */
static void nonsense(struct fixture *f, struct wpart *p, int32_t *c)
{
    c[0] = wf_sealed_batch(&f->dead, p, 3, 0);
    chunk(f, c[0])->partition += WF_PARTITIONS;
    assert_int_equal(layout_slot_of(WF_TOPIC, chunk(f, c[0])->partition,
                                    WF_SLOTS),
                     SLOT);
}

/* `other` has just taken two chunks that held P's batches; it stored the
 * taker of the first, not yet of the second, and wrote no field yet. */
static void other_just_took(struct fixture *f, struct wpart *p, int32_t *c)
{
    /* Both open before either is freed: chunk_take() hands a freed chunk
     * out again first, and these must be two. */
    int32_t x = wf_open_batch(&f->dead, p, 2, 0), y;

    p->open = WRK_NONE;
    y = wf_open_batch(&f->dead, p, 2, 128);
    p->open = WRK_NONE;
    resolve_batch(&f->dead, x, 0, 0);
    resolve_batch(&f->dead, y, 0, 0);
    f->other.pool.base = (uint32_t)x;
    c[0] = chunk_take(&f->other.pool);
    f->other.pool.base = (uint32_t)y;
    c[1] = chunk_take(&f->other.pool);
    assert_int_equal(c[0], x);
    assert_int_equal(c[1], y);
    chunk(f, c[1])->worker = 0;
}

/* The predecessor's copy made it and its original was freed; `other` has
 * just taken that chunk, which still names P and the copy's ring
 * position. */
static void other_took_copy_source(struct fixture *f, struct wpart *p,
                                   int32_t *c)
{
    copy_sealed(f, p, c);
    chunk_free(&f->dead.pool, c[0]);
    f->other.pool.base = (uint32_t)c[0];
    assert_int_equal(chunk_take(&f->other.pool), c[0]);
}

/* `other` fills and seals batches of its own slot 0. */
static void other_slot(struct fixture *f, struct wpart *p, int32_t *c)
{
    struct wpart *q =
        part_get(&f->other, 0, WF_TOPIC, wf_partition_in(OTHER, 0));

    (void)p;
    c[0] = wf_sealed_batch(&f->other, q, 3, 0);
    c[1] = wf_open_batch(&f->other, q, 2, 3 * WF_REC_STEP);
}

/* ---- what the replacement must do -------------------------------------- */

struct chunk_after {
    uint32_t state;
    uint32_t records;
    bool listed;              /* in the replacement's slot list */
};

#define FREED {CHUNK_FREE, 0, false} /* also: no such chunk */
#define TAKEN {CHUNK_OPEN, 0, false}  /* left alone, taken and empty */
#define OPEN(n) {CHUNK_OPEN, n, true}
#define QUEUED(n) {CHUNK_SEALED, n, true}

/* Where the predecessor died, and what must then become of its chunks
 * c[0] ('A') and c[1] ('B'), of partition P and of its slot.  Unless a
 * row says otherwise: no open batch, nothing queued, the ring resumes at
 * 0, next_seq 0, no bump. */
struct recover_case {
    const char *died;
    crash_fn *crash;
    struct chunk_after after[2];
    char open;                /* 'A' or 'B': P's open batch; 0 none */
    const char *queue;        /* P's queue, e.g. "AB" */
    uint64_t resume;          /* the slot's ring head */
    int32_t next_seq;         /* P's */
    bool bump;                /* the slot bumps its epoch */
};

static const struct recover_case cases[] = {
    {.died = "died after chunk_take's CAS, before its taker store",
     .crash = after_cas_before_taker, .after = {TAKEN, FREED}},
    {.died = "died after chunk_take, before chunk_open",
     .crash = after_take, .after = {FREED, FREED}},
    {.died = "died after chunk_open, before the first record",
     .crash = after_open, .after = {FREED, FREED}},
    {.died = "died mid-fill, three records committed", .crash = mid_fill,
     .after = {OPEN(3), FREED}, .open = 'A', .resume = 3 * WF_REC_STEP},
    {.died = "died inside chunk_append, before its fill store",
     .crash = mid_append, .after = {OPEN(2), FREED}, .open = 'A',
     .resume = 2 * WF_REC_STEP},
    {.died = "died after a compressed copy was taken, before it was SEALED",
     .crash = copy_unsealed, .after = {OPEN(COPY_RECORDS), FREED},
     .open = 'A', .resume = COPY_RECORDS * WF_REC_STEP},
    {.died = "died after the copy was SEALED, before the original was freed",
     .crash = copy_sealed, .after = {FREED, QUEUED(COPY_RECORDS)},
     .queue = "B", .resume = COPY_RECORDS * WF_REC_STEP,
     .next_seq = COPY_RECORDS},
    {.died = "died keeping a spare chunk after a compressed seal",
     .crash = spare_kept, .after = {FREED, QUEUED(COPY_RECORDS)},
     .queue = "B", .resume = COPY_RECORDS * WF_REC_STEP,
     .next_seq = COPY_RECORDS},
    {.died = "died after SEALED, before next_seq moved",
     .crash = sealed_before_next_seq, .after = {QUEUED(3), QUEUED(2)},
     .queue = "AB", .resume = 5 * WF_REC_STEP, .next_seq = 5},
    {.died = "died in an epoch bump, before the batches were re-stamped",
     .crash = bumped_before_restamp, .after = {QUEUED(3), QUEUED(2)},
     .queue = "AB", .resume = 5 * WF_REC_STEP, .next_seq = 5, .bump = true},
    {.died = "died while IN_FLIGHT", .crash = in_flight,
     .after = {QUEUED(3), FREED}, .queue = "A", .resume = 3 * WF_REC_STEP,
     .next_seq = 3},
    {.died = "died mid-resolution, one record of three reported",
     .crash = mid_resolution, .after = {QUEUED(3), FREED}, .queue = "A",
     .resume = 3 * WF_REC_STEP, .next_seq = 3},
    {.died = "died inside chunk_free, between its fill and state stores",
     .crash = mid_free, .after = {FREED, FREED}, .next_seq = 3},
    {.died = "died with a batch that makes no sense", .crash = nonsense,
     .after = {FREED, FREED}, .next_seq = 3},
    {.died = "died; another worker takes chunks that named its slot",
     .crash = other_just_took, .after = {TAKEN, TAKEN}},
    {.died = "died; its copy made it, the original is taken again",
     .crash = other_took_copy_source,
     .after = {TAKEN, QUEUED(COPY_RECORDS)}, .queue = "B",
     .resume = COPY_RECORDS * WF_REC_STEP, .next_seq = COPY_RECORDS},
    {.died = "died; another worker fills its own slot",
     .crash = other_slot,
     .after = {{CHUNK_SEALED, 3, false}, {CHUNK_OPEN, 2, false}}},
};

/* True if chunk idx is in the replacement's list of unresolved chunks. */
static bool listed(struct fixture *f, int32_t idx)
{
    for (uint32_t s = 0; s < WF_SLOTS; s++)
        for (int32_t c = f->w.slot_first[s]; c != WRK_NONE;
             c = f->w.slot_next[c])
            if (c == idx)
                return true;
    return false;
}

static void check_chunk(struct fixture *f, int32_t idx,
                        const struct chunk_after *a)
{
    if (idx == CHUNK_NONE) {
        assert_int_equal(a->state, CHUNK_FREE);
        return;
    }
    assert_int_equal(chunk_state(chunk(f, idx)), a->state);
    assert_int_equal(chunk_records(chunk(f, idx)), a->records);
    assert_int_equal(listed(f, idx), a->listed);
}

static void run_case(struct fixture *f, const struct recover_case *rc)
{
    int32_t part = wf_partition_in(SLOT, 0);
    int32_t c[2] = {CHUNK_NONE, CHUNK_NONE};
    struct wpart *p;

    rc->crash(f, part_get(&f->dead, 0, WF_TOPIC, part), c);
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
    p = part_get(&f->w, 0, WF_TOPIC, part);
    for (int i = 0; i < 2; i++)
        check_chunk(f, c[i], &rc->after[i]);
    assert_int_equal(p->open, rc->open ? c[rc->open - 'A'] : WRK_NONE);
    wf_check_queue(&f->w, p, c, rc->queue ? rc->queue : "");
    assert_int_equal(ring_head(&f->w.rings[SLOT]), rc->resume);
    assert_int_equal(p->sp->next_seq, rc->next_seq);
    assert_int_equal(f->w.bump_pending[SLOT], rc->bump);
}

static void test_recover(void **state)
{
    struct fixture *f = *state;

    run_case(f, f->row);
}

/* ---- beyond the table -------------------------------------------------- */

/* A running worker takes slots over too (shard.c): its own spare, an
 * empty OPEN chunk its index took, is not a predecessor's to free. */
static void test_own_spare_survives_taking_slots(void **state)
{
    struct fixture *f = *state;
    int32_t part = wf_partition_in(3, 0); /* another of ME's slots */
    struct wpart *p = part_get(&f->w, 0, WF_TOPIC, part);
    bool slot1[WF_SLOTS] = {false, true, false, false};
    struct chunk_producer pr;
    int32_t orig = wf_open_batch(&f->w, p, COPY_RECORDS, 0), copy;

    pr = producer_next(&f->w, p);
    copy = chunk_seal(&f->w.pool, orig, BATCH_CODEC_LZ4, -1, &pr);
    assert_int_not_equal(copy, orig);
    assert_int_equal(f->w.pool.spare, orig);
    assert_int_equal(recover_slots(&f->w, slot1), 0);
    assert_int_equal(f->w.pool.spare, orig);
    assert_int_equal(chunk_state(chunk(f, orig)), CHUNK_OPEN);
    assert_int_equal(chunk(f, orig)->worker, ME + 1);
    assert_int_equal(chunk_state(chunk(f, copy)), CHUNK_SEALED);
}

/* Sealed, in flight and open batches of a partition come back in ring
 * order, which is their sequence order; the one in flight goes again
 * byte-identical. */
static void test_batches_come_back_in_ring_order(void **state)
{
    struct fixture *f = *state;
    int32_t part = wf_partition_in(SLOT, 0);
    struct wpart *d = part_get(&f->dead, 0, WF_TOPIC, part), *p;
    int32_t a = wf_sealed_batch(&f->dead, d, 3, 0);
    int32_t b = wf_sealed_batch(&f->dead, d, 2, 3 * WF_REC_STEP);
    int32_t o = wf_open_batch(&f->dead, d, 1, 5 * WF_REC_STEP);
    uint8_t bytes[WF_CHUNK_SIZE];
    uint32_t len = chunk(f, b)->wire_len;

    memcpy(bytes, chunk_send(&f->dead.pool, b), len);
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
    p = part_get(&f->w, 0, WF_TOPIC, part);
    assert_int_equal(p->q_head, a);
    assert_int_equal(f->w.chunk_next[a], b);
    assert_int_equal(p->q_tail, b);
    assert_int_equal(p->open, o);
    assert_int_equal(f->w.slot_first[SLOT], a);
    assert_int_equal(f->w.slot_last[SLOT], o);
    assert_int_equal(chunk(f, b)->wire_len, len);
    assert_memory_equal(chunk_data(chunk(f, b)), bytes, len);
    assert_int_equal(ring_head(&f->w.rings[SLOT]), 6 * WF_REC_STEP);
    assert_int_equal(atomic_load(&f->w.rings[SLOT].cons->resolved), 0);
}

/* A batch whose resolution was cut short goes on from `reported`: its
 * client hears of each record once. */
static void test_resolution_goes_on_where_it_stopped(void **state)
{
    struct fixture *f = *state;
    int32_t part = wf_partition_in(SLOT, 0);
    int32_t c[2];
    const struct status_client *cl = instance_client(&f->in, WF_CLIENT);

    mid_resolution(f, part_get(&f->dead, 0, WF_TOPIC, part), c);
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
    assert_int_equal(chunk(f, c[0])->reported, 1);
    resolve_batch(&f->w, c[0], 0, 500);
    assert_int_equal(atomic_load(&cl->records_acked), 3);
    assert_int_equal(chunk_state(chunk(f, c[0])), CHUNK_FREE);
    assert_int_equal(atomic_load(&f->w.rings[SLOT].cons->resolved),
                     3 * WF_REC_STEP);
}

/* A death after the batch's counters moved and its records were told,
 * before its chunk was freed: the replacement resends it (a duplicate
 * for the broker) and must not count it again. */
static void test_resolved_batch_counted_once(void **state)
{
    struct fixture *f = *state;
    struct wpart *p = part_get(&f->dead, 0, WF_TOPIC, wf_partition_in(SLOT, 0));
    int32_t c[2];
    uint64_t fill;

    in_flight(f, p, c);
    fill = atomic_load(&chunk(f, c[0])->fill);
    resolve_batch(&f->dead, c[0], 0, 500);
    atomic_store(&chunk(f, c[0])->fill, fill); /* undo chunk_free */
    atomic_store(&chunk(f, c[0])->state, CHUNK_IN_FLIGHT);
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
    p = part_get(&f->w, 0, WF_TOPIC, wf_partition_in(SLOT, 0));
    resolve_batch(&f->w, part_queue_pop(&f->w, p), 0, 500);
    /* The replacement has its predecessor's index: one stats entry. */
    assert_ptr_equal(f->w.stats, f->dead.stats);
    assert_int_equal(atomic_load(&f->w.stats->records_acked), 3);
    assert_int_equal(atomic_load(&f->in.state->topic_acked[WF_TOPIC]), 3);
    assert_int_equal(
        atomic_load(&instance_client(&f->in, WF_CLIENT)->records_acked), 3);
}

/* The predecessor had A (3 records) and B (2) in flight; the broker
 * acknowledged A and the predecessor stored the partition's acknowledged
 * sequence (sender_settle), then died before A's chunk was freed.  B may
 * be in the broker's log too. */
static void died_resolving_with_next_in_flight(struct fixture *f, int32_t *c)
{
    struct wpart *d =
        part_get(&f->dead, 0, WF_TOPIC, wf_partition_in(SLOT, 0));

    c[0] = wf_sealed_batch(&f->dead, d, 3, 0);
    c[1] = wf_sealed_batch(&f->dead, d, 2, 3 * WF_REC_STEP);
    chunk_send(&f->dead.pool, c[0]);
    chunk_send(&f->dead.pool, c[1]);
    d->sp->acked_seq = 3;
}

/* The replacement sends its head batch, as sender_collect() and
 * frame_request() do, and the broker answers `error`; then the slot
 * settles (sender_pump: producer_settle). */
static void resend_head(struct fixture *f, struct wpart *p, int16_t error)
{
    struct req_entry e = {p, part_queue_pop(&f->w, p), false};

    part_flight_push(&f->w, p, e.chunk);
    f->w.chunk_unsure[e.chunk] = true;
    chunk_send(&f->w.pool, e.chunk);
    sender_settle(&f->w, &e, error, error ? -1 : 500);
    producer_settle(&f->w);
}

/* The replacement's view of died_resolving_with_next_in_flight(): both
 * batches adopted; returns their partition. */
static struct wpart *adopt_after_death_resolving(struct fixture *f,
                                                 int32_t *c)
{
    died_resolving_with_next_in_flight(f, c);
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
    return part_get(&f->w, 0, WF_TOPIC, wf_partition_in(SLOT, 0));
}

/* The predecessor's acknowledged batch goes again; the broker has it and
 * answers with its offset.  That is no sign of a skipped sequence: no
 * epoch bump, and B goes as it was stamped, so that a broker holding it
 * drops it as a duplicate (re-stamped under a new epoch at sequence 0, a
 * broker would write it twice). */
static void test_acked_batch_resent_bumps_nothing(void **state)
{
    struct fixture *f = *state;
    int32_t c[2];
    struct wpart *p = adopt_after_death_resolving(f, c);

    wf_check_queue(&f->w, p, c, "AB");
    resend_head(f, p, KAFKA_ERR_NONE);
    assert_int_equal(chunk_state(chunk(f, c[0])), CHUNK_FREE);
    assert_false(f->w.bump_pending[SLOT]);
    assert_int_equal(atomic_load(&instance_pslot(&f->in, SLOT)->epoch), 0);
    assert_int_equal(p->sp->acked_seq, 3);
    assert_int_equal(wf_header(chunk(f, c[1])).producer_epoch, 0);
    assert_int_equal(wf_header(chunk(f, c[1])).base_sequence, 3);
}

/* A batch the predecessor had in flight may be in the log: when the slot
 * is due for an epoch bump (any answer of any of its partitions may ask
 * for one), it goes again as it is first, and only what is left after its
 * answer is re-stamped. */
static void test_adopted_in_flight_waits_out_a_bump(void **state)
{
    struct fixture *f = *state;
    int32_t c[2];
    struct wpart *p = adopt_after_death_resolving(f, c);

    f->w.bump_pending[SLOT] = true;
    producer_settle(&f->w);
    assert_true(f->w.bump_pending[SLOT]);
    assert_int_equal(wf_header(chunk(f, c[0])).producer_epoch, 0);
    assert_int_equal(wf_header(chunk(f, c[1])).base_sequence, 3);
    resend_head(f, p, KAFKA_ERR_NONE); /* A: the broker has it */
    assert_true(f->w.bump_pending[SLOT]);
    assert_int_equal(wf_header(chunk(f, c[1])).producer_epoch, 0);
    resend_head(f, p, KAFKA_ERR_NONE); /* B: written now, or had been */
    assert_false(f->w.bump_pending[SLOT]);
    assert_int_equal(atomic_load(&instance_pslot(&f->in, SLOT)->epoch), 1);
    assert_int_equal(chunk_state(chunk(f, c[1])), CHUNK_FREE);
}

#define TEST(name)                                                            \
    (struct CMUnitTest)cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    struct CMUnitTest tests[WF_ROWS(cases) + 6];
    size_t n = 0;

    wf_add_rows(tests, &n, cases, WF_ROWS(cases), sizeof(cases[0]),
                test_recover, setup, teardown);
    tests[n++] = TEST(test_batches_come_back_in_ring_order);
    tests[n++] = TEST(test_resolution_goes_on_where_it_stopped);
    tests[n++] = TEST(test_resolved_batch_counted_once);
    tests[n++] = TEST(test_own_spare_survives_taking_slots);
    tests[n++] = TEST(test_acked_batch_resent_bumps_nothing);
    tests[n++] = TEST(test_adopted_in_flight_waits_out_a_bump);
    assert_int_equal(n, WF_ROWS(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
