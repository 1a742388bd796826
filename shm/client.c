/*
 * client.c: libchute, the library applications link to hand records to a
 * chute instance.  chute_send() encodes the record straight into the
 * slot's shared-memory ring: a CAS to claim space, a copy, a release store
 * to commit.  It makes no system call unless the owning worker sleeps (one
 * sendto to wake it) or the ring is full.
 */
#include "common/err.h"
#include "common/name.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/kafka.h"
#include "proto/murmur2.h"
#include "proto/record.h"
#include "chute/chute.h"
#include "shm/ctlclient.h"
#include "shm/instance.h"
#include "shm/wake.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_HEADERS_ON_STACK 32
#define CTL_TIMEOUT_MS 30000
#define CTL_BYE_TIMEOUT_MS 1000 /* best effort: a dead entry is reclaimed */

struct sticky {
    int32_t partition;
    int64_t until_ns;
};

struct chute {
    struct instance in;
    unsigned fork_gen;        /* fork_generation when pid was taken */
    int wake_fd;
    int32_t pid;
    uint32_t client_idx;
    uint32_t user;            /* our uid's user space */
    const struct status_client *entry; /* read-only: the service's */
    struct intake_client_stat *stat;
    uint64_t sent;
    uint64_t failed_seen;
    uint64_t *slot_end;       /* per slot: end of our last record there */
    uint32_t *woken;          /* per slot: the owner's sleep we rang for */
    struct sticky *sticky;    /* per topic */
    uint64_t rng;
    int64_t anchor_real_ns;   /* accepted_ns(): the clocks, read together */
    int64_t anchor_mono_ns;
    bool block_when_full;
    int max_block_ms;
    int sticky_ms;
    int32_t report_ring;      /* -1: no delivery reports */
    struct ring reports;
    uint64_t reports_owed;    /* records sent with reports, not yet polled */
    int64_t report_stall_ms;  /* since when a report at the head is pending */
};

/*
 * Fork: a child inherits the parent's chute_t, whose client entry, report
 * ring and unresolved records are the parent's.  Each fork bumps
 * fork_generation in the child; the first call there that sees a handle
 * of an older generation makes the child a client of its own (the parent
 * may exit or go on using the handle, unaffected).
 */
static atomic_uint fork_generation;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add_explicit(&fork_generation, 1, memory_order_relaxed);
}

