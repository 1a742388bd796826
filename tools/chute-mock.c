/*
 * chute-mock: librdkafka's mock Kafka cluster as a process, for tests.
 *
 *   chute-mock [-B BROKERS] [-T TOPIC:PARTITIONS]... [-S SOCKET_PATH]
 *
 * Prints the bootstrap list as its first line on stdout, then serves until
 * SIGTERM or SIGINT.  Fault-injection commands arrive one per line on stdin
 * (EOF on stdin only stops reading it) and, with -S, on a Unix stream socket.
 * Each command is answered with "ok" or "error: ..." on the channel it came
 * from.  Commands:
 *
 *   err API COUNT CODE          the next COUNT requests of api key API fail
 *                               with Kafka error CODE (cluster-wide)
 *   clear API                   drop the queued errors of api key API
 *   down BROKER | up BROKER     refuse / accept connections (-1: all)
 *   leader TOPIC PART BROKER    move a partition's leader (-1: none)
 *   rtt BROKER MS               delay every response of a broker
 *   topic-error TOPIC CODE      Metadata reports CODE for the topic
 *
 * Logs go to stderr only, so stdout carries nothing but the bootstrap line
 * and the replies.
 */
#include "common/log.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MOCK_MAX_CONNS 16
#define MOCK_LINE_MAX 1024
#define MOCK_MAX_ARGS 8
#define MOCK_MAX_ERRS 100000

/* One input channel: stdin or an accepted socket connection. */
struct mock_conn {
    int in_fd;  /* -1 when closed */
    int out_fd; /* where replies go */
    size_t len;
    int overflow; /* the current line is longer than buf: answer error */
    char buf[MOCK_LINE_MAX];
};

struct mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int brokers;
    int sig_fd;
    int listen_fd;
    const char *sock_path;
    struct mock_conn conns[MOCK_MAX_CONNS]; /* [0] is stdin */
};

/* A command handler fills err with a reason and returns -1 on failure. */
typedef int (*mock_cmd_fn)(struct mock *m, char **argv, char *err,
                           size_t errlen);

struct mock_cmd {
    const char *name;
    int argc; /* arguments after the name */
    const char *usage;
    mock_cmd_fn fn;
};

static void mock_usage(void)
{
    fprintf(stderr, "usage: chute-mock [-B BROKERS] [-T TOPIC:PARTITIONS]... "
                    "[-S SOCKET_PATH]\n");
    exit(2);
}

/* Parses a whole decimal integer in [min, max]; returns -1 otherwise. */
static int mock_parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int mock_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int mock_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Turns a librdkafka result into the handler convention. */
static int mock_rdk_result(rd_kafka_resp_err_t e, char *err, size_t errlen)
{
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    return mock_fail(err, errlen, "%s", rd_kafka_err2str(e));
}

static int mock_arg_broker(struct mock *m, const char *s, int32_t *id,
                           char *err, size_t errlen)
{
    long v;

    if (mock_parse_int(s, -1, m->brokers, &v) || v == 0)
        return mock_fail(err, errlen, "broker '%s' is not -1 or 1..%d", s,
                         m->brokers);
    *id = (int32_t)v;
    return 0;
}

/* Kafka error codes are positive, librdkafka's own ones (e.g. -195,
 * __TRANSPORT, which makes the broker drop the connection) negative. */
static int mock_arg_code(const char *s, rd_kafka_resp_err_t *code, char *err,
                         size_t errlen)
{
    long v;

    if (mock_parse_int(s, -200, 1000, &v))
        return mock_fail(err, errlen, "error code '%s' is not a number", s);
    *code = (rd_kafka_resp_err_t)v;
    return 0;
}

static int mock_arg_api(const char *s, int16_t *api, char *err, size_t errlen)
{
    long v;

    if (mock_parse_int(s, 0, 1000, &v))
        return mock_fail(err, errlen, "api key '%s' is not a number", s);
    *api = (int16_t)v;
    return 0;
}

