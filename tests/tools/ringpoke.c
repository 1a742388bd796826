/*
 * ringpoke: a misbehaving client for tests.  It claims space in the ring
 * of the slot that (TOPIC, PARTITION) maps to, the way libchute does, and
 * then misbehaves:
 *
 *   ringpoke -n NAME -t TOPIC -p PARTITION die        claim, write the
 *       claimed header, exit without committing
 *   ringpoke -n NAME -t TOPIC -p PARTITION unwritten  take space with the
 *       tail CAS only and exit (nothing written at all)
 *   ringpoke -n NAME -t TOPIC -p PARTITION stop       claim, then stop
 *       itself (SIGSTOP); once continued, commit a valid record whose value
 *       is "ringpoke-stopped" and exit 0 (saying whether the commit took:
 *       past ring.claim.timeout.ms the worker skipped the claim)
 *   ringpoke -n NAME -t TOPIC -p PARTITION garbage N  write N random bytes
 *       as committed records' contents: lengths that make sense, bodies
 *       that do not (a corrupt client)
 *   ringpoke -n NAME -t TOPIC -p PARTITION tail BITS  move the ring's tail
 *       2^BITS bytes past its head, a position no claim makes (a hostile
 *       client); prints the head and the tail it wrote
 */
#include "proto/record.h"
#include "chute/chute.h"
#include "shm/ctlclient.h"
#include "shm/instance.h"
#include "shm/ring.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VALUE "ringpoke-stopped"

/* The rings as libchute sees them: registered as a client of our own,
 * with our uid's user space mapped. */
static int attach(struct instance *in, const char *name, uint32_t *user)
{
    int fd, rc = instance_attach_status(in, name);

    if (rc < 0)
        return rc;
    rc = ctlclient_register(name, 5000, user, &fd);
    if (rc < 0)
        return rc;
    return instance_attach_user(in, *user, fd);
}

static void usage(void)
{
    fprintf(stderr, "usage: ringpoke -n NAME -t TOPIC -p PARTITION "
                    "die|unwritten|stop|garbage N|tail BITS\n");
    exit(2);
}

/* Writes a valid record into a claimed space (as libchute would). */
static void fill(struct ring_rec *rec, int topic, int partition,
                 uint32_t len)
{
    size_t tail = record_tail_size(NULL, -1, VALUE, sizeof(VALUE) - 1, NULL, 0);
    uint8_t *body = (uint8_t *)(rec + 1);

    rec->client = 0;
    rec->reserved = 0;
    rec->topic = (uint32_t)topic;
    rec->partition = partition;
    rec->tail_len = (uint32_t)tail;
    rec->timestamp = (int64_t)time(NULL) * 1000;
    rec->opaque = 0;
    rec->accepted_ns = 0;
    record_tail_write(body, NULL, -1, VALUE, sizeof(VALUE) - 1, NULL, 0);
    memset(body + tail, 0, len - sizeof(*rec) - tail);
}

static uint32_t record_len(void)
{
    size_t tail = record_tail_size(NULL, -1, VALUE, sizeof(VALUE) - 1, NULL, 0);

    return ring_align((uint32_t)(sizeof(struct ring_rec) + tail));
}

/* Committed records of plausible length full of random bytes. */
static void garbage(struct ring *r, long n)
{
    uint64_t end;

    srand((unsigned)getpid());
    while (n > 0) {
        uint32_t len = ring_align(64 + (uint32_t)(rand() % 512));
        struct ring_rec *rec = ring_claim(r, len, getpid(), &end);
        if (!rec)
            break;
        uint8_t *p = (uint8_t *)rec + sizeof(int32_t) * 2;
        for (uint32_t i = 0; i < len - 8; i++)
            p[i] = (uint8_t)rand();
        ring_commit(rec, len);
        n -= len;
    }
}

int main(int argc, char **argv)
{
    const char *name = NULL, *topic_name = NULL, *mode;
    int partition = 0, opt, topic;
    chute_t *c;
    struct instance in;
    struct ring r;
    uint32_t user = 0;
    uint64_t end;

    while ((opt = getopt(argc, argv, "n:t:p:")) != -1) {
        if (opt == 'n')
            name = optarg;
        else if (opt == 't')
            topic_name = optarg;
        else if (opt == 'p')
            partition = atoi(optarg);
        else
            usage();
    }
    if (!topic_name || optind >= argc)
        usage();
    mode = argv[optind];
    name = name ? name : "default";
    if (chute_open(name, &c) < 0 || (topic = chute_topic(c, topic_name)) < 0 ||
        attach(&in, name, &user) < 0) {
        fprintf(stderr, "ringpoke: %s\n", chute_errmsg());
        return 1;
    }
    instance_ring(&in,
                  layout_user_slot(user, (uint32_t)topic, partition,
                                   in.user_slots),
                  &r);
    if (strcmp(mode, "garbage") == 0) {
        garbage(&r, optind + 1 < argc ? atol(argv[optind + 1]) : 4096);
        return 0;
    }
    if (strcmp(mode, "tail") == 0) {
        int bits = optind + 1 < argc ? atoi(argv[optind + 1]) : 40;
        uint64_t head = ring_head(&r), tail = head + (1ULL << (bits & 63));
        atomic_store(&r.prod->tail, tail);
        printf("head %llu tail %llu\n", (unsigned long long)head,
               (unsigned long long)tail);
        return 0;
    }
    if (strcmp(mode, "unwritten") == 0) {
        uint64_t tail = ring_tail(&r);
        /* The claim alone: what a writer killed right after it leaves. */
        atomic_compare_exchange_strong(&r.prod->tail, &tail,
                                       tail + record_len());
        _exit(0);
    }
    struct ring_rec *rec = ring_claim(&r, record_len(), getpid(), &end);
    if (!rec) {
        fprintf(stderr, "ringpoke: ring full\n");
        return 1;
    }
    if (strcmp(mode, "die") == 0)
        _exit(0);
    if (strcmp(mode, "stop") != 0)
        usage();
    raise(SIGSTOP);
    fill(rec, topic, partition, record_len());
    if (ring_commit(rec, record_len()))
        printf("ringpoke: committed after being continued\n");
    else
        printf("ringpoke: commit refused: the service skipped the claim\n");
    chute_close(c);
    return 0;
}