static void install_fork_hook(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

static bool forked(const chute_t *c)
{
    return atomic_load_explicit(&fork_generation, memory_order_relaxed) !=
           c->fork_gen;
}

/* Registers the process with the service, which fills in an entry of
 * the client table with the kernel's word on who it is, and passes the
 * object of its uid's user space (whose rings it writes to). */
static int register_client(chute_t *c)
{
    uint32_t user;
    int fd = -1, idx = ctlclient_register(c->in.name, CTL_TIMEOUT_MS, &user,
                                          &fd);

    if (idx < 0)
        return idx;
    if (c->in.user[user]) {
        close(fd); /* a forked child: the parent's mapping serves */
    } else {
        int rc = instance_attach_user(&c->in, user, fd);
        if (rc < 0)
            return rc;
    }
    c->user = user;
    c->client_idx = (uint32_t)idx;
    c->entry = instance_client(&c->in, c->client_idx);
    c->stat = instance_client_stat(&c->in, user, c->client_idx);
    c->sent = 0;
    c->failed_seen = atomic_load(&c->entry->records_failed);
    return 0;
}

static int open_steps(chute_t *c, const char *name)
{
    int rc = instance_attach_status(&c->in, name);

    if (rc < 0)
        return rc;
    if (!pid_alive(c->in.status->supervisor_pid))
        return err_set(CHUTE_ERR_NO_SERVICE,
                       "no chute service named \"%s\" is running "
                       "(its supervisor, pid %d, is gone)",
                       name, c->in.status->supervisor_pid);
    c->wake_fd = wake_socket();
    if (c->wake_fd < 0)
        return c->wake_fd;
    c->slot_end = calloc(c->in.slots, sizeof(*c->slot_end));
    c->woken = calloc(c->in.slots, sizeof(*c->woken));
    c->sticky = calloc(TOPIC_MAX, sizeof(*c->sticky));
    if (!c->slot_end || !c->woken || !c->sticky)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    for (uint32_t t = 0; t < TOPIC_MAX; t++)
        c->sticky[t].partition = -1;
    c->block_when_full = !c->in.status->queue_full_fail;
    c->max_block_ms = (int)c->in.status->max_block_ms;
    /* A service that does not answer fails chute_open here.  The
     * connection is not kept: chuted caps connections per user
     * (control.connections.per.user) and closes idle ones. */
    return register_client(c);
}

int chute_open(const char *name, chute_t **out)
{
    chute_t *c;
    int rc;

    if (!out)
        return err_set(CHUTE_ERR_INVALID, "chute_open: out is NULL");
    *out = NULL;
    if (!name)
        name = "default";
    if (name_check(name) < 0)
        return CHUTE_ERR_INVALID;
    c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    c->wake_fd = -1;
    pthread_once(&fork_hook_once, install_fork_hook);
    c->fork_gen = atomic_load(&fork_generation);
    c->pid = getpid();
    c->rng = (uint64_t)clock_ns(CLOCK_MONOTONIC) ^ ((uint64_t)c->pid << 32);
    c->sticky_ms = 10;
    c->report_ring = -1;
    rc = open_steps(c, name);
    if (rc < 0) {
        chute_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void chute_close(chute_t *c)
{
    if (!c)
        return;
    /* In a child that never used the handle, the entry is the parent's. */
    if (c->entry && !forked(c))
        ctlclient_bye(c->in.name, c->client_idx, CTL_BYE_TIMEOUT_MS);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    instance_detach(&c->in);
    free(c->slot_end);
    free(c->woken);
    free(c->sticky);
    free(c);
}

/* Asks the service for a delivery-report ring of our own, and empties
 * it. */
static int enable_reports(chute_t *c)
{
    int ring = ctlclient_reports(c->in.name, c->client_idx, true,
                                 CTL_TIMEOUT_MS);

    if (ring < 0)
        return ring;
    if (ring != c->report_ring) {
        instance_report_ring(&c->in, (uint32_t)ring, &c->reports);
        ring_consume(&c->reports, ring_tail(&c->reports));
        c->report_ring = ring;
    }
    return 0;
}

/* In a forked child, on the first call with an inherited handle: a
 * client entry, a wake socket and (if the parent had them) a report ring
 * of its own; the parent's unresolved records are not the child's to
 * flush. */
static int become_own_client(chute_t *c)
{
    bool reports = c->report_ring >= 0;

    c->fork_gen = atomic_load(&fork_generation);
    c->pid = getpid();
    c->rng ^= (uint64_t)c->pid << 32 | (uint64_t)clock_ns(CLOCK_MONOTONIC);
    c->entry = NULL;
    c->report_ring = -1;
    memset(c->woken, 0, c->in.slots * sizeof(*c->woken));
    c->reports_owed = 0;
    c->report_stall_ms = 0;
    memset(c->slot_end, 0, c->in.slots * sizeof(*c->slot_end));
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    c->wake_fd = wake_socket();
    if (c->wake_fd < 0)
        return c->wake_fd;
    int rc = register_client(c);
    return rc < 0 || !reports ? rc : enable_reports(c);
}

/* Every entry point that uses the client's identity starts here. */
static int own_handle(chute_t *c)
{
    if (__builtin_expect(forked(c), 0))
        return become_own_client(c);
    return c->entry ? 0
                    : err_set(CHUTE_ERR_INVALID,
                              "this handle's client registration failed "
                              "after fork");
}

int chute_set(chute_t *c, const char *key, const char *value)
{
    char *end;
    long v;

    if (!c || !key || !value)
        return err_set(CHUTE_ERR_INVALID, "chute_set: NULL argument");
    int rc = own_handle(c);
    if (rc < 0)
        return rc;
    if (strcmp(key, "delivery.reports") == 0) {
        if (strcmp(value, "true") && strcmp(value, "false"))
            return err_set(CHUTE_ERR_INVALID,
                           "\"delivery.reports\": \"%s\" is not true or "
                           "false", value);
        if (strcmp(value, "true") == 0)
            return enable_reports(c);
        /* The ring stays ours: reports already due can still be polled. */
        if (c->report_ring >= 0) {
            int ring = ctlclient_reports(c->in.name, c->client_idx, false,
                                         CTL_TIMEOUT_MS);
            return ring < 0 ? ring : 0;
        }
        return 0;
    }
    if (strcmp(key, "queue.full.policy") == 0) {
        if (strcmp(value, "block") && strcmp(value, "fail"))
            return err_set(CHUTE_ERR_INVALID,
                           "\"queue.full.policy\": \"%s\" is not block or fail",
                           value);
        c->block_when_full = strcmp(value, "block") == 0;
        return 0;
    }
    v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < 0 || v > 86400000)
        return err_set(CHUTE_ERR_INVALID, "\"%s\": \"%s\" is not a duration "
                       "in ms", key, value);
    if (strcmp(key, "max.block.ms") == 0)
        c->max_block_ms = (int)v;
    else if (strcmp(key, "sticky.partitioning.linger.ms") == 0)
        c->sticky_ms = (int)v;
    else
        return err_set(CHUTE_ERR_INVALID, "unknown client property \"%s\"", key);
    return 0;
}

static struct status_topic *topic_entry(chute_t *c, chute_topic_t topic)
{
    struct status_topic *t;

    if (topic < 0 || topic >= TOPIC_MAX)
        return NULL;
    t = instance_topic(&c->in, (uint32_t)topic);
    if (atomic_load_explicit(&t->state, memory_order_acquire) != TOPIC_READY)
        return NULL;
    return t;
}

int chute_topic(chute_t *c, const char *name)
{
    int id, fd;

    if (!c || !name || !*name || strlen(name) > TOPIC_NAME_MAX)
        return err_set(CHUTE_ERR_INVALID, "invalid topic name");
    /* Known here when the service let our user space write it already;
     * else the service decides (topic access rules). */
    id = instance_find_topic(&c->in, name);
    if (id >= 0 && c->entry && !forked(c) &&
        instance_user_may(&c->in, c->user, (uint32_t)id))
        return id;
    /* A connection of its own each time: the supervisor may have been
     * replaced since chute_open (the shared memory is the same, only the
     * socket is new), and look-ups are rare (the topic table caches
     * them). */
    fd = ctlclient_connect(c->in.name, CTL_TIMEOUT_MS);
    if (fd < 0)
        return fd;
    id = ctlclient_resolve(fd, name, CTL_TIMEOUT_MS);
    close(fd);
    return id;
}

int chute_topic_partitions(chute_t *c, chute_topic_t topic)
{
    struct status_topic *t = c ? topic_entry(c, topic) : NULL;

    if (!t)
        return err_set(CHUTE_ERR_INVALID, "topic %d is not resolved", topic);
    return (int)atomic_load(&t->partitions);
}

static uint32_t next_random(chute_t *c)
{
    /* xorshift64*: cheap, and good enough to spread sticky partitions. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (uint32_t)((c->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Records without a key stick to one partition for sticky.partitioning.
 * linger.ms, then move to another, as librdkafka does. */
static int32_t sticky_partition(chute_t *c, chute_topic_t topic,
                                int32_t partitions)
{
    struct sticky *s = &c->sticky[topic];
    int64_t now = clock_ns(CLOCK_MONOTONIC);

    if (s->partition < 0 || s->partition >= partitions || now >= s->until_ns) {
        int32_t p = (int32_t)(next_random(c) % (uint32_t)partitions);
        if (p == s->partition && partitions > 1)
            p = (p + 1) % partitions;
        s->partition = p;
        s->until_ns = now + (int64_t)c->sticky_ms * 1000000;
    }
    return s->partition;
}

static int choose_partition(chute_t *c, const chute_record_t *rec,
                            int32_t partitions)
{
    if (partitions <= 0)
        return err_set(CHUTE_ERR_UNKNOWN_TOPIC, "topic %d has no partitions",
                       rec->topic);
    if (rec->partition != CHUTE_PARTITION_UA) {
        if (rec->partition < 0 || rec->partition >= partitions)
            return err_set(CHUTE_ERR_PARTITION,
                           "partition %d is out of range (topic %d has %d)",
                           rec->partition, rec->topic, partitions);
        return rec->partition;
    }
    if (rec->key)
        return murmur2_partition(rec->key, rec->key_len, partitions);
    return sticky_partition(c, rec->topic, partitions);
}

/* Converts the public header array to the encoder's form.  Returns the
 * array to use (hs or a heap copy) or NULL on failure. */
static struct record_header *convert_headers(const chute_record_t *rec,
                                             struct record_header *hs)
{
    struct record_header *h = hs;

    if (rec->header_count > CLIENT_HEADERS_ON_STACK) {
        h = malloc(rec->header_count * sizeof(*h));
        if (!h)
            return NULL;
    }
    for (size_t i = 0; i < rec->header_count; i++) {
        const chute_header_t *src = &rec->headers[i];
        h[i].key = src->key;
        h[i].key_len = strlen(src->key);
        h[i].value = src->value;
        h[i].value_len = src->value ? (int32_t)src->value_len : -1;
    }
    return h;
}

static bool record_args_ok(const chute_record_t *rec)
{
    if (rec->key_len > INT32_MAX || rec->value_len > INT32_MAX ||
        rec->header_count > INT32_MAX || (rec->header_count && !rec->headers))
        return false;
    for (size_t i = 0; i < rec->header_count; i++)
        if (!rec->headers[i].key || rec->headers[i].value_len > INT32_MAX)
            return false;
    return true;
}

/* Claims ring space, following queue.full.policy when the ring is full. */
static struct ring_rec *claim(chute_t *c, struct ring *r, uint32_t slot,
                              uint32_t len, uint64_t *end)
{
    int64_t deadline = 0;
    struct timespec nap = {0, 100000};

    for (unsigned spins = 0;; spins++) {
        struct ring_rec *rec = ring_claim(r, len, c->pid, end);
        if (rec)
            return rec;
        if (!c->block_when_full)
            break;
        if (spins == 0) {
            deadline = clock_ns(CLOCK_MONOTONIC) +
                       (int64_t)c->max_block_ms * 1000000;
            wake_ring(c->wake_fd, c->in.name,
                      (uint32_t)atomic_load(&r->cons->owner));
        } else if (clock_ns(CLOCK_MONOTONIC) >= deadline) {
            break;
        }
        nanosleep(&nap, NULL);
    }
    err_set(CHUTE_ERR_QUEUE_FULL, "the ring of slot %u is full%s", slot,
            c->block_when_full ? " (waited max.block.ms)" : "");
    return NULL;
}

/* Rings the owner's doorbell if it sleeps, once per sleep of its (the
 * worker bumps `sleeping` to a new odd value each time it sleeps). */
static void wake_owner(chute_t *c, struct ring *r, uint32_t slot)
{
    uint32_t sleep;

    /* Pairs with the worker's seq_cst fence between setting `sleeping`
     * and its last look at the ring: our claim and commit are seq_cst
     * operations and so is this load, so either the worker saw the claim
     * or this sees it asleep (C11 7.17.3: a load after a fence in the
     * total order sees what was stored before the fence).  On x86 the
     * claim's locked CAS is the barrier; no fence instruction per record. */
    sleep = atomic_load_explicit(&r->cons->sleeping, memory_order_seq_cst);
    if ((sleep & 1) && c->woken[slot] != sleep) {
        c->woken[slot] = sleep;
        wake_ring(c->wake_fd, c->in.name,
                  (uint32_t)atomic_load(&r->cons->owner));
    }
}

/* A record's accepted time (CLOCK_MONOTONIC: linger.ms and
 * message.timeout.ms run from it) from the realtime clock read for its
 * timestamp: the two clocks advance together, so the monotonic one is
 * read again only when realtime left the last reading's 100 ms window (or
 * stepped back).  One clock read per record instead of two.  Not the
 * coarse clock: it lags by up to a tick (4 ms at HZ=250), which would cut
 * linger.ms short by as much. */
#define ACCEPTED_WINDOW_NS 100000000
static int64_t accepted_ns(chute_t *c, int64_t real_ns)
{
    int64_t d = real_ns - c->anchor_real_ns;

    if (d < 0 || d >= ACCEPTED_WINDOW_NS) {
        c->anchor_real_ns = real_ns;
        c->anchor_mono_ns = clock_ns(CLOCK_MONOTONIC);
        d = 0;
    }
    return c->anchor_mono_ns + d;
}

static int write_record(chute_t *c, const chute_record_t *rec,
                        int32_t partition, const struct record_header *h)
{
    int32_t klen = rec->key ? (int32_t)rec->key_len : -1;
    int32_t vlen = rec->value ? (int32_t)rec->value_len : -1;
    size_t tail = record_tail_size(rec->key, klen, rec->value, vlen, h,
                                   rec->header_count);
    uint32_t slot = layout_user_slot(c->user, (uint32_t)rec->topic, partition,
                                     c->in.user_slots);
    uint32_t len, max = c->in.status->max_record;
    struct ring r;
    uint64_t end;

    if (tail + BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX > max ||
        tail + sizeof(struct ring_rec) > ring_max_record(c->in.ring_size))
        return err_set(CHUTE_ERR_TOO_LARGE,
                       "record of %zu bytes is larger than "
                       "message.max.bytes (%u)",
                       tail + BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX, max);
    len = ring_align((uint32_t)(sizeof(struct ring_rec) + tail));
    instance_ring(&c->in, slot, &r);
    struct ring_rec *rr = claim(c, &r, slot, len, &end);
    if (!rr)
        return CHUTE_ERR_QUEUE_FULL;
    rr->client = (uint16_t)c->client_idx;
    rr->reserved = 0;
    rr->topic = (uint32_t)rec->topic;
    rr->partition = partition;
    rr->tail_len = (uint32_t)tail;
    rr->opaque = rec->opaque;
    if (rec->timestamp_ms >= 0) {
        rr->accepted_ns = clock_ns(CLOCK_MONOTONIC);
        rr->timestamp = rec->timestamp_ms;
    } else {
        int64_t now = clock_ns(CLOCK_REALTIME);
        rr->accepted_ns = accepted_ns(c, now);
        rr->timestamp = now / 1000000;
    }
    uint8_t *body = (uint8_t *)(rr + 1);
    record_tail_write(body, rec->key, klen, rec->value, vlen, h,
                      rec->header_count);
    memset(body + tail, 0, len - sizeof(*rr) - tail);
    if (!ring_commit(rr, len))
        return err_set(CHUTE_ERR_TIMED_OUT, "the service skipped this record: "
                       "writing it took longer than ring.claim.timeout.ms");
    c->slot_end[slot] = end;
    atomic_store_explicit(&c->stat->records_sent, ++c->sent,
                          memory_order_relaxed);
    wake_owner(c, &r, slot);
    return partition;
}

/* Counts a refusal by reason for the service's metrics. */
static int refused(chute_t *c, int err)
{
    enum intake_refusal why = err == CHUTE_ERR_TOO_LARGE    ? REFUSED_TOO_LARGE
                              : err == CHUTE_ERR_QUEUE_FULL ? REFUSED_QUEUE_FULL
                              : err == CHUTE_ERR_CLOSED     ? REFUSED_CLOSED
                                                            : REFUSED_INVALID;

    atomic_fetch_add_explicit(&c->in.user[c->user]->refused[why], 1,
                              memory_order_relaxed);
    return err;
}

static int send_record(chute_t *c, const chute_record_t *rec);

int chute_send(chute_t *c, const chute_record_t *rec)
{
    int rc;

    if (!c)
        return err_set(CHUTE_ERR_INVALID, "chute_send: NULL handle");
    rc = own_handle(c);
    if (rc < 0)
        return rc;
    rc = send_record(c, rec);
    return rc < 0 ? refused(c, rc) : rc;
}

static int send_record(chute_t *c, const chute_record_t *rec)
{
    struct record_header stack[CLIENT_HEADERS_ON_STACK], *h;
    struct status_topic *t;
    int partition, rc;

    if (!c || !rec || !record_args_ok(rec))
        return err_set(CHUTE_ERR_INVALID, "chute_send: invalid record");
    /* The report ring must hold every report this client is owed: one that
     * does not poll its reports gets no more records in. */
    if (c->report_ring >= 0 &&
        c->reports_owed >= REPORT_CAPACITY)
        return err_set(CHUTE_ERR_QUEUE_FULL,
                       "%llu delivery reports are waiting: call "
                       "chute_poll_reports()",
                       (unsigned long long)c->reports_owed);
    if (!atomic_load_explicit(&c->in.status->accepting, memory_order_relaxed))
        return err_set(CHUTE_ERR_CLOSED, "chute \"%s\" stopped accepting "
                       "records", c->in.name);
    t = topic_entry(c, rec->topic);
    if (!t)
        return err_set(CHUTE_ERR_INVALID, "topic %d is not resolved "
                       "(call chute_topic first)", rec->topic);
    partition = choose_partition(
        c, rec, (int32_t)atomic_load_explicit(&t->partitions,
                                              memory_order_relaxed));
    if (partition < 0)
        return partition;
    h = convert_headers(rec, stack);
    if (!h)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    rc = write_record(c, rec, partition, h);
    if (h != stack)
        free(h);
    if (rc >= 0 && c->report_ring >= 0)
        c->reports_owed++;
    return rc;
}

static bool all_resolved(chute_t *c)
{
    for (uint32_t s = 0; s < c->in.slots; s++) {
        struct ring r;

        if (c->slot_end[s] == 0)
            continue;
        instance_ring(&c->in, s, &r);
        if (atomic_load_explicit(&r.cons->resolved, memory_order_acquire) <
            c->slot_end[s])
            return false;
        c->slot_end[s] = 0;
    }
    return true;
}

int chute_flush(chute_t *c, int timeout_ms)
{
    int64_t deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)timeout_ms * 1000000;
    struct timespec nap = {0, 1000000};
    uint64_t failed;

    if (!c)
        return err_set(CHUTE_ERR_INVALID, "chute_flush: NULL handle");
    int rc = own_handle(c);
    if (rc < 0)
        return rc;
    while (!all_resolved(c)) {
        if (timeout_ms >= 0 && clock_ns(CLOCK_MONOTONIC) >= deadline)
            return err_set(CHUTE_ERR_TIMED_OUT,
                           "flush timed out after %d ms", timeout_ms);
        nanosleep(&nap, NULL);
    }
    failed = atomic_load(&c->entry->records_failed) - c->failed_seen;
    c->failed_seen += failed;
    return failed > INT32_MAX ? INT32_MAX : (int)failed;
}

/* A worker died while writing a report: skip its claim (the worker that
 * takes over reports that batch again).  A claim with no word yet (its
 * worker died between moving the tail and marking the claim; a span of
 * reports takes longer to mark than one) is skipped after RING_UNBLOCK_MS,
 * or at once when every record this client sent is resolved: a worker
 * commits a record's report before it publishes the record resolved, so
 * no live worker still claims for them, and the reports past the claim
 * (its successor's) are readable as soon as chute_flush() returns. */
static bool report_unblock(chute_t *c, uint64_t pos, const struct ring_view *v)
{
    int64_t now = clock_ns(CLOCK_MONOTONIC) / 1000000;

    if (v->rec)
        return !pid_alive(v->pid) &&
               ring_abandon(&c->reports, pos, -(int32_t)v->len);
    if (!c->report_stall_ms)
        c->report_stall_ms = now;
    return (now - c->report_stall_ms >= RING_UNBLOCK_MS || all_resolved(c)) &&
           ring_unblock(&c->reports, pos) > 0;
}

/*
 * A report that may repeat one already taken (REPORT_REPEAT) is not
 * counted against reports_owed: counting a repeat would leave the count
 * short of what the ring must still hold, and the worker would find it
 * full.  Not counting one that was no repeat leaves the count high, until
 * every record sent is resolved and every report taken: then nothing is
 * owed, whatever the count said.  Resolved positions are published after
 * their reports are committed, so read them first, then the ring.
 */
static void settle_owed(chute_t *c, uint64_t pos)
{
    struct ring_view v;

    if (!c->reports_owed || ring_peek(&c->reports, pos, &v) != RING_EMPTY)
        return;
    if (all_resolved(c) && ring_peek(&c->reports, pos, &v) == RING_EMPTY)
        c->reports_owed = 0;
}

int chute_poll_reports(chute_t *c, chute_report_t *out, size_t max)
{
    uint64_t pos;
    size_t n = 0, fresh = 0;
    struct ring_view v;

    if (!c || (!out && max))
        return err_set(CHUTE_ERR_INVALID, "chute_poll_reports: NULL argument");
    int rc = own_handle(c);
    if (rc < 0)
        return rc;
    if (c->report_ring < 0)
        return err_set(CHUTE_ERR_INVALID, "delivery reports are not enabled");
    pos = ring_head(&c->reports);
    while (n < max) {
        enum ring_peek k = ring_peek(&c->reports, pos, &v);
        if (k == RING_PENDING && report_unblock(c, pos, &v))
            continue;
        if (k == RING_EMPTY || k == RING_PENDING)
            break;
        c->report_stall_ms = 0;
        if (k == RING_RECORD &&
            v.rec->tail_len == sizeof(struct ring_report)) {
            const struct ring_report *r = (const void *)(v.rec + 1);
            out[n++] = (chute_report_t){r->opaque, (chute_topic_t)v.rec->topic,
                                        v.rec->partition, r->offset, r->error};
            fresh += !(r->flags & REPORT_REPEAT);
        }
        pos += v.len;
    }
    ring_consume(&c->reports, pos);
    c->reports_owed -= fresh < c->reports_owed ? fresh : c->reports_owed;
    settle_owed(c, pos);
    return (int)n;
}

uint64_t chute_reports_lost(chute_t *c)
{
    return c && c->entry && !forked(c) ? atomic_load(&c->entry->reports_lost)
                                        : 0;
}

const char *chute_kafka_err_name(int32_t code)
{
    return kafka_err_name((int16_t)code);
}
