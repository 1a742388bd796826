/*
 * fuzz_codec: the batch decompressors (gzip, snappy, lz4, zstd) against
 * arbitrary bytes, as a consumer or a test reads batches back.  The first
 * byte picks the codec (low two bits) and a small or a large output
 * buffer (bit 2); the rest is the compressed input.  A decompressor must
 * stay inside its buffers (ASan), report sizes within the buffer, and
 * what it accepts must survive a round trip through the same codec.
 */
#include "proto/batch.h"
#include "proto/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int codecs[4] = {BATCH_CODEC_GZIP, BATCH_CODEC_SNAPPY,
                              BATCH_CODEC_LZ4, BATCH_CODEC_ZSTD};

/* Compresses out[0, n) again and checks it reads back the same. */
static void roundtrip(int codec, const uint8_t *out, size_t n)
{
    size_t cap = codec_bound(codec, n);
    uint8_t *z = malloc(cap), *back = malloc(n ? n : 1);
    ssize_t zn = codec_compress(codec, CODEC_LEVEL_DEFAULT, out, n, z, cap);

    if (zn < 0 ||
        codec_decompress(codec, z, (size_t)zn, back, n) != (ssize_t)n ||
        memcmp(back, out, n))
        abort();
    free(z);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int codec;
    size_t cap;
    uint8_t *in, *out;
    ssize_t n;

    if (size < 1)
        return 0;
    codec = codecs[data[0] & 3];
    cap = data[0] & 4 ? 1 << 20 : 256;
    /* exact-size copies: ASan sees a read past the input or the output */
    in = malloc(size - 1 ? size - 1 : 1);
    memcpy(in, data + 1, size - 1);
    out = malloc(cap);
    n = codec_decompress(codec, in, size - 1, out, cap);
    if (n > (ssize_t)cap)
        abort();
    if (n >= 0)
        roundtrip(codec, out, (size_t)n);
    free(in);
    free(out);
    return 0;
}
