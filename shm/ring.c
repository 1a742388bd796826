/*
 * ring.c: claim/commit for producers, peek/consume for the one consumer.
 * See ring.h and docs/design.md for the protocol.
 */
#include "shm/ring.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void ring_attach(struct ring *r, struct ring_prod *prod,
                 struct ring_cons *cons, void *data, uint32_t size)
{
    r->prod = prod;
    r->cons = cons;
    r->data = data;
    r->size = size;
    r->mask = size - 1;
    r->stream_zero = false;
}

void ring_format(struct ring *r)
{
    memset(r->prod, 0, sizeof(*r->prod));
    memset(r->cons, 0, sizeof(*r->cons));
    memset(r->data, 0, r->size);
}

static struct ring_rec *rec_at(const struct ring *r, uint64_t pos)
{
    return (struct ring_rec *)(r->data + (pos & r->mask));
}

#define CLAIM_LOOKS 4 /* times a claim looks again at a full ring */

/* Claims up to `max` records of `len` bytes in one move of the tail:
 * as many as are free and fit before the ring's end (padding to the end
 * only when not even one fits there, as a single claim pads).  Each is
 * marked claimed by `pid` before this returns, so a consumer never meets
 * an unwritten word inside the span.  With max 1 (ring_claim) the
 * division below folds away. */
static inline struct ring_rec *claim_span(struct ring *r, uint32_t len,
                                          uint32_t max, int32_t pid,
                                          uint32_t *n, uint64_t *end)
{
    uint64_t tail, head;
    uint32_t pad, k;
    unsigned looks = 0;

    if (len > ring_max_record(r->size) || max == 0)
        return NULL;
    for (;;) {
        /* Head first, then tail: the consumer only moves the head up to a
         * tail it has read, so a tail read after the head is never behind
         * it.  Read the other way round, a stale tail can be overtaken by
         * the head and tail - head wraps into a false "full". */
        head = atomic_load_explicit(&r->cons->head, memory_order_acquire);
        tail = atomic_load_explicit(&r->prod->tail, memory_order_relaxed);
        uint32_t room_to_end = r->size - (uint32_t)(tail & r->mask);
        pad = len > room_to_end ? room_to_end : 0;
        if (tail + pad + len - head > r->size) {
            /* Full, or this process was away between the two loads while
             * the others went a ring's worth on: then the head moved.  A
             * few looks only: a report ring's head is a client's, which
             * could keep moving it to hold a worker here. */
            if (++looks < CLAIM_LOOKS &&
                atomic_load_explicit(&r->cons->head, memory_order_acquire) !=
                    head)
                continue;
            return NULL;
        }
        k = 1;
        if (max > 1) {
            /* The head may be a client's (report rings): never more
             * than the space up to the ring's end, whatever it says. */
            uint64_t room = r->size - (tail + pad - head);
            uint32_t contiguous = pad ? r->size : room_to_end;
            if (room > contiguous)
                room = contiguous;
            k = room / len < max ? (uint32_t)(room / len) : max;
        }
        if (atomic_compare_exchange_weak_explicit(
                &r->prod->tail, &tail, tail + pad + (uint64_t)k * len,
                memory_order_seq_cst, memory_order_relaxed))
            break;
    }

    if (pad) {
        struct ring_rec *p = rec_at(r, tail);
        p->pid = pid;
        atomic_store_explicit(&p->len, (int32_t)pad | RING_FLAG_PAD,
                              memory_order_release);
        tail += pad;
    }
    for (uint32_t i = 0; i < k; i++) {
        struct ring_rec *rec = rec_at(r, tail + (uint64_t)i * len);
        rec->pid = pid;
        /* Release: a consumer that sees the claimed word must see the pid
         * too, or it reads 0, finds no such process and abandons a live
         * record. */
        atomic_store_explicit(&rec->len, -(int32_t)len, memory_order_release);
    }
    *n = k;
    *end = tail + (uint64_t)k * len;
    return rec_at(r, tail);
}

struct ring_rec *ring_claim(struct ring *r, uint32_t len, int32_t pid,
                            uint64_t *end)
{
    uint32_t n;

    return claim_span(r, len, 1, pid, &n, end);
}