static int mock_cmd_err(struct mock *m, char **argv, char *err, size_t errlen)
{
    rd_kafka_resp_err_t code = 0, *codes;
    int16_t api = 0;
    long cnt;

    if (mock_arg_api(argv[0], &api, err, errlen) ||
        mock_arg_code(argv[2], &code, err, errlen))
        return -1;
    if (mock_parse_int(argv[1], 1, MOCK_MAX_ERRS, &cnt))
        return mock_fail(err, errlen, "count '%s' is not 1..%d", argv[1],
                         MOCK_MAX_ERRS);
    codes = malloc((size_t)cnt * sizeof(*codes));
    if (!codes)
        return mock_fail(err, errlen, "out of memory");
    for (long i = 0; i < cnt; i++)
        codes[i] = code;
    rd_kafka_mock_push_request_errors_array(m->mc, api, (size_t)cnt, codes);
    free(codes);
    return 0;
}

static int mock_cmd_clear(struct mock *m, char **argv, char *err,
                          size_t errlen)
{
    int16_t api = 0;

    if (mock_arg_api(argv[0], &api, err, errlen))
        return -1;
    rd_kafka_mock_clear_request_errors(m->mc, api);
    return 0;
}

static int mock_cmd_down(struct mock *m, char **argv, char *err, size_t errlen)
{
    int32_t id = 0;

    if (mock_arg_broker(m, argv[0], &id, err, errlen))
        return -1;
    return mock_rdk_result(rd_kafka_mock_broker_set_down(m->mc, id), err,
                           errlen);
}

static int mock_cmd_up(struct mock *m, char **argv, char *err, size_t errlen)
{
    int32_t id = 0;

    if (mock_arg_broker(m, argv[0], &id, err, errlen))
        return -1;
    return mock_rdk_result(rd_kafka_mock_broker_set_up(m->mc, id), err,
                           errlen);
}

static int mock_cmd_leader(struct mock *m, char **argv, char *err,
                           size_t errlen)
{
    int32_t id = 0;
    long part;

    if (mock_parse_int(argv[1], 0, INT32_MAX, &part))
        return mock_fail(err, errlen, "partition '%s' is not a number",
                         argv[1]);
    if (mock_arg_broker(m, argv[2], &id, err, errlen))
        return -1;
    return mock_rdk_result(rd_kafka_mock_partition_set_leader(
                               m->mc, argv[0], (int32_t)part, id),
                           err, errlen);
}

static int mock_cmd_rtt(struct mock *m, char **argv, char *err, size_t errlen)
{
    int32_t id = 0;
    long ms;

    if (mock_arg_broker(m, argv[0], &id, err, errlen))
        return -1;
    if (mock_parse_int(argv[1], 0, INT_MAX, &ms))
        return mock_fail(err, errlen, "rtt '%s' is not a number", argv[1]);
    return mock_rdk_result(rd_kafka_mock_broker_set_rtt(m->mc, id, (int)ms),
                           err, errlen);
}

static int mock_cmd_topic_error(struct mock *m, char **argv, char *err,
                                size_t errlen)
{
    rd_kafka_resp_err_t code = 0;

    if (mock_arg_code(argv[1], &code, err, errlen))
        return -1;
    rd_kafka_mock_topic_set_error(m->mc, argv[0], code);
    return 0;
}

static const struct mock_cmd mock_cmds[] = {
    {"err", 3, "err API COUNT CODE", mock_cmd_err},
    {"clear", 1, "clear API", mock_cmd_clear},
    {"down", 1, "down BROKER", mock_cmd_down},
    {"up", 1, "up BROKER", mock_cmd_up},
    {"leader", 3, "leader TOPIC PARTITION BROKER", mock_cmd_leader},
    {"rtt", 2, "rtt BROKER MS", mock_cmd_rtt},
    {"topic-error", 2, "topic-error TOPIC CODE", mock_cmd_topic_error},
};

/* Splits line in place on blanks; returns the number of words or -1. */
static int mock_split(char *line, char **argv, int max)
{
    int argc = 0;

    for (char *w = strtok(line, " \t\r"); w; w = strtok(NULL, " \t\r")) {
        if (argc == max)
            return -1;
        argv[argc++] = w;
    }
    return argc;
}

