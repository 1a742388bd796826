/*
 * kbuf.c: growable big-endian writer and bounds-checked reader (kbuf.h).
 */
#include "proto/kbuf.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/endian.h"
#include "proto/varint.h"

#define KBUF_MIN_CAP 256

void kbuf_init(struct kbuf *b)
{
    memset(b, 0, sizeof(*b));
}

void kbuf_release(struct kbuf *b)
{
    free(b->data);
    kbuf_init(b);
}

void kbuf_reset(struct kbuf *b)
{
    b->len = 0;
    b->oom = 0;
}

static int kbuf_grow(struct kbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : KBUF_MIN_CAP;
    uint8_t *p;

    while (cap < need && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need)
        cap = need;
    p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return err_set(CHUTE_ERR_SYSTEM,
                       "out of memory growing a buffer "
                       "to %zu bytes",
                       need);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int kbuf_reserve(struct kbuf *b, size_t n)
{
    if (b->oom)
        return CHUTE_ERR_SYSTEM;
    if (n > SIZE_MAX - b->len) {
        b->oom = 1;
        return err_set(CHUTE_ERR_SYSTEM, "buffer size overflow");
    }
    if (b->len + n <= b->cap)
        return 0;
    return kbuf_grow(b, b->len + n);
}

/* Returns where n bytes may be written and counts them, or NULL. */
static uint8_t *kbuf_claim(struct kbuf *b, size_t n)
{
    uint8_t *p;

    if (kbuf_reserve(b, n) < 0)
        return NULL;
    p = b->data + b->len;
    b->len += n;
    return p;
}

void kbuf_put(struct kbuf *b, const void *p, size_t n)
{
    uint8_t *d = kbuf_claim(b, n);

    if (d && n)
        memcpy(d, p, n);
}

void kbuf_i8(struct kbuf *b, int8_t v)
{
    uint8_t *d = kbuf_claim(b, 1);

    if (d)
        d[0] = (uint8_t)v;
}

void kbuf_i16(struct kbuf *b, int16_t v)
{
    uint8_t *d = kbuf_claim(b, 2);

    if (d)
        be_put16(d, (uint16_t)v);
}

void kbuf_i32(struct kbuf *b, int32_t v)
{
    kbuf_u32(b, (uint32_t)v);
}

void kbuf_u32(struct kbuf *b, uint32_t v)
{
    uint8_t *d = kbuf_claim(b, 4);

    if (d)
        be_put32(d, v);
}

void kbuf_i64(struct kbuf *b, int64_t v)
{
    uint8_t *d = kbuf_claim(b, 8);

    if (d)
        be_put64(d, (uint64_t)v);
}

void kbuf_patch_i32(struct kbuf *b, size_t off, int32_t v)
{
    if (!b->oom && off + 4 <= b->len)
        be_put32(b->data + off, (uint32_t)v);
}

void kbuf_str(struct kbuf *b, const char *s)
{
    kbuf_strn(b, s, s ? strlen(s) : 0);
}

void kbuf_strn(struct kbuf *b, const char *s, size_t len)
{
    if (!s) {
        kbuf_i16(b, -1);
        return;
    }
    if (len > INT16_MAX) {
        b->oom = 1; /* cannot be encoded: poison the request */
        return;
    }
    kbuf_i16(b, (int16_t)len);
    kbuf_put(b, s, len);
}

void kbuf_bytes(struct kbuf *b, const void *p, size_t n)
{
    if (!p) {
        kbuf_i32(b, -1);
        return;
    }
    if (n > INT32_MAX) {
        b->oom = 1;
        return;
    }
    kbuf_i32(b, (int32_t)n);
    kbuf_put(b, p, n);
}

void kbuf_uvarint(struct kbuf *b, uint32_t v)
{
    uint8_t tmp[VARINT_MAX32];

    kbuf_put(b, tmp, uvarint_encode(tmp, v));
}

void kbuf_varint(struct kbuf *b, int32_t v)
{
    uint8_t tmp[VARINT_MAX32];

    kbuf_put(b, tmp, varint_encode(tmp, v));
}

void kbuf_varlong(struct kbuf *b, int64_t v)
{
    uint8_t tmp[VARINT_MAX64];

    kbuf_put(b, tmp, varlong_encode(tmp, v));
}

/* ---- reader ------------------------------------------------------------ */

void kr_init(struct kreader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->err = 0;
}

size_t kr_left(const struct kreader *r)
{
    return r->err ? 0 : r->len - r->off;
}

/* Returns the next n bytes and moves past them, or NULL (err set). */
static const uint8_t *kr_take(struct kreader *r, size_t n)
{
    const uint8_t *p;

    if (r->err || n > r->len - r->off) {
        r->err = 1;
        return NULL;
    }
    p = r->p + r->off;
    r->off += n;
    return p;
}

void kr_skip(struct kreader *r, size_t n)
{
    kr_take(r, n);
}

int8_t kr_i8(struct kreader *r)
{
    const uint8_t *p = kr_take(r, 1);

    return p ? (int8_t)p[0] : 0;
}

int16_t kr_i16(struct kreader *r)
{
    const uint8_t *p = kr_take(r, 2);

    return p ? (int16_t)be_get16(p) : 0;
}

int32_t kr_i32(struct kreader *r)
{
    const uint8_t *p = kr_take(r, 4);

    return p ? (int32_t)be_get32(p) : 0;
}

int64_t kr_i64(struct kreader *r)
{
    const uint8_t *p = kr_take(r, 8);

    return p ? (int64_t)be_get64(p) : 0;
}

int kr_str(struct kreader *r, const char **s, size_t *len)
{
    int16_t n = kr_i16(r);
    const uint8_t *p = NULL;

    *s = NULL;
    *len = 0;
    if (n < -1)
        r->err = 1;
    if (r->err || n < 0)
        return -1;
    p = kr_take(r, (size_t)n);
    if (!p)
        return -1;
    *s = (const char *)p;
    *len = (size_t)n;
    return 0;
}

int kr_bytes(struct kreader *r, const uint8_t **p, int32_t *len)
{
    int32_t n = kr_i32(r);

    *p = NULL;
    *len = -1;
    if (n < -1)
        r->err = 1;
    if (r->err || n < 0)
        return -1;
    *p = kr_take(r, (size_t)n);
    if (!*p)
        return -1;
    *len = n;
    return 0;
}

int32_t kr_array_len(struct kreader *r)
{
    int32_t n = kr_i32(r);

    if (r->err)
        return 0;
    if (n < -1 || (n > 0 && (size_t)n > r->len - r->off)) {
        r->err = 1;
        return 0;
    }
    return n;
}

/* Runs a varint decoder on the rest of the buffer and moves past it. */
static void kr_advance(struct kreader *r, int n)
{
    if (n < 0)
        r->err = 1;
    else
        r->off += (size_t)n;
}

uint32_t kr_uvarint(struct kreader *r)
{
    uint32_t v = 0;

    if (!r->err)
        kr_advance(r, uvarint_decode(r->p + r->off, r->len - r->off, &v));
    return r->err ? 0 : v;
}

int32_t kr_varint(struct kreader *r)
{
    int32_t v = 0;

    if (!r->err)
        kr_advance(r, varint_decode(r->p + r->off, r->len - r->off, &v));
    return r->err ? 0 : v;
}

int64_t kr_varlong(struct kreader *r)
{
    int64_t v = 0;

    if (!r->err)
        kr_advance(r, varlong_decode(r->p + r->off, r->len - r->off, &v));
    return r->err ? 0 : v;
}
