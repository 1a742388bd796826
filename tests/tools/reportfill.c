/*
 * reportfill: a client that owes itself every delivery report it may.
 *
 *   reportfill -n NAME -t TOPIC [-r ROUNDS]
 *
 * With delivery reports on and queue.full.policy=fail, each round sends
 * records (opaque: the record's number in the round) without polling until
 * chute_send() refuses one with CHUTE_ERR_QUEUE_FULL: the client then owes
 * itself as many reports as it may.  It flushes, then polls the reports
 * once through, without waiting: after chute_flush() every report must be
 * there.  It prints per round
 *
 *   reportfill round R: sent N reported U repeated D lost L
 *
 * (U records with a report, D reports beyond a record's first, L what
 * chute_reports_lost() counts) and fails unless every record got a report,
 * none was lost and every round took as many records as the first: a
 * client that has taken all its reports owes nothing, whatever repeats
 * came.
 */
#include "chute/chute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RECORDS 1000000

static void usage(void)
{
    fprintf(stderr, "usage: reportfill -n NAME -t TOPIC [-r ROUNDS]\n");
    exit(2);
}

/* Sends until the client may owe no more reports; returns how many. */
static long fill(chute_t *c, int topic)
{
    char value[32];
    long n;

    for (n = 0; n < MAX_RECORDS; n++) {
        int len = snprintf(value, sizeof(value), "r%ld", n);
        chute_record_t rec = {
            .topic = topic,
            .partition = CHUTE_PARTITION_UA,
            .key = value,
            .key_len = (size_t)len,
            .value = value,
            .value_len = (size_t)len,
            .timestamp_ms = CHUTE_TIMESTAMP_NOW,
            .opaque = (uint64_t)n,
        };
        int rc = chute_send(c, &rec);
        if (rc == CHUTE_ERR_QUEUE_FULL)
            return n;
        if (rc < 0) {
            fprintf(stderr, "reportfill: record %ld: %s\n", n, chute_errmsg());
            return -1;
        }
    }
    fprintf(stderr, "reportfill: %d records and never a full queue\n",
            MAX_RECORDS);
    return -1;
}

/* Polls until nothing more comes; counts first reports and repeats. */
static void take(chute_t *c, unsigned char *seen, long sent, long *reported,
                 long *repeated, long *stray)
{
    chute_report_t r[512];
    int n;

    while ((n = chute_poll_reports(c, r, 512)) > 0)
        for (int k = 0; k < n; k++) {
            if (r[k].opaque >= (uint64_t)sent) {
                (*stray)++;
                continue;
            }
            if (r[k].error)
                fprintf(stderr, "reportfill: record %llu failed: %s\n",
                        (unsigned long long)r[k].opaque,
                        chute_kafka_err_name(r[k].error));
            if (seen[r[k].opaque]++)
                (*repeated)++;
            else
                (*reported)++;
        }
}

int main(int argc, char **argv)
{
    const char *name = NULL, *topic_name = NULL;
    long rounds = 1, first = 0;
    unsigned char *seen = calloc(MAX_RECORDS, 1);
    uint64_t lost_before = 0;
    chute_t *c;
    int opt, topic, rc = 0;

    while ((opt = getopt(argc, argv, "n:t:r:")) != -1) {
        if (opt == 'n')
            name = optarg;
        else if (opt == 't')
            topic_name = optarg;
        else if (opt == 'r')
            rounds = atol(optarg);
        else
            usage();
    }
    if (!name || !topic_name || rounds < 1 || !seen)
        usage();
    if (chute_open(name, &c) < 0 ||
        chute_set(c, "delivery.reports", "true") < 0 ||
        chute_set(c, "queue.full.policy", "fail") < 0 ||
        (topic = chute_topic(c, topic_name)) < 0) {
        fprintf(stderr, "reportfill: %s\n", chute_errmsg());
        return 1;
    }
    for (long round = 1; round <= rounds; round++) {
        long sent = fill(c, topic), reported = 0, repeated = 0, stray = 0;
        uint64_t lost;
        int failed;

        if (sent < 0)
            return 1;
        failed = chute_flush(c, 60000);
        if (failed < 0) {
            fprintf(stderr, "reportfill: flush: %s\n", chute_errmsg());
            return 1;
        }
        memset(seen, 0, (size_t)sent);
        take(c, seen, sent, &reported, &repeated, &stray);
        lost = chute_reports_lost(c) - lost_before;
        lost_before += lost;
        printf("reportfill round %ld: sent %ld reported %ld repeated %ld "
               "lost %llu\n",
               round, sent, reported, repeated, (unsigned long long)lost);
        fflush(stdout);
        if (round == 1)
            first = sent;
        if (reported != sent || lost || stray || failed) {
            fprintf(stderr, "reportfill: round %ld: %ld of %ld records "
                    "reported, %llu reports lost, %ld stray, %d records "
                    "failed\n", round, reported, sent,
                    (unsigned long long)lost, stray, failed);
            rc = 1;
        }
        if (sent != first) {
            fprintf(stderr, "reportfill: round %ld took %ld records, the "
                    "first %ld\n", round, sent, first);
            rc = 1;
        }
    }
    chute_close(c);
    free(seen);
    return rc;
}
