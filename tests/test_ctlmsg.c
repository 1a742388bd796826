/*
 * test_ctlmsg.c: unit tests of proto/ctlmsg.c over a socketpair and over a
 * real listening socket in a scratch CHUTE_RUN_DIR.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/rundir.h"
#include "proto/ctlmsg.h"

static int sp[2]; /* sp[0]: the client's end, sp[1]: the server's */

static int pair_setup(void **state)
{
    (void)state;
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
}

static int pair_teardown(void **state)
{
    (void)state;
    close(sp[0]);
    close(sp[1]);
    return 0;
}

static void put_bytes(int fd, const void *buf, size_t len)
{
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

static void put_head(int fd, uint32_t len)
{
    uint8_t head[4] = {len >> 24, len >> 16, len >> 8, len};

    put_bytes(fd, head, 4);
}

/* The framed bytes of req, as ctlmsg_send_request() writes them. */
static size_t frame_of(const Chute__Ctl__Request *req, uint8_t *buf,
                       size_t size)
{
    int fds[2];
    ssize_t n;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    assert_int_equal(ctlmsg_send_request(fds[0], req), 0);
    close(fds[0]);
    n = read(fds[1], buf, size);
    assert_true(n > 4);
    close(fds[1]);
    return (size_t)n;
}

static void set_nonblocking(int fd)
{
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A ResolveTopic request that lives as long as the struct. */
struct topic_req {
    Chute__Ctl__Request req;
    Chute__Ctl__ResolveTopic rt;
};

static Chute__Ctl__Request *topic_req(struct topic_req *t, char *name)
{
    chute__ctl__request__init(&t->req);
    chute__ctl__resolve_topic__init(&t->rt);
    t->rt.name = name;
    t->req.body_case = CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC;
    t->req.resolve_topic = &t->rt;
    return &t->req;
}

/* A Hello request that lives as long as the struct. */
struct hello_req {
    Chute__Ctl__Request req;
    Chute__Ctl__Hello hello;
};

static Chute__Ctl__Request *hello_req(struct hello_req *h, uint32_t pid)
{
    chute__ctl__request__init(&h->req);
    chute__ctl__hello__init(&h->hello);
    h->hello.client_pid = pid;
    h->hello.protocol_version = CTLMSG_PROTOCOL_VERSION;
    h->req.body_case = CHUTE__CTL__REQUEST__BODY_HELLO;
    h->req.hello = &h->hello;
    return &h->req;
}

/* ---- round trips ------------------------------------------------------- */

static void test_request_round_trip(void **state)
{
    Chute__Ctl__Request req = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__StatusRequest st = CHUTE__CTL__STATUS_REQUEST__INIT;
    Chute__Ctl__Request *got;
    struct topic_req tr;
    struct hello_req hr;

    (void)state;
    assert_int_equal(ctlmsg_send_request(sp[0], hello_req(&hr, 4242)), 0);
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_HELLO);
    assert_int_equal(got->hello->client_pid, 4242);
    assert_int_equal(got->hello->protocol_version, CTLMSG_PROTOCOL_VERSION);
    ctlmsg_request_free(got);

    assert_int_equal(ctlmsg_send_request(sp[0], topic_req(&tr, "orders")), 0);
    req.body_case = CHUTE__CTL__REQUEST__BODY_STATUS;
    req.status = &st;
    assert_int_equal(ctlmsg_send_request(sp[0], &req), 0);
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC);
    assert_string_equal(got->resolve_topic->name, "orders");
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_STATUS);
    ctlmsg_request_free(got);
}

