/*
 * layout.h: the shared-memory layout of a chute instance.
 *
 * POSIX shared-memory objects of an instance NAME:
 *
 *   /chute.NAME.uU       one per user space U (users.max of them), mode
 *                        0600: the supervisor hands an open descriptor to
 *                        the client processes of the one uid bound to it
 *                        (SCM_RIGHTS), which map it read-write:
 *       struct intake_header | client stats | slot rings | report rings
 *   /chute.NAME.status   written by the service only; clients map it
 *                        read-only (mode 0640):
 *       struct status_header | topic table | client table |
 *       ring consumer lines | report-ring owners | user table
 *   /chute.NAME.state    service processes only (mode 0600):
 *       struct state_header | worker table | buffer pool
 *
 * Slots are numbered across user spaces: user U has slots U * user_slots
 * to (U + 1) * user_slots - 1, whose rings are in its object.  So each
 * ring has writers of one uid only, and a worker knows whose every record
 * is from where it found it.
 *
 * Everything that decides where a worker reads or writes, what counts as
 * resolved and who a client is lives in the status and state objects:
 * a user object holds only what that user's clients produce (records,
 * the producer positions of the rings, their own counters) and what they
 * consume (their delivery reports).
 *
 * Every structure here has fixed-width fields and static asserts on its
 * size and offsets, so that any process built from the same layout version
 * reads the same bytes.  A struct of a fixed size is a union of its fields
 * with a byte array of that size (`padded`): the compiler computes the
 * padding, and a field that grows the struct past it fails the assert.
 * Holes between fields are explicit members (pad0).  Bump LAYOUT_VERSION
 * on any change: tests/test_layout.c fails until you do, and says how.
 *
 * Workers treat the intake object as untrusted input: a client may have
 * written anything into it.  Offsets and sizes that workers rely on come
 * from their own configuration, never from a header a client can write.
 */
#ifndef CHUTE_SHM_LAYOUT_H
#define CHUTE_SHM_LAYOUT_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LAYOUT_MAGIC 0x0045545548430a01ULL /* "\x01\nCHUTE\0" */
#define LAYOUT_VERSION 9
#define LAYOUT_CACHELINE 64

#define TOPIC_MAX 256        /* topics per instance */
#define TOPIC_NAME_MAX 249   /* Kafka's limit */
#define CLIENT_MAX 1024      /* attached client processes */
#define WORKER_MAX 64
#define USER_MAX 16          /* user spaces (uids with clients at once) */
#define REPORT_RINGS_PER_USER 32 /* a uid's clients with delivery reports */
#define REPORT_RINGS (USER_MAX * REPORT_RINGS_PER_USER) /* ids, all users */

#define TOPIC_ERROR_MAX 1024 /* (topic, error) failure counters */
#define SLOT_MAX 256
#define PARTITION_MAX 16384  /* partitions with sequence state, a power of 2 */

/* ---- intake object (clients write it) ----------------------------------- */

struct intake_header {
    union {
        struct {
            uint64_t magic;
            uint32_t layout_version;
            uint32_t header_size;
            uint64_t total_size;
            uint32_t slot_count;
            uint32_t ring_size;   /* bytes of data per ring, a power of two */
            uint64_t stats_off;   /* struct intake_client_stat[CLIENT_MAX] */
            uint64_t slots_off;
            uint64_t slot_stride; /* bytes from one slot to the next */
            uint64_t reports_off; /* REPORT_RINGS_PER_USER delivery-report
                                     rings */
            uint32_t report_ring_size;
            uint32_t user;        /* the user space this object is */
            /* Records chute_send() refused, by reason (enum
             * intake_refusal); written by clients. */
            _Atomic uint64_t refused[8];
        };
        uint8_t padded[4096];
    };
};
static_assert(sizeof(struct intake_header) == 4096, "intake header size");
static_assert(offsetof(struct intake_header, refused) == 72,
              "intake refusal counters");

enum intake_refusal {
    REFUSED_TOO_LARGE,
    REFUSED_QUEUE_FULL,
    REFUSED_CLOSED,
    REFUSED_INVALID,
    REFUSED_REASONS
};

/* What a client says of itself, by client index: for status only. */
struct intake_client_stat {
    union {
        _Atomic uint64_t records_sent;
        uint8_t padded[LAYOUT_CACHELINE];
    };
};
static_assert(sizeof(struct intake_client_stat) == LAYOUT_CACHELINE,
              "intake client stat size");

