/*
 * fuzz_kafka: the broker response parsers (Metadata v1-v8, Produce v3-v8,
 * ApiVersions, InitProducerId) against arbitrary bytes: they take input
 * from the network and must fail cleanly, never crash or leak.
 */
#include "proto/kafka.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_partition(void *ctx, const char *topic, size_t topic_len,
                         int32_t partition, int16_t error, int64_t offset)
{
    (void)ctx;
    (void)partition;
    (void)error;
    (void)offset;
    if (topic_len)
        (void)*(volatile const char *)&topic[topic_len - 1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kafka_metadata md;
    struct kafka_versions v;
    struct kafka_init_pid ip;
    int16_t ver;

    if (size < 1)
        return 0;
    ver = (int16_t)(data[0] % 9);
    data++;
    size--;
    if (ver >= 1) {
        kafka_metadata_parse(data, size, ver, &md);
        kafka_metadata_free(&md);
    }
    if (ver >= 3 && ver != 5)
        kafka_produce_parse(data, size, ver, on_partition, NULL);
    kafka_apiversions_parse(data, size, (int16_t)(ver % 3), &v);
    kafka_init_pid_parse(data, size, (int16_t)(ver % 2), &ip);
    return 0;
}
