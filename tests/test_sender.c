/*
 * test_sender.c: unit tests of the sender's decisions (worker/sender.c),
 * without a network: what sender_collect() puts in the next Produce
 * request to a broker, and what sender_settle() does with each answer,
 * down to producer_settle()'s epoch bump.
 *
 * One worker owns every slot of an instance in private memory
 * (worker_fixture.h).  Partitions get a leader by hand, as a metadata
 * answer would give them; batches are sealed and queued the way the drain
 * does it (accum_seal), and every batch collected is sent (chunk_send), as
 * frame_request() does, before its answer is settled.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <unistd.h>

#include "proto/kafka.h"
#include "tests/worker_fixture.h"

#define NODE_A 0
#define NODE_B 1
#define SLOT 1
#define PID 4000

static int setup(void **state)
{
    struct wf_one *f = wf_one_new(state, 0, 1);

    f->s.idempotent = true;
    for (uint32_t s = 0; s < WF_SLOTS; s++)
        wf_producer(&f->in, s, PID + s, 0);
    return 0;
}

/* The n-th partition of slot SLOT, led by `leader`. */
static struct wpart *partition(struct wf_one *f, int n, int32_t leader)
{
    struct wpart *p = part_get(&f->w, 0, WF_TOPIC, wf_partition_in(SLOT, n));

    assert_non_null(p);
    p->leader = leader;
    return p;
}

/* The next request to `node`, its batches sent; NULL if none may go. */
static struct produce_req *collect(struct wf_one *f, int32_t node)
{
    struct produce_req *req = sender_collect(&f->w, node);

    for (size_t i = 0; req && i < req->n; i++)
        chunk_send(&f->w.pool, req->e[i].chunk);
    return req;
}

/* The broker's answer for batch `chunk` of `req`. */
static void answer(struct wf_one *f, struct produce_req *req, int32_t chunk,
                   int16_t error)
{
    for (size_t i = 0; i < req->n; i++)
        if (req->e[i].chunk == chunk) {
            sender_settle(&f->w, &req->e[i], error, error ? -1 : 500);
            return;
        }
    fail_msg("chunk %d is not in the request", chunk);
}

static uint64_t acked(struct wf_one *f)
{
    return atomic_load(&f->w.stats->records_acked);
}

static uint64_t failed(struct wf_one *f)
{
    return atomic_load(&f->w.stats->records_failed);
}

static uint32_t queue_length(struct wf_one *f, const struct wpart *p)
{
    uint32_t n = 0;

    for (int32_t i = p->q_head; i != WRK_NONE; i = f->w.chunk_next[i])
        n++;
    return n;
}

/* ---- what a request carries ------------------------------------------ */

/*
 * Partition P of slot SLOT, led by NODE_A, has `queued` sealed batches;
 * `sent` of them went to NODE_A first (still in flight).  Then the row's
 * changes apply and requests to `node` are collected until none comes:
 * `want` batches of P go, never two in one request.  Unless a row says
 * otherwise: idempotence, max.in.flight 5, the broker has confirmed the
 * epoch (p->confirmed_ms), P led by NODE_A and the requests for NODE_A.
 */
struct collect_case {
    const char *what;
    bool plain;               /* idempotence off */
    int max_in_flight;        /* 0: 5 */
    bool unconfirmed;         /* no acknowledgement in this epoch yet */
    int queued, sent;
    int32_t leader, node;     /* then: P's leader, the request's broker */
    bool recovering, bump, newpid;
    bool unsure;              /* the head batch may have been written */
    int64_t retry_in_ms;      /* retry_at_ms = now + this; 0 none */
    int want;
};

static const struct collect_case collect_cases[] = {
    {.what = "one in flight until the broker confirmed the epoch",
     .unconfirmed = true, .queued = 3, .want = 1},
    {.what = "up to max.in.flight after", .queued = 7, .want = 5},
    {.what = "max.in.flight 2", .max_in_flight = 2, .queued = 4, .want = 2},
    {.what = "one without idempotence", .plain = true, .queued = 3,
     .want = 1},
    {.what = "nothing queued, nothing sent", .queued = 0, .want = 0},
    {.what = "nothing for a broker that does not lead", .queued = 3,
     .node = NODE_B, .want = 0},
    {.what = "nothing without a leader", .queued = 3, .leader = -1,
     .want = 0},
    {.what = "nothing while backing off", .queued = 3, .retry_in_ms = 10000,
     .want = 0},
    {.what = "a back-off that has passed", .queued = 3, .retry_in_ms = -1,
     .want = 3},
    {.what = "nothing more while recovering from a failed answer",
     .queued = 3, .sent = 1, .recovering = true, .want = 0},
    {.what = "nothing to a new leader while the old one holds a batch",
     .queued = 3, .sent = 1, .leader = NODE_B, .node = NODE_B, .want = 0},
    {.what = "more to the same leader", .queued = 3, .sent = 1, .want = 2},
    {.what = "nothing while a bump is pending", .queued = 3, .bump = true,
     .want = 0},
    {.what = "an unsure batch goes while a bump is pending, and only it",
     .queued = 3, .bump = true, .unsure = true, .want = 1},
    {.what = "nothing while a new producer id is needed", .queued = 3,
     .newpid = true, .want = 0},
};

