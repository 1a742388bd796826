/*
 * wrk.h: the worker's private state, shared by its modules.  Data flows
 * one way, and so do the calls:
 *
 *   ring --accum.c--> open batch --(seal)--> partition queue --sender.c-->
 *   Produce request --(answer)--> resolve.c --> client counters, reports
 *
 *   worker.c   the libev loop; once per turn (before it sleeps) it acts on
 *              what the modules asked for: metadata, a send, a drain
 *   shard.c    slot hand-over; recover.c takes over what a predecessor left
 *   accum.c    drains the owned rings, checks records, fills and seals
 *   sender.c   queued batches to Produce requests, and what answers mean
 *   cluster.c  brokers, metadata, producer ids (InitProducerId)
 *   producer.c a slot's producer id, epoch and sequences; epoch bumps
 *   part.c     the partitions: queues of sealed and in-flight batches
 *   resolve.c  a batch's end: counters, delivery reports, resolved position
 *   chunk.c    the batch life cycle in a pool chunk (shared memory)
 *
 * A module calls only those listed below it (worker.c, shard.c and
 * recover.c call any).  A request up the list (the sender finds a
 * partition without a leader: metadata is wanted) is a flag in struct wrk
 * that the loop acts on.
 */
#ifndef CHUTE_WORKER_WRK_H
#define CHUTE_WORKER_WRK_H

#include "shm/instance.h"
#include "broker/bootstrap.h"
#include "broker/conn.h"
#include "worker/chunk.h"
#include "worker/worker.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define WRK_BROKER_MAX 64
#define WRK_NONE CHUNK_NONE

/* A partition this worker writes to. */
struct wpart {
    uint32_t topic;
    int32_t partition;
    uint32_t slot;
    int32_t open;             /* chunk being filled, or WRK_NONE */
    int32_t q_head, q_tail;   /* sealed chunks waiting, linked by chunk_next */
    int32_t f_head, f_tail;   /* chunks in flight, oldest first */
    int32_t inflight;         /* how many */
    int32_t inflight_node;    /* the broker they went to */
    bool recovering;          /* an answer failed: send nothing until every
                                 batch in flight is back, then resend */
    int64_t confirmed_ms;     /* last ack in the current epoch (the broker
                                 holds our sequence state: more than one
                                 batch may be in flight), 0 = none since
                                 an error, a bump or a leader change */
    struct state_partition *sp; /* sequence state (idempotence) */
    int32_t leader;           /* broker node id, -1 unknown */
    int64_t retry_at_ms;
    int retries;
    bool skewed;              /* CHUTE_TEST_SEQUENCE_SKEW: done here */
    struct wpart *next;       /* all partitions of the worker */
};

struct wtopic {
    bool known;
    char name[TOPIC_NAME_MAX + 1];
    struct topic_settings set; /* linger, batch limits, codec (live.c) */
    int32_t nparts;           /* size of parts[] */
    struct wpart **parts;     /* by partition * USER_MAX + user space: each
                                 user's slots are producers of their own */
    int16_t md_error;         /* last metadata error for the topic */
    int64_t over_logged_ms;   /* too many partitions, last said (cluster.c) */
};

struct broker {
    bool used;
    int32_t id;
    struct conn conn;
};

struct wrk {
    struct instance *in;
    const struct wrk_settings *s;
    uint32_t index;
    int32_t pid;
    struct ev_loop *loop;
    int wake_fd;
    ev_io wake_io;
    bool asleep;              /* owned slots say so (worker.c) */
    ev_idle drain_idle;
    ev_timer tick;            /* heartbeat, metadata age, timeouts */
    ev_prepare before_sleep;  /* acts on the flags below, once per turn */
    ev_timer linger;          /* earliest open batch deadline */
    ev_signal sigterm, sigint;
    bool stopping;
    int64_t last_record_ns;   /* CLOCK_MONOTONIC of the last drained record */
    uint64_t pass_records;    /* records appended by this accum_drain() */
    int64_t nap_ns;           /* the drain's current nap (worker.c) */
    int32_t linger_min_ms;    /* the least linger.ms of the known topics */

    uint32_t slot_count;
    bool owned[SLOT_MAX];
    bool leaving[SLOT_MAX];   /* being handed over: drained no more */
    struct ring rings[SLOT_MAX];
    int64_t pending_since_ms[SLOT_MAX]; /* head record not committed */
    int32_t slot_first[SLOT_MAX];       /* oldest unresolved chunk */
    int32_t slot_last[SLOT_MAX];
    struct chunk_pool pool;
    int32_t *chunk_next;      /* partition queue links (part.c) */
    int32_t *slot_next, *slot_prev; /* per-slot unresolved lists */
    bool *chunk_unsure;       /* sent in its epoch, and no answer said it
                                 was not written (sender.c) */
    bool pool_starved;        /* a record waits for a free pool chunk */

