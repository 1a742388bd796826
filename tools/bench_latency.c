/*
 * bench_latency.c: chute-bench --latency, end-to-end latency of chute and
 * of librdkafka's producer side by side.
 *
 * Each producer first sends unpaced for about a second with delivery
 * reports on, which gives its peak (records acknowledged per second).
 * Then both send at the same rate, half the lower of the two peaks (or
 * -R RATE), for --secs seconds: record i is due at start + i / rate and
 * is stamped just before its send call; its acknowledgement is stamped
 * when the producer hands over its delivery report (chute_poll_reports;
 * librdkafka's delivery-report callback inside rd_kafka_poll), which the
 * sender calls whenever it waits for the next record's turn.  The figure
 * is the time between the two stamps; p50, p99, p99.9 and the largest are
 * printed per producer, then their ratios chute/librdkafka.
 *
 * librdkafka gets linger.ms from --linger (5) and the settings of the
 * throughput run; chute gets its linger.ms from chuted's configuration:
 * start chuted with the same value (scripts/bench-latency.sh does).
 */
#include "tools/bench.h"
#include "common/log.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAT_PEAK_NS      1000000000ull
#define LAT_DRAIN_NS     (60 * 1000000000ull)
#define LAT_REPORTS      512
#define LAT_SLEEP_MIN_NS 100000ull

/* One producer's run: its stamps and what it measured. */
struct lat_run {
    const struct bench_opts *o;
    const struct bench_load *l;
    const char *producer;
    double rate;       /* 0: unpaced */
    uint64_t span_ns;  /* how long records are sent */
    long planned;      /* records the paced run sends */
    uint64_t *sent_ns; /* per record; NULL for the peak */
    uint64_t *lat_ns;  /* acknowledged records' latencies */
    long sent, acked, failed;
    uint64_t start_ns, end_ns;
};

static int lat_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

void bench_sort_u64(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), lat_cmp_u64);
}

uint64_t bench_pct(const uint64_t *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    return sorted[(size_t)((double)(n - 1) * p / 100.0)];
}

/* Record i's key. */
static const char *lat_key(const struct bench_load *l, long keys, long i,
                           size_t *len)
{
    long k = i % keys;

    *len = l->key_lens[k];
    return l->keys + k * BENCH_KEY_LEN;
}

/* Spins until ns, calling poll (the producer's report pump) meanwhile. */
static void lat_wait_until(uint64_t ns, void (*poll)(void *), void *arg)
{
    while (bench_now_ns() < ns)
        poll(arg);
}

static void lat_ack(struct lat_run *r, uint64_t i, int err, uint64_t now)
{
    if (err) {
        if (r->failed++ == 0)
            log_error("%s: record %llu failed: error %d", r->producer,
                      (unsigned long long)i, err);
        return;
    }
    if (r->sent_ns && (long)i < r->planned)
        r->lat_ns[r->acked] = now - r->sent_ns[i];
    r->acked++;
}

/* Whether the next record is to be sent; waits for its turn when paced. */
static int lat_next(struct lat_run *r, void (*poll)(void *), void *arg)
{
    if (r->rate > 0) {
        if (r->sent >= r->planned)
            return 0;
        lat_wait_until(r->start_ns +
                           (uint64_t)((double)r->sent * 1e9 / r->rate),
                       poll, arg);
        return 1;
    }
    if ((r->sent & 63) == 0)
        poll(arg);
    return bench_now_ns() - r->start_ns < r->span_ns;
}

/* After the last send: pumps reports until every record is resolved. */
static int lat_drain(struct lat_run *r, void (*poll)(void *), void *arg)
{
    uint64_t limit = bench_now_ns() + LAT_DRAIN_NS;

    while (r->acked + r->failed < r->sent && bench_now_ns() < limit)
        poll(arg);
    r->end_ns = bench_now_ns();
    if (r->acked + r->failed < r->sent) {
        log_error("%s: %ld records unresolved after 60 s", r->producer,
                  r->sent - r->acked - r->failed);
        r->failed += r->sent - r->acked - r->failed;
    }
    return r->failed ? -1 : 0;
}

/* ---- chute ------------------------------------------------------------------
 */

struct lat_chute {
    struct lat_run *r;
    chute_t *c;
};

static void lat_chute_poll(void *arg)
{
    struct lat_chute *lc = arg;
    chute_report_t rep[LAT_REPORTS];
    int n = chute_poll_reports(lc->c, rep, LAT_REPORTS);
    uint64_t now = bench_now_ns();

    for (int k = 0; k < n; k++)
        lat_ack(lc->r, rep[k].opaque, rep[k].error, now);
}