/*
 * One MPSC ring per slot.  Positions only grow; index = pos & (size - 1).
 * The producer line is in the intake object, next to the ring's data:
 *   tail: next position to claim (producers, CAS).
 * The consumer line is in the status object (for a delivery-report ring,
 * whose consumer is its client, next to the producer line instead):
 *   head: everything before it was consumed and zeroed (worker).
 *   resolved: every record before it was acked or failed (worker).
 *   sleeping: odd while the owning worker sleeps; bumped by the worker
 *       when it goes to sleep and when it wakes, so a producer that sees
 *       an odd value rings the owner's doorbell once per sleep.
 */
struct ring_prod {
    union {
        _Atomic uint64_t tail;
        uint8_t padded[LAYOUT_CACHELINE];
    };
};
static_assert(sizeof(struct ring_prod) == LAYOUT_CACHELINE, "ring prod");

struct ring_cons {
    union {
        struct {
            _Atomic uint64_t head;
            _Atomic uint64_t resolved;
            _Atomic uint32_t sleeping;
            _Atomic int32_t owner;         /* worker index */
            _Atomic uint64_t dead_writers; /* claimed records whose writer
                                              died */
            _Atomic uint64_t corrupt;      /* bytes skipped as corrupt */
            _Atomic uint64_t drained; /* the worker is done with what is
                                         before it; zeroing up to here may
                                         be unfinished */
            _Atomic int32_t blocked_by; /* live writer whose claim holds
                                           the slot */
            uint32_t pad0;
        };
        uint8_t padded[LAYOUT_CACHELINE];
    };
};
static_assert(sizeof(struct ring_cons) == LAYOUT_CACHELINE, "ring cons");
static_assert(offsetof(struct ring_cons, blocked_by) == 48, "ring cons line");

/* Both lines of a delivery-report ring, whose data follows. */
struct ring_ctl {
    struct ring_prod prod;
    struct ring_cons cons;
};
static_assert(sizeof(struct ring_ctl) == 2 * LAYOUT_CACHELINE, "ring ctl");

/*
 * A record in a ring, 8-byte aligned.  The first word is the commit word:
 *   0          not written yet (claimed, header not stored)
 *   < 0        claimed: -(length), body being written by `pid`
 *   > 0        committed: length | flags in the low 3 bits
 * Length counts the header and is a multiple of 8.  A padding record has
 * only the first 8 bytes meaningful and fills up to the end of the ring.
 */
#define RING_ALIGN 8
#define RING_FLAG_PAD 1
#define RING_LEN_MASK (~(int32_t)(RING_ALIGN - 1))

struct ring_rec {
    _Atomic int32_t len;
    int32_t pid;
    uint16_t client;          /* index in the client table */
    uint16_t reserved;
    uint32_t topic;
    int32_t partition;
    uint32_t tail_len;        /* bytes of Kafka record tail after this */
    int64_t timestamp;
    uint64_t opaque;          /* the client's, returned in its report */
    int64_t accepted_ns;      /* CLOCK_MONOTONIC at chute_send():
                                 linger.ms and message.timeout.ms count
                                 from here */
    /* record tail (proto/record.h) follows */
};
static_assert(sizeof(struct ring_rec) == 48, "ring record header");

/* A delivery report, written by a worker into a client's report ring as a
 * ring record: the header's topic and partition, then this body. */
struct ring_report {
    uint64_t opaque;
    int64_t offset;           /* -1: unknown or failed */
    int32_t error;            /* 0 or a Kafka error code */
    uint32_t flags;           /* REPORT_REPEAT */
};
/* The report may repeat one a worker that died wrote (its successor
 * reports the run again): the client does not count it against what it
 * is owed (shm/client.c). */
#define REPORT_REPEAT 1u
static_assert(sizeof(struct ring_report) == 24, "ring report body");

#define RING_PAD_MIN 8

/* ---- status object (the service writes it, clients read it) ------------- */

