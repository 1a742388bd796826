/*
 * test_config.c: unit tests of supervisor/config.c.
 *
 * Most tests are tables: a properties line and what it must set, or a
 * malformed line and the exact message it must give.  The last tests check
 * that docs/configuration.md and chute.conf.sample are what the schema
 * generates; run with CHUTE_WRITE_DOCS=1 (from the top of the tree) to
 * regenerate them after a change to the schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "proto/batch.h"
#include "supervisor/config.h"

static char tmp_path[] = "/tmp/chute-test-config-XXXXXX";

/* Writes text into the scratch file and returns its path. */
static const char *write_tmp(const char *text)
{
    FILE *f = fopen(tmp_path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return tmp_path;
}

static char *dump_text(const struct config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    assert_int_equal(config_dump(cfg, f), 0);
    fclose(f);
    return text;
}

/* The value config_dump() writes for key, in a static buffer. */
static const char *dumped(const struct config *cfg, const char *key)
{
    static char value[256];
    char *text = dump_text(cfg), *line;
    size_t klen = strlen(key);

    value[0] = '\0';
    for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, key, klen) == 0 && line[klen] == '=')
            snprintf(value, sizeof(value), "%s", line + klen + 1);
    free(text);
    return value;
}

static void test_defaults(void **state)
{
    struct config cfg;

    (void)state;
    config_init(&cfg);
    assert_string_equal(cfg.bootstrap_servers, "");
    assert_string_equal(cfg.client_id, "chute");
    assert_int_equal(cfg.linger_ms, 5);
    assert_int_equal(cfg.batch_size, 1000000);
    assert_int_equal(cfg.batch_num_messages, 10000);
    assert_int_equal(cfg.compression, CONFIG_COMPRESSION_NONE);
    assert_int_equal(cfg.compression_level, -1);
    assert_int_equal(cfg.acks, -1);
    assert_int_equal(cfg.message_max_bytes, 1000000);
    assert_true(cfg.enable_idempotence);
    assert_int_equal(cfg.message_timeout_ms, 300000);
    assert_int_equal(cfg.request_timeout_ms, 30000);
    assert_int_equal(cfg.retry_backoff_ms, 100);
    assert_int_equal(cfg.retry_backoff_max_ms, 1000);
    assert_int_equal(cfg.retries, 2147483647);
    assert_int_equal(cfg.max_in_flight, 5);
    assert_int_equal(cfg.metadata_max_age_ms, 900000);
    assert_int_equal(cfg.socket_timeout_ms, 60000);
    assert_int_equal(cfg.queue_full_policy, CONFIG_QUEUE_FULL_BLOCK);
    assert_int_equal(cfg.max_block_ms, 60000);
    assert_string_equal(cfg.name, "default");
    assert_int_equal(cfg.workers, 2);
    assert_int_equal(cfg.slots, 16);
    assert_int_equal(cfg.ring_size, 4 << 20);
    assert_int_equal(cfg.buffer_memory, 64 << 20);
    assert_string_equal(cfg.metrics_listen, "");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_string_equal(cfg.intake_group, "");
    assert_int_equal(cfg.topic_count, 0);
    assert_int_equal(config_validate(&cfg), CHUTE_ERR_INVALID);
    assert_string_equal(chute_errmsg(), "\"bootstrap.servers\" is not set");
    assert_int_equal(config_set(&cfg, "bootstrap.servers", "k:9092"), 0);
    assert_int_equal(config_validate(&cfg), 0);
    config_release(&cfg);
}

static const struct good_case {
    const char *line, *key, *value;
} good_cases[] = {
    {"linger.ms=10", "linger.ms", "10"},
    {"  linger.ms  =  10  ", "linger.ms", "10"},
    {"\tlinger.ms\t=\t10\r", "linger.ms", "10"},
    {"linger.ms: 10", "linger.ms", "10"},
    {"linger.ms:10", "linger.ms", "10"},
    {"linger.ms=0", "linger.ms", "0"},
    {"linger.ms=900000", "linger.ms", "900000"},
    {"batch.size=2147483647", "batch.size", "2147483647"},
    {"message.max.bytes=1000", "message.max.bytes", "1000"},
    {"compression.codec=lz4", "compression.codec", "lz4"},
    {"compression.type=lz4", "compression.codec", "lz4"},
    {"compression.codec=gzip", "compression.codec", "gzip"},
    {"compression.codec=snappy", "compression.codec", "snappy"},
    {"compression.type=zstd", "compression.codec", "zstd"},
    {"compression.codec=none", "compression.codec", "none"},
    {"compression.level=-1", "compression.level", "-1"},
    {"compression.level=0", "compression.level", "0"},
    {"compression.level=22", "compression.level", "22"},
    {"topic.x.compression.level=9", "topic.x.compression.level", "9"},
    {"topic.x.compression.codec=zstd", "topic.x.compression.codec", "zstd"},
    {"acks=all", "acks", "all"},
    {"acks=-1", "acks", "all"},
    {"acks=0", "acks", "0"},
    {"acks=1", "acks", "1"},
    {"enable.idempotence=false", "enable.idempotence", "false"},
    {"enable.idempotence=TRUE", "enable.idempotence", "true"},
    {"queue.full.policy=fail", "queue.full.policy", "fail"},
    {"log.level=debug", "log.level", "debug"},
    {"workers=64", "workers", "64"},
    {"slots=1", "slots", "1"},
    {"admin.group=chute-admin", "admin.group", "chute-admin"},
    {"control.connections.max=1024", "control.connections.max", "1024"},
    {"control.connections.per.user=1", "control.connections.per.user", "1"},
    {"control.idle.timeout.ms=100", "control.idle.timeout.ms", "100"},
    {"control.request.timeout.ms=600000", "control.request.timeout.ms",
     "600000"},
    {"slots=256", "slots", "256"},
    {"ring.size=64k", "ring.size", "64k"},
    {"ring.size=64K", "ring.size", "64k"},
    {"ring.size=1048576", "ring.size", "1m"},
    {"ring.size=8M", "ring.size", "8m"},
    {"ring.size=1g", "ring.size", "1g"},
    {"ring.size=1G", "ring.size", "1g"},
    {"buffer.memory=1m", "buffer.memory", "1m"},
    {"buffer.memory=1572864", "buffer.memory", "1536k"},
    {"buffer.memory=2000000", "buffer.memory", "2000000"},
    {"buffer.memory=64g", "buffer.memory", "64g"},
    {"name=my_inst-1.a", "name", "my_inst-1.a"},
    {"name = x", "name", "x"},
    {"bootstrap.servers=a:9092,b:9092", "bootstrap.servers", "a:9092,b:9092"},
    {"metrics.listen=0.0.0.0:9100", "metrics.listen", "0.0.0.0:9100"},
    {"metrics.listen: 127.0.0.1:9100", "metrics.listen", "127.0.0.1:9100"},
    {"client.id=", "client.id", ""},
    {"client.id=a=b # not a comment", "client.id", "a=b # not a comment"},
    {"intake.group=chute", "intake.group", "chute"},
    /* topic.NAME.PROPERTY: NAME a topic name or a glob of one. */
    {"topic.logs.linger.ms=100", "topic.logs.linger.ms", "100"},
    {"topic.logs.*.linger.ms = 0", "topic.logs.*.linger.ms", "0"},
    {"topic.*.batch.size: 16384", "topic.*.batch.size", "16384"},
    {"topic.my.topic.batch.num.messages=7", "topic.my.topic.batch.num.messages",
     "7"},
    {"topic.a?c.compression.codec=lz4", "topic.a?c.compression.codec", "lz4"},
    {"topic.x.compression.type=lz4", "topic.x.compression.codec", "lz4"},
    {"topic.[ab]-x_1.linger.ms=3", "topic.[ab]-x_1.linger.ms", "3"},
    {"topic.[!a-c]*.linger.ms=4", "topic.[!a-c]*.linger.ms", "4"},
    {"topic.[^.]*.linger.ms=5", "topic.[^.]*.linger.ms", "5"},
    {"topic.linger.ms.linger.ms=6", "topic.linger.ms.linger.ms", "6"},
};

