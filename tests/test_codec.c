/*
 * test_codec.c: unit tests of proto/codec.c: round trips of every codec at
 * several levels; the form each codec must write, read with the codec's
 * own library rather than with codec.c (a gzip member, the xerial snappy
 * stream, Kafka's LZ4 frame, one zstd frame); the level table; outputs that
 * fit their buffer exactly; hostile input to the decompressors.  Buffers
 * are allocated to their exact size so that ASan sees any overrun.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <pthread.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "chute/chute.h"
#include "proto/batch.h"
#include "proto/codec.h"
#include "proto/endian.h"
#include "tests/fill.h"
#include "tests/hex.h"

#define GZIP     BATCH_CODEC_GZIP
#define SNAPPY   BATCH_CODEC_SNAPPY
#define LZ4      BATCH_CODEC_LZ4
#define ZSTD     BATCH_CODEC_ZSTD
#define NONE     BATCH_CODEC_NONE
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const int compressing[] = {GZIP, SNAPPY, LZ4, ZSTD};
static const int every[] = {GZIP, SNAPPY, LZ4, ZSTD, NONE};

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A heap copy of p[0, n) in a buffer of exactly n bytes. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);

    assert_non_null(c);
    memcpy(c, p, n);
    return c;
}

/* Compresses into a buffer of exactly codec_bound() bytes; returns the
 * output (the caller frees it), its size in *zn. */
static uint8_t *compress_ok(int codec, int level, const uint8_t *in, size_t n,
                            size_t *zn)
{
    size_t cap = codec_bound(codec, n);
    uint8_t *z = malloc(cap ? cap : 1);
    ssize_t r;

    assert_non_null(z);
    r = codec_compress(codec, level, in, n, z, cap);
    if (r < 0)
        fail_msg("%s level %d, %zu bytes: %s", codec_name(codec), level, n,
                 chute_errmsg());
    assert_true((size_t)r <= cap);
    *zn = (size_t)r;
    return z;
}

/* Compresses n bytes of fill and reads them back into exactly n bytes;
 * returns the compressed size. */
static size_t roundtrip(int codec, int level, size_t n, int fill)
{
    uint8_t *in = make_input(n, fill), *back = malloc(n ? n : 1), *z;
    size_t zn;

    z = compress_ok(codec, level, in, n, &zn);
    assert_int_equal(codec_decompress(codec, z, zn, back, n), n);
    assert_memory_equal(in, back, n);
    free(in);
    free(back);
    free(z);
    return zn;
}

static const struct {
    size_t n;
    int fill;
} sizes[] = {
    {0, FILL_ZERO},       {1, FILL_TEXT},       {7, FILL_RANDOM},
    {1000, FILL_WORDS},   {32768, FILL_TEXT},   {32769, FILL_RANDOM},
    {65537, FILL_RANDOM}, {100000, FILL_WORDS}, {1 << 20, FILL_ZERO},
};

/* Each codec's default, its ends and one level between. */
static const struct {
    int codec;
    int levels[4];
} level_sets[] = {
    {GZIP, {-1, 0, 1, 9}},  {SNAPPY, {-1, 0, -1, 0}}, {LZ4, {-1, 0, 3, 12}},
    {ZSTD, {-1, 0, 1, 22}}, {NONE, {-1, 0, -1, 0}},
};

static void test_codec_roundtrips(void **state)
{
    size_t c, l, i;

    (void)state;
    srand(3);
    for (c = 0; c < NELEM(level_sets); c++)
        for (l = 0; l < NELEM(level_sets[c].levels); l++)
            for (i = 0; i < NELEM(sizes); i++)
                roundtrip(level_sets[c].codec, level_sets[c].levels[l],
                          sizes[i].n, sizes[i].fill);
}

static void test_codec_compresses(void **state)
{
    size_t c, n = 1 << 20;

    (void)state;
    for (c = 0; c < NELEM(compressing); c++) {
        assert_true(roundtrip(compressing[c], -1, n, FILL_TEXT) < n / 10);
        /* incompressible data grows only by framing overhead */
        assert_true(roundtrip(compressing[c], -1, n, FILL_RANDOM) <
                    n + n / 100 + 64);
    }
}