struct status_header {
    union {
        struct {
            uint64_t magic;
            uint32_t layout_version;
            uint32_t header_size;
            uint64_t total_size;
            uint32_t slot_count;
            uint32_t ring_size;
            uint32_t max_record;  /* message.max.bytes */
            int32_t supervisor_pid;
            uint64_t topics_off;  /* struct status_topic[TOPIC_MAX] */
            uint64_t clients_off; /* struct status_client[CLIENT_MAX] */
            uint64_t rings_off;   /* struct ring_cons[SLOT_MAX] */
            uint64_t owners_off;  /* struct status_report_owner[REPORT_RINGS] */
            uint64_t generation;  /* bumped by every supervisor start */
            _Atomic uint32_t accepting; /* 0: intake stopped (drain,
                                           shutdown) */
            _Atomic uint32_t ready; /* set last, once everything is laid
                                       out */
            char name[72];
            uint32_t queue_full_fail; /* client defaults from the
                                         configuration: */
            uint32_t max_block_ms;    /* queue.full.policy and
                                         max.block.ms */
            uint64_t users_off;   /* struct status_user[USER_MAX] */
            uint32_t user_count;  /* user spaces (users.max) */
            uint32_t user_slots;  /* slots of each; slot_count in all */
        };
        uint8_t padded[4096];
    };
};
static_assert(sizeof(struct status_header) == 4096, "status header size");
static_assert(offsetof(struct status_header, users_off) == 168,
              "status user fields");
static_assert(offsetof(struct status_header, name) == 88, "status name");

enum topic_state { TOPIC_FREE = 0, TOPIC_READY = 1 };

/* A topic's id is its index in the table. */
struct status_topic {
    union {
        struct {
            _Atomic uint32_t state;
            _Atomic uint32_t partitions;
            uint32_t name_len;
            char name[TOPIC_NAME_MAX + 1]; /* NUL-terminated */
        };
        uint8_t padded[512];
    };
};
static_assert(sizeof(struct status_topic) == 512, "status topic size");
static_assert(offsetof(struct status_topic, name) == 12, "status topic name");

/* One per registered client process: the supervisor fills it in from the
 * kernel's word on the connection (SO_PEERCRED) when the client says
 * hello, and frees it when the client says goodbye or its process is
 * gone; workers add to acked/failed for the records it sent. */
struct status_client {
    union {
        struct {
            _Atomic int32_t pid;          /* 0: a free entry */
            _Atomic uint32_t uid;
            _Atomic int32_t report_ring;  /* delivery reports go there; -1:
                                             none */
            _Atomic uint32_t user;        /* its uid's user space */
            _Atomic uint64_t records_acked;
            _Atomic uint64_t records_failed;
            _Atomic uint64_t reports_lost; /* reports dropped: the ring was
                                              full */
        };
        uint8_t padded[64];
    };
};
static_assert(sizeof(struct status_client) == 64, "status client size");
static_assert(offsetof(struct status_client, reports_lost) == 32,
              "status client counters");

/* Owner of a delivery-report ring, set by the supervisor.  Ring id R is
 * ring R % REPORT_RINGS_PER_USER of user space R / REPORT_RINGS_PER_USER. */
struct status_report_owner {
    _Atomic int32_t pid;
    uint32_t client;
};
static_assert(sizeof(struct status_report_owner) == 8, "report owner size");

/*
 * A user space: bound by the supervisor to the first uid that registers a
 * client while it is free, and kept for that uid while the instance
 * lives.  `topics` is the access control for it (supervisor/acl.c): bit T
 * set when the uid may write topic T; workers refuse a record of any
 * other topic found in this user's rings, and count it in `refused`.
 */
struct status_user {
    union {
        struct {
            _Atomic uint32_t bound; /* 1 once `uid` is set */
            _Atomic uint32_t uid;
            _Atomic uint64_t refused; /* records of topics not allowed */
            _Atomic uint64_t topics[TOPIC_MAX / 64];
            _Atomic uint64_t truncated; /* times a client cut the object */
        };
        uint8_t padded[64];
    };
};
static_assert(sizeof(struct status_user) == 64, "status user size");
static_assert(offsetof(struct status_user, truncated) == 48,
              "status user fields");

/* ---- state object ------------------------------------------------------- */

