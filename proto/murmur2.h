/*
 * murmur2.h: the key hash of Java Kafka's default partitioner.
 *
 * murmur2() is Kafka's variant of MurmurHash2 (seed 0x9747b28c, bytes read
 * as unsigned, little-endian words); murmur2_partition() maps a key to a
 * partition exactly as the Java producer does for a keyed record, so chute
 * places keys where Java clients and librdkafka's murmur2 partitioner do.
 * Depends on nothing but libc: libchute links it.
 */
#ifndef CHUTE_PROTO_MURMUR2_H
#define CHUTE_PROTO_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

uint32_t murmur2(const void *key, size_t len);
/* (murmur2(key) & 0x7fffffff) % partitions; -1 if partitions <= 0. */
int32_t murmur2_partition(const void *key, size_t len, int32_t partitions);

#endif
