/*
 * test_chunk.c: unit tests of worker/chunk.c, the life cycle of a batch in
 * a pool chunk: take, open, append, seal (maybe into a compressed copy,
 * with each codec at several levels), restamp, send, unsend, free; what
 * each move stores, and what a sealed batch holds (header fields,
 * CRC-32C, records, origins).
 *
 * The pool lives in private memory (worker_fixture.h); the worker under
 * test is worker 1 of 2, so its first chunk_take() starts at chunk 4.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "proto/codec.h"
#include "proto/lz4frame.h"
#include "tests/worker_fixture.h"

#define ME 1
#define PART 5 /* any partition of WF_TOPIC */
#define CAP (WF_CHUNK_SIZE - sizeof(struct pool_chunk))

static int setup(void **state)
{
    wf_one_new(state, ME, 2);
    return 0;
}

static const struct chunk_dest dest = {WF_TOPIC, PART, 2};

/* A taken, opened chunk at ring position 640 with `n` records whose values
 * come from value(i); returns it. */
static int32_t filled(struct wf_one *f, uint32_t n,
                      void (*value)(uint32_t i, uint8_t *buf, int32_t *len))
{
    int32_t idx = chunk_take(&f->w.pool);
    struct wf_rec r;
    uint8_t buf[400];
    int32_t len;

    assert_int_not_equal(idx, CHUNK_NONE);
    chunk_open(&f->w.pool, idx, &dest, 640, 1000);
    for (uint32_t i = 0; i < n; i++) {
        value(i, buf, &len);
        wf_rec(&r, PART, 1000 + i, 100 + i, buf, len);
        chunk_append(&f->w.pool, idx, &r.h, r.tail,
                     640 + WF_REC_STEP * (i + 1));
    }
    return idx;
}

/* "record <i>", as wf_rec_n() writes it. */
static void numbered_value(uint32_t i, uint8_t *buf, int32_t *len)
{
    *len = snprintf((char *)buf, 32, "record %u", i);
}

/* 200 bytes of text, the same in every record: compresses well. */
static void text_value(uint32_t i, uint8_t *buf, int32_t *len)
{
    (void)i;
    for (int k = 0; k < 200; k++)
        buf[k] = (uint8_t)"chute batch "[k % 12];
    *len = 200;
}

/* 400 pseudo-random bytes, different in every record: does not. */
static void random_value(uint32_t i, uint8_t *buf, int32_t *len)
{
    uint32_t x = 2463534242u + i * 7919u;

    for (int k = 0; k < 400; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[k] = (uint8_t)x;
    }
    *len = 400;
}

/* Checks that `bytes` holds n records as filled() wrote them with
 * value(): offset deltas 0.., timestamp deltas from base 1000, values. */
static void check_records(const uint8_t *bytes, size_t len, uint32_t n,
                          void (*value)(uint32_t i, uint8_t *buf,
                                        int32_t *len))
{
    struct kreader r;
    struct record_view v;
    uint8_t want[400];
    int32_t want_len;

    kr_init(&r, bytes, len);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(record_parse(&r, &v), 0);
        value(i, want, &want_len);
        assert_int_equal(v.offset_delta, i);
        assert_int_equal(v.ts_delta, i);
        assert_null(v.tail.key);
        assert_int_equal(v.tail.value_len, want_len);
        assert_memory_equal(v.tail.value, want, (size_t)want_len);
    }
    assert_int_equal(kr_left(&r), 0);
}

static void check_origins(struct wf_one *f, struct pool_chunk *ch,
                          uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct chunk_origin *o = chunk_origin(&f->w.pool, ch, i);
        assert_int_equal(o->opaque, 100 + i);
        assert_int_equal(o->ring_end, 640 + WF_REC_STEP * (i + 1));
        assert_int_equal(o->client, WF_CLIENT);
    }
}

static const struct chunk_producer pr = {4242, 7, 1000};

/* ---- take, open, append -------------------------------------------------- */

static void test_take_stores_taker(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_take(&f->w.pool);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);

    assert_int_equal(idx, ME * WF_CHUNKS / 2); /* this worker's place */
    assert_int_equal(chunk_state(ch), CHUNK_OPEN);
    assert_int_equal(ch->worker, ME + 1);
    assert_int_equal(chunk_records(ch), 0);
    assert_int_equal(chunk_take(&f->w.pool), idx + 1);
}

