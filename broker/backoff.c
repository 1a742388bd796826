/*
 * backoff.c: the reconnect schedule (backoff.h).
 */
#include "broker/backoff.h"

int64_t backoff_attempt(struct backoff *b, int64_t now_ms, int base_ms,
                        int max_ms, uint32_t rnd)
{
    int64_t lo, hi, wait;

    if (b->next_ms == 0 || b->next_ms + max_ms < now_ms)
        b->wait_ms = base_ms; /* the first attempt, or after a quiet time */
    lo = b->wait_ms * 3 / 4;
    hi = b->wait_ms * 3 / 2;
    wait = lo + (int64_t)(rnd % (uint64_t)(hi - lo + 1));
    if (wait > max_ms)
        wait = max_ms;
    b->next_ms = now_ms + wait;
    b->wait_ms = b->wait_ms * 2 > max_ms ? max_ms : b->wait_ms * 2;
    return b->next_ms;
}