struct state_worker {
    union {
        struct {
            _Atomic int32_t pid;
            _Atomic uint32_t restarts;
            _Atomic uint64_t started_ms;
            _Atomic uint64_t heartbeat_ms;
            _Atomic uint64_t records_sent;
            _Atomic uint64_t records_acked;
            _Atomic uint64_t records_failed;
            _Atomic uint64_t batches_sent;
            _Atomic uint64_t bytes_sent;
            _Atomic uint64_t requests_sent;
            _Atomic uint64_t records_invalid;
            /* Where the worker's drain is, for the supervisor to tell a
             * slot whose data kills workers (supervisor/health.c): the
             * ring position of the record at hand, and the slot + 1 while
             * draining it (0 otherwise). */
            _Atomic uint64_t drain_pos;
            _Atomic uint32_t drain_slot;
            uint32_t pad0;
            /* Broker connections that failed for TLS or SASL, and SASL
             * re-authentications (KIP-368) (broker/conn.c). */
            _Atomic uint64_t tls_failures;
            _Atomic uint64_t sasl_failures;
            _Atomic uint64_t reauths;
        };
        uint8_t padded[128];
    };
};
static_assert(sizeof(struct state_worker) == 128, "state worker size");
static_assert(offsetof(struct state_worker, records_invalid) == 72,
              "state worker counters");
static_assert(offsetof(struct state_worker, drain_slot) == 88,
              "state worker drain position");

/*
 * The settings workers take while running (a reload changes them): one
 * line each, (id, field of the worker's struct wrk_settings, its type).
 * This list makes the ids below, the worker's fields and the code that
 * fills them (worker/live.c); a row of supervisor/config.c's table names
 * the id its property lands in, converted there to the workers' unit.
 * The ids index state_live.values: a new setting is appended (the block
 * has room for LIVE_MAX, so no LAYOUT_VERSION bump); never reorder or
 * reuse one without a bump.  Settings a topic may have its own value of
 * are in TOPIC_SETTINGS instead.
 */
#define LIVE_SETTINGS(X)                                                      \
    X(MESSAGE_TIMEOUT_MS, message_timeout_ms, int) /* INT32_MAX: none */      \
    X(REQUEST_TIMEOUT_MS, request_timeout_ms, int)                            \
    X(RETRY_BACKOFF_MS, retry_backoff_ms, int)                                \
    X(RETRY_BACKOFF_MAX_MS, retry_backoff_max_ms, int)                        \
    X(RETRIES, retries, int) /* resends of a batch before it fails */         \
    X(METADATA_MAX_AGE_MS, metadata_max_age_ms, int)                          \
    X(LOG_LEVEL, log_level, int) /* enum log_level */                         \
    X(SOCKET_TIMEOUT_MS, socket_timeout_ms, int) /* all but Produce */      \
    X(RECONNECT_BACKOFF_MS, reconnect_backoff_ms, int)                        \
    X(RECONNECT_BACKOFF_MAX_MS, reconnect_backoff_max_ms, int)               \
    X(CLAIM_TIMEOUT_MS, claim_timeout_ms, int) /* ring.claim.timeout.ms */

#define LIVE_ID(id, field, type) LIVE_##id,
enum live_setting {
    LIVE_NONE, /* a property the workers do not take while running */
    LIVE_SETTINGS(LIVE_ID)
    LIVE_COUNT
};
#undef LIVE_ID
#define LIVE_MAX 32 /* room in the block; LIVE_COUNT of it is used */

/* The supervisor writes every value, then bumps `generation` (release);
 * workers that see a new generation (acquire) read them all on their next
 * tick. */
struct state_live {
    _Atomic uint32_t generation;
    uint32_t pad0;
    _Atomic int64_t values[LIVE_MAX]; /* by enum live_setting */
};
static_assert(LIVE_COUNT <= LIVE_MAX, "live settings block full");
static_assert(sizeof(struct state_live) == 8 + 8 * LIVE_MAX,
              "live settings block size");

/*
 * The settings each topic has its own value of: the global property, or
 * the most specific topic.NAME.PROPERTY that matches the topic's name
 * (supervisor/config.c decides).  One line each, (id, field of the
 * worker's struct topic_settings, its type), as LIVE_SETTINGS; the ids
 * index state_topic_settings.values, append only.
 */
#define TOPIC_SETTINGS(X)                                                     \
    X(LINGER_MS, linger_ms, int32_t)                                          \
    X(BATCH_SIZE, batch_size, uint32_t)                                       \
    X(BATCH_NUM_MESSAGES, batch_num_messages, uint32_t)                       \
    X(CODEC, codec, int16_t) /* BATCH_CODEC_* */                              \
    X(LEVEL, level, int16_t) /* compression.level, -1: the codec's default */

