/*
 * batch.h: the 61-byte header of a Kafka RecordBatch v2 (magic 2).
 *
 * A producer lays the records (possibly compressed) out at
 * batch + BATCH_HEADER_SIZE and then calls batch_write_header(), which
 * fills every header field and finally the CRC-32C over bytes [21, end).
 * Offsets and the partition leader epoch are the broker's: the producer
 * writes baseOffset 0 and epoch -1.
 */
#ifndef CHUTE_PROTO_BATCH_H
#define CHUTE_PROTO_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define BATCH_HEADER_SIZE 61
#define BATCH_MAGIC       2
#define BATCH_CRC_OFFSET  17
#define BATCH_CRC_START   21 /* the CRC covers [21, end) */
#define BATCH_LENGTH_BIAS 12 /* batchLength excludes baseOffset and itself */

/* Codec in attribute bits 0-2. */
#define BATCH_CODEC_MASK   0x07
#define BATCH_CODEC_NONE   0
#define BATCH_CODEC_GZIP   1
#define BATCH_CODEC_SNAPPY 2
#define BATCH_CODEC_LZ4    3
#define BATCH_CODEC_ZSTD   4

struct batch_meta {
    int16_t attributes; /* codec bits */
    int32_t last_offset_delta;
    int64_t base_timestamp, max_timestamp, producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
};

/* Writes the header of a batch of total_len bytes whose records are
 * already at batch + BATCH_HEADER_SIZE, CRC included. */
void batch_write_header(uint8_t *batch, size_t total_len,
                        const struct batch_meta *m);

/* Reads the header at p (len bytes available): checks the magic and that
 * batchLength fits the header and len.  Returns 0 with *m and *total_len
 * set, or CHUTE_ERR_PROTOCOL. */
int batch_parse_header(const uint8_t *p, size_t len, struct batch_meta *m,
                       size_t *total_len);

/* 0 if the stored CRC matches bytes [21, total_len), else
 * CHUTE_ERR_PROTOCOL. */
int batch_check_crc(const uint8_t *p, size_t total_len);

#endif