static void test_good_lines(void **state)
{
    size_t i;
    char text[512];

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        const struct good_case *c = &good_cases[i];
        struct config cfg;

        snprintf(text, sizeof(text), "# comment\n! comment\n\n  \n%s\n",
                 c->line);
        config_init(&cfg);
        if (config_load_file(&cfg, write_tmp(text)) < 0)
            fail_msg("%s: %s", c->line, chute_errmsg());
        assert_string_equal(dumped(&cfg, c->key), c->value);
        config_release(&cfg);

        config_init(&cfg);
        if (config_set_arg(&cfg, c->line) < 0)
            fail_msg("-X %s: %s", c->line, chute_errmsg());
        assert_string_equal(dumped(&cfg, c->key), c->value);
        config_release(&cfg);
    }
}

#define NOT_NAME " is not a valid instance name (1 to 64 of A-Z a-z 0-9 _ . -)"
#define NOT_SIZE " is not a size (bytes, or a number with a k, m or g suffix)"
#define NOT_PATTERN                                                            \
    " is not a topic name or glob (1 to 249 of A-Z a-z 0-9 . _ -, and the "    \
    "globs * ? [...])"
#define PER_TOPIC                                                              \
    "linger.ms, batch.size, batch.num.messages, compression.codec, "           \
    "compression.level"
#define CODECS "none, gzip, snappy, lz4, zstd"
#define NAME250 /* one past Kafka's longest topic name */                     \
    NAME65 NAME65 NAME65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "a"
