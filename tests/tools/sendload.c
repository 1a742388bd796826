/*
 * sendload: one test client process.  Sends COUNT keyed records with
 * headers through libchute, each derived from (client, sequence) so that
 * tests/integration/check_topic.py can regenerate and check every one of
 * them, then flushes and reports.
 *
 *   sendload -n NAME -t TOPIC -c CLIENT -N COUNT [-k KEYS] [-s MAXPAD]
 *
 * Record i of client C: key "cCkK" with K = i % KEYS; value
 * "cC|kK|sI|" followed by (i * 7919) % (MAXPAD + 1) bytes of 'x';
 * headers client=C, seq=I and a header "nul" with a null value;
 * timestamp 1700000000000 + C * 10000000 + i.
 */
#include "shm/chute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE_TS 1700000000000LL

struct load {
    const char *name, *topic;
    long client, count, keys, maxpad;
};

static void parse(int argc, char **argv, struct load *l)
{
    int opt;

    l->keys = 1000;
    l->maxpad = 100;
    while ((opt = getopt(argc, argv, "n:t:c:N:k:s:")) != -1) {
        switch (opt) {
        case 'n': l->name = optarg; break;
        case 't': l->topic = optarg; break;
        case 'c': l->client = atol(optarg); break;
        case 'N': l->count = atol(optarg); break;
        case 'k': l->keys = atol(optarg); break;
        case 's': l->maxpad = atol(optarg); break;
        default:
            fprintf(stderr, "usage: sendload -n NAME -t TOPIC -c CLIENT "
                            "-N COUNT [-k KEYS] [-s MAXPAD]\n");
            exit(2);
        }
    }
    if (!l->topic || l->count <= 0 || l->keys <= 0 || l->maxpad < 0) {
        fprintf(stderr, "sendload: -t and -N are required\n");
        exit(2);
    }
}

static int send_one(chute_t *c, int topic, const struct load *l, long i,
                    char *value)
{
    char key[64], cbuf[32], sbuf[32];
    long k = i % l->keys;
    int klen = snprintf(key, sizeof(key), "c%ldk%ld", l->client, k);
    int vlen = sprintf(value, "c%ld|k%ld|s%ld|", l->client, k, i);
    long pad = (i * 7919) % (l->maxpad + 1);
    chute_header_t h[3] = {
        {"client", cbuf, (size_t)snprintf(cbuf, sizeof(cbuf), "%ld", l->client)},
        {"seq", sbuf, (size_t)snprintf(sbuf, sizeof(sbuf), "%ld", i)},
        {"nul", NULL, 0},
    };
    chute_record_t rec = {
        .topic = topic,
        .partition = CHUTE_PARTITION_UA,
        .key = key,
        .key_len = (size_t)klen,
        .value = value,
        .value_len = (size_t)vlen + (size_t)pad,
        .headers = h,
        .header_count = 3,
        .timestamp_ms = BASE_TS + l->client * 10000000 + i,
    };

    memset(value + vlen, 'x', (size_t)pad);
    return chute_send(c, &rec);
}

int main(int argc, char **argv)
{
    struct load l = {0};
    chute_t *c;
    char *value;
    int topic, failed;

    parse(argc, argv, &l);
    value = malloc(128 + (size_t)l.maxpad);
    if (!value || chute_open(l.name, &c) < 0) {
        fprintf(stderr, "sendload: %s\n", chute_errmsg());
        return 1;
    }
    topic = chute_topic(c, l.topic);
    if (topic < 0) {
        fprintf(stderr, "sendload: %s\n", chute_errmsg());
        return 1;
    }
    for (long i = 0; i < l.count; i++) {
        if (send_one(c, topic, &l, i, value) < 0) {
            fprintf(stderr, "sendload %ld: record %ld refused: %s\n", l.client,
                    i, chute_errmsg());
            return 1;
        }
    }
    failed = chute_flush(c, 120000);
    printf("sendload %ld: sent %ld failed %d\n", l.client, l.count, failed);
    chute_close(c);
    free(value);
    return failed == 0 ? 0 : 1;
}