/* Runs one command line; fills reply with "ok" or "error: ...". */
static void mock_execute(struct mock *m, char *line, char *reply,
                         size_t replylen)
{
    char *argv[MOCK_MAX_ARGS], err[256] = "";
    int argc = mock_split(line, argv, MOCK_MAX_ARGS);
    size_t i;

    if (argc <= 0) {
        snprintf(reply, replylen, "error: %s",
                 argc ? "too many words" : "empty command");
        return;
    }
    for (i = 0; i < sizeof(mock_cmds) / sizeof(mock_cmds[0]); i++)
        if (!strcmp(argv[0], mock_cmds[i].name))
            break;
    if (i == sizeof(mock_cmds) / sizeof(mock_cmds[0])) {
        snprintf(reply, replylen, "error: unknown command '%s'", argv[0]);
        return;
    }
    if (argc - 1 != mock_cmds[i].argc) {
        snprintf(reply, replylen, "error: usage: %s", mock_cmds[i].usage);
        return;
    }
    if (mock_cmds[i].fn(m, argv + 1, err, sizeof(err)) < 0) {
        snprintf(reply, replylen, "error: %s", err);
        return;
    }
    snprintf(reply, replylen, "ok");
}

/* Writes all of s and a newline; a vanished peer is not an error here. */
static void mock_reply(int fd, const char *s)
{
    char line[MOCK_LINE_MAX + 64];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s\n", s), off = 0;

    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    while (off < n) {
        ssize_t w = write(fd, line + off, n - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

static void mock_conn_line(struct mock *m, struct mock_conn *c, char *line)
{
    char reply[MOCK_LINE_MAX + 300];

    if (c->overflow) {
        snprintf(reply, sizeof(reply), "error: line longer than %d bytes",
                 MOCK_LINE_MAX - 1);
        c->overflow = 0;
    } else {
        log_info("command: %s", line);
        mock_execute(m, line, reply, sizeof(reply));
        if (strcmp(reply, "ok"))
            log_warn("%s", reply);
    }
    mock_reply(c->out_fd, reply);
}

/* Feeds newly read bytes into the line buffer, running each full line. */
static void mock_conn_feed(struct mock *m, struct mock_conn *c, const char *p,
                           size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            c->buf[c->len] = '\0';
            mock_conn_line(m, c, c->buf);
            c->len = 0;
        } else if (c->len + 1 < sizeof(c->buf)) {
            c->buf[c->len++] = p[i];
        } else {
            c->overflow = 1;
        }
    }
}

static void mock_conn_close(struct mock_conn *c)
{
    if (c->in_fd > STDIN_FILENO)
        close(c->in_fd);
    c->in_fd = -1;
    c->len = 0;
    c->overflow = 0;
}

static void mock_conn_read(struct mock *m, struct mock_conn *c)
{
    char buf[4096];
    ssize_t n = read(c->in_fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0) {
        mock_conn_feed(m, c, buf, (size_t)n);
        return;
    }
    if (c->len) /* a last line without newline still counts */
        mock_conn_feed(m, c, "\n", 1);
    if (c == &m->conns[0])
        log_info("stdin closed; serving until a signal");
    mock_conn_close(c);
}

static void mock_accept(struct mock *m)
{
    int fd = accept(m->listen_fd, NULL, NULL);

    if (fd < 0)
        return;
    for (int i = 1; i < MOCK_MAX_CONNS; i++) {
        if (m->conns[i].in_fd < 0) {
            m->conns[i].in_fd = fd;
            m->conns[i].out_fd = fd;
            return;
        }
    }
    mock_reply(fd, "error: too many connections");
    close(fd);
}

static int mock_listen(struct mock *m)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    if (strlen(m->sock_path) >= sizeof(sa.sun_path)) {
        log_error("socket path '%s' is too long", m->sock_path);
        return -1;
    }
    strcpy(sa.sun_path, m->sock_path);
    unlink(m->sock_path);
    m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m->listen_fd < 0 ||
        bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(m->listen_fd, 8) < 0) {
        log_error("cannot listen on '%s': %s", m->sock_path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Serves the command channels until SIGTERM or SIGINT arrives. */
static void mock_serve(struct mock *m)
{
    struct pollfd pfd[MOCK_MAX_CONNS + 2];

    for (;;) {
        int n = 0;

        pfd[n++] = (struct pollfd){.fd = m->sig_fd, .events = POLLIN};
        pfd[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
        for (int i = 0; i < MOCK_MAX_CONNS; i++)
            pfd[n++] = (struct pollfd){.fd = m->conns[i].in_fd,
                                       .events = POLLIN};
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("poll: %s", strerror(errno));
            return;
        }
        if (pfd[0].revents)
            return;
        if (pfd[1].revents)
            mock_accept(m);
        for (int i = 0; i < MOCK_MAX_CONNS; i++)
            if (pfd[i + 2].revents)
                mock_conn_read(m, &m->conns[i]);
    }
}

static void mock_rdk_log(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
    (void)rk;
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "bootstrap.servers"))
        return; /* the mock's own handle has none, by design */
    log_msg(level <= 3 ? LOG_ERROR : level <= 5 ? LOG_WARN : LOG_INFO,
            "rdkafka %s: %s", fac, buf);
}

