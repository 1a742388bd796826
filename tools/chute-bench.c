/*
 * chute-bench: one workload through chute, librdkafka's producer, Kafka's
 * Java producer and kafka-python, one after the other, into the same
 * cluster, with comparable numbers.
 *
 *   chute-bench -b BOOTSTRAP [-n NAME] [-N RECORDS] [-N PRODUCER=RECORDS]...
 *               [-S SIZE] [-t TOPIC] [-k KEYS] [-c CLIENTS] [-P PID,PID,...]
 *               [-r RUNS] [--only PRODUCER,...|all] [--warmup RECORDS]
 *               [--java-jar FILE] [--kafka-python FILE] [--codec CODEC]
 *               [-X KEY=VALUE]... [-C PRODUCERS] [--no-floor|--floor-ns NS]
 *               [--partitions N] [--floor-batch-size BYTES]
 *   chute-bench --floor [-n NAME] [-t TOPIC] [-N RECORDS] [-S SIZE] [-k KEYS]
 *               [--codec CODEC] [--partitions N] [--floor-batch-size BYTES]
 *
 * PRODUCER is chute, rdkafka, java or kafka-python; by default chute and
 * rdkafka run.  Workload: RECORDS keyed records (KEYS distinct keys, in
 * turn), values of SIZE bytes whose first 8 bytes are the record number;
 * -N PRODUCER=RECORDS gives one producer fewer (kafka-python is slow), and
 * every figure is per record or per second.  librdkafka and the Java
 * producer run with --codec (lz4 by default: none, gzip, snappy, lz4 or
 * zstd), linger.ms=5 (--linger MS), acks=all, idempotence (chute's
 * default) and 5 requests in flight, keyed records going where Kafka's Java
 * client puts them (murmur2); kafka-python likewise but without idempotence,
 * which its 2.0.2 lacks.  Their other settings are each client's defaults.
 * The chute side gets its compression and linger from chuted's own
 * configuration: start it with the same compression.codec (and the same
 * security.protocol: -X KEY=VALUE sets a librdkafka property, such as
 * security.protocol=sasl_ssl and its ssl.* and sasl.*, for librdkafka only).  The Java producer is tools/java-bench (`make java-bench`),
 * kafka-python runs tools/bench_kafka_python.py under /usr/bin/python3;
 * bench_peer.c drives both.
 *
 * Each producer runs in child processes that set up, report ready, and wait
 * for a common start; the clock runs from that start until every child has
 * flushed.  The Java and Python programs first send --warmup records (5000)
 * unmeasured and flush them, so that the JVM has compiled its send path.
 * CPU is user+sys of everything on the producing side from the common start
 * to the end: the child processes (RUSAGE_CHILDREN, less what each used
 * before the start; the Java and Python programs report their own CPU from
 * the start) and, for chute, the worker processes, the time their threads
 * ran (bench_proc_run_ns: schedstat, in ns) at the start and at the end
 * (-P, or the workers the instance reports on its control socket).  What the producing side used outside that span (JVM
 * start-up, connecting, warm-up) is printed as setup_cpu_ms.  Send latency
 * is sampled on every 16th call.  For librdkafka one send is the producev()
 * call including its poll-and-retry on a full queue, as chute_send()
 * includes its blocking and the Java producer's send() its own.
 *
 * -C PRODUCERS runs librdkafka in that many processes (one producer each),
 * as -c CLIENTS does chute's clients; the Java and Python producers run one.
 *
 * The work floor (bench_floor.c): the same records through chute's own
 * code in this one process, libchute's encoding into a ring in private
 * memory and the worker's batching, compression (--codec) and CRC-32C in
 * a private pool, batches of --floor-batch-size bytes (16384), the
 * topic's partition count (asked of the instance -n, or --partitions);
 * no other process, no network, no system call in the loop.  Its figure
 * is user+sys CPU per record over the loop, the median of several passes.
 * --floor measures it alone over the whole workload (5 passes, no
 * cluster needed with --partitions); otherwise, unless --no-floor, every
 * run that includes chute first measures it over at most 250,000 records
 * (5 passes), prints its "producer=floor" line, and chute's lines carry
 * floor_x, chute's CPU per record over the floor's.  --floor-ns NS takes
 * NS as the floor instead (from an earlier --floor of the same workload:
 * one floor for a series of runs).
 *
 * Other modes, each in a file of its own: --latency (end-to-end latency of
 * chute and librdkafka at half the peak, bench_latency.c), --wake COUNT
 * and --idle SECS (wake latency of a sleeping worker, CPU of an idle
 * instance, bench_idle.c), --soak SECS (memory under a steady load,
 * bench_soak.c).
 *
 * Output: one line per producer, then a ratio line chute/OTHER for each
 * other producer when chute ran.  With -r RUNS the producers alternate RUNS
 * times and "median" lines follow: the median of each figure per producer
 * and of the per-run ratios.  Exits 1 if any record failed or a producer
 * could not run, 2 on bad usage.
 */
