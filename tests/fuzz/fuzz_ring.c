/*
 * fuzz_ring: the ring reader against arbitrary ring contents.  The input
 * is a 4 KiB ring as a client could have left it (any bytes) plus the
 * head and tail positions; the reader walks it the way a worker does,
 * including abandoning and unblocking.  It must never read outside the
 * ring, never report a length past the tail or the ring's end, and always
 * make progress.
 */
#include "shm/ring.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_RING 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t mem[sizeof(struct ring_ctl) + FUZZ_RING]
        __attribute__((aligned(64)));
    struct ring r;
    uint64_t head, tail, pos;
    struct ring_view v;

    if (size < 16)
        return 0;
    ring_attach(&r, mem, FUZZ_RING);
    ring_format(&r);
    memcpy(&head, data, 8);
    memcpy(&tail, data + 8, 8);
    head = (head % (1u << 20)) & ~(uint64_t)(RING_ALIGN - 1);
    tail = head + (tail % (FUZZ_RING + 1) & ~(uint64_t)(RING_ALIGN - 1));
    memcpy(r.data, data + 16, size - 16 < FUZZ_RING ? size - 16 : FUZZ_RING);
    atomic_store(&r.ctl->head, head);
    atomic_store(&r.ctl->tail, tail);
    for (pos = head; pos < tail;) {
        enum ring_peek k = ring_peek(&r, pos, &v);
        uint32_t room = FUZZ_RING - (uint32_t)(pos & (FUZZ_RING - 1));
        if (v.len < RING_ALIGN || v.len % RING_ALIGN || v.len > room ||
            v.len > tail - pos)
            abort();
        if (k == RING_RECORD && v.rec->tail_len <= v.len - sizeof(*v.rec))
            (void)((const uint8_t *)(v.rec + 1))[v.rec->tail_len ? v.rec->tail_len - 1 : 0];
        if (k == RING_PENDING) {
            /* A dead writer's claim, or nothing written: as a worker would. */
            if (!(v.rec ? ring_abandon(&r, pos, -(int32_t)v.len)
                        : ring_unblock(&r, pos) > 0))
                abort();
            continue;
        }
        pos += v.len;
    }
    ring_consume(&r, pos);
    return 0;
}
