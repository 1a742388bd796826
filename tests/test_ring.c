/*
 * test_ring.c: unit tests of shm/ring.c, the MPSC record ring of a slot.
 *
 * Single-process tests drive the producer and the consumer side by hand and
 * check every step against a model of the ring (positions, padding, zeroed
 * free space).  The concurrent and dead-writer tests fork real writer
 * processes on a MAP_SHARED mapping, as clients would.  The corrupt-input
 * tests write garbage where records should be and check that ring_peek()
 * never reports a length beyond the tail or the end of the ring; the
 * hostile-position tests do the same for head and tail words a client
 * scribbled on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proc.h"
#include "shm/ring.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HDR          ((uint32_t)sizeof(struct ring_rec))
/* Bytes of a record with `tl` body bytes, as a constant expression. */
#define REC_LEN(tl)                                                            \
    ((HDR + (tl) + RING_ALIGN - 1) & ~(uint32_t)(RING_ALIGN - 1))

/* ---- helpers ------------------------------------------------------------ */

/* Every test runs twice (main): with the consumer zeroing in cache, then
 * with streaming stores, as a worker's intake rings do (ring.h). */
static bool stream_zero;

/* A ring in memory of its own: malloc'ed to the exact size (so that ASan
 * sees any read past the end of the data), or MAP_SHARED for fork(). */
struct tring {
    void *mem;
    size_t bytes;
    bool shared;
    struct ring r;
};

static void tring_open(struct tring *t, uint32_t size, bool shared)
{
    t->bytes = sizeof(struct ring_ctl) + size;
    t->shared = shared;
    if (shared) {
        t->mem = mmap(NULL, t->bytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(t->mem != MAP_FAILED);
    } else {
        t->mem = malloc(t->bytes);
        assert_non_null(t->mem);
        memset(t->mem, 0xa5, t->bytes); /* ring_format must clear this */
    }
    ring_attach_ctl(&t->r, (struct ring_ctl *)t->mem, size);
    t->r.stream_zero = stream_zero;
    ring_format(&t->r);
}

static void tring_close(struct tring *t)
{
    if (t->shared)
        munmap(t->mem, t->bytes);
    else
        free(t->mem);
}

/* Makes the (empty) ring start at position `pos`, as if it had been used. */
static void tring_at(struct tring *t, uint64_t pos)
{
    atomic_store(&t->r.cons->head, pos);
    atomic_store(&t->r.prod->tail, pos);
}

static uint32_t mix32(uint32_t a, uint32_t b)
{
    uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca6bu;

    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

static uint32_t rnd_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 11);
}

static uint8_t payload_byte(uint32_t id, uint32_t seq, uint32_t i)
{
    return (uint8_t)mix32(mix32(id, seq), i);
}

/* Fills a claimed record: writer id in `client` and `topic`, sequence in
 * `partition`, a payload derived from both. */
static void rec_fill(struct ring_rec *rec, uint32_t id, uint32_t seq,
                     uint32_t tail_len)
{
    uint8_t *body = (uint8_t *)(rec + 1);

    rec->client = (uint16_t)id;
    rec->reserved = 0;
    rec->topic = id;
    rec->partition = (int32_t)seq;
    rec->tail_len = tail_len;
    rec->timestamp = (int64_t)id << 32 | seq;
    for (uint32_t i = 0; i < tail_len; i++)
        body[i] = payload_byte(id, seq, i);
}

/* True if `rec` is the record rec_fill() wrote for (id, seq, tail_len). */
static bool rec_intact(const struct ring_rec *rec, uint32_t id, uint32_t seq,
                       uint32_t tail_len)
{
    const uint8_t *body = (const uint8_t *)(rec + 1);

    if (rec->client != id || rec->topic != id ||
        rec->partition != (int32_t)seq || rec->tail_len != tail_len ||
        rec->timestamp != ((int64_t)id << 32 | seq))
        return false;
    for (uint32_t i = 0; i < tail_len; i++)
        if (body[i] != payload_byte(id, seq, i))
            return false;
    return true;
}

static uint32_t rec_len(uint32_t tail_len)
{
    return ring_align(HDR + tail_len);
}

/* Claims, fills and commits one record; asserts the claim succeeded. */
static uint64_t put(struct ring *r, int32_t pid, uint32_t id, uint32_t seq,
                    uint32_t tail_len)
{
    uint32_t len = rec_len(tail_len);
    uint64_t end = 0;
    struct ring_rec *rec = ring_claim(r, len, pid, &end);

    assert_non_null(rec);
    rec_fill(rec, id, seq, tail_len);
    ring_commit(rec, len);
    return end;
}

/* Every byte a producer could claim next, [tail, head + size), is zero. */
static void assert_free_zero(const struct ring *r)
{
    uint64_t tail = ring_tail(r), head = ring_head(r);

    assert_true(tail - head <= r->size);
    for (uint64_t p = tail; p < head + r->size; p++)
        if (r->data[p & r->mask] != 0)
            fail_msg("free byte at position %llu (index %u) is 0x%02x",
                     (unsigned long long)p, (unsigned)(p & r->mask),
                     r->data[p & r->mask]);
}

/* What ring_peek() may ever report at `pos`: a length that stays within the
 * tail (as far as the consumer believes it, ring_limit()) and the end of
 * the ring, exactly RING_ALIGN when corrupt. */
static void assert_view_sane(const struct ring *r, uint64_t pos,
                             enum ring_peek k, const struct ring_view *v)
{
    uint64_t tail = ring_limit(r);
    uint32_t room = r->size - (uint32_t)(pos & r->mask);

    if (k == RING_EMPTY) {
        assert_true(tail - pos == 0 || tail - pos > r->size);
        return;
    }
    assert_true(tail - pos > 0 && tail - pos <= r->size);
    if (pos % RING_ALIGN) { /* a head a client wrote: to the next word */
        assert_int_equal(k, RING_CORRUPT);
        assert_int_equal(v->len, RING_ALIGN - pos % RING_ALIGN);
        return;
    }
    assert_true(v->len >= RING_ALIGN);
    assert_int_equal(v->len % RING_ALIGN, 0);
    assert_true(v->len <= room);
    assert_true(v->len <= tail - pos);
    if (k == RING_CORRUPT)
        assert_int_equal(v->len, RING_ALIGN);
    if (k == RING_RECORD) {
        assert_ptr_equal(v->rec, r->data + (pos & r->mask));
        assert_true(v->len >= HDR);
    }
}

/* ---- 1. single records -------------------------------------------------- */