/* Higher levels give smaller output: the level reaches the library. */
static void test_codec_levels_matter(void **state)
{
    static const struct {
        int codec, low, high;
    } pairs[] = {{GZIP, 1, 9}, {LZ4, 0, 12}, {ZSTD, 1, 19}, {GZIP, 0, 1}};
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(pairs); i++) {
        size_t lo, hi;

        srand(7);
        lo = roundtrip(pairs[i].codec, pairs[i].low, 200000, FILL_WORDS);
        srand(7);
        hi = roundtrip(pairs[i].codec, pairs[i].high, 200000, FILL_WORDS);
        if (hi >= lo)
            fail_msg("%s: level %d gave %zu bytes, level %d %zu",
                     codec_name(pairs[i].codec), pairs[i].high, hi,
                     pairs[i].low, lo);
    }
}

/* xerial snappy-java's stream: the magic, version 1, compatible version 1
 * (big endian), then [be32 length][raw block] per 32 KiB of input, each
 * block readable by libsnappy alone. */
static void test_codec_snappy_xerial(void **state)
{
    static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0,
                                     0,    0,   0,   1,   0,   0,   0,   1};
    size_t n = 100000, zn, pos = 16, got = 0, blocks = 0;
    uint8_t *in = make_input(n, FILL_RANDOM), *z, *block = malloc(32768);

    (void)state;
    z = compress_ok(SNAPPY, -1, in, n, &zn);
    assert_memory_equal(z, head, 16);
    while (pos < zn) {
        size_t len = be_get32(z + pos), ulen = 32768;

        assert_true(len <= zn - pos - 4);
        assert_int_equal(snappy_uncompress((const char *)z + pos + 4, len,
                                           (char *)block, &ulen),
                         SNAPPY_OK);
        assert_int_equal(ulen, n - got < 32768 ? n - got : 32768);
        assert_memory_equal(block, in + got, ulen);
        got += ulen;
        pos += 4 + len;
        blocks++;
    }
    assert_int_equal(pos, zn);
    assert_int_equal(got, n);
    assert_int_equal(blocks, 4); /* 3 x 32 KiB and the rest */
    free(z);
    /* Java writes the header alone for an empty stream */
    z = compress_ok(SNAPPY, -1, in, 0, &zn);
    assert_int_equal(zn, 16);
    assert_memory_equal(z, head, 16);
    free(z);
    free(in);
    free(block);
}

/* A raw snappy block, as librdkafka writes it, reads back too. */
static void test_codec_snappy_raw(void **state)
{
    size_t n = 5000, zn = snappy_max_compressed_length(n);
    uint8_t *in = make_input(n, FILL_TEXT), *z = malloc(zn), *back = malloc(n);

    (void)state;
    assert_int_equal(snappy_compress((const char *)in, n, (char *)z, &zn),
                     SNAPPY_OK);
    assert_int_equal(codec_decompress(SNAPPY, z, zn, back, n), n);
    assert_memory_equal(in, back, n);
    free(in);
    free(z);
    free(back);
}

/* One RFC 1952 member: zlib in gzip-only mode reads it, and the trailer
 * holds the CRC-32 and the size of the input. */
static void test_codec_gzip_member(void **state)
{
    static const int levels[] = {-1, 0, 9};
    size_t n = 100000, zn, l;
    uint8_t *in = make_input(n, FILL_WORDS), *back = malloc(n), *z;

    (void)state;
    for (l = 0; l < NELEM(levels); l++) {
        z_stream zs = {0};

        z = compress_ok(GZIP, levels[l], in, n, &zn);
        assert_int_equal(z[0], 0x1f);
        assert_int_equal(z[1], 0x8b);
        assert_int_equal(z[2], 8); /* deflate */
        assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK);
        zs.next_in = z;
        zs.avail_in = (uInt)zn;
        zs.next_out = back;
        zs.avail_out = (uInt)n;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.avail_in, 0);
        assert_int_equal(zs.total_out, n);
        inflateEnd(&zs);
        assert_memory_equal(in, back, n);
        assert_int_equal(le32(z + zn - 4), n);
        assert_int_equal(le32(z + zn - 8), crc32(0, in, (uInt)n));
        free(z);
    }
    free(in);
    free(back);
}

/* One standard frame, no checksum and no dictionary, holding its content
 * size; libzstd alone reads it. */
