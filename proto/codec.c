/*
 * codec.c: the batch codecs (codec.h) over zlib, libsnappy (its C API),
 * liblz4 (lz4frame.c) and libzstd.
 *
 * What the Java producer writes, as read in the sources (2026-12):
 * - gzip: kafka-clients GzipCompression wraps GzipOutputStream, a
 *   java.util.zip.GZIPOutputStream whose Deflater gets the level (default
 *   Deflater.DEFAULT_COMPRESSION, zlib's 6).  librdkafka's
 *   rdkafka_msgset_writer.c calls deflateInit2(level, Z_DEFLATED, 15 + 16,
 *   8, Z_DEFAULT_STRATEGY); so do we.
 * - snappy: kafka-clients SnappyConfig/SnappyFactory wrap the records in
 *   xerial's SnappyOutputStream with its default block size, 32 KiB
 *   (SnappyOutputStream.DEFAULT_BLOCK_SIZE).  It writes SnappyCodec's
 *   header once, before the first block (also for an empty stream):
 *   MAGIC_HEADER {-126, 'S','N','A','P','P','Y', 0}, then DEFAULT_VERSION 1
 *   and MINIMUM_COMPATIBLE_VERSION 1 through DataOutputStream.writeInt (big
 *   endian); then per block of at most 32 KiB of input, writeInt of the
 *   compressed size and the raw block from native libsnappy.  Readers:
 *   SnappyInputStream reads a raw block when the magic is missing and
 *   requires version >= 1; librdkafka's rdkafka_msgset_reader.c takes the
 *   xerial path when the input is longer than 16 + 4 bytes and starts with
 *   the magic, ignores both versions, and rd_kafka_snappy_java_uncompress
 *   (snappy.c) walks [be32 length][block] to the exact end.
 * - zstd: kafka-clients ZstdCompression writes through zstd-jni's
 *   ZstdOutputStreamNoFinalizer at the level (default 3): one frame, closed
 *   at close(), checksums off (setChecksum's default).  We write one frame
 *   with no checksum too, handing libzstd all the input at once, so it also
 *   records the content size in the frame header (librdkafka does the same
 *   when it can; every zstd reader takes it, and librdkafka's reader sizes
 *   its buffer by it).
 * - levels: librdkafka's CONFIGURATION.md and rdkafka_conf.c give
 *   compression.level -1..12: "[0-9] for gzip; [0-12] for lz4; only 0 for
 *   snappy; -1 = codec-dependent default"; rdkafka_topic.c maps -1 to
 *   Z_DEFAULT_COMPRESSION (gzip), 0 (lz4) and 3 (zstd) and caps zstd at 22
 *   (RD_KAFKA_COMPLEVEL_ZSTD_MAX), which its -1..12 property range never
 *   reaches; kafka-clients' CompressionType takes zstd up to 22.  We take
 *   zstd 0-22 (0 is libzstd's default, as both clients pass it through).
 */
#include "proto/codec.h"

#include <assert.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/err.h"
#include "proto/batch.h"
#include "proto/endian.h"
#include "proto/lz4frame.h"

/* xerial snappy-java's stream (see the top of this file). */
#define XERIAL_HEADER_SIZE 16
#define XERIAL_BLOCK       32768
/* snappy_max_compressed_length(XERIAL_BLOCK): 32 + n + n / 6. */
#define XERIAL_BLOCK_MAX (32 + XERIAL_BLOCK + XERIAL_BLOCK / 6)

static const uint8_t xerial_header[XERIAL_HEADER_SIZE] = {
    0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};

/* ZSTD_MAGICNUMBER, little endian. */
static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapper */
#define GZIP_WRAPPER     18        /* gzip header and trailer */
#define ZLIB_WRAPPER     6         /* what compressBound() counts */
#define GZIP_NO_STREAM   (-2)      /* no zlib level: not initialised */

/* ---- per-thread compression contexts -------------------------------- */

struct codec_ctx {
    z_stream gzip;
    int gzip_level; /* GZIP_NO_STREAM before deflateInit2 */
    ZSTD_CCtx *zstd;
};

static pthread_key_t codec_key;
static pthread_once_t codec_once = PTHREAD_ONCE_INIT;
static __thread struct codec_ctx *codec_this_thread;