static const struct {
    uint64_t pos;      /* where the empty ring starts */
    uint32_t tail_len; /* body bytes */
} single_vec[] = {
    {0, 0},
    {0, 1},
    {0, 7},
    {0, 8},
    {0, 9},
    {8, 100},
    {4096 - REC_LEN(0), 0},   /* exactly fills the end of the ring */
    {4096 - REC_LEN(24), 24}, /* likewise, with a body */
    {5 * 4096 + 40, 255},     /* a later lap */
    {(1ULL << 40) + 16, 1000},
    {(1ULL << 32) - REC_LEN(0), 0}, /* ends exactly at 2^32 */
};

static void test_ring_single(void **state)
{
    struct tring t;
    struct ring_view v;
    int32_t me = (int32_t)getpid();

    (void)state;
    tring_open(&t, 4096, false);
    for (size_t i = 0; i < ARRAY_LEN(single_vec); i++) {
        uint64_t pos = single_vec[i].pos, end = 0;
        uint32_t tl = single_vec[i].tail_len, len = rec_len(tl);

        tring_at(&t, pos);
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_EMPTY);

        struct ring_rec *rec = ring_claim(&t.r, len, me, &end);
        assert_non_null(rec);
        assert_ptr_equal(rec, t.r.data + (pos & t.r.mask));
        assert_int_equal((uintptr_t)rec % RING_ALIGN, 0);
        assert_true(end == pos + len);
        assert_true(ring_tail(&t.r) == end);
        assert_true(ring_head(&t.r) == pos);

        /* claimed: pending, owned by us, with the claimed length */
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_PENDING);
        assert_int_equal(v.pid, me);
        assert_int_equal(v.len, len);
        assert_ptr_equal(v.rec, rec);
        rec_fill(rec, 7, (uint32_t)i, tl);
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_PENDING);
        assert_int_equal(ring_peek(&t.r, end, &v), RING_EMPTY);

        ring_commit(rec, len);
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_RECORD);
        assert_ptr_equal(v.rec, rec);
        assert_int_equal(v.len, len);
        assert_true(rec_intact(v.rec, 7, (uint32_t)i, tl));
        assert_view_sane(&t.r, pos, RING_RECORD, &v);
        assert_int_equal(ring_peek(&t.r, end, &v), RING_EMPTY);

        ring_consume(&t.r, end);
        assert_true(ring_head(&t.r) == end);
        assert_int_equal(ring_peek(&t.r, end, &v), RING_EMPTY);
        for (uint32_t b = 0; b < t.r.size; b++)
            assert_int_equal(t.r.data[b], 0);
    }
    tring_close(&t);
}

/* Between the claim's CAS and its header store the word still reads 0:
 * pending, writer unknown, and never a length. */
static void test_ring_claimed_unwritten(void **state)
{
    struct tring t;
    struct ring_view v;

    (void)state;
    tring_open(&t, 4096, false);
    tring_at(&t, 4096 + 64);
    atomic_store(&t.r.prod->tail, 4096 + 64 + 96);
    assert_int_equal(ring_peek(&t.r, 4096 + 64, &v), RING_PENDING);
    assert_int_equal(v.pid, 0);
    assert_null(v.rec);
    assert_int_equal(v.len, RING_ALIGN);
    tring_close(&t);
}

/* Records of 64 bytes fill a 4096-byte ring exactly; the next claim of any
 * size fails and leaves the tail alone, and one consume makes room. */
static void test_ring_full(void **state)
{
    struct tring t;
    struct ring_view v;
    uint64_t end = 0, tail;
    uint32_t n = 0;

    (void)state;
    tring_open(&t, 4096, false);
    while (ring_claim(&t.r, 64, 1, &end) != NULL) {
        ring_commit((struct ring_rec *)(t.r.data + ((end - 64) & t.r.mask)),
                    64);
        n++;
        assert_true(n <= 64);
    }
    assert_int_equal(n, 64);
    tail = ring_tail(&t.r);
    assert_true(tail == 4096);
    assert_null(ring_claim(&t.r, HDR, 1, &end));
    assert_null(ring_claim(&t.r, RING_ALIGN, 1, &end));
    assert_true(ring_tail(&t.r) == tail);

    assert_int_equal(ring_peek(&t.r, 0, &v), RING_RECORD);
    ring_consume(&t.r, v.len);
    assert_null(ring_claim(&t.r, 128, 1, &end));
    assert_non_null(ring_claim(&t.r, 64, 1, &end));
    assert_true(end == 4096 + 64);
    tring_close(&t);
}

/* ---- 2. wrap ------------------------------------------------------------ */

#define WRAP_RECORDS 30000
#define WRAP_FIFO    256 /* > 4096 / HDR records in flight */

struct wrap_model {
    uint32_t seq[WRAP_FIFO];
    uint32_t tail_len[WRAP_FIFO];
    uint32_t first, count;
    uint64_t pos; /* consumer position */
    uint32_t next_seq, read, pads, fulls;
};

/* Produces one record of `tl` body bytes; predicts whether it fits and
 * where padding goes, and checks ring_claim() does exactly that.  Returns
 * false if the ring was full. */
static bool wrap_produce(struct tring *t, struct wrap_model *m, uint32_t tl)
{
    struct ring *r = &t->r;
    struct ring_view v;
    uint32_t len = rec_len(tl);
    uint64_t tail = ring_tail(r), head = ring_head(r), end = 0;
    uint32_t room = r->size - (uint32_t)(tail & r->mask);
    uint32_t pad = len > room ? room : 0;
    struct ring_rec *rec = ring_claim(r, len, 42, &end);

    if (tail + pad + len - head > r->size) {
        assert_null(rec);
        assert_true(ring_tail(r) == tail);
        m->fulls++;
        return false;
    }
    assert_non_null(rec);
    assert_ptr_equal(rec, r->data + ((tail + pad) & r->mask));
    assert_true(end == tail + pad + len);
    if (pad) {
        assert_int_equal(ring_peek(r, tail, &v), RING_PADDING);
        assert_int_equal(v.len, pad);
        assert_int_equal(((tail + pad) & r->mask), 0);
    }
    rec_fill(rec, 3, m->next_seq, tl);
    ring_commit(rec, len);
    m->seq[(m->first + m->count) % WRAP_FIFO] = m->next_seq++;
    m->tail_len[(m->first + m->count) % WRAP_FIFO] = tl;
    m->count++;
    assert_true(m->count < WRAP_FIFO);
    return true;
}