int bench_chute_open(const struct bench_opts *o, chute_t **c, int *topic)
{
    int rc = chute_open(o->name, c);

    if (rc >= 0)
        rc = *topic = chute_topic(*c, o->topic);
    if (rc < 0) {
        log_error("chute: %s: %s", chute_err_name(rc), chute_errmsg());
        return -1;
    }
    return 0;
}

static int lat_chute_run(struct lat_run *r)
{
    struct lat_chute lc = {.r = r};
    chute_record_t rec = {.partition = CHUTE_PARTITION_UA,
                          .value = r->l->value,
                          .value_len = (size_t)r->o->size,
                          .timestamp_ms = CHUTE_TIMESTAMP_NOW};
    int topic, rc;

    if (bench_chute_open(r->o, &lc.c, &topic) < 0)
        return -1;
    rc = chute_set(lc.c, "delivery.reports", "true");
    if (rc < 0) {
        log_error("chute: delivery.reports: %s", chute_errmsg());
        chute_close(lc.c);
        return -1;
    }
    rec.topic = topic;
    r->start_ns = bench_now_ns();
    while (lat_next(r, lat_chute_poll, &lc)) {
        rec.key = lat_key(r->l, r->o->keys, r->sent, &rec.key_len);
        rec.opaque = (uint64_t)r->sent;
        if (r->sent_ns)
            r->sent_ns[r->sent] = bench_now_ns();
        while ((rc = chute_send(lc.c, &rec)) == CHUTE_ERR_QUEUE_FULL)
            lat_chute_poll(&lc);
        if (rc < 0) {
            log_error("chute_send: %s: %s", chute_err_name(rc), chute_errmsg());
            break;
        }
        r->sent++;
    }
    rc = lat_drain(r, lat_chute_poll, &lc);
    chute_close(lc.c);
    return rc;
}

/* ---- librdkafka
 * -------------------------------------------------------------- */

struct lat_rdk {
    struct lat_run *r;
    rd_kafka_t *rk;
};

static void lat_rdk_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
                       void *opaque)
{
    (void)rk;
    lat_ack(opaque, (uint64_t)(uintptr_t)m->_private, m->err, bench_now_ns());
}

static void lat_rdk_poll(void *arg)
{
    rd_kafka_poll(((struct lat_rdk *)arg)->rk, 0);
}

