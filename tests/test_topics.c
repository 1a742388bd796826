/*
 * test_topics.c: each topic's own settings, from the configuration to the
 * batch.  What the supervisor publishes in the state object's topic
 * settings table (supervisor/topics.c: when a topic is added, and again
 * on a reload, with a new generation), what a worker reads of it
 * (worker/part.c, worker/live.c: when it first sees a topic, and again
 * once the generation moved) and what the accumulator does with it
 * (worker/accum.c: the batch limits at append, linger per open batch,
 * the codec and level at seal, the compression-ratio histogram).
 *
 * A supervisor without a loop (struct sup holding only a configuration
 * and the instance) over a worker fixture's instance in private memory
 * (worker_fixture.h); the worker is worker 0 of 1 and owns every slot.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <unistd.h>

#include "common/err.h"
#include "supervisor/sup.h"
#include "tests/fill.h"
#include "tests/worker_fixture.h"

struct fixture {
    struct wf_one *one; /* the instance and its worker */
    struct sup sup;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    void *one = NULL;

    assert_non_null(f);
    f->one = wf_one_new(&one, 0, 1);
    f->sup.in = f->one->in;
    config_init(&f->sup.cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    void *one = f->one;

    config_release(&f->sup.cfg);
    wf_one_free(&one);
    free(f);
    return 0;
}

/* The supervisor's configuration from `lines` (NULL-terminated), as a
 * start or a reload leaves it. */
static void configure(struct fixture *f, const char *const *lines)
{
    struct config next;

    config_init(&next);
    for (; *lines; lines++)
        if (config_set_arg(&next, *lines) < 0)
            fail_msg("%s: %s", *lines, chute_errmsg());
    assert_int_equal(config_take_runtime(&f->sup.cfg, &next), 0);
    config_release(&next);
}

static const char *const settings[] = {
    "linger.ms=7",
    "topic.logs.*.linger.ms=100",
    "topic.logs.app.compression.codec=lz4",
    "topic.logs.app.compression.level=12",
    "topic.*.batch.num.messages=3",
    NULL,
};

/* Topic id's published value of setting `id`. */
static int32_t published(struct fixture *f, int id, enum topic_setting set)
{
    return atomic_load(&f->sup.in.state->topics.topic[id].values[set]);
}

static uint32_t generation(struct fixture *f)
{
    return atomic_load(&f->sup.in.state->topics.generation);
}

/* ---- what the supervisor publishes ----------------------------------- */

/* A topic added is published with its settings; the table is the
 * configuration's answer for its name. */
static void test_add_publishes(void **state)
{
    struct fixture *f = *state;
    int app, web;

    configure(f, settings);
    app = topics_add(&f->sup, "logs.app", 4);
    web = topics_add(&f->sup, "web", 2);
    assert_int_equal(app, 1); /* 0 is the fixture's */
    assert_int_equal(web, 2);
    assert_int_equal(topics_add(&f->sup, "logs.app", 4), app);
    assert_int_equal(atomic_load(&instance_topic(&f->sup.in, 1)->state),
                     TOPIC_READY);
    assert_int_equal(published(f, app, TOPIC_SET_LINGER_MS), 100);
    assert_int_equal(published(f, app, TOPIC_SET_CODEC), BATCH_CODEC_LZ4);
    assert_int_equal(published(f, app, TOPIC_SET_BATCH_NUM_MESSAGES), 3);
    assert_int_equal(published(f, app, TOPIC_SET_BATCH_SIZE), 1000000);
    assert_int_equal(published(f, app, TOPIC_SET_LEVEL), 12);
    assert_int_equal(published(f, web, TOPIC_SET_LEVEL), -1);
    assert_int_equal(published(f, web, TOPIC_SET_LINGER_MS), 7);
    assert_int_equal(published(f, web, TOPIC_SET_CODEC), BATCH_CODEC_NONE);
    assert_int_equal(published(f, web, TOPIC_SET_BATCH_NUM_MESSAGES), 3);
    for (int set = TOPIC_SET_COUNT; set < TOPIC_SET_MAX; set++)
        assert_int_equal(published(f, app, set), 0);
    /* No reload: no new generation. */
    assert_int_equal(generation(f), 0);
}

