/*
 * kverify: reads a whole topic back with librdkafka's consumer, independent
 * of chute, so integration tests can check what really reached the cluster.
 *
 *   kverify -b BOOTSTRAP -t TOPIC [-o FILE] [-e EXPECTED_COUNT]
 *           [-T TIMEOUT_S] [-X key=value]...
 *
 * Every partition is assigned at its beginning, with check.crcs=true and no
 * group commits, and read until each partition reported its end (and, with
 * -e, until at least EXPECTED_COUNT records arrived).  One line per record,
 * tab-separated:
 *
 *   partition  offset  timestamp_ms  key  value  headers
 *
 * key and value are hex, "-" for null and "" (two quote characters) for
 * empty.  headers is "k=v,k=v" with both sides encoded the same way, or "-"
 * when the record has none.  Lines come in consumption order: per partition
 * in offset order, partitions interleaved; sort -k1,1n -k2,2n for a stable
 * file.
 *
 * Exits 1 on any consumer error (a CRC mismatch included), on timeout, or
 * when fewer than EXPECTED_COUNT records arrived; 2 on bad usage.  A summary
 * "kverify: N records, P partitions" goes to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct kv_opts {
    const char *bootstrap;
    const char *topic;
    const char *out_path;
    long expected; /* -1: no expectation */
    long timeout_s;
    char **extra; /* -X "key=value" settings, applied last */
    int nextra;
};

struct kv_state {
    rd_kafka_t *rk;
    FILE *out;
    int partitions;
    char *at_eof; /* per partition: reached the end since its last record */
    long records;
    int failed;
};

static void kv_usage(void)
{
    fprintf(stderr, "usage: kverify -b BOOTSTRAP -t TOPIC [-o FILE] "
                    "[-e EXPECTED_COUNT] [-T TIMEOUT_S] [-X key=value]...\n");
    exit(2);
}

static double kv_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes bytes as hex: "-" for NULL, "" (quotes) for empty. */
static void kv_put_hex(FILE *f, const void *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = p;

    if (!p) {
        fputc('-', f);
        return;
    }
    if (!len) {
        fputs("\"\"", f);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        fputc(digits[b[i] >> 4], f);
        fputc(digits[b[i] & 15], f);
    }
}

static void kv_put_headers(FILE *f, const rd_kafka_message_t *msg)
{
    rd_kafka_headers_t *hdrs = NULL;
    const char *name;
    const void *val;
    size_t size, i;

    if (rd_kafka_message_headers(msg, &hdrs) || !rd_kafka_header_cnt(hdrs)) {
        fputc('-', f);
        return;
    }
    for (i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &size); i++) {
        if (i)
            fputc(',', f);
        kv_put_hex(f, name, strlen(name));
        fputc('=', f);
        kv_put_hex(f, val, size);
    }
}

static void kv_put_record(FILE *f, const rd_kafka_message_t *msg)
{
    int64_t ts = rd_kafka_message_timestamp(msg, NULL);

    fprintf(f, "%" PRId32 "\t%" PRId64 "\t%" PRId64 "\t", msg->partition,
            msg->offset, ts);
    kv_put_hex(f, msg->key, msg->key_len);
    fputc('\t', f);
    kv_put_hex(f, msg->payload, msg->len);
    fputc('\t', f);
    kv_put_headers(f, msg);
    fputc('\n', f);
}

static int kv_conf_set(rd_kafka_conf_t *conf, const char *key,
                       const char *val)
{
    char errstr[512];

    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof(errstr))) {
        fprintf(stderr, "kverify: %s\n", errstr);
        return -1;
    }
    return 0;
}

/* Client-level errors.  Losing a connection is not a data error (a test may
 * have taken a broker down on purpose): it is reported and the read goes
 * on, bounded by the timeout.  Every other error fails the run. */
