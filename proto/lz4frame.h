/*
 * lz4frame.h: LZ4 compression of a RecordBatch's records, as Kafka reads it.
 *
 * Kafka's codec 3 is the LZ4 *frame* format with independent blocks
 * (FLG 0x60), 64 KiB maximum block size (BD 0x40), and no block checksum,
 * content checksum or content size: exactly what Java writes and what its
 * reader requires (protocol notes §5).  liblz4 does the work; compression
 * keeps one context per thread, so calls are cheap and thread-safe.
 */
#ifndef CHUTE_PROTO_LZ4FRAME_H
#define CHUTE_PROTO_LZ4FRAME_H

#include <stddef.h>
#include <sys/types.h>

/* Space lz4frame_compress() needs for n input bytes, worst case. */
size_t lz4frame_bound(size_t n);

/* Compresses src into one frame at dst.  Returns the frame's size, or -1
 * (message set) if cap < lz4frame_bound(n) or liblz4 fails. */
ssize_t lz4frame_compress(const void *src, size_t n, void *dst, size_t cap);

/* Decompresses exactly one frame of n bytes.  Returns the output size, or
 * -1 if the frame is malformed, truncated, followed by extra bytes, or
 * larger than cap.  For tests and tools. */
ssize_t lz4frame_decompress(const void *src, size_t n, void *dst, size_t cap);

#endif
