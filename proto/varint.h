/*
 * varint.h: the variable-length integers of Kafka's wire format.
 *
 * Unsigned varints are plain LEB128 (low 7 bits first, high bit = more);
 * Kafka uses them for compact lengths.  Record fields use the signed forms,
 * zigzag-mapped first so that small negative numbers stay short:
 * varint for 32-bit values (at most 5 bytes), varlong for 64-bit values
 * (at most 10 bytes).
 *
 * Encoders write into a caller buffer that has room for the value's size
 * (VARINT_MAX32 / VARINT_MAX64 always suffice) and return the bytes
 * written.  Decoders read from (p, len) and return the bytes consumed, or
 * -1 if the input ends inside the number or the number is overlong.
 *
 * Depends on nothing but libc: libchute links it.
 */
#ifndef CHUTE_PROTO_VARINT_H
#define CHUTE_PROTO_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX32 5
#define VARINT_MAX64 10

size_t uvarint_encode(uint8_t *dst, uint32_t v);
size_t varint_encode(uint8_t *dst, int32_t v);
size_t varlong_encode(uint8_t *dst, int64_t v);

int uvarint_decode(const uint8_t *p, size_t len, uint32_t *out);
int varint_decode(const uint8_t *p, size_t len, int32_t *out);
int varlong_decode(const uint8_t *p, size_t len, int64_t *out);

size_t uvarint_size(uint32_t v);
size_t varint_size(int32_t v);
size_t varlong_size(int64_t v);

#endif