static void test_status_reply_round_trip(void **state)
{
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__StatusReply st = CHUTE__CTL__STATUS_REPLY__INIT;
    Chute__Ctl__StatusReply__Worker w = CHUTE__CTL__STATUS_REPLY__WORKER__INIT;
    Chute__Ctl__StatusReply__Slot s = CHUTE__CTL__STATUS_REPLY__SLOT__INIT;
    Chute__Ctl__StatusReply__TopicCounters t =
        CHUTE__CTL__STATUS_REPLY__TOPIC_COUNTERS__INIT;
    Chute__Ctl__StatusReply__Worker *workers[] = {&w, &w};
    Chute__Ctl__StatusReply__Slot *slots[] = {&s};
    Chute__Ctl__StatusReply__TopicCounters *topics[] = {&t};
    uint32_t owned[] = {0, 2, 4};
    Chute__Ctl__Reply *got;

    (void)state;
    w.index = 1;
    w.pid = 77;
    w.n_slots = 3;
    w.slots = owned;
    w.bytes_sent = 1ull << 40;
    s.index = 2;
    s.owner = -1;
    s.tail = 1ull << 50;
    t.name = "orders";
    t.partitions = 12;
    t.records_failed = 3;
    st.n_workers = 2;
    st.workers = workers;
    st.n_slots = 1;
    st.slots = slots;
    st.n_topics = 1;
    st.topics = topics;
    st.pool_chunks_total = 64;
    reply.body_case = CHUTE__CTL__REPLY__BODY_STATUS;
    reply.status = &st;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->error_code, 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_STATUS);
    assert_int_equal(got->status->n_workers, 2);
    assert_int_equal(got->status->workers[1]->pid, 77);
    assert_int_equal(got->status->workers[1]->n_slots, 3);
    assert_int_equal(got->status->workers[1]->slots[2], 4);
    assert_true(got->status->workers[0]->bytes_sent == 1ull << 40);
    assert_int_equal(got->status->slots[0]->owner, -1);
    assert_true(got->status->slots[0]->tail == 1ull << 50);
    assert_string_equal(got->status->topics[0]->name, "orders");
    assert_int_equal(got->status->topics[0]->records_failed, 3);
    assert_int_equal(got->status->pool_chunks_total, 64);
    ctlmsg_reply_free(got);
}

static void test_error_reply_round_trip(void **state)
{
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__Reply *got;

    (void)state;
    reply.error_code = CHUTE_ERR_UNKNOWN_TOPIC;
    reply.error_message = "unknown topic \"nope\"";
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->error_code, CHUTE_ERR_UNKNOWN_TOPIC);
    assert_string_equal(got->error_message, "unknown topic \"nope\"");
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY__NOT_SET);
    ctlmsg_reply_free(got);
}

/* Scale, flush, drain and topics requests, back to back through the
 * server's reader: each comes out whole and in order. */
static void test_control_requests_through_reader(void **state)
{
    Chute__Ctl__Request req = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ScaleRequest sc = CHUTE__CTL__SCALE_REQUEST__INIT;
    Chute__Ctl__FlushRequest fl = CHUTE__CTL__FLUSH_REQUEST__INIT;
    Chute__Ctl__DrainRequest dr = CHUTE__CTL__DRAIN_REQUEST__INIT;
    Chute__Ctl__TopicsRequest tp = CHUTE__CTL__TOPICS_REQUEST__INIT;
    struct ctlmsg_reader r;
    Chute__Ctl__Request *got;

    (void)state;
    sc.workers = 7;
    req.body_case = CHUTE__CTL__REQUEST__BODY_SCALE;
    req.scale = &sc;
    assert_int_equal(ctlmsg_send_request(sp[0], &req), 0);
    fl.timeout_ms = 1234;
    req.body_case = CHUTE__CTL__REQUEST__BODY_FLUSH;
    req.flush = &fl;
    assert_int_equal(ctlmsg_send_request(sp[0], &req), 0);
    req.body_case = CHUTE__CTL__REQUEST__BODY_DRAIN;
    req.drain = &dr;
    assert_int_equal(ctlmsg_send_request(sp[0], &req), 0);
    req.body_case = CHUTE__CTL__REQUEST__BODY_TOPICS;
    req.topics = &tp;
    assert_int_equal(ctlmsg_send_request(sp[0], &req), 0);
    assert_int_equal(fcntl(sp[1], F_SETFL, O_NONBLOCK), 0);
    ctlmsg_reader_init(&r);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_SCALE);
    assert_int_equal(got->scale->workers, 7);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_FLUSH);
    assert_int_equal(got->flush->timeout_ms, 1234);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_DRAIN);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_TOPICS);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    ctlmsg_reader_release(&r);
}