static int mock_cluster_start(struct mock *m)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char errstr[512];

    rd_kafka_conf_set_log_cb(conf, mock_rdk_log);
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!m->rk) {
        rd_kafka_conf_destroy(conf);
        log_error("cannot create the mock's handle: %s", errstr);
        return -1;
    }
    m->mc = rd_kafka_mock_cluster_new(m->rk, m->brokers);
    if (!m->mc) {
        log_error("cannot create a mock cluster of %d brokers", m->brokers);
        return -1;
    }
    return 0;
}

/* Creates topic "NAME:PARTITIONS". */
static int mock_topic_create(struct mock *m, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char name[256];
    long parts;
    rd_kafka_resp_err_t e;

    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(name) ||
        mock_parse_int(colon + 1, 1, 100000, &parts)) {
        log_error("bad topic '%s': want TOPIC:PARTITIONS", spec);
        return -1;
    }
    memcpy(name, spec, (size_t)(colon - spec));
    name[colon - spec] = '\0';
    e = rd_kafka_mock_topic_create(m->mc, name, (int)parts,
                                   m->brokers < 3 ? m->brokers : 3);
    if (e) {
        log_error("cannot create topic '%s': %s", name, rd_kafka_err2str(e));
        return -1;
    }
    log_info("topic '%s' with %ld partitions", name, parts);
    return 0;
}

/* Blocks SIGTERM and SIGINT (before librdkafka starts threads, which inherit
 * the mask) and returns a signalfd that reports them. */
static int mock_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

static void mock_init(struct mock *m)
{
    memset(m, 0, sizeof(*m));
    m->brokers = 3;
    m->listen_fd = -1;
    for (int i = 0; i < MOCK_MAX_CONNS; i++)
        m->conns[i].in_fd = -1;
    m->conns[0].in_fd = STDIN_FILENO;
    m->conns[0].out_fd = STDOUT_FILENO;
}

int main(int argc, char **argv)
{
    struct mock m;
    char **topics = calloc((size_t)argc, sizeof(*topics));
    int ntopics = 0, opt, rc = 1;
    long v;

    mock_init(&m);
    log_set_role("mock");
    while ((opt = getopt(argc, argv, "B:T:S:h")) != -1) {
        if (opt == 'B' && !mock_parse_int(optarg, 1, 1000, &v))
            m.brokers = (int)v;
        else if (opt == 'T')
            topics[ntopics++] = optarg;
        else if (opt == 'S')
            m.sock_path = optarg;
        else
            mock_usage();
    }
    if (optind != argc)
        mock_usage();
    m.sig_fd = mock_signals();
    if (m.sig_fd < 0 || mock_cluster_start(&m) < 0)
        return 1;
    for (int i = 0; i < ntopics; i++)
        if (mock_topic_create(&m, topics[i]) < 0)
            goto out;
    if (m.sock_path && mock_listen(&m) < 0)
        goto out;
    mock_reply(STDOUT_FILENO, rd_kafka_mock_cluster_bootstraps(m.mc));
    log_info("%d brokers at %s", m.brokers,
             rd_kafka_mock_cluster_bootstraps(m.mc));
    mock_serve(&m);
    log_info("stopping");
    rc = 0;
out:
    if (m.sock_path && m.listen_fd >= 0)
        unlink(m.sock_path);
    rd_kafka_mock_cluster_destroy(m.mc);
    rd_kafka_destroy(m.rk);
    free(topics);
    return rc;
}