#define NAME65                                                                 \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Each line stands at line 3 of the file, after a comment and a blank. */
static const struct bad_case {
    const char *line, *msg;
} bad_cases[] = {
    {"linger.ms=abc", "\"linger.ms\": \"abc\" is not an integer"},
    {"foo", "no '=' in \"foo\""},
    {"lingr.ms=5", "unknown property \"lingr.ms\""},
    {"LINGER.MS=5", "unknown property \"LINGER.MS\""},
    {"linger ms=5", "unknown property \"linger ms\""},
    {"=5", "no property name in \"=5\""},
    {" : 5", "no property name in \": 5\""},
    {"linger.ms=5 \\", "\"linger.ms=5 \\\" ends in '\\': continuation lines "
                       "are not supported"},
    {"linger.ms=", "\"linger.ms\": \"\" is not an integer"},
    {"linger.ms=5ms", "\"linger.ms\": \"5ms\" is not an integer"},
    {"linger.ms=5k", "\"linger.ms\": \"5k\" is not an integer"},
    {"linger.ms=0x10", "\"linger.ms\": \"0x10\" is not an integer"},
    {"linger.ms=1.5", "\"linger.ms\": \"1.5\" is not an integer"},
    {"linger.ms=5 6", "\"linger.ms\": \"5 6\" is not an integer"},
    {"linger.ms=-", "\"linger.ms\": \"-\" is not an integer"},
    {"linger.ms=900001",
     "\"linger.ms\": \"900001\" is not between 0 and 900000"},
    {"linger.ms=-1", "\"linger.ms\": \"-1\" is not between 0 and 900000"},
    {"control.connections.max=15",
     "\"control.connections.max\": \"15\" is not between 16 and 1024"},
    {"control.connections.max=1025",
     "\"control.connections.max\": \"1025\" is not between 16 and 1024"},
    {"control.connections.per.user=0",
     "\"control.connections.per.user\": \"0\" is not between 1 and 512"},
    {"control.idle.timeout.ms=99",
     "\"control.idle.timeout.ms\": \"99\" is not between 100 and "
     "86400000"},
    {"control.request.timeout.ms=600001",
     "\"control.request.timeout.ms\": \"600001\" is not between 100 and "
     "600000"},
    {"linger.ms=99999999999999999999",
     "\"linger.ms\": \"99999999999999999999\" is not between 0 and 900000"},
    {"batch.size=0", "\"batch.size\": \"0\" is not between 1 and 2147483647"},
    {"batch.size=2147483648",
     "\"batch.size\": \"2147483648\" is not between 1 and 2147483647"},
    {"message.max.bytes=999",
     "\"message.max.bytes\": \"999\" is not between 1000 and 1000000000"},
    {"workers=0", "\"workers\": \"0\" is not between 1 and 64"},
    {"workers=65", "\"workers\": \"65\" is not between 1 and 64"},
    {"max.in.flight.requests.per.connection=0",
     "\"max.in.flight.requests.per.connection\": \"0\" is not between 1 and "
     "1000000"},
    {"slots=12", "\"slots\": \"12\" is not a power of two"},
    {"worker.heartbeat.timeout.ms=499",
     "\"worker.heartbeat.timeout.ms\": \"499\" is neither 0 nor at least "
     "500"},
    {"reconnect.backoff.ms=-1",
     "\"reconnect.backoff.ms\": \"-1\" is not between 0 and 3600000"},
    {"slots=512", "\"slots\": \"512\" is not between 1 and 256"},
    {"compression.codec=brotli",
     "\"compression.codec\": \"brotli\" is not one of " CODECS},
    {"compression.type=lzma",
     "\"compression.type\": \"lzma\" is not one of " CODECS},
    {"compression.codec=LZ4",
     "\"compression.codec\": \"LZ4\" is not one of " CODECS},
    {"compression.codec=producer",
     "\"compression.codec\": \"producer\" is not one of " CODECS},
    {"compression.level=23",
     "\"compression.level\": \"23\" is not between -1 and 22"},
    {"compression.level=-2",
     "\"compression.level\": \"-2\" is not between -1 and 22"},
    {"compression.level=high",
     "\"compression.level\": \"high\" is not an integer"},
    {"topic.x.compression.level=23",
     "\"topic.x.compression.level\": \"23\" is not between -1 and 22"},
    {"acks=2", "\"acks\": \"2\" is not one of all, -1, 0, 1"},
    {"queue.full.policy=drop",
     "\"queue.full.policy\": \"drop\" is not one of block, fail"},
    {"log.level=trace",
     "\"log.level\": \"trace\" is not one of error, warn, info, debug"},
    {"enable.idempotence=yes",
     "\"enable.idempotence\": \"yes\" is not true or false"},
    {"enable.idempotence=1",
     "\"enable.idempotence\": \"1\" is not true or false"},
    {"ring.size=3m", "\"ring.size\": \"3m\" is not a power of two"},
    {"ring.size=32k", "\"ring.size\": \"32k\" is not between 64k and 1g"},
    {"ring.size=2g", "\"ring.size\": \"2g\" is not between 64k and 1g"},
    {"ring.size=4x", "\"ring.size\": \"4x\"" NOT_SIZE},
    {"ring.size=4kb", "\"ring.size\": \"4kb\"" NOT_SIZE},
    {"ring.size=-4k", "\"ring.size\": \"-4k\"" NOT_SIZE},
    {"ring.size=k", "\"ring.size\": \"k\"" NOT_SIZE},
    {"ring.size=4 m", "\"ring.size\": \"4 m\"" NOT_SIZE},
    {"ring.size=99999999999g",
     "\"ring.size\": \"99999999999g\" is not between 64k and 1g"},
    {"buffer.memory=512k",
     "\"buffer.memory\": \"512k\" is not between 1m and 64g"},
    {"name=a b", "\"name\": \"a b\"" NOT_NAME},
    {"name=a/b", "\"name\": \"a/b\"" NOT_NAME},
    {"name=", "\"name\": \"\"" NOT_NAME},
    {"name=" NAME65, "\"name\": \"" NAME65 "\"" NOT_NAME},
    /* topic.NAME.PROPERTY: the PROPERTY, the NAME, then the value. */
    {"topic.x.acks=1", "unknown per-topic property in \"topic.x.acks\" "
                       "(topic.NAME. takes " PER_TOPIC ")"},
    {"topic.x.linger=1", "unknown per-topic property in \"topic.x.linger\" "
                         "(topic.NAME. takes " PER_TOPIC ")"},
    {"topic.x=1", "unknown per-topic property in \"topic.x\" (topic.NAME. "
                  "takes " PER_TOPIC ")"},
    {"topic.linger.ms=5", "no topic name in \"topic.linger.ms\""},
    {"topic.compression.type=lz4",
     "no topic name in \"topic.compression.type\""},
    {"topic..linger.ms=5", "\"topic..linger.ms\": \"\"" NOT_PATTERN},
    {"topic.a b.linger.ms=5", "\"topic.a b.linger.ms\": \"a b\"" NOT_PATTERN},
    {"topic.a/b.linger.ms=5", "\"topic.a/b.linger.ms\": \"a/b\"" NOT_PATTERN},
    {"topic.a\\*.linger.ms=5",
     "\"topic.a\\*.linger.ms\": \"a\\*\"" NOT_PATTERN},
    {"topic.[ab.linger.ms=5", "\"topic.[ab.linger.ms\": \"[ab\"" NOT_PATTERN},
    {"topic.[].linger.ms=5", "\"topic.[].linger.ms\": \"[]\"" NOT_PATTERN},
    {"topic.[!].linger.ms=5", "\"topic.[!].linger.ms\": \"[!]\"" NOT_PATTERN},
    {"topic.a]b.linger.ms=5", "\"topic.a]b.linger.ms\": \"a]b\"" NOT_PATTERN},
    {"topic." NAME250 ".linger.ms=5",
     "\"topic." NAME250 ".linger.ms\": a pattern of 250 characters is longer "
     "than a topic name may be (249)"},
    {"topic.x.linger.ms=abc", "\"topic.x.linger.ms\": \"abc\" is not an "
                              "integer"},
    {"topic.x.linger.ms=900001",
     "\"topic.x.linger.ms\": \"900001\" is not between 0 and 900000"},
    {"topic.x.batch.size=0",
     "\"topic.x.batch.size\": \"0\" is not between 1 and 2147483647"},
    {"topic.x.batch.num.messages=1000001",
     "\"topic.x.batch.num.messages\": \"1000001\" is not between 1 and "
     "1000000"},
    {"topic.x.compression.codec=brotli",
     "\"topic.x.compression.codec\": \"brotli\" is not one of " CODECS},
    {"topic.x.compression.type=LZ4",
     "\"topic.x.compression.type\": \"LZ4\" is not one of " CODECS},
};