/* The hand-made frames of tests/integration/test_control.sh are what
 * protobuf-c makes of them (field numbers 12 and 14 of control.proto). */
static void test_control_wire_bytes(void **state)
{
    static const uint8_t flush[] = {0x72, 0x03, 0x08, 0xe8, 0x07};
    static const uint8_t status[] = {0x62, 0x00};
    Chute__Ctl__Request *got;

    (void)state;
    got = chute__ctl__request__unpack(NULL, sizeof(flush), flush);
    assert_non_null(got);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_FLUSH);
    assert_int_equal(got->flush->timeout_ms, 1000);
    ctlmsg_request_free(got);
    got = chute__ctl__request__unpack(NULL, sizeof(status), status);
    assert_non_null(got);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY_STATUS);
    ctlmsg_request_free(got);
}

static void test_control_replies_round_trip(void **state)
{
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__FlushReply fl = CHUTE__CTL__FLUSH_REPLY__INIT;
    Chute__Ctl__ScaleReply sc = CHUTE__CTL__SCALE_REPLY__INIT;
    Chute__Ctl__DrainReply dr = CHUTE__CTL__DRAIN_REPLY__INIT;
    Chute__Ctl__TopicsReply tr = CHUTE__CTL__TOPICS_REPLY__INIT;
    Chute__Ctl__TopicsReply__Topic t = CHUTE__CTL__TOPICS_REPLY__TOPIC__INIT;
    Chute__Ctl__TopicsReply__Topic bad = CHUTE__CTL__TOPICS_REPLY__TOPIC__INIT;
    Chute__Ctl__TopicsReply__Partition p0 =
        CHUTE__CTL__TOPICS_REPLY__PARTITION__INIT;
    Chute__Ctl__TopicsReply__Partition p1 =
        CHUTE__CTL__TOPICS_REPLY__PARTITION__INIT;
    Chute__Ctl__TopicsReply__Broker b = CHUTE__CTL__TOPICS_REPLY__BROKER__INIT;
    Chute__Ctl__TopicsReply__Partition *parts[] = {&p0, &p1};
    Chute__Ctl__TopicsReply__Topic *topics[] = {&t, &bad};
    Chute__Ctl__TopicsReply__Broker *brokers[] = {&b};
    Chute__Ctl__Reply *got;

    (void)state;
    fl.records_acked = 1ull << 33;
    fl.records_failed = 2;
    reply.body_case = CHUTE__CTL__REPLY__BODY_FLUSH;
    reply.flush = &fl;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);
    sc.workers = 3;
    reply.body_case = CHUTE__CTL__REPLY__BODY_SCALE;
    reply.scale = &sc;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);
    dr.state = "draining";
    reply.body_case = CHUTE__CTL__REPLY__BODY_DRAIN;
    reply.drain = &dr;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);
    p0.leader = 2;
    p1.index = 1;
    p1.leader = -1;
    p1.error = 5;
    t.name = "orders";
    t.partition_count = 2;
    t.n_partitions = 2;
    t.partitions = parts;
    bad.name = "gone";
    bad.error_code = CHUTE_ERR_UNKNOWN_TOPIC;
    bad.error_message = "the cluster does not know topic \"gone\"";
    b.node_id = 2;
    b.host = "127.0.0.1";
    b.port = 9092;
    tr.n_topics = 2;
    tr.topics = topics;
    tr.n_brokers = 1;
    tr.brokers = brokers;
    reply.body_case = CHUTE__CTL__REPLY__BODY_TOPICS;
    reply.topics = &tr;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0);

    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_FLUSH);
    assert_true(got->flush->records_acked == 1ull << 33);
    assert_int_equal(got->flush->records_failed, 2);
    ctlmsg_reply_free(got);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_SCALE);
    assert_int_equal(got->scale->workers, 3);
    ctlmsg_reply_free(got);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_DRAIN);
    assert_string_equal(got->drain->state, "draining");
    ctlmsg_reply_free(got);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_TOPICS);
    assert_int_equal(got->topics->n_topics, 2);
    assert_string_equal(got->topics->topics[0]->name, "orders");
    assert_int_equal(got->topics->topics[0]->n_partitions, 2);
    assert_int_equal(got->topics->topics[0]->partitions[0]->leader, 2);
    assert_int_equal(got->topics->topics[0]->partitions[1]->leader, -1);
    assert_int_equal(got->topics->topics[0]->partitions[1]->error, 5);
    assert_int_equal(got->topics->topics[1]->error_code,
                     CHUTE_ERR_UNKNOWN_TOPIC);
    assert_int_equal(got->topics->brokers[0]->port, 9092);
    assert_string_equal(got->topics->brokers[0]->host, "127.0.0.1");
    ctlmsg_reply_free(got);
}

