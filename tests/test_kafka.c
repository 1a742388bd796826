/*
 * test_kafka.c: unit tests of proto/kafka.c and proto/kafka_metadata.c:
 * byte-exact request frames from the protocol notes, parsing of hand-built
 * responses, and every truncation of every response rejected.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kafka.h"
#include "chute/chute.h"
#include "tests/hex.h"

static void assert_kbuf_hex(const struct kbuf *b, const char *hex)
{
    static uint8_t want[512];
    long n = hex_decode(hex, want, sizeof(want));

    assert_true(n >= 0);
    assert_int_equal(b->oom, 0);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, b->len);
}

/* ---- requests ---------------------------------------------------------- */

static const char batch_hex[] =
    "0000000000000000 0000003a ffffffff 02 e99b8dd8 0000 00000000"
    "0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001"
    "10 00 00 00 02 6b 02 76 00";

static void test_kafka_produce_v7_frame(void **state)
{
    uint8_t batch[70];
    char want[600];
    struct kbuf b;

    (void)state;
    assert_int_equal(hex_decode(batch_hex, batch, sizeof(batch)), 70);
    snprintf(want, sizeof(want), "%s%s",
             "00000070 0000 0007 00000001 0004 74657374 | ffff ffff 00001388"
             " 00000001 0002 7431 00000001 00000000 00000046",
             batch_hex);
    kbuf_init(&b);
    kafka_produce_begin(&b, 7, 1, "test", -1, 5000, 1);
    kafka_produce_topic(&b, "t1", 1);
    kafka_produce_partition(&b, 0, batch, sizeof(batch));
    kafka_req_end(&b, 0);
    assert_kbuf_hex(&b, want);
    kbuf_release(&b);
}

static const struct {
    int16_t ver;
    size_t n;
    bool auto_create;
    const char *hex;
} metadata_reqs[] = {
    {4, 1, true,
     "00000017 0003 0004 00000003 0004 74657374 | 00000001 "
     "0002 7431 01"},
    {1, 0, true, "00000012 0003 0001 00000003 0004 74657374 | ffffffff"},
    {3, 1, true,
     "00000016 0003 0003 00000003 0004 74657374 | 00000001 "
     "0002 7431"},
    {8, 1, false,
     "00000019 0003 0008 00000003 0004 74657374 | 00000001 "
     "0002 7431 00 00 00"},
};

static void test_kafka_metadata_req_frames(void **state)
{
    const char *const topics[] = {"t1"};
    struct kbuf b;
    size_t i;

    (void)state;
    kbuf_init(&b);
    for (i = 0; i < sizeof(metadata_reqs) / sizeof(metadata_reqs[0]); i++) {
        kbuf_reset(&b);
        kafka_metadata_req(&b, metadata_reqs[i].ver, 3, "test", topics,
                           metadata_reqs[i].n, metadata_reqs[i].auto_create);
        assert_kbuf_hex(&b, metadata_reqs[i].hex);
    }
    kbuf_release(&b);
}

/* Two requests back to back in one buffer, each framed on its own. */
static void test_kafka_requests_back_to_back(void **state)
{
    struct kbuf b;

    (void)state;
    kbuf_init(&b);
    kafka_apiversions_req(&b, 7, "test");
    kafka_init_pid_req(&b, 1, 8, NULL);
    assert_kbuf_hex(&b, "0000000e 0012 0002 00000007 0004 74657374"
                        "00000010 0016 0001 00000008 ffff | ffff 0000ea60");
    kbuf_release(&b);
}

/* ---- truncation -------------------------------------------------------- */

typedef int parse_fn(const uint8_t *body, size_t len, int16_t ver);

/* Every proper prefix of a valid body must fail, each read from an
 * allocation of exactly that size so that ASan sees any overrun. */
static void assert_truncations_fail(const struct kbuf *body, int16_t ver,
                                    parse_fn *parse)
{
    size_t cut;

    for (cut = 0; cut < body->len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);

        memcpy(copy, body->data, cut);
        assert_true(parse(copy, cut, ver) < 0);
        free(copy);
    }
    assert_true(parse(body->data, body->len, ver) >= 0);
}