static void test_bad_lines(void **state)
{
    char text[1024], want[1024];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct config cfg;

        snprintf(text, sizeof(text), "# comment\n\n%s\nlinger.ms=7\n", c->line);
        snprintf(want, sizeof(want), "%s:3: %s", tmp_path, c->msg);
        config_init(&cfg);
        assert_int_equal(config_load_file(&cfg, write_tmp(text)),
                         CHUTE_ERR_INVALID);
        assert_string_equal(chute_errmsg(), want);
        /* Loading stops at the bad line. */
        assert_int_equal(cfg.linger_ms, 5);
        /* -X gives the same message without the place. */
        assert_int_equal(config_set_arg(&cfg, c->line), CHUTE_ERR_INVALID);
        assert_string_equal(chute_errmsg(), c->msg);
        config_release(&cfg);
    }
}

static void test_file_names_its_line(void **state)
{
    char want[256];
    struct config cfg;

    (void)state;
    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, write_tmp("linger.ms=1\n"
                                                      "acks=1\n"
                                                      "enable.idempotence="
                                                      "false\n"
                                                      "\n"
                                                      "# x\n"
                                                      "slots=8\n"
                                                      "linger.ms=abc\n")),
                     CHUTE_ERR_INVALID);
    snprintf(want, sizeof(want),
             "%s:7: \"linger.ms\": \"abc\" is not an integer", tmp_path);
    assert_string_equal(chute_errmsg(), want);
    assert_int_equal(cfg.linger_ms, 1);
    assert_int_equal(cfg.acks, 1);
    assert_int_equal(cfg.slots, 8);
    config_release(&cfg);

    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, "/nonexistent/chute.conf"),
                     CHUTE_ERR_SYSTEM);
    assert_string_equal(chute_errmsg(), "cannot open \"/nonexistent/"
                                        "chute.conf\": No such file or "
                                        "directory");
    config_release(&cfg);
}

static void test_overrides_win(void **state)
{
    struct config cfg;

    (void)state;
    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, write_tmp("linger.ms=10\n"
                                                      "name=fromfile\n"
                                                      "linger.ms=11\n")),
                     0);
    assert_int_equal(cfg.linger_ms, 11); /* the last line wins */
    assert_int_equal(config_set_arg(&cfg, "linger.ms=20"), 0);
    assert_int_equal(config_set_arg(&cfg, "name: fromargs"), 0);
    assert_int_equal(cfg.linger_ms, 20);
    assert_string_equal(cfg.name, "fromargs");
    assert_int_equal(config_set(&cfg, "compression.type", "lz4"), 0);
    assert_int_equal(cfg.compression, CONFIG_COMPRESSION_LZ4);

    /* A failed set changes nothing. */
    assert_int_equal(config_set_arg(&cfg, "linger.ms=x"), CHUTE_ERR_INVALID);
    assert_int_equal(config_set(&cfg, "name", "a b"), CHUTE_ERR_INVALID);
    assert_int_equal(cfg.linger_ms, 20);
    assert_string_equal(cfg.name, "fromargs");
    assert_int_equal(config_set_arg(&cfg, "nope"), CHUTE_ERR_INVALID);
    assert_string_equal(chute_errmsg(), "no '=' in \"nope\"");
    config_release(&cfg);
}

