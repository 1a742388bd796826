/*
 * fuzz_ring: the ring reader against arbitrary ring contents.  The input
 * is a 4 KiB ring as a client could have left it (any bytes) plus the
 * head and tail positions, any 64-bit values (a client can write both).
 * The reader walks it the way a worker's drain does (worker/accum.c):
 * abandoning dead claims, unblocking unwritten ones, and, when the tail is
 * one no claim makes, stopping at the first unwritten word and skipping
 * the rest.  It must never read or write outside the ring, never report a
 * length past the ring's end or the tail it may believe, always make
 * progress, and never walk more than one ring in a pass.
 */
#include "shm/ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_RING 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(const struct ring *r, uint64_t pos, uint64_t limit,
                       enum ring_peek k, const struct ring_view *v)
{
    uint32_t room = FUZZ_RING - (uint32_t)(pos & (FUZZ_RING - 1));

    if (pos % RING_ALIGN) {
        if (k != RING_CORRUPT || v->len != RING_ALIGN - pos % RING_ALIGN)
            abort();
        return;
    }
    if (v->len < RING_ALIGN || v->len % RING_ALIGN || v->len > room)
        abort();
    /* A corrupt word is skipped RING_ALIGN bytes even when the tail a
     * client made unaligned is nearer; an unwritten one only waits. */
    if (k != RING_CORRUPT && (k != RING_PENDING || v->rec) &&
        v->len > limit - pos)
        abort();
    if (k == RING_RECORD && v->rec->tail_len <= v->len - sizeof(*v->rec))
        (void)((const uint8_t *)(v->rec + 1))[v->rec->tail_len
                                                  ? v->rec->tail_len - 1
                                                  : 0];
    (void)r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t mem[sizeof(struct ring_ctl) + FUZZ_RING]
        __attribute__((aligned(64)));
    struct ring r;
    uint64_t head, tail, pos, limit;
    struct ring_view v;
    bool sane;

    if (size < 16)
        return 0;
    ring_attach_ctl(&r, (struct ring_ctl *)mem, FUZZ_RING);
    ring_format(&r);
    memcpy(&head, data, 8);
    memcpy(&tail, data + 8, 8);
    memcpy(r.data, data + 16, size - 16 < FUZZ_RING ? size - 16 : FUZZ_RING);
    atomic_store(&r.cons->head, head);
    atomic_store(&r.prod->tail, tail);
    sane = ring_tail_sane(&r, head, tail);
    limit = ring_limit(&r);
    for (pos = head; pos - head < FUZZ_RING;) {
        enum ring_peek k = ring_peek(&r, pos, &v);
        if (k == RING_EMPTY)
            break;
        check_view(&r, pos, limit, k, &v);
        if (k == RING_PENDING && !v.rec && !sane)
            break; /* the worker skips the rest (ring_skip below) */
        if (k == RING_PENDING) {
            /* A dead writer's claim, or nothing written: as a worker would. */
            if (!(v.rec ? ring_abandon(&r, pos, -(int32_t)v.len)
                        : ring_unblock(&r, pos) > 0))
                abort();
            continue;
        }
        pos += v.len;
    }
    if (pos - head > FUZZ_RING + RING_ALIGN)
        abort();
    ring_consume(&r, pos);
    if (!sane)
        ring_skip(&r);
    return 0;
}