/* ---- ApiVersions ------------------------------------------------------- */

static void build_apiversions(struct kbuf *b, int16_t error, int16_t ver)
{
    kbuf_i16(b, error);
    kbuf_i32(b, 4);
    kbuf_i16(b, 0), kbuf_i16(b, 0), kbuf_i16(b, 9);
    kbuf_i16(b, 3), kbuf_i16(b, 0), kbuf_i16(b, 12);
    kbuf_i16(b, 18), kbuf_i16(b, 0), kbuf_i16(b, 3);
    kbuf_i16(b, 70), kbuf_i16(b, 0), kbuf_i16(b, 1); /* beyond the table */
    if (ver >= 1)
        kbuf_i32(b, 25);
}

static int parse_apiversions(const uint8_t *p, size_t len, int16_t ver)
{
    struct kafka_versions v;

    return kafka_apiversions_parse(p, len, ver, &v);
}

static void test_kafka_apiversions_parse(void **state)
{
    struct kafka_versions v;
    struct kbuf b;
    int16_t ver;

    (void)state;
    kbuf_init(&b);
    for (ver = 0; ver <= 2; ver++) {
        kbuf_reset(&b);
        build_apiversions(&b, 0, ver);
        assert_int_equal(kafka_apiversions_parse(b.data, b.len, ver, &v), 0);
        assert_int_equal(v.error, 0);
        assert_true(v.have[0] && v.have[3] && v.have[18] && !v.have[22]);
        assert_int_equal(v.max[3], 12);
        assert_int_equal(v.throttle_ms, ver >= 1 ? 25 : 0);
        assert_truncations_fail(&b, ver, parse_apiversions);
    }
    kbuf_release(&b);
}

/* An unsupported ApiVersions version is answered with a v0 body. */
static void test_kafka_apiversions_error35(void **state)
{
    uint8_t body[32];
    long n = hex_decode("0023 00000001 0012 0000 0002", body, sizeof(body));
    struct kafka_versions v;
    struct kbuf b = {body, (size_t)n, (size_t)n, 0};

    (void)state;
    assert_int_equal(kafka_apiversions_parse(body, (size_t)n, 2, &v), 0);
    assert_int_equal(v.error, KAFKA_ERR_UNSUPPORTED_VERSION);
    assert_true(v.have[KAFKA_API_API_VERSIONS]);
    assert_int_equal(v.max[KAFKA_API_API_VERSIONS], 2);
    assert_truncations_fail(&b, 2, parse_apiversions);
    /* another error: stop after the code */
    n = hex_decode("0022", body, sizeof(body));
    assert_int_equal(kafka_apiversions_parse(body, (size_t)n, 2, &v), 0);
    assert_int_equal(v.error, 34);
}

/* ---- version choice ---------------------------------------------------- */

static const struct {
    int16_t bmin, bmax; /* broker's Produce range; bmax < 0: absent */
    int rc;
    int16_t want;
} produce_picks[] = {
    {0, 7, 0, 7},   /* librdkafka 2.0.2 mock */
    {0, 6, 0, 6},   /* Kafka 2.0 */
    {0, 12, 0, 8},  /* Kafka 4.0 advertises 0..12 */
    {0, 5, 0, 4},   /* never 5 */
    {5, 5, -1, 0},  /* only 5: nothing usable */
    {0, 2, -1, 0},  /* too old */
    {9, 12, -1, 0}, /* flexible only */
    {0, -1, -1, 0}, /* no Produce at all */
};

static void test_kafka_pick_produce(void **state)
{
    struct kafka_versions v;
    int16_t got;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(produce_picks) / sizeof(produce_picks[0]); i++) {
        memset(&v, 0, sizeof(v));
        v.have[0] = produce_picks[i].bmax >= 0;
        v.min[0] = produce_picks[i].bmin;
        v.max[0] = produce_picks[i].bmax;
        got = -7;
        assert_int_equal(kafka_pick_produce(&v, &got), produce_picks[i].rc);
        if (produce_picks[i].rc == 0)
            assert_int_equal(got, produce_picks[i].want);
    }
}