/* Which value a topic gets: the lines, in order, then the topic. */
static const struct topic_case {
    const char *what;
    const char *lines[4];
    const char *topic;
    enum topic_setting id;
    int64_t want;
} topic_cases[] = {
    {"no setting: the global value", {"linger.ms=7"}, "t",
     TOPIC_SET_LINGER_MS, 7},
    {"the default", {NULL}, "t", TOPIC_SET_BATCH_NUM_MESSAGES, 10000},
    {"an exact name", {"topic.t.linger.ms=1"}, "t", TOPIC_SET_LINGER_MS, 1},
    {"an exact name is only that name", {"topic.t.linger.ms=1"}, "tt",
     TOPIC_SET_LINGER_MS, 5},
    {"exact beats a glob set later",
     {"topic.logs.app.linger.ms=1", "topic.logs.*.linger.ms=2"}, "logs.app",
     TOPIC_SET_LINGER_MS, 1},
    {"exact beats a glob set earlier",
     {"topic.logs.*.linger.ms=2", "topic.logs.app.linger.ms=1"}, "logs.app",
     TOPIC_SET_LINGER_MS, 1},
    {"exact beats a glob with more characters",
     {"topic.logs.app.linger.ms=1", "topic.logs.app*.linger.ms=2"},
     "logs.app", TOPIC_SET_LINGER_MS, 1},
    {"the glob for other names",
     {"topic.logs.*.linger.ms=2", "topic.logs.app.linger.ms=1"}, "logs.web",
     TOPIC_SET_LINGER_MS, 2},
    {"more literal characters win, set earlier",
     {"topic.logs.a*.linger.ms=3", "topic.logs.*.linger.ms=2"}, "logs.app",
     TOPIC_SET_LINGER_MS, 3},
    {"more literal characters win, set later",
     {"topic.logs.*.linger.ms=2", "topic.logs.a*.linger.ms=3"}, "logs.app",
     TOPIC_SET_LINGER_MS, 3},
    {"* and ? are no literal characters",
     {"topic.logs.a*.linger.ms=3", "topic.logs.???.linger.ms=2"}, "logs.app",
     TOPIC_SET_LINGER_MS, 3},
    {"as literal: the later wins",
     {"topic.log?.app.linger.ms=4", "topic.logs.a?p.linger.ms=5"},
     "logs.app", TOPIC_SET_LINGER_MS, 5},
    {"as literal: the later wins, other order",
     {"topic.logs.a?p.linger.ms=5", "topic.log?.app.linger.ms=4"},
     "logs.app", TOPIC_SET_LINGER_MS, 4},
    {"set again counts as set last",
     {"topic.log?.app.linger.ms=4", "topic.logs.a?p.linger.ms=5",
      "topic.log?.app.linger.ms=6"},
     "logs.app", TOPIC_SET_LINGER_MS, 6},
    {"a [...] set is no literal character",
     {"topic.logs.[a]pp.linger.ms=6", "topic.logs.app*.linger.ms=7"},
     "logs.app", TOPIC_SET_LINGER_MS, 7},
    {"* matches dots", {"topic.*.linger.ms=9"}, "a.b.c", TOPIC_SET_LINGER_MS,
     9},
    {"* matches nothing too", {"topic.logs*.linger.ms=9"}, "logs",
     TOPIC_SET_LINGER_MS, 9},
    {"? is one character", {"topic.a?c.linger.ms=3"}, "abc",
     TOPIC_SET_LINGER_MS, 3},
    {"? is not two", {"topic.a?c.linger.ms=3"}, "abbc", TOPIC_SET_LINGER_MS,
     5},
    {"[!...] is one not in the set", {"topic.[!l]*.linger.ms=8"}, "events",
     TOPIC_SET_LINGER_MS, 8},
    {"[!...] refuses one in the set", {"topic.[!l]*.linger.ms=8"}, "logs",
     TOPIC_SET_LINGER_MS, 5},
    {"a range", {"topic.v[0-9].linger.ms=2"}, "v7", TOPIC_SET_LINGER_MS, 2},
    {"a glob that does not match", {"topic.logs.*.linger.ms=2"}, "logsx",
     TOPIC_SET_LINGER_MS, 5},
    {"each property on its own",
     {"topic.logs.*.linger.ms=2", "topic.logs.app.batch.size=999"},
     "logs.app", TOPIC_SET_LINGER_MS, 2},
    {"each property on its own, the other",
     {"topic.logs.*.linger.ms=2", "topic.logs.app.batch.size=999"},
     "logs.app", TOPIC_SET_BATCH_SIZE, 999},
    {"batch.num.messages", {"topic.t.batch.num.messages=3"}, "t",
     TOPIC_SET_BATCH_NUM_MESSAGES, 3},
    {"the codec, in the workers' unit", {"topic.t.compression.type=lz4"},
     "t", TOPIC_SET_CODEC, BATCH_CODEC_LZ4},
    {"a topic back to no compression",
     {"compression.codec=lz4", "topic.t.compression.codec=none"}, "t",
     TOPIC_SET_CODEC, BATCH_CODEC_NONE},
    {"the global codec", {"compression.codec=lz4"}, "t", TOPIC_SET_CODEC,
     BATCH_CODEC_LZ4},
    {"gzip", {"topic.t.compression.codec=gzip"}, "t", TOPIC_SET_CODEC,
     BATCH_CODEC_GZIP},
    {"snappy", {"topic.t.compression.codec=snappy"}, "t", TOPIC_SET_CODEC,
     BATCH_CODEC_SNAPPY},
    {"zstd", {"topic.t.compression.type=zstd"}, "t", TOPIC_SET_CODEC,
     BATCH_CODEC_ZSTD},
    {"the default level", {"compression.codec=zstd"}, "t", TOPIC_SET_LEVEL,
     -1},
    {"the global level", {"compression.codec=zstd", "compression.level=5"},
     "t", TOPIC_SET_LEVEL, 5},
    {"a topic's level",
     {"compression.codec=zstd", "topic.t.compression.level=19"}, "t",
     TOPIC_SET_LEVEL, 19},
    {"a topic's level with its codec",
     {"topic.t.compression.codec=gzip", "topic.t.compression.level=9"}, "t",
     TOPIC_SET_LEVEL, 9},
    {"unrelated globs apart", {"topic.a*.compression.level=9",
                               "topic.*b.compression.codec=snappy",
                               "compression.codec=gzip"},
     "ax", TOPIC_SET_LEVEL, 9},
};

static void test_topic_values(void **state)
{
    int64_t values[TOPIC_SET_MAX];
    struct config cfg;
    bool seen[TOPIC_SET_COUNT] = {false};

    (void)state;
    for (size_t i = 0; i < sizeof(topic_cases) / sizeof(topic_cases[0]); i++) {
        const struct topic_case *c = &topic_cases[i];

        config_init(&cfg);
        for (size_t j = 0; j < 4 && c->lines[j]; j++)
            if (config_set_arg(&cfg, c->lines[j]) < 0)
                fail_msg("%s: %s: %s", c->what, c->lines[j], chute_errmsg());
        if (config_topic_values(&cfg, c->topic, values) < 0)
            fail_msg("%s: %s", c->what, chute_errmsg());
        if (values[c->id] != c->want)
            fail_msg("%s: topic \"%s\" gets %lld for value %d, want %lld",
                     c->what, c->topic, (long long)values[c->id], c->id,
                     (long long)c->want);
        assert_int_equal(values[TOPIC_SET_NONE], 0);
        seen[c->id] = true;
        config_release(&cfg);
    }
    for (int id = TOPIC_SET_NONE + 1; id < TOPIC_SET_COUNT; id++)
        if (!seen[id])
            fail_msg("topic value %d has no row in topic_cases[]", id);
}

/* A level its codec does not take, from two unrelated globs (config_
 * validate cannot see that they meet): the message names both settings,
 * the codec stays and the level is the codec's default. */
static void test_topic_level_message(void **state)
{
    int64_t values[TOPIC_SET_MAX];
    struct config cfg;

    (void)state;
    config_init(&cfg);
    assert_int_equal(config_set_arg(&cfg, "compression.codec=gzip"), 0);
    assert_int_equal(config_set_arg(&cfg, "topic.a*.compression.level=9"), 0);
    assert_int_equal(
        config_set_arg(&cfg, "topic.*b.compression.codec=snappy"), 0);
    assert_int_equal(config_validate(&cfg), CHUTE_ERR_INVALID); /* no servers */
    assert_int_equal(config_set_arg(&cfg, "bootstrap.servers=k:1"), 0);
    assert_int_equal(config_validate(&cfg), 0); /* no NAME meets both */
    assert_int_equal(config_topic_values(&cfg, "ab", values),
                     CHUTE_ERR_INVALID);
    assert_string_equal(chute_errmsg(),
                        "topic \"ab\": \"topic.a*.compression.level\" (9) "
                        "does not suit \"topic.*b.compression.codec\" "
                        "(snappy): 'snappy' has no compression level (use -1 "
                        "or 0, not 9)");
    assert_int_equal(values[TOPIC_SET_CODEC], BATCH_CODEC_SNAPPY);
    assert_int_equal(values[TOPIC_SET_LEVEL], -1);
    assert_int_equal(values[TOPIC_SET_LINGER_MS], 5);
    config_release(&cfg);
}