static void codec_ctx_free(void *p)
{
    struct codec_ctx *c = p;

    if (c->gzip_level != GZIP_NO_STREAM)
        deflateEnd(&c->gzip);
    ZSTD_freeCCtx(c->zstd);
    free(c);
}

static void codec_make_key(void)
{
    pthread_key_create(&codec_key, codec_ctx_free);
}

/* This thread's contexts, or NULL (message set). */
static struct codec_ctx *codec_ctx(void)
{
    struct codec_ctx *c = codec_this_thread;

    if (c)
        return c;
    pthread_once(&codec_once, codec_make_key);
    if (!(c = calloc(1, sizeof(*c)))) {
        err_set(CHUTE_ERR_SYSTEM, "cannot allocate compression contexts");
        return NULL;
    }
    c->gzip_level = GZIP_NO_STREAM;
    pthread_setspecific(codec_key, c);
    codec_this_thread = c;
    return c;
}

static int codec_too_large(const char *name, size_t cap)
{
    return err_set(CHUTE_ERR_TOO_LARGE, "%s output does not fit in %zu bytes",
                   name, cap);
}

static int codec_corrupt(const char *name, const char *why)
{
    return err_set(CHUTE_ERR_PROTOCOL, "%s input is malformed: %s", name, why);
}

/* ---- none --------------------------------------------------------------- */

static size_t none_bound(size_t len)
{
    return len;
}

static ssize_t none_copy(const uint8_t *in, size_t len, uint8_t *out,
                         size_t cap)
{
    if (len > cap)
        return codec_too_large("none", cap);
    if (len)
        memcpy(out, in, len);
    return (ssize_t)len;
}

static ssize_t none_compress(int level, const uint8_t *in, size_t len,
                             uint8_t *out, size_t cap)
{
    (void)level;
    return none_copy(in, len, out, cap);
}

/* ---- gzip --------------------------------------------------------------- */

/* deflateBound() for our parameters without a stream: compressBound()'s
 * tight bound for the default window and memLevel, gzip's wrapper in
 * place of zlib's. */
static size_t gzip_bound(size_t len)
{
    return compressBound(len) - ZLIB_WRAPPER + GZIP_WRAPPER;
}

/* This thread's deflate stream, reset and set to level; NULL (message
 * set) if zlib fails. */
static z_stream *gzip_stream(int level)
{
    struct codec_ctx *c = codec_ctx();

    if (!c)
        return NULL;
    if (c->gzip_level == GZIP_NO_STREAM) {
        if (deflateInit2(&c->gzip, level, Z_DEFLATED, GZIP_WINDOW_BITS, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            err_set(CHUTE_ERR_SYSTEM, "cannot create a gzip context");
            return NULL;
        }
    } else if (deflateReset(&c->gzip) != Z_OK ||
               (level != c->gzip_level &&
                deflateParams(&c->gzip, level, Z_DEFAULT_STRATEGY) != Z_OK)) {
        err_set(CHUTE_ERR_SYSTEM, "cannot reset the gzip context");
        return NULL;
    }
    c->gzip_level = level;
    return &c->gzip;
}

static ssize_t gzip_compress(int level, const uint8_t *in, size_t len,
                             uint8_t *out, size_t cap)
{
    z_stream *zs = gzip_stream(level);
    int r;

    if (!zs)
        return CHUTE_ERR_SYSTEM;
    zs->next_in = in;
    zs->avail_in = (uInt)len;
    zs->next_out = out;
    zs->avail_out = (uInt)cap;
    r = deflate(zs, Z_FINISH);
    if (r == Z_STREAM_END)
        return (ssize_t)zs->total_out;
    if (r == Z_OK || r == Z_BUF_ERROR)
        return codec_too_large("gzip", cap);
    return err_set(CHUTE_ERR_INVALID, "gzip: %s",
                   zs->msg ? zs->msg : "deflate failed");
}

/* After inflate() filled the output: 1 if the stream holds more output,
 * 0 if it only lacks input (one byte of room tells). */
static int gzip_has_more(z_stream *zs)
{
    uint8_t probe;

    zs->next_out = &probe;
    zs->avail_out = 1;
    inflate(zs, Z_FINISH);
    return zs->avail_out == 0;
}

/* One inflate() over everything; returns the output size or an error. */
static ssize_t gzip_inflate(z_stream *zs, size_t cap)
{
    int r = inflate(zs, Z_FINISH);

    if (r == Z_STREAM_END)
        return zs->avail_in ? codec_corrupt("gzip", "bytes after the member")
                            : (ssize_t)zs->total_out;
    if (r == Z_MEM_ERROR)
        return err_set(CHUTE_ERR_SYSTEM, "gzip: out of memory");
    if (r != Z_OK && r != Z_BUF_ERROR)
        return codec_corrupt("gzip", zs->msg ? zs->msg : "bad stream");
    if (zs->avail_out == 0 && gzip_has_more(zs))
        return codec_too_large("gzip", cap);
    return codec_corrupt("gzip", "truncated");
}

static ssize_t gzip_decompress(const uint8_t *in, size_t len, uint8_t *out,
                               size_t cap)
{
    z_stream zs = {.next_in = in, .avail_in = (uInt)len};
    uint8_t none;
    ssize_t got;

    zs.next_out = cap ? out : &none; /* zlib refuses a NULL output */
    zs.avail_out = (uInt)cap;
    if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK)
        return err_set(CHUTE_ERR_SYSTEM, "cannot create a gzip context");
    got = gzip_inflate(&zs, cap);
    inflateEnd(&zs);
    return got;
}