static void test_empty_request(void **state)
{
    Chute__Ctl__Request *got;

    (void)state;
    put_head(sp[0], 0);
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REQUEST__BODY__NOT_SET);
    ctlmsg_request_free(got);
}

/* A message near CTLMSG_MAX through a small socket buffer: many partial
 * writes on one side and partial reads on the other. */
static void test_large_message(void **state)
{
    struct topic_req tr;
    size_t len = CTLMSG_MAX - 16;
    int sndbuf = 4096, status;
    char *name = malloc(len + 1);
    pid_t pid;

    (void)state;
    memset(name, 'x', len);
    name[len] = '\0';
    assert_int_equal(
        setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        Chute__Ctl__Request *got = NULL;
        int ok = ctlmsg_recv_request(sp[1], &got, 10000) == 0 &&
                 strlen(got->resolve_topic->name) == len;

        _exit(ok ? 0 : 1);
    }
    assert_int_equal(ctlmsg_send_request(sp[0], topic_req(&tr, name)), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(name);
}

/* A peer that writes one byte at a time, slowly, to a blocking reader. */
static void test_recv_partial_writes(void **state)
{
    struct topic_req tr;
    Chute__Ctl__Request *got;
    uint8_t frame[64];
    size_t n, i;
    int status;
    pid_t pid;

    (void)state;
    n = frame_of(topic_req(&tr, "byte-by-byte"), frame, sizeof(frame));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (i = 0; i < n; i++) {
            usleep(1000);
            if (write(sp[0], &frame[i], 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 5000), 0);
    assert_string_equal(got->resolve_topic->name, "byte-by-byte");
    ctlmsg_request_free(got);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* ---- the non-blocking reader -------------------------------------------- */

static void test_reader_byte_at_a_time(void **state)
{
    struct hello_req hr;
    Chute__Ctl__Request *got;
    struct ctlmsg_reader r;
    uint8_t frame[64];
    size_t n, i;

    (void)state;
    n = frame_of(hello_req(&hr, 99), frame, sizeof(frame));
    set_nonblocking(sp[1]);
    ctlmsg_reader_init(&r);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    assert_null(ctlmsg_reader_take(&r));
    for (i = 0; i < n; i++) {
        put_bytes(sp[0], &frame[i], 1);
        assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), i + 1 == n);
    }
    got = ctlmsg_reader_take(&r);
    assert_non_null(got);
    assert_int_equal(got->hello->client_pid, 99);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    ctlmsg_reader_release(&r);
}

/* Two requests in one write: the reader hands them out one at a time. */
static void test_reader_back_to_back(void **state)
{
    struct hello_req hr;
    Chute__Ctl__Request *got;
    struct ctlmsg_reader r;
    uint8_t frame[128];
    size_t n;

    (void)state;
    n = frame_of(hello_req(&hr, 1), frame, sizeof(frame));
    n += frame_of(hello_req(&hr, 2), frame + n, sizeof(frame) - n);
    put_bytes(sp[0], frame, n);
    set_nonblocking(sp[1]);
    ctlmsg_reader_init(&r);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1); /* not taken yet */
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->hello->client_pid, 1);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    got = ctlmsg_reader_take(&r);
    assert_int_equal(got->hello->client_pid, 2);
    ctlmsg_request_free(got);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    close(sp[0]);
    sp[0] = open("/dev/null", O_RDONLY);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), CHUTE_ERR_CLOSED);
    assert_string_equal(chute_errmsg(),
                        "the peer closed the control connection");
    ctlmsg_reader_release(&r);
}

/* A reader limited below CTLMSG_MAX (chuted reads requests of at most
 * CTLMSG_REQUEST_MAX bytes): a longer length is refused at the head, the
 * limit itself is read. */
