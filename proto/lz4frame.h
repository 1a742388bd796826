/*
 * lz4frame.h: LZ4 compression of a RecordBatch's records, as Kafka reads it.
 *
 * Kafka's codec 3 is the LZ4 *frame* format with independent blocks
 * (FLG 0x60), 64 KiB maximum block size (BD 0x40), and no block checksum,
 * content checksum or content size: exactly what Java writes and what its
 * reader requires (protocol notes §5; Kafka's Lz4BlockOutputStream writes
 * FLG 0x60, BD 0x40, the descriptor hash over FLG and BD, blocks whose size
 * word has the high bit set when stored raw, and a zero end mark).  liblz4
 * does the work; compression keeps one context per thread, so calls are
 * cheap and thread-safe.
 */
#ifndef CHUTE_PROTO_LZ4FRAME_H
#define CHUTE_PROTO_LZ4FRAME_H

#include <stddef.h>
#include <sys/types.h>

/* Space lz4frame_compress() needs for n input bytes, worst case. */
size_t lz4frame_bound(size_t n);

/* Compresses src into one frame at dst with liblz4's compressionLevel
 * (0: fast, the default; 3-12: high compression).  Returns the frame's size,
 * or (message set) CHUTE_ERR_TOO_LARGE if it does not fit in cap (any cap
 * works: lz4frame_bound(n) always fits), CHUTE_ERR_SYSTEM or
 * CHUTE_ERR_INVALID if liblz4 fails. */
ssize_t lz4frame_compress_level(int level, const void *src, size_t n, void *dst,
                                size_t cap);

/* lz4frame_compress_level() at level 0. */
ssize_t lz4frame_compress(const void *src, size_t n, void *dst, size_t cap);

/* Decompresses exactly one frame of n bytes.  Returns the output size, or
 * (message set) CHUTE_ERR_TOO_LARGE if it holds more than cap bytes,
 * CHUTE_ERR_PROTOCOL if it is malformed, truncated or followed by extra
 * bytes.  For tests and tools. */
ssize_t lz4frame_decompress(const void *src, size_t n, void *dst, size_t cap);

#endif
