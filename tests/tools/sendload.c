/*
 * sendload: one test client process.  Sends COUNT keyed records with
 * headers through libchute, each derived from (client, sequence) so that
 * tests/integration/check_topic.py can regenerate and check every one of
 * them, then flushes and reports.
 *
 *   sendload -n NAME -t TOPIC -c CLIENT -N COUNT [-k KEYS] [-s MAXPAD]
 *            [-R REPORTS]
 *
 * Record i of client C: key "cCkK" with K = i % KEYS; value
 * "cC|kK|sI|" followed by (i * 7919) % (MAXPAD + 1) bytes of 'x';
 * headers client=C, seq=I and a header "nul" with a null value;
 * timestamp 1700000000000 + C * 10000000 + i.
 *
 * With -R, it asks for delivery reports (the record's opaque is i) and
 * writes one line per record to REPORTS: "C I PARTITION OFFSET ERROR",
 * ERROR being 0 or the Kafka error's name.  It fails unless every record
 * got exactly one report and the failed ones match chute_flush's count.
 * With -r RATE it sends at most RATE records per second (to spread a
 * run over time while a test changes things underneath).
 *
 * With -A FILE, after every accepted send it writes the record's index to
 * FILE (8 bytes, pwrite), so a test that kills the client knows what
 * chute_send() had accepted.
 *
 * With -D a repeated report is allowed (a worker killed while reporting a
 * batch leaves its successor to report it again) and only the first kept.
 *
 * With -F FORKS, after chute_open, chute_topic and (with -R) turning
 * reports on, it forks FORKS children that use the inherited handle:
 * child i is client i (reports to REPORTS.i), waits until the parent has
 * exited, sends, flushes and checks its reports as above, and writes its
 * exit status to REPORTS.i.rc (or FILE.i.rc with -R absent: -R is needed).
 * The parent prints the children's pids and goes on as client CLIENT.
 */
#include "chute/chute.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BASE_TS 1700000000000LL

struct load {
    const char *name, *topic, *reports, *accepted;
    bool repeats_ok;
    int accepted_fd;
    long client, count, keys, maxpad, rate, forks;
    FILE *out;
    long reported, report_failed;
    unsigned char *seen;
};

static void parse(int argc, char **argv, struct load *l)
{
    int opt;

    l->keys = 1000;
    l->maxpad = 100;
    while ((opt = getopt(argc, argv, "n:t:c:N:k:s:R:DA:r:F:")) != -1) {
        switch (opt) {
        case 'n': l->name = optarg; break;
        case 't': l->topic = optarg; break;
        case 'c': l->client = atol(optarg); break;
        case 'N': l->count = atol(optarg); break;
        case 'k': l->keys = atol(optarg); break;
        case 's': l->maxpad = atol(optarg); break;
        case 'R': l->reports = optarg; break;
        case 'D': l->repeats_ok = true; break;
        case 'A': l->accepted = optarg; break;
        case 'r': l->rate = atol(optarg); break;
        case 'F': l->forks = atol(optarg); break;
        default:
            fprintf(stderr, "usage: sendload -n NAME -t TOPIC -c CLIENT "
                            "-N COUNT [-k KEYS] [-s MAXPAD]\n");
            exit(2);
        }
    }
    if (!l->topic || l->count <= 0 || l->keys <= 0 || l->maxpad < 0 ||
        (l->forks && !l->reports)) {
        fprintf(stderr, "sendload: -t and -N are required (and -R with -F)\n");
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
        .opaque = (uint64_t)i,
    };

    memset(value + vlen, 'x', (size_t)pad);
    return chute_send(c, &rec);
}

/* Takes the reports that are ready; returns -1 on a bad one. */
static int take_reports(chute_t *c, struct load *l)
{
    chute_report_t r[512];
    int n;

    while ((n = chute_poll_reports(c, r, 512)) > 0) {
        for (int k = 0; k < n; k++) {
            if (r[k].opaque < (uint64_t)l->count && l->seen[r[k].opaque] &&
                l->repeats_ok)
                continue;
            if (r[k].opaque >= (uint64_t)l->count || l->seen[r[k].opaque]++) {
                fprintf(stderr, "sendload %ld: stray or repeated report for "
                        "%llu\n", l->client, (unsigned long long)r[k].opaque);
                return -1;
            }
            l->reported++;
            l->report_failed += r[k].error != 0;
            fprintf(l->out, "%ld %llu %d %lld %s\n", l->client,
                    (unsigned long long)r[k].opaque, r[k].partition,
                    (long long)r[k].offset,
                    r[k].error ? chute_kafka_err_name(r[k].error) : "0");
        }
    }
    return n < 0 ? -1 : 0;
}

static int open_reports(struct load *l)
{
    l->out = fopen(l->reports, "w");
    l->seen = calloc((size_t)l->count, 1);
    return l->out && l->seen ? 0 : -1;
}

