/*
 * producer.c: idempotence bookkeeping per slot.  Every slot has its own
 * producer id and epoch (in the state object, so they move with the slot
 * and survive its worker); each partition has its next and acknowledged
 * sequence.  A batch gets its sequence when it is sealed.  An epoch bump
 * (asked for by the sender, done here once the slot is quiet) or a new
 * producer id restarts the slot's sequences at 0 and re-stamps every
 * waiting batch.  idem.c holds the arithmetic and the decision table.
 */
#include "common/log.h"
#include "worker/idem.h"
#include "worker/wrk.h"

bool producer_ready(struct wrk *w, uint32_t slot)
{
    return !w->s->idempotent ||
           atomic_load(&instance_pslot(w->in, slot)->producer_id) >= 0;
}

static struct chunk_producer slot_producer(struct wrk *w, uint32_t slot,
                                           int32_t seq)
{
    struct state_slot *ps = instance_pslot(w->in, slot);

    return (struct chunk_producer){atomic_load(&ps->producer_id),
                                   (int16_t)atomic_load(&ps->epoch), seq};
}

struct chunk_producer producer_next(struct wrk *w, struct wpart *p)
{
    struct chunk_producer pr;

    if (!w->s->idempotent)
        return (struct chunk_producer){-1, -1, -1};
    pr = slot_producer(w, p->slot, p->sp->next_seq);
    /* CHUTE_TEST_SEQUENCE_SKEW=1 (tests only): the first batch of each
     * partition sealed after sequence 0 skips one sequence number, a gap
     * the broker must refuse (tests/integration/test_kafka_sequence.sh). */
    if (w->test_seq_skew && !p->skewed && pr.base_sequence > 0) {
        pr.base_sequence = idem_seq_add(pr.base_sequence, 1);
        p->skewed = true;
    }
    return pr;
}

/* The partition's next sequence moves only once the batch is SEALED; a
 * replacement catches it up from the sealed batches (producer_adopted). */
void producer_sealed(struct wrk *w, struct wpart *p,
                     const struct pool_chunk *ch)
{
    if (w->s->idempotent)
        p->sp->next_seq = idem_seq_add(ch->base_sequence, (int32_t)ch->count);
}

bool producer_adopted(struct wrk *w, struct wpart *p,
                      const struct pool_chunk *ch)
{
    const struct state_slot *ps = instance_pslot(w->in, p->slot);
    int32_t after = idem_seq_add(ch->base_sequence, (int32_t)ch->count);
    uint32_t ahead = ((uint32_t)after - (uint32_t)p->sp->next_seq) & 0x7fffffffu;

    if (!w->s->idempotent)
        return false;
    if (ch->producer_id != atomic_load(&ps->producer_id) ||
        ch->producer_epoch != atomic_load(&ps->epoch)) {
        w->bump_pending[p->slot] = true;
        return false;
    }
    if (ahead && ahead < (1u << 30))
        p->sp->next_seq = after;
    return true;
}

/* Restarts the slot's sequences at 0 under its current producer id and
 * epoch, and stamps every waiting batch with its new sequence. */
static void resequence(struct wrk *w, uint32_t slot)
{
    for (struct wpart *p = w->parts; p; p = p->next) {
        if (p->slot != slot)
            continue;
        struct idem_seq seq = {0, 0};
        for (int32_t i = p->q_head; i != WRK_NONE; i = w->chunk_next[i]) {
            struct pool_chunk *ch = chunk_at(&w->pool, i);
            struct chunk_producer pr = slot_producer(
                w, slot, idem_assign(&seq, (int32_t)ch->count));
            chunk_restamp(&w->pool, i, &pr);
        }
        p->sp->next_seq = seq.next_seq;
        p->sp->acked_seq = 0;
        p->confirmed_ms = 0; /* no broker knows the new epoch yet */
    }
}

static void bump_epoch(struct wrk *w, uint32_t slot)
{
    struct state_slot *ps = instance_pslot(w->in, slot);
    int32_t epoch = idem_next_epoch((int16_t)atomic_load(&ps->epoch));

    w->bump_pending[slot] = false;
    if (epoch < 0) {
        w->newpid_pending[slot] = true; /* epoch exhausted */
        return;
    }
    atomic_store(&ps->epoch, epoch);
    atomic_fetch_add(&ps->bumps, 1);
    resequence(w, slot);
    log_warn("slot %u: producer %lld bumped to epoch %d", slot,
             (long long)atomic_load(&ps->producer_id), epoch);
}

void producer_install(struct wrk *w, uint32_t slot, int64_t pid,
                      int16_t epoch)
{
    struct state_slot *ps = instance_pslot(w->in, slot);
    bool replacing = atomic_load(&ps->producer_id) >= 0;

    atomic_store(&ps->producer_id, pid);
    atomic_store(&ps->epoch, epoch);
    w->newpid_pending[slot] = false;
    w->bump_pending[slot] = false;
    if (replacing) {
        resequence(w, slot);
        log_warn("slot %u: new producer id %lld", slot, (long long)pid);
    }
}

/* A batch that may be in the log must not be re-stamped (see "unsure
 * batches" in sender.c). */
static bool slot_unsure(const struct wrk *w, uint32_t slot)
{
    for (const struct wpart *p = w->parts; p; p = p->next)
        if (p->slot == slot && part_unsure(w, p))
            return true;
    return false;
}

void producer_settle(struct wrk *w)
{
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->bump_pending[s] && !part_slot_in_flight(w, s) &&
            !slot_unsure(w, s))
            bump_epoch(w, s);
}

/* A fenced slot asks once nothing of it is in flight: the new id
 * re-sequences its waiting batches, and an answer to a batch of the old
 * id must not count against the new sequences. */
int producer_slot_needing_id(struct wrk *w)
{
    if (!w->s->idempotent)
        return -1;
    for (uint32_t s = 0; s < w->slot_count; s++)
        if (w->owned[s] &&
            ((w->newpid_pending[s] && !part_slot_in_flight(w, s)) ||
             atomic_load(&instance_pslot(w->in, s)->producer_id) < 0))
            return (int)s;
    return -1;
}