/* A chunk keeps what its previous batch wrote; opening it must not. */
static void test_open_stores_batch_fields(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_take(&f->w.pool);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);

    ch->source = 3;
    ch->wire_len = 999;
    ch->reported = 7;
    ch->producer_id = 5;
    ch->producer_epoch = 5;
    ch->base_sequence = 5;
    ch->codec = BATCH_CODEC_LZ4;
    chunk_open(&f->w.pool, idx, &dest, 640, 1234);
    assert_int_equal(ch->topic, WF_TOPIC);
    assert_int_equal(ch->partition, PART);
    assert_int_equal(ch->slot, 2);
    assert_int_equal(ch->ring_first, 640);
    assert_int_equal(ch->base_ts, 1234);
    assert_int_equal(ch->max_ts, 1234);
    assert_int_equal(ch->source, -1);
    assert_int_equal(ch->wire_len, 0);
    assert_int_equal(ch->reported, 0);
    assert_int_equal(ch->producer_id, -1);
    assert_int_equal(ch->producer_epoch, -1);
    assert_int_equal(ch->base_sequence, -1);
    assert_int_equal(ch->codec, BATCH_CODEC_NONE);
    assert_int_equal(chunk_state(ch), CHUNK_OPEN);
    assert_int_equal(chunk_records(ch), 0);
}

static void test_append_records_and_origins(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_take(&f->w.pool);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    size_t used = 0;
    struct wf_rec r;

    chunk_open(&f->w.pool, idx, &dest, 640, 1000);
    for (uint32_t i = 0; i < 3; i++) {
        wf_rec_n(&r, PART, i);
        r.h.accepted_ns = i == 1 ? now - 5000000000 : 0; /* 0: unknown */
        used += chunk_record_size(&f->w.pool, idx, &r.h);
        chunk_append(&f->w.pool, idx, &r.h, r.tail,
                     640 + WF_REC_STEP * (i + 1));
        assert_int_equal(chunk_records(ch), i + 1);
        assert_int_equal(ch->used, used);
    }
    assert_int_equal(ch->max_ts, 1002);
    assert_int_equal(ch->accepted_ns, now - 5000000000);
    check_origins(f, ch, 3);
    check_records(chunk_data(ch) + BATCH_HEADER_SIZE, ch->used, 3,
                  numbered_value);
}

/* ---- chunk_fits ---------------------------------------------------------- */

/* Rows on a batch of `records` records of U bytes: the new record is
 * `rsize` bytes, or (room) the most that fits the chunk with its origin,
 * plus `extra`; the limit is what the batch then needs (header, U,
 * rsize) plus `slack`. */
struct fits_case {
    const char *what;
    uint32_t records;
    bool room;
    long rsize;
    long slack;
    uint32_t max_records;
    bool want;
};

static const struct fits_case fits_cases[] = {
    {"an empty batch takes anything", 0, false, 100000, -99990, 1, true},
    {"fits below the limit", 2, false, 50, 10, 10, true},
    {"fits exactly at the limit", 2, false, 50, 0, 10, true},
    {"one byte past the limit", 2, false, 50, -1, 10, false},
    {"record count reached", 2, false, 50, 10, 2, false},
    {"one record below the count", 2, false, 50, 10, 3, true},
    {"fills the chunk exactly", 2, true, 0, 0, 10, true},
    {"one byte past the chunk", 2, true, 1, 0, 10, false},
};

static void test_fits(void **state)
{
    struct wf_one *f = *state;

    for (size_t i = 0; i < sizeof(fits_cases) / sizeof(fits_cases[0]); i++) {
        const struct fits_case *c = &fits_cases[i];
        int32_t idx = filled(f, c->records, text_value);
        struct pool_chunk *ch = chunk_at(&f->w.pool, idx);
        size_t origins = sizeof(struct chunk_origin) * (c->records + 1);
        size_t rsize = c->room ? CAP - BATCH_HEADER_SIZE - ch->used - origins
                               : 0;
        rsize += (size_t)c->rsize;
        size_t need = BATCH_HEADER_SIZE + ch->used + rsize;

        print_message("fits: %s\n", c->what);
        assert_int_equal(chunk_fits(&f->w.pool, idx, rsize,
                                    (size_t)((long)need + c->slack),
                                    c->max_records),
                         c->want);
        chunk_free(&f->w.pool, idx);
    }
}