/* A reload publishes every ready topic again, then the generation. */
static void test_reload_republishes(void **state)
{
    struct fixture *f = *state;
    static const char *const reloaded[] = {
        "linger.ms=9", "topic.web.compression.type=lz4",
        "topic.logs.?pp.linger.ms=50", NULL};

    configure(f, settings);
    topics_add(&f->sup, "logs.app", 4);
    topics_add(&f->sup, "web", 2);
    topics_publish_settings(&f->sup);
    assert_int_equal(generation(f), 1);
    configure(f, reloaded);
    topics_publish_settings(&f->sup);
    assert_int_equal(generation(f), 2);
    assert_int_equal(published(f, 1, TOPIC_SET_LINGER_MS), 50);
    assert_int_equal(published(f, 1, TOPIC_SET_CODEC), BATCH_CODEC_NONE);
    assert_int_equal(published(f, 1, TOPIC_SET_BATCH_NUM_MESSAGES), 10000);
    assert_int_equal(published(f, 2, TOPIC_SET_LINGER_MS), 9);
    assert_int_equal(published(f, 2, TOPIC_SET_CODEC), BATCH_CODEC_LZ4);
    /* The fixture's topic "t" is ready too: the global values. */
    assert_int_equal(published(f, WF_TOPIC, TOPIC_SET_LINGER_MS), 9);
    assert_int_equal(published(f, WF_TOPIC, TOPIC_SET_BATCH_SIZE), 1000000);
    /* An entry no topic uses stays empty. */
    assert_int_equal(published(f, 3, TOPIC_SET_LINGER_MS), 0);
}

/* Two unrelated globs that meet in a topic's name give a level its codec
 * does not take: the codec's default level is published (and a warning
 * logged), not a level the workers could not use. */
static void test_level_fallback(void **state)
{
    struct fixture *f = *state;
    static const char *const lines[] = {
        "compression.codec=gzip", "topic.a*.compression.level=9",
        "topic.*b.compression.codec=snappy", NULL};
    int ab, ax;

    configure(f, lines);
    ab = topics_add(&f->sup, "ab", 1);
    ax = topics_add(&f->sup, "ax", 1);
    assert_int_equal(published(f, ab, TOPIC_SET_CODEC), BATCH_CODEC_SNAPPY);
    assert_int_equal(published(f, ab, TOPIC_SET_LEVEL), -1);
    assert_int_equal(published(f, ax, TOPIC_SET_CODEC), BATCH_CODEC_GZIP);
    assert_int_equal(published(f, ax, TOPIC_SET_LEVEL), 9);
}

/* ---- what a worker reads ---------------------------------------------- */

/* A worker reads a topic's settings when it first sees the topic, and
 * again only once the generation moved. */
static void test_worker_reads_per_generation(void **state)
{
    struct fixture *f = *state;
    struct wrk *w = &f->one->w;
    static const char *const reloaded[] = {"topic.logs.app.linger.ms=1",
                                           NULL};
    int id;

    configure(f, settings);
    id = topics_add(&f->sup, "logs.app", 4);
    w->topics_seen = generation(f);
    assert_non_null(part_get(w, 0, (uint32_t)id, 0));
    assert_true(w->topics[id].known);
    assert_int_equal(w->topics[id].set.linger_ms, 100);
    assert_int_equal(w->topics[id].set.codec, BATCH_CODEC_LZ4);
    assert_int_equal(w->topics[id].set.batch_num_messages, 3);
    assert_int_equal(w->topics[id].set.batch_size, live_batch_cap(w->in));
    assert_int_equal(w->topics[id].set.level, 12);
    /* Rewritten without a new generation: not read. */
    configure(f, reloaded);
    atomic_store(&f->sup.in.state->topics.topic[id].values[TOPIC_SET_LINGER_MS],
                 1);
    part_topics_apply(w);
    assert_int_equal(w->topics[id].set.linger_ms, 100);
    /* A reload: read. */
    topics_publish_settings(&f->sup);
    part_topics_apply(w);
    assert_int_equal(w->topics_seen, generation(f));
    assert_int_equal(w->topics[id].set.linger_ms, 1);
    assert_int_equal(w->topics[id].set.codec, BATCH_CODEC_NONE);
    assert_int_equal(w->topics[id].set.batch_num_messages, 10000);
}

/* ---- what the accumulator does with them ------------------------------ */

/* 200 bytes of repeated text: compresses well. */
static void text_value(uint8_t *buf, uint32_t i)
{
    (void)i;
    for (size_t k = 0; k < 200; k++)
        buf[k] = fill_byte(k, FILL_TEXT);
}

/* 200 random bytes: do not compress. */
static void random_value(uint8_t *buf, uint32_t i)
{
    (void)i;
    for (size_t k = 0; k < 200; k++)
        buf[k] = fill_byte(k, FILL_RANDOM);
}

/* Writes record i for (topic, partition) into its slot's ring, as a
 * client does, its value from value(), accepted at `accepted_ns`
 * (CLOCK_MONOTONIC). */