/* The pool's chunks hold the largest batch of any topic. */
static void test_batch_limits(void **state)
{
    struct config cfg;
    uint32_t size, records;

    (void)state;
    config_init(&cfg);
    config_batch_limits(&cfg, &size, &records);
    assert_int_equal(size, 1000000);
    assert_int_equal(records, 10000);
    assert_int_equal(config_set_arg(&cfg, "topic.a.batch.size=2000000"), 0);
    assert_int_equal(config_set_arg(&cfg, "topic.b.batch.size=16384"), 0);
    assert_int_equal(config_set_arg(&cfg, "topic.*.batch.num.messages=20000"),
                     0);
    config_batch_limits(&cfg, &size, &records);
    assert_int_equal(size, 2000000);
    assert_int_equal(records, 20000);
    config_release(&cfg);
}

static const struct validate_case {
    const char *args[3];
    const char *msg;
} validate_cases[] = {
    {{"workers=32", "slots=8", "users.max=2"},
     "\"workers\" (32) is larger than \"slots\" times \"users.max\" (16)"},
    {{"workers=32", "slots=16", "users.max=2"}, NULL},
    {{"slots=128", "users.max=4"},
     "\"slots\" (128) times \"users.max\" (4) is more than 256"},
    {{"ring.size=1m", "message.max.bytes=524225"},
     "\"ring.size\" (1048576) must be at least twice \"message.max.bytes\" "
     "(524225) plus 128"},
    {{"buffer.memory=1m", "batch.size=2000000"},
     "\"buffer.memory\" (1048576) is smaller than \"batch.size\" (2000000)"},
    {{"retry.backoff.ms=2000"},
     "\"retry.backoff.ms\" (2000) is larger than \"retry.backoff.max.ms\" "
     "(1000)"},
    {{"reconnect.backoff.ms=10001"},
     "\"reconnect.backoff.ms\" (10001) is larger than "
     "\"reconnect.backoff.max.ms\" (10000)"},
    {{"linger.ms=1000", "message.timeout.ms=1000"},
     "\"message.timeout.ms\" (1000) must be larger than \"linger.ms\" (1000)"},
    {{"acks=1"}, "\"enable.idempotence\"=true needs \"acks\"=all"},
    {{"max.in.flight.requests.per.connection=6"},
     "\"enable.idempotence\"=true needs "
     "\"max.in.flight.requests.per.connection\" <= 5"},
    {{"retries=0"}, "\"enable.idempotence\"=true needs \"retries\" > 0"},
    {{"compression.codec=snappy", "compression.level=1"},
     "\"compression.level\" (1) does not suit \"compression.codec\" "
     "(snappy): 'snappy' has no compression level (use -1 or 0, not 1)"},
    {{"compression.level=3"},
     "\"compression.level\" (3) does not suit \"compression.codec\" "
     "(none): 'none' has no compression level (use -1 or 0, not 3)"},
    {{"compression.codec=gzip", "compression.level=10"},
     "\"compression.level\" (10) does not suit \"compression.codec\" "
     "(gzip): compression level 10 is not valid for 'gzip' (use -1 or 0..9)"},
    {{"compression.codec=lz4", "compression.level=13"},
     "\"compression.level\" (13) does not suit \"compression.codec\" "
     "(lz4): compression level 13 is not valid for 'lz4' (use -1 or 0..12)"},
    {{"compression.codec=zstd", "compression.level=15",
      "topic.legacy.compression.codec=gzip"},
     "topic \"legacy\": \"compression.level\" (15) does not suit "
     "\"topic.legacy.compression.codec\" (gzip): compression level 15 is "
     "not valid for 'gzip' (use -1 or 0..9)"},
    {{"compression.codec=gzip", "topic.logs.*.compression.level=12"},
     "topic \"logs.*\": \"topic.logs.*.compression.level\" (12) does not "
     "suit \"compression.codec\" (gzip): compression level 12 is not valid "
     "for 'gzip' (use -1 or 0..9)"},
    {{"compression.codec=gzip", "topic.logs.*.compression.level=9",
      "topic.logs.app.compression.codec=snappy"},
     "topic \"logs.app\": \"topic.logs.*.compression.level\" (9) does not "
     "suit \"topic.logs.app.compression.codec\" (snappy): 'snappy' has no "
     "compression level (use -1 or 0, not 9)"},
    {{"control.connections.max=16", "control.connections.per.user=5"},
     "\"control.connections.per.user\" (5) is more than half of "
     "\"control.connections.max\" (16) minus the 8 kept for admins"},
    {{"control.connections.per.user=125"},
     "\"control.connections.per.user\" (125) is more than half of "
     "\"control.connections.max\" (256) minus the 8 kept for admins"},
    {{"message.timeout.ms=1000", "topic.logs.*.linger.ms=1000"},
     "\"message.timeout.ms\" (1000) must be larger than "
     "\"topic.logs.*.linger.ms\" (1000)"},
    {{"buffer.memory=1m", "topic.big.batch.size=2000000"},
     "\"buffer.memory\" (1048576) is smaller than \"topic.big.batch.size\" "
     "(2000000)"},
    /* The same settings are fine where the rule does not apply. */
    {{"workers=16", "slots=16"}, NULL},
    {{"ring.size=1m", "message.max.bytes=524224"}, NULL},
    {{"buffer.memory=1m", "batch.size=1048576"}, NULL},
    {{"retry.backoff.ms=1000"}, NULL},
    {{"reconnect.backoff.ms=0", "reconnect.backoff.max.ms=0"}, NULL},
    {{"reconnect.backoff.ms=10000"}, NULL},
    {{"linger.ms=1000", "message.timeout.ms=0"}, NULL},
    {{"compression.codec=zstd", "compression.level=22"}, NULL},
    {{"compression.codec=lz4", "compression.level=12"}, NULL},
    {{"compression.codec=snappy", "compression.level=0"}, NULL},
    {{"compression.codec=gzip", "compression.level=-1"}, NULL},
    {{"compression.codec=gzip", "compression.level=9",
      "topic.logs.*.compression.codec=zstd"},
     NULL},
    {{"topic.logs.*.compression.level=9",
      "topic.logs.*.compression.codec=gzip"},
     NULL},
    {{"compression.codec=gzip", "topic.a*.compression.level=9",
      "topic.*b.compression.codec=snappy"},
     NULL},
    {{"topic.logs.*.compression.level=9"},
     "topic \"logs.*\": \"topic.logs.*.compression.level\" (9) does not "
     "suit \"compression.codec\" (none): 'none' has no compression level "
     "(use -1 or 0, not 9)"},
    {{"message.timeout.ms=1001", "topic.logs.*.linger.ms=1000"}, NULL},
    {{"message.timeout.ms=0", "topic.logs.*.linger.ms=900000"}, NULL},
    {{"buffer.memory=1m", "topic.big.batch.size=1048576"}, NULL},
    {{"acks=1", "enable.idempotence=false"}, NULL},
    {{"control.connections.max=16", "control.connections.per.user=4"}, NULL},
    {{"control.connections.per.user=124"}, NULL},
    {{"acks=0", "max.in.flight.requests.per.connection=100",
      "enable.idempotence=false"},
     NULL},
};