/* ---- seal ---------------------------------------------------------------- */

static void check_header(struct pool_chunk *ch, int16_t codec, uint32_t n)
{
    struct batch_meta m = wf_header(ch);

    assert_int_equal(m.attributes & BATCH_CODEC_MASK, codec);
    assert_int_equal(m.last_offset_delta, n - 1);
    assert_int_equal(m.record_count, n);
    assert_int_equal(m.base_timestamp, 1000);
    assert_int_equal(m.max_timestamp, 1000 + n - 1);
    assert_int_equal(m.producer_id, pr.id);
    assert_int_equal(m.producer_epoch, pr.epoch);
    assert_int_equal(m.base_sequence, pr.base_sequence);
    assert_int_equal(ch->codec, codec);
}

/* Chunk idx is the worker's spare: OPEN, empty, still this worker's. */
static void check_spare(struct wf_one *f, int32_t idx)
{
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);

    assert_int_equal(f->w.pool.spare, idx);
    assert_int_equal(chunk_state(ch), CHUNK_OPEN);
    assert_int_equal(chunk_records(ch), 0);
    assert_int_equal(ch->used, 0);
    assert_int_equal(ch->worker, ME + 1);
}

/* Seals chunk idx, n records of value(), with `codec` at `level`: it
 * must stay in place, uncompressed. */
static struct pool_chunk *
sealed_in_place(struct wf_one *f, int32_t idx, int16_t codec, int16_t level,
                uint32_t n,
                void (*value)(uint32_t i, uint8_t *buf, int32_t *len))
{
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);

    assert_int_equal(chunk_seal(&f->w.pool, idx, codec, level, &pr), idx);
    assert_int_equal(chunk_state(ch), CHUNK_SEALED);
    assert_int_equal(ch->wire_len, BATCH_HEADER_SIZE + ch->used);
    assert_int_equal(ch->source, -1);
    check_header(ch, BATCH_CODEC_NONE, n);
    check_records(chunk_data(ch) + BATCH_HEADER_SIZE, ch->used, n, value);
    return ch;
}

static void test_seal_uncompressed(void **state)
{
    struct wf_one *f = *state;
    struct pool_chunk *ch = sealed_in_place(f, filled(f, 4, text_value),
                                            BATCH_CODEC_NONE, -1, 4,
                                            text_value);

    assert_int_equal(ch->producer_id, pr.id);
    assert_int_equal(ch->producer_epoch, pr.epoch);
    assert_int_equal(ch->base_sequence, pr.base_sequence);
    check_origins(f, ch, 4);
}

/* Compressible records go into a copy that names its source; once the
 * copy is SEALED the original is emptied into the worker's spare. */
static void test_seal_lz4_into_copy(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = filled(f, 10, text_value);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx), *copy;
    uint8_t out[CAP];
    uint32_t used = ch->used;
    int32_t sealed = chunk_seal(&f->w.pool, idx, BATCH_CODEC_LZ4, -1, &pr);

    assert_int_not_equal(sealed, idx);
    copy = chunk_at(&f->w.pool, sealed);
    assert_int_equal(chunk_state(copy), CHUNK_SEALED);
    assert_int_equal(copy->source, idx);
    assert_int_equal(copy->worker, ME + 1);
    assert_int_equal(chunk_records(copy), 10);
    assert_int_equal(copy->used, used);
    assert_true(copy->wire_len < BATCH_HEADER_SIZE + used);
    assert_int_equal(copy->topic, WF_TOPIC);
    assert_int_equal(copy->partition, PART);
    assert_int_equal(copy->slot, 2);
    assert_int_equal(copy->ring_first, 640);
    check_header(copy, BATCH_CODEC_LZ4, 10);
    check_origins(f, copy, 10);
    ssize_t n = lz4frame_decompress(chunk_data(copy) + BATCH_HEADER_SIZE,
                                    copy->wire_len - BATCH_HEADER_SIZE, out,
                                    sizeof(out));
    assert_int_equal(n, used);
    check_records(out, (size_t)n, 10, text_value);
    check_spare(f, idx);
}

static void test_seal_lz4_incompressible_in_place(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = filled(f, 8, random_value);

    sealed_in_place(f, idx, BATCH_CODEC_LZ4, -1, 8, random_value);
    for (int32_t i = 0; i < WF_CHUNKS; i++) /* no copy left taken */
        if (i != idx)
            assert_int_equal(chunk_state(chunk_at(&f->w.pool, i)),
                             CHUNK_FREE);
}