/* Collects for `node` until nothing comes; returns P's batches. */
static int collect_all(struct wf_one *f, const struct wpart *p,
                       int32_t node)
{
    struct produce_req *req;
    int n = 0;

    while ((req = collect(f, node))) {
        int mine = 0;
        for (size_t i = 0; i < req->n; i++)
            mine += req->e[i].part == p;
        assert_in_range(mine, 0, 1); /* one batch of a partition each */
        n += mine;
        free(req);
    }
    return n;
}

static void run_collect_case(struct wf_one *f, const struct collect_case *c)
{
    struct wpart *p = partition(f, 0, NODE_A);
    int64_t now = mono_ms();

    f->s.idempotent = !c->plain;
    f->s.max_in_flight = c->max_in_flight ? c->max_in_flight : 5;
    for (int i = 0; i < c->queued; i++)
        wf_sealed_batch(&f->w, p, 2, (uint64_t)(i * 2 * WF_REC_STEP));
    p->confirmed_ms = c->unconfirmed ? 0 : now;
    for (int i = 0; i < c->sent; i++)
        free(collect(f, NODE_A));
    assert_int_equal(p->inflight, c->sent);
    p->leader = c->leader;
    p->recovering = c->recovering;
    f->w.bump_pending[SLOT] = c->bump;
    f->w.newpid_pending[SLOT] = c->newpid;
    if (c->unsure)
        f->w.chunk_unsure[p->q_head] = true;
    p->retry_at_ms = c->retry_in_ms ? now + c->retry_in_ms : 0;
    assert_int_equal(collect_all(f, p, c->node), c->want);
    assert_int_equal(p->inflight, c->sent + c->want);
    assert_int_equal(queue_length(f, p), c->queued - c->sent - c->want);
}

static void test_collect(void **state)
{
    struct wf_one *f = *state;

    run_collect_case(f, f->row);
}

/* A request to a broker carries the head batch of each partition it
 * leads, in (topic, partition) order, each moved in flight and unsure. */
static void test_collect_partitions_of_a_broker(void **state)
{
    struct wf_one *f = *state;
    struct wpart *p0 = partition(f, 0, NODE_A), *p1 = partition(f, 1, NODE_A);
    struct wpart *q =
        part_get(&f->w, 0, WF_TOPIC, wf_partition_in(SLOT + 1, 0));
    struct produce_req *req;

    q->leader = NODE_B;
    int32_t b0 = wf_sealed_batch(&f->w, p0, 2, 0);
    wf_sealed_batch(&f->w, p0, 2, 128);
    int32_t b1 = wf_sealed_batch(&f->w, p1, 3, 256);
    int32_t bq = wf_sealed_batch(&f->w, q, 1, 0);
    req = collect(f, NODE_A);
    assert_non_null(req);
    assert_int_equal(req->n, 2);
    assert_int_equal(req->node, NODE_A);
    assert_true(req->e[0].part->partition < req->e[1].part->partition);
    for (size_t i = 0; i < 2; i++) {
        struct req_entry *e = &req->e[i];
        assert_int_equal(e->chunk, e->part == p0 ? b0 : b1);
        assert_false(e->done);
        assert_true(f->w.chunk_unsure[e->chunk]);
        assert_int_equal(e->part->f_head, e->chunk);
        assert_int_equal(e->part->inflight, 1);
        assert_int_equal(e->part->inflight_node, NODE_A);
        assert_int_equal(chunk_state(chunk_at(&f->w.pool, e->chunk)),
                         CHUNK_IN_FLIGHT);
    }
    free(req);
    req = collect(f, NODE_B);
    assert_non_null(req);
    assert_int_equal(req->n, 1);
    assert_int_equal(req->e[0].chunk, bq);
    free(req);
    assert_null(collect(f, NODE_B));
}

