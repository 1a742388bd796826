/*
 * bench_floor.c: chute-bench's work floor.  The CPU the producing side
 * cannot avoid, measured on chute's own code in one process: each record
 * of the workload is partitioned (murmur2), timestamped and encoded into a
 * ring (shm/ring.c over private memory) as libchute does, taken from the
 * ring into its partition's batch in a pool chunk (worker/chunk.c over a
 * private pool) as the worker's accumulator does, and every batch is
 * sealed (compressed, header, CRC-32C) and freed as if acknowledged.  No
 * other process, no shared mapping, no network, no system call in the
 * loop (the clock reads are the vDSO's).  What it leaves out is what a
 * design may avoid: the checks of untrusted input beyond the record's own
 * (record_tail_check stays, chunk_append does it), delivery reports,
 * requests and responses, waking and sleeping.
 *
 * The figure is user+sys CPU (getrusage) per record over the loop: the
 * median of several passes over the whole workload, after one warm-up.
 */
#include "tools/bench.h"

#include "common/log.h"
#include "common/proc.h"
#include "proto/batch.h"
#include "proto/codec.h"
#include "proto/murmur2.h"
#include "proto/record.h"
#include "shm/instance.h"
#include "shm/ring.h"
#include "worker/chunk.h"
#include "worker/worker.h"
#include "chute/chute.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* chuted's defaults (supervisor/config.c): ring.size, message.max.bytes,
 * batch.num.messages, compression.level. */
#define FLOOR_RING_SIZE     (4u << 20)
#define FLOOR_MAX_RECORD    1000000u
#define FLOOR_BATCH_RECORDS 10000u
#define FLOOR_LEVEL         CODEC_LEVEL_DEFAULT
/* Records the client side writes before the worker side drains them: the
 * two halves meet in cache, as they would with no other process. */
#define FLOOR_DRAIN_EVERY 256
#define FLOOR_PASSES_MAX  32

struct floor_state {
    const struct bench_opts *o;
    struct instance in; /* only what the pool needs: chunk size and count */
    struct chunk_pool pool;
    struct ring ring;
    void *ring_mem;
    int16_t codec;
    bool batch; /* false: the worker's half only consumes (stages) */
    bool split; /* the two halves on two cores (stages) */
    int32_t partitions;
    size_t limit;  /* batch.size, at most message.max.bytes (accum.c) */
    int32_t *open; /* per partition: its open batch, or CHUNK_NONE */
    int32_t *seq;  /* per partition: its next base sequence */
    uint64_t batches, batch_bytes, wire_bytes;
};

static int floor_codec(const char *name)
{
    for (int c = BATCH_CODEC_NONE; c <= BATCH_CODEC_ZSTD; c++)
        if (codec_name(c) && !strcmp(codec_name(c), name))
            return c;
    return -1;
}

static void floor_release(struct floor_state *s)
{
    if (s->pool.scratch)
        chunk_pool_release(&s->pool);
    free(s->in.state);
    free(s->ring_mem);
    free(s->open);
    free(s->seq);
}

/* A pool of one open batch per partition, a spare and a compressed copy,
 * in chunks of the size chuted gives them; every page touched once so
 * that no page fault falls into the loop. */
static int floor_pool(struct floor_state *s)
{
    uint32_t count = (uint32_t)s->partitions + 4;
    uint32_t size = worker_chunk_size((uint32_t)s->o->floor_batch_size,
                                      FLOOR_MAX_RECORD, FLOOR_BATCH_RECORDS);

    s->in.chunk_size = size;
    s->in.chunk_count = count;
    s->in.pool_off = 0;
    s->in.state = aligned_alloc(4096, (size_t)size * count);
    if (!s->in.state)
        return -1;
    memset(s->in.state, 0, (size_t)size * count);
    if (chunk_pool_init(&s->pool, &s->in, 0, 1) < 0)
        return -1;
    memset(s->pool.scratch, 0, s->pool.scratch_cap);
    return 0;
}

/* Whether the workload's largest record is one chuted takes (the client
 * refuses larger ones: message.max.bytes, half the ring). */
