/*
 * instance.h: the shared-memory objects of a chute instance (layout.h),
 * created by the supervisor and attached by clients (their user's object
 * read-write, from a descriptor the supervisor passed; the status object
 * read-only) and workers (all, inherited across fork).
 */
#ifndef CHUTE_SHM_INSTANCE_H
#define CHUTE_SHM_INSTANCE_H

#include "shm/layout.h"
#include "shm/metrics.h"
#include "shm/ring.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSTANCE_NAME_MAX 64

struct instance_params {
    const char *name;
    uint32_t slots;           /* per user space, power of two */
    uint32_t users;           /* user spaces, <= USER_MAX; slots * users
                                 <= SLOT_MAX */
    uint32_t ring_size;       /* power of two */
    uint32_t max_record;      /* message.max.bytes */
    uint32_t chunk_size;      /* pool chunk bytes, header included */
    uint32_t chunk_count;
    int intake_gid;           /* group of the status object, -1 to keep */
    bool queue_full_fail;     /* client defaults */
    uint32_t max_block_ms;
};

/* 1 MiB of reports of 72 bytes (14,563).  A client with reports enabled may have at
 * most REPORT_CAPACITY records not yet reported to it, which the ring holds
 * whatever padding its wrap-around takes, with room to spare for
 * REPORT_SLACK_SPANS workers dying in a span of reports before the client
 * polls: the successor writes the span again (REPORT_REPEAT) while the dead
 * worker's claims still take their space. */
#define REPORT_RING_SIZE (1u << 20)
#define REPORT_RECORD_SIZE 72
#define REPORT_SPAN_MAX 64 /* reports a worker writes in one run at most */
#define REPORT_SLACK_SPANS 16
#define REPORT_CAPACITY                                                        \
    (REPORT_RING_SIZE / REPORT_RECORD_SIZE - 1 -                               \
     REPORT_SLACK_SPANS * REPORT_SPAN_MAX)

struct instance {
    char name[INSTANCE_NAME_MAX + 1];
    struct intake_header *user[USER_MAX]; /* clients: their own only */
    int user_fd[USER_MAX];    /* the service's, to pass; -1 otherwise */
    size_t user_size;         /* of each user object */
    struct status_header *status; /* read-only in clients */
    size_t status_size;
    struct state_header *state;   /* NULL in clients */
    size_t state_size;
    /* Offsets copied at create or attach time: a worker never re-reads
     * them from a user object's header, which clients can write. */
    uint64_t stats_off, slots_off, slot_stride, reports_off;
    uint64_t topics_off, clients_off, rings_off, owners_off, users_off;
    uint64_t workers_off, pool_off, pslots_off, partitions_off, errors_off;
    uint64_t metrics_off;
    uint32_t slots;           /* in all: users * user_slots */
    uint32_t users, user_slots;
    uint32_t ring_size;
    uint32_t chunk_size, chunk_count;
};

/* Creates (replacing stale objects) and formats both objects. */
int instance_create(struct instance *in, const struct instance_params *p);
/* The service takes over the objects a dead supervisor left: 0 when they
 * match this configuration's layout (it becomes their supervisor), 1 when
 * there are none, CHUTE_ERR_LAYOUT when they do not match. */
int instance_reattach(struct instance *in, const struct instance_params *p);
/* A client's view, step 1: maps the status object read-only and checks
 * it. */
int instance_attach_status(struct instance *in, const char *name);
/* Step 2: maps user object `user` read-write from the descriptor the
 * supervisor passed (and closes it), and checks it. */
int instance_attach_user(struct instance *in, uint32_t user, int fd);
/* Unmaps what is mapped. */
void instance_detach(struct instance *in);
/* Removes the objects' names. */
void instance_unlink(const char *name);

void instance_ring(const struct instance *in, uint32_t slot, struct ring *r);
/* Delivery-report ring `idx` (< REPORT_RINGS; false when its user object
 * is not mapped here) and its owner entry. */
bool instance_report_ring(const struct instance *in, uint32_t idx,
                          struct ring *r);
struct status_report_owner *instance_report_owner(const struct instance *in,
                                                  uint32_t idx);
/* The id of a ready topic named `name`, or -1. */
int instance_find_topic(const struct instance *in, const char *name);
/* Adds n records failed with `error` to the topic's counters. */
void instance_count_error(const struct instance *in, uint32_t topic,
                          int16_t error, uint64_t n);
/* Calls fn for every (topic, error) counter in use. */
void instance_each_error(const struct instance *in,
                         void (*fn)(void *ctx, uint32_t topic, int16_t error,
                                    uint64_t records),
                         void *ctx);

static inline struct status_topic *instance_topic(const struct instance *in,
                                                  uint32_t id)
{
    return (struct status_topic *)((uint8_t *)in->status + in->topics_off) +
           id;
}

static inline struct status_client *instance_client(const struct instance *in,
                                                    uint32_t idx)
{
    return (struct status_client *)((uint8_t *)in->status +
                                    in->clients_off) +
           idx;
}

/* What client `idx` of user space `user` says of itself (it may have
 * written anything there); NULL when that object is not mapped. */
static inline struct intake_client_stat *
instance_client_stat(const struct instance *in, uint32_t user, uint32_t idx)
{
    if (user >= USER_MAX || !in->user[user])
        return NULL;
    return (struct intake_client_stat *)((uint8_t *)in->user[user] +
                                         in->stats_off) +
           idx;
}

static inline struct status_user *instance_user(const struct instance *in,
                                                uint32_t user)
{
    return (struct status_user *)((uint8_t *)in->status + in->users_off) +
           user;
}

/* Whether user space `user` may write `topic` (supervisor/acl.h). */
static inline bool instance_user_may(const struct instance *in, uint32_t user,
                                     uint32_t topic)
{
    return topic < TOPIC_MAX &&
           (atomic_load_explicit(&instance_user(in, user)->topics[topic / 64],
                                 memory_order_relaxed) >>
                (topic % 64) &
            1);
}

/* The user space a slot belongs to. */
static inline uint32_t instance_slot_user(const struct instance *in,
                                          uint32_t slot)
{
    return slot / in->user_slots;
}

static inline struct state_worker *instance_worker(const struct instance *in,
                                                   uint32_t idx)
{
    return (struct state_worker *)((uint8_t *)in->state +
                                   in->workers_off) +
           idx;
}

static inline struct state_metrics *instance_metrics(const struct instance *in,
                                                    uint32_t worker)
{
    return (struct state_metrics *)((uint8_t *)in->state + in->metrics_off) +
           worker;
}

static inline struct state_slot *instance_pslot(const struct instance *in,
                                                uint32_t slot)
{
    return (struct state_slot *)((uint8_t *)in->state + in->pslots_off) + slot;
}

static inline struct state_partition *
instance_partition(const struct instance *in, uint32_t idx)
{
    return (struct state_partition *)((uint8_t *)in->state +
                                      in->partitions_off) +
           idx;
}

/* The sequence state of (topic, partition) for user space `user`'s
 * producers, created if `create`; NULL when absent or the table is
 * full. */
struct state_partition *instance_find_partition(const struct instance *in,
                                                uint32_t user, uint32_t topic,
                                                int32_t partition, bool create);

static inline struct pool_chunk *instance_chunk(const struct instance *in,
                                                uint32_t idx)
{
    return (struct pool_chunk *)((uint8_t *)in->state + in->pool_off +
                                 (size_t)idx * in->chunk_size);
}

#endif