/* ---- what an answer does ----------------------------------------------- */

/*
 * Partition P (slot SLOT, led by NODE_A, the broker's sequence state
 * confirmed) has batches A (3 records, sequence 0), B (2, sequence 3) and
 * C (4, sequence 5).  Two requests go (with idempotence A and B are then
 * in flight; without, only A), then the answers come in the row's order.
 * After them each batch is acked or failed (resolved, its chunk FREE),
 * queued (SEALED) or still in flight, the queue holds `queue` in that
 * order, and the flags are as the row says.  Unless a row says otherwise:
 * idempotence, retries 10, message.timeout.ms 300 s.
 */
enum fate { FLIGHT, ACKED, FAILED, QUEUED };

struct settle_case {
    const char *what;
    bool plain;               /* idempotence off */
    bool no_retries;          /* retries 0 */
    bool expired;             /* message.timeout.ms passed (1 ms) */
    struct {
        char batch;           /* 'A', 'B', 'C'; 0 ends the list */
        int16_t error;
    } answers[3];
    enum fate fate[3];
    const char *queue;        /* the batches queued, in order */
    int32_t acked_seq;        /* with idempotence */
    bool backoff, bump, newpid, leaderless;
    bool confirmed;           /* more than one may go in flight again */
};

static const uint32_t counts[3] = {3, 2, 4};

static const struct settle_case settle_cases[] = {
    {.what = "acks resolve the batches",
     .answers = {{'A', 0}, {'B', 0}},
     .fate = {ACKED, ACKED, QUEUED}, .queue = "C", .acked_seq = 5,
     .confirmed = true},
    {.what = "a duplicate was written",
     .answers = {{'A', KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER},
                 {'B', KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER}},
     .fate = {ACKED, ACKED, QUEUED}, .queue = "C", .acked_seq = 5,
     .confirmed = true},
    {.what = "retriable errors requeue in sequence order, backing off",
     .answers = {{'B', KAFKA_ERR_NOT_ENOUGH_REPLICAS},
                 {'A', KAFKA_ERR_NOT_ENOUGH_REPLICAS}},
     .fate = {QUEUED, QUEUED, QUEUED}, .queue = "ABC", .backoff = true},
    {.what = "out of order behind an earlier failed batch requeues",
     .answers = {{'A', KAFKA_ERR_REQUEST_TIMED_OUT},
                 {'B', KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER}},
     .fate = {QUEUED, QUEUED, QUEUED}, .queue = "ABC", .backoff = true},
    {.what = "out of order at the head (the sequence the broker expects) bumps",
     .answers = {{'A', 0}, {'B', KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER}},
     .fate = {ACKED, QUEUED, QUEUED}, .queue = "BC", .acked_seq = 3,
     .bump = true},
    {.what = "unknown producer id bumps",
     .answers = {{'A', KAFKA_ERR_UNKNOWN_PRODUCER_ID}},
     .fate = {QUEUED, FLIGHT, QUEUED}, .queue = "AC", .bump = true},
    {.what = "a fenced epoch wants a new producer id",
     .answers = {{'A', KAFKA_ERR_INVALID_PRODUCER_EPOCH}},
     .fate = {QUEUED, FLIGHT, QUEUED}, .queue = "AC", .newpid = true},
    {.what = "a non-retriable error fails the batch and asks for a bump",
     .answers = {{'A', KAFKA_ERR_MESSAGE_TOO_LARGE}},
     .fate = {FAILED, FLIGHT, QUEUED}, .queue = "C", .bump = true},
    {.what = "a written batch ahead of an unwritten one bumps",
     .answers = {{'A', KAFKA_ERR_NOT_ENOUGH_REPLICAS}, {'B', 0}},
     .fate = {QUEUED, ACKED, QUEUED}, .queue = "AC", .backoff = true,
     .bump = true},
    {.what = "not leader: requeued, leader unknown, metadata wanted",
     .answers = {{'A', KAFKA_ERR_NOT_LEADER_OR_FOLLOWER}},
     .fate = {QUEUED, FLIGHT, QUEUED}, .queue = "AC", .backoff = true,
     .leaderless = true},
    {.what = "out of retries: fails", .no_retries = true,
     .answers = {{'A', KAFKA_ERR_REQUEST_TIMED_OUT}},
     .fate = {FAILED, FLIGHT, QUEUED}, .queue = "C", .bump = true},
    {.what = "message.timeout.ms passed: fails", .expired = true,
     .answers = {{'A', KAFKA_ERR_NOT_ENOUGH_REPLICAS}},
     .fate = {FAILED, FLIGHT, QUEUED}, .queue = "C", .bump = true},
    {.what = "message.timeout.ms passed, yet acked: written",
     .expired = true, .answers = {{'A', 0}},
     .fate = {ACKED, FLIGHT, QUEUED}, .queue = "C", .acked_seq = 3,
     .confirmed = true},
    {.what = "without idempotence: one in flight, a retry at the head (a "
             "dropped connection also asks who leads)",
     .plain = true, .answers = {{'A', KAFKA_ERR_NETWORK_EXCEPTION}},
     .fate = {QUEUED, QUEUED, QUEUED}, .queue = "ABC", .backoff = true,
     .leaderless = true},
    {.what = "without idempotence: a non-retriable error fails, no bump",
     .plain = true, .answers = {{'A', KAFKA_ERR_MESSAGE_TOO_LARGE}},
     .fate = {FAILED, QUEUED, QUEUED}, .queue = "BC"},
    {.what = "without idempotence: a duplicate is an error, not retried",
     .plain = true,
     .answers = {{'A', KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER}},
     .fate = {FAILED, QUEUED, QUEUED}, .queue = "BC"},
};