/* Reads up to `n` records in order, then consumes all it read. */
static void wrap_consume(struct tring *t, struct wrap_model *m, uint32_t n)
{
    struct ring *r = &t->r;
    struct ring_view v;
    enum ring_peek k;

    while (n > 0 && (k = ring_peek(r, m->pos, &v)) != RING_EMPTY) {
        assert_view_sane(r, m->pos, k, &v);
        if (k == RING_PADDING) {
            m->pads++;
            assert_int_equal((m->pos + v.len) & r->mask, 0);
        } else {
            assert_int_equal(k, RING_RECORD);
            assert_true(m->count > 0);
            assert_true(
                rec_intact(v.rec, 3, m->seq[m->first], m->tail_len[m->first]));
            assert_int_equal(v.len, rec_len(m->tail_len[m->first]));
            m->first = (m->first + 1) % WRAP_FIFO;
            m->count--;
            m->read++;
            n--;
        }
        m->pos += v.len;
    }
    ring_consume(r, m->pos);
    assert_true(ring_head(r) == m->pos);
    assert_free_zero(r);
}

static void test_ring_wrap(void **state)
{
    static struct wrap_model m;
    struct tring t;
    uint64_t rng = 0x9e3779b97f4a7c15ULL;

    (void)state;
    memset(&m, 0, sizeof(m));
    tring_open(&t, 4096, false);
    while (m.read < WRAP_RECORDS) {
        uint32_t burst = 1 + rnd_next(&rng) % 16;

        for (uint32_t i = 0; i < burst; i++)
            if (!wrap_produce(&t, &m, rnd_next(&rng) % 400))
                break;
        wrap_consume(&t, &m, rnd_next(&rng) % 14);
    }
    wrap_consume(&t, &m, UINT32_MAX);
    assert_int_equal(m.count, 0);
    assert_int_equal(ring_tail(&t.r), m.pos);
    /* the mix really exercised wrapping, padding and a full ring */
    assert_true(m.pos / t.r.size > 1000);
    assert_true(m.pads > 500);
    assert_true(m.fulls > 500);
    tring_close(&t);
}

/* ---- 3. maximum record -------------------------------------------------- */

static const uint32_t max_sizes[] = {128, 256, 4096, 1u << 16};

static void max_record_at(struct tring *t, uint64_t pos)
{
    struct ring *r = &t->r;
    uint32_t max = ring_max_record(r->size);
    struct ring_view v;
    uint64_t end = 0, at = pos;

    tring_at(t, pos);
    assert_null(ring_claim(r, max + 1, 1, &end));
    assert_null(ring_claim(r, ring_align(max + 1), 1, &end));
    assert_true(ring_tail(r) == pos);

    struct ring_rec *rec = ring_claim(r, max, 1, &end);
    assert_non_null(rec);
    rec_fill(rec, 1, 2, max - HDR);
    ring_commit(rec, max);
    assert_true(ring_tail(r) == end);
    if (ring_peek(r, at, &v) == RING_PADDING)
        at += v.len;
    assert_true(at + max == end);
    assert_int_equal(ring_peek(r, at, &v), RING_RECORD);
    assert_int_equal(v.len, max);
    assert_true(rec_intact(v.rec, 1, 2, max - HDR));
    ring_consume(r, end); /* leaves the ring all zero for the next call */
}

/* Every offset of small rings; for big ones a stride plus the offsets
 * around the half and the end, where the record just fits or just pads. */
static bool max_offset_wanted(uint32_t size, uint32_t off)
{
    uint32_t half = size / 2;

    return size <= 4096 || off % (61 * RING_ALIGN) == 0 ||
           (off >= half - 64 && off <= half + 64) || off >= size - 64;
}

static void test_ring_max_record(void **state)
{
    (void)state;
    for (size_t s = 0; s < ARRAY_LEN(max_sizes); s++) {
        struct tring t;
        uint32_t size = max_sizes[s];

        tring_open(&t, size, false);
        assert_true(ring_max_record(size) >= HDR);
        for (uint32_t off = 0; off < size; off += RING_ALIGN) {
            if (!max_offset_wanted(size, off))
                continue;
            max_record_at(&t, off);
            max_record_at(&t, 7ULL * size + off);
            max_record_at(&t, (1ULL << 45) + off);
        }
        tring_close(&t);
    }
}

/* ---- 4. several writer processes ---------------------------------------- */

#define MP_WRITERS    4
#define MP_RECORDS    200000
#define MP_MAX_TAIL   200
#define MP_TIMEOUT_MS 120000

static pid_t mp_pids[MP_WRITERS];

static uint32_t mp_tail_len(uint32_t id, uint32_t seq)
{
    return mix32(id + 1000, seq) % (MP_MAX_TAIL + 1);
}

static void mp_writer(struct ring *r, uint32_t id)
{
    int32_t me = (int32_t)getpid();

    for (uint32_t seq = 0; seq < MP_RECORDS; seq++) {
        uint32_t tl = mp_tail_len(id, seq), len = rec_len(tl);
        struct ring_rec *rec;
        uint64_t end;

        while ((rec = ring_claim(r, len, me, &end)) == NULL)
            sched_yield();
        rec_fill(rec, id, seq, tl);
        ring_commit(rec, len);
    }
    _exit(0);
}

/* Kills whatever writer a failed test left behind. */
static int mp_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MP_WRITERS; i++) {
        if (mp_pids[i] > 0) {
            kill(mp_pids[i], SIGKILL);
            waitpid(mp_pids[i], NULL, 0);
            mp_pids[i] = 0;
        }
    }
    return 0;
}

static void mp_check(const struct ring_view *v, uint32_t *next)
{
    const struct ring_rec *rec = v->rec;
    uint32_t id = rec->topic, seq = (uint32_t)rec->partition;

    if (id >= MP_WRITERS)
        fail_msg("record from unknown writer %u", id);
    if (seq != next[id])
        fail_msg("writer %u: sequence %u, expected %u", id, seq, next[id]);
    assert_int_equal(rec->pid, mp_pids[id]);
    assert_int_equal(v->len, rec_len(mp_tail_len(id, seq)));
    if (!rec_intact(rec, id, seq, mp_tail_len(id, seq)))
        fail_msg("writer %u sequence %u: payload damaged", id, seq);
    next[id]++;
}