static void test_seal_lz4_no_free_chunk_in_place(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = filled(f, 10, text_value);

    while (chunk_take(&f->w.pool) != CHUNK_NONE)
        ;
    sealed_in_place(f, idx, BATCH_CODEC_LZ4, -1, 10, text_value);
}

/* ---- the spare ------------------------------------------------------------ */

/* The next copy goes into the spare, and its original becomes the spare:
 * compressing keeps one chunk aside, not one per batch. */
static void test_seal_copies_into_spare(void **state)
{
    struct wf_one *f = *state;
    int32_t a = filled(f, 10, text_value), b, sealed_a, sealed_b;

    assert_int_equal(f->w.pool.spare, CHUNK_NONE);
    sealed_a = chunk_seal(&f->w.pool, a, BATCH_CODEC_LZ4, -1, &pr);
    check_spare(f, a);
    b = filled(f, 10, text_value);
    sealed_b = chunk_seal(&f->w.pool, b, BATCH_CODEC_ZSTD, -1, &pr);
    assert_int_equal(sealed_b, a); /* into the spare */
    check_spare(f, b);
    check_header(chunk_at(&f->w.pool, sealed_a), BATCH_CODEC_LZ4, 10);
    check_header(chunk_at(&f->w.pool, sealed_b), BATCH_CODEC_ZSTD, 10);
    assert_int_equal(chunk_at(&f->w.pool, sealed_b)->source, b);
    check_origins(f, chunk_at(&f->w.pool, sealed_b), 10);
}

/* With the pool empty a batch still compresses, into the spare. */
static void test_seal_pool_empty_uses_spare(void **state)
{
    struct wf_one *f = *state;
    int32_t a = filled(f, 10, text_value), b, sealed;

    chunk_seal(&f->w.pool, a, BATCH_CODEC_GZIP, -1, &pr);
    b = filled(f, 10, text_value);
    while (chunk_take(&f->w.pool) != CHUNK_NONE)
        ;
    sealed = chunk_seal(&f->w.pool, b, BATCH_CODEC_SNAPPY, -1, &pr);
    assert_int_equal(sealed, a);
    check_header(chunk_at(&f->w.pool, sealed), BATCH_CODEC_SNAPPY, 10);
    check_spare(f, b);
}

/* An uncompressed seal leaves the spare alone; releasing the pool gives
 * it back. */
static void test_release_frees_spare(void **state)
{
    struct wf_one *f = *state;
    int32_t a = filled(f, 10, text_value);

    chunk_seal(&f->w.pool, a, BATCH_CODEC_LZ4, -1, &pr);
    sealed_in_place(f, filled(f, 8, random_value), BATCH_CODEC_LZ4, -1, 8,
                    random_value);
    check_spare(f, a);
    chunk_pool_release(&f->w.pool);
    assert_int_equal(chunk_state(chunk_at(&f->w.pool, a)), CHUNK_FREE);
    assert_int_equal(chunk_at(&f->w.pool, a)->worker, 0);
    assert_int_equal(f->w.pool.spare, CHUNK_NONE);
}

/* ---- seal with each codec ------------------------------------------------ */

/* A seal with `codec` at `level` of 10 records of text (compressible) or
 * 8 of random bytes (not). */
struct codec_case {
    const char *name;
    int16_t codec, level;
    bool compressible;
};

static const struct codec_case codec_cases[] = {
    {"seal: gzip at its default level", BATCH_CODEC_GZIP, -1, true},
    {"seal: gzip at level 1", BATCH_CODEC_GZIP, 1, true},
    {"seal: gzip at level 9", BATCH_CODEC_GZIP, 9, true},
    {"seal: gzip at level 0 (stored)", BATCH_CODEC_GZIP, 0, false},
    {"seal: snappy", BATCH_CODEC_SNAPPY, -1, true},
    {"seal: snappy at level 0", BATCH_CODEC_SNAPPY, 0, true},
    {"seal: lz4 at its default level", BATCH_CODEC_LZ4, -1, true},
    {"seal: lz4 at level 12 (high compression)", BATCH_CODEC_LZ4, 12, true},
    {"seal: zstd at its default level", BATCH_CODEC_ZSTD, -1, true},
    {"seal: zstd at level 1", BATCH_CODEC_ZSTD, 1, true},
    {"seal: zstd at level 19", BATCH_CODEC_ZSTD, 19, true},
    {"seal: gzip, incompressible", BATCH_CODEC_GZIP, -1, false},
    {"seal: snappy, incompressible", BATCH_CODEC_SNAPPY, -1, false},
    {"seal: lz4, incompressible", BATCH_CODEC_LZ4, -1, false},
    {"seal: zstd, incompressible", BATCH_CODEC_ZSTD, 3, false},
};