static bool floor_fits(const struct bench_opts *o)
{
    char key[BENCH_KEY_LEN] = {0};
    size_t tail =
        record_tail_size(key, BENCH_KEY_LEN, key, (int32_t)o->size, NULL, 0);

    if (o->size <= INT32_MAX &&
        tail + BATCH_HEADER_SIZE + RECORD_OVERHEAD_MAX <= FLOOR_MAX_RECORD &&
        tail + sizeof(struct ring_rec) <= ring_max_record(FLOOR_RING_SIZE))
        return true;
    log_error("floor: records of %ld bytes are larger than chuted's "
              "message.max.bytes (%u)",
              o->size, FLOOR_MAX_RECORD);
    return false;
}

static int floor_init(struct floor_state *s, const struct bench_opts *o)
{
    memset(s, 0, sizeof(*s));
    if (!floor_fits(o))
        return -1;
    s->o = o;
    s->codec = (int16_t)floor_codec(o->codec);
    s->batch = true;
    s->partitions = (int32_t)o->partitions;
    s->limit = (size_t)o->floor_batch_size < FLOOR_MAX_RECORD
                   ? (size_t)o->floor_batch_size
                   : FLOOR_MAX_RECORD;
    s->open = malloc((size_t)s->partitions * sizeof(*s->open));
    s->seq = calloc((size_t)s->partitions, sizeof(*s->seq));
    /* aligned_alloc() takes whole multiples of the alignment. */
    s->ring_mem = aligned_alloc(4096, FLOOR_RING_SIZE + 4096);
    if (s->codec < 0 || !s->open || !s->seq || !s->ring_mem ||
        floor_pool(s) < 0) {
        log_error("floor: cannot set up (codec %s, %ld partitions)", o->codec,
                  o->partitions);
        floor_release(s);
        return -1;
    }
    ring_attach_ctl(&s->ring, s->ring_mem, FLOOR_RING_SIZE);
    ring_format(&s->ring);
    for (int32_t p = 0; p < s->partitions; p++)
        s->open[p] = CHUNK_NONE;
    return 0;
}

/* ---- the worker's half --------------------------------------------------- */

/* Seals a partition's open batch, as accum_seal() does, and frees it as
 * the sender does once the batch is acknowledged. */
static void floor_seal(struct floor_state *s, int32_t p)
{
    struct chunk_producer pr = {1, 0, s->seq[p]};
    int32_t sealed;
    struct pool_chunk *ch;

    sealed = chunk_seal(&s->pool, s->open[p], s->codec, FLOOR_LEVEL, &pr);
    ch = chunk_at(&s->pool, sealed);
    s->seq[p] += (int32_t)ch->count;
    s->batches++;
    s->batch_bytes += BATCH_HEADER_SIZE + ch->used;
    s->wire_bytes += ch->wire_len;
    chunk_send(&s->pool, sealed);
    chunk_free(&s->pool, sealed);
    s->open[p] = CHUNK_NONE;
}

/* Seals every open batch, as linger.ms would at the end. */
static void floor_seal_all(struct floor_state *s)
{
    for (int32_t p = 0; p < s->partitions; p++)
        if (s->open[p] != CHUNK_NONE)
            floor_seal(s, p);
}

/* One committed record into its partition's batch (accum.c's append()).
 * The chunk pool holds a chunk for every partition: a take never fails. */
static void floor_append(struct floor_state *s, const struct ring_rec *rec,
                         uint64_t pos, uint64_t end)
{
    struct ring_rec hdr;
    int32_t p;

    memcpy(&hdr, rec, sizeof(hdr)); /* the worker's own copy */
    p = hdr.partition;
    if (s->open[p] != CHUNK_NONE &&
        !chunk_fits(&s->pool, s->open[p],
                    chunk_record_size(&s->pool, s->open[p], &hdr), s->limit,
                    FLOOR_BATCH_RECORDS))
        floor_seal(s, p);
    if (s->open[p] == CHUNK_NONE) {
        struct chunk_dest dest = {0, p, 0};
        s->open[p] = chunk_take(&s->pool);
        chunk_open(&s->pool, s->open[p], &dest, pos, hdr.timestamp);
    }
    if (!chunk_append(&s->pool, s->open[p], &hdr, (const uint8_t *)(rec + 1),
                      end))
        log_error("floor: chunk_append refused a record");
}