static void test_ring_many_writers(void **state)
{
    struct tring t;
    struct ring_view v;
    uint32_t next[MP_WRITERS] = {0};
    uint64_t pos = 0, total = 0, pads = 0;
    int64_t deadline = mono_ms() + MP_TIMEOUT_MS;

    (void)state;
    tring_open(&t, 1u << 16, true);
    for (uint32_t i = 0; i < MP_WRITERS; i++) {
        mp_pids[i] = fork();
        assert_true(mp_pids[i] >= 0);
        if (mp_pids[i] == 0)
            mp_writer(&t.r, i);
    }
    while (total < (uint64_t)MP_WRITERS * MP_RECORDS) {
        enum ring_peek k = ring_peek(&t.r, pos, &v);

        if (k == RING_RECORD || k == RING_PADDING) {
            assert_view_sane(&t.r, pos, k, &v);
            if (k == RING_RECORD) {
                mp_check(&v, next);
                total++;
            } else {
                pads++;
            }
            pos += v.len;
            if (pos - ring_head(&t.r) >= t.r.size / 8)
                ring_consume(&t.r, pos);
            continue;
        }
        if (k == RING_CORRUPT)
            fail_msg("corrupt word at position %llu", (unsigned long long)pos);
        ring_consume(&t.r, pos);
        if (mono_ms() > deadline)
            fail_msg("timed out after %llu records", (unsigned long long)total);
        sched_yield();
    }
    ring_consume(&t.r, pos);
    assert_int_equal(ring_peek(&t.r, pos, &v), RING_EMPTY);
    for (int i = 0; i < MP_WRITERS; i++) {
        int st = 0;

        assert_int_equal(waitpid(mp_pids[i], &st, 0), mp_pids[i]);
        mp_pids[i] = 0;
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(next[i], MP_RECORDS);
    }
    assert_true(pos / t.r.size > 100);
    assert_true(pads > 0);
    assert_free_zero(&t.r);
    tring_close(&t);
}

/*
 * A ring that is never close to full must never refuse a claim.  Each
 * writer has at most one header-only record in a 64 KiB ring (it waits until
 * the consumer has passed it), so any NULL from ring_claim() is a false
 * "full".  Runs for a fixed time: the race it looks for (a claim reading a
 * tail that the head has since overtaken) needs a writer to be delayed
 * between two loads while the others and the consumer move on.
 */
#define NF_WRITERS 3
#define NF_RUN_MS  1500

struct nf_shared {
    _Atomic uint64_t false_full[NF_WRITERS];
    _Atomic uint64_t claims[NF_WRITERS];
    _Atomic uint32_t stop;
};

static void nf_writer(struct ring *r, struct nf_shared *sh, uint32_t id)
{
    int32_t me = (int32_t)getpid();

    for (uint32_t seq = 0; !atomic_load(&sh->stop); seq++) {
        struct ring_rec *rec;
        uint64_t end = 0;

        while ((rec = ring_claim(r, HDR, me, &end)) == NULL) {
            atomic_fetch_add(&sh->false_full[id], 1);
            if (atomic_load(&sh->stop))
                _exit(0);
        }
        rec_fill(rec, id, seq, 0);
        ring_commit(rec, HDR);
        atomic_fetch_add(&sh->claims[id], 1);
        while (ring_head(r) < end && !atomic_load(&sh->stop))
            ;
    }
    _exit(0);
}

static void test_ring_no_false_full(void **state)
{
    struct tring t;
    struct ring_view v;
    struct nf_shared *sh;
    uint32_t next[NF_WRITERS] = {0};
    uint64_t pos = 0, false_full = 0, claims = 0;
    int64_t stop_at = mono_ms() + NF_RUN_MS;

    (void)state;
    tring_open(&t, 1u << 16, true);
    sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof(*sh));
    for (uint32_t i = 0; i < NF_WRITERS; i++) {
        mp_pids[i] = fork();
        assert_true(mp_pids[i] >= 0);
        if (mp_pids[i] == 0)
            nf_writer(&t.r, sh, i);
    }
    for (uint32_t n = 0;; n++) {
        enum ring_peek k = ring_peek(&t.r, pos, &v);

        if (k == RING_RECORD) {
            uint32_t id = v.rec->topic;

            assert_true(id < NF_WRITERS);
            assert_int_equal(v.rec->partition, next[id]);
            next[id]++;
        } else if (k == RING_EMPTY || k == RING_PENDING) {
            if (n % 1024 == 0 && mono_ms() > stop_at)
                break;
            continue;
        } else {
            assert_int_equal(k, RING_PADDING);
        }
        pos += v.len;
        ring_consume(&t.r, pos);
    }
    atomic_store(&sh->stop, 1);
    for (int i = 0; i < NF_WRITERS; i++) {
        int st = 0;

        assert_int_equal(waitpid(mp_pids[i], &st, 0), mp_pids[i]);
        mp_pids[i] = 0;
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        false_full += atomic_load(&sh->false_full[i]);
        claims += atomic_load(&sh->claims[i]);
    }
    munmap(sh, sizeof(*sh));
    tring_close(&t);
    if (false_full)
        fail_msg("ring_claim() said full %llu times in %llu claims, with "
                 "at most %d records of %u bytes in a 64 KiB ring",
                 (unsigned long long)false_full, (unsigned long long)claims,
                 NF_WRITERS, HDR);
}

/* ---- 5. dead writer ----------------------------------------------------- */

enum death { DIE_KILLED, DIE_EXIT };

static const struct {
    const char *name;
    enum death how;
    uint64_t start;    /* position of the empty ring */
    uint32_t tail_len; /* body of the dead writer's record */
    bool padded;       /* its claim puts padding first */
} dead_vec[] = {
    {"killed while stopped", DIE_KILLED, 0, 40, false},
    {"_exit after claim", DIE_EXIT, 0, 0, false},
    {"killed, claim after padding", DIE_KILLED, 4096 - 32, 64, true},
    {"_exit, later lap", DIE_EXIT, 9 * 4096 + 512, 200, false},
};

/* The child claims a record, writes half of it, and dies before commit. */
static pid_t dead_writer(struct ring *r, uint32_t len, enum death how)
{
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        uint64_t end;
        struct ring_rec *rec = ring_claim(r, len, (int32_t)getpid(), &end);

        if (!rec)
            _exit(3);
        memset(rec + 1, 0x5a, (len - HDR) / 2);
        if (how == DIE_KILLED)
            raise(SIGSTOP);
        _exit(0);
    }
    return pid;
}