static void test_validate(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(validate_cases) / sizeof(validate_cases[0]); i++) {
        const struct validate_case *c = &validate_cases[i];
        struct config cfg;

        config_init(&cfg);
        assert_int_equal(config_set_arg(&cfg, "bootstrap.servers=k:9092"), 0);
        for (j = 0; j < 3 && c->args[j]; j++)
            assert_int_equal(config_set_arg(&cfg, c->args[j]), 0);
        if (c->msg) {
            assert_int_equal(config_validate(&cfg), CHUTE_ERR_INVALID);
            assert_string_equal(chute_errmsg(), c->msg);
        } else if (config_validate(&cfg) < 0) {
            fail_msg("%s: %s", c->args[0], chute_errmsg());
        }
        config_release(&cfg);
    }
}

static void test_dump_round_trip(void **state)
{
    static const char *const args[] = {"bootstrap.servers=a:1,b:2",
                                       "compression.type=lz4",
                                       "acks=0",
                                       "enable.idempotence=false",
                                       "ring.size=128k",
                                       "name=n.1",
                                       "log.level=warn",
                                       "buffer.memory=3000000",
                                       "topic.logs.*.linger.ms=100",
                                       "topic.a.compression.type=lz4",
                                       "topic.logs.*.linger.ms=50"};
    struct config a, b;
    const char *tail;
    char *ta, *tb;
    size_t i;

    (void)state;
    config_init(&a);
    for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
        assert_int_equal(config_set_arg(&a, args[i]), 0);
    ta = dump_text(&a);
    config_init(&b);
    assert_int_equal(config_load_file(&b, write_tmp(ta)), 0);
    tb = dump_text(&b);
    assert_string_equal(ta, tb);
    assert_non_null(strstr(ta, "\nacks=0\n"));
    assert_non_null(strstr(ta, "\ncompression.codec=lz4\n"));
    assert_non_null(strstr(ta, "\nring.size=128k\n"));
    assert_null(strstr(ta, "compression.type"));
    /* Per topic after the rest, in the order set, a setting set again
     * once, with its value. */
    tail = "\ntopic.a.compression.codec=lz4\ntopic.logs.*.linger.ms=50\n";
    assert_true(strlen(ta) > strlen(tail));
    assert_string_equal(ta + strlen(ta) - strlen(tail), tail);
    assert_int_equal(b.topic_count, 2);
    free(ta);
    free(tb);
    config_release(&a);
    config_release(&b);
}

static void test_restart_needed(void **state)
{
    struct config a, b;

    (void)state;
    config_init(&a);
    config_init(&b);
    assert_null(config_restart_needed(&a, &b));
    assert_int_equal(config_set_arg(&b, "linger.ms=100"), 0);
    assert_int_equal(config_set_arg(&b, "workers=4"), 0);
    assert_int_equal(config_set_arg(&b, "log.level=debug"), 0);
    assert_int_equal(config_set_arg(&b, "topic.x.compression.codec=lz4"), 0);
    assert_null(config_restart_needed(&a, &b));
    assert_int_equal(config_set_arg(&b, "slots=32"), 0);
    assert_string_equal(config_restart_needed(&a, &b), "slots");
    config_release(&a);
    config_release(&b);
}

/* Every row marked reloaded by the workers names a value of the live
 * block, and every value of the live block is one row's. */
static void test_schema_live_block(void **state)
{
    (void)state;
    if (config_check_schema() < 0)
        fail_msg("supervisor/config.c: %s", chute_errmsg());
}

/* What each property puts in the live block, in the workers' unit. */
static const struct live_case {
    const char *line;
    enum live_setting id;
    int64_t value;
} live_cases[] = {
    {"message.timeout.ms=0", LIVE_MESSAGE_TIMEOUT_MS, INT32_MAX},
    {"message.timeout.ms=4000", LIVE_MESSAGE_TIMEOUT_MS, 4000},
    {"request.timeout.ms=1234", LIVE_REQUEST_TIMEOUT_MS, 1234},
    {"retry.backoff.ms=11", LIVE_RETRY_BACKOFF_MS, 11},
    {"retry.backoff.max.ms=2222", LIVE_RETRY_BACKOFF_MAX_MS, 2222},
    {"retries=3", LIVE_RETRIES, 3},
    {"metadata.max.age.ms=5000", LIVE_METADATA_MAX_AGE_MS, 5000},
    {"log.level=debug", LIVE_LOG_LEVEL, LOG_DEBUG},
    {"socket.timeout.ms=777", LIVE_SOCKET_TIMEOUT_MS, 777},
    {"reconnect.backoff.ms=33", LIVE_RECONNECT_BACKOFF_MS, 33},
    {"reconnect.backoff.max.ms=4444", LIVE_RECONNECT_BACKOFF_MAX_MS, 4444},
    {"ring.claim.timeout.ms=5555", LIVE_CLAIM_TIMEOUT_MS, 5555},
};