static void put_accepted(struct wrk *w, uint32_t topic, int32_t partition,
                         uint32_t i, void (*value)(uint8_t *, uint32_t),
                         int64_t accepted_ns)
{
    struct ring *r = &w->rings[layout_slot_of(topic, partition, WF_SLOTS)];
    struct ring_rec *rec;
    struct wf_rec in;
    uint8_t buf[200];
    uint64_t end;
    uint32_t len;

    value(buf, i);
    wf_rec(&in, partition, 1000 + i, i, buf, sizeof(buf));
    in.h.topic = topic;
    in.h.accepted_ns = accepted_ns;
    len = ring_align((uint32_t)sizeof(in.h) + in.h.tail_len);
    rec = ring_claim(r, len, getpid(), &end);
    assert_non_null(rec);
    memcpy((uint8_t *)rec + 8, (uint8_t *)&in + 8, len - 8);
    ring_commit(rec, len);
}

static void put_value(struct wrk *w, uint32_t topic, int32_t partition,
                      uint32_t i, void (*value)(uint8_t *, uint32_t))
{
    put_accepted(w, topic, partition, i, value, clock_ns(CLOCK_MONOTONIC));
}

static void put(struct wrk *w, uint32_t topic, int32_t partition, uint32_t i)
{
    put_value(w, topic, partition, i, text_value);
}

/* The records of a partition's sealed batches, oldest first, into
 * counts[] (n of them); each batch's codec must be `codec`. */
static void queued(struct wrk *w, struct wpart *p, int16_t codec,
                   uint32_t *counts, size_t *n)
{
    *n = 0;
    for (int32_t i = p->q_head; i != WRK_NONE; i = w->chunk_next[i]) {
        struct pool_chunk *ch = chunk_at(&w->pool, i);
        struct batch_meta m = wf_header(ch);

        assert_int_equal(m.attributes & BATCH_CODEC_MASK, codec);
        counts[(*n)++] = ch->count;
    }
}

/* Two topics, two sets of settings: the records of each are batched by
 * its own batch.num.messages, sealed by its own linger.ms and compressed
 * with its own codec. */
static void test_accum_uses_topic_settings(void **state)
{
    struct fixture *f = *state;
    struct wrk *w = &f->one->w;
    static const char *const lines[] = {
        "topic.fast.linger.ms=0",     "topic.fast.batch.num.messages=2",
        "topic.fast.compression.codec=lz4", "topic.slow.linger.ms=60000",
        "topic.slow.batch.num.messages=4",  NULL};
    uint32_t counts[8];
    size_t n;
    int fast, slow;

    configure(f, lines);
    fast = topics_add(&f->sup, "fast", 1);
    slow = topics_add(&f->sup, "slow", 1);
    for (uint32_t i = 0; i < 5; i++) {
        put(w, (uint32_t)fast, 0, i);
        put(w, (uint32_t)slow, 0, i);
    }
    assert_true(accum_drain(w));
    struct wpart *pf = part_get(w, 0, (uint32_t)fast, 0);
    struct wpart *ps = part_get(w, 0, (uint32_t)slow, 0);
    /* batch.num.messages at append: 2 + 2 sealed, 1 open; 4 sealed, 1. */
    queued(w, pf, BATCH_CODEC_LZ4, counts, &n);
    assert_int_equal(n, 2);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 2);
    queued(w, ps, BATCH_CODEC_NONE, counts, &n);
    assert_int_equal(n, 1);
    assert_int_equal(counts[0], 4);
    assert_int_not_equal(pf->open, WRK_NONE);
    assert_int_not_equal(ps->open, WRK_NONE);
    /* linger.ms per open batch: fast's is due, slow's waits a minute. */
    int64_t next = accum_seal_due(w, false);
    assert_true(next > 50000 && next <= 60000);
    assert_int_equal(pf->open, WRK_NONE);
    assert_int_not_equal(ps->open, WRK_NONE);
    queued(w, pf, BATCH_CODEC_LZ4, counts, &n);
    assert_int_equal(n, 3);
    assert_int_equal(counts[2], 1);
}

/* linger.ms counts from the acceptance of a batch's oldest record, as
 * librdkafka's and the Java producer's count from the send call, not
 * from its drain; a clock a client wrote makes its batch due sooner at
 * most, never later than linger.ms after the drain. */
