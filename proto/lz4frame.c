/*
 * lz4frame.c: Kafka-compatible LZ4 frames through liblz4's LZ4F API
 * (lz4frame.h).
 *
 * The compression context is created on a thread's first call and kept in
 * thread-local storage; a pthread key destructor frees it when the thread
 * exits.
 */
#include "proto/lz4frame.h"

#include <assert.h>
#include <lz4frame.h>
#include <pthread.h>
#include <string.h>

#include "common/err.h"

#define LZ4_BLOCK_MAX 65536 /* BD 0x40 */
#define LZ4_END_MARK  4     /* a zero block size */
/* Worst case of one block through liblz4: stored raw with its size word,
 * plus the end mark liblz4 counts in every bound. */
#define LZ4_BLOCK_ROOM (LZ4_BLOCK_MAX + 4 + LZ4_END_MARK + 8)

static const LZ4F_preferences_t lz4_prefs = {
    .frameInfo =
        {
            .blockSizeID = LZ4F_max64KB,
            .blockMode = LZ4F_blockIndependent,
            .contentChecksumFlag = LZ4F_noContentChecksum,
            .frameType = LZ4F_frame,
            .contentSize = 0,
            .dictID = 0,
            .blockChecksumFlag = LZ4F_noBlockChecksum,
        },
    .compressionLevel = 0, /* liblz4's default, fast mode; per call */
    .autoFlush = 1,        /* no staging copy inside the context */
};

static pthread_key_t lz4_key;
static pthread_once_t lz4_once = PTHREAD_ONCE_INIT;
static __thread LZ4F_cctx *lz4_cctx;

static void lz4_free_cctx(void *ctx)
{
    LZ4F_freeCompressionContext(ctx);
}

static void lz4_make_key(void)
{
    pthread_key_create(&lz4_key, lz4_free_cctx);
}

/* This thread's compression context, or NULL (message set). */
static LZ4F_cctx *lz4_thread_cctx(void)
{
    LZ4F_cctx *ctx;

    if (lz4_cctx)
        return lz4_cctx;
    pthread_once(&lz4_once, lz4_make_key);
    if (LZ4F_isError(LZ4F_createCompressionContext(&ctx, LZ4F_VERSION))) {
        err_set(CHUTE_ERR_SYSTEM, "cannot create an lz4 context");
        return NULL;
    }
    pthread_setspecific(lz4_key, ctx);
    lz4_cctx = ctx;
    return ctx;
}

size_t lz4frame_bound(size_t n)
{
    return LZ4F_compressFrameBound(n, &lz4_prefs);
}

/* Records a liblz4 failure; returns err. */
static int lz4_fail(int err, const char *what, size_t code)
{
    return err_set(err, "lz4 %s: %s", what, LZ4F_getErrorName(code));
}

static int lz4_too_large(void)
{
    return err_set(CHUTE_ERR_TOO_LARGE, "lz4 frame does not fit its buffer");
}

/* Writes the frame header at out (cap bytes); returns its size.  liblz4
 * wants LZ4F_HEADER_SIZE_MAX bytes of room, the header itself is 7. */
static ssize_t lz4_begin(LZ4F_cctx *ctx, const LZ4F_preferences_t *prefs,
                         char *out, size_t cap)
{
    char head[LZ4F_HEADER_SIZE_MAX];
    size_t r = LZ4F_compressBegin(ctx, head, sizeof(head), prefs);

    if (LZ4F_isError(r))
        return lz4_fail(CHUTE_ERR_INVALID, "frame header", r);
    if (r > cap)
        return lz4_too_large();
    memcpy(out, head, r);
    return (ssize_t)r;
}

/* Compresses one block's input (at most LZ4_BLOCK_MAX bytes) to out; returns
 * the bytes written.  liblz4 wants room for the worst case: with less, the
 * block goes through a scratch buffer and is copied if it fits. */
