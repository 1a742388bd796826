/*
 * test_health.c: supervisor/health.c's decisions without processes.
 *
 * When a run of worker deaths at one slot and ring position quarantines
 * the slot (health_suspect); what a quarantine does to a ring and to the
 * clients whose records it skips (health_quarantine_ring); and the two
 * together as child_cb calls them, over a worker fixture's instance in
 * private memory (worker_fixture.h) and a supervisor without a loop.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "supervisor/sup.h"
#include "tests/worker_fixture.h"

#define HEAD   ((1ULL << 33) + 5 * WF_RING_SIZE + 128)
#define PID    4100 /* the pid of client WF_CLIENT */
#define FORGED 4200 /* a pid that is not the named client's */

/* ---- health_suspect ------------------------------------------------------ */

static const struct {
    const char *name;
    const char *deaths; /* one letter per death: the ring position */
    const char *want;   /* 'q' where that death quarantines, '.' where not */
} suspect_rows[] = {
    {"one death", "a", "."},
    {"twice at one record", "aa", ".q"},
    {"four times at one record", "aaaa", ".q.q"},
    {"moved on, then twice", "abb", "..q"},
    {"back and forth", "abab", "...."},
    {"twice, moved on, twice", "aabb", ".q.q"},
};

static void test_health_suspect(void **state)
{
    (void)state;
    for (size_t i = 0; i < WF_ROWS(suspect_rows); i++) {
        struct health_suspect h = {0};
        const char *d = suspect_rows[i].deaths;

        for (size_t n = 0; d[n]; n++) {
            bool q = health_suspect(&h, HEAD + (uint64_t)(d[n] - 'a') * 64);
            if (q != (suspect_rows[i].want[n] == 'q'))
                fail_msg("%s: death %zu %s", suspect_rows[i].name, n + 1,
                         q ? "quarantines" : "does not quarantine");
        }
    }
}

/* ---- health_quarantine_ring ----------------------------------------------- */

/* A record in `r` at the tail: committed (len > 0) or only claimed. */
static uint64_t put(struct ring *r, uint16_t client, int32_t pid,
                    bool commit)
{
    uint64_t end;
    struct ring_rec *rec = ring_claim(r, 64, pid, &end);

    assert_non_null(rec);
    rec->client = client;
    if (commit)
        ring_commit(rec, 64);
    return end;
}

static void corrupt_word(struct ring *r)
{
    uint64_t tail = ring_tail(r);

    atomic_store((_Atomic int32_t *)(r->data + (tail & r->mask)),
                 RING_FLAG_PAD); /* padding of length 0 */
    atomic_store(&r->prod->tail, tail + RING_ALIGN);
}

static const struct {
    const char *name;
    uint64_t bad_tail; /* 0: the tail the records leave, else head + this */
} ring_rows[] = {
    {"tail as claims left it", 0},
    {"tail 2^40 past head", 1ULL << 40},
    {"tail behind head", (uint64_t)-64},
};

static void test_health_quarantine_ring(void **state)
{
    struct wf_one *f = *state;

    for (size_t i = 0; i < WF_ROWS(ring_rows); i++) {
        struct ring *r = &f->w.rings[i];
        struct status_client *c = instance_client(&f->in, WF_CLIENT);
        uint64_t records, bytes, tail;

        atomic_store(&c->pid, PID);
        atomic_store(&c->records_failed, 0);
        atomic_store(&r->cons->head, HEAD);
        atomic_store(&r->prod->tail, HEAD);
        put(r, WF_CLIENT, PID, true);        /* charged */
        put(r, WF_CLIENT, FORGED, true);     /* not: another pid wrote it */
        put(r, CLIENT_MAX + 5, PID, true);   /* not: no such client */
        corrupt_word(r);                     /* skipped, not a record */
        put(r, WF_CLIENT, PID, false);       /* claimed, being written */
        tail = ring_tail(r) + 128;           /* then two unwritten claims */
        atomic_store(&r->prod->tail, ring_rows[i].bad_tail
                                        ? HEAD + ring_rows[i].bad_tail
                                        : tail);
        bytes = health_quarantine_ring(&f->in, r, &records);
        assert_int_equal(records, 4);
        assert_int_equal(atomic_load(&c->records_failed), 2);
        assert_true(ring_tail(r) == ring_head(r));
        if (ring_rows[i].bad_tail) {
            assert_int_equal(bytes, WF_RING_SIZE);
            assert_true(ring_head(r) == HEAD);
        } else {
            assert_int_equal(bytes, tail - HEAD);
            assert_true(ring_head(r) == tail);
        }
        for (uint32_t b = 0; b < r->size; b++)
            assert_int_equal(r->data[b], 0);
    }
}

/* ---- child_cb's calls ------------------------------------------------------ */

struct fixture {
    struct wf_one *one;
    struct sup sup;
};

static int sup_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    void *one = NULL;

    assert_non_null(f);
    f->one = wf_one_new(&one, 0, 1);
    f->sup.in = f->one->in;
    *state = f;
    return 0;
}

static int sup_teardown(void **state)
{
    struct fixture *f = *state;
    void *one = f->one;

    wf_one_free(&one);
    free(f);
    return 0;
}

/* Worker 1 dies draining slot 2 at `pos` (or, slot 0, elsewhere). */
static void die_at(struct fixture *f, uint32_t slot_plus_1, uint64_t pos)
{
    struct state_worker *st = instance_worker(&f->sup.in, 1);

    atomic_store(&st->drain_slot, slot_plus_1);
    atomic_store(&st->drain_pos, pos);
    health_worker_died(&f->sup, 1);
}

static void test_health_worker_died(void **state)
{
    struct fixture *f = *state;
    struct ring r;
    uint64_t tail;

    instance_ring(&f->sup.in, 2, &r);
    atomic_store(&r.cons->head, HEAD);
    atomic_store(&r.prod->tail, HEAD);
    put(&r, WF_CLIENT, PID, true);
    tail = put(&r, WF_CLIENT, PID, true);
    /* Deaths elsewhere, in a slot past the instance's, or at another
     * record in between, quarantine nothing. */
    die_at(f, 3, HEAD);
    die_at(f, 0, HEAD);
    die_at(f, WF_SLOTS + 1, HEAD);
    assert_int_equal(f->sup.suspects[WF_SLOTS].deaths, 0);
    die_at(f, UINT32_MAX, HEAD);
    die_at(f, 3, HEAD + 64);
    die_at(f, 3, HEAD);
    assert_true(ring_head(&r) == HEAD);
    /* A replacement forgets its predecessor's position... */
    health_worker_started(&f->sup, 1);
    assert_int_equal(atomic_load(&instance_worker(&f->sup.in, 1)->drain_slot),
                     0);
    /* ...and the second death in a row at one record quarantines. */
    die_at(f, 3, HEAD);
    assert_true(ring_head(&r) == tail);
    assert_true(ring_tail(&r) == tail);
    assert_int_equal(atomic_load(&r.cons->corrupt), tail - HEAD);
    assert_int_equal(
        atomic_load(&instance_worker(&f->sup.in, 1)->records_invalid), 2);
}

static int ring_setup(void **state)
{
    wf_one_new(state, 0, 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_suspect),
        cmocka_unit_test_setup_teardown(test_health_quarantine_ring,
                                        ring_setup, wf_one_free),
        cmocka_unit_test_setup_teardown(test_health_worker_died, sup_setup,
                                        sup_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