static void test_codec_zstd_frame(void **state)
{
    static const int levels[] = {-1, 1, 22};
    size_t n = 100000, zn, l;
    uint8_t *in = make_input(n, FILL_WORDS), *back = malloc(n), *z;

    (void)state;
    for (l = 0; l < NELEM(levels); l++) {
        z = compress_ok(ZSTD, levels[l], in, n, &zn);
        assert_int_equal(le32(z), ZSTD_MAGICNUMBER);
        assert_int_equal(z[4] & 0x04, 0); /* Content_Checksum_flag */
        assert_int_equal(z[4] & 0x03, 0); /* Dictionary_ID_flag */
        assert_int_equal(ZSTD_getFrameContentSize(z, zn), n);
        assert_int_equal(ZSTD_findFrameCompressedSize(z, zn), zn);
        assert_int_equal(ZSTD_decompress(back, n, z, zn), n);
        assert_memory_equal(in, back, n);
        free(z);
    }
    free(in);
    free(back);
}

/* Kafka's frame at every level: magic, FLG 0x60, BD 0x40, zero end mark. */
static void test_codec_lz4_frame(void **state)
{
    static const uint8_t magic[] = {0x04, 0x22, 0x4d, 0x18}, end[4] = {0};
    static const int levels[] = {-1, 0, 9, 12};
    size_t n = 200000, zn, l;
    uint8_t *in = make_input(n, FILL_WORDS), *z;

    (void)state;
    for (l = 0; l < NELEM(levels); l++) {
        z = compress_ok(LZ4, levels[l], in, n, &zn);
        assert_memory_equal(z, magic, 4);
        assert_int_equal(z[4], 0x60);
        assert_int_equal(z[5], 0x40);
        assert_memory_equal(z + zn - 4, end, 4);
        free(z);
    }
    free(in);
}

static const struct {
    int codec, level, ok;
} level_checks[] = {
    {GZIP, -1, 1},  {GZIP, 0, 1},    {GZIP, 6, 1},    {GZIP, 9, 1},
    {GZIP, 10, 0},  {GZIP, -2, 0},   {SNAPPY, -1, 1}, {SNAPPY, 0, 1},
    {SNAPPY, 1, 0}, {SNAPPY, -2, 0}, {LZ4, -1, 1},    {LZ4, 0, 1},
    {LZ4, 12, 1},   {LZ4, 13, 0},    {LZ4, -2, 0},    {ZSTD, -1, 1},
    {ZSTD, 0, 1},   {ZSTD, 1, 1},    {ZSTD, 22, 1},   {ZSTD, 23, 0},
    {ZSTD, -2, 0},  {NONE, -1, 1},   {NONE, 0, 1},    {NONE, 1, 0},
    {5, -1, 0},     {7, 0, 0},       {8, -1, 0},      {-1, -1, 0},
};

static void test_codec_levels(void **state)
{
    uint8_t in[1] = {'x'}, out[64];
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(level_checks); i++) {
        int c = level_checks[i].codec, l = level_checks[i].level;
        int want = level_checks[i].ok ? 0 : CHUTE_ERR_INVALID;

        if (codec_check_level(c, l) != want)
            fail_msg("codec %d level %d: want %d", c, l, want);
        /* compression takes exactly the levels the check takes */
        if (level_checks[i].ok !=
            (codec_compress(c, l, in, 1, out, sizeof(out)) > 0))
            fail_msg("codec %d level %d: compress disagrees", c, l);
    }
    assert_int_equal(codec_check_level(ZSTD, 23), CHUTE_ERR_INVALID);
    assert_non_null(strstr(chute_errmsg(), "'zstd'"));
    assert_int_equal(codec_bound(5, 100), 0);
    assert_null(codec_name(5));
    assert_string_equal(codec_name(SNAPPY), "snappy");
    assert_int_equal(codec_decompress(6, in, 1, out, sizeof(out)),
                     CHUTE_ERR_INVALID);
}

/* Compressing into exactly the output's size works (and gives the same
 * bytes); one byte less is CHUTE_ERR_TOO_LARGE, never an overrun. */
