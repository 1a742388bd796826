/*
 * idem.c: decisions of the idempotent producer (see idem.h and
 * KAFKA-PROTOCOL.md §6).
 */
#include "worker/idem.h"

#include "proto/kafka.h"

static enum idem_action decide_idempotent(int16_t error, int16_t epoch,
                                          const struct idem_batch *b,
                                          const struct idem_seq *s)
{
    if (b->epoch != epoch)
        return IDEM_REQUEUE; /* sent before a bump: re-sequenced by it */
    switch (error) {
    case KAFKA_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
        /* Not the batch the broker waits for: an earlier one failed and
         * is being resent.  The head itself: a real gap. */
        return b->base_seq != s->acked_seq ? IDEM_REQUEUE : IDEM_BUMP;
    case KAFKA_ERR_UNKNOWN_PRODUCER_ID:
        return IDEM_BUMP;
    case KAFKA_ERR_INVALID_PRODUCER_EPOCH:
    case KAFKA_ERR_PRODUCER_FENCED:
        return IDEM_NEW_PID;
    default:
        return kafka_err_retriable(error) ? IDEM_RETRY : IDEM_FAIL;
    }
}

/* Whether batch b ends at or before `seq` (within a quarter of the
 * sequence space): a batch the broker acknowledged earlier. */
static bool acknowledged_before(const struct idem_batch *b, int32_t seq)
{
    int32_t end = idem_seq_add(b->base_seq, b->count);

    return (((uint32_t)seq - (uint32_t)end) & 0x7fffffffu) < (1u << 29);
}

enum idem_action idem_decide(bool idempotent, int16_t error, bool expired,
                             int16_t current_epoch, const struct idem_batch *b,
                             const struct idem_seq *s)
{
    if (error == KAFKA_ERR_NONE ||
        (idempotent && error == KAFKA_ERR_DUPLICATE_SEQUENCE_NUMBER)) {
        /* Written.  Not the batch the broker should have taken next: it
         * skipped the sequences before it (see idem_in_flight_limit).
         * One the broker acknowledged before is no such sign: a
         * replacement resends the batch its predecessor died resolving
         * (docs/crash-consistency.md), and a bump would re-stamp batches
         * behind it that the broker may hold. */
        if (idempotent && b->epoch == current_epoch &&
            b->base_seq != s->acked_seq &&
            !acknowledged_before(b, s->acked_seq))
            return IDEM_ACK_BUMP;
        return IDEM_ACK;
    }
    if (expired)
        return IDEM_FAIL;
    if (!idempotent)
        return kafka_err_retriable(error) ? IDEM_RETRY : IDEM_FAIL;
    return decide_idempotent(error, current_epoch, b, s);
}

int idem_in_flight_limit(bool idempotent, int max_in_flight,
                         bool broker_has_state)
{
    if (!idempotent || !broker_has_state || max_in_flight < 1)
        return 1;
    return max_in_flight < IDEM_IN_FLIGHT_MAX ? max_in_flight
                                              : IDEM_IN_FLIGHT_MAX;
}

int32_t idem_assign(struct idem_seq *s, int32_t count)
{
    int32_t base = s->next_seq;

    s->next_seq = idem_seq_add(base, count);
    return base;
}

void idem_acked(struct idem_seq *s, const struct idem_batch *b)
{
    if (!acknowledged_before(b, s->acked_seq))
        s->acked_seq = idem_seq_add(b->base_seq, b->count);
}

void idem_reset(struct idem_seq *s)
{
    s->next_seq = 0;
    s->acked_seq = 0;
}

int32_t idem_next_epoch(int16_t epoch)
{
    return epoch >= IDEM_EPOCH_MAX ? -1 : epoch + 1;
}
