/*
 * chute-cat: sends each line of stdin as one record through a running
 * chute instance, kcat -P style, flushes at EOF and prints a summary.
 *
 *   chute-cat [-n NAME] -t TOPIC [-K DELIM] [-p PARTITION] [-H key=value]...
 *
 * With -K, the text before the first DELIM on a line is the record's key.
 * Exits non-zero if the service is not running or any record failed.
 */
#include "chute/chute.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_HEADERS_MAX 64
#define CAT_FLUSH_TIMEOUT_MS (10 * 60 * 1000)

struct cat_opts {
    const char *name, *topic, *delim;
    int partition;
    chute_header_t headers[CAT_HEADERS_MAX];
    size_t header_count;
};

static void usage(void)
{
    fprintf(stderr, "usage: chute-cat [-n NAME] -t TOPIC [-K DELIM] "
                    "[-p PARTITION] [-H key=value]...\n");
    exit(2);
}

static void add_header(struct cat_opts *o, char *arg)
{
    char *eq = strchr(arg, '=');

    if (!eq || eq == arg || o->header_count == CAT_HEADERS_MAX) {
        fprintf(stderr, "chute-cat: bad header \"%s\" (want key=value)\n", arg);
        exit(2);
    }
    *eq = '\0';
    o->headers[o->header_count++] =
        (chute_header_t){arg, eq + 1, strlen(eq + 1)};
}

static void parse_args(int argc, char **argv, struct cat_opts *o)
{
    int opt;

    o->partition = CHUTE_PARTITION_UA;
    while ((opt = getopt(argc, argv, "n:t:K:p:H:")) != -1) {
        switch (opt) {
        case 'n': o->name = optarg; break;
        case 't': o->topic = optarg; break;
        case 'K': o->delim = optarg; break;
        case 'p': o->partition = atoi(optarg); break;
        case 'H': add_header(o, optarg); break;
        default: usage();
        }
    }
    if (!o->topic || optind != argc || (o->delim && !*o->delim))
        usage();
}

/* Sends one line (without its newline); returns 0 or a chute_err. */
static int send_line(chute_t *c, const struct cat_opts *o, int topic,
                     char *line, size_t len)
{
    chute_record_t rec = {
        .topic = topic,
        .partition = o->partition,
        .value = line,
        .value_len = len,
        .headers = o->headers,
        .header_count = o->header_count,
        .timestamp_ms = CHUTE_TIMESTAMP_NOW,
    };
    char *split = o->delim ? strstr(line, o->delim) : NULL;

    if (split) {
        rec.key = line;
        rec.key_len = (size_t)(split - line);
        rec.value = split + strlen(o->delim);
        rec.value_len = len - rec.key_len - strlen(o->delim);
    }
    int rc = chute_send(c, &rec);
    return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
    struct cat_opts o = {0};
    chute_t *c;
    char *line = NULL;
    size_t cap = 0, sent = 0, refused = 0;
    ssize_t n;
    int topic, failed;

    parse_args(argc, argv, &o);
    if (chute_open(o.name, &c) < 0) {
        fprintf(stderr, "chute-cat: %s\n", chute_errmsg());
        return 1;
    }
    topic = chute_topic(c, o.topic);
    if (topic < 0) {
        fprintf(stderr, "chute-cat: topic \"%s\": %s\n", o.topic,
                chute_errmsg());
        chute_close(c);
        return 1;
    }
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (send_line(c, &o, topic, line, (size_t)n) < 0) {
            if (refused++ < 10)
                fprintf(stderr, "chute-cat: record %zu refused: %s\n",
                        sent + refused, chute_errmsg());
            continue;
        }
        sent++;
    }
    free(line);
    failed = chute_flush(c, CAT_FLUSH_TIMEOUT_MS);
    if (failed < 0) {
        fprintf(stderr, "chute-cat: flush: %s\n", chute_errmsg());
        chute_close(c);
        return 1;
    }
    fprintf(stderr, "chute-cat: %zu records sent, %d failed, %zu refused\n",
            sent, failed, refused);
    chute_close(c);
    return failed || refused ? 1 : 0;
}