static void test_codec_exact_fit(void **state)
{
    static const struct {
        size_t n;
        int fill;
    } inputs[] = {{0, FILL_ZERO},
                  {1, FILL_TEXT},
                  {5000, FILL_WORDS},
                  {100000, FILL_RANDOM},
                  {100000, FILL_WORDS}};
    size_t c, i, zn;

    (void)state;
    for (c = 0; c < NELEM(every); c++)
        for (i = 0; i < NELEM(inputs); i++) {
            uint8_t *in = make_input(inputs[i].n, inputs[i].fill);
            uint8_t *z = compress_ok(every[c], -1, in, inputs[i].n, &zn);
            uint8_t *fit = malloc(zn ? zn : 1), *less = malloc(zn ? zn : 1);

            assert_int_equal(
                codec_compress(every[c], -1, in, inputs[i].n, fit, zn), zn);
            assert_memory_equal(fit, z, zn);
            if (zn)
                assert_int_equal(
                    codec_compress(every[c], -1, in, inputs[i].n, less, zn - 1),
                    CHUTE_ERR_TOO_LARGE);
            free(in);
            free(z);
            free(fit);
            free(less);
        }
}

/* Every cut of a valid input fails, into a buffer of exactly that many
 * bytes (a snappy stream cut right after its header is a valid empty
 * stream). */
static void check_truncations(int codec, const uint8_t *z, size_t zn, size_t n)
{
    uint8_t *back = malloc(n + 1);
    size_t cut;

    for (cut = 0; cut < zn; cut++) {
        uint8_t *part = exact_copy(z, cut);
        ssize_t r = codec_decompress(codec, part, cut, back, n + 1);

        if (!(r < 0 || (codec == SNAPPY && cut == 16 && r == 0)))
            fail_msg("%s cut at %zu of %zu gave %zd", codec_name(codec), cut,
                     zn, r);
        free(part);
    }
    free(back);
}

/* Flipping any byte never makes the decoder leave its buffers. */
static void check_flips(int codec, const uint8_t *z, size_t zn, size_t n)
{
    uint8_t *back = malloc(n + 1);
    size_t i;

    for (i = 0; i < zn; i++) {
        uint8_t *bad = exact_copy(z, zn);
        ssize_t r;

        bad[i] ^= 0xff;
        r = codec_decompress(codec, bad, zn, back, n + 1);
        assert_true(r <= (ssize_t)n + 1);
        free(bad);
    }
    free(back);
}

/* A stray byte after the end, and the last byte cut off when the output
 * buffer is exactly as large as the content: both malformed (not "too
 * large": the content fits, the end is wrong). */
static void check_ends(int codec, const uint8_t *z, size_t zn, size_t n)
{
    uint8_t *more = malloc(zn + 1), *less = exact_copy(z, zn - 1);
    uint8_t *back = malloc(n);

    memcpy(more, z, zn);
    more[zn] = 0;
    assert_int_equal(codec_decompress(codec, more, zn + 1, back, n),
                     CHUTE_ERR_PROTOCOL);
    if (codec_decompress(codec, less, zn - 1, back, n) != CHUTE_ERR_PROTOCOL)
        fail_msg("%s without its last byte: %s", codec_name(codec),
                 chute_errmsg());
    free(more);
    free(less);
    free(back);
}

static void test_codec_hostile_valid(void **state)
{
    size_t n = 5000, zn, c;
    uint8_t *in = make_input(n, FILL_WORDS), *small = malloc(n - 1), *z;
    uint8_t none;

    (void)state;
    for (c = 0; c < NELEM(every); c++) {
        z = compress_ok(every[c], -1, in, n, &zn);
        if (every[c] != NONE)
            check_truncations(every[c], z, zn, n);
        check_flips(every[c], z, zn, n);
        assert_int_equal(codec_decompress(every[c], z, zn, small, n - 1),
                         CHUTE_ERR_TOO_LARGE);
        assert_int_equal(codec_decompress(every[c], z, zn, &none, 0),
                         CHUTE_ERR_TOO_LARGE);
        if (every[c] != NONE)
            check_ends(every[c], z, zn, n);
        free(z);
    }
    free(in);
    free(small);
}

#define XERIAL "82 53 4e 41 50 50 59 00 00000001 00000001 "