static void check_fates(struct wf_one *f, const struct settle_case *c,
                        const int32_t *batch, struct produce_req **req)
{
    uint64_t want_acked = 0, want_failed = 0;
    const struct status_client *cl = instance_client(&f->in, WF_CLIENT);

    for (int i = 0; i < 3; i++) {
        uint32_t st = chunk_state(chunk_at(&f->w.pool, batch[i]));
        static const uint32_t want_state[] = {CHUNK_IN_FLIGHT, CHUNK_FREE,
                                              CHUNK_FREE, CHUNK_SEALED};
        assert_int_equal(st, want_state[c->fate[i]]);
        want_acked += c->fate[i] == ACKED ? counts[i] : 0;
        want_failed += c->fate[i] == FAILED ? counts[i] : 0;
    }
    assert_int_equal(acked(f), want_acked);
    assert_int_equal(failed(f), want_failed);
    assert_int_equal(atomic_load(&cl->records_acked), want_acked);
    assert_int_equal(atomic_load(&cl->records_failed), want_failed);
    for (int r = 0; r < 2; r++)
        for (size_t i = 0; req[r] && i < req[r]->n; i++)
            assert_int_equal(req[r]->e[i].done,
                             c->fate[req[r]->e[i].chunk == batch[0] ? 0 : 1] !=
                                 FLIGHT);
}

static void run_settle_case(struct wf_one *f, const struct settle_case *c)
{
    struct wpart *p = partition(f, 0, NODE_A);
    struct produce_req *req[2];
    int32_t batch[3];

    f->s.idempotent = !c->plain;
    f->s.retries = c->no_retries ? 0 : 10;
    f->s.message_timeout_ms = c->expired ? 1 : 300000;
    for (int i = 0; i < 3; i++)
        batch[i] = wf_sealed_batch(&f->w, p, counts[i], (uint64_t)i * 512);
    p->confirmed_ms = mono_ms();
    req[0] = collect(f, NODE_A);
    req[1] = collect(f, NODE_A);
    assert_non_null(req[0]);
    assert_true(c->plain == (req[1] == NULL));
    if (c->expired)
        usleep(2000);
    for (int i = 0; i < 3 && c->answers[i].batch; i++)
        answer(f, req[c->answers[i].batch - 'A'], batch[c->answers[i].batch -
                                                        'A'],
               c->answers[i].error);
    check_fates(f, c, batch, req);
    wf_check_queue(&f->w, p, batch, c->queue);
    if (!c->plain)
        assert_int_equal(p->sp->acked_seq, c->acked_seq);
    assert_int_equal(p->retry_at_ms > mono_ms(), c->backoff);
    assert_int_equal(f->w.bump_pending[SLOT], c->bump);
    assert_int_equal(f->w.newpid_pending[SLOT], c->newpid);
    assert_int_equal(p->leader == -1, c->leaderless);
    assert_int_equal(f->w.metadata_wanted, c->leaderless);
    assert_int_equal(p->confirmed_ms > 0, c->confirmed);
    free(req[0]);
    free(req[1]);
}

static void test_settle(void **state)
{
    struct wf_one *f = *state;

    run_settle_case(f, f->row);
}

