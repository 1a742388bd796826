/*
 * lz4frame.c: Kafka-compatible LZ4 frames through liblz4's LZ4F API
 * (lz4frame.h).
 *
 * The compression context is created on a thread's first call and kept in
 * thread-local storage; a pthread key destructor frees it when the thread
 * exits.
 */
#include "proto/lz4frame.h"

#include <lz4frame.h>
#include <pthread.h>

#include "common/err.h"

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
    .compressionLevel = 0, /* liblz4's default, fast mode */
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

/* Records a liblz4 failure; returns -1. */
static ssize_t lz4_fail(const char *what, size_t code)
{
    err_set(CHUTE_ERR_INVALID, "lz4 %s: %s", what, LZ4F_getErrorName(code));
    return -1;
}

ssize_t lz4frame_compress(const void *src, size_t n, void *dst, size_t cap)
{
    LZ4F_cctx *ctx = lz4_thread_cctx();
    char *out = dst;
    size_t off, r;

    if (!ctx)
        return -1;
    r = LZ4F_compressBegin(ctx, out, cap, &lz4_prefs);
    if (LZ4F_isError(r))
        return lz4_fail("frame header", r);
    off = r;
    r = LZ4F_compressUpdate(ctx, out + off, cap - off, src, n, NULL);
    if (LZ4F_isError(r))
        return lz4_fail("compress", r);
    off += r;
    r = LZ4F_compressEnd(ctx, out + off, cap - off, NULL);
    if (LZ4F_isError(r))
        return lz4_fail("frame end", r);
    return (ssize_t)(off + r);
}

/* Runs the decoder over the whole input; returns bytes written or -1. */
static ssize_t lz4_decode(LZ4F_dctx *ctx, const char *src, size_t n, char *dst,
                          size_t cap)
{
    size_t in = 0, out = 0, r = 1;

    while (r != 0 && in < n) {
        size_t sn = n - in, dn = cap - out;

        r = LZ4F_decompress(ctx, dst + out, &dn, src + in, &sn, NULL);
        if (LZ4F_isError(r))
            return lz4_fail("decompress", r);
        in += sn;
        out += dn;
        if (r != 0 && sn == 0 && dn == 0)
            break; /* no progress: output full */
    }
    if (r != 0 || in != n) {
        err_set(CHUTE_ERR_INVALID,
                "lz4 frame is truncated, too large for "
                "%zu bytes or followed by extra bytes",
                cap);
        return -1;
    }
    return (ssize_t)out;
}

ssize_t lz4frame_decompress(const void *src, size_t n, void *dst, size_t cap)
{
    LZ4F_dctx *ctx;
    ssize_t got;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
        err_set(CHUTE_ERR_SYSTEM, "cannot create an lz4 context");
        return -1;
    }
    got = lz4_decode(ctx, src, n, dst, cap);
    LZ4F_freeDecompressionContext(ctx);
    return got;
}
