/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
 *
 * Reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
 * crc32c(0, buf, len) checksums buf; passing a previous result as crc
 * continues it, so crc32c(crc32c(0, a, n), b, m) is the checksum of a||b.
 * Uses the SSE4.2 crc32 instruction when the CPU has it, a slicing-by-8
 * table otherwise.
 */
#ifndef CHUTE_PROTO_CRC32C_H
#define CHUTE_PROTO_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The two implementations behind crc32c(), for tests and benchmarks.
 * crc32c_hw() may be called only when crc32c_hw_available(). */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len);
bool crc32c_hw_available(void);

#endif