/* A client's clock expires no batch: a stamp of 1 (anything a client may
 * write) counts as half of message.timeout.ms before the batch's opening,
 * so sender_expire() leaves a fresh batch queued; batches opened more than
 * that half ago still expire. */
static void test_client_clock_expires_nothing(void **state)
{
    struct wf_one *f = *state;
    struct wpart *p = partition(f, 0, NODE_A);
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    int32_t fresh, old;

    f->s.message_timeout_ms = 300000;
    fresh = wf_sealed_batch(&f->w, p, 2, 0);
    chunk_at(&f->w.pool, fresh)->accepted_ns = 1;
    sender_expire(&f->w);
    assert_int_equal(failed(f), 0);
    assert_int_equal(queue_length(f, p), 1);
    assert_int_equal(chunk_state(chunk_at(&f->w.pool, fresh)), CHUNK_SEALED);

    old = wf_sealed_batch(&f->w, p, 3, 512);
    chunk_at(&f->w.pool, old)->accepted_ns = 1;
    chunk_at(&f->w.pool, old)->opened_ns = now - 200000000000;
    chunk_at(&f->w.pool, fresh)->opened_ns = now - 160000000000;
    sender_expire(&f->w); /* fresh counts 310 s old, old 350 s */
    assert_int_equal(failed(f), 5);
    assert_int_equal(queue_length(f, p), 0);
}

/* ---- the epoch bump ---------------------------------------------------- */

/* The header of every queued batch of p: producer `pid`, `epoch`, and
 * sequences from `seq` on, in queue order; next_seq follows the last. */
static void check_stamps(struct wf_one *f, const struct wpart *p,
                         int64_t pid, int16_t epoch, int32_t seq)
{
    for (int32_t i = p->q_head; i != WRK_NONE; i = f->w.chunk_next[i]) {
        struct pool_chunk *ch = chunk_at(&f->w.pool, i);
        struct batch_meta m = wf_header(ch);
        assert_int_equal(m.producer_id, pid);
        assert_int_equal(m.producer_epoch, epoch);
        assert_int_equal(m.base_sequence, seq);
        seq += m.record_count;
    }
    assert_int_equal(p->sp->next_seq, seq);
}

/*
 * A fails for good (a bump is due) while B is in flight; B's request then
 * times out: B may be written, so the bump waits and B goes again alone,
 * unchanged, until the broker refuses it out of order.  Only then does
 * the slot bump: epoch 1, B and C re-stamped from sequence 0, and so is E
 * of another partition of the slot, whose broker had confirmed D.
 */