static void test_reader_limit(void **state)
{
    static const struct {
        uint32_t len;
        int rc;
    } rows[] = {
        {CTLMSG_REQUEST_MAX + 1, CHUTE_ERR_TOO_LARGE},
        {CTLMSG_MAX, CHUTE_ERR_TOO_LARGE},
        {CTLMSG_REQUEST_MAX, 0},
        {1, 0},
    };
    struct ctlmsg_reader r;

    (void)state;
    set_nonblocking(sp[1]);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        ctlmsg_reader_init(&r);
        ctlmsg_reader_set_max(&r, CTLMSG_REQUEST_MAX);
        put_head(sp[0], rows[i].len);
        assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), rows[i].rc);
        if (rows[i].rc == 0) {
            assert_non_null(r.body); /* waits for the body */
        } else {
            assert_null(r.body);
            assert_string_equal(chute_errmsg(),
                                rows[i].len == CTLMSG_MAX
                                    ? "control message of 1048576 bytes is "
                                      "larger than the limit of 16384"
                                    : "control message of 16385 bytes is "
                                      "larger than the limit of 16384");
        }
        ctlmsg_reader_release(&r);
        pair_teardown(NULL);
        assert_int_equal(pair_setup(NULL), 0);
        set_nonblocking(sp[1]);
    }
    /* A limit above CTLMSG_MAX is CTLMSG_MAX. */
    ctlmsg_reader_init(&r);
    ctlmsg_reader_set_max(&r, (size_t)CTLMSG_MAX * 4);
    put_head(sp[0], CTLMSG_MAX + 1);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), CHUTE_ERR_TOO_LARGE);
    ctlmsg_reader_release(&r);
}

/* busy: from the first byte of a message until its last. */
static void test_reader_busy(void **state)
{
    struct hello_req hr;
    struct ctlmsg_reader r;
    uint8_t frame[64];
    size_t n = frame_of(hello_req(&hr, 7), frame, sizeof(frame));

    (void)state;
    set_nonblocking(sp[1]);
    ctlmsg_reader_init(&r);
    assert_false(ctlmsg_reader_busy(&r));
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    assert_false(ctlmsg_reader_busy(&r)); /* nothing came */
    put_bytes(sp[0], frame, 2);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    assert_true(ctlmsg_reader_busy(&r)); /* half a head */
    put_bytes(sp[0], frame + 2, n - 3);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 0);
    assert_true(ctlmsg_reader_busy(&r)); /* all but one byte */
    put_bytes(sp[0], frame + n - 1, 1);
    assert_int_equal(ctlmsg_reader_feed(&r, sp[1]), 1);
    assert_false(ctlmsg_reader_busy(&r)); /* whole, waiting to be taken */
    ctlmsg_request_free(ctlmsg_reader_take(&r));
    assert_false(ctlmsg_reader_busy(&r));
    ctlmsg_reader_release(&r);
}

/* A service that refuses a connection writes why and closes it before it
 * reads anything: ctlmsg_call still returns that reply. */
static void test_call_refused_before_request(void **state)
{
    Chute__Ctl__Reply refusal = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__Reply *got;
    struct hello_req hr;

    (void)state;
    refusal.error_code = CHUTE_ERR_TOO_MANY;
    refusal.error_message = "too many connections";
    assert_int_equal(ctlmsg_send_reply(sp[1], &refusal), 0);
    close(sp[1]);
    sp[1] = open("/dev/null", O_RDONLY);
    assert_int_equal(ctlmsg_call(sp[0], hello_req(&hr, 1), &got, 1000), 0);
    assert_int_equal(got->error_code, CHUTE_ERR_TOO_MANY);
    assert_string_equal(got->error_message, "too many connections");
    ctlmsg_reply_free(got);
}

/* Closed without a word: the send's error stands. */
static void test_call_closed_silently(void **state)
{
    Chute__Ctl__Reply *got = (void *)1;
    struct hello_req hr;

    (void)state;
    close(sp[1]);
    sp[1] = open("/dev/null", O_RDONLY);
    assert_int_equal(ctlmsg_call(sp[0], hello_req(&hr, 1), &got, 1000),
                     CHUTE_ERR_SYSTEM);
    assert_null(got);
    assert_string_equal(chute_errmsg(),
                        "cannot write to the control socket: Broken pipe");
}

