/*
 * record.h: one Kafka record (message format v2), encoded in two halves.
 *
 * A record is: length varint | attributes int8 | timestampDelta varlong |
 * offsetDelta varint | key | value | headers.  Everything from the key on
 * (the "tail") depends only on the record itself, so a client encodes it
 * once into shared memory with record_tail_write().  The worker that puts
 * the record into a batch checks the untrusted tail with
 * record_tail_check() and prepends the batch-relative fields with
 * record_write().
 *
 * Tail layout (varints zigzag): keyLen, key (-1 = null) | valueLen, value
 * (-1 = null) | headerCount | per header: keyLen, key (never null) |
 * valueLen, value (-1 = null).
 *
 * The encoders depend on nothing but libc and proto/varint (libchute links
 * them); record_parse() only uses struct kreader's fields, not kbuf.c.
 */
#ifndef CHUTE_PROTO_RECORD_H
#define CHUTE_PROTO_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "proto/kbuf.h"

struct record_header {
    const char *key; /* not NUL-terminated when parsed */
    size_t key_len;
    const void *value;
    int32_t value_len; /* -1: null */
};

/* A key or value is null when its pointer is NULL or its length < 0. */
size_t record_tail_size(const void *key, int32_t key_len, const void *value,
                        int32_t value_len, const struct record_header *h,
                        size_t n);
/* Writes the tail (record_tail_size() bytes) and returns its size. */
size_t record_tail_write(uint8_t *dst, const void *key, int32_t key_len,
                         const void *value, int32_t value_len,
                         const struct record_header *h, size_t n);

struct record_tail_info {
    const uint8_t *key; /* NULL when null; points into the tail */
    int32_t key_len;    /* -1 when null */
    const uint8_t *value;
    int32_t value_len;
    int32_t header_count;
};

/* Validates an untrusted tail of exactly len bytes and describes it.
 * Returns 0, or -1 if it is malformed; never reads outside [tail, +len). */
int record_tail_check(const uint8_t *tail, size_t len,
                      struct record_tail_info *info);

/* Encoded size of a whole record, its length varint included. */
/* Most bytes a record adds around its tail inside a batch: length varint
 * (5), attributes (1), timestamp delta varlong (10), offset delta (5).
 * A record whose tail fits message.max.bytes with this and a batch header
 * fits a batch of its own. */
#define RECORD_OVERHEAD_MAX 21

size_t record_size(int64_t ts_delta, int32_t offset_delta, size_t tail_len);
/* Writes a whole record (record_size() bytes) and returns its size. */
size_t record_write(uint8_t *dst, int64_t ts_delta, int32_t offset_delta,
                    const uint8_t *tail, size_t tail_len);

#define RECORD_VIEW_MAX_HEADERS 16

struct record_view {
    int8_t attributes;
    int64_t ts_delta;
    int32_t offset_delta;
    struct record_tail_info tail;
    /* The first RECORD_VIEW_MAX_HEADERS headers; tail.header_count says
     * how many the record has. */
    struct record_header headers[RECORD_VIEW_MAX_HEADERS];
};

/* Reads one length-delimited record at r's position into out (pointers
 * into r's buffer).  Returns 0, or -1 with r->err set if it is malformed. */
int record_parse(struct kreader *r, struct record_view *out);

#endif
