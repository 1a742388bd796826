/*
 * record.c: Kafka v2 record encoding and checking (record.h).
 *
 * The tail reader is one walker used both for untrusted tails and for
 * records parsed from a batch; it optionally copies headers out.
 */
#include "proto/record.h"

#include <string.h>

#include "proto/varint.h"

static int32_t blob_len(const void *p, int32_t len)
{
    return p && len >= 0 ? len : -1;
}

static size_t blob_size(const void *p, int32_t len)
{
    int32_t n = blob_len(p, len);

    return varint_size(n) + (n > 0 ? (size_t)n : 0);
}

/* A header key is never null: a NULL key is written as "". */
static const char *header_key(const struct record_header *h, int32_t *len)
{
    *len = h->key ? (int32_t)h->key_len : 0;
    return h->key ? h->key : "";
}

static size_t blob_write(uint8_t *dst, const void *p, int32_t len)
{
    int32_t n = blob_len(p, len);
    size_t w = varint_encode(dst, n);

    if (n > 0)
        memcpy(dst + w, p, (size_t)n);
    return w + (n > 0 ? (size_t)n : 0);
}

size_t record_tail_size(const void *key, int32_t key_len, const void *value,
                        int32_t value_len, const struct record_header *h,
                        size_t n)
{
    size_t size = blob_size(key, key_len) + blob_size(value, value_len) +
                  varint_size((int32_t)n);
    size_t i;
    int32_t klen;

    for (i = 0; i < n; i++) {
        const char *k = header_key(&h[i], &klen);

        size += blob_size(k, klen) + blob_size(h[i].value, h[i].value_len);
    }
    return size;
}

size_t record_tail_write(uint8_t *dst, const void *key, int32_t key_len,
                         const void *value, int32_t value_len,
                         const struct record_header *h, size_t n)
{
    size_t off = blob_write(dst, key, key_len);
    size_t i;
    int32_t klen;

    off += blob_write(dst + off, value, value_len);
    off += varint_encode(dst + off, (int32_t)n);
    for (i = 0; i < n; i++) {
        const char *k = header_key(&h[i], &klen);

        off += blob_write(dst + off, k, klen);
        off += blob_write(dst + off, h[i].value, h[i].value_len);
    }
    return off;
}

/* ---- checking ---------------------------------------------------------- */

struct cursor {
    const uint8_t *p;
    size_t len, off;
};

static int cur_varint(struct cursor *c, int32_t *v)
{
    const uint8_t *p = c->p + c->off;
    size_t left = c->len - c->off;
    uint32_t u;
    int n;

    /* The lengths in a record take one or two bytes nearly always: those
     * are decoded here (14 bits cannot overflow), the rest the long way. */
    if (left >= 1 && p[0] < 0x80) {
        u = p[0];
        n = 1;
    } else if (left >= 2 && p[1] < 0x80) {
        u = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
        n = 2;
    } else {
        n = varint_decode(p, left, v);
        if (n < 0)
            return -1;
        c->off += (size_t)n;
        return 0;
    }
    *v = (int32_t)((u >> 1) ^ (0u - (u & 1)));
    c->off += (size_t)n;
    return 0;
}

/* Reads a length-prefixed blob; min_len is -1 where null is allowed. */
static int cur_blob(struct cursor *c, int32_t min_len, const uint8_t **p,
                    int32_t *len)
{
    if (cur_varint(c, len) < 0 || *len < min_len)
        return -1;
    *p = NULL;
    if (*len < 0)
        return 0;
    if ((size_t)*len > c->len - c->off)
        return -1;
    *p = c->p + c->off;
    c->off += (size_t)*len;
    return 0;
}

static int cur_header(struct cursor *c, struct record_header *out)
{
    const uint8_t *k, *v;
    int32_t klen, vlen;

    if (cur_blob(c, 0, &k, &klen) < 0 || cur_blob(c, -1, &v, &vlen) < 0)
        return -1;
    if (out) {
        out->key = (const char *)k;
        out->key_len = (size_t)klen;
        out->value = v;
        out->value_len = vlen;
    }
    return 0;
}

/* Walks a whole tail; copies up to max headers into hdrs. */
static int tail_walk(const uint8_t *tail, size_t len,
                     struct record_tail_info *info, struct record_header *hdrs,
                     size_t max)
{
    struct cursor c = {tail, len, 0};
    int32_t i;

    if (cur_blob(&c, -1, &info->key, &info->key_len) < 0 ||
        cur_blob(&c, -1, &info->value, &info->value_len) < 0 ||
        cur_varint(&c, &info->header_count) < 0 || info->header_count < 0)
        return -1;
    for (i = 0; i < info->header_count; i++)
        if (cur_header(&c, (size_t)i < max ? &hdrs[i] : NULL) < 0)
            return -1;
    return c.off == len ? 0 : -1;
}

int record_tail_check(const uint8_t *tail, size_t len,
                      struct record_tail_info *info)
{
    return tail_walk(tail, len, info, NULL, 0);
}

/* ---- whole records ----------------------------------------------------- */

static size_t record_body_size(int64_t ts_delta, int32_t offset_delta,
                               size_t tail_len)
{
    return 1 + varlong_size(ts_delta) + varint_size(offset_delta) + tail_len;
}

size_t record_size(int64_t ts_delta, int32_t offset_delta, size_t tail_len)
{
    size_t body = record_body_size(ts_delta, offset_delta, tail_len);

    return varint_size((int32_t)body) + body;
}

size_t record_write(uint8_t *dst, int64_t ts_delta, int32_t offset_delta,
                    const uint8_t *tail, size_t tail_len)
{
    size_t body = record_body_size(ts_delta, offset_delta, tail_len);
    size_t off = varint_encode(dst, (int32_t)body);

    dst[off++] = 0; /* attributes: unused in v2 records */
    off += varlong_encode(dst + off, ts_delta);
    off += varint_encode(dst + off, offset_delta);
    memcpy(dst + off, tail, tail_len);
    return off + tail_len;
}

static int record_parse_body(struct cursor *c, struct record_view *out)
{
    int n;

    if (c->len < 1)
        return -1;
    out->attributes = (int8_t)c->p[c->off++];
    n = varlong_decode(c->p + c->off, c->len - c->off, &out->ts_delta);
    if (n < 0)
        return -1;
    c->off += (size_t)n;
    if (cur_varint(c, &out->offset_delta) < 0)
        return -1;
    return tail_walk(c->p + c->off, c->len - c->off, &out->tail, out->headers,
                     RECORD_VIEW_MAX_HEADERS);
}

int record_parse(struct kreader *r, struct record_view *out)
{
    struct cursor c;
    int32_t len;

    if (r->err)
        return -1;
    c = (struct cursor){r->p + r->off, r->len - r->off, 0};
    if (cur_varint(&c, &len) < 0 || len < 0 || (size_t)len > c.len - c.off)
        goto bad;
    c = (struct cursor){c.p + c.off, (size_t)len, 0};
    if (record_parse_body(&c, out) < 0)
        goto bad;
    r->off = (size_t)(c.p - r->p) + (size_t)len;
    return 0;
bad:
    r->err = 1;
    return -1;
}