#include "tools/bench.h"
#include "common/log.h"
#include "proto/ctlmsg.h"
#include "chute/chute.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_ALL         ((1u << BENCH_PRODUCERS) - 1)
/* The floor: --floor's passes over the whole workload; before a run, a
 * quicker measure over at most BENCH_FLOOR_QUICK records; batch.size 16 KB
 * unless --floor-batch-size. */
#define BENCH_FLOOR_PASSES       5
#define BENCH_FLOOR_QUICK        250000
#define BENCH_FLOOR_QUICK_PASSES 5
#define BENCH_FLOOR_BATCH_SIZE   16384

typedef int (*bench_body_fn)(struct bench_share *sh);

struct bench_result {
    const char *producer;
    uint64_t records, bytes, failed, cpu_ns, setup_cpu_ns, p50, p99;
    double secs;
    int ok;
};

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- workload ------------------------------------------------------------ */

static int bench_load_init(struct bench_load *l, const struct bench_opts *o)
{
    l->keys = calloc((size_t)o->keys, BENCH_KEY_LEN);
    l->key_lens = calloc((size_t)o->keys, sizeof(*l->key_lens));
    l->value = malloc((size_t)o->size + 8);
    if (!l->keys || !l->key_lens || !l->value)
        return -1;
    for (long k = 0; k < o->keys; k++)
        l->key_lens[k] = (size_t)snprintf(l->keys + k * BENCH_KEY_LEN,
                                          BENCH_KEY_LEN, "key-%ld", k);
    for (long i = 0; i < o->size + 8; i++)
        l->value[i] = (char)('a' + i % 26);
    return 0;
}

size_t bench_record(const struct bench_share *sh, long i, char *value,
                           const char **key)
{
    long k = i % sh->o->keys;

    *key = sh->load->keys + k * BENCH_KEY_LEN;
    if (sh->o->size >= 8)
        memcpy(value, &i, 8);
    return sh->load->key_lens[k];
}

uint64_t bench_cpu_ns(const struct rusage *ru)
{
    return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) *
               1000000000u +
           (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000u;
}

/* The start signal is EOF on the go pipe. */
int bench_wait_go(struct bench_share *sh)
{
    struct rusage ru;
    char c;

    if (write(sh->ready_fd, "r", 1) != 1)
        return -1;
    close(sh->ready_fd); /* so a sibling's death reads as EOF */
    while (read(sh->go_fd, &c, 1) < 0 && errno == EINTR)
        ;
    getrusage(RUSAGE_SELF, &ru); /* every thread's, librdkafka's too */
    sh->rep.setup_cpu_ns = bench_cpu_ns(&ru);
    return 0;
}

/* The clock is read around sampled sends only: a read costs tens of
 * nanoseconds here, which would otherwise be charged to every producer's
 * CPU per record. */
static uint64_t bench_start(long n)
{
    return n % BENCH_SAMPLE_EVERY == 0 ? bench_now_ns() : 0;
}

static void bench_sample(struct bench_share *sh, long n, uint64_t t0)
{
    if (n % BENCH_SAMPLE_EVERY == 0)
        sh->samples[sh->rep.nsamples++] = bench_now_ns() - t0;
}

/* ---- the librdkafka producer ---------------------------------------------- */

static void bench_rdk_dr(rd_kafka_t *rk, const rd_kafka_message_t *m,
                         void *opaque)
{
    struct bench_share *sh = opaque;

    (void)rk;
    if (m->err && sh->rep.failed++ == 0)
        log_error("rdkafka delivery failed: %s", rd_kafka_err2str(m->err));
}

rd_kafka_t *bench_rdk_make(const struct bench_opts *o, bench_rdk_dr_fn dr,
                           void *opaque)
{
    char linger[32], errstr[512];
    const char *settings[][2] = {
        {"bootstrap.servers", o->bootstrap},
        {"compression.codec", o->codec},
        {"linger.ms", linger},
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"partitioner", "murmur2_random"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk;

    snprintf(linger, sizeof(linger), "%ld", o->linger_ms);
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr,
                              sizeof(errstr)))
            goto error;
    for (int i = 0; i < o->rdk_conf_count; i++) {
        const char *kv = o->rdk_conf[i], *eq = strchr(kv, '=');
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
        if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)))
            goto error;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr);
    rd_kafka_conf_set_opaque(conf, opaque);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk)
        return rk;
error:
    rd_kafka_conf_destroy(conf);
    log_error("rdkafka: %s", errstr);
    return NULL;
}

static rd_kafka_t *bench_rdk_new(struct bench_share *sh)
{
    return bench_rdk_make(sh->o, bench_rdk_dr, sh);
}

/* One producev(), polling and retrying while the local queue is full. */
static rd_kafka_resp_err_t bench_rdk_send(rd_kafka_t *rk, rd_kafka_topic_t *rkt,
                                          const char *key, size_t klen,
                                          const char *value, size_t vlen)
{
    rd_kafka_resp_err_t e;

    for (;;) {
        e = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt),
                              RD_KAFKA_V_KEY(key, klen),
                              RD_KAFKA_V_VALUE((void *)value, vlen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(rk, 1);
    }
}

