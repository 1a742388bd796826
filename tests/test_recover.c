/*
 * test_recover.c: unit tests of worker/recover.c, a worker taking over the
 * batches of its slots from the pool (docs/crash-consistency.md).
 *
 * The pool and the state and intake tables live in private memory.  The
 * worker under test is worker 1 and owns the odd slots; worker 0, alive,
 * owns the even ones.  Each test plants chunks as a dead predecessor or a
 * running worker 0 would have left them at the moment worker 1 starts,
 * runs recover_slots(), and checks what it adopted, freed and left alone.
 * A chunk another worker may be using must come out untouched.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>
#include <string.h>

#include "proto/batch.h"
#include "worker/chunk.h"
#include "worker/wrk.h"

#define SLOTS 4
#define RING_SIZE 4096
#define CHUNKS 8
#define CHUNK_SIZE 8192
#define PARTITIONS 16
#define TOPIC 0
#define ME 1    /* the recovering worker: odd slots */
#define OTHER 0 /* a live worker: even slots */

struct fixture {
    struct instance in;
    struct wrk_settings s;
    struct wrk w;
};

static void layout(struct instance *in)
{
    in->slots = SLOTS;
    in->ring_size = RING_SIZE;
    in->topics_off = sizeof(struct intake_header);
    in->slots_off = in->topics_off + TOPIC_MAX * sizeof(struct intake_topic);
    in->slot_stride = sizeof(struct ring_ctl) + RING_SIZE;
    in->intake_size = in->slots_off + SLOTS * in->slot_stride;
    in->pslots_off = sizeof(struct state_header);
    in->partitions_off = in->pslots_off + SLOT_MAX * sizeof(struct state_slot);
    in->pool_off =
        in->partitions_off + PARTITION_MAX * sizeof(struct state_partition);
    in->chunk_size = CHUNK_SIZE;
    in->chunk_count = CHUNKS;
    in->state_size = in->pool_off + (size_t)CHUNK_SIZE * CHUNKS;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct intake_topic *t;

    assert_non_null(f);
    layout(&f->in);
    f->in.intake = calloc(1, f->in.intake_size);
    f->in.state = calloc(1, f->in.state_size);
    assert_non_null(f->in.intake);
    assert_non_null(f->in.state);
    t = instance_topic(&f->in, TOPIC);
    strcpy(t->name, "t");
    atomic_store(&t->partitions, PARTITIONS);
    atomic_store(&t->state, TOPIC_READY);
    f->s.batch_size = 4096;
    f->s.max_record = 4096;
    f->s.batch_num_messages = 10;
    f->s.worker_count = 2;
    f->w.in = &f->in;
    f->w.s = &f->s;
    f->w.index = ME;
    f->w.slot_count = SLOTS;
    f->w.topics[TOPIC].known = true; /* no metadata request from a test */
    for (uint32_t s = 0; s < SLOTS; s++) {
        instance_ring(&f->in, s, &f->w.rings[s]);
        f->w.owned[s] = s % 2 == ME;
    }
    assert_int_equal(chunk_pool_init(&f->w.pool, &f->in, ME, 2), 0);
    assert_int_equal(part_init(&f->w), 0);
    assert_int_equal(resolve_init(&f->w), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    resolve_release(&f->w);
    part_release(&f->w);
    chunk_pool_release(&f->w.pool);
    free(f->in.intake);
    free(f->in.state);
    free(f);
    return 0;
}

/* The n-th partition of the topic whose slot is `slot`. */
static int32_t partition_in(uint32_t slot, int n)
{
    for (int32_t p = 0; p < PARTITIONS; p++)
        if (layout_slot_of(TOPIC, p, SLOTS) == slot && n-- == 0)
            return p;
    fail_msg("no partition %d in slot %u", n, slot);
    return -1;
}

/* What a chunk holds when a worker starts: the fields its taker wrote. */
struct plant {
    uint32_t state;
    int32_t taker;     /* worker index, -1: not stamped yet */
    int32_t partition; /* of TOPIC; its slot follows */
    uint32_t count;    /* records; 0: taken, not filled */
    int32_t source;    /* compressed copy of chunk `source`, or -1 */
    uint64_t ring_first;
};

static struct pool_chunk *plant(struct fixture *f, uint32_t idx,
                                const struct plant *p)
{
    struct pool_chunk *ch = instance_chunk(&f->in, idx);
    uint32_t used = p->count * 16;

    ch->topic = TOPIC;
    ch->partition = p->partition;
    ch->slot = layout_slot_of(TOPIC, p->partition, SLOTS);
    ch->source = p->source;
    ch->ring_first = p->ring_first;
    ch->producer_id = -1;
    ch->base_sequence = -1;
    ch->producer_epoch = -1;
    ch->wire_len = p->state >= CHUNK_SEALED ? BATCH_HEADER_SIZE + used : 0;
    for (uint32_t i = 0; i < p->count; i++)
        chunk_origin(&f->w.pool, ch, i)->ring_end = p->ring_first + 64 * (i + 1);
    ch->worker = p->taker + 1;
    atomic_store(&ch->fill, ((union chunk_fill){.count = p->count,
                                                .used = used}).word);
    atomic_store(&ch->state, p->state);
    return ch;
}

static uint32_t state_of(struct fixture *f, uint32_t idx)
{
    return atomic_load(&instance_chunk(&f->in, idx)->state);
}

static void recover(struct fixture *f)
{
    assert_int_equal(recover_slots(&f->w, f->w.owned), 0);
}

/* True if chunk idx is in the worker's list of unresolved chunks. */
static bool listed(struct fixture *f, int32_t idx)
{
    for (uint32_t s = 0; s < SLOTS; s++)
        for (int32_t c = f->w.slot_first[s]; c != WRK_NONE;
             c = f->w.slot_next[c])
            if (c == idx)
                return true;
    return false;
}

/* ---- what a dead predecessor left ------------------------------------- */

static void test_adopts_sealed_and_open_batches(void **state)
{
    struct fixture *f = *state;
    int32_t part = partition_in(1, 0);

    plant(f, 2, &(struct plant){CHUNK_SEALED, ME, part, 3, -1, 0});
    plant(f, 5, &(struct plant){CHUNK_IN_FLIGHT, ME, part, 2, -1, 192});
    plant(f, 3, &(struct plant){CHUNK_OPEN, ME, part, 1, -1, 320});
    recover(f);
    struct wpart *p = part_get(&f->w, TOPIC, part);
    assert_int_equal(p->q_head, 2);
    assert_int_equal(f->w.chunk_next[2], 5);
    assert_int_equal(p->open, 3);
    assert_int_equal(state_of(f, 5), CHUNK_SEALED); /* goes again */
    assert_int_equal(f->w.slot_first[1], 2);
    assert_int_equal(f->w.slot_last[1], 3);
}

static void test_frees_empty_chunk_predecessor_took(void **state)
{
    struct fixture *f = *state;

    /* Taken by our index, which died before the first record; its slot
     * still names the batch the chunk held before (another worker's). */
    plant(f, 4, &(struct plant){CHUNK_OPEN, ME, partition_in(0, 0), 0, -1, 0});
    recover(f);
    assert_int_equal(state_of(f, 4), CHUNK_FREE);
}

static void test_unfinished_copy_goes_original_stays(void **state)
{
    struct fixture *f = *state;
    int32_t part = partition_in(3, 0);

    plant(f, 1, &(struct plant){CHUNK_OPEN, ME, part, 4, -1, 64});
    plant(f, 6, &(struct plant){CHUNK_OPEN, ME, part, 4, 1, 64});
    recover(f);
    assert_int_equal(state_of(f, 6), CHUNK_FREE);
    assert_int_equal(part_get(&f->w, TOPIC, part)->open, 1);
}

static void test_sealed_copy_replaces_original(void **state)
{
    struct fixture *f = *state;
    int32_t part = partition_in(3, 0);

    plant(f, 1, &(struct plant){CHUNK_OPEN, ME, part, 4, -1, 64});
    plant(f, 6, &(struct plant){CHUNK_SEALED, ME, part, 4, 1, 64});
    recover(f);
    assert_int_equal(state_of(f, 1), CHUNK_FREE);
    assert_int_equal(part_get(&f->w, TOPIC, part)->q_head, 6);
    assert_false(listed(f, 1));
}

static void test_drops_batch_that_makes_no_sense(void **state)
{
    struct fixture *f = *state;
    struct pool_chunk *ch =
        plant(f, 7, &(struct plant){CHUNK_SEALED, ME, partition_in(1, 0), 2,
                                    -1, 0});

    ch->partition = PARTITIONS + 3; /* not a partition of the topic */
    recover(f);
    assert_int_equal(state_of(f, 7), CHUNK_FREE);
    assert_false(listed(f, 7));
}

/* ---- what a running worker holds --------------------------------------- */

/* Worker 0 has just taken chunk 2 from the pool (the CAS to OPEN) and not
 * yet written its batch's fields: they still name the batch the chunk
 * held before, one of worker 1's slots.  Freeing it would hand worker 0's
 * next batch to whoever takes the chunk next. */
static void test_leaves_chunk_another_worker_just_took(void **state)
{
    struct fixture *f = *state;
    int32_t mine = partition_in(1, 0);

    plant(f, 2, &(struct plant){CHUNK_OPEN, -1, mine, 0, -1, 0});
    plant(f, 3, &(struct plant){CHUNK_OPEN, OTHER, mine, 0, -1, 0});
    recover(f);
    assert_int_equal(state_of(f, 2), CHUNK_OPEN);
    assert_int_equal(state_of(f, 3), CHUNK_OPEN);
    assert_false(listed(f, 2));
    assert_false(listed(f, 3));
}

/* A predecessor's sealed compressed copy names its original, which it
 * freed; worker 0 has just taken that chunk again, fields not yet
 * written.  It is not the original. */
static void test_leaves_taken_chunk_a_sealed_copy_names(void **state)
{
    struct fixture *f = *state;
    int32_t mine = partition_in(3, 0);

    plant(f, 0, &(struct plant){CHUNK_OPEN, OTHER, mine, 0, -1, 128});
    plant(f, 5, &(struct plant){CHUNK_SEALED, ME, mine, 4, 0, 128});
    recover(f);
    assert_int_equal(state_of(f, 0), CHUNK_OPEN);
    assert_false(listed(f, 0));
    assert_int_equal(part_get(&f->w, TOPIC, mine)->q_head, 5);
}

static void test_leaves_other_slots(void **state)
{
    struct fixture *f = *state;
    int32_t theirs = partition_in(2, 0);

    plant(f, 1, &(struct plant){CHUNK_OPEN, OTHER, theirs, 5, -1, 0});
    plant(f, 4, &(struct plant){CHUNK_SEALED, OTHER, theirs, 5, -1, 0});
    recover(f);
    assert_int_equal(state_of(f, 1), CHUNK_OPEN);
    assert_int_equal(state_of(f, 4), CHUNK_SEALED);
    assert_false(listed(f, 1));
    assert_false(listed(f, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_adopts_sealed_and_open_batches,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_frees_empty_chunk_predecessor_took, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unfinished_copy_goes_original_stays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sealed_copy_replaces_original,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_drops_batch_that_makes_no_sense,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_leaves_chunk_another_worker_just_took, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_leaves_taken_chunk_a_sealed_copy_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leaves_other_slots, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