/* ---- snappy (xerial framing) -------------------------------------------- */

static size_t snappy_bound(size_t len)
{
    size_t full = len / XERIAL_BLOCK, rest = len % XERIAL_BLOCK;

    return XERIAL_HEADER_SIZE + full * (4 + XERIAL_BLOCK_MAX) +
           (rest ? 4 + snappy_max_compressed_length(rest) : 0);
}

/* Compresses one block's input (at most XERIAL_BLOCK bytes) behind its
 * length word at out; returns the bytes written.  libsnappy wants room for
 * the worst case: with less, the block goes through a scratch buffer and
 * is copied if it fits. */
static ssize_t snappy_block(const uint8_t *in, size_t n, uint8_t *out,
                            size_t room, size_t cap)
{
    char scratch[XERIAL_BLOCK_MAX];
    size_t zn = snappy_max_compressed_length(n);
    char *dst = room >= 4 + zn ? (char *)out + 4 : scratch;

    assert(zn <= sizeof(scratch));
    if (snappy_compress((const char *)in, n, dst, &zn) != SNAPPY_OK)
        return err_set(CHUTE_ERR_INVALID, "snappy: compression failed");
    if (room < 4 || zn > room - 4)
        return codec_too_large("snappy", cap);
    if (dst == scratch)
        memcpy(out + 4, scratch, zn);
    be_put32(out, (uint32_t)zn);
    return (ssize_t)(4 + zn);
}

static ssize_t snappy_compress_xerial(int level, const uint8_t *in, size_t len,
                                      uint8_t *out, size_t cap)
{
    size_t off = XERIAL_HEADER_SIZE, pos, n;
    ssize_t r;

    (void)level;
    if (cap < XERIAL_HEADER_SIZE)
        return codec_too_large("snappy", cap);
    memcpy(out, xerial_header, XERIAL_HEADER_SIZE);
    for (pos = 0; pos < len; pos += n) {
        n = len - pos < XERIAL_BLOCK ? len - pos : XERIAL_BLOCK;
        if ((r = snappy_block(in + pos, n, out + off, cap - off, cap)) < 0)
            return r;
        off += (size_t)r;
    }
    return (ssize_t)off;
}

/* Decodes one raw snappy block to out[0, room); returns its size. */
static ssize_t snappy_raw(const uint8_t *in, size_t len, uint8_t *out,
                          size_t room, size_t cap)
{
    size_t n;

    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK)
        return codec_corrupt("snappy", "bad block length");
    if (n > room)
        return codec_too_large("snappy", cap);
    if (snappy_uncompress((const char *)in, len, (char *)out, &n) != SNAPPY_OK)
        return codec_corrupt("snappy", "bad block");
    return (ssize_t)n;
}