static void bench_rdk_loop(struct bench_share *sh, rd_kafka_t *rk,
                           rd_kafka_topic_t *rkt, char *value)
{
    for (long n = 0; n < sh->count; n++) {
        long i = sh->first + n * sh->step;
        const char *key;
        size_t klen = bench_record(sh, i, value, &key);
        uint64_t t0 = bench_start(n);
        rd_kafka_resp_err_t e =
            bench_rdk_send(rk, rkt, key, klen, value, (size_t)sh->o->size);

        bench_sample(sh, n, t0);
        if (e) {
            if (sh->rep.failed++ == 0)
                log_error("rdkafka producev: %s", rd_kafka_err2str(e));
            continue;
        }
        sh->rep.sent++;
        sh->rep.bytes += klen + (uint64_t)sh->o->size;
        if (n % 1024 == 0)
            rd_kafka_poll(rk, 0);
    }
}

static int bench_rdk_body(struct bench_share *sh)
{
    rd_kafka_t *rk = bench_rdk_new(sh);
    rd_kafka_topic_t *rkt;
    char *value = malloc((size_t)sh->o->size + 8);

    if (!rk || !value)
        return -1;
    memcpy(value, sh->load->value, (size_t)sh->o->size);
    rkt = rd_kafka_topic_new(rk, sh->o->topic, NULL);
    if (bench_wait_go(sh) < 0)
        return -1;
    bench_rdk_loop(sh, rk, rkt, value);
    if (rd_kafka_flush(rk, 10 * 60 * 1000)) {
        log_error("rdkafka flush timed out, %d records unresolved",
                  rd_kafka_outq_len(rk));
        sh->rep.failed += (uint64_t)rd_kafka_outq_len(rk);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(value);
    return 0;
}

/* ---- the chute client ------------------------------------------------------ */

static void bench_chute_loop(struct bench_share *sh, chute_t *c,
                             chute_topic_t topic, char *value)
{
    chute_record_t rec = {.topic = topic,
                          .partition = CHUTE_PARTITION_UA,
                          .value = value,
                          .value_len = (size_t)sh->o->size,
                          .timestamp_ms = CHUTE_TIMESTAMP_NOW};

    for (long n = 0; n < sh->count; n++) {
        long i = sh->first + n * sh->step;
        const char *key;
        uint64_t t0;
        int rc;

        rec.key_len = bench_record(sh, i, value, &key);
        rec.key = key;
        t0 = bench_start(n);
        rc = chute_send(c, &rec);
        bench_sample(sh, n, t0);
        if (rc < 0) {
            if (sh->rep.failed++ == 0)
                log_error("chute_send: %s: %s", chute_err_name(rc),
                          chute_errmsg());
            continue;
        }
        sh->rep.sent++;
        sh->rep.bytes += rec.key_len + rec.value_len;
    }
}

static int bench_chute_body(struct bench_share *sh)
{
    char *value = malloc((size_t)sh->o->size + 8);
    chute_t *c = NULL;
    int topic, rc;

    if (!value)
        return -1;
    memcpy(value, sh->load->value, (size_t)sh->o->size);
    if ((rc = chute_open(sh->o->name, &c)) < 0 ||
        (rc = topic = chute_topic(c, sh->o->topic)) < 0) {
        log_error("chute: %s: %s", chute_err_name(rc), chute_errmsg());
        return -1;
    }
    if (bench_wait_go(sh) < 0)
        return -1;
    bench_chute_loop(sh, c, topic, value);
    rc = chute_flush(c, -1);
    if (rc < 0) {
        log_error("chute_flush: %s: %s", chute_err_name(rc), chute_errmsg());
        sh->rep.failed += sh->rep.sent; /* nothing is known to be delivered */
    } else {
        sh->rep.failed += (uint64_t)rc;
    }
    chute_close(c);
    free(value);
    return 0;
}

/* ---- CPU of the chute workers ------------------------------------------------ */

/* Fills pids from -P or from the instance's status; returns how many. */
static int bench_find_workers(const struct bench_opts *o, pid_t *pids)
{
    int n = 0;

    if (o->pids) {
        for (const char *p = o->pids; *p && n < BENCH_MAX_WORKERS; p++)
            if (p == o->pids || p[-1] == ',')
                pids[n++] = (pid_t)atol(p);
        return n;
    }
    return bench_status_workers(o->name, pids);
}

static void bench_workers_cpu(const pid_t *pids, int n, int64_t *cpu)
{
    for (int i = 0; i < n; i++)
        cpu[i] = bench_proc_run_ns(pids[i]);
}

/* ---- running children and collecting their numbers ---------------------------- */

static uint64_t bench_children_cpu_ns(void)
{
    struct rusage ru;

    getrusage(RUSAGE_CHILDREN, &ru);
    return bench_cpu_ns(&ru);
}

/* Reads or writes exactly len bytes; -1 on error or early EOF. */
static int bench_xfer(int fd, void *buf, size_t len, int writing)
{
    char *p = buf;

    while (len) {
        ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* In the child: runs the body, sends report and samples, never returns. */
static void bench_child(struct bench_share *sh, bench_body_fn body,
                        int result_fd)
{
    int rc;

    sh->samples = calloc((size_t)(sh->count / BENCH_SAMPLE_EVERY + 1),
                         sizeof(*sh->samples));
    rc = sh->samples ? body(sh) : -1;
    if (!sh->rep.end_ns)
        sh->rep.end_ns = bench_now_ns();
    if (rc == 0 &&
        bench_xfer(result_fd, &sh->rep, sizeof(sh->rep), 1) == 0 &&
        bench_xfer(result_fd, sh->samples,
                   sh->rep.nsamples * sizeof(*sh->samples), 1) == 0)
        _exit(0);
    _exit(1);
}

struct bench_run {
    const struct bench_opts *o;
    const struct bench_load *load;
    bench_body_fn body;
    long records;
    int nchildren;
    pid_t *pids;
    int *result_fds;
    int ready_fd, go_fd; /* parent's ends */
    uint64_t *samples;
    size_t nsamples;
};

static int bench_fork_one(struct bench_run *r, int idx, int ready_w, int go_r)
{
    struct bench_share sh = {.o = r->o, .load = r->load, .ready_fd = ready_w,
                             .go_fd = go_r, .first = idx,
                             .step = r->nchildren};
    int res[2];

    sh.count = r->records / r->nchildren + (idx < r->records % r->nchildren);
    if (pipe(res) < 0)
        return -1;
    r->pids[idx] = fork();
    if (r->pids[idx] < 0)
        return -1;
    if (r->pids[idx] == 0) {
        close(res[0]);
        close(r->ready_fd);
        close(r->go_fd);
        for (int j = 0; j < idx; j++)
            close(r->result_fds[j]);
        bench_child(&sh, r->body, res[1]);
    }
    close(res[1]);
    r->result_fds[idx] = res[0];
    return 0;
}

/* Forks the children; returns 0 when all reported ready. */
static int bench_spawn(struct bench_run *r)
{
    int ready[2], go[2], rc = 0;
    char c;

    if (pipe(ready) < 0 || pipe(go) < 0)
        return -1;
    r->ready_fd = ready[0];
    r->go_fd = go[1];
    for (int i = 0; i < r->nchildren && !rc; i++)
        rc = bench_fork_one(r, i, ready[1], go[0]);
    close(ready[1]);
    close(go[0]);
    for (int i = 0; i < r->nchildren && !rc; i++)
        rc = bench_xfer(r->ready_fd, &c, 1, 0);
    close(r->ready_fd);
    return rc;
}

/* Reads every child's report and samples; fills the totals and *end_ns,
 * when the last child was done. */
static int bench_collect(struct bench_run *r, struct bench_result *res,
                         uint64_t *end_ns)
{
    int rc = 0;

    r->samples = malloc(((size_t)r->records / BENCH_SAMPLE_EVERY +
                         (size_t)r->nchildren) * sizeof(*r->samples));
    for (int i = 0; i < r->nchildren; i++) {
        struct bench_report rep;

        if (!r->samples ||
            bench_xfer(r->result_fds[i], &rep, sizeof(rep), 0) ||
            bench_xfer(r->result_fds[i], r->samples + r->nsamples,
                       rep.nsamples * sizeof(*r->samples), 0)) {
            log_error("%s client %d died or could not run", res->producer, i);
            rc = -1;
            continue;
        }
        r->nsamples += rep.nsamples;
        res->records += rep.sent;
        res->bytes += rep.bytes;
        res->failed += rep.failed;
        res->setup_cpu_ns += rep.setup_cpu_ns;
        if (rep.end_ns > *end_ns)
            *end_ns = rep.end_ns;
    }
    return rc;
}

static int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void bench_percentiles(struct bench_run *r, struct bench_result *res)
{
    if (!r->nsamples)
        return;
    qsort(r->samples, r->nsamples, sizeof(*r->samples), bench_cmp_u64);
    res->p50 = r->samples[(r->nsamples - 1) * 50 / 100];
    res->p99 = r->samples[(r->nsamples - 1) * 99 / 100];
}

static void bench_reap(struct bench_run *r)
{
    for (int i = 0; i < r->nchildren; i++) {
        int status;

        if (r->pids[i] <= 0)
            continue;
        while (waitpid(r->pids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (r->result_fds[i] >= 0)
            close(r->result_fds[i]);
    }
}

/* After a failed start: stop the children that did start. */
static void bench_kill(struct bench_run *r)
{
    log_error("could not start %d clients", r->nchildren);
    for (int i = 0; i < r->nchildren; i++)
        if (r->pids[i] > 0)
            kill(r->pids[i], SIGTERM);
}

/* Sums the CPU the workers used between the two snapshots. */
static uint64_t bench_workers_delta(const pid_t *pids, int n,
                                    const int64_t *before)
{
    uint64_t sum = 0;

    for (int i = 0; i < n; i++) {
        int64_t after = bench_proc_run_ns(pids[i]);

        if (before[i] < 0 || after < 0)
            log_warn("worker %ld vanished; its CPU is not counted",
                     (long)pids[i]);
        else
            sum += (uint64_t)(after - before[i]);
    }
    return sum;
}

/* What the reaped children used since cpu0, less their set-up. */
static uint64_t bench_children_span(uint64_t cpu0, uint64_t setup)
{
    uint64_t used = bench_children_cpu_ns() - cpu0;

    return used > setup ? used - setup : 0;
}

/* Runs one producer in nchildren processes; workers: pids to charge. */
static int bench_measure(struct bench_run *r, const pid_t *workers,
                         int nworkers, struct bench_result *res)
{
    int64_t wcpu[BENCH_MAX_WORKERS];
    uint64_t cpu0 = bench_children_cpu_ns(), t0, end = 0;
    int rc;

    r->pids = calloc((size_t)r->nchildren, sizeof(*r->pids));
    r->result_fds = malloc((size_t)r->nchildren * sizeof(*r->result_fds));
    if (!r->pids || !r->result_fds)
        return -1;
    for (int i = 0; i < r->nchildren; i++)
        r->result_fds[i] = -1;
    rc = bench_spawn(r);
    if (rc)
        bench_kill(r);
    bench_workers_cpu(workers, nworkers, wcpu);
    t0 = bench_now_ns();
    close(r->go_fd);
    if (rc == 0)
        rc = bench_collect(r, res, &end);
    res->secs = (double)((end > t0 ? end : bench_now_ns()) - t0) / 1e9;
    res->cpu_ns = bench_workers_delta(workers, nworkers, wcpu);
    bench_reap(r);
    res->cpu_ns += bench_children_span(cpu0, res->setup_cpu_ns);
    bench_percentiles(r, res);
    free(r->pids);
    free(r->result_fds);
    free(r->samples);
    return rc;
}

/* ---- medians over several runs ---------------------------------------------------- */

enum { RATE_REC_PER_S, RATE_CPU_NS_PER_REC, RATE_P50, RATE_P99, RATES };

struct bench_rates {
    double v[RATES];
};

static struct bench_rates bench_rates_of(const struct bench_result *r)
{
    double n = r->records ? (double)r->records : 1;

    return (struct bench_rates){{r->secs > 0 ? (double)r->records / r->secs : 0,
                                 (double)r->cpu_ns / n, (double)r->p50,
                                 (double)r->p99}};
}

static double bench_ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static struct bench_rates bench_rates_ratio(const struct bench_rates *a,
                                            const struct bench_rates *b)
{
    struct bench_rates q;

    for (int f = 0; f < RATES; f++)
        q.v[f] = bench_ratio(a->v[f], b->v[f]);
    return q;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of each figure over n runs. */
static struct bench_rates bench_medians(const struct bench_rates *r, long n)
{
    double *v = malloc((size_t)n * sizeof(*v));
    struct bench_rates m = {{0}};

    for (int f = 0; v && f < RATES; f++) {
        for (long i = 0; i < n; i++)
            v[i] = r[i].v[f];
        qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
        m.v[f] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    free(v);
    return m;
}

/* " floor_x=..." when the floor was measured: CPU per record over it. */
static void bench_print_floor_x(double floor_ns, double cpu_ns_per_rec)
{
    if (floor_ns > 0)
        printf(" floor_x=%.2f", cpu_ns_per_rec / floor_ns);
}

/* "PREFIX rec_per_s=... cpu_ns_per_rec=... send_ns_p50=... send_ns_p99=..."
 * and floor_x when floor_ns is not 0. */
static void bench_print_rates(const char *prefix, const struct bench_rates *m,
                              double floor_ns)
{
    printf("%s rec_per_s=%.3f cpu_ns_per_rec=%.3f send_ns_p50=%.3f "
           "send_ns_p99=%.3f",
           prefix, m->v[RATE_REC_PER_S], m->v[RATE_CPU_NS_PER_REC],
           m->v[RATE_P50], m->v[RATE_P99]);
    bench_print_floor_x(floor_ns, m->v[RATE_CPU_NS_PER_REC]);
    printf("\n");
}

/* ---- the producers and their output ------------------------------------------------ */

struct bench_kind {
    const char *opt;   /* its name in --only and -N PRODUCER=RECORDS */
    const char *label; /* producer= in the output */
    bench_body_fn body;
    int idempotent;
    int warms_up; /* sends --warmup records before the start */
};

static const struct bench_kind bench_kinds[BENCH_PRODUCERS] = {
    [BENCH_CHUTE] = {"chute", "chute", bench_chute_body, 1, 0},
    [BENCH_RDKAFKA] = {"rdkafka", "librdkafka", bench_rdk_body, 1, 0},
    [BENCH_JAVA] = {"java", "java", peer_java_body, 1, 1},
    [BENCH_KAFKA_PYTHON] = {"kafka-python", "kafka-python", peer_python_body,
                            0, 1},
};

static void bench_print(const struct bench_opts *o,
                        const struct bench_result *r, enum bench_producer p)
{
    struct bench_rates m = bench_rates_of(r);

    printf("producer=%s records=%llu failed=%llu bytes=%llu secs=%.3f "
           "rec_per_s=%.0f cpu_ns_per_rec=%.1f send_ns_p50=%llu "
           "send_ns_p99=%llu setup_cpu_ms=%.0f warmup=%ld idempotence=%s",
           r->producer, (unsigned long long)r->records,
           (unsigned long long)r->failed, (unsigned long long)r->bytes,
           r->secs, m.v[RATE_REC_PER_S], m.v[RATE_CPU_NS_PER_REC],
           (unsigned long long)r->p50, (unsigned long long)r->p99,
           (double)r->setup_cpu_ns / 1e6,
           bench_kinds[p].warms_up ? o->warmup : 0,
           bench_kinds[p].idempotent ? "yes" : "no");
    if (p == BENCH_CHUTE)
        bench_print_floor_x(o->floor_ns, m.v[RATE_CPU_NS_PER_REC]);
    printf("\n");
    fflush(stdout);
}

static void bench_print_ratio(const struct bench_result *c,
                              const struct bench_result *k)
{
    struct bench_rates a = bench_rates_of(c), b = bench_rates_of(k);
    struct bench_rates q = bench_rates_ratio(&a, &b);
    char prefix[64];

    snprintf(prefix, sizeof(prefix), "ratio chute/%s", k->producer);
    bench_print_rates(prefix, &q, 0);
}

static int bench_one(const struct bench_opts *o, const struct bench_load *l,
                     enum bench_producer p, struct bench_result *res)
{
    struct bench_run r = {.o = o, .load = l, .body = bench_kinds[p].body,
                          .records = o->records[p], .nchildren = 1};
    pid_t workers[BENCH_MAX_WORKERS];
    int nworkers = 0;

    res->producer = bench_kinds[p].label;
    if (p == BENCH_RDKAFKA)
        r.nchildren = (int)o->rdk_producers;
    if (p == BENCH_CHUTE) {
        r.nchildren = (int)o->clients;
        nworkers = bench_find_workers(o, workers);
        log_info("charging the CPU of %d chute-worker processes", nworkers);
        if (!nworkers)
            log_warn("no chute-worker process found: worker CPU not counted");
    }
    res->ok = bench_measure(&r, workers, nworkers, res) == 0;
    if (res->ok)
        bench_print(o, res, p);
    return res->ok && !res->failed ? 0 : -1;
}

/* One run: each selected producer in turn, then the ratios to chute. */
static int bench_round(const struct bench_opts *o, const struct bench_load *l,
                       struct bench_rates *const *rates, long run,
                       uint64_t *failed)
{
    struct bench_result res[BENCH_PRODUCERS] = {{0}};
    int rc = 0;

    for (int p = 0; p < BENCH_PRODUCERS; p++) {
        if (!(o->only & 1u << p))
            continue;
        rc |= bench_one(o, l, (enum bench_producer)p, &res[p]);
        rates[p][run] = bench_rates_of(&res[p]);
        failed[p] += res[p].failed;
    }
    for (int p = BENCH_CHUTE + 1; p < BENCH_PRODUCERS; p++)
        if (res[BENCH_CHUTE].ok && res[p].ok)
            bench_print_ratio(&res[BENCH_CHUTE], &res[p]);
    return rc;
}

/* With -r RUNS: the median of each figure per producer, then the median
 * of the per-run ratios chute/OTHER. */
static void bench_summary(const struct bench_opts *o,
                          struct bench_rates *const *rates)
{
    struct bench_rates *ratio = calloc((size_t)o->runs, sizeof(*ratio)), m;
    char prefix[96];

    for (int p = 0; ratio && p < BENCH_PRODUCERS; p++) {
        if (!(o->only & 1u << p))
            continue;
        m = bench_medians(rates[p], o->runs);
        snprintf(prefix, sizeof(prefix), "median producer=%s runs=%ld",
                 bench_kinds[p].label, o->runs);
        bench_print_rates(prefix, &m, p == BENCH_CHUTE ? o->floor_ns : 0);
    }
    for (int p = BENCH_CHUTE + 1; ratio && p < BENCH_PRODUCERS; p++) {
        if (!(o->only & 1u << BENCH_CHUTE) || !(o->only & 1u << p))
            continue;
        for (long i = 0; i < o->runs; i++)
            ratio[i] = bench_rates_ratio(&rates[BENCH_CHUTE][i], &rates[p][i]);
        m = bench_medians(ratio, o->runs);
        snprintf(prefix, sizeof(prefix), "median ratio chute/%s runs=%ld",
                 bench_kinds[p].label, o->runs);
        bench_print_rates(prefix, &m, 0);
    }
    free(ratio);
}

static void bench_log_failed(const struct bench_opts *o,
                             const uint64_t *failed)
{
    char line[256];
    size_t n = 0;

    for (int p = 0; p < BENCH_PRODUCERS && n < sizeof(line); p++)
        if (o->only & 1u << p)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %llu",
                                  n ? ", " : "", bench_kinds[p].label,
                                  (unsigned long long)failed[p]);
    log_error("failed records: %s", line);
}

/* ---- options ---------------------------------------------------------------------- */

static void bench_usage(void)
{
    fprintf(stderr,
            "usage: chute-bench -b BOOTSTRAP [-n NAME] [-N RECORDS] "
            "[-N PRODUCER=RECORDS]...\n"
            "                   [-S SIZE] [-t TOPIC] [-k KEYS] [-c CLIENTS] "
            "[-P PID,PID,...] [-r RUNS]\n"
            "                   [--only PRODUCER,...|all] "
            "[--warmup RECORDS] [--java-jar FILE]\n"
            "                   [--kafka-python FILE] "
            "[--codec none|gzip|snappy|lz4|zstd]\n"
            "                   [-X KEY=VALUE]... (librdkafka's properties) "
            "[-C PRODUCERS]\n"
            "                   [--no-floor|--floor-ns NS] [--partitions N] "
            "[--floor-batch-size BYTES]\n"
            "       chute-bench --floor [-n NAME] [-t TOPIC] [-N RECORDS] "
            "[-S SIZE] [-k KEYS] [--codec C]\n"
            "                   [--partitions N] [--floor-batch-size BYTES]\n"
            "       chute-bench --latency -b BOOTSTRAP [-R RATE] [--linger MS] "
            "[--secs S] [options]\n"
            "       chute-bench --wake COUNT | --idle SECS | --soak SECS "
            "[-R RATE] [--fraction F]\n"
            "                   [-n NAME] [-t TOPIC] [-S SIZE] [-k KEYS]\n"
            "PRODUCER: chute, rdkafka, java, kafka-python "
            "(default: chute,rdkafka)\n");
    exit(2);
}

static long bench_num(const char *s, long min)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min)
        bench_usage();
    return v;
}

/* A positive number, such as seconds or a rate. */
static double bench_secs(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0))
        bench_usage();
    return v;
}

/* The producer named by the len bytes at s (its --only name). */
static enum bench_producer bench_kind_find(const char *s, size_t len)
{
    for (int p = 0; p < BENCH_PRODUCERS; p++)
        if (strlen(bench_kinds[p].opt) == len &&
            !strncmp(s, bench_kinds[p].opt, len))
            return (enum bench_producer)p;
    bench_usage();
    return BENCH_PRODUCERS;
}

/* --only chute,java,...  or  --only all */
static unsigned bench_parse_only(const char *s)
{
    unsigned only = 0;

    if (!strcmp(s, "all"))
        return BENCH_ALL;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");

        only |= 1u << bench_kind_find(p, len);
        p += len;
        if (!*p)
            return only;
    }
}

/* -N RECORDS sets *all; -N PRODUCER=RECORDS one producer's count. */
static void bench_parse_records(const char *s, long *all, long *one)
{
    const char *eq = strchr(s, '=');

    if (eq)
        one[bench_kind_find(s, (size_t)(eq - s))] = bench_num(eq + 1, 1);
    else
        *all = bench_num(s, 1);
}

/* --codec: one of Kafka's compression types. */
static const char *bench_parse_codec(const char *s)
{
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4",
                                         "zstd"};

    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
        if (!strcmp(s, codecs[i]))
            return codecs[i];
    bench_usage();
    return NULL;
}