static void test_kafka_versions_pick(void **state)
{
    struct kafka_versions v;
    int16_t got = -7;

    (void)state;
    memset(&v, 0, sizeof(v));
    v.have[3] = true;
    v.min[3] = 0, v.max[3] = 2;
    assert_int_equal(kafka_versions_pick(&v, 3, 1, 8, &got), 0);
    assert_int_equal(got, 2);
    v.min[3] = 9, v.max[3] = 12;
    assert_int_equal(kafka_versions_pick(&v, 3, 1, 8, &got), -1);
    assert_int_equal(kafka_versions_pick(&v, 22, 0, 1, &got), -1);
    assert_int_equal(kafka_versions_pick(&v, 99, 0, 1, &got), -1);
}

/* ---- Metadata ---------------------------------------------------------- */

static void build_md_partition(struct kbuf *b, int16_t ver, int32_t index,
                               int32_t leader)
{
    kbuf_i16(b, leader < 0 ? 5 : 0);
    kbuf_i32(b, index);
    kbuf_i32(b, leader);
    if (ver >= 7)
        kbuf_i32(b, 40 + index);                    /* leader_epoch */
    kbuf_i32(b, 2), kbuf_i32(b, 1), kbuf_i32(b, 2); /* replicas */
    kbuf_i32(b, 1), kbuf_i32(b, 1);                 /* isr */
    if (ver >= 5)
        kbuf_i32(b, 0); /* offline_replicas */
}

static void build_md_topic(struct kbuf *b, int16_t ver, int16_t error,
                           const char *name, int32_t partitions)
{
    static const int32_t order[] = {2, 0, 1}; /* not sorted on the wire */
    int32_t i;

    kbuf_i16(b, error);
    kbuf_str(b, name);
    if (ver >= 1)
        kbuf_i8(b, 0);
    kbuf_i32(b, partitions);
    for (i = 0; i < partitions; i++)
        build_md_partition(b, ver, order[i], order[i] == 1 ? -1 : 2);
    if (ver >= 8)
        kbuf_i32(b, INT32_MIN);
}

static void build_metadata(struct kbuf *b, int16_t ver)
{
    if (ver >= 3)
        kbuf_i32(b, 0); /* throttle */
    kbuf_i32(b, 2);
    kbuf_i32(b, 1), kbuf_str(b, "127.0.0.1"), kbuf_i32(b, 9092);
    if (ver >= 1)
        kbuf_str(b, NULL); /* rack */
    kbuf_i32(b, 2), kbuf_str(b, "b2.example"), kbuf_i32(b, 9093);
    if (ver >= 1)
        kbuf_str(b, "r1");
    if (ver >= 2)
        kbuf_str(b, "mockCluster1a2b");
    kbuf_i32(b, 1); /* controller */
    kbuf_i32(b, 2);
    build_md_topic(b, ver, 0, "t1", 3);
    build_md_topic(b, ver, 3, "missing", 0);
    if (ver >= 8)
        kbuf_i32(b, INT32_MIN);
}

static int parse_metadata(const uint8_t *p, size_t len, int16_t ver)
{
    struct kafka_metadata md;
    int rc = kafka_metadata_parse(p, len, ver, &md);

    kafka_metadata_free(&md);
    return rc;
}