/* Takes everything committed in the ring up to the first claim not yet
 * committed, as drain_slot() does; returns the records taken. */
static long floor_drain(struct floor_state *s)
{
    uint64_t pos = ring_head(&s->ring);
    struct ring_view v;
    enum ring_peek k;
    long taken = 0;

    while ((k = ring_peek(&s->ring, pos, &v)) != RING_EMPTY &&
           k != RING_PENDING) {
        if (k == RING_RECORD) {
            if (s->batch)
                floor_append(s, v.rec, pos, pos + v.len);
            taken++;
        }
        pos += v.len;
    }
    ring_consume(&s->ring, pos);
    return taken;
}

/* ---- the client's half --------------------------------------------------- */

/* Record i into the ring, as libchute's write_record() does; false when
 * the ring is full. */
static bool floor_put(struct floor_state *s, struct bench_share *sh, long i,
                      char *value)
{
    const char *key;
    size_t klen = bench_record(sh, i, value, &key);
    int32_t vlen = (int32_t)s->o->size;
    size_t tail = record_tail_size(key, (int32_t)klen, value, vlen, NULL, 0);
    uint32_t len = ring_align((uint32_t)(sizeof(struct ring_rec) + tail));
    uint64_t end;
    struct ring_rec *rr = ring_claim(&s->ring, len, 1, &end);
    uint8_t *body;

    if (!rr)
        return false;
    rr->client = 0;
    rr->reserved = 0;
    rr->topic = 0;
    rr->partition = murmur2_partition(key, klen, s->partitions);
    rr->tail_len = (uint32_t)tail;
    rr->opaque = (uint64_t)i;
    /* One clock read: the timestamp every producer takes (libchute
     * derives the accepted time from the same reading). */
    rr->accepted_ns = clock_ns(CLOCK_REALTIME);
    rr->timestamp = rr->accepted_ns / 1000000;
    body = (uint8_t *)(rr + 1);
    record_tail_write(body, key, (int32_t)klen, value, vlen, NULL, 0);
    memset(body + tail, 0, len - sizeof(*rr) - tail);
    ring_commit(rr, len);
    return true;
}

/* ---- passes ----------------------------------------------------------------
 */

static uint64_t floor_self_cpu_ns(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return bench_cpu_ns(&ru);
}

/* The whole workload once, every batch sealed at the end (as linger.ms
 * would); returns its CPU in ns. */
static uint64_t floor_pass(struct floor_state *s, struct bench_share *sh,
                           char *value)
{
    uint64_t cpu0 = floor_self_cpu_ns();

    for (long i = 0; i < sh->count; i++) {
        if (i % FLOOR_DRAIN_EVERY == 0)
            floor_drain(s);
        if (!floor_put(s, sh, i, value)) {
            floor_drain(s); /* a full ring: the worker's turn */
            if (!floor_put(s, sh, i, value))
                log_error("floor: record %ld does not fit the ring", i);
        }
    }
    floor_drain(s);
    floor_seal_all(s);
    return floor_self_cpu_ns() - cpu0;
}

/* ---- across two cores -------------------------------------------------- */

/* Each half naps as long as the worker's shortest nap (worker/worker.c)
 * when the other has nothing for it, so that waiting costs no CPU; the
 * worker's half naps, as the worker does, after a pass that took fewer
 * than FLOOR_DRAIN_EVERY records, so that it takes them in runs. */
#define FLOOR_NAP_NS 50000

struct floor_split {
    struct floor_state *s;
    struct bench_share *sh;
    char *value;
    int cpu[2]; /* the first two CPUs this process may run on */
    atomic_bool done;
};

static void floor_nap(void)
{
    struct timespec ts = {0, FLOOR_NAP_NS};

    nanosleep(&ts, NULL);
}