/* Long options without a letter. */
enum {
    OPT_FLOOR = 0x100,
    OPT_NO_FLOOR,
    OPT_FLOOR_NS,
    OPT_PARTITIONS,
    OPT_FLOOR_BATCH
};

static void bench_parse(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longopts[] = {
        {"only", required_argument, NULL, 'O'},
        {"warmup", required_argument, NULL, 'W'},
        {"java-jar", required_argument, NULL, 'J'},
        {"kafka-python", required_argument, NULL, 'Y'},
        {"codec", required_argument, NULL, 'Z'},
        {"latency", no_argument, NULL, 'L'},
        {"wake", required_argument, NULL, 'K'},
        {"idle", required_argument, NULL, 'I'},
        {"soak", required_argument, NULL, 'Q'},
        {"linger", required_argument, NULL, 'G'},
        {"secs", required_argument, NULL, 'E'},
        {"fraction", required_argument, NULL, 'F'},
        {"floor", no_argument, NULL, OPT_FLOOR},
        {"no-floor", no_argument, NULL, OPT_NO_FLOOR},
        {"floor-ns", required_argument, NULL, OPT_FLOOR_NS},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"floor-batch-size", required_argument, NULL, OPT_FLOOR_BATCH},
        {NULL, 0, NULL, 0}};
    long all = 1000000, one[BENCH_PRODUCERS] = {0};
    int opt;

    while ((opt = getopt_long(argc, argv, "b:n:N:S:t:k:c:C:P:r:R:X:h", longopts,
                              NULL)) != -1) {
        switch (opt) {
        case 'b': o->bootstrap = optarg; break;
        case 'n': o->name = optarg; break;
        case 'N': bench_parse_records(optarg, &all, one); break;
        case 'S': o->size = bench_num(optarg, 0); break;
        case 't': o->topic = optarg; break;
        case 'k': o->keys = bench_num(optarg, 1); break;
        case 'c': o->clients = bench_num(optarg, 1); break;
        case 'C': o->rdk_producers = bench_num(optarg, 1); break;
        case 'P': o->pids = optarg; break;
        case 'r': o->runs = bench_num(optarg, 1); break;
        case 'O': o->only = bench_parse_only(optarg); break;
        case 'W': o->warmup = bench_num(optarg, 0); break;
        case 'J': o->java_jar = optarg; break;
        case 'Y': o->python_bench = optarg; break;
        case 'Z': o->codec = bench_parse_codec(optarg); break;
        case 'L': o->mode = BENCH_MODE_LATENCY; break;
        case 'K': o->mode = BENCH_MODE_WAKE; o->count = bench_num(optarg, 1); break;
        case 'I': o->mode = BENCH_MODE_IDLE; o->mode_secs = bench_secs(optarg); break;
        case 'Q': o->mode = BENCH_MODE_SOAK; o->mode_secs = bench_secs(optarg); break;
        case 'R': o->rate = bench_secs(optarg); break;
        case 'G': o->linger_ms = bench_num(optarg, 0); break;
        case 'E': o->secs = bench_secs(optarg); break;
        case 'F': o->fraction = bench_secs(optarg); break;
        case OPT_FLOOR: o->floor = BENCH_FLOOR_ONLY; break;
        case OPT_NO_FLOOR: o->floor = BENCH_FLOOR_NONE; break;
        case OPT_FLOOR_NS: o->floor_ns = bench_secs(optarg); break;
        case OPT_PARTITIONS: o->partitions = bench_num(optarg, 1); break;
        case OPT_FLOOR_BATCH: o->floor_batch_size = bench_num(optarg, 1); break;
        case 'X':
            if (!strchr(optarg, '=') || o->rdk_conf_count == BENCH_RDK_CONF_MAX)
                bench_usage();
            o->rdk_conf[o->rdk_conf_count++] = optarg;
            break;
        default: bench_usage();
        }
    }
    for (int p = 0; p < BENCH_PRODUCERS; p++)
        o->records[p] = one[p] ? one[p] : all;
    if ((!o->bootstrap && o->mode <= BENCH_MODE_LATENCY &&
         o->floor != BENCH_FLOOR_ONLY) ||
        optind != argc || !o->only || (o->fraction > 1) ||
        o->clients > o->records[BENCH_CHUTE] ||
        o->rdk_producers > o->records[BENCH_RDKAFKA])
        bench_usage();
}

