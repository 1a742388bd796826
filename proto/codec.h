/*
 * codec.h: the compression codecs of a RecordBatch (attribute bits 0-2,
 * BATCH_CODEC_* in batch.h), writing what the Java producer writes so that
 * every consumer reads it:
 *
 *   gzip    one gzip member (deflate with a gzip header, zlib windowBits
 *           15 + 16), as java.util.zip.GZIPOutputStream writes;
 *   snappy  xerial snappy-java's stream (SnappyOutputStream): the 16-byte
 *           header, then [int32 BE length][raw snappy block] for each
 *           32 KiB of input;
 *   lz4     Kafka's LZ4 frame (lz4frame.h);
 *   zstd    one standard zstd frame, no checksum, as zstd-jni writes;
 *   none    a plain copy.
 *
 * Levels are librdkafka's compression.level: -1 is the codec's default;
 * gzip 0-9 (default 6), lz4 0-12 (default 0, the fast mode; 3 and up are
 * high compression), zstd 0-22 (default 3; 0 is libzstd's default too),
 * snappy and none take none (only -1 or 0).
 *
 * A pure module: no configuration, no worker.  Compression keeps one
 * context per codec and thread, so calls are cheap and thread-safe.
 * Sizes are Kafka's int32: inputs over CODEC_MAX_INPUT are refused.
 */
#ifndef CHUTE_PROTO_CODEC_H
#define CHUTE_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CODEC_LEVEL_DEFAULT (-1)
#define CODEC_MAX_INPUT     ((size_t)INT32_MAX)

/* The codec's name ("gzip"), or NULL for a value that is no codec. */
const char *codec_name(int codec);

/* 0 if level is a valid compression.level for codec, else
 * CHUTE_ERR_INVALID (message set: the valid range). */
int codec_check_level(int codec, int level);

/* Output space codec_compress() needs for len input bytes, worst case;
 * 0 for a value that is no codec. */
size_t codec_bound(int codec, size_t len);

/* Compresses in[0, len) to out at level.  Returns the compressed size, or
 * (message set) CHUTE_ERR_TOO_LARGE if it does not fit in cap,
 * CHUTE_ERR_INVALID for an unknown codec, a bad level or an input over
 * CODEC_MAX_INPUT, CHUTE_ERR_SYSTEM if the library cannot get memory.
 * Any cap works, never written past: codec_bound() always fits, and a
 * caller that wants the output only if it is smaller than the input
 * passes a cap below len. */
ssize_t codec_compress(int codec, int level, const uint8_t *in, size_t len,
                       uint8_t *out, size_t cap);

/* Decompresses what codec_compress() or any Kafka producer wrote for
 * codec (snappy: the xerial stream, or one raw block as librdkafka
 * writes).  Safe on hostile input: reads only in[0, len), writes only
 * out[0, cap).  Returns the output size, or (message set)
 * CHUTE_ERR_TOO_LARGE if the output would pass cap, CHUTE_ERR_PROTOCOL if
 * the input is malformed or truncated, CHUTE_ERR_INVALID for an unknown
 * codec, CHUTE_ERR_SYSTEM if the library cannot get memory. */
ssize_t codec_decompress(int codec, const uint8_t *in, size_t len, uint8_t *out,
                         size_t cap);

#endif