/* Walks [be32 length][raw block] to the exact end of the input. */
static ssize_t snappy_blocks(const uint8_t *in, size_t len, uint8_t *out,
                             size_t cap)
{
    size_t pos = 0, got = 0, n;
    ssize_t r;

    while (pos < len) {
        if (len - pos < 4)
            return codec_corrupt("snappy", "truncated block length");
        n = be_get32(in + pos);
        pos += 4;
        if (n > len - pos)
            return codec_corrupt("snappy", "block longer than the input");
        if ((r = snappy_raw(in + pos, n, out + got, cap - got, cap)) < 0)
            return r;
        pos += n;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The xerial stream, or one raw block when the magic is missing (what
 * librdkafka writes; Java's and librdkafka's readers take both).  The two
 * version words are not checked, as librdkafka does not. */
static ssize_t snappy_decompress_any(const uint8_t *in, size_t len,
                                     uint8_t *out, size_t cap)
{
    if (len >= XERIAL_HEADER_SIZE && !memcmp(in, xerial_header, 8))
        return snappy_blocks(in + XERIAL_HEADER_SIZE, len - XERIAL_HEADER_SIZE,
                             out, cap);
    return snappy_raw(in, len, out, cap, cap);
}

/* ---- lz4 ---------------------------------------------------------------- */

static ssize_t lz4_compress(int level, const uint8_t *in, size_t len,
                            uint8_t *out, size_t cap)
{
    return lz4frame_compress_level(level, in, len, out, cap);
}

static ssize_t lz4_decompress(const uint8_t *in, size_t len, uint8_t *out,
                              size_t cap)
{
    return lz4frame_decompress(in, len, out, cap);
}

/* ---- zstd --------------------------------------------------------------- */

static size_t zstd_bound(size_t len)
{
    return ZSTD_compressBound(len);
}

/* A libzstd error as a chute_err, message set. */
static int zstd_fail(size_t r, size_t cap, int err)
{
    if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
        return codec_too_large("zstd", cap);
    if (ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
        return err_set(CHUTE_ERR_SYSTEM, "zstd: out of memory");
    return err_set(err, "zstd: %s", ZSTD_getErrorName(r));
}

/* The whole input with ZSTD_e_end, through libzstd's own buffers: one
 * frame (with its content size: the input is all there at the first call),
 * and it fits cap exactly or is CHUTE_ERR_TOO_LARGE (ZSTD_compress2 writes
 * straight to out and wants some slack). */
static ssize_t zstd_compress(int level, const uint8_t *in, size_t len,
                             uint8_t *out, size_t cap)
{
    struct codec_ctx *c = codec_ctx();
    ZSTD_inBuffer src = {in, len, 0};
    ZSTD_outBuffer dst = {out, cap, 0};
    size_t r;

    if (!c)
        return CHUTE_ERR_SYSTEM;
    if (!c->zstd && !(c->zstd = ZSTD_createCCtx()))
        return err_set(CHUTE_ERR_SYSTEM, "cannot create a zstd context");
    ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_only);
    r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, level);
    if (ZSTD_isError(r))
        return zstd_fail(r, cap, CHUTE_ERR_INVALID);
    do /* until done (0), an error, or out is full */
        r = ZSTD_compressStream2(c->zstd, &dst, &src, ZSTD_e_end);
    while (r != 0 && !ZSTD_isError(r) && dst.pos < dst.size);
    if (ZSTD_isError(r))
        return zstd_fail(r, cap, CHUTE_ERR_INVALID);
    return r ? codec_too_large("zstd", cap) : (ssize_t)dst.pos;
}

/* Exactly one standard frame (no skippable or legacy frames, nothing
 * after it): what every Kafka producer writes. */
static ssize_t zstd_decompress(const uint8_t *in, size_t len, uint8_t *out,
                               size_t cap)
{
    unsigned long long size;
    size_t r;

    if (len < sizeof(zstd_magic) || memcmp(in, zstd_magic, sizeof(zstd_magic)))
        return codec_corrupt("zstd", "no frame magic");
    r = ZSTD_findFrameCompressedSize(in, len);
    if (ZSTD_isError(r))
        return zstd_fail(r, cap, CHUTE_ERR_PROTOCOL);
    if (r != len)
        return codec_corrupt("zstd", "bytes after the frame");
    size = ZSTD_getFrameContentSize(in, len); /* fail early on a lie */
    if (size < ZSTD_CONTENTSIZE_ERROR && size > cap)
        return codec_too_large("zstd", cap);
    r = ZSTD_decompress(out, cap, in, len);
    return ZSTD_isError(r) ? zstd_fail(r, cap, CHUTE_ERR_PROTOCOL) : (ssize_t)r;
}

/* ---- the table ---------------------------------------------------------- */

struct codec_def {
    const char *name;
    int min_level, max_level;
    int default_level; /* what CODEC_LEVEL_DEFAULT means */
    size_t (*bound)(size_t len);
    ssize_t (*compress)(int level, const uint8_t *in, size_t len, uint8_t *out,
                        size_t cap);
    ssize_t (*decompress)(const uint8_t *in, size_t len, uint8_t *out,
                          size_t cap);
};

static const struct codec_def codecs[BATCH_CODEC_MASK + 1] = {
    [BATCH_CODEC_NONE] = {"none", 0, 0, 0, none_bound, none_compress,
                          none_copy},
    [BATCH_CODEC_GZIP] = {"gzip", 0, 9, Z_DEFAULT_COMPRESSION, gzip_bound,
                          gzip_compress, gzip_decompress},
    [BATCH_CODEC_SNAPPY] = {"snappy", 0, 0, 0, snappy_bound,
                            snappy_compress_xerial, snappy_decompress_any},
    [BATCH_CODEC_LZ4] = {"lz4", 0, 12, 0, lz4frame_bound, lz4_compress,
                         lz4_decompress},
    [BATCH_CODEC_ZSTD] = {"zstd", 0, 22, ZSTD_CLEVEL_DEFAULT, zstd_bound,
                          zstd_compress, zstd_decompress},
};

/* The codec's row, or NULL (message set). */
static const struct codec_def *codec_def(int codec)
{
    if (codec < 0 || codec > BATCH_CODEC_MASK || !codecs[codec].name) {
        err_set(CHUTE_ERR_INVALID, "%d is not a compression codec", codec);
        return NULL;
    }
    return &codecs[codec];
}

const char *codec_name(int codec)
{
    if (codec < 0 || codec > BATCH_CODEC_MASK)
        return NULL;
    return codecs[codec].name;
}

int codec_check_level(int codec, int level)
{
    const struct codec_def *d = codec_def(codec);

    if (!d)
        return CHUTE_ERR_INVALID;
    if (level == CODEC_LEVEL_DEFAULT ||
        (level >= d->min_level && level <= d->max_level))
        return 0;
    if (d->max_level == 0)
        return err_set(CHUTE_ERR_INVALID,
                       "'%s' has no compression level (use -1 or 0, not %d)",
                       d->name, level);
    return err_set(CHUTE_ERR_INVALID,
                   "compression level %d is not valid for '%s' (use -1 or "
                   "%d..%d)",
                   level, d->name, d->min_level, d->max_level);
}

size_t codec_bound(int codec, size_t len)
{
    if (!codec_name(codec))
        return 0;
    return codecs[codec].bound(len);
}

ssize_t codec_compress(int codec, int level, const uint8_t *in, size_t len,
                       uint8_t *out, size_t cap)
{
    const struct codec_def *d = codec_def(codec);
    int r;

    if (!d)
        return CHUTE_ERR_INVALID;
    if ((r = codec_check_level(codec, level)) < 0)
        return r;
    if (len > CODEC_MAX_INPUT)
        return err_set(CHUTE_ERR_INVALID, "%zu bytes are too many to compress",
                       len);
    if (level == CODEC_LEVEL_DEFAULT)
        level = d->default_level;
    return d->compress(level, in, len, out,
                       cap < CODEC_MAX_INPUT ? cap : CODEC_MAX_INPUT);
}

ssize_t codec_decompress(int codec, const uint8_t *in, size_t len, uint8_t *out,
                         size_t cap)
{
    const struct codec_def *d = codec_def(codec);

    if (!d)
        return CHUTE_ERR_INVALID;
    if (len > CODEC_MAX_INPUT)
        return err_set(CHUTE_ERR_INVALID,
                       "%zu bytes are too many to decompress", len);
    return d->decompress(in, len, out,
                         cap < CODEC_MAX_INPUT ? cap : CODEC_MAX_INPUT);
}