static void test_live_values(void **state)
{
    int64_t values[LIVE_MAX];
    struct config cfg;
    bool seen[LIVE_COUNT] = {false};

    (void)state;
    for (size_t i = 0; i < sizeof(live_cases) / sizeof(live_cases[0]); i++) {
        const struct live_case *c = &live_cases[i];

        config_init(&cfg);
        assert_int_equal(config_set_arg(&cfg, c->line), 0);
        config_live_values(&cfg, values);
        if (values[c->id] != c->value)
            fail_msg("%s: live value %d is %lld, want %lld", c->line, c->id,
                     (long long)values[c->id], (long long)c->value);
        seen[c->id] = true;
        config_release(&cfg);
    }
    assert_int_equal(values[LIVE_NONE], 0);
    for (int id = LIVE_NONE + 1; id < LIVE_COUNT; id++)
        if (!seen[id])
            fail_msg("live value %d has no row in live_cases[]", id);
}

/* A reload takes what may change while running and nothing else. */
static void test_take_runtime(void **state)
{
    struct config run, file;

    (void)state;
    config_init(&run);
    config_init(&file);
    assert_int_equal(config_set_arg(&file, "linger.ms=100"), 0);
    assert_int_equal(config_set_arg(&file, "socket.timeout.ms=500"), 0);
    assert_int_equal(config_set_arg(&file, "queue.full.policy=fail"), 0);
    assert_int_equal(config_set_arg(&file, "workers=4"), 0);
    assert_int_equal(config_set_arg(&file, "slots=32"), 0);
    assert_int_equal(config_set_arg(&file, "client.id=other"), 0);
    assert_int_equal(config_set_arg(&run, "topic.old.linger.ms=1"), 0);
    assert_int_equal(config_set_arg(&file, "topic.new.linger.ms=2"), 0);
    assert_int_equal(config_set_arg(&file, "topic.n*.batch.size=3"), 0);
    assert_int_equal(config_take_runtime(&run, &file), 0);
    /* The file's topic settings replace the running ones. */
    assert_int_equal(run.topic_count, 2);
    assert_string_equal(run.topics[0].pattern, "new");
    assert_int_equal(run.topics[0].setting, TOPIC_SET_LINGER_MS);
    assert_int_equal(run.topics[0].value, 2);
    assert_string_equal(run.topics[1].pattern, "n*");
    assert_int_equal(run.topics[1].value, 3);
    assert_int_equal(run.linger_ms, 100);
    assert_int_equal(run.socket_timeout_ms, 500);
    assert_int_equal(run.queue_full_policy, CONFIG_QUEUE_FULL_FAIL);
    assert_int_equal(run.workers, 4);
    assert_int_equal(run.slots, 16);
    assert_string_equal(run.client_id, "chute");
    assert_string_equal(config_restart_needed(&run, &file), "client.id");
    config_release(&run);
    config_release(&file);
}

static char *generated(int (*write)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    assert_int_equal(write(f), 0);
    fclose(f);
    return text;
}

static char *read_all(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    FILE *in = fopen(path, "r");
    int c;

    assert_non_null(out);
    if (!in)
        fail_msg("cannot open \"%s\" (run the tests from the top of the "
                 "tree)",
                 path);
    while ((c = getc(in)) != EOF)
        putc(c, out);
    fclose(in);
    fclose(out);
    return text;
}

/* A generated file must equal what the schema generates now. */
static void check_generated(const char *path, int (*write)(FILE *))
{
    char *want = generated(write);
    char *have;

    if (getenv("CHUTE_WRITE_DOCS")) {
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(want, f);
        assert_int_equal(fclose(f), 0);
    }
    have = read_all(path);
    if (strcmp(have, want) != 0)
        fail_msg("\"%s\" differs from the schema in supervisor/config.c; "
                 "regenerate it with CHUTE_WRITE_DOCS=1 %s",
                 path, "build/tests/test_config");
    free(have);
    free(want);
}

static void test_docs_match_schema(void **state)
{
    (void)state;
    check_generated("docs/configuration.md", config_write_doc);
    check_generated("chute.conf.sample", config_write_sample);
}

/* The sample, with every property line uncommented, loads as the defaults. */
static void test_sample_loads(void **state)
{
    struct config cfg, defaults;
    char *text = read_all("chute.conf.sample"), *p;
    char *want, *have;
    size_t uncommented = 0, props = 0;

    (void)state;
    for (p = strstr(text, "\n#"); p; p = strstr(p + 1, "\n#")) {
        if (p[2] >= 'a' && p[2] <= 'z' &&
            strchr(p + 2, '=') < strchr(p + 2, '\n')) {
            p[1] = ' ';
            uncommented++;
        }
    }
    config_init(&cfg);
    assert_int_equal(config_load_file(&cfg, write_tmp(text)), 0);
    config_init(&defaults);
    want = dump_text(&defaults);
    have = dump_text(&cfg);
    assert_string_equal(have, want);
    for (p = want; *p; p++)
        props += *p == '\n';
    assert_int_equal(uncommented, props);
    free(have);
    free(want);
    free(text);
    config_release(&cfg);
    config_release(&defaults);
}

static int setup(void **state)
{
    int fd = mkstemp(tmp_path);

    (void)state;
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(tmp_path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_file_names_its_line),
        cmocka_unit_test(test_overrides_win),
        cmocka_unit_test(test_topic_values),
        cmocka_unit_test(test_topic_level_message),
        cmocka_unit_test(test_batch_limits),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_restart_needed),
        cmocka_unit_test(test_schema_live_block),
        cmocka_unit_test(test_live_values),
        cmocka_unit_test(test_take_runtime),
        cmocka_unit_test(test_docs_match_schema),
        cmocka_unit_test(test_sample_loads),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