/* The workload's floor before a run: at most BENCH_FLOOR_QUICK records,
 * unless --floor-ns gave it. */
static int bench_floor_quick(struct bench_opts *o, const struct bench_load *l)
{
    long n = o->records[BENCH_CHUTE];

    if (o->floor_ns > 0) {
        printf("floor cpu_ns_per_rec=%.1f (given: --floor-ns)\n", o->floor_ns);
        return 0;
    }
    return floor_before(o, l, n < BENCH_FLOOR_QUICK ? n : BENCH_FLOOR_QUICK,
                        BENCH_FLOOR_QUICK_PASSES, false);
}

/* --floor: the floor of the whole workload, nothing else. */
static int bench_floor_only(struct bench_opts *o)
{
    struct bench_load load;
    int rc;

    if (bench_load_init(&load, o) < 0) {
        log_error("out of memory");
        return 1;
    }
    rc = floor_before(o, &load, o->records[BENCH_CHUTE], BENCH_FLOOR_PASSES,
                      true);
    free(load.keys);
    free(load.key_lens);
    free(load.value);
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {.name = "default", .topic = "bench", .size = 100,
                           .keys = 1000, .clients = 1, .runs = 1,
                           .only = 1u << BENCH_CHUTE | 1u << BENCH_RDKAFKA,
                           .warmup = 5000, .codec = "lz4", .linger_ms = 5,
                           .secs = 3, .fraction = 0.25, .rdk_producers = 1,
                           .floor_batch_size = BENCH_FLOOR_BATCH_SIZE};
    struct bench_rates *rates[BENCH_PRODUCERS];
    uint64_t failed[BENCH_PRODUCERS] = {0}, failures = 0;
    struct bench_load load;
    int rc = 0;

    log_set_role("bench");
    bench_parse(argc, argv, &o);
    if (o.floor == BENCH_FLOOR_ONLY)
        return bench_floor_only(&o);
    if (o.mode != BENCH_MODE_THROUGHPUT) /* bench_latency.c and others */
        return bench_load_init(&load, &o) < 0 || bench_run_mode(&o, &load) ? 1
                                                                          : 0;
    if (peer_locate(&o) < 0)
        return 1;
    for (int p = 0; p < BENCH_PRODUCERS; p++)
        if (!(rates[p] = calloc((size_t)o.runs, sizeof(*rates[p]))))
            rc = -1;
    if (rc || bench_load_init(&load, &o) < 0) {
        log_error("out of memory");
        return 1;
    }
    if (o.floor == BENCH_FLOOR_BEFORE && o.only & 1u << BENCH_CHUTE &&
        bench_floor_quick(&o, &load) < 0)
        return 1;
    for (long run = 0; run < o.runs; run++)
        rc |= bench_round(&o, &load, rates, run, failed);
    if (o.runs > 1 && !rc)
        bench_summary(&o, rates);
    for (int p = 0; p < BENCH_PRODUCERS; p++) {
        failures += failed[p];
        free(rates[p]);
    }
    if (failures)
        bench_log_failed(&o, failed);
    free(load.keys);
    free(load.key_lens);
    free(load.value);
    return rc ? 1 : 0;
}
