/*
 * fuzz_record: the record tail decoder (what a worker reads from a
 * client's record) against arbitrary bytes.  A tail it accepts must lie
 * inside the input, and re-encoding what it decoded must give the same
 * bytes back.
 */
#include "proto/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct record_tail_info info;

    if (record_tail_check(data, size, &info) < 0)
        return 0;
    if ((info.key && (info.key < data || info.key + info.key_len > data + size)) ||
        (info.value &&
         (info.value < data || info.value + info.value_len > data + size)))
        abort();
    /* Records around it: the writer must reproduce the input exactly. */
    uint8_t *out = malloc(size + 32);
    size_t n = record_write(out, 0, 0, data, size);
    if (n != record_size(0, 0, size) || memcmp(out + n - size, data, size))
        abort();
    free(out);
    return 0;
}