static void kv_error_cb(rd_kafka_t *rk, int err, const char *reason,
                        void *opaque)
{
    struct kv_state *s = opaque;

    (void)rk;
    fprintf(stderr, "kverify: client error: %s: %s\n",
            rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (err != RD_KAFKA_RESP_ERR__TRANSPORT &&
        err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN &&
        err != RD_KAFKA_RESP_ERR__RESOLVE)
        s->failed = 1;
}

/* The consumer needs a group id to accept assign(); it never commits.
 * -X settings come last and may override the fixed ones. */
static rd_kafka_conf_t *kv_conf(const struct kv_opts *o, struct kv_state *s)
{
    static const char *fixed[][2] = {
        {"check.crcs", "true"},
        {"enable.partition.eof", "true"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        {"isolation.level", "read_uncommitted"},
    };
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];

    rd_kafka_conf_set_error_cb(conf, kv_error_cb);
    rd_kafka_conf_set_opaque(conf, s);
    snprintf(group, sizeof(group), "kverify-%ld", (long)getpid());
    if (kv_conf_set(conf, "bootstrap.servers", o->bootstrap) ||
        kv_conf_set(conf, "group.id", group))
        goto error;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (kv_conf_set(conf, fixed[i][0], fixed[i][1]))
            goto error;
    for (int i = 0; i < o->nextra; i++) {
        char *eq = strchr(o->extra[i], '=');

        *eq = '\0';
        if (kv_conf_set(conf, o->extra[i], eq + 1))
            goto error;
    }
    return conf;
error:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Asks for the topic's partition count, retrying until the deadline. */
static int kv_partition_count(struct kv_state *s, const char *topic,
                              double deadline)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e;
    int n = -1;

    do {
        e = rd_kafka_metadata(s->rk, 0, rkt, &md, 2000);
        if (!e && md->topic_cnt == 1 && !md->topics[0].err)
            n = md->topics[0].partition_cnt;
        else
            fprintf(stderr, "kverify: metadata for '%s': %s\n", topic,
                    rd_kafka_err2str(e ? e : md->topics[0].err));
        if (md)
            rd_kafka_metadata_destroy(md);
        md = NULL;
    } while (n <= 0 && kv_now() < deadline && (sleep(1), 1));
    rd_kafka_topic_destroy(rkt);
    return n;
}

static int kv_assign_all(struct kv_state *s, const char *topic)
{
    rd_kafka_topic_partition_list_t *parts =
        rd_kafka_topic_partition_list_new(s->partitions);
    rd_kafka_resp_err_t e;

    for (int p = 0; p < s->partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    e = rd_kafka_assign(s->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e)
        fprintf(stderr, "kverify: assign: %s\n", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static int kv_all_at_eof(const struct kv_state *s)
{
    for (int p = 0; p < s->partitions; p++)
        if (!s->at_eof[p])
            return 0;
    return 1;
}

/* Handles one message or event from the consumer. */
static void kv_handle(struct kv_state *s, const rd_kafka_message_t *msg)
{
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (msg->partition >= 0 && msg->partition < s->partitions)
            s->at_eof[msg->partition] = 1;
        return;
    }
    if (msg->err) {
        fprintf(stderr, "kverify: consumer error (partition %" PRId32
                        ", offset %" PRId64 "): %s: %s\n",
                msg->partition, msg->offset, rd_kafka_err2name(msg->err),
                rd_kafka_message_errstr(msg));
        s->failed = 1;
        return;
    }
    if (msg->partition >= 0 && msg->partition < s->partitions)
        s->at_eof[msg->partition] = 0;
    kv_put_record(s->out, msg);
    s->records++;
}

static int kv_done(const struct kv_state *s, const struct kv_opts *o)
{
    return kv_all_at_eof(s) && (o->expected < 0 || s->records >= o->expected);
}

/* Consumes until done, an error, or the deadline; returns 0 when done. */
static int kv_consume(struct kv_state *s, const struct kv_opts *o,
                      double deadline)
{
    while (!s->failed && !kv_done(s, o)) {
        rd_kafka_message_t *msg;

        if (kv_now() >= deadline) {
            fprintf(stderr, "kverify: timed out after %lds\n", o->timeout_s);
            return -1;
        }
        msg = rd_kafka_consumer_poll(s->rk, 100);
        if (!msg)
            continue;
        kv_handle(s, msg);
        rd_kafka_message_destroy(msg);
    }
    return s->failed ? -1 : 0;
}

static int kv_parse_long(const char *s, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(s, &end, 10);
    return errno || end == s || *end || *out < 0 ? -1 : 0;
}

static void kv_parse_args(int argc, char **argv, struct kv_opts *o)
{
    int opt;

    o->extra = calloc((size_t)argc, sizeof(*o->extra));
    while ((opt = getopt(argc, argv, "b:t:o:e:T:X:h")) != -1) {
        if (opt == 'b')
            o->bootstrap = optarg;
        else if (opt == 't')
            o->topic = optarg;
        else if (opt == 'o')
            o->out_path = optarg;
        else if (opt == 'e' && !kv_parse_long(optarg, &o->expected))
            continue;
        else if (opt == 'T' && !kv_parse_long(optarg, &o->timeout_s))
            continue;
        else if (opt == 'X' && strchr(optarg, '='))
            o->extra[o->nextra++] = optarg;
        else
            kv_usage();
    }
    if (!o->bootstrap || !o->topic || optind != argc)
        kv_usage();
}

static int kv_open_out(struct kv_state *s, const char *path)
{
    s->out = path ? fopen(path, "w") : stdout;
    if (!s->out) {
        fprintf(stderr, "kverify: cannot open '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int kv_run(struct kv_state *s, const struct kv_opts *o,
                  rd_kafka_conf_t *conf)
{
    double deadline = kv_now() + (double)o->timeout_s;
    char errstr[512];

    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "kverify: %s\n", errstr);
        return -1;
    }
    rd_kafka_poll_set_consumer(s->rk);
    s->partitions = kv_partition_count(s, o->topic, deadline);
    if (s->partitions <= 0)
        return -1;
    s->at_eof = calloc((size_t)s->partitions, 1);
    if (!s->at_eof || kv_assign_all(s, o->topic) < 0)
        return -1;
    return kv_consume(s, o, deadline);
}

int main(int argc, char **argv)
{
    struct kv_opts o = {.expected = -1, .timeout_s = 30};
    struct kv_state s = {0};
    rd_kafka_conf_t *conf;
    int rc;

    kv_parse_args(argc, argv, &o);
    conf = kv_conf(&o, &s);
    if (!conf)
        return 2;
    if (kv_open_out(&s, o.out_path) < 0)
        return 1;
    rc = kv_run(&s, &o, conf);
    if (o.expected >= 0 && s.records < o.expected) {
        fprintf(stderr, "kverify: expected at least %ld records, saw %ld\n",
                o.expected, s.records);
        rc = -1;
    }
    if (s.rk) {
        rd_kafka_consumer_close(s.rk);
        rd_kafka_destroy(s.rk);
    }
    if (fclose(s.out) != 0) {
        fprintf(stderr, "kverify: writing output: %s\n", strerror(errno));
        rc = -1;
    }
    fprintf(stderr, "kverify: %ld records, %d partitions\n", s.records,
            s.partitions > 0 ? s.partitions : 0);
    free(s.at_eof);
    free(o.extra);
    return rc ? 1 : 0;
}