static void test_ring_dead_writer(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(dead_vec); i++) {
        struct tring t;
        struct ring_view v;
        uint32_t len = rec_len(dead_vec[i].tail_len);
        uint64_t pos = dead_vec[i].start;
        int st = 0;

        tring_open(&t, 4096, true);
        tring_at(&t, pos);
        pid_t pid = dead_writer(&t.r, len, dead_vec[i].how);
        assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
        if (dead_vec[i].how == DIE_KILLED) {
            assert_true(WIFSTOPPED(st));
            /* a stopped writer is alive: nothing to recover yet */
            assert_true(pid_alive(pid));
        }
        /* others write after the dead claim */
        for (uint32_t s = 0; s < 3; s++)
            put(&t.r, (int32_t)getpid(), 9, s, s * 10);
        if (dead_vec[i].how == DIE_KILLED) {
            kill(pid, SIGKILL);
            assert_int_equal(waitpid(pid, &st, 0), pid);
            assert_true(WIFSIGNALED(st));
        } else {
            assert_true(WIFEXITED(st));
            assert_int_equal(WEXITSTATUS(st), 0);
        }
        assert_false(pid_alive(pid));

        if (dead_vec[i].padded) {
            assert_int_equal(ring_peek(&t.r, pos, &v), RING_PADDING);
            pos += v.len;
        }
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_PENDING);
        assert_int_equal(v.pid, pid);
        assert_int_equal(v.len, len);
        assert_false(ring_abandon(&t.r, pos, -(int32_t)len - 8));
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_PENDING);
        assert_true(ring_abandon(&t.r, pos, -(int32_t)len));
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_PADDING);
        assert_int_equal(v.len, len);
        pos += v.len;
        for (uint32_t s = 0; s < 3; s++) {
            assert_int_equal(ring_peek(&t.r, pos, &v), RING_RECORD);
            assert_true(rec_intact(v.rec, 9, s, s * 10));
            pos += v.len;
        }
        assert_int_equal(ring_peek(&t.r, pos, &v), RING_EMPTY);
        ring_consume(&t.r, pos);
        assert_free_zero(&t.r);
        tring_close(&t);
    }
}

/* ring_abandon() only replaces the exact claimed word it was given: a
 * record committed in the meantime, or already abandoned, stays. */
static void test_ring_abandon_raced(void **state)
{
    struct tring t;
    struct ring_view v;
    uint64_t end = 0;

    (void)state;
    tring_open(&t, 4096, false);
    struct ring_rec *rec = ring_claim(&t.r, 64, 77, &end);
    assert_non_null(rec);
    assert_int_equal(ring_peek(&t.r, 0, &v), RING_PENDING);
    assert_int_equal(v.pid, 77);
    rec_fill(rec, 1, 1, 64 - HDR);
    ring_commit(rec, 64); /* the writer was slow, not dead */
    assert_false(ring_abandon(&t.r, 0, -(int32_t)v.len));
    assert_int_equal(ring_peek(&t.r, 0, &v), RING_RECORD);
    assert_int_equal(v.len, 64);
    assert_true(rec_intact(v.rec, 1, 1, 64 - HDR));

    rec = ring_claim(&t.r, 96, 78, &end);
    assert_non_null(rec);
    assert_true(ring_abandon(&t.r, 64, -96));
    assert_false(ring_abandon(&t.r, 64, -96));
    assert_int_equal(ring_peek(&t.r, 64, &v), RING_PADDING);
    assert_int_equal(v.len, 96);
    tring_close(&t);
}

/* ---- 6. corrupt input --------------------------------------------------- */

#define C_SIZE 4096u
#define C_BASE (3ULL * C_SIZE)

static const struct {
    const char *name;
    uint32_t index; /* where the word sits in the data */
    uint32_t avail; /* tail - pos */
    int32_t word;
    uint32_t tail_len; /* header field after the word */
    enum ring_peek want;
    uint32_t want_len;
} corrupt_vec[] = {
    /* controls: sane words are accepted */
    {"claimed", 0, 256, -64, 0, RING_PENDING, 64},
    {"committed", 0, 256, 64, 0, RING_RECORD, 64},
    {"padding", C_SIZE - 64, 256, 64 | RING_FLAG_PAD, 0, RING_PADDING, 64},
    {"claimed to tail", 0, 64, -64, 0, RING_PENDING, 64},
    {"committed to ring end", C_SIZE - 64, 512, 64, 0, RING_RECORD, 64},
    /* claimed words */
    {"negative unaligned", 0, 256, -33, 0, RING_CORRUPT, RING_ALIGN},
    {"negative unaligned 2", 0, 256, -70, 0, RING_CORRUPT, RING_ALIGN},
    {"negative below header", 0, 256, -(int32_t)HDR + 8, 0, RING_CORRUPT,
     RING_ALIGN},
    {"negative past tail", 0, 64, -72, 0, RING_CORRUPT, RING_ALIGN},
    {"negative past end", C_SIZE - 64, 512, -72, 0, RING_CORRUPT, RING_ALIGN},
    {"negative huge", 0, C_SIZE, -(int32_t)(1u << 30), 0, RING_CORRUPT,
     RING_ALIGN},
    {"INT32_MIN", 0, 256, INT32_MIN, 0, RING_CORRUPT, RING_ALIGN},
    {"INT32_MIN + 8", 0, 256, INT32_MIN + 8, 0, RING_CORRUPT, RING_ALIGN},
    /* committed words */
    {"positive flag bit 2", 0, 256, 64 | 2, 0, RING_CORRUPT, RING_ALIGN},
    {"positive flag bit 4", 0, 256, 64 | 4, 0, RING_CORRUPT, RING_ALIGN},
    {"positive below header", 0, 256, HDR - 8, 0, RING_CORRUPT, RING_ALIGN},
    {"positive 8", 0, 256, 8, 0, RING_CORRUPT, RING_ALIGN},
    {"positive past tail", 0, 64, 72, 0, RING_CORRUPT, RING_ALIGN},
    {"positive past end", C_SIZE - 64, 512, 72, 0, RING_CORRUPT, RING_ALIGN},
    {"INT32_MAX", 0, 256, INT32_MAX, 0, RING_CORRUPT, RING_ALIGN},
    {"INT32_MAX - 7", 0, C_SIZE, INT32_MAX - 7, 0, RING_CORRUPT, RING_ALIGN},
    {"tail_len fills body", 0, 256, 64, 64 - HDR, RING_RECORD, 64},
    /* A sane commit word delimits the record whatever its body says: the
     * reader rejects the body, the ring skips exactly that record. */
    {"tail_len one past body", 0, 256, 64, 64 - HDR + 1, RING_RECORD, 64},
    {"tail_len huge", 0, 256, 64, UINT32_MAX, RING_RECORD, 64},
    {"tail_len 2^31", 0, 256, 64, 1u << 31, RING_RECORD, 64},
    /* padding words */
    {"padding of 0", 0, 256, RING_FLAG_PAD, 0, RING_CORRUPT, RING_ALIGN},
    {"padding of 8", 0, 256, 8 | RING_FLAG_PAD, 0, RING_PADDING, 8},
    {"padding past tail", 0, 64, 72 | RING_FLAG_PAD, 0, RING_CORRUPT,
     RING_ALIGN},
    {"padding past end", C_SIZE - 64, 512, 72 | RING_FLAG_PAD, 0, RING_CORRUPT,
     RING_ALIGN},
    {"last word, record", C_SIZE - 8, 64, 32, 0, RING_CORRUPT, RING_ALIGN},
    {"last word, claimed", C_SIZE - 8, 64, -32, 0, RING_CORRUPT, RING_ALIGN},
};