/* The ordinary case: request, then reply. */
static void test_call_round_trip(void **state)
{
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__ScaleReply sc = CHUTE__CTL__SCALE_REPLY__INIT;
    Chute__Ctl__Reply *got;
    struct hello_req hr;

    (void)state;
    sc.workers = 5;
    reply.body_case = CHUTE__CTL__REPLY__BODY_SCALE;
    reply.scale = &sc;
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), 0); /* ahead */
    assert_int_equal(ctlmsg_call(sp[0], hello_req(&hr, 1), &got, 1000), 0);
    assert_int_equal(got->body_case, CHUTE__CTL__REPLY__BODY_SCALE);
    assert_int_equal(got->scale->workers, 5);
    ctlmsg_reply_free(got);
    got = (void *)1;
    assert_int_equal(ctlmsg_call(sp[0], hello_req(&hr, 1), &got, 20),
                     CHUTE_ERR_TIMED_OUT);
    assert_null(got);
}

/* ---- malformed streams, through both the blocking and the reader path --- */

#define MID "the peer closed the control connection in the middle of a message"

static const struct bad_stream {
    const char *what;
    uint32_t len;     /* the length in the head */
    const char *body; /* bytes after the head */
    size_t body_len;
    int head_bytes;  /* how much of the head to send (4: all) */
    int close_after; /* close the writer's end afterwards */
    int err;
    const char *msg;
} bad_streams[] = {
    {"oversize", CTLMSG_MAX + 1, "", 0, 4, 0, CHUTE_ERR_TOO_LARGE,
     "control message of 1048577 bytes is larger than the limit of 1048576"},
    {"huge", 0xffffffffu, "", 0, 4, 0, CHUTE_ERR_TOO_LARGE,
     "control message of 4294967295 bytes is larger than the limit of "
     "1048576"},
    {"garbage", 3, "\xff\xff\xff", 3, 4, 0, CHUTE_ERR_PROTOCOL,
     "control message of 3 bytes is not a valid \"chute.ctl.Request\""},
    {"truncated field", 2, "\x5a\x05", 2, 4, 0, CHUTE_ERR_PROTOCOL,
     "control message of 2 bytes is not a valid \"chute.ctl.Request\""},
    {"closed in the body", 10, "abc", 3, 4, 1, CHUTE_ERR_PROTOCOL, MID},
    {"closed in the head", 10, "", 0, 2, 1, CHUTE_ERR_PROTOCOL, MID},
    {"closed before", 0, "", 0, 0, 1, CHUTE_ERR_CLOSED,
     "the peer closed the control connection"},
};

static void write_bad_stream(const struct bad_stream *b, int fd)
{
    uint8_t head[4] = {b->len >> 24, b->len >> 16, b->len >> 8, b->len};

    if (b->head_bytes)
        put_bytes(fd, head, (size_t)b->head_bytes);
    if (b->body_len)
        put_bytes(fd, b->body, b->body_len);
    if (b->close_after)
        shutdown(fd, SHUT_WR);
}

static void test_bad_streams(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_streams) / sizeof(bad_streams[0]); i++) {
        const struct bad_stream *b = &bad_streams[i];
        Chute__Ctl__Request *got = (void *)1;
        struct ctlmsg_reader r;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        write_bad_stream(b, fds[0]);
        if (ctlmsg_recv_request(fds[1], &got, 1000) != b->err)
            fail_msg("%s: %s", b->what, chute_errmsg());
        assert_string_equal(chute_errmsg(), b->msg);
        assert_null(got);
        close(fds[1]);
        close(fds[0]);

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        write_bad_stream(b, fds[0]);
        set_nonblocking(fds[1]);
        ctlmsg_reader_init(&r);
        if (ctlmsg_reader_feed(&r, fds[1]) != b->err)
            fail_msg("reader, %s: %s", b->what, chute_errmsg());
        assert_string_equal(chute_errmsg(), b->msg);
        /* It stays an error; the reader never reads into nothing. */
        assert_true(ctlmsg_reader_feed(&r, fds[1]) < 0);
        assert_null(ctlmsg_reader_take(&r));
        ctlmsg_reader_release(&r);
        close(fds[1]);
        close(fds[0]);
    }
}