    /* Requests to the loop, acted on once per turn (worker.c). */
    bool chunk_freed;         /* a chunk came free: a starved drain goes on */
    bool pump_wanted;         /* something may be sendable: sender_pump */
    bool drain_wanted;        /* records may wait (a producer id came) */
    bool test_seq_skew;       /* CHUTE_TEST_SEQUENCE_SKEW=1 (tests only) */
    const char *test_poison;  /* CHUTE_TEST_POISON=crash:TEXT or hang:TEXT */
    bool test_poison_hang;    /* (tests only): see accum.c */
    /* CHUTE_TEST_REPORT_DEATH=half:FILE or unmarked:FILE (tests only):
     * see resolve.c */
    enum { REPORT_DEATH_NONE, REPORT_DEATH_HALF, REPORT_DEATH_UNMARKED }
        test_report_death;
    const char *test_report_death_file;

    struct wtopic topics[TOPIC_MAX];
    uint32_t topics_seen;     /* generation of the topic settings read */
    struct wpart *parts;      /* list of all partitions */

    struct broker brokers[WRK_BROKER_MAX];
    struct conn bootstrap;
    struct bootstrap servers; /* bootstrap.servers */
    bool metadata_in_flight, metadata_wanted;
    int64_t metadata_at_ms;   /* last successful refresh */
    int64_t metadata_sent_ms;
    int16_t metadata_ver;

    bool bump_pending[SLOT_MAX];   /* epoch bump once nothing is in flight */
    bool newpid_pending[SLOT_MAX]; /* a new producer id is needed */
    bool initpid_in_flight;
    int16_t initpid_ver;

    struct state_worker *stats;
    struct state_metrics *metrics;
};

/* accum.c */
/* Drains every owned ring once; returns the steps taken (records,
 * padding, skipped words), 0 if every ring was empty. */
unsigned accum_drain(struct wrk *w);
/* True if no owned ring holds anything to drain. */
bool accum_idle(struct wrk *w);
/* Seals open batches older than linger.ms (all of them if force);
 * returns the ms until the next one is due, or -1 if none is open. */
int64_t accum_seal_due(struct wrk *w, bool force);
/* Seals the partition's open batch and queues it; false while it cannot
 * be sealed yet (no producer id). */
bool accum_seal(struct wrk *w, struct wpart *p);
/* Seals the slot's open batches (they may wait for a producer id). */
void accum_seal_slot(struct wrk *w, uint32_t slot);

/* recover.c: takes over what a predecessor (dead, or the slot's previous
 * owner) left in the pool and the rings of `slots`. */
int recover_slots(struct wrk *w, const bool *slots);

/* shard.c */
/* Follows the supervisor's slot targets: hands over slots that should go,
 * takes slots handed to this worker.  Called from the tick. */
void shard_tick(struct wrk *w);
void shard_init(struct wrk *w);

/* sender.c */
/* One batch of a Produce request. */
struct req_entry {
    struct wpart *part;
    int32_t chunk;
    bool done;                /* answered */
};

struct produce_req {
    struct wrk *w;
    int32_t node;
    int16_t ver;
    int64_t sent_ns;
    size_t n;
    struct req_entry e[];
};

/* Sends what may go to every broker with room (what it finds is not yet
 * framed: sender_collect). */
void sender_pump(struct wrk *w);
/* The batches the next Produce request to broker `node` carries, moved in
 * flight, or NULL if none may go (its ver and sent_ns are the caller's
 * to fill).  Freed with free(). */
struct produce_req *sender_collect(struct wrk *w, int32_t node);
/* What the answer for one batch of a request means: acked, retried,
 * requeued, failed, a bump or a new producer id asked for. */
void sender_settle(struct wrk *w, struct req_entry *e, int16_t error,
                   int64_t offset);
/* Fails batches that waited longer than message.timeout.ms. */
void sender_expire(struct wrk *w);

/* cluster.c */
int cluster_init(struct wrk *w);
void cluster_release(struct wrk *w);
/* Sends the metadata request metadata_wanted asks for, if one may go. */
void cluster_turn(struct wrk *w);
void cluster_tick(struct wrk *w);
struct conn *cluster_conn(struct wrk *w, int32_t node_id);
/* The error records waiting for broker node_id (-1: for any, the
 * bootstrap connection included) fail with at message.timeout.ms when
 * that connection's last attempt failed in TLS or SASL
 * (SSL_HANDSHAKE_FAILED, SASL_AUTHENTICATION_FAILED); else `otherwise`. */
