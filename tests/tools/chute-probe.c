/*
 * chute-probe: a small libchute client for the bad-input integration tests.
 * Each subcommand drives one edge case, prints one line per check and exits
 * 0 only if every check came out as expected (1 otherwise, 2 on bad usage).
 *
 *   chute-probe open NAME EXPECT
 *       chute_open(NAME) must return EXPECT (an error name such as
 *       CHUTE_ERR_NO_SERVICE, or CHUTE_OK).
 *   chute-probe topic NAME TOPIC EXPECT
 *       chute_topic(TOPIC) must return EXPECT (CHUTE_OK for any id >= 0);
 *       prints the id and partition count, or the error and its message,
 *       and how long the call took.
 *   chute-probe oversize NAME TOPIC BYTES VALUE
 *       a record with a BYTES-long value must fail with CHUTE_ERR_TOO_LARGE;
 *       then a record whose value is VALUE must be accepted and a flush
 *       must report 0 failed.
 *   chute-probe fill NAME TOPIC POLICY MAX_BLOCK_MS PREFIX
 *       sets queue.full.policy and max.block.ms, then sends records with
 *       values "PREFIX-000000", "PREFIX-000001", ... to partition 0 until
 *       the first CHUTE_ERR_QUEUE_FULL (at most FILL_MAX records), prints
 *       "accepted=N failing_call_ms=T" and exits without flushing: the
 *       records are chute's once accepted, flushed or not.
 */
#include "chute/chute.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBE_FLUSH_MS 20000
#define FILL_MAX       1000000

static int64_t probe_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *probe_name(int rc)
{
    return rc >= 0 ? "CHUTE_OK" : chute_err_name(rc);
}

/* Prints one check line, "ok: WHAT: CHUTE_OK (RC)" or "FAIL: WHAT:
 * ERROR_NAME: MESSAGE"; returns 0 if it passed, 1 if not. */
static int probe_check(int ok, const char *what, int rc)
{
    printf("%s: %s: ", ok ? "ok" : "FAIL", what);
    if (rc >= 0)
        printf("CHUTE_OK (%d)\n", rc);
    else
        printf("%s: %s\n", chute_err_name(rc), chute_errmsg());
    return ok ? 0 : 1;
}

static chute_t *probe_open(const char *name)
{
    chute_t *c;
    int rc = chute_open(name, &c);

    if (rc < 0) {
        probe_check(0, "open", rc);
        exit(1);
    }
    return c;
}

static int probe_topic_id(chute_t *c, const char *topic)
{
    int id = chute_topic(c, topic);

    if (id < 0) {
        probe_check(0, "topic", id);
        exit(1);
    }
    return id;
}

static int cmd_open(char **argv)
{
    chute_t *c = NULL;
    int rc = chute_open(argv[0], &c);
    int bad = probe_check(strcmp(probe_name(rc), argv[1]) == 0, "open", rc);

    chute_close(c);
    return bad;
}

static int cmd_topic(char **argv)
{
    chute_t *c = probe_open(argv[0]);
    int64_t t0 = probe_now_us();
    int id = chute_topic(c, argv[1]);
    int64_t ms = (probe_now_us() - t0) / 1000;
    int bad = probe_check(strcmp(probe_name(id), argv[2]) == 0, "topic", id);

    if (id >= 0)
        printf("topic %s: id=%d partitions=%d\n", argv[1], id,
               chute_topic_partitions(c, id));
    printf("topic %s: call_ms=%lld\n", argv[1], (long long)ms);
    chute_close(c);
    return bad;
}

static int cmd_oversize(char **argv)
{
    chute_t *c = probe_open(argv[0]);
    int topic = probe_topic_id(c, argv[1]);
    long bytes = atol(argv[2]);
    chute_record_t rec = {.topic = topic,
                          .partition = CHUTE_PARTITION_UA,
                          .timestamp_ms = CHUTE_TIMESTAMP_NOW};
    char *big;
    int rc, bad = 0;

    if (bytes <= 0)
        return 2;
    big = malloc((size_t)bytes);
    if (!big)
        return 1;
    memset(big, 'x', (size_t)bytes);
    rec.value = big;
    rec.value_len = (size_t)bytes;
    rc = chute_send(c, &rec);
    bad |= probe_check(rc == CHUTE_ERR_TOO_LARGE, "send oversized", rc);
    free(big);

    rec.value = argv[3];
    rec.value_len = strlen(argv[3]);
    rc = chute_send(c, &rec);
    bad |= probe_check(rc >= 0, "send normal after oversized", rc);
    rc = chute_flush(c, PROBE_FLUSH_MS);
    bad |= probe_check(rc == 0, "flush reports 0 failed", rc);
    chute_close(c);
    return bad;
}

static int cmd_fill(char **argv)
{
    chute_t *c = probe_open(argv[0]);
    int topic = probe_topic_id(c, argv[1]);
    chute_record_t rec = {
        .topic = topic, .partition = 0, .timestamp_ms = CHUTE_TIMESTAMP_NOW};
    char value[128];
    int64_t t0 = 0;
    long accepted;
    int rc = 0, bad = 0;

    if (chute_set(c, "queue.full.policy", argv[2]) < 0 ||
        chute_set(c, "max.block.ms", argv[3]) < 0) {
        printf("FAIL: chute_set: %s\n", chute_errmsg());
        chute_close(c);
        return 2;
    }
    for (accepted = 0; accepted < FILL_MAX; accepted++) {
        snprintf(value, sizeof(value), "%s-%06ld", argv[4], accepted);
        rec.value = value;
        rec.value_len = strlen(value);
        t0 = probe_now_us();
        rc = chute_send(c, &rec);
        if (rc < 0)
            break;
    }
    bad |= probe_check(rc == CHUTE_ERR_QUEUE_FULL, "fill until full", rc);
    printf("fill: accepted=%ld failing_call_ms=%lld\n", accepted,
           (long long)((probe_now_us() - t0) / 1000));
    chute_close(c);
    return bad;
}

static const struct {
    const char *name;
    int argc;
    int (*fn)(char **argv);
} probe_cmds[] = {
    {"open", 2, cmd_open},
    {"topic", 3, cmd_topic},
    {"oversize", 4, cmd_oversize},
    {"fill", 5, cmd_fill},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0;
         argc >= 2 && i < sizeof(probe_cmds) / sizeof(probe_cmds[0]); i++)
        if (strcmp(argv[1], probe_cmds[i].name) == 0 &&
            argc - 2 == probe_cmds[i].argc)
            return probe_cmds[i].fn(argv + 2);
    fprintf(stderr,
            "usage: chute-probe open NAME EXPECT\n"
            "       chute-probe topic NAME TOPIC EXPECT\n"
            "       chute-probe oversize NAME TOPIC BYTES VALUE\n"
            "       chute-probe fill NAME TOPIC POLICY MAX_BLOCK_MS PREFIX\n");
    return 2;
}