static void test_recv_timeout(void **state)
{
    Chute__Ctl__Reply *got;
    int64_t t0 = now_ms();

    (void)state;
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 50), CHUTE_ERR_TIMED_OUT);
    assert_true(now_ms() - t0 >= 50);
    /* Half a message is a timeout too. */
    put_head(sp[1], 10);
    assert_int_equal(ctlmsg_recv_reply(sp[0], &got, 20), CHUTE_ERR_TIMED_OUT);
    assert_string_equal(chute_errmsg(),
                        "the control socket's peer did not answer in time");
}

static void test_send_too_large(void **state)
{
    struct topic_req tr;
    Chute__Ctl__Request *got;
    char *name = malloc(CTLMSG_MAX + 1);

    (void)state;
    memset(name, 'x', CTLMSG_MAX);
    name[CTLMSG_MAX] = '\0';
    assert_int_equal(ctlmsg_send_request(sp[0], topic_req(&tr, name)),
                     CHUTE_ERR_TOO_LARGE);
    /* Nothing was written. */
    assert_int_equal(ctlmsg_recv_request(sp[1], &got, 0), CHUTE_ERR_TIMED_OUT);
    free(name);
}

static void test_send_to_closed_peer(void **state)
{
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;

    (void)state;
    close(sp[0]);
    sp[0] = open("/dev/null", O_RDONLY);
    /* EPIPE, not SIGPIPE: the test process survives. */
    assert_int_equal(ctlmsg_send_reply(sp[1], &reply), CHUTE_ERR_SYSTEM);
    assert_string_equal(chute_errmsg(),
                        "cannot write to the control socket: Broken pipe");
}

/* ---- the socket's path and connecting ---------------------------------- */

static char run_dir[] = "/tmp/chute-test-ctlmsg-XXXXXX";

static int run_dir_setup(void **state)
{
    (void)state;
    if (!mkdtemp(run_dir))
        return -1;
    return setenv("CHUTE_RUN_DIR", run_dir, 1);
}

static int run_dir_teardown(void **state)
{
    (void)state;
    unsetenv("CHUTE_RUN_DIR");
    return rmdir(run_dir);
}

