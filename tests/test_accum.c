/*
 * test_accum.c: unit tests of worker/accum.c's drain of a ring whose
 * control block a client scribbled on.
 *
 * One worker owns every slot of an instance in private memory
 * (worker_fixture.h).  Slot VICTIM holds three valid records, then its
 * tail is moved where no claim puts it (far past the head, behind it) and
 * the rest of its ring may hold garbage; slot BYSTANDER holds two valid
 * records.  A few passes of accum_drain() must take all five records,
 * count the rest of the victim's ring as corrupt, put its tail back so
 * that a claim works again, and write nothing outside the victim's ring
 * (the slot after it, which the worker does not own, is filled with a
 * pattern that must survive).
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "tests/worker_fixture.h"

#define VICTIM    1
#define BYSTANDER 0
#define CANARY    2 /* the slot after the victim: untouched */
#define HEAD      ((1ULL << 32) + 3 * WF_RING_SIZE + 256)

enum rest { REST_ZERO, REST_GARBAGE };

static const struct row {
    const char *name;
    uint64_t tail_off; /* tail = head + tail_off (mod 2^64), after records */
    enum rest rest;    /* what the victim's ring holds after the records */
    bool repaired;     /* the tail is put back and the rest counted */
} rows[] = {
    {"tail 2^62 past head", 1ULL << 62, REST_ZERO, true},
    {"tail 2^40 past head", 1ULL << 40, REST_ZERO, true},
    {"tail a ring and 8 past head", WF_RING_SIZE + 8, REST_ZERO, true},
    {"tail 64 behind head", (uint64_t)-64, REST_ZERO, true},
    {"tail unaligned", 3 * 96 + 4, REST_ZERO, true},
    {"tail 2^62, garbage to the end", 1ULL << 62, REST_GARBAGE, true},
    {"sane tail, garbage to it", WF_RING_SIZE, REST_GARBAGE, false},
};

/* Claims and commits one valid record of partition `p` in `slot`. */
static uint64_t put(struct wrk *w, uint32_t slot, int32_t p, uint32_t i)
{
    struct wf_rec r;
    uint32_t len;
    uint64_t end;
    struct ring_rec *rec;

    wf_rec_n(&r, p, i);
    len = ring_align((uint32_t)sizeof(r.h) + r.h.tail_len);
    rec = ring_claim(&w->rings[slot], len, 77, &end);
    assert_non_null(rec);
    memcpy((uint8_t *)rec + 8, (uint8_t *)&r.h + 8, len - 8);
    ring_commit(rec, len);
    return end;
}

/* Words that make no sense (a padding flag with length 0) from `pos` to
 * the ring's end and round to `pos` again: all of the ring not used. */
static void fill_garbage(struct ring *r, uint64_t pos, uint64_t head)
{
    for (uint64_t q = pos; q - head < r->size; q += RING_ALIGN)
        atomic_store((_Atomic int32_t *)(r->data + (q & r->mask)),
                     RING_FLAG_PAD);
}

static void check_ring_zero(const struct ring *r)
{
    for (uint32_t i = 0; i < r->size; i++)
        if (r->data[i])
            fail_msg("victim ring byte %u is 0x%02x", i, r->data[i]);
}

static void test_hostile_tail(void **state)
{
    struct wf_one *f = *state;
    const struct row *row = f->row;
    struct wrk *w = &f->w;
    struct ring *v = &w->rings[VICTIM], *c = &w->rings[CANARY];
    uint64_t end = HEAD, tail;

    atomic_store(&v->cons->head, HEAD);
    atomic_store(&v->prod->tail, HEAD);
    for (uint32_t i = 0; i < 3; i++)
        end = put(w, VICTIM, wf_partition_in(VICTIM, 0), i);
    for (uint32_t i = 0; i < 2; i++)
        put(w, BYSTANDER, wf_partition_in(BYSTANDER, 0), 10 + i);
    if (row->rest == REST_GARBAGE)
        fill_garbage(v, end, HEAD);
    tail = HEAD + row->tail_off;
    atomic_store(&v->prod->tail, tail);
    w->owned[CANARY] = false;
    memset(c->prod, 0x5a, sizeof(*c->prod) + c->size);
    for (int pass = 0; pass < 3; pass++)
        accum_drain(w);
    assert_int_equal(atomic_load(&w->stats->records_sent), 5);
    assert_int_equal(atomic_load(&w->stats->records_invalid), 0);
    if (row->repaired) {
        if (ring_tail(v) != ring_head(v))
            fail_msg("head %llu tail %llu",
                     (unsigned long long)(ring_head(v) - HEAD),
                     (unsigned long long)(ring_tail(v) - HEAD));
        assert_true(atomic_load(&v->cons->corrupt) > 0);
    } else {
        assert_true(ring_tail(v) == tail);
        assert_true(ring_head(v) == tail);
        assert_int_equal(atomic_load(&v->cons->corrupt), tail - end);
    }
    check_ring_zero(v);
    for (uint32_t i = 0; i < sizeof(*c->prod) + c->size; i++)
        if (((uint8_t *)c->prod)[i] != 0x5a)
            fail_msg("byte %u of the next slot was written", i);
    /* Claims work again, and the worker takes what they commit. */
    put(w, VICTIM, wf_partition_in(VICTIM, 0), 3);
    accum_drain(w);
    assert_int_equal(atomic_load(&w->stats->records_sent), 6);
}

static int setup(void **state)
{
    wf_one_new(state, 0, 1);
    return 0;
}

/* A record that names a client entry of another uid is batched but
 * counted and reported to nobody; a record of a topic its user may not
 * write (acl) is refused and counted for the user. */
static void test_foreign_records(void **state)
{
    struct wf_one *f = *state;
    struct wrk *w = &f->w;
    struct status_client *victim = instance_client(w->in, WF_CLIENT);
    struct status_user *u = instance_user(w->in, 0);
    int32_t p = wf_partition_in(0, 0);
    struct wpart *part;

    atomic_store(&victim->pid, 77); /* put() writes as pid 77 */
    atomic_store(&victim->uid, 1000);
    atomic_store(&u->uid, 2000);    /* the slot's user is another uid */
    put(w, 0, p, 0);
    accum_drain(w);
    part = part_get(w, 0, WF_TOPIC, p);
    assert_int_equal(atomic_load(&w->stats->records_sent), 1);
    assert_true(part->open != WRK_NONE);
    assert_int_equal(chunk_origin(&w->pool, chunk_at(&w->pool, part->open), 0)
                         ->client,
                     RESOLVE_NOBODY);
    atomic_store(&u->uid, 1000);    /* now it is the writer's own */
    put(w, 0, p, 1);
    accum_drain(w);
    assert_int_equal(chunk_origin(&w->pool, chunk_at(&w->pool, part->open), 1)
                         ->client,
                     WF_CLIENT);
    atomic_store(&u->topics[WF_TOPIC / 64], 0); /* acl: not this topic */
    put(w, 0, p, 2);
    accum_drain(w);
    assert_int_equal(atomic_load(&w->stats->records_sent), 2);
    assert_int_equal(atomic_load(&w->stats->records_invalid), 1);
    assert_int_equal(atomic_load(&u->refused), 1);
}

int main(void)
{
    struct CMUnitTest tests[WF_ROWS(rows) + 1];
    size_t n = 0;

    wf_add_rows(tests, &n, rows, WF_ROWS(rows), sizeof(rows[0]),
                test_hostile_tail, setup, wf_one_free);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(
        test_foreign_records, setup, wf_one_free);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