static void put_word(struct ring *r, uint32_t index, int32_t word,
                     uint32_t tail_len)
{
    struct ring_rec *rec = (struct ring_rec *)(r->data + index);

    atomic_store(&rec->len, word);
    rec->pid = 4242;
    if (index + HDR <= r->size)
        rec->tail_len = tail_len;
}

static void test_ring_corrupt_words(void **state)
{
    struct tring t;

    (void)state;
    tring_open(&t, C_SIZE, false);
    for (size_t i = 0; i < ARRAY_LEN(corrupt_vec); i++) {
        uint64_t pos = C_BASE + corrupt_vec[i].index;
        struct ring_view v;

        ring_format(&t.r);
        atomic_store(&t.r.cons->head, pos);
        atomic_store(&t.r.prod->tail, pos + corrupt_vec[i].avail);
        put_word(&t.r, corrupt_vec[i].index, corrupt_vec[i].word,
                 corrupt_vec[i].tail_len);
        enum ring_peek k = ring_peek(&t.r, pos, &v);
        if (k != corrupt_vec[i].want || v.len != corrupt_vec[i].want_len)
            fail_msg("%s: peek %d len %u, want %d len %u", corrupt_vec[i].name,
                     k, v.len, corrupt_vec[i].want, corrupt_vec[i].want_len);
        assert_view_sane(&t.r, pos, k, &v);
        if (k == RING_PENDING)
            assert_int_equal(v.pid, 4242);
        if (k == RING_CORRUPT || k == RING_PADDING)
            assert_null(v.rec);
    }
    tring_close(&t);
}

/* A first word that is often almost sane: small lengths, both signs, any
 * low bits; otherwise random bits. */
static int32_t random_word(uint64_t *rng)
{
    uint32_t x = rnd_next(rng);

    switch (x % 4) {
    case 0:
        return (int32_t)rnd_next(rng);
    case 1:
        return (int32_t)(rnd_next(rng) % 600);
    case 2:
        return -(int32_t)(rnd_next(rng) % 600);
    default:
        return (int32_t)(rnd_next(rng) % 600) | RING_FLAG_PAD;
    }
}

static void test_ring_corrupt_random(void **state)
{
    struct tring t;
    uint64_t rng = 0x243f6a8885a308d3ULL;
    uint32_t seen[RING_CORRUPT + 1] = {0};

    (void)state;
    tring_open(&t, C_SIZE, false);
    for (uint32_t n = 0; n < 100000; n++) {
        uint32_t index = (rnd_next(&rng) % C_SIZE) & ~(RING_ALIGN - 1);
        uint64_t pos = ((uint64_t)rnd_next(&rng) << 12) + index;
        uint32_t avail = RING_ALIGN + (rnd_next(&rng) % C_SIZE & ~7u);
        struct ring_view v;

        for (uint32_t b = 0; b < 64; b++)
            t.r.data[(index + b) & t.r.mask] = (uint8_t)rnd_next(&rng);
        if (rnd_next(&rng) % 4 != 0)
            atomic_store((_Atomic int32_t *)(t.r.data + index),
                         random_word(&rng));
        if (index + HDR <= C_SIZE && rnd_next(&rng) % 2)
            ((struct ring_rec *)(t.r.data + index))->tail_len =
                rnd_next(&rng) % 600;
        atomic_store(&t.r.cons->head, pos);
        atomic_store(&t.r.prod->tail, pos + avail);
        enum ring_peek k = ring_peek(&t.r, pos, &v);
        assert_true(k != RING_EMPTY);
        assert_view_sane(&t.r, pos, k, &v);
        seen[k]++;
    }
    /* the windows reached every verdict but "empty" */
    for (int k = RING_PENDING; k <= RING_CORRUPT; k++)
        if (seen[k] < 100)
            fail_msg("verdict %d seen only %u times", k, seen[k]);
    tring_close(&t);
}

/* ---- 7. hostile positions ------------------------------------------------
 * The control block is in memory clients can write: a tail no claim makes
 * (more than a ring past the head, behind it, unaligned) must never make
 * the consumer read a record twice in a pass or touch memory outside the
 * ring.  The ring here has a guard after its data that must stay intact. */

#define H_SIZE  4096
#define H_GUARD 4096
#define H_BASE  ((1ULL << 40) + 8 * 4096 + 512)

struct hring {
    uint8_t *mem;
    struct ring r;
};

static void hring_open(struct hring *h)
{
    h->mem = malloc(sizeof(struct ring_ctl) + H_SIZE + H_GUARD);
    assert_non_null(h->mem);
    memset(h->mem + sizeof(struct ring_ctl) + H_SIZE, 0x5a, H_GUARD);
    ring_attach_ctl(&h->r, (struct ring_ctl *)h->mem, H_SIZE);
    h->r.stream_zero = stream_zero;
    ring_format(&h->r);
}

static void hring_check_guard(const struct hring *h)
{
    const uint8_t *g = h->mem + sizeof(struct ring_ctl) + H_SIZE;

    for (uint32_t i = 0; i < H_GUARD; i++)
        if (g[i] != 0x5a)
            fail_msg("byte %u past the ring's end was written", i);
}

static void hring_check_zero(const struct hring *h)
{
    for (uint32_t i = 0; i < H_SIZE; i++)
        if (h->r.data[i])
            fail_msg("ring byte %u is 0x%02x after a skip", i, h->r.data[i]);
}

static const struct {
    const char *name;
    uint64_t head;
    uint64_t tail_off; /* tail = head + tail_off, modulo 2^64 */
    bool sane;
} hostile_vec[] = {
    {"full ring", H_BASE, H_SIZE, true},
    {"three records", H_BASE, 3 * 64, true},
    {"a ring and 8 past head", H_BASE, H_SIZE + 8, false},
    {"2^32 past head", H_BASE, 1ULL << 32, false},
    {"2^40 past head", H_BASE, 1ULL << 40, false},
    {"2^62 past head", H_BASE, 1ULL << 62, false},
    {"8 behind head", H_BASE, (uint64_t)-8, false},
    {"unaligned", H_BASE, 3 * 64 + 4, false},
    {"wraps past 2^64", UINT64_MAX - 63, 3 * 64, true},
    {"all ones", H_BASE, UINT64_MAX - H_BASE, false},
};