#define TOPIC_SET_ID(id, field, type) TOPIC_SET_##id,
enum topic_setting {
    TOPIC_SET_NONE, /* a property a topic cannot have its own value of */
    TOPIC_SETTINGS(TOPIC_SET_ID)
    TOPIC_SET_COUNT
};
#undef TOPIC_SET_ID
#define TOPIC_SET_MAX 8 /* room per topic; TOPIC_SET_COUNT of it is used */

/* One topic's effective settings, by enum topic_setting. */
struct state_topic_settings {
    _Atomic int32_t values[TOPIC_SET_MAX];
};
static_assert(TOPIC_SET_COUNT <= TOPIC_SET_MAX, "topic settings full");
static_assert(sizeof(struct state_topic_settings) == 4 * TOPIC_SET_MAX,
              "topic settings size");

/* Written by the supervisor only.  A topic's entry is filled before its
 * intake entry turns TOPIC_READY (release), so a worker that sees a
 * topic sees its settings; a reload (SIGHUP) rewrites every ready
 * topic's entry, then bumps `generation` (release), and workers that see
 * a new generation (acquire) read them again. */
struct state_topics {
    _Atomic uint32_t generation;
    uint32_t pad0;
    struct state_topic_settings topic[TOPIC_MAX]; /* by topic id */
};
static_assert(sizeof(struct state_topics) ==
                  8 + TOPIC_MAX * sizeof(struct state_topic_settings),
              "topic settings table size");

struct state_header {
    union {
        struct {
            uint64_t magic;
            uint32_t layout_version;
            uint32_t header_size;
            uint64_t total_size;
            uint64_t workers_off;
            uint64_t pool_off;
            uint32_t chunk_size; /* bytes per pool chunk, header included */
            uint32_t chunk_count;
            _Atomic uint32_t worker_count; /* workers the supervisor runs */
            uint32_t pad0;
            uint64_t slots_off;      /* struct state_slot[SLOT_MAX] */
            uint64_t partitions_off; /* struct
                                        state_partition[PARTITION_MAX] */
            uint64_t errors_off;     /* struct state_error[TOPIC_ERROR_MAX] */
            uint64_t metrics_off;    /* struct state_metrics[WORKER_MAX] */
            _Atomic uint64_t topic_acked[TOPIC_MAX];
            _Atomic uint64_t topic_failed[TOPIC_MAX];
            /* Slot ownership (docs/design.md, re-sharding): the supervisor
             * sets a slot's target; its owner hands it over by storing
             * owner = target once nothing of the slot is unresolved. -1:
             * nobody. */
            _Atomic int32_t slot_owner[SLOT_MAX];
            _Atomic int32_t slot_target[SLOT_MAX];
            struct state_live live; /* settings a reload (SIGHUP) changes */
            struct state_topics topics; /* each topic's batching settings */
        };
        uint8_t padded[16384];
    };
};
static_assert(sizeof(struct state_header) == 16384, "state header size");
static_assert(offsetof(struct state_header, live) ==
                  88 + 16 * TOPIC_MAX + 8 * SLOT_MAX,
              "state header live settings");
static_assert(offsetof(struct state_header, topics) ==
                  offsetof(struct state_header, live) +
                      sizeof(struct state_live),
              "state header topic settings");

/*
 * The producer identity of a slot.  Each slot is its own idempotent
 * producer, so a slot's sequence state moves with it between workers and
 * an epoch bump never needs more than the slot's owner.
 */
struct state_slot {
    union {
        struct {
            _Atomic int64_t producer_id; /* -1 until InitProducerId
                                            answered */
            _Atomic int32_t epoch;
            uint32_t pad0;
            _Atomic uint64_t bumps;      /* epoch bumps so far */
        };
        uint8_t padded[64];
    };
};
static_assert(sizeof(struct state_slot) == 64, "state slot size");
static_assert(offsetof(struct state_slot, bumps) == 16, "state slot bumps");

/*
 * Sequence state of one partition (idem.h), written only by the worker
 * owning its slot.  Entries are found by open addressing on `key`
 * (user << 56 | (topic + 1) << 32 | partition: each user space's slots
 * are their own producers), claimed with a CAS from 0.
 */