/* Inputs that lie about their sizes. */
static const struct {
    int codec;
    const char *hex;
    size_t cap;
    int want;
} lies[] = {
    /* snappy: a block length past the end, a short length word, an empty
     * block, a block claiming 1 GiB, a raw block claiming 1 GiB, a raw
     * block claiming 10 bytes that holds a 20-byte literal */
    {SNAPPY, XERIAL "ffffffff 00", 100, CHUTE_ERR_PROTOCOL},
    {SNAPPY, XERIAL "0000000a 0102030405", 100, CHUTE_ERR_PROTOCOL},
    {SNAPPY, XERIAL "0000", 100, CHUTE_ERR_PROTOCOL},
    {SNAPPY, XERIAL "00000000", 100, CHUTE_ERR_PROTOCOL},
    {SNAPPY, XERIAL "00000006 8080808004 00", 100, CHUTE_ERR_TOO_LARGE},
    {SNAPPY, "8080808004 00", 100, CHUTE_ERR_TOO_LARGE},
    {SNAPPY, "0a 4c 0102030405060708090a0b0c0d0e0f1011121314", 100,
     CHUTE_ERR_PROTOCOL},
    {SNAPPY, "", 100, CHUTE_ERR_PROTOCOL},
    /* gzip: a zlib stream, a header alone, a stored block claiming 65535
     * bytes that holds 2 */
    {GZIP, "789c 4b04 0000 6200 62", 100, CHUTE_ERR_PROTOCOL},
    {GZIP, "1f8b 0800 00000000 00ff", 100, CHUTE_ERR_PROTOCOL},
    {GZIP, "1f8b 0800 00000000 00ff 01 ffff 0000 6162", 100000,
     CHUTE_ERR_PROTOCOL},
    {GZIP, "", 100, CHUTE_ERR_PROTOCOL},
    /* zstd: a frame claiming 1 GiB of content, a skippable frame, a
     * legacy magic, a frame cut in its header */
    {ZSTD, "28b52ffd e0 0000004000000000 010000", 100, CHUTE_ERR_TOO_LARGE},
    {ZSTD, "502a4d18 04000000 00000000", 100, CHUTE_ERR_PROTOCOL},
    {ZSTD, "27b52ffd 00", 100, CHUTE_ERR_PROTOCOL},
    {ZSTD, "28b52ffd e0 00", 100, CHUTE_ERR_PROTOCOL},
    {ZSTD, "", 100, CHUTE_ERR_PROTOCOL},
    /* lz4: a block size word past the end, a descriptor with a bad hash */
    {LZ4, "04224d18 6040 82 ffff0000 0102", 100000, CHUTE_ERR_PROTOCOL},
    {LZ4, "04224d18 6040 00 00000000", 100, CHUTE_ERR_PROTOCOL},
    {LZ4, "", 100, CHUTE_ERR_PROTOCOL},
    {NONE, "010203", 2, CHUTE_ERR_TOO_LARGE},
};

static void test_codec_hostile_lies(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(lies); i++) {
        uint8_t buf[256], *in, *out = malloc(lies[i].cap);
        long n = hex_decode(lies[i].hex, buf, sizeof(buf));
        ssize_t r;

        assert_true(n >= 0);
        in = exact_copy(buf, (size_t)n);
        r = codec_decompress(lies[i].codec, in, (size_t)n, out, lies[i].cap);
        if (r != lies[i].want)
            fail_msg("lie %zu (%s): got %zd (%s), want %d", i,
                     codec_name(lies[i].codec), r, chute_errmsg(),
                     lies[i].want);
        free(in);
        free(out);
    }
}

static void *compress_in_thread(void *arg)
{
    size_t c;

    for (c = 0; c < NELEM(level_sets); c++)
        roundtrip(level_sets[c].codec, level_sets[c].levels[(uintptr_t)arg % 4],
                  300000, FILL_TEXT);
    return NULL;
}

/* Each thread gets its own contexts (and frees them on exit: ASan run). */
static void test_codec_threads(void **state)
{
    pthread_t t[4];
    uintptr_t i;

    (void)state;
    for (i = 0; i < 4; i++)
        assert_int_equal(
            pthread_create(&t[i], NULL, compress_in_thread, (void *)i), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_roundtrips),
        cmocka_unit_test(test_codec_compresses),
        cmocka_unit_test(test_codec_levels_matter),
        cmocka_unit_test(test_codec_snappy_xerial),
        cmocka_unit_test(test_codec_snappy_raw),
        cmocka_unit_test(test_codec_gzip_member),
        cmocka_unit_test(test_codec_zstd_frame),
        cmocka_unit_test(test_codec_lz4_frame),
        cmocka_unit_test(test_codec_levels),
        cmocka_unit_test(test_codec_exact_fit),
        cmocka_unit_test(test_codec_hostile_valid),
        cmocka_unit_test(test_codec_hostile_lies),
        cmocka_unit_test(test_codec_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