static void test_socket_path(void **state)
{
    char buf[200], long_dir[120];

    (void)state;
    char want[300];

    unsetenv("CHUTE_RUN_DIR");
    snprintf(want, sizeof(want), "%s/chute-x.sock", rundir_dir());
    assert_int_equal(ctlmsg_socket_path("x", buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
    assert_int_equal(ctlmsg_socket_path(NULL, buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "%s/chute-default.sock", rundir_dir());
    assert_string_equal(buf, want);
    setenv("CHUTE_RUN_DIR", "", 1);
    assert_int_equal(ctlmsg_socket_path("x", buf, sizeof(buf)), 0);
    snprintf(want, sizeof(want), "%s/chute-x.sock", rundir_dir());
    assert_string_equal(buf, want);
    setenv("CHUTE_RUN_DIR", "/run/chute", 1);
    assert_int_equal(ctlmsg_socket_path("a.b-c_1", buf, sizeof(buf)), 0);
    assert_string_equal(buf, "/run/chute/chute-a.b-c_1.sock");
    assert_int_equal(ctlmsg_socket_path("a/b", buf, sizeof(buf)),
                     CHUTE_ERR_INVALID);
    assert_int_equal(ctlmsg_socket_path("x", buf, 10), CHUTE_ERR_INVALID);
    assert_string_equal(
        chute_errmsg(),
        "socket path \"/run/chute/chute-x.sock\" is too long");
    memset(long_dir, 'd', sizeof(long_dir) - 1);
    long_dir[0] = '/';
    long_dir[sizeof(long_dir) - 1] = '\0';
    setenv("CHUTE_RUN_DIR", long_dir, 1);
    assert_int_equal(ctlmsg_socket_path("x", buf, sizeof(buf)),
                     CHUTE_ERR_INVALID);
    setenv("CHUTE_RUN_DIR", run_dir, 1);
}

/* ctlmsg_connect("x") must fail with CHUTE_ERR_NO_SERVICE because of why. */
static void expect_no_service(const char *why)
{
    char want[300];

    assert_int_equal(ctlmsg_connect("x", 100), CHUTE_ERR_NO_SERVICE);
    snprintf(want, sizeof(want),
             "no chute service named \"x\" is running (cannot connect to "
             "%s/chute-x.sock: %s)",
             run_dir, why);
    assert_string_equal(chute_errmsg(), want);
}

static void test_connect_no_service(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    (void)state;
    expect_no_service("No such file or directory");
    /* A socket file left behind by a dead service. */
    assert_int_equal(ctlmsg_socket_path("x", sa.sun_path, sizeof(sa.sun_path)),
                     0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    expect_no_service("Connection refused");
    unlink(sa.sun_path);
}

static void test_connect_and_talk(void **state)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct hello_req hq;
    Chute__Ctl__Reply reply = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__HelloReply hr = CHUTE__CTL__HELLO_REPLY__INIT;
    Chute__Ctl__Request *got_req;
    Chute__Ctl__Reply *got_reply;
    struct ctlmsg_reader r;
    int lfd, cfd, sfd;

    (void)state;
    assert_int_equal(
        ctlmsg_socket_path("svc", sa.sun_path, sizeof(sa.sun_path)), 0);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    cfd = ctlmsg_connect("svc", 1000);
    assert_true(cfd >= 0);
    assert_int_equal(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
    sfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    assert_true(sfd >= 0);

    assert_int_equal(
        ctlmsg_send_request(cfd, hello_req(&hq, (uint32_t)getpid())), 0);
    ctlmsg_reader_init(&r);
    assert_int_equal(ctlmsg_reader_feed(&r, sfd), 1);
    got_req = ctlmsg_reader_take(&r);
    assert_int_equal(got_req->hello->client_pid, getpid());
    ctlmsg_request_free(got_req);

    hr.service_name = "svc";
    hr.supervisor_pid = 1;
    hr.layout_version = 3;
    reply.body_case = CHUTE__CTL__REPLY__BODY_HELLO;
    reply.hello = &hr;
    assert_int_equal(ctlmsg_send_reply(sfd, &reply), 0);
    assert_int_equal(ctlmsg_recv_reply(cfd, &got_reply, 1000), 0);
    assert_string_equal(got_reply->hello->service_name, "svc");
    assert_int_equal(got_reply->hello->layout_version, 3);
    ctlmsg_reply_free(got_reply);

    ctlmsg_reader_release(&r);
    close(cfd);
    close(sfd);
    close(lfd);
    unlink(sa.sun_path);
}

#define PAIR_TEST(f)                                                           \
    cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PAIR_TEST(test_request_round_trip),
        PAIR_TEST(test_status_reply_round_trip),
        PAIR_TEST(test_error_reply_round_trip),
        PAIR_TEST(test_empty_request),
        PAIR_TEST(test_control_requests_through_reader),
        cmocka_unit_test(test_control_wire_bytes),
        PAIR_TEST(test_control_replies_round_trip),
        PAIR_TEST(test_large_message),
        PAIR_TEST(test_recv_partial_writes),
        PAIR_TEST(test_reader_byte_at_a_time),
        PAIR_TEST(test_reader_back_to_back),
        PAIR_TEST(test_reader_limit),
        PAIR_TEST(test_reader_busy),
        PAIR_TEST(test_call_refused_before_request),
        PAIR_TEST(test_call_closed_silently),
        PAIR_TEST(test_call_round_trip),
        cmocka_unit_test(test_bad_streams),
        PAIR_TEST(test_recv_timeout),
        PAIR_TEST(test_send_too_large),
        PAIR_TEST(test_send_to_closed_peer),
        cmocka_unit_test(test_socket_path),
        cmocka_unit_test(test_connect_no_service),
        cmocka_unit_test(test_connect_and_talk),
    };

    return cmocka_run_group_tests(tests, run_dir_setup, run_dir_teardown);
}