static void check_metadata(const struct kafka_metadata *md, int16_t ver)
{
    const struct kafka_topic *t = &md->topics[0];
    size_t i;

    assert_int_equal(md->broker_count, 2);
    assert_string_equal(md->brokers[0].host, "127.0.0.1");
    assert_int_equal(md->brokers[1].node_id, 2);
    assert_int_equal(md->brokers[1].port, 9093);
    assert_int_equal(md->controller_id, 1);
    if (ver >= 2)
        assert_string_equal(md->cluster_id, "mockCluster1a2b");
    else
        assert_null(md->cluster_id);
    assert_int_equal(md->topic_count, 2);
    assert_string_equal(t->name, "t1");
    assert_int_equal(t->partition_count, 3);
    for (i = 0; i < 3; i++) /* sorted: partition i at [i] */
        assert_int_equal(t->partitions[i].index, i);
    assert_int_equal(t->partitions[1].leader, -1);
    assert_int_equal(t->partitions[1].error, 5);
    assert_int_equal(t->partitions[2].leader_epoch, ver >= 7 ? 42 : -1);
    assert_ptr_equal(kafka_topic_partition(t, 2), &t->partitions[2]);
    assert_null(kafka_topic_partition(t, 3));
    assert_string_equal(md->topics[1].name, "missing");
    assert_int_equal(md->topics[1].error, 3);
    assert_int_equal(md->topics[1].partition_count, 0);
}

static void test_kafka_metadata_parse(void **state)
{
    static const int16_t versions[] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct kafka_metadata md;
    struct kbuf b;
    size_t i;

    (void)state;
    kbuf_init(&b);
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        kbuf_reset(&b);
        build_metadata(&b, versions[i]);
        assert_int_equal(kafka_metadata_parse(b.data, b.len, versions[i], &md),
                         0);
        check_metadata(&md, versions[i]);
        kafka_metadata_free(&md);
        assert_truncations_fail(&b, versions[i], parse_metadata);
    }
    kbuf_release(&b);
}

/* Sparse partition indexes are found by search. */
static void test_kafka_topic_partition_sparse(void **state)
{
    struct kafka_partition p[] = {{0, 1, 1, -1}, {0, 4, 1, -1}, {0, 9, 1, -1}};
    struct kafka_topic t = {0, "t", false, 3, p, 0};

    (void)state;
    assert_ptr_equal(kafka_topic_partition(&t, 1), &p[0]);
    assert_ptr_equal(kafka_topic_partition(&t, 4), &p[1]);
    assert_ptr_equal(kafka_topic_partition(&t, 9), &p[2]);
    assert_null(kafka_topic_partition(&t, 0));
    assert_null(kafka_topic_partition(&t, 5));
    assert_null(kafka_topic_partition(&t, -1));
}

/* A topic of n partitions 0..n-1, all led by broker 1. */
static void build_md_big_topic(struct kbuf *b, int16_t ver, const char *name,
                               int32_t n)
{
    kbuf_i16(b, 0);
    kbuf_str(b, name);
    kbuf_i8(b, 0);
    kbuf_i32(b, n);
    for (int32_t i = 0; i < n; i++)
        build_md_partition(b, ver, i, 1);
    if (ver >= 8)
        kbuf_i32(b, INT32_MIN);
}

/* Partition counts are capped: a topic of more than KAFKA_PARTITIONS_MAX
 * keeps none and says how many it had; the topics around it parse. */
static void test_kafka_metadata_partition_cap(void **state)
{
    static const int32_t counts[] = {KAFKA_PARTITIONS_MAX,
                                     KAFKA_PARTITIONS_MAX + 1, 100000};
    struct kafka_metadata md;
    struct kbuf b;

    (void)state;
    kbuf_init(&b);
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        bool over = counts[i] > KAFKA_PARTITIONS_MAX;

        kbuf_reset(&b);
        kbuf_i32(&b, 0); /* throttle */
        kbuf_i32(&b, 0); /* no brokers */
        kbuf_str(&b, NULL);
        kbuf_i32(&b, 1);
        kbuf_i32(&b, 3);
        build_md_big_topic(&b, 8, "big", counts[i]);
        build_md_topic(&b, 8, 0, "t1", 3);
        build_md_big_topic(&b, 8, "after", 2);
        kbuf_i32(&b, INT32_MIN);
        assert_int_equal(kafka_metadata_parse(b.data, b.len, 8, &md), 0);
        assert_int_equal(md.topic_count, 3);
        assert_int_equal(md.topics[0].partition_count,
                         over ? 0 : (size_t)counts[i]);
        assert_int_equal(md.topics[0].partitions_over,
                         over ? (size_t)counts[i] : 0);
        assert_true(over == (md.topics[0].partitions == NULL));
        assert_int_equal(md.topics[1].partition_count, 3);
        assert_int_equal(md.topics[1].partitions_over, 0);
        assert_string_equal(md.topics[2].name, "after");
        assert_int_equal(md.topics[2].partition_count, 2);
        kafka_metadata_free(&md);
    }
    kbuf_release(&b);
}

