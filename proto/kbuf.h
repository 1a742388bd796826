/*
 * kbuf.h: the byte writer and reader every Kafka encoder and decoder uses.
 *
 * struct kbuf is a growable buffer with big-endian appenders for the
 * protocol's types.  Writes never fail loudly: if memory runs out the
 * buffer sets `oom` and ignores every later write, so a request is built
 * with straight-line code and checked once at the end.
 *
 * struct kreader reads a received, untrusted buffer.  Every read is bounds
 * checked; the first failure sets the sticky `err` and every later read
 * returns 0 (or null), so a parser checks `err` once after a block of reads.
 */
#ifndef CHUTE_PROTO_KBUF_H
#define CHUTE_PROTO_KBUF_H

#include <stddef.h>
#include <stdint.h>

struct kbuf {
    uint8_t *data;
    size_t len, cap;
    int oom;
};

void kbuf_init(struct kbuf *b);
void kbuf_release(struct kbuf *b);
/* Empties the buffer, keeps its memory, clears oom. */
void kbuf_reset(struct kbuf *b);
/* Makes room for n more bytes: 0, or CHUTE_ERR_SYSTEM (and oom set). */
int kbuf_reserve(struct kbuf *b, size_t n);
void kbuf_put(struct kbuf *b, const void *p, size_t n);
void kbuf_i8(struct kbuf *b, int8_t v);
void kbuf_i16(struct kbuf *b, int16_t v);
void kbuf_i32(struct kbuf *b, int32_t v);
void kbuf_i64(struct kbuf *b, int64_t v);
void kbuf_u32(struct kbuf *b, uint32_t v);
/* Overwrites 4 bytes at off (< len) with v, for sizes and counts. */
void kbuf_patch_i32(struct kbuf *b, size_t off, int32_t v);
/* STRING with an int16 length; NULL writes length -1. */
void kbuf_str(struct kbuf *b, const char *s);
void kbuf_strn(struct kbuf *b, const char *s, size_t len);
/* BYTES with an int32 length; NULL writes length -1. */
void kbuf_bytes(struct kbuf *b, const void *p, size_t n);
void kbuf_uvarint(struct kbuf *b, uint32_t v);
void kbuf_varint(struct kbuf *b, int32_t v);
void kbuf_varlong(struct kbuf *b, int64_t v);

struct kreader {
    const uint8_t *p;
    size_t len, off;
    int err;
};

void kr_init(struct kreader *r, const void *p, size_t len);
int8_t kr_i8(struct kreader *r);
int16_t kr_i16(struct kreader *r);
int32_t kr_i32(struct kreader *r);
int64_t kr_i64(struct kreader *r);
/* STRING / NULLABLE_STRING: 0 with *s into the buffer (not NUL-terminated),
 * or -1 for null or an error (then *s = NULL, *len = 0; see r->err). */
int kr_str(struct kreader *r, const char **s, size_t *len);
/* NULLABLE_BYTES: 0, or -1 for null or an error (*p = NULL, *len = -1). */
int kr_bytes(struct kreader *r, const uint8_t **p, int32_t *len);
void kr_skip(struct kreader *r, size_t n);
/* ARRAY count: >= 0, -1 for null; a count above the bytes left is an
 * error (returns 0), which bounds what a caller allocates. */
int32_t kr_array_len(struct kreader *r);
uint32_t kr_uvarint(struct kreader *r);
int32_t kr_varint(struct kreader *r);
int64_t kr_varlong(struct kreader *r);
size_t kr_left(const struct kreader *r);

#endif
