/*
 * wrk.h: the worker's private state, shared by its modules:
 *   accum.c    drain the owned rings into per-partition batches in the pool
 *   sender.c   turn sealed batches into Produce requests, handle answers
 *   cluster.c  broker connections and metadata
 *   worker.c   the libev loop that drives them
 */
#ifndef CHUTE_WORKER_WRK_H
#define CHUTE_WORKER_WRK_H

#include "shm/instance.h"
#include "broker/bootstrap.h"
#include "broker/conn.h"
#include "worker/worker.h"

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#define WRK_BROKER_MAX 64
#define WRK_NONE (-1)

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
    int32_t nparts;           /* size of parts[] */
    struct wpart **parts;
    int16_t md_error;         /* last metadata error for the topic */
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
    ev_idle drain_idle;
    ev_timer tick;            /* heartbeat, metadata age, timeouts */
    ev_check turn;            /* after each loop turn: chunk_freed */
    ev_timer linger;          /* earliest open batch deadline */
    ev_signal sigterm, sigint;
    bool stopping;
    int64_t last_record_ns;   /* CLOCK_MONOTONIC of the last drained record */

    uint32_t slot_count;
    bool owned[SLOT_MAX];
    bool leaving[SLOT_MAX];   /* being handed over: drained no more */
    struct ring rings[SLOT_MAX];
    int64_t pending_since_ms[SLOT_MAX]; /* head record not committed */
    int32_t slot_first[SLOT_MAX];       /* oldest unresolved chunk */
    int32_t slot_last[SLOT_MAX];
    int32_t *chunk_next;      /* partition queue links */
    int32_t *slot_next, *slot_prev; /* per-slot unresolved lists */
    struct wpart **chunk_part;
    bool *chunk_unsure;       /* sent in its epoch, and no answer said it
                                 was not written (sender.c) */
    uint32_t alloc_hint;
    bool pool_starved;        /* a record waits for a free pool chunk */
    bool chunk_freed;         /* this turn freed a chunk (accum_resolve) */
    bool test_seq_skew;       /* CHUTE_TEST_SEQUENCE_SKEW=1 (tests only) */

    struct wtopic topics[TOPIC_MAX];
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

    uint8_t *scratch;         /* compression output */
    size_t scratch_cap;
    struct state_worker *stats;
    struct state_metrics *metrics;
};

/* accum.c */
int accum_init(struct wrk *w);
void accum_release(struct wrk *w);
/* Drains every owned ring once; returns true if it found records. */
bool accum_drain(struct wrk *w);
/* True if no owned ring holds anything to drain. */
bool accum_idle(struct wrk *w);
/* Seals open batches older than linger.ms (all of them if force);
 * returns the ms until the next one is due, or -1 if none is open. */
int64_t accum_seal_due(struct wrk *w, bool force);
/* Resolves a chunk (acked at base_offset, -1 unknown, or failed with
 * error) and frees it. */
void accum_resolve(struct wrk *w, int32_t chunk, int16_t error,
                   int64_t base_offset);
/* True if nothing is open, queued or in flight. */
bool accum_empty(struct wrk *w);
struct wpart *accum_part(struct wrk *w, uint32_t topic, int32_t partition);

/* Rewrites a sealed batch's header for the chunk's producer fields. */
void accum_stamp(struct wrk *w, int32_t chunk);
/* Seals the partition's open batch and queues it; false while it cannot
 * be sealed yet (no producer id). */
bool accum_seal(struct wrk *w, struct wpart *p);
/* Queues a sealed chunk behind the partition's others. */
void accum_queue(struct wrk *w, struct wpart *p, int32_t chunk);
/* Adds a chunk to its slot's list of unresolved chunks (in ring order). */
void accum_slot_append(struct wrk *w, uint32_t slot, int32_t chunk);

/* recover.c: takes over what a predecessor (dead, or the slot's previous
 * owner) left in the pool and the rings of `slots`. */
int accum_recover(struct wrk *w, const bool *slots);
/* True when nothing of the slot is unresolved. */
bool accum_slot_empty(struct wrk *w, uint32_t slot);
/* Seals the slot's open batches (they may wait for a producer id). */
void accum_seal_slot(struct wrk *w, uint32_t slot);
void accum_publish(struct wrk *w, uint32_t slot);

/* shard.c */
/* Follows the supervisor's slot targets: hands over slots that should go,
 * takes slots handed to this worker.  Called from the tick. */
void shard_tick(struct wrk *w);
void shard_init(struct wrk *w);
/* Fails the partition's open batch (message.timeout.ms passed). */
void accum_expire_open(struct wrk *w, struct wpart *p, int16_t error);

/* sender.c */
void sender_pump(struct wrk *w);
/* True while a batch of the slot is in flight. */
bool sender_slot_in_flight(const struct wrk *w, uint32_t slot);
/* Fails batches that waited longer than message.timeout.ms. */
void sender_expire(struct wrk *w);

/* cluster.c */
int cluster_init(struct wrk *w);
void cluster_release(struct wrk *w);
void cluster_want_metadata(struct wrk *w);
void cluster_tick(struct wrk *w);
/* Installs a producer id for a slot and re-sequences what it holds. */
void sender_set_producer(struct wrk *w, uint32_t slot, int64_t pid,
                         int16_t epoch);
struct conn *cluster_conn(struct wrk *w, int32_t node_id);

#endif
