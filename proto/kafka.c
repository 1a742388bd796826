/*
 * kafka.c: request framing, ApiVersions, Produce and InitProducerId
 * (kafka.h).  Metadata lives in kafka_metadata.c, error codes in
 * kafka_err.c.
 */
#include "proto/kafka.h"

#include <stddef.h>

#include "common/err.h"

/* ---- framing ----------------------------------------------------------- */

void kafka_req_begin(struct kbuf *b, int16_t api, int16_t ver, int32_t corr,
                     const char *client_id)
{
    kbuf_i32(b, 0); /* size, patched by kafka_req_end() */
    kbuf_i16(b, api);
    kbuf_i16(b, ver);
    kbuf_i32(b, corr);
    kbuf_str(b, client_id);
}

void kafka_req_end(struct kbuf *b, size_t start)
{
    kbuf_patch_i32(b, start, (int32_t)(b->len - start - 4));
}

/* Ends a parse: CHUTE_ERR_PROTOCOL if the reader failed, else 0. */
static int kafka_parse_done(const struct kreader *r, const char *what,
                            int16_t ver)
{
    if (r->err)
        return err_set(CHUTE_ERR_PROTOCOL, "malformed %s v%d response", what,
                       ver);
    return 0;
}

static int kafka_bad_version(const char *what, int16_t ver)
{
    return err_set(CHUTE_ERR_INVALID, "%s v%d is not supported", what, ver);
}

/* ---- ApiVersions ------------------------------------------------------- */

void kafka_apiversions_req(struct kbuf *b, int32_t corr, const char *client_id)
{
    size_t start = b->len;

    kafka_req_begin(b, KAFKA_API_API_VERSIONS, 2, corr, client_id);
    kafka_req_end(b, start);
}

static void kafka_apiversions_keys(struct kreader *r,
                                   struct kafka_versions *out)
{
    int32_t i, n = kr_array_len(r);

    for (i = 0; i < n && !r->err; i++) {
        int16_t key = kr_i16(r), lo = kr_i16(r), hi = kr_i16(r);

        if (r->err || key < 0 || key >= KAFKA_API_MAX)
            continue;
        out->min[key] = lo;
        out->max[key] = hi;
        out->have[key] = true;
    }
}

int kafka_apiversions_parse(const uint8_t *body, size_t len, int16_t ver,
                            struct kafka_versions *out)
{
    struct kreader r;

    if (ver < 0 || ver > 2)
        return kafka_bad_version("ApiVersions", ver);
    *out = (struct kafka_versions){0};
    kr_init(&r, body, len);
    out->error = kr_i16(&r);
    if (out->error == KAFKA_ERR_UNSUPPORTED_VERSION)
        ver = 0; /* the broker answers an unknown version with a v0 body */
    if (out->error == KAFKA_ERR_NONE ||
        out->error == KAFKA_ERR_UNSUPPORTED_VERSION)
        kafka_apiversions_keys(&r, out);
    if (out->error == KAFKA_ERR_NONE && ver >= 1)
        out->throttle_ms = kr_i32(&r);
    return kafka_parse_done(&r, "ApiVersions", ver);
}

int kafka_versions_pick(const struct kafka_versions *v, int16_t api,
                        int16_t cmin, int16_t cmax, int16_t *out)
{
    int16_t lo, hi;

    if (api < 0 || api >= KAFKA_API_MAX || !v->have[api])
        return err_set(CHUTE_ERR_INVALID, "broker does not support api %d",
                       api);
    lo = cmin > v->min[api] ? cmin : v->min[api];
    hi = cmax < v->max[api] ? cmax : v->max[api];
    if (hi < lo)
        return err_set(CHUTE_ERR_INVALID,
                       "no common version of api %d: "
                       "broker %d..%d, chute %d..%d",
                       api, v->min[api], v->max[api], cmin, cmax);
    *out = hi;
    return 0;
}

int kafka_pick_produce(const struct kafka_versions *v, int16_t *out)
{
    int16_t ver;

    if (kafka_versions_pick(v, KAFKA_API_PRODUCE, 3, 8, &ver) < 0)
        return CHUTE_ERR_INVALID;
    if (ver != 5) {
        *out = ver;
        return 0;
    }
    /* v5 is the highest common one: fall back to 4, or if the broker's
     * minimum is 5, the only other choice is 6 which it lacks. */
    return kafka_versions_pick(v, KAFKA_API_PRODUCE, 3, 4, out);
}

/* ---- Produce ----------------------------------------------------------- */