struct ring_rec *ring_claim_span(struct ring *r, uint32_t len, uint32_t max,
                                 int32_t pid, uint32_t *n)
{
    uint64_t end;

    return claim_span(r, len, max, pid, n, &end);
}

bool ring_commit(struct ring_rec *rec, uint32_t len)
{
    int32_t claimed = -(int32_t)len;

    /* A CAS, not a store: a consumer that gave up on the claim (its
     * writer held it past ring.claim.timeout.ms) turned the word into
     * padding, and the space may hold another record by now.  Sequentially
     * consistent, as the claim is: the producer's look at `sleeping` after
     * it needs no fence of its own (see wake_owner in shm/client.c). */
    return atomic_compare_exchange_strong_explicit(
        &rec->len, &claimed, (int32_t)len, memory_order_seq_cst,
        memory_order_relaxed);
}

bool ring_tail_sane(const struct ring *r, uint64_t head, uint64_t tail)
{
    return tail - head <= r->size && tail % RING_ALIGN == 0;
}

uint64_t ring_limit(const struct ring *r)
{
    uint64_t head = ring_head(r), tail = ring_tail(r);

    return ring_tail_sane(r, head, tail) ? tail : head + r->size;
}

/* A committed word is sane if its length is aligned, at least a padding
 * record, within the ring's end and not past the tail. */
static bool length_ok(const struct ring *r, uint64_t pos, uint64_t tail,
                      uint32_t len, uint32_t min)
{
    uint32_t room_to_end = r->size - (uint32_t)(pos & r->mask);

    return len >= min && len % RING_ALIGN == 0 && len <= room_to_end &&
           len <= tail - pos;
}

enum ring_peek ring_peek(const struct ring *r, uint64_t pos,
                         struct ring_view *v)
{
    return ring_peek_upto(r, pos, ring_limit(r), v);
}

void ring_prefetch(const struct ring *r, uint64_t from, uint64_t to)
{
    for (uint64_t p = from & ~(uint64_t)63; (int64_t)(to - p) > 0; p += 64)
        __builtin_prefetch(r->data + (p & r->mask));
}

enum ring_peek ring_peek_upto(const struct ring *r, uint64_t pos,
                              uint64_t tail, struct ring_view *v)
{
    struct ring_rec *rec;
    int32_t word;

    v->rec = NULL;
    v->len = RING_ALIGN;
    v->pid = 0;
    /* Differences, not comparisons: positions may wrap past 2^64 when a
     * client wrote them. */
    if (tail - pos == 0 || tail - pos > r->size)
        return RING_EMPTY;
    if (pos % RING_ALIGN) { /* a head a client wrote: realign */
        v->len = RING_ALIGN - (uint32_t)(pos % RING_ALIGN);
        return RING_CORRUPT;
    }
    rec = rec_at(r, pos);
    word = atomic_load_explicit(&rec->len, memory_order_acquire);
    if (word == 0)
        return RING_PENDING;
    if (word < 0) {
        if (word == INT32_MIN || !length_ok(r, pos, tail, (uint32_t)-word,
                                            sizeof(struct ring_rec)))
            return RING_CORRUPT;
        v->rec = rec;
        v->len = (uint32_t)-word;
        v->pid = rec->pid;
        return RING_PENDING;
    }
    v->len = (uint32_t)(word & RING_LEN_MASK);
    if (word & RING_FLAG_PAD) {
        if (length_ok(r, pos, tail, v->len, RING_PAD_MIN))
            return RING_PADDING;
        v->len = RING_ALIGN;
        return RING_CORRUPT;
    }
    /* A sane commit word delimits the record: whatever its body holds
     * (the reader checks it), the next record starts after it. */
    if ((word & ~RING_LEN_MASK) != 0 ||
        !length_ok(r, pos, tail, v->len, sizeof(struct ring_rec))) {
        v->len = RING_ALIGN;
        return RING_CORRUPT;
    }
    v->rec = rec;
    return RING_RECORD;
}

bool ring_abandon(struct ring *r, uint64_t pos, int32_t claimed_word)
{
    struct ring_rec *rec = rec_at(r, pos);
    int32_t expect = claimed_word;

    return atomic_compare_exchange_strong_explicit(
        &rec->len, &expect, (int32_t)-claimed_word | RING_FLAG_PAD,
        memory_order_acq_rel, memory_order_relaxed);
}