static int start_reports(chute_t *c, struct load *l)
{
    if (open_reports(l) < 0)
        return -1;
    return chute_set(c, "delivery.reports", "true");
}

/* After the flush every report is written: check that all came. */
static int finish_reports(chute_t *c, struct load *l, int failed)
{
    if (take_reports(c, l) < 0)
        return -1;
    fclose(l->out);
    free(l->seen);
    if (l->reported != l->count || l->report_failed != failed ||
        chute_reports_lost(c)) {
        fprintf(stderr, "sendload %ld: %ld reports (%ld failed, %llu lost) "
                "for %ld records (%d failed)\n", l->client, l->reported,
                l->report_failed, (unsigned long long)chute_reports_lost(c),
                l->count, failed);
        return -1;
    }
    return 0;
}

/* Sleeps until record i is due at the configured rate. */
static void pace(const struct load *l, long i, const struct timespec *t0)
{
    struct timespec now, nap;
    double due, elapsed;

    if (l->rate <= 0 || i % 100)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    due = (double)i / (double)l->rate;
    elapsed = (double)(now.tv_sec - t0->tv_sec) +
              (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
    if (due <= elapsed)
        return;
    nap.tv_sec = (time_t)(due - elapsed);
    nap.tv_nsec = (long)((due - elapsed - (double)nap.tv_sec) * 1e9);
    nanosleep(&nap, NULL);
}

static int run(chute_t *c, int topic, struct load *lp, char *value);

/* Child i of -F: waits for the parent to exit, then runs as client i. */
static void child(chute_t *c, int topic, struct load *l, long i, pid_t parent)
{
    static char path[4096];
    char *value = malloc(128 + (size_t)l->maxpad);
    FILE *rc_file;
    int rc;

    for (int waited = 0; getppid() == parent; waited++) {
        if (waited > 60000) {
            fprintf(stderr, "sendload child %ld: parent did not exit\n", i);
            _exit(1);
        }
        usleep(1000);
    }
    snprintf(path, sizeof(path), "%s.%ld", l->reports, i);
    l->client = i;
    l->reports = path;
    l->forks = 0;
    rc = !value || open_reports(l) < 0 ? 1 : run(c, topic, l, value);
    snprintf(path + strlen(path), sizeof(path) - strlen(path), ".rc");
    rc_file = fopen(path, "w");
    if (rc_file) {
        fprintf(rc_file, "%d\n", rc);
        fclose(rc_file);
    }
    _exit(rc);
}

static int fork_children(chute_t *c, int topic, struct load *l)
{
    pid_t parent = getpid();

    for (long i = 0; i < l->forks; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("sendload: fork");
            return -1;
        }
        if (pid == 0)
            child(c, topic, l, i, parent);
        printf("child %ld pid %d\n", i, (int)pid);
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    struct load l = {0};
    chute_t *c;
    char *value;
    int topic;

    parse(argc, argv, &l);
    l.accepted_fd = l.accepted ? open(l.accepted, O_WRONLY | O_CREAT | O_TRUNC,
                                      0644)
                               : -1;
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
    if (l.reports && start_reports(c, &l) < 0) {
        fprintf(stderr, "sendload: reports: %s\n", chute_errmsg());
        return 1;
    }
    if (l.forks && fork_children(c, topic, &l) < 0)
        return 1;
    return run(c, topic, &l, value);
}

/* Sends, flushes and checks the reports; the exit status. */
static int run(chute_t *c, int topic, struct load *lp, char *value)
{
    struct load l = *lp;
    int failed;
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < l.count; i++) {
        pace(&l, i, &t0);
        if (l.reports && i % 1024 == 0 && take_reports(c, &l) < 0)
            return 1;
        int rc = send_one(c, topic, &l, i, value);
        if (rc == CHUTE_ERR_QUEUE_FULL && l.reports) {
            /* Owed too many reports: take them and try again. */
            if (take_reports(c, &l) < 0)
                return 1;
            i--;
            continue;
        }
        if (rc >= 0 && l.accepted_fd >= 0 &&
            pwrite(l.accepted_fd, &i, sizeof(i), 0) != sizeof(i)) {
            fprintf(stderr, "sendload: cannot write %s\n", l.accepted);
            return 1;
        }
        if (rc < 0) {
            fprintf(stderr, "sendload %ld: record %ld refused: %s\n", l.client,
                    i, chute_errmsg());
            return 1;
        }
    }
    failed = chute_flush(c, 120000);
    if (failed < 0) {
        fprintf(stderr, "sendload %ld: flush: %s\n", l.client, chute_errmsg());
        return 1;
    }
    if (l.reports && finish_reports(c, &l, failed) < 0)
        return 1;
    printf("sendload %ld: sent %ld failed %d\n", l.client, l.count, failed);
    chute_close(c);
    free(value);
    return failed == 0 ? 0 : 1;
}