static ssize_t lz4_block(LZ4F_cctx *ctx, const LZ4F_preferences_t *prefs,
                         const char *in, size_t n, char *out, size_t room)
{
    char scratch[LZ4_BLOCK_ROOM];
    size_t need = LZ4F_compressBound(n, prefs), r;

    if (room >= need)
        r = LZ4F_compressUpdate(ctx, out, room, in, n, NULL);
    else {
        assert(need <= sizeof(scratch));
        r = LZ4F_compressUpdate(ctx, scratch, sizeof(scratch), in, n, NULL);
        if (!LZ4F_isError(r) && r <= room)
            memcpy(out, scratch, r);
    }
    if (LZ4F_isError(r))
        return lz4_fail(CHUTE_ERR_INVALID, "compress", r);
    return r <= room ? (ssize_t)r : lz4_too_large();
}

ssize_t lz4frame_compress_level(int level, const void *src, size_t n, void *dst,
                                size_t cap)
{
    LZ4F_cctx *ctx = lz4_thread_cctx();
    LZ4F_preferences_t prefs = lz4_prefs;
    const char *in = src;
    char *out = dst;
    ssize_t r;
    size_t off, pos, chunk;

    if (!ctx)
        return CHUTE_ERR_SYSTEM;
    prefs.compressionLevel = level;
    if ((r = lz4_begin(ctx, &prefs, out, cap)) < 0)
        return r;
    off = (size_t)r;
    /* Block by block: with autoFlush each call writes whole blocks, the
     * same frame one call over all of src would write. */
    for (pos = 0; pos < n; pos += chunk) {
        chunk = n - pos < LZ4_BLOCK_MAX ? n - pos : LZ4_BLOCK_MAX;
        if ((r = lz4_block(ctx, &prefs, in + pos, chunk, out + off,
                           cap - off)) < 0)
            return r;
        off += (size_t)r;
    }
    if (cap - off < LZ4_END_MARK) /* liblz4 would say the same, vaguely */
        return lz4_too_large();
    r = (ssize_t)LZ4F_compressEnd(ctx, out + off, cap - off, NULL);
    if (LZ4F_isError((size_t)r))
        return lz4_fail(CHUTE_ERR_INVALID, "frame end", (size_t)r);
    return (ssize_t)off + r;
}

ssize_t lz4frame_compress(const void *src, size_t n, void *dst, size_t cap)
{
    return lz4frame_compress_level(0, src, n, dst, cap);
}

/* After the output filled up: 1 if the frame holds more output, 0 if it
 * only lacks input (one byte of room tells). */
static int lz4_has_more(LZ4F_dctx *ctx, const char *src, size_t n)
{
    char probe;
    size_t dn = 1, sn = n, r;

    r = LZ4F_decompress(ctx, &probe, &dn, src, &sn, NULL);
    return !LZ4F_isError(r) && dn == 1;
}

/* Runs the decoder over the whole input; returns bytes written or a
 * negative chute_err. */
static ssize_t lz4_decode(LZ4F_dctx *ctx, const char *src, size_t n, char *dst,
                          size_t cap)
{
    size_t in = 0, out = 0, r = 1;

    while (r != 0 && in < n) {
        size_t sn = n - in, dn = cap - out;

        r = LZ4F_decompress(ctx, dst + out, &dn, src + in, &sn, NULL);
        if (LZ4F_isError(r))
            return lz4_fail(CHUTE_ERR_PROTOCOL, "decompress", r);
        in += sn;
        out += dn;
        if (r != 0 && sn == 0 && dn == 0)
            break; /* no progress: output full */
    }
    if (r == 0 && in == n)
        return (ssize_t)out;
    if (r != 0 && out == cap && lz4_has_more(ctx, src + in, n - in))
        return err_set(CHUTE_ERR_TOO_LARGE,
                       "lz4 frame holds more than %zu bytes", cap);
    return err_set(CHUTE_ERR_PROTOCOL, r ? "lz4 frame is truncated"
                                         : "lz4 frame is followed by extra "
                                           "bytes");
}

ssize_t lz4frame_decompress(const void *src, size_t n, void *dst, size_t cap)
{
    LZ4F_dctx *ctx;
    ssize_t got;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
        return err_set(CHUTE_ERR_SYSTEM, "cannot create an lz4 context");
    }
    got = lz4_decode(ctx, src, n, dst, cap);
    LZ4F_freeDecompressionContext(ctx);
    return got;
}