/* Zeroes [p, p + n) with stores that go to memory without this core's
 * cache (the caller fences before publishing): see ring.h, stream_zero. */
static void zero_streaming(uint8_t *p, uint64_t n)
{
#ifdef __SSE2__
    const __m128i z = _mm_setzero_si128();
    size_t lead = (16 - ((uintptr_t)p & 15)) & 15;

    if (lead > n)
        lead = n;
    memset(p, 0, lead);
    p += lead;
    n -= lead;
    for (; n >= 64; p += 64, n -= 64) {
        _mm_stream_si128((__m128i *)p, z);
        _mm_stream_si128((__m128i *)(p + 16), z);
        _mm_stream_si128((__m128i *)(p + 32), z);
        _mm_stream_si128((__m128i *)(p + 48), z);
    }
    for (; n >= 16; p += 16, n -= 16)
        _mm_stream_si128((__m128i *)p, z);
#endif
    memset(p, 0, n);
}

static void zero_span(const struct ring *r, uint8_t *p, uint64_t n)
{
    if (r->stream_zero)
        zero_streaming(p, n);
    else
        memset(p, 0, n);
}

void ring_consume(struct ring *r, uint64_t new_head)
{
    uint64_t head = ring_head(r);
    uint32_t from = (uint32_t)(head & r->mask);
    uint64_t n = new_head - head;

    if (n == 0)
        return;
    /* Say first how far we got, so that a consumer dying in the memset
     * leaves its successor a position to resume from (ring_resume). */
    atomic_store_explicit(&r->cons->drained, new_head, memory_order_release);
    if (n >= r->size) {
        /* Only a head or tail a client wrote gets here: zero the ring
         * once, never past it. */
        zero_span(r, r->data, r->size);
    } else if (from + n > r->size) {
        zero_span(r, r->data + from, r->size - from);
        zero_span(r, r->data, n - (r->size - from));
    } else {
        zero_span(r, r->data + from, n);
    }
#ifdef __SSE2__
    /* Streaming stores are not ordered by the release below: fence them,
     * or a client could see the head move before the zeroes land. */
    if (r->stream_zero)
        _mm_sfence();
#endif
    atomic_store_explicit(&r->cons->head, new_head, memory_order_release);
}

uint64_t ring_resume(struct ring *r, uint64_t done)
{
    uint64_t head = ring_head(r), limit = ring_limit(r);
    uint64_t drained = atomic_load_explicit(&r->cons->drained,
                                            memory_order_acquire);

    if (drained - head > done - head && drained - head <= limit - head)
        done = drained;
    /* The tail is in memory clients can write: never go back, never past
     * it (or a ring past the head). */
    if (done - head > limit - head)
        done = head;
    ring_consume(r, done);
    return done;
}

uint64_t ring_skip(struct ring *r)
{
    uint64_t head = ring_head(r), tail = ring_tail(r);

    if (ring_tail_sane(r, head, tail)) {
        ring_consume(r, tail);
        return tail - head;
    }
    /* No claim succeeds on such a tail (the ring reads as full), so only
     * whoever wrote it races this CAS; if it moves again, the next drain
     * finds it again. */
    memset(r->data, 0, r->size);
    atomic_compare_exchange_strong(&r->prod->tail, &tail, head);
    return r->size;
}

uint32_t ring_unblock(struct ring *r, uint64_t pos)
{
    uint64_t tail = ring_limit(r), q = pos + RING_ALIGN;
    int32_t expect = 0;

    if (tail - pos == 0 || tail - pos > r->size || pos % RING_ALIGN ||
        atomic_load(&rec_at(r, pos)->len) != 0)
        return 0;
    /* The dead claim's space is all zero (the consumer zeroed it, and its
     * writer wrote nothing): it ends at the next written word, the tail or
     * the ring's end, whichever comes first. */
    while (q - pos < tail - pos && (q & r->mask) != 0 &&
           atomic_load_explicit(&rec_at(r, q)->len, memory_order_acquire) == 0)
        q += RING_ALIGN;
    if (!atomic_compare_exchange_strong(&rec_at(r, pos)->len, &expect,
                                        (int32_t)(q - pos) | RING_FLAG_PAD))
        return 0;
    return (uint32_t)(q - pos);
}