static void floor_pin(int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The client's half, on the first CPU. */
static void *floor_client(void *arg)
{
    struct floor_split *x = arg;

    floor_pin(x->cpu[0]);
    for (long i = 0; i < x->sh->count; i++)
        while (!floor_put(x->s, x->sh, i, x->value))
            floor_nap();
    atomic_store(&x->done, true);
    return NULL;
}

/* The whole workload once with the client's half in a thread of its own
 * on another core than the worker's half, as when they are two processes:
 * every record crosses from one core's cache to the other's.  Returns the
 * CPU of both in ns, or 0 when there is no second core or no thread. */
static uint64_t floor_pass_split(struct floor_state *s, struct bench_share *sh,
                                 char *value)
{
    struct floor_split x = {.s = s, .sh = sh, .value = value};
    cpu_set_t was;
    pthread_t t;
    uint64_t cpu0;
    long all = 0;

    if (sched_getaffinity(0, sizeof(was), &was) < 0 || CPU_COUNT(&was) < 2)
        return 0;
    for (int c = 0, n = 0; n < 2; c++)
        if (CPU_ISSET(c, &was))
            x.cpu[n++] = c;
    cpu0 = floor_self_cpu_ns();
    if (pthread_create(&t, NULL, floor_client, &x) != 0)
        return 0;
    floor_pin(x.cpu[1]);
    for (;;) {
        bool done = atomic_load(&x.done);
        long taken = floor_drain(s);

        all += taken;
        if (taken == 0 && done)
            break;
        if (taken < FLOOR_DRAIN_EVERY)
            floor_nap();
    }
    pthread_join(t, NULL);
    if (all != sh->count)
        log_error("floor: the worker's half took %ld of %ld records", all,
                  sh->count);
    floor_seal_all(s);
    cpu0 = floor_self_cpu_ns() - cpu0;
    sched_setaffinity(0, sizeof(was), &was);
    return cpu0;
}

static int floor_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of `passes` passes in ns per record, and their range. */
static double floor_median(struct floor_state *s, struct bench_share *sh,
                           char *value, int passes, double *min, double *max)
{
    double per[FLOOR_PASSES_MAX];

    for (int i = 0; i < passes; i++)
        per[i] = (double)(s->split ? floor_pass_split(s, sh, value)
                                   : floor_pass(s, sh, value)) /
                 (double)sh->count;
    qsort(per, (size_t)passes, sizeof(*per), floor_cmp_double);
    *min = per[0];
    *max = per[passes - 1];
    return passes % 2 ? per[passes / 2]
                      : (per[passes / 2 - 1] + per[passes / 2]) / 2;
}

/* The parts of chute_send() that no encoding can save, timed alone. */
#define PARTS_OPS 200000

/* The least of `passes` timings of PARTS_OPS clock reads, in ns each. */
static double part_clock_ns(int passes)
{
    double best = 0;

    for (int p = 0; p < passes; p++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < PARTS_OPS; i++)
            (void)clock_ns(CLOCK_REALTIME); /* a call: never left out */
        double ns = (double)(bench_now_ns() - t0) / PARTS_OPS;
        if (p == 0 || ns < best)
            best = ns;
    }
    return best;
}

/* The same for a compare-and-swap that succeeds, as a claim's and a
 * commit's do, on a line this core holds. */
static double part_cas_ns(int passes)
{
    static _Atomic uint64_t word;
    double best = 0;

    for (int p = 0; p < passes; p++) {
        uint64_t t0 = bench_now_ns(), v = atomic_load(&word);
        for (int i = 0; i < PARTS_OPS; i++, v++)
            atomic_compare_exchange_strong(&word, &v, v + 1);
        double ns = (double)(bench_now_ns() - t0) / PARTS_OPS;
        if (p == 0 || ns < best)
            best = ns;
    }
    return best;
}

/* Where the floor goes: the client's half alone (the worker's half only
 * consumes the ring), then everything without compression; what each
 * adds is the difference of two medians. */