void kafka_produce_begin(struct kbuf *b, int16_t ver, int32_t corr,
                         const char *client_id, int16_t acks,
                         int32_t timeout_ms, size_t topic_count)
{
    kafka_req_begin(b, KAFKA_API_PRODUCE, ver, corr, client_id);
    kbuf_str(b, NULL); /* transactional_id */
    kbuf_i16(b, acks);
    kbuf_i32(b, timeout_ms);
    kbuf_i32(b, (int32_t)topic_count);
}

void kafka_produce_topic(struct kbuf *b, const char *name,
                         size_t partition_count)
{
    kbuf_str(b, name);
    kbuf_i32(b, (int32_t)partition_count);
}

void kafka_produce_partition(struct kbuf *b, int32_t partition,
                             const uint8_t *batch, size_t len)
{
    kbuf_i32(b, partition);
    kbuf_bytes(b, batch, len);
}

/* Skips the v8 record_errors array and error_message. */
static void kafka_produce_v8_errors(struct kreader *r)
{
    int32_t i, n = kr_array_len(r);
    const char *s;
    size_t sl;

    for (i = 0; i < n && !r->err; i++) {
        kr_i32(r); /* batch_index */
        kr_str(r, &s, &sl);
    }
    kr_str(r, &s, &sl);
}

struct produce_topic {
    const char *name;
    size_t name_len;
};

static void kafka_produce_partitions(struct kreader *r, int16_t ver,
                                     const struct produce_topic *t,
                                     kafka_produce_cb *cb, void *ctx)
{
    int32_t i, n = kr_array_len(r);

    for (i = 0; i < n && !r->err; i++) {
        int32_t partition = kr_i32(r);
        int16_t error = kr_i16(r);
        int64_t base_offset = kr_i64(r);

        kr_i64(r); /* log_append_time_ms (v2+) */
        if (ver >= 5)
            kr_i64(r); /* log_start_offset */
        if (ver >= 8)
            kafka_produce_v8_errors(r);
        if (cb && !r->err)
            cb(ctx, t->name, t->name_len, partition, error, base_offset);
    }
}

/* One pass over the body; cb may be NULL.  Returns throttle or error. */
static int kafka_produce_walk(const uint8_t *body, size_t len, int16_t ver,
                              kafka_produce_cb *cb, void *ctx)
{
    struct kreader r;
    struct produce_topic t;
    int32_t i, n, throttle;

    kr_init(&r, body, len);
    n = kr_array_len(&r);
    for (i = 0; i < n && !r.err; i++) {
        if (kr_str(&r, &t.name, &t.name_len) < 0)
            r.err = 1; /* topic name is not nullable */
        kafka_produce_partitions(&r, ver, &t, cb, ctx);
    }
    throttle = kr_i32(&r);
    if (!r.err && throttle < 0)
        r.err = 1;
    if (kafka_parse_done(&r, "Produce", ver) < 0)
        return CHUTE_ERR_PROTOCOL;
    return throttle;
}

int kafka_produce_parse(const uint8_t *body, size_t len, int16_t ver,
                        kafka_produce_cb *cb, void *ctx)
{
    int rc;

    if (ver < 3 || ver > 8)
        return kafka_bad_version("Produce", ver);
    rc = kafka_produce_walk(body, len, ver, NULL, NULL);
    if (rc < 0 || !cb)
        return rc;
    return kafka_produce_walk(body, len, ver, cb, ctx);
}

/* ---- InitProducerId ---------------------------------------------------- */

#define KAFKA_TXN_TIMEOUT_MS 60000 /* what Java sends */

void kafka_init_pid_req(struct kbuf *b, int16_t ver, int32_t corr,
                        const char *client_id)
{
    size_t start = b->len;

    kafka_req_begin(b, KAFKA_API_INIT_PRODUCER_ID, ver, corr, client_id);
    kbuf_str(b, NULL); /* transactional_id: idempotent only */
    kbuf_i32(b, KAFKA_TXN_TIMEOUT_MS);
    kafka_req_end(b, start);
}

int kafka_init_pid_parse(const uint8_t *body, size_t len, int16_t ver,
                         struct kafka_init_pid *out)
{
    struct kreader r;

    if (ver < 0 || ver > 1)
        return kafka_bad_version("InitProducerId", ver);
    kr_init(&r, body, len);
    out->throttle_ms = kr_i32(&r);
    out->error = kr_i16(&r);
    out->producer_id = kr_i64(&r);
    out->producer_epoch = kr_i16(&r);
    return kafka_parse_done(&r, "InitProducerId", ver);
}