int16_t cluster_fault_error(struct wrk *w, int32_t node_id,
                            int16_t otherwise);

/* producer.c */
/* Whether the slot's batches may be sealed: it has a producer id, or
 * idempotence is off. */
bool producer_ready(struct wrk *w, uint32_t slot);
/* The producer fields of the partition's next batch. */
struct chunk_producer producer_next(struct wrk *w, struct wpart *p);
/* A batch of the partition was sealed with producer_next()'s fields. */
void producer_sealed(struct wrk *w, struct wpart *p,
                     const struct pool_chunk *ch);
/* A batch found left by a predecessor: the partition's next sequence
 * must follow it, or (another epoch) the slot must bump.  True when it
 * carries the slot's producer id and epoch: the predecessor may have sent
 * it, and the broker may hold it. */
bool producer_adopted(struct wrk *w, struct wpart *p,
                      const struct pool_chunk *ch);
/* Installs a producer id for a slot and re-sequences what it holds. */
void producer_install(struct wrk *w, uint32_t slot, int64_t pid,
                      int16_t epoch);
/* Bumps the epoch of slots that asked for it (bump_pending) once nothing
 * of theirs is in flight or unsure. */
void producer_settle(struct wrk *w);
/* A slot that needs a producer id (none yet, or its epoch spent or
 * fenced, once nothing of it is in flight), or -1. */
int producer_slot_needing_id(struct wrk *w);

/* part.c */
int part_init(struct wrk *w);
void part_release(struct wrk *w);
/* The partition, created (with its sequence state) on first use; a new
 * topic gets its settings and sets metadata_wanted.  NULL when out of
 * memory or state slots. */
struct wpart *part_get(struct wrk *w, uint32_t user, uint32_t topic,
                       int32_t partition);
/* Reads every known topic's settings again if the supervisor published
 * new ones (a reload); they apply to what is sealed from then on. */
void part_topics_apply(struct wrk *w);
/* Recomputes linger_min_ms (the drain's naps stay well within it). */
void part_linger_update(struct wrk *w);
/* Queues a sealed chunk behind the partition's others. */
void part_queue(struct wrk *w, struct wpart *p, int32_t chunk);
int32_t part_queue_pop(struct wrk *w, struct wpart *p);
/* Puts a batch back in its place: in sequence order with idempotence,
 * else at the head (the only batch in flight is the oldest). */
void part_queue_return(struct wrk *w, struct wpart *p, int32_t chunk);
void part_flight_push(struct wrk *w, struct wpart *p, int32_t chunk);
void part_flight_remove(struct wrk *w, struct wpart *p, int32_t chunk);
/* Distance of a batch's sequence from what the broker expects next: the
 * order of a partition's unacknowledged batches, wrap-around included. */
uint32_t part_seq_order(const struct wrk *w, const struct wpart *p,
                        int32_t chunk);
/* Whether a queued batch of the partition may have been written (see
 * "unsure batches" in sender.c). */
bool part_unsure(const struct wrk *w, const struct wpart *p);
/* True while a batch of the slot is in flight. */
bool part_slot_in_flight(const struct wrk *w, uint32_t slot);

/* resolve.c */
int resolve_init(struct wrk *w);
void resolve_release(struct wrk *w);
/* Adds a chunk to its slot's list of unresolved chunks (in ring order). */
void resolve_track(struct wrk *w, uint32_t slot, int32_t chunk);
/* A sealed copy takes the place of chunk `old` in its slot's list. */
void resolve_replace(struct wrk *w, uint32_t slot, int32_t old, int32_t by);
/* Resolves a chunk (acked at base_offset, -1 unknown, or failed with
 * error): counters, reports, published position; frees it. */
void resolve_batch(struct wrk *w, int32_t chunk, int16_t error,
                   int64_t base_offset);
/* Fails one record that never made it into a batch. */
void resolve_record(struct wrk *w, const struct ring_rec *rec, int16_t error);
/* Charges a record the worker dropped to the client that wrote it. */
void resolve_rejected(struct wrk *w, uint32_t slot, const struct ring_rec *rec);
/* The client a record of `slot` belongs to, or RESOLVE_NOBODY when the
 * entry it names is not of the slot's user or not its writer's. */
#define RESOLVE_NOBODY UINT16_MAX
uint16_t resolve_writer(struct wrk *w, uint32_t slot,
                        const struct ring_rec *rec);
/* Publishes how far the slot is resolved (chute_flush waits on it). */
void resolve_publish(struct wrk *w, uint32_t slot);
/* True when nothing of the slot (of any owned slot) is unresolved. */
bool resolve_slot_empty(struct wrk *w, uint32_t slot);
bool resolve_empty(struct wrk *w);

#endif