static void floor_stages(struct floor_state *s, struct bench_share *sh,
                         char *value, int passes, struct bench_floor *f)
{
    int16_t codec = s->codec;
    double lo, hi, client, plain;

    s->batch = false;
    client = floor_median(s, sh, value, passes, &lo, &hi);
    s->batch = true;
    s->codec = BATCH_CODEC_NONE;
    plain = codec == BATCH_CODEC_NONE
                ? f->cpu_ns_per_rec
                : floor_median(s, sh, value, passes, &lo, &hi);
    s->codec = codec;
    s->split = true;
    f->xcore_ns = floor_median(s, sh, value, passes, &lo, &hi);
    s->split = false;
    f->client_ns = client;
    f->batch_ns = plain - client;
    f->compress_ns = f->cpu_ns_per_rec - plain;
    f->clock_ns = part_clock_ns(passes);
    f->cas_ns = part_cas_ns(passes);
}

int floor_run(const struct bench_opts *o, const struct bench_load *l,
              long records, int passes, bool stages, struct bench_floor *f)
{
    struct bench_share sh = {.o = o, .load = l, .first = 0, .step = 1};
    struct floor_state s;
    char *value = malloc((size_t)o->size + 8);

    if (passes > FLOOR_PASSES_MAX)
        passes = FLOOR_PASSES_MAX;
    if (!value || floor_init(&s, o) < 0) {
        free(value);
        return -1;
    }
    memcpy(value, l->value, (size_t)o->size);
    sh.count = records < 50000 ? records : 50000;
    floor_pass(&s, &sh, value); /* warm-up: caches, branch predictors */
    sh.count = records;
    s.batches = s.batch_bytes = s.wire_bytes = 0;
    memset(f, 0, sizeof(*f));
    f->records = records;
    f->passes = passes;
    f->cpu_ns_per_rec =
        floor_median(&s, &sh, value, passes, &f->min_ns, &f->max_ns);
    f->batches = s.batches / (uint64_t)passes;
    f->wire_ratio =
        s.batch_bytes ? (double)s.wire_bytes / (double)s.batch_bytes : 0;
    f->stages = stages;
    if (stages)
        floor_stages(&s, &sh, value, passes, f);
    floor_release(&s);
    free(value);
    return 0;
}

void floor_print(const struct bench_opts *o, const struct bench_floor *f)
{
    printf("producer=floor records=%ld passes=%d size=%ld keys=%ld "
           "partitions=%ld codec=%s batch_size=%ld batches=%llu "
           "wire_ratio=%.3f cpu_ns_min=%.1f cpu_ns_max=%.1f",
           f->records, f->passes, o->size, o->keys, o->partitions, o->codec,
           o->floor_batch_size, (unsigned long long)f->batches, f->wire_ratio,
           f->min_ns, f->max_ns);
    if (f->stages)
        printf(" client_ns=%.1f batch_ns=%.1f compress_ns=%.1f xcore_ns=%.1f"
               " clock_ns=%.1f cas_ns=%.1f",
               f->client_ns, f->batch_ns, f->compress_ns, f->xcore_ns,
               f->clock_ns, f->cas_ns);
    printf(" cpu_ns_per_rec=%.1f\n", f->cpu_ns_per_rec);
    fflush(stdout);
}

/* ---- before a run ---- */

/* The topic's partition count from the instance, or -1 (logged). */
static long floor_topic_partitions(const struct bench_opts *o)
{
    chute_t *c = NULL;
    int rc, topic;

    if ((rc = chute_open(o->name, &c)) < 0 ||
        (rc = topic = chute_topic(c, o->topic)) < 0 ||
        (rc = chute_topic_partitions(c, topic)) < 0) {
        log_error("floor: partitions of topic %s from instance %s: %s: %s "
                  "(or give --partitions)",
                  o->topic, o->name, chute_err_name(rc), chute_errmsg());
        if (c)
            chute_close(c);
        return -1;
    }
    chute_close(c);
    return rc;
}

int floor_before(struct bench_opts *o, const struct bench_load *l, long records,
                 int passes, bool stages)
{
    struct bench_floor f;

    if (!o->partitions && (o->partitions = floor_topic_partitions(o)) < 0)
        return -1;
    if (floor_run(o, l, records, passes, stages, &f) < 0)
        return -1;
    floor_print(o, &f);
    o->floor_ns = f.cpu_ns_per_rec;
    return 0;
}