struct state_partition {
    union {
        struct {
            _Atomic uint64_t key;
            int32_t next_seq;
            int32_t acked_seq;
        };
        uint8_t padded[32];
    };
};
static_assert(sizeof(struct state_partition) == 32, "state partition size");
static_assert(offsetof(struct state_partition, acked_seq) == 12,
              "state partition sequences");

/* Records failed per (topic, Kafka error), found by open addressing on
 * key = (topic + 1) << 16 | (uint16_t)error. */
struct state_error {
    _Atomic uint32_t key;
    uint32_t pad;
    _Atomic uint64_t records;
};
static_assert(sizeof(struct state_error) == 16, "state error size");

/*
 * Buffer pool chunk: one Kafka record batch under construction or in
 * flight.  A chunk moves FREE -> OPEN -> SEALED -> IN_FLIGHT -> FREE; each
 * move is one release store of `state` after the data it covers is
 * written, so a replacement worker finds every chunk in a defined state
 * (docs/crash-consistency.md).
 * Data area: [61-byte batch header][records ...] growing up, and one
 * struct chunk_origin per record growing down from the end of the chunk.
 */
enum chunk_state {
    CHUNK_FREE = 0,
    CHUNK_OPEN = 1,
    CHUNK_SEALED = 2,
    CHUNK_IN_FLIGHT = 3,
};

/* count and used change together, in one store: a record is in an open
 * batch exactly when `fill` counts it. */
union chunk_fill {
    struct {
        uint32_t count;       /* records in the batch */
        uint32_t used;        /* bytes of encoded records after the header */
    };
    uint64_t word;
};

struct pool_chunk {
    union {
        struct {
            _Atomic uint32_t state;
            int32_t worker;
            uint32_t topic;
            int32_t partition;
            uint32_t slot;
            uint32_t wire_len; /* sealed: bytes of the whole batch */
            union {
                struct {
                    uint32_t count;
                    uint32_t used;
                };
                _Atomic uint64_t fill; /* see union chunk_fill */
            };
            int64_t base_ts;
            int64_t max_ts;
            uint64_t ring_first; /* ring position of the first record */
            int64_t producer_id;
            int32_t base_sequence;
            int16_t producer_epoch;
            int16_t codec;
            int64_t opened_ns;   /* CLOCK_MONOTONIC when the first record
                                    came */
            int64_t accepted_ns; /* when its oldest record was accepted */
            int32_t source;      /* sealed copy of open chunk `source`, or
                                    -1 */
            uint32_t reported;   /* records resolved so far (counted,
                                    reported) */
            /* While a run of reports is written: the run's end (a record
             * index past `reported`), else 0.  A worker that takes the
             * batch over and finds it set may repeat reports its
             * predecessor wrote: it marks them REPORT_REPEAT. */
            _Atomic uint32_t reporting;
        };
        uint8_t padded[128];
    };
};
static_assert(sizeof(struct pool_chunk) == 128, "pool chunk header");
static_assert(offsetof(struct pool_chunk, reported) == 92,
              "pool chunk resolution count");
static_assert(offsetof(struct pool_chunk, reporting) == 96,
              "pool chunk run being reported");
static_assert(offsetof(struct pool_chunk, fill) % 8 == 0, "fill alignment");
static_assert(sizeof(union chunk_fill) == 8, "chunk fill size");

/* Who sent a record of a batch, for counters and delivery reports, and
 * where the ring stood after it (what a replacement resumes from). */
struct chunk_origin {
    uint64_t opaque;
    uint64_t ring_end;
    uint16_t client;
    uint16_t pad[3];
};
static_assert(sizeof(struct chunk_origin) == 24, "chunk origin size");

/*
 * The slot of a partition within a user space of `slots` slots: a fixed
 * function of (topic id, partition), so a partition's ring never changes
 * while the instance lives.  The topic is hashed to a starting slot and
 * its partitions follow round-robin, so consecutive partitions land on
 * different slots and, with slots dealt round-robin to workers, on
 * different workers.  layout_user_slot() numbers it across user spaces.
 */
static inline uint32_t layout_slot_of(uint32_t topic, int32_t partition,
                                      uint32_t slots)
{
    uint32_t h = topic * 0x9e3779b1u;

    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return (h + (uint32_t)partition) & (slots - 1);
}

static inline uint32_t layout_user_slot(uint32_t user, uint32_t topic,
                                        int32_t partition, uint32_t user_slots)
{
    return user * user_slots + layout_slot_of(topic, partition, user_slots);
}

#endif