/* Compressed: into a copy that names its source, its payload exactly what
 * the codec makes of the records at that level, which decompress to
 * them; the original freed.  Else in place, uncompressed. */
static void test_seal_codec(void **state)
{
    struct wf_one *f = *state;
    const struct codec_case *c = f->row;
    void (*value)(uint32_t, uint8_t *, int32_t *) =
        c->compressible || c->level == 0 ? text_value : random_value;
    uint32_t n = value == text_value ? 10 : 8;
    int32_t idx = filled(f, n, value), sealed;
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx), *copy;
    static uint8_t want[2 * CAP], out[CAP];
    uint32_t used = ch->used;
    ssize_t w, got;

    if (!c->compressible) {
        sealed_in_place(f, idx, c->codec, c->level, n, value);
        return;
    }
    w = codec_compress(c->codec, c->level, chunk_data(ch) + BATCH_HEADER_SIZE,
                       used, want, sizeof(want));
    assert_true(w > 0 && (size_t)w < used);
    sealed = chunk_seal(&f->w.pool, idx, c->codec, c->level, &pr);
    assert_int_not_equal(sealed, idx);
    copy = chunk_at(&f->w.pool, sealed);
    assert_int_equal(chunk_state(copy), CHUNK_SEALED);
    assert_int_equal(copy->source, idx);
    assert_int_equal(copy->used, used);
    assert_int_equal(copy->wire_len, BATCH_HEADER_SIZE + (size_t)w);
    assert_memory_equal(chunk_data(copy) + BATCH_HEADER_SIZE, want, (size_t)w);
    check_header(copy, c->codec, n);
    check_origins(f, copy, n);
    got = codec_decompress(c->codec, chunk_data(copy) + BATCH_HEADER_SIZE,
                           (size_t)w, out, sizeof(out));
    assert_int_equal(got, used);
    check_records(out, (size_t)got, n, value);
    check_spare(f, idx);
}

/* The scratch buffer holds what the worst codec makes of a full chunk. */
static void test_scratch_holds_every_codec(void **state)
{
    struct wf_one *f = *state;

    for (int codec = BATCH_CODEC_NONE; codec <= BATCH_CODEC_ZSTD; codec++)
        assert_true(f->w.pool.scratch_cap >= codec_bound(codec, CAP));
}

/* ---- restamp, send, unsend, free ----------------------------------------- */

static void test_restamp(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_seal(&f->w.pool, filled(f, 10, text_value),
                             BATCH_CODEC_LZ4, -1, &pr);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);
    uint8_t before[CAP];
    uint32_t len = ch->wire_len;
    struct batch_meta m;

    memcpy(before, chunk_data(ch), len);
    chunk_restamp(&f->w.pool, idx, &(struct chunk_producer){4243, 0, 0});
    m = wf_header(ch);
    assert_int_equal(m.producer_id, 4243);
    assert_int_equal(m.producer_epoch, 0);
    assert_int_equal(m.base_sequence, 0);
    assert_int_equal(m.attributes & BATCH_CODEC_MASK, BATCH_CODEC_LZ4);
    assert_int_equal(m.record_count, 10);
    assert_int_equal(ch->producer_id, 4243);
    assert_int_equal(ch->wire_len, len);
    assert_int_equal(chunk_state(ch), CHUNK_SEALED);
    assert_memory_equal(chunk_data(ch) + BATCH_HEADER_SIZE,
                        before + BATCH_HEADER_SIZE, len - BATCH_HEADER_SIZE);
    assert_memory_not_equal(chunk_data(ch), before, BATCH_HEADER_SIZE);
}