static void test_bump_waits_for_flight_and_unsure(void **state)
{
    struct wf_one *f = *state;
    struct wpart *p = partition(f, 0, NODE_A);
    struct produce_req *ra, *rb;
    int32_t a = wf_sealed_batch(&f->w, p, 3, 0);
    int32_t b = wf_sealed_batch(&f->w, p, 2, 192);
    int32_t c = wf_sealed_batch(&f->w, p, 4, 320);
    struct state_slot *ps = instance_pslot(&f->in, SLOT);
    struct wpart *p1 = partition(f, 1, NODE_B);
    int32_t d = wf_sealed_batch(&f->w, p1, 2, 0);

    ra = collect(f, NODE_B);
    answer(f, ra, d, 0);
    free(ra);
    wf_sealed_batch(&f->w, p1, 1, 128); /* E */
    p1->leader = -1; /* E waits */
    assert_true(p1->confirmed_ms > 0);
    assert_int_equal(p1->sp->acked_seq, 2);
    p->confirmed_ms = mono_ms();
    ra = collect(f, NODE_A);
    rb = collect(f, NODE_A);
    answer(f, ra, a, KAFKA_ERR_MESSAGE_TOO_LARGE);
    assert_true(f->w.bump_pending[SLOT]);
    producer_settle(&f->w);
    assert_int_equal(atomic_load(&ps->epoch), 0); /* B in flight */
    answer(f, rb, b, KAFKA_ERR_REQUEST_TIMED_OUT);
    producer_settle(&f->w);
    assert_int_equal(atomic_load(&ps->epoch), 0); /* B unsure */
    check_stamps(f, p, PID + SLOT, 0, 3);
    free(ra);
    free(rb);
    p->retry_at_ms = 0;
    rb = collect(f, NODE_A);
    assert_non_null(rb);
    assert_int_equal(rb->n, 1);
    assert_int_equal(rb->e[0].chunk, b);
    assert_null(collect(f, NODE_A)); /* C is not unsure: it waits */
    answer(f, rb, b, KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    free(rb);
    assert_true(f->w.bump_pending[SLOT]);
    producer_settle(&f->w);
    assert_false(f->w.bump_pending[SLOT]);
    assert_int_equal(atomic_load(&ps->epoch), 1);
    assert_int_equal(atomic_load(&ps->bumps), 1);
    assert_int_equal(p->q_head, b);
    assert_int_equal(f->w.chunk_next[b], c);
    check_stamps(f, p, PID + SLOT, 1, 0);
    check_stamps(f, p1, PID + SLOT, 1, 0);
    assert_int_equal(p1->sp->acked_seq, 0);
    assert_int_equal(p1->confirmed_ms, 0); /* no broker knows epoch 1 */
    assert_int_equal(failed(f), 3);
    assert_int_equal(acked(f), 2);
}

/* Refused out of order with nothing of its partition before it
 * outstanding: an earlier resend cannot fill the gap, so the slot bumps
 * (CHUTE_TEST_SEQUENCE_SKEW makes that gap). */
static void test_out_of_order_without_gap_filler_bumps(void **state)
{
    struct wf_one *f = *state;
    struct wpart *p = partition(f, 0, NODE_A);
    struct produce_req *req;
    int32_t a = wf_sealed_batch(&f->w, p, 3, 0);

    f->w.test_seq_skew = true;
    req = collect(f, NODE_A);
    answer(f, req, a, 0);
    free(req);
    assert_int_equal(p->sp->acked_seq, 3);
    int32_t b = wf_sealed_batch(&f->w, p, 2, 192);
    assert_int_equal(chunk_at(&f->w.pool, b)->base_sequence, 4); /* skewed */
    req = collect(f, NODE_A);
    answer(f, req, b, KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    free(req);
    assert_true(f->w.bump_pending[SLOT]);
    assert_int_equal(p->q_head, b);
    producer_settle(&f->w);
    assert_int_equal(atomic_load(&instance_pslot(&f->in, SLOT)->epoch), 1);
    check_stamps(f, p, PID + SLOT, 1, 0);
    assert_int_equal(p->sp->acked_seq, 0);
}

/* A new producer id re-sequences what waits, once the slot's batches in
 * flight are back. */
static void test_new_producer_id_restamps_waiting_batches(void **state)
{
    struct wf_one *f = *state;
    struct wpart *p = partition(f, 0, NODE_A);
    struct produce_req *req;
    int32_t a = wf_sealed_batch(&f->w, p, 3, 0);

    wf_sealed_batch(&f->w, p, 2, 192);
    req = collect(f, NODE_A);
    assert_int_equal(producer_slot_needing_id(&f->w), -1);
    f->w.newpid_pending[SLOT] = true;
    assert_int_equal(producer_slot_needing_id(&f->w), -1); /* A in flight */
    answer(f, req, a, KAFKA_ERR_INVALID_PRODUCER_EPOCH);
    free(req);
    assert_int_equal(producer_slot_needing_id(&f->w), SLOT);
    assert_null(collect(f, NODE_A));
    producer_install(&f->w, SLOT, PID + 100, 0);
    assert_false(f->w.newpid_pending[SLOT]);
    assert_int_equal(queue_length(f, p), 2);
    check_stamps(f, p, PID + 100, 0, 0);
}

#define TEST(name)                                                            \
    (struct CMUnitTest)cmocka_unit_test_setup_teardown(name, setup,          \
                                                       wf_one_free)

int main(void)
{
    struct CMUnitTest tests[WF_ROWS(collect_cases) + WF_ROWS(settle_cases) +
                            5];
    size_t n = 0;

    wf_add_rows(tests, &n, collect_cases, WF_ROWS(collect_cases),
                sizeof(collect_cases[0]), test_collect, setup, wf_one_free);
    tests[n++] = TEST(test_collect_partitions_of_a_broker);
    wf_add_rows(tests, &n, settle_cases, WF_ROWS(settle_cases),
                sizeof(settle_cases[0]), test_settle, setup, wf_one_free);
    tests[n++] = TEST(test_bump_waits_for_flight_and_unsure);
    tests[n++] = TEST(test_client_clock_expires_nothing);
    tests[n++] = TEST(test_out_of_order_without_gap_filler_bumps);
    tests[n++] = TEST(test_new_producer_id_restamps_waiting_batches);
    assert_int_equal(n, WF_ROWS(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
