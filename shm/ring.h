/*
 * ring.h: the multi-producer, single-consumer record ring of one slot.
 *
 * Producers (client processes) claim space with a CAS on the tail, write
 * the record, and commit it by storing its length with release order.  The
 * consumer (the worker owning the slot) reads committed records in order,
 * stops at the first one that is not committed, and zeroes what it consumed
 * before it moves the head, so unwritten space always reads as zero.
 *
 * The consumer side trusts nothing it reads: every length is checked
 * against the ring's bounds and the tail before it is used.
 */
#ifndef CHUTE_SHM_RING_H
#define CHUTE_SHM_RING_H

#include "shm/layout.h"

#include <stdbool.h>
#include <stdint.h>

struct ring {
    struct ring_prod *prod;   /* the tail */
    struct ring_cons *cons;   /* head, resolved and the consumer's state */
    uint8_t *data;
    uint32_t size;            /* a power of two */
    uint32_t mask;
    /* The consumer zeroes what it consumed with streaming (non-temporal)
     * stores, which skip its cache: for rings that a client on another
     * core writes next, and that together outgrow the cache (a worker's
     * intake rings).  The client's write then fetches the lines from
     * memory instead of from the consumer's core, and the consumer does
     * not read them in only to overwrite them.  Off after ring_attach():
     * a ring one core both writes and consumes is zeroed faster in cache
     * (the floor of chute-bench). */
    bool stream_zero;
};

/* Binds `r` to a ring whose lines and `size` bytes of data are where
 * given (the lines may be in another object than the data). */
void ring_attach(struct ring *r, struct ring_prod *prod,
                 struct ring_cons *cons, void *data, uint32_t size);
/* Binds `r` to a ring laid out in one piece: a struct ring_ctl followed
 * by `size` bytes of data (delivery-report rings, tests). */
static inline void ring_attach_ctl(struct ring *r, struct ring_ctl *ctl,
                                   uint32_t size)
{
    ring_attach(r, &ctl->prod, &ctl->cons, ctl + 1, size);
}
/* Zeroes a ring's lines and data (creator only). */
void ring_format(struct ring *r);

static inline uint32_t ring_align(uint32_t n)
{
    return (n + RING_ALIGN - 1) & ~(uint32_t)(RING_ALIGN - 1);
}

/* Largest record (header included) a ring of `size` bytes can take. */
static inline uint32_t ring_max_record(uint32_t size)
{
    return size / 2;
}

/* ---- producer side ---- */

/*
 * Claims `len` bytes (aligned, header included) for the calling process.
 * Returns the record, marked claimed and owned by `pid`, or NULL when the
 * ring has no room right now.  The caller fills in the record and calls
 * ring_commit().  *end receives the ring position just past the record.
 */
struct ring_rec *ring_claim(struct ring *r, uint32_t len, int32_t pid,
                            uint64_t *end);
/*
 * Claims up to `max` records of `len` bytes each, one after another, in
 * one move of the tail (a producer with many records for one ring: the
 * worker's delivery reports).  Returns the first, with how many in *n
 * (fewer than `max` when the rest is not free or would pass the ring's
 * end: claim again for them), or NULL when not one fits.  Each is marked
 * claimed by `pid`; the caller fills them in and commits each.  Committed
 * last to first, the consumer, which reads in order, takes them all at
 * once instead of one by one as they are written.
 */
struct ring_rec *ring_claim_span(struct ring *r, uint32_t len, uint32_t max,
                                 int32_t pid, uint32_t *n);
/* Publishes a claimed record of `len` bytes to the consumer; false when
 * the consumer skipped the claim first (it was held too long), and the
 * record is lost. */
bool ring_commit(struct ring_rec *rec, uint32_t len);

/* ---- consumer side ---- */

enum ring_peek {
    RING_EMPTY,     /* nothing at pos: pos == tail */
    RING_PENDING,   /* claimed (or being claimed) but not committed */
    RING_RECORD,    /* a committed record: its length is checked, its
                       body (tail_len included) is the reader's to check */
    RING_PADDING,   /* padding to skip */
    RING_CORRUPT,   /* the word at pos makes no sense: skip RING_ALIGN */
};

struct ring_view {
    const struct ring_rec *rec; /* RING_RECORD and RING_PENDING */
    uint32_t len;               /* bytes to advance */
    int32_t pid;                /* RING_PENDING: the writer, 0 if unknown */
};

/*
 * A tail is sane when no more than a ring's size past the head and
 * aligned: every claim leaves it so.  Anything else a client wrote into
 * the producer line; the consumer then believes the tail no further than
 * a ring's size past the head (ring_limit), so it never reads a record
 * twice in one pass nor zeroes more than the ring.
 */
bool ring_tail_sane(const struct ring *r, uint64_t head, uint64_t tail);
/* How far the consumer may read: the tail, or head + size if it is not
 * sane. */
uint64_t ring_limit(const struct ring *r);
/* Looks at the record at position `pos` (head <= pos <= ring_limit()). */
enum ring_peek ring_peek(const struct ring *r, uint64_t pos,
                         struct ring_view *v);
/* The same against a limit read earlier (ring_limit() at the start of a
 * pass): a consumer reading many records then touches the producers'
 * tail line once per pass, not once per record.  Records committed past
 * `limit` wait for the next pass. */
/* Asks for the cache lines of [from, to) before they are read: the
 * consumer's copy of records that a client wrote on another core then
 * waits for the lines together instead of one after another.  A hint
 * only (no fault, no effect on the ring); to - from is small. */
void ring_prefetch(const struct ring *r, uint64_t from, uint64_t to);

enum ring_peek ring_peek_upto(const struct ring *r, uint64_t pos,
                              uint64_t limit, struct ring_view *v);
/* Turns a claimed record at `pos` whose writer died into padding. */
bool ring_abandon(struct ring *r, uint64_t pos, int32_t claimed_word);
/*
 * A claim whose writer died between the tail CAS and its first store
 * leaves a zero word with no pid.  After it stayed so for RING_UNBLOCK_MS,
 * the consumer pads over it: from `pos` to the next written word.  A live
 * writer stopped in exactly that window (a few instructions) would lose its
 * record; every other stalled writer has a pid in its word and is waited
 * for as long as it lives.  Returns the bytes padded, 0 if none.
 */
#define RING_UNBLOCK_MS 1000
uint32_t ring_unblock(struct ring *r, uint64_t pos);
/* Zeroes [head, new_head) (at most the whole ring once) and moves the
 * head there. */
void ring_consume(struct ring *r, uint64_t new_head);
/*
 * Skips everything the ring holds, for its consumer or, when the consumer
 * is dead, for the supervisor: zeroes it and moves the head to the tail;
 * a tail that is not sane is put back to the head instead.  Claims still
 * being written are lost with the rest.  Returns the bytes skipped (the
 * ring's size for a tail that was not sane).
 */
uint64_t ring_skip(struct ring *r);
/* For a consumer taking over from one that died: skips what its
 * predecessor finished (its `drained` mark, or `done` if that is further,
 * e.g. the end of the last record found in its batches), completing the
 * zeroing.  Returns the new head. */
uint64_t ring_resume(struct ring *r, uint64_t done);

static inline uint64_t ring_head(const struct ring *r)
{
    return atomic_load_explicit(&r->cons->head, memory_order_relaxed);
}

static inline uint64_t ring_tail(const struct ring *r)
{
    return atomic_load_explicit(&r->prod->tail, memory_order_acquire);
}

#endif