/* Walks the ring from its head as a worker does: returns the records
 * read in order, and the position the walk ended at. */
static uint32_t hostile_walk(struct ring *r, uint64_t *end)
{
    uint64_t head = ring_head(r), pos = head;
    uint32_t records = 0, steps = 0;
    struct ring_view v;

    for (; pos - head < r->size; steps++) {
        enum ring_peek k = ring_peek(r, pos, &v);
        assert_true(steps < r->size / RING_ALIGN);
        assert_view_sane(r, pos, k, &v);
        if (k == RING_EMPTY || k == RING_PENDING)
            break;
        if (k == RING_RECORD) {
            assert_true(rec_intact(v.rec, 9, records, 64 - HDR));
            records++;
        }
        pos += v.len;
    }
    *end = pos;
    return records;
}

static void test_ring_hostile_tail(void **state)
{
    struct hring h;

    (void)state;
    hring_open(&h);
    for (size_t i = 0; i < ARRAY_LEN(hostile_vec); i++) {
        uint64_t head = hostile_vec[i].head, end;
        uint64_t tail = head + hostile_vec[i].tail_off;

        ring_format(&h.r);
        atomic_store(&h.r.cons->head, head);
        atomic_store(&h.r.prod->tail, head);
        for (uint32_t n = 0; n < 3; n++)
            put(&h.r, 1, 9, n, 64 - HDR);
        if (!hostile_vec[i].sane || hostile_vec[i].tail_off >= 256) {
            /* A claim still being written after them: the walk stops
             * there, and the skip must zero it and what follows. */
            struct ring_rec *rec =
                (struct ring_rec *)(h.r.data + ((head + 192) & h.r.mask));
            rec->pid = 4242;
            memset(rec + 1, 0x33, 64 - HDR);
            atomic_store(&rec->len, -64);
        }
        atomic_store(&h.r.prod->tail, tail);
        if (ring_tail_sane(&h.r, head, tail) != hostile_vec[i].sane)
            fail_msg("%s: sane is %d", hostile_vec[i].name,
                     !hostile_vec[i].sane);
        assert_true(ring_limit(&h.r) ==
                    (hostile_vec[i].sane ? tail : head + H_SIZE));
        /* The committed records come first, whatever the tail says. */
        assert_int_equal(hostile_walk(&h.r, &end), 3);
        assert_true(end - head <= H_SIZE);
        ring_consume(&h.r, end);
        assert_true(ring_head(&h.r) == end);
        /* Skipping the rest leaves an empty ring a claim can use.  A tail
         * within a ring of the new head reads as sane now. */
        bool sane = ring_tail_sane(&h.r, end, tail);
        uint64_t skipped = ring_skip(&h.r);
        if (skipped != (sane ? tail - end : H_SIZE))
            fail_msg("%s: skipped %llu", hostile_vec[i].name,
                     (unsigned long long)skipped);
        assert_true(ring_tail(&h.r) == ring_head(&h.r));
        assert_true(ring_head(&h.r) == (sane ? tail : end));
        hring_check_zero(&h);
        put(&h.r, 1, 9, 0, 64 - HDR);
        assert_int_equal(hostile_walk(&h.r, &end), 1);
        hring_check_guard(&h);
    }
    free(h.mem);
}

/* A head and a new head far apart (a client moved one): the ring is
 * zeroed once, nothing past it. */
static void test_ring_consume_bounded(void **state)
{
    static const uint64_t gaps[] = {H_SIZE, H_SIZE + 8, 1ULL << 40,
                                    1ULL << 62, (uint64_t)-8};
    struct hring h;

    (void)state;
    hring_open(&h);
    for (size_t i = 0; i < ARRAY_LEN(gaps); i++) {
        memset(h.r.data, 0x77, H_SIZE);
        atomic_store(&h.r.cons->head, H_BASE);
        ring_consume(&h.r, H_BASE + gaps[i]);
        assert_true(ring_head(&h.r) == H_BASE + gaps[i]);
        hring_check_zero(&h);
        hring_check_guard(&h);
    }
    free(h.mem);
}

/* A successor resumes at the furthest of `done` and `drained` that lies
 * between the head and the tail (as far as it may believe it). */
static const struct {
    const char *name;
    uint64_t tail_off, done_off, drained_off, want_off;
} resume_vec[] = {
    {"drained ahead", 1024, 256, 512, 512},
    {"done ahead", 1024, 512, 256, 512},
    {"drained past the tail", 1024, 256, 2048, 256},
    {"drained 2^40 ahead", 1024, 256, 1ULL << 40, 256},
    {"drained behind the head", 1024, 256, (uint64_t)-64, 256},
    {"done past the tail", 1024, 2048, 0, 0},
    {"tail 2^40 ahead, drained in a ring", 1ULL << 40, 0, 2048, 2048},
    {"tail 2^40 ahead, done 2^40 ahead", 1ULL << 40, 1ULL << 40, 0, 0},
};

static void test_ring_resume_hostile(void **state)
{
    struct hring h;

    (void)state;
    hring_open(&h);
    for (size_t i = 0; i < ARRAY_LEN(resume_vec); i++) {
        ring_format(&h.r);
        atomic_store(&h.r.cons->head, H_BASE);
        atomic_store(&h.r.prod->tail, H_BASE + resume_vec[i].tail_off);
        atomic_store(&h.r.cons->drained, H_BASE + resume_vec[i].drained_off);
        uint64_t got = ring_resume(&h.r, H_BASE + resume_vec[i].done_off);
        if (got != H_BASE + resume_vec[i].want_off)
            fail_msg("%s: resumed at head + %lld", resume_vec[i].name,
                     (long long)(got - H_BASE));
        assert_true(ring_head(&h.r) == got);
        hring_check_guard(&h);
    }
    free(h.mem);
}

/* A head a client made unaligned: the reader realigns, never reading a
 * word across the ring's end. */
static void test_ring_unaligned_head(void **state)
{
    static const uint32_t index[] = {4, H_SIZE - 4, H_SIZE - 1, 1};
    struct hring h;
    struct ring_view v;

    (void)state;
    hring_open(&h);
    for (size_t i = 0; i < ARRAY_LEN(index); i++) {
        uint64_t head = H_BASE - (H_BASE & (H_SIZE - 1)) + index[i], end;
        ring_format(&h.r);
        atomic_store(&h.r.cons->head, head);
        atomic_store(&h.r.prod->tail, head + 1024);
        assert_int_equal(ring_peek(&h.r, head, &v), RING_CORRUPT);
        assert_int_equal((head + v.len) % RING_ALIGN, 0);
        hostile_walk(&h.r, &end);
        assert_true(end - head <= H_SIZE);
        assert_int_equal(ring_unblock(&h.r, head), 0);
        ring_consume(&h.r, end);
        hring_check_guard(&h);
    }
    free(h.mem);
}