static int lat_rdk_send(struct lat_rdk *lr, rd_kafka_topic_t *rkt)
{
    struct lat_run *r = lr->r;
    size_t klen;
    const char *key = lat_key(r->l, r->o->keys, r->sent, &klen);
    rd_kafka_resp_err_t e;

    if (r->sent_ns)
        r->sent_ns[r->sent] = bench_now_ns();
    while ((e = rd_kafka_producev(
                lr->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_KEY(key, klen),
                RD_KAFKA_V_VALUE(r->l->value, (size_t)r->o->size),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)r->sent),
                RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(lr->rk, 1);
    if (e)
        log_error("rdkafka producev: %s", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static int lat_rdk_run(struct lat_run *r)
{
    struct lat_rdk lr = {.r = r, .rk = bench_rdk_make(r->o, lat_rdk_dr, r)};
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt;
    int rc;

    if (!lr.rk)
        return -1;
    rkt = rd_kafka_topic_new(lr.rk, r->o->topic, NULL);
    /* Metadata first, so that the first records do not wait for it (as
     * chute_topic() resolved the topic before chute's run). */
    if (rd_kafka_metadata(lr.rk, 0, rkt, &md, 10000) == 0)
        rd_kafka_metadata_destroy(md);
    r->start_ns = bench_now_ns();
    while (lat_next(r, lat_rdk_poll, &lr) && lat_rdk_send(&lr, rkt) == 0)
        r->sent++;
    rc = lat_drain(r, lat_rdk_poll, &lr);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(lr.rk);
    return rc;
}

/* ---- the runs
 * ------------------------------------------------------------------ */

static int lat_run_one(struct lat_run *r)
{
    return strcmp(r->producer, "chute") ? lat_rdk_run(r) : lat_chute_run(r);
}

/* Acknowledged records per second over about a second, unpaced. */
static double lat_peak(const struct bench_opts *o, const struct bench_load *l,
                       const char *producer)
{
    struct lat_run r = {
        .o = o, .l = l, .producer = producer, .span_ns = LAT_PEAK_NS};

    if (lat_run_one(&r) < 0 || r.end_ns <= r.start_ns)
        return 0;
    return (double)r.acked * 1e9 / (double)(r.end_ns - r.start_ns);
}

double bench_chute_peak(const struct bench_opts *o, const struct bench_load *l)
{
    return lat_peak(o, l, "chute");
}

long bench_chute_paced(const struct bench_opts *o, const struct bench_load *l,
                       chute_t *c, int topic, long first, long count,
                       double rate, uint64_t until_ns, uint64_t *failed)
{
    chute_record_t rec = {.topic = topic,
                          .partition = CHUTE_PARTITION_UA,
                          .value = l->value,
                          .value_len = (size_t)o->size,
                          .timestamp_ms = CHUTE_TIMESTAMP_NOW};
    uint64_t start = bench_now_ns();
    struct timespec due;
    long n = 0;

    for (; n < count; n++) {
        uint64_t now = bench_now_ns(),
                 at = rate > 0 ? start + (uint64_t)((double)n * 1e9 / rate)
                               : now;

        if (at >= until_ns || now >= until_ns)
            return n;
        /* A sleep costs tens of us here: sleep only when that far ahead,
         * and send the records that are due one after the other. */
        if (at > now + LAT_SLEEP_MIN_NS) {
            due.tv_sec = (time_t)(at / 1000000000u);
            due.tv_nsec = (long)(at % 1000000000u);
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
        }
        rec.key = lat_key(l, o->keys, first + n, &rec.key_len);
        if (chute_send(c, &rec) < 0 && (*failed)++ == 0)
            log_error("chute_send: %s", chute_errmsg());
    }
    return n;
}

/* The paced run of one producer and its line. */
static int lat_paced(const struct bench_opts *o, const struct bench_load *l,
                     const char *producer, double rate, uint64_t *pct)
{
    struct lat_run r = {.o = o, .l = l, .producer = producer, .rate = rate};
    int rc = -1;

    r.planned = (long)(rate * o->secs);
    if (r.planned < 1)
        r.planned = 1;
    r.sent_ns = calloc((size_t)r.planned, sizeof(*r.sent_ns));
    r.lat_ns = calloc((size_t)r.planned, sizeof(*r.lat_ns));
    if (r.sent_ns && r.lat_ns && lat_run_one(&r) == 0 && r.acked) {
        static const double ps[] = {50, 99, 99.9, 100};

        bench_sort_u64(r.lat_ns, (size_t)r.acked);
        for (int k = 0; k < 4; k++)
            pct[k] = bench_pct(r.lat_ns, (size_t)r.acked, ps[k]);
        printf("latency producer=%s linger_ms=%ld rate=%.0f records=%ld "
               "failed=%ld secs=%.3f e2e_us_p50=%.1f e2e_us_p99=%.1f "
               "e2e_us_p99.9=%.1f e2e_us_max=%.1f\n",
               producer, o->linger_ms, rate, r.acked, r.failed,
               (double)(r.end_ns - r.start_ns) / 1e9, (double)pct[0] / 1e3,
               (double)pct[1] / 1e3, (double)pct[2] / 1e3,
               (double)pct[3] / 1e3);
        fflush(stdout);
        rc = 0;
    }
    free(r.sent_ns);
    free(r.lat_ns);
    return rc;
}

int bench_latency(const struct bench_opts *o, const struct bench_load *l)
{
    double rate = o->rate, peak_c = 0, peak_k = 0;
    uint64_t pc[4] = {0}, pk[4] = {0};
    int rc;

    if (rate <= 0) {
        peak_c = lat_peak(o, l, "chute");
        peak_k = lat_peak(o, l, "librdkafka");
        if (peak_c <= 0 || peak_k <= 0) {
            log_error("could not find the peak rates");
            return -1;
        }
        rate = (peak_c < peak_k ? peak_c : peak_k) / 2;
    }
    printf("latency peak_chute=%.0f peak_librdkafka=%.0f rate=%.0f "
           "linger_ms=%ld size=%ld secs=%.1f\n",
           peak_c, peak_k, rate, o->linger_ms, o->size, o->secs);
    rc = lat_paced(o, l, "chute", rate, pc);
    rc |= lat_paced(o, l, "librdkafka", rate, pk);
    if (rc == 0)
        printf("latency ratio chute/librdkafka p50=%.3f p99=%.3f "
               "p99.9=%.3f\n",
               (double)pc[0] / (double)(pk[0] ? pk[0] : 1),
               (double)pc[1] / (double)(pk[1] ? pk[1] : 1),
               (double)pc[2] / (double)(pk[2] ? pk[2] : 1));
    return rc;
}

int bench_run_mode(const struct bench_opts *o, const struct bench_load *l)
{
    switch (o->mode) {
    case BENCH_MODE_LATENCY:
        return bench_latency(o, l);
    case BENCH_MODE_WAKE:
        return bench_wake(o, l);
    case BENCH_MODE_IDLE:
        return bench_idle(o, l);
    case BENCH_MODE_SOAK:
        return bench_soak(o, l);
    case BENCH_MODE_THROUGHPUT:
        break;
    }
    return -1;
}