static void test_linger_from_acceptance(void **state)
{
    struct fixture *f = *state;
    struct wrk *w = &f->one->w;
    static const char *const lines[] = {"topic.aged.linger.ms=60000", NULL};
    int64_t now = clock_ns(CLOCK_MONOTONIC), next;
    int t;

    configure(f, lines);
    t = topics_add(&f->sup, "aged", 2);
    put_accepted(w, (uint32_t)t, 0, 0, text_value, now - 50000000000);
    put_accepted(w, (uint32_t)t, 1, 0, text_value, now + 3600000000000);
    assert_true(accum_drain(w));
    struct wpart *p0 = part_get(w, 0, (uint32_t)t, 0);
    struct wpart *p1 = part_get(w, 0, (uint32_t)t, 1);
    next = accum_seal_due(w, false);
    /* Partition 0's is due 10 s from now, partition 1's a minute. */
    assert_true(next > 9000 && next <= 10000);
    assert_int_not_equal(p0->open, WRK_NONE);
    assert_int_not_equal(p1->open, WRK_NONE);
}

/* A reload reaches what is sealed after it, the batch open at the time
 * included: the codec at seal, the new limits at the next append. */
static void test_reload_reaches_open_batch(void **state)
{
    struct fixture *f = *state;
    struct wrk *w = &f->one->w;
    static const char *const before[] = {"linger.ms=60000", NULL};
    static const char *const after[] = {"linger.ms=60000",
                                        "compression.codec=lz4",
                                        "batch.num.messages=2", NULL};
    uint32_t counts[8];
    size_t n;
    int id;

    configure(f, before);
    id = topics_add(&f->sup, "t2", 1);
    for (uint32_t i = 0; i < 3; i++)
        put(w, (uint32_t)id, 0, i);
    assert_true(accum_drain(w));
    struct wpart *p = part_get(w, 0, (uint32_t)id, 0);
    queued(w, p, BATCH_CODEC_NONE, counts, &n);
    assert_int_equal(n, 0); /* 3 records open */
    configure(f, after);
    topics_publish_settings(&f->sup);
    part_topics_apply(w);
    put(w, (uint32_t)id, 0, 3); /* past 2 records: the open one seals */
    assert_true(accum_drain(w));
    queued(w, p, BATCH_CODEC_LZ4, counts, &n);
    assert_int_equal(n, 1);
    assert_int_equal(counts[0], 3);
    assert_int_equal(chunk_records(chunk_at(&w->pool, p->open)), 1);
}

/* The codec and level at seal; a batch they do not make smaller goes
 * uncompressed, and every batch counts in the compression-ratio
 * histogram (raw / wire x 100: 100 for an uncompressed one). */
static void test_seal_codec_level_and_ratio(void **state)
{
    struct fixture *f = *state;
    struct wrk *w = &f->one->w;
    struct metrics_hist *ratio = &w->metrics->compression;
    static const char *const lines[] = {
        "linger.ms=60000", "compression.codec=zstd",
        "topic.gz.compression.codec=gzip", "topic.gz.compression.level=0",
        NULL};
    uint32_t counts[8];
    size_t n;
    int zs, gz;

    configure(f, lines);
    zs = topics_add(&f->sup, "zs", 1);
    gz = topics_add(&f->sup, "gz", 1);
    for (uint32_t i = 0; i < 4; i++) {
        put_value(w, (uint32_t)zs, 0, i, random_value);
        put(w, (uint32_t)gz, 0, i); /* gzip level 0 stores: no smaller */
    }
    assert_true(accum_drain(w));
    assert_int_equal(accum_seal_due(w, true), -1);
    queued(w, part_get(w, 0, (uint32_t)zs, 0), BATCH_CODEC_NONE, counts, &n);
    assert_int_equal(n, 1);
    queued(w, part_get(w, 0, (uint32_t)gz, 0), BATCH_CODEC_NONE, counts, &n);
    assert_int_equal(n, 1);
    assert_int_equal(atomic_load(&ratio->count), 2);
    assert_int_equal(atomic_load(&ratio->bucket[0]), 2);
    assert_int_equal(atomic_load(&ratio->sum), 200);
    /* Text under zstd: compressed, and counted above 1. */
    for (uint32_t i = 4; i < 8; i++)
        put(w, (uint32_t)zs, 0, i);
    assert_true(accum_drain(w));
    accum_seal_due(w, true);
    assert_int_equal(atomic_load(&ratio->count), 3);
    assert_true(atomic_load(&ratio->sum) > 200 + 300);
    struct wpart *p = part_get(w, 0, (uint32_t)zs, 0);
    assert_int_equal(chunk_at(&w->pool, p->q_tail)->codec, BATCH_CODEC_ZSTD);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_add_publishes),
        TEST(test_reload_republishes),
        TEST(test_level_fallback),
        TEST(test_worker_reads_per_generation),
        TEST(test_accum_uses_topic_settings),
        TEST(test_linger_from_acceptance),
        TEST(test_reload_reaches_open_batch),
        TEST(test_seal_codec_level_and_ratio),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