/* Claims a span of up to `max` records of tail_len at the ring's tail,
 * fills them (writer 9, sequences from seq0) and commits them last to
 * first, checking that the consumer sees none before the first commits.
 * Returns how many the span held. */
static uint32_t span_put(struct tring *t, uint32_t tail_len, uint32_t max,
                         uint32_t seq0)
{
    uint32_t len = rec_len(tail_len), n = 0;
    uint64_t at = ring_tail(&t->r);
    int32_t me = (int32_t)getpid();
    struct ring_view v;
    uint8_t *first = (uint8_t *)ring_claim_span(&t->r, len, max, me, &n);

    assert_non_null(first);
    assert_true(n >= 1 && n <= max);
    assert_true(ring_tail(&t->r) - at >= (uint64_t)n * len);
    for (uint32_t k = 0; k < n; k++) {
        struct ring_rec *rec = (struct ring_rec *)(first + k * len);
        /* every record of the span is claimed by us: no unwritten word */
        assert_int_equal(atomic_load(&rec->len), -(int32_t)len);
        assert_int_equal(rec->pid, me);
        rec_fill(rec, 9, seq0 + k, tail_len);
    }
    for (uint32_t k = n; k-- > 1;)
        assert_true(ring_commit((struct ring_rec *)(first + k * len), len));
    /* the first still pending: a consumer stops there */
    uint64_t pos = ring_head(&t->r);
    enum ring_peek k;
    while ((k = ring_peek(&t->r, pos, &v)) == RING_PADDING || k == RING_RECORD)
        pos += v.len;
    assert_int_equal(k, RING_PENDING);
    assert_ptr_equal(v.rec, (struct ring_rec *)first);
    assert_true(ring_commit((struct ring_rec *)first, len));
    return n;
}

/* Reads every record from the head to the tail: writer 9's, in sequence
 * from seq0; consumes them and returns how many. */
static uint32_t span_take(struct tring *t, uint32_t tail_len, uint32_t seq0)
{
    uint64_t pos = ring_head(&t->r);
    uint32_t got = 0;
    struct ring_view v;
    enum ring_peek k;

    while ((k = ring_peek(&t->r, pos, &v)) != RING_EMPTY) {
        assert_true(k == RING_RECORD || k == RING_PADDING);
        if (k == RING_RECORD)
            assert_true(rec_intact(v.rec, 9, seq0 + got++, tail_len));
        pos += v.len;
    }
    ring_consume(&t->r, pos);
    return got;
}

/* ring_claim_span: as many records as are free and fit before the ring's
 * end, each claimed at once; padding only when not one fits there; none
 * past the head; committed last to first, read whole and in order. */
static void test_ring_claim_span(void **state)
{
    const uint32_t tl = 100, len = rec_len(tl), size = 4096;
    struct tring t;
    uint32_t n;

    (void)state;
    tring_open(&t, size, false);
    assert_null(ring_claim_span(&t.r, len, 0, 1, &n));
    /* from the start: all asked for */
    assert_int_equal(span_put(&t, tl, 10, 0), 10);
    assert_int_equal(span_take(&t, tl, 0), 10);
    /* 2 records and a bit before the end: the span stops at the end, the
     * next pads the bit and starts over at 0 */
    tring_at(&t, 7 * (uint64_t)size - 2 * len - 64);
    assert_int_equal(span_put(&t, tl, 10, 0), 2);
    assert_true((ring_tail(&t.r) & t.r.mask) == size - 64);
    assert_int_equal(span_put(&t, tl, 10, 2), 10);
    assert_true(ring_tail(&t.r) == 7 * (uint64_t)size + 10 * len);
    assert_int_equal(span_take(&t, tl, 0), 12);
    /* exactly at the end: no padding, the next span from 0 */
    tring_at(&t, 3 * (uint64_t)size - 3 * len);
    assert_int_equal(span_put(&t, tl, 5, 0), 3);
    assert_int_equal(span_put(&t, tl, 5, 3), 5);
    assert_true(ring_tail(&t.r) == 3 * (uint64_t)size + 5 * len);
    assert_int_equal(span_take(&t, tl, 0), 8);
    /* the head bounds it: only what is free, then nothing */
    tring_at(&t, 0);
    uint32_t fit = size / len;
    for (uint32_t i = 0; i + 1 < fit; i++)
        put(&t.r, 1, 1, i, tl);
    assert_int_equal(span_put(&t, tl, 10, 0), 1);
    assert_null(ring_claim_span(&t.r, len, 10, 1, &n));
    /* a head a client wrote just past the claim: the span still ends
     * within the ring */
    tring_at(&t, 5 * (uint64_t)size - 64);
    atomic_store(&t.r.cons->head, 5 * (uint64_t)size + len);
    assert_non_null(ring_claim_span(&t.r, len, 1000, 1, &n));
    assert_true(n * len <= size);
    tring_close(&t);
}

/* An optional argument picks the tests to run by name ("*wrap*"). */
int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_single),
        cmocka_unit_test(test_ring_claimed_unwritten),
        cmocka_unit_test(test_ring_full),
        cmocka_unit_test(test_ring_wrap),
        cmocka_unit_test(test_ring_max_record),
        cmocka_unit_test_teardown(test_ring_many_writers, mp_teardown),
        cmocka_unit_test_teardown(test_ring_no_false_full, mp_teardown),
        cmocka_unit_test(test_ring_dead_writer),
        cmocka_unit_test(test_ring_abandon_raced),
        cmocka_unit_test(test_ring_corrupt_words),
        cmocka_unit_test(test_ring_corrupt_random),
        cmocka_unit_test(test_ring_hostile_tail),
        cmocka_unit_test(test_ring_consume_bounded),
        cmocka_unit_test(test_ring_resume_hostile),
        cmocka_unit_test(test_ring_unaligned_head),
        cmocka_unit_test(test_ring_claim_span),
    };
    int failed;

    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed = cmocka_run_group_tests_name("ring, zeroed in cache", tests,
                                         NULL, NULL);
    stream_zero = true;
    return failed + cmocka_run_group_tests_name("ring, zeroed streaming",
                                                tests, NULL, NULL);
}
