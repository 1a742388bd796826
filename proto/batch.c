/*
 * batch.c: RecordBatch v2 header writer and checker (batch.h).
 */
#include "proto/batch.h"

#include "common/err.h"
#include "proto/crc32c.h"
#include "proto/endian.h"

/* Field offsets of the header (protocol notes §5). */
enum {
    OFF_BASE_OFFSET = 0,
    OFF_LENGTH = 8,
    OFF_LEADER_EPOCH = 12,
    OFF_MAGIC = 16,
    OFF_ATTRIBUTES = 21,
    OFF_LAST_DELTA = 23,
    OFF_BASE_TS = 27,
    OFF_MAX_TS = 35,
    OFF_PRODUCER_ID = 43,
    OFF_PRODUCER_EPOCH = 51,
    OFF_BASE_SEQ = 53,
    OFF_COUNT = 57,
};

static void batch_write_meta(uint8_t *p, const struct batch_meta *m)
{
    be_put16(p + OFF_ATTRIBUTES, (uint16_t)m->attributes);
    be_put32(p + OFF_LAST_DELTA, (uint32_t)m->last_offset_delta);
    be_put64(p + OFF_BASE_TS, (uint64_t)m->base_timestamp);
    be_put64(p + OFF_MAX_TS, (uint64_t)m->max_timestamp);
    be_put64(p + OFF_PRODUCER_ID, (uint64_t)m->producer_id);
    be_put16(p + OFF_PRODUCER_EPOCH, (uint16_t)m->producer_epoch);
    be_put32(p + OFF_BASE_SEQ, (uint32_t)m->base_sequence);
    be_put32(p + OFF_COUNT, (uint32_t)m->record_count);
}

static void batch_read_meta(const uint8_t *p, struct batch_meta *m)
{
    m->attributes = (int16_t)be_get16(p + OFF_ATTRIBUTES);
    m->last_offset_delta = (int32_t)be_get32(p + OFF_LAST_DELTA);
    m->base_timestamp = (int64_t)be_get64(p + OFF_BASE_TS);
    m->max_timestamp = (int64_t)be_get64(p + OFF_MAX_TS);
    m->producer_id = (int64_t)be_get64(p + OFF_PRODUCER_ID);
    m->producer_epoch = (int16_t)be_get16(p + OFF_PRODUCER_EPOCH);
    m->base_sequence = (int32_t)be_get32(p + OFF_BASE_SEQ);
    m->record_count = (int32_t)be_get32(p + OFF_COUNT);
}

void batch_write_header(uint8_t *batch, size_t total_len,
                        const struct batch_meta *m)
{
    uint32_t crc;

    be_put64(batch + OFF_BASE_OFFSET, 0);
    be_put32(batch + OFF_LENGTH, (uint32_t)(total_len - BATCH_LENGTH_BIAS));
    be_put32(batch + OFF_LEADER_EPOCH, UINT32_MAX); /* -1 */
    batch[OFF_MAGIC] = BATCH_MAGIC;
    batch_write_meta(batch, m);
    crc = crc32c(0, batch + BATCH_CRC_START, total_len - BATCH_CRC_START);
    be_put32(batch + BATCH_CRC_OFFSET, crc);
}

int batch_parse_header(const uint8_t *p, size_t len, struct batch_meta *m,
                       size_t *total_len)
{
    uint32_t blen;

    if (len < BATCH_HEADER_SIZE)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "record batch of %zu bytes is "
                       "shorter than its header",
                       len);
    if (p[OFF_MAGIC] != BATCH_MAGIC)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "record batch has magic %d, "
                       "not 2",
                       (int8_t)p[OFF_MAGIC]);
    blen = be_get32(p + OFF_LENGTH);
    if (blen < BATCH_HEADER_SIZE - BATCH_LENGTH_BIAS ||
        blen > len - BATCH_LENGTH_BIAS)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "record batch length %u does not "
                       "fit the %zu bytes",
                       blen, len);
    batch_read_meta(p, m);
    *total_len = (size_t)blen + BATCH_LENGTH_BIAS;
    return 0;
}

int batch_check_crc(const uint8_t *p, size_t total_len)
{
    uint32_t want, got;

    if (total_len < BATCH_HEADER_SIZE)
        return err_set(CHUTE_ERR_PROTOCOL, "record batch too short for a "
                                           "CRC");
    want = be_get32(p + BATCH_CRC_OFFSET);
    got = crc32c(0, p + BATCH_CRC_START, total_len - BATCH_CRC_START);
    if (want != got)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "record batch CRC %08x, computed "
                       "%08x",
                       want, got);
    return 0;
}
