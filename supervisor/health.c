/*
 * health.c: no worker holds its slots forever, and no slot's data makes
 * workers die forever.
 *
 * A worker's loop writes its heartbeat (state_worker.heartbeat_ms) every
 * 100 ms.  One whose heartbeat (or start, if it has none yet) is older than
 * worker.heartbeat.timeout.ms is stuck: it gets SIGKILL, and child_cb
 * restarts it as after any death; its replacement takes over from the
 * shared state (docs/crash-consistency.md).
 *
 * While it drains, a worker publishes the slot and the ring position of
 * the record at hand (drain_slot, drain_pos).  When workers die twice in a
 * row at the same slot and position, killed or crashed, the data there
 * kills them: before the next one starts, that slot's ring content is
 * quarantined.  Its committed records are charged as failed to the
 * clients that wrote them and counted as invalid, its bytes as corrupt,
 * and the consumer position moves to the tail, so the slot goes on with
 * what clients send next.
 */
#include "supervisor/sup.h"

#include "common/log.h"
#include "common/proc.h"
#include "shm/ring.h"

#include <signal.h>

#define HEALTH_CHECK_S 0.25
#define HEALTH_DEATHS 2 /* deaths at one (slot, position) that quarantine */

bool health_suspect(struct health_suspect *h, uint64_t pos)
{
    if (h->deaths == 0 || h->pos != pos) {
        h->pos = pos;
        h->deaths = 0;
    }
    if (++h->deaths < HEALTH_DEATHS)
        return false;
    h->deaths = 0;
    return true;
}

/* A committed or claimed record is charged to the client it names only
 * if that client's pid wrote it (as worker/resolve.c does). */
static void charge(const struct instance *in, const struct ring_rec *rec,
                   int32_t pid)
{
    struct status_client *c;

    if (rec->client >= CLIENT_MAX || pid == 0)
        return;
    c = instance_client(in, rec->client);
    if (atomic_load(&c->pid) == pid)
        atomic_fetch_add(&c->records_failed, 1);
}

uint64_t health_quarantine_ring(const struct instance *in, struct ring *r,
                                uint64_t *records)
{
    uint64_t head = ring_head(r), limit = ring_limit(r), pos = head;
    bool sane = ring_tail_sane(r, head, ring_tail(r));
    struct ring_view v;

    *records = 0;
    while (pos - head < r->size) {
        enum ring_peek k = ring_peek(r, pos, &v);
        if (k == RING_EMPTY || (k == RING_PENDING && !v.rec))
            break; /* an unwritten claim: how long, nobody knows */
        if (k == RING_RECORD || k == RING_PENDING) {
            charge(in, v.rec, k == RING_RECORD ? v.rec->pid : v.pid);
            (*records)++;
        }
        pos += v.len;
    }
    /* What clients commit from now on stays: only what was there. */
    if (!sane)
        return ring_skip(r);
    ring_consume(r, limit);
    return limit - head;
}

/* Quarantines slot's ring content on behalf of dead worker `index`. */
static void quarantine(struct sup *s, uint32_t index, uint32_t slot,
                       uint64_t pos)
{
    struct ring r;
    uint64_t bytes, records;

    instance_ring(&s->in, slot, &r);
    bytes = health_quarantine_ring(&s->in, &r, &records);
    atomic_fetch_add(&r.cons->corrupt, bytes);
    atomic_fetch_add(&instance_worker(&s->in, index)->records_invalid,
                     records);
    log_error("slot %u: workers died %d times in a row draining ring "
              "position %llu; quarantined the slot's ring content: %llu "
              "records (%llu bytes) skipped, charged as failed to their "
              "clients",
              slot, HEALTH_DEATHS, (unsigned long long)pos,
              (unsigned long long)records, (unsigned long long)bytes);
}

void health_worker_died(struct sup *s, uint32_t index)
{
    struct state_worker *st = instance_worker(&s->in, index);
    uint32_t slot = atomic_load(&st->drain_slot);
    uint64_t pos = atomic_load(&st->drain_pos);

    if (slot == 0 || slot > s->in.slots)
        return; /* it died elsewhere than in a ring's records */
    slot--;
    if (health_suspect(&s->suspects[slot], pos))
        quarantine(s, index, slot, pos);
}

void health_worker_started(struct sup *s, uint32_t index)
{
    struct state_worker *st = instance_worker(&s->in, index);

    /* Its predecessor's drain position is not its own. */
    atomic_store(&st->drain_slot, 0);
    s->workers[index].killed = false;
}

/* The last sign of life: the heartbeat, or the start if it has none yet
 * (its predecessor's heartbeat is older). */
static int64_t last_beat(const struct state_worker *st)
{
    uint64_t beat = atomic_load(&st->heartbeat_ms);
    uint64_t started = atomic_load(&st->started_ms);

    return (int64_t)(beat > started ? beat : started);
}

static void check_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct sup *s = t->data;
    int limit = s->cfg.worker_heartbeat_timeout_ms;
    int64_t now = mono_ms();

    (void)loop;
    (void)revents;
    if (limit == 0)
        return;
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct sup_worker *w = &s->workers[i];
        int64_t age;

        if (w->pid <= 0 || w->killed)
            continue;
        age = now - last_beat(instance_worker(&s->in, i));
        if (age <= limit)
            continue;
        log_error("worker %u (pid %d): no heartbeat for %lld ms "
                  "(worker.heartbeat.timeout.ms is %d): killing it",
                  i, w->pid, (long long)age, limit);
        kill(w->pid, SIGKILL);
        w->killed = true;
    }
}

void health_start(struct sup *s)
{
    ev_timer_init(&s->health, check_cb, HEALTH_CHECK_S, HEALTH_CHECK_S);
    s->health.data = s;
    ev_timer_start(s->loop, &s->health);
}