static const struct {
    const char *why;
    const char *hex;
} bad_metadata_v1[] = {
    {"broker count -1", "ffffffff 00000000 00000000"},
    {"broker count above the bytes", "7fffffff 00000000"},
    {"null host", "00000001 00000001 ffff 00002384 ffff 00000000 00000000"},
    {"string length -2", "00000001 00000001 fffe"},
    {"null topic name", "00000000 00000001 00000001 0000 ffff 00 00000000"},
    {"partition count -1", "00000000 00000001 00000001 0000 0001 74 00"
                           "ffffffff"},
};

static void test_kafka_metadata_rejects(void **state)
{
    uint8_t body[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_metadata_v1) / sizeof(bad_metadata_v1[0]); i++) {
        long n = hex_decode(bad_metadata_v1[i].hex, body, sizeof(body));

        print_message("bad metadata: %s\n", bad_metadata_v1[i].why);
        assert_true(n > 0);
        assert_int_equal(parse_metadata(body, (size_t)n, 1),
                         CHUTE_ERR_PROTOCOL);
    }
    assert_int_equal(parse_metadata(body, 4, 9), CHUTE_ERR_INVALID);
}

/* ---- Produce ----------------------------------------------------------- */

struct produce_result {
    char topic[16];
    int32_t partition;
    int16_t error;
    int64_t base_offset;
};

struct produce_results {
    size_t n;
    struct produce_result r[8];
};

static void produce_collect(void *ctx, const char *topic, size_t topic_len,
                            int32_t partition, int16_t error,
                            int64_t base_offset)
{
    struct produce_results *rs = ctx;
    struct produce_result *r = &rs->r[rs->n++];

    assert_true(rs->n <= 8 && topic_len < sizeof(r->topic));
    memcpy(r->topic, topic, topic_len);
    r->topic[topic_len] = 0;
    r->partition = partition;
    r->error = error;
    r->base_offset = base_offset;
}

static void build_produce_partition(struct kbuf *b, int16_t ver, int32_t index,
                                    int16_t error, int64_t offset)
{
    kbuf_i32(b, index);
    kbuf_i16(b, error);
    kbuf_i64(b, offset);
    kbuf_i64(b, -1); /* log_append_time_ms */
    if (ver >= 5)
        kbuf_i64(b, 0); /* log_start_offset */
    if (ver < 8)
        return;
    kbuf_i32(b, error ? 1 : 0); /* record_errors */
    if (error)
        kbuf_i32(b, 0), kbuf_str(b, "null key");
    kbuf_str(b, error ? "compacted topic" : NULL);
}

static void build_produce(struct kbuf *b, int16_t ver)
{
    kbuf_i32(b, 2);
    kbuf_str(b, "t1");
    kbuf_i32(b, 2);
    build_produce_partition(b, ver, 0, 0, 1234);
    build_produce_partition(b, ver, 3, KAFKA_ERR_INVALID_RECORD, -1);
    kbuf_str(b, "t2");
    kbuf_i32(b, 0);
    kbuf_i32(b, 100); /* throttle_time_ms */
}

static int parse_produce(const uint8_t *p, size_t len, int16_t ver)
{
    struct produce_results rs = {0};
    int rc = kafka_produce_parse(p, len, ver, produce_collect, &rs);

    if (rc < 0)
        assert_int_equal(rs.n, 0); /* no callbacks for a bad body */
    return rc;
}