static void test_send_unsend_byte_identical(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_seal(&f->w.pool, filled(f, 3, text_value),
                             BATCH_CODEC_NONE, -1, &pr);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);
    uint8_t before[CAP];

    memcpy(before, chunk_data(ch), ch->wire_len);
    assert_ptr_equal(chunk_send(&f->w.pool, idx), chunk_data(ch));
    assert_int_equal(chunk_state(ch), CHUNK_IN_FLIGHT);
    chunk_unsend(&f->w.pool, idx);
    assert_int_equal(chunk_state(ch), CHUNK_SEALED);
    assert_memory_equal(chunk_data(ch), before, ch->wire_len);
    wf_header(ch);
}

static void test_take_exhausts_pool_free_takes_again(void **state)
{
    struct wf_one *f = *state;
    bool seen[WF_CHUNKS] = {false};

    for (int i = 0; i < WF_CHUNKS; i++) {
        int32_t idx = chunk_take(&f->w.pool);
        assert_true(idx >= 0 && idx < WF_CHUNKS);
        assert_false(seen[idx]);
        seen[idx] = true;
    }
    assert_int_equal(chunk_take(&f->w.pool), CHUNK_NONE);
    chunk_open(&f->w.pool, 2, &dest, 0, 1000);
    struct wf_rec r;
    wf_rec_n(&r, PART, 0);
    chunk_append(&f->w.pool, 2, &r.h, r.tail,
                 WF_REC_STEP);
    chunk_free(&f->w.pool, 2);
    assert_int_equal(chunk_state(chunk_at(&f->w.pool, 2)), CHUNK_FREE);
    assert_int_equal(chunk_records(chunk_at(&f->w.pool, 2)), 0);
    assert_int_equal(chunk_at(&f->w.pool, 2)->used, 0);
    assert_int_equal(chunk_at(&f->w.pool, 2)->worker, 0);
    assert_int_equal(chunk_take(&f->w.pool), 2);
    assert_int_equal(chunk_at(&f->w.pool, 2)->worker, ME + 1);
    assert_int_equal(chunk_take(&f->w.pool), CHUNK_NONE);
}

/* The tail is checked once it is in the batch: one that is not a record's
 * tail there (a client rewrote the ring after the header was copied) is
 * not committed, and the batch is as before. */
static void test_append_checks_the_copy(void **state)
{
    struct wf_one *f = *state;
    int32_t idx = chunk_take(&f->w.pool);
    struct pool_chunk *ch = chunk_at(&f->w.pool, idx);
    struct wf_rec r;
    uint32_t used;

    chunk_open(&f->w.pool, idx, &dest, 640, 1000);
    wf_rec_n(&r, PART, 0);
    assert_true(chunk_append(&f->w.pool, idx, &r.h, r.tail, 640 + 64));
    used = ch->used;
    wf_rec_n(&r, PART, 1);
    memset(r.tail, 0xff, r.h.tail_len); /* no varint ends */
    assert_false(chunk_append(&f->w.pool, idx, &r.h, r.tail, 640 + 128));
    assert_int_equal(chunk_records(ch), 1);
    assert_int_equal(ch->used, used);
    wf_rec_n(&r, PART, 1);
    assert_true(chunk_append(&f->w.pool, idx, &r.h, r.tail, 640 + 128));
    assert_int_equal(chunk_records(ch), 2);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, wf_one_free)

int main(void)
{
    const struct CMUnitTest plain[] = {
        TEST(test_take_stores_taker),
        TEST(test_open_stores_batch_fields),
        TEST(test_append_records_and_origins),
        TEST(test_append_checks_the_copy),
        TEST(test_fits),
        TEST(test_seal_uncompressed),
        TEST(test_seal_lz4_into_copy),
        TEST(test_seal_lz4_incompressible_in_place),
        TEST(test_seal_lz4_no_free_chunk_in_place),
        TEST(test_seal_copies_into_spare),
        TEST(test_seal_pool_empty_uses_spare),
        TEST(test_release_frees_spare),
        TEST(test_scratch_holds_every_codec),
        TEST(test_restamp),
        TEST(test_send_unsend_byte_identical),
        TEST(test_take_exhausts_pool_free_takes_again),
    };
    struct CMUnitTest tests[WF_ROWS(plain) + WF_ROWS(codec_cases)];
    size_t n = WF_ROWS(plain);

    memcpy(tests, plain, sizeof(plain));
    wf_add_rows(tests, &n, codec_cases, WF_ROWS(codec_cases),
                sizeof(codec_cases[0]), test_seal_codec, setup, wf_one_free);
    assert_int_equal(n, WF_ROWS(tests));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
