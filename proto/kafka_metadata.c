/*
 * kafka_metadata.c: Metadata v1..8 request and response (kafka.h).
 *
 * The parser copies what a producer needs out of the untrusted body:
 * brokers (id, host, port) and topics with their partitions' leaders.
 * Array counts are bounded by kr_array_len() (never more elements than
 * bytes left), so a hostile count cannot make it allocate much, and a
 * topic of more than KAFKA_PARTITIONS_MAX partitions keeps none.
 */
#include "proto/kafka.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

void kafka_metadata_req(struct kbuf *b, int16_t ver, int32_t corr,
                        const char *client_id, const char *const *topics,
                        size_t n, bool allow_auto_create)
{
    size_t start = b->len, i;

    kafka_req_begin(b, KAFKA_API_METADATA, ver, corr, client_id);
    kbuf_i32(b, n == 0 && ver >= 1 ? -1 : (int32_t)n);
    for (i = 0; i < n; i++)
        kbuf_str(b, topics[i]);
    if (ver >= 4)
        kbuf_i8(b, allow_auto_create);
    if (ver >= 8) {
        kbuf_i8(b, 0); /* include_cluster_authorized_operations */
        kbuf_i8(b, 0); /* include_topic_authorized_operations */
    }
    kafka_req_end(b, start);
}

/* ---- parsing ----------------------------------------------------------- */

/* Reads a STRING into a NUL-terminated copy; NULL for null (allowed only
 * if nullable; otherwise the reader fails). */
static char *md_str(struct kreader *r, bool nullable, int *oom)
{
    const char *s;
    size_t n;
    char *copy;

    if (kr_str(r, &s, &n) < 0) {
        if (!nullable)
            r->err = 1;
        return NULL;
    }
    copy = malloc(n + 1);
    if (!copy) {
        *oom = 1;
        r->err = 1;
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = 0;
    return copy;
}

/* Allocates count zeroed elements for a non-null array; NULL for 0. */
static void *md_array(struct kreader *r, int32_t n, size_t size, int *oom)
{
    void *p;

    if (r->err || n <= 0) {
        if (n < 0)
            r->err = 1; /* these arrays are not nullable */
        return NULL;
    }
    p = calloc((size_t)n, size);
    if (!p) {
        *oom = 1;
        r->err = 1;
    }
    return p;
}

static void md_skip_int32_array(struct kreader *r)
{
    int32_t n = kr_array_len(r);

    if (n > 0)
        kr_skip(r, (size_t)n * 4);
}

static void md_brokers(struct kreader *r, int16_t ver,
                       struct kafka_metadata *md, int *oom)
{
    int32_t n = kr_array_len(r);
    size_t i;
    const char *s;
    size_t sl;

    md->brokers = md_array(r, n, sizeof(*md->brokers), oom);
    md->broker_count = md->brokers ? (size_t)n : 0;
    for (i = 0; i < md->broker_count && !r->err; i++) {
        md->brokers[i].node_id = kr_i32(r);
        md->brokers[i].host = md_str(r, false, oom);
        md->brokers[i].port = kr_i32(r);
        if (ver >= 1)
            kr_str(r, &s, &sl); /* rack */
    }
}

static void md_partition(struct kreader *r, int16_t ver,
                         struct kafka_partition *p)
{
    p->error = kr_i16(r);
    p->index = kr_i32(r);
    p->leader = kr_i32(r);
    p->leader_epoch = ver >= 7 ? kr_i32(r) : -1;
    md_skip_int32_array(r); /* replica_nodes */
    md_skip_int32_array(r); /* isr_nodes */
    if (ver >= 5)
        md_skip_int32_array(r); /* offline_replicas */
}

static int md_partition_cmp(const void *a, const void *b)
{
    int32_t x = ((const struct kafka_partition *)a)->index;
    int32_t y = ((const struct kafka_partition *)b)->index;

    return (x > y) - (x < y);
}

/* A topic of more partitions than chute keeps: read past them all. */
static void md_skip_partitions(struct kreader *r, int16_t ver,
                               struct kafka_topic *t, int32_t n)
{
    struct kafka_partition skipped;

    t->partitions_over = (size_t)n;
    for (int32_t i = 0; i < n && !r->err; i++)
        md_partition(r, ver, &skipped);
}

static void md_topic(struct kreader *r, int16_t ver, struct kafka_topic *t,
                     int *oom)
{
    int32_t n;
    size_t i;

    t->error = kr_i16(r);
    t->name = md_str(r, false, oom);
    t->is_internal = ver >= 1 && kr_i8(r) != 0;
    n = kr_array_len(r);
    if (n > KAFKA_PARTITIONS_MAX) {
        md_skip_partitions(r, ver, t, n);
        n = 0;
    }
    t->partitions = md_array(r, n, sizeof(*t->partitions), oom);
    t->partition_count = t->partitions ? (size_t)n : 0;
    for (i = 0; i < t->partition_count && !r->err; i++)
        md_partition(r, ver, &t->partitions[i]);
    if (ver >= 8)
        kr_i32(r); /* topic_authorized_operations */
    if (!r->err && t->partition_count > 1)
        qsort(t->partitions, t->partition_count, sizeof(*t->partitions),
              md_partition_cmp);
}

static void md_topics(struct kreader *r, int16_t ver, struct kafka_metadata *md,
                      int *oom)
{
    int32_t n = kr_array_len(r);
    size_t i;

    md->topics = md_array(r, n, sizeof(*md->topics), oom);
    md->topic_count = md->topics ? (size_t)n : 0;
    for (i = 0; i < md->topic_count && !r->err; i++)
        md_topic(r, ver, &md->topics[i], oom);
}

int kafka_metadata_parse(const uint8_t *body, size_t len, int16_t ver,
                         struct kafka_metadata *md)
{
    struct kreader r;
    int oom = 0;

    memset(md, 0, sizeof(*md));
    if (ver < 1 || ver > 8)
        return err_set(CHUTE_ERR_INVALID, "Metadata v%d is not supported", ver);
    kr_init(&r, body, len);
    md->controller_id = -1;
    if (ver >= 3)
        md->throttle_ms = kr_i32(&r);
    md_brokers(&r, ver, md, &oom);
    if (ver >= 2)
        md->cluster_id = md_str(&r, true, &oom);
    md->controller_id = kr_i32(&r);
    md_topics(&r, ver, md, &oom);
    if (ver >= 8)
        kr_i32(&r); /* cluster_authorized_operations */
    if (oom)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory parsing metadata");
    if (r.err)
        return err_set(CHUTE_ERR_PROTOCOL, "malformed Metadata v%d response",
                       ver);
    return 0;
}

void kafka_metadata_free(struct kafka_metadata *md)
{
    size_t i;

    for (i = 0; i < md->broker_count; i++)
        free(md->brokers[i].host);
    for (i = 0; i < md->topic_count; i++) {
        free(md->topics[i].name);
        free(md->topics[i].partitions);
    }
    free(md->brokers);
    free(md->topics);
    free(md->cluster_id);
    memset(md, 0, sizeof(*md));
}

const struct kafka_partition *kafka_topic_partition(const struct kafka_topic *t,
                                                    int32_t index)
{
    size_t lo = 0, hi = t->partition_count;

    if (index >= 0 && (size_t)index < t->partition_count &&
        t->partitions[index].index == index)
        return &t->partitions[index];
    while (lo < hi) { /* sparse indexes: binary search */
        size_t mid = lo + (hi - lo) / 2;

        if (t->partitions[mid].index == index)
            return &t->partitions[mid];
        if (t->partitions[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
