/*
 * chutectl: talks to a running chute instance over its control socket.
 *
 *   chutectl [-n NAME] status
 *
 * Exits non-zero when no instance of that name answers.
 */
#include "proto/ctlmsg.h"
#include "shm/chute.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 5000

static void usage(void)
{
    fprintf(stderr, "usage: chutectl [-n NAME] status\n");
}

static void print_status(const Chute__Ctl__StatusReply *st)
{
    printf("%-6s %-8s %-10s %-8s %-12s %-12s %-10s %-8s\n", "WORKER", "PID",
           "UPTIME_S", "RESTARTS", "SENT", "ACKED", "FAILED", "SLOTS");
    for (size_t i = 0; i < st->n_workers; i++) {
        const Chute__Ctl__StatusReply__Worker *w = st->workers[i];
        printf("%-6u %-8u %-10.1f %-8u %-12llu %-12llu %-10llu %zu\n",
               w->index, w->pid, (double)w->uptime_ms / 1000.0, w->restarts,
               (unsigned long long)w->records_sent,
               (unsigned long long)w->records_acked,
               (unsigned long long)w->records_failed, w->n_slots);
    }
    printf("\n%-5s %-6s %-12s %-12s %-14s %-14s %-8s %-6s %-8s\n", "SLOT",
           "OWNER", "USED_B", "SIZE_B", "HEAD", "RESOLVED", "BLOCKED", "DEAD",
           "CORRUPT");
    for (size_t i = 0; i < st->n_slots; i++) {
        const Chute__Ctl__StatusReply__Slot *s = st->slots[i];
        printf("%-5u %-6d %-12llu %-12llu %-14llu %-14llu %-8d %-6llu %-8llu\n",
               s->index, s->owner, (unsigned long long)s->ring_used_bytes,
               (unsigned long long)s->ring_size, (unsigned long long)s->head,
               (unsigned long long)s->resolved, s->blocked_by_pid,
               (unsigned long long)s->dead_writers,
               (unsigned long long)s->corrupt_bytes);
    }
    printf("\npool: %llu of %llu chunks in use\n",
           (unsigned long long)st->pool_chunks_used,
           (unsigned long long)st->pool_chunks_total);
    printf("\n%-30s %-10s %-12s %-12s\n", "TOPIC", "PARTS", "ACKED", "FAILED");
    for (size_t i = 0; i < st->n_topics; i++) {
        const Chute__Ctl__StatusReply__TopicCounters *t = st->topics[i];
        printf("%-30s %-10d %-12llu %-12llu\n", t->name, t->partitions,
               (unsigned long long)t->records_acked,
               (unsigned long long)t->records_failed);
        for (size_t e = 0; e < t->n_errors; e++)
            printf("  failed with %s (%d): %llu\n", t->errors[e]->name,
                   t->errors[e]->code,
                   (unsigned long long)t->errors[e]->records);
    }
}

static int status(const char *name)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__StatusRequest sq = CHUTE__CTL__STATUS_REQUEST__INIT;
    Chute__Ctl__Reply *r = NULL;
    int fd = ctlmsg_connect(name, CTL_TIMEOUT_MS);

    if (fd < 0) {
        fprintf(stderr, "chutectl: %s\n", chute_errmsg());
        return 1;
    }
    q.body_case = CHUTE__CTL__REQUEST__BODY_STATUS;
    q.status = &sq;
    if (ctlmsg_send_request(fd, &q) < 0 ||
        ctlmsg_recv_reply(fd, &r, CTL_TIMEOUT_MS) < 0) {
        fprintf(stderr, "chutectl: %s\n", chute_errmsg());
        close(fd);
        return 1;
    }
    close(fd);
    if (r->error_code || r->body_case != CHUTE__CTL__REPLY__BODY_STATUS) {
        fprintf(stderr, "chutectl: status failed: %s\n",
                r->error_message ? r->error_message : "odd reply");
        ctlmsg_reply_free(r);
        return 1;
    }
    print_status(r->status);
    ctlmsg_reply_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = "default";
    int opt;

    while ((opt = getopt(argc, argv, "n:h")) != -1) {
        if (opt == 'n') {
            name = optarg;
        } else {
            usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind + 1 != argc || strcmp(argv[optind], "status") != 0) {
        usage();
        return 2;
    }
    return status(name);
}