static void test_kafka_produce_parse(void **state)
{
    static const int16_t versions[] = {3, 4, 5, 6, 7, 8};
    struct produce_results rs;
    struct kbuf b;
    size_t i;

    (void)state;
    kbuf_init(&b);
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        memset(&rs, 0, sizeof(rs));
        kbuf_reset(&b);
        build_produce(&b, versions[i]);
        assert_int_equal(kafka_produce_parse(b.data, b.len, versions[i],
                                             produce_collect, &rs),
                         100);
        assert_int_equal(rs.n, 2);
        assert_string_equal(rs.r[0].topic, "t1");
        assert_true(rs.r[0].base_offset == 1234);
        assert_int_equal(rs.r[1].partition, 3);
        assert_int_equal(rs.r[1].error, KAFKA_ERR_INVALID_RECORD);
        assert_truncations_fail(&b, versions[i], parse_produce);
    }
    assert_int_equal(kafka_produce_parse(b.data, b.len, 2, NULL, NULL),
                     CHUTE_ERR_INVALID);
    assert_int_equal(kafka_produce_parse(b.data, b.len, 9, NULL, NULL),
                     CHUTE_ERR_INVALID);
    kbuf_release(&b);
}

/* ---- InitProducerId ---------------------------------------------------- */

static int parse_init_pid(const uint8_t *p, size_t len, int16_t ver)
{
    struct kafka_init_pid out;

    return kafka_init_pid_parse(p, len, ver, &out);
}

static void test_kafka_init_pid_parse(void **state)
{
    uint8_t body[32];
    long n =
        hex_decode("00000000 0000 00000000000003e8 0000", body, sizeof(body));
    struct kbuf b = {body, (size_t)n, (size_t)n, 0};
    struct kafka_init_pid out;

    (void)state;
    assert_int_equal(kafka_init_pid_parse(body, (size_t)n, 1, &out), 0);
    assert_int_equal(out.error, 0);
    assert_true(out.producer_id == 1000);
    assert_int_equal(out.producer_epoch, 0);
    assert_truncations_fail(&b, 1, parse_init_pid);
}

/* ---- error codes ------------------------------------------------------- */

static const struct {
    int16_t code;
    const char *name;
    bool retriable, refresh;
} err_table[] = {
    {0, "NONE", false, false},
    {-1, "UNKNOWN_SERVER_ERROR", false, false},
    {2, "CORRUPT_MESSAGE", true, false},
    {3, "UNKNOWN_TOPIC_OR_PARTITION", true, true},
    {6, "NOT_LEADER_OR_FOLLOWER", true, true},
    {7, "REQUEST_TIMED_OUT", true, false},
    {10, "MESSAGE_TOO_LARGE", false, false},
    {13, "NETWORK_EXCEPTION", true, true},
    {19, "NOT_ENOUGH_REPLICAS", true, false},
    {35, "UNSUPPORTED_VERSION", false, false},
    {45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false, false},
    {56, "KAFKA_STORAGE_ERROR", true, true},
    {74, "FENCED_LEADER_EPOCH", true, true},
    {87, "INVALID_RECORD", false, false},
    {1000, "UNKNOWN", false, false},
};

static void test_kafka_err_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
        assert_string_equal(kafka_err_name(err_table[i].code),
                            err_table[i].name);
        assert_int_equal(kafka_err_retriable(err_table[i].code),
                         err_table[i].retriable);
        assert_int_equal(kafka_err_refresh_metadata(err_table[i].code),
                         err_table[i].refresh);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kafka_produce_v7_frame),
        cmocka_unit_test(test_kafka_metadata_req_frames),
        cmocka_unit_test(test_kafka_requests_back_to_back),
        cmocka_unit_test(test_kafka_apiversions_parse),
        cmocka_unit_test(test_kafka_apiversions_error35),
        cmocka_unit_test(test_kafka_pick_produce),
        cmocka_unit_test(test_kafka_versions_pick),
        cmocka_unit_test(test_kafka_metadata_parse),
        cmocka_unit_test(test_kafka_metadata_partition_cap),
        cmocka_unit_test(test_kafka_topic_partition_sparse),
        cmocka_unit_test(test_kafka_metadata_rejects),
        cmocka_unit_test(test_kafka_produce_parse),
        cmocka_unit_test(test_kafka_init_pid_parse),
        cmocka_unit_test(test_kafka_err_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
