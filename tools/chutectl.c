/*
 * chutectl: talks to a running chute instance over its control socket.
 *
 *   chutectl [-n NAME] [--json] status
 *   chutectl [-n NAME] [--json] scale N [-w WAIT_MS]
 *   chutectl [-n NAME] [--json] flush [TIMEOUT_MS]
 *   chutectl [-n NAME] [--json] drain
 *   chutectl [-n NAME] [--json] reload
 *   chutectl [-n NAME] [--json] topics
 *
 * Tables for people; with --json one JSON object on stdout for scripts.
 * Exits 1 when no instance of that name answers or the request failed,
 * 2 on bad usage.
 */
#include "proto/ctlmsg.h"
#include "chute/chute.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 5000
#define TOPICS_TIMEOUT_MS 15000     /* the service gives each topic 10 s */
#define FLUSH_DEFAULT_MS 30000
#define SCALE_WAIT_DEFAULT_MS 60000
#define SCALE_POLL_US 100000

/* ---- a small JSON writer ------------------------------------------------ */

#define JSON_DEPTH 16

struct json {
    FILE *out;
    int depth;
    bool first[JSON_DEPTH]; /* nothing written yet at that depth */
};

static struct json J = {.out = NULL};
static bool json_mode;

/* A string with JSON's escapes; bytes that are not UTF-8 become U+FFFD. */
static void json_string(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    fputc('"', J.out);
    while (*p) {
        unsigned char ch = *p;
        size_t n = ch < 0x80 ? 1 : ch >= 0xc2 && ch < 0xe0 ? 2
                               : ch >= 0xe0 && ch < 0xf0 ? 3
                               : ch >= 0xf0 && ch < 0xf5 ? 4
                                                         : 0;
        size_t k;

        for (k = 1; k < n && (p[k] & 0xc0) == 0x80; k++)
            ;
        if (n == 0 || k < n) {
            fputs("\\ufffd", J.out);
            p += n == 0 ? 1 : k;
            continue;
        }
        if (n > 1) {
            fwrite(p, 1, n, J.out);
        } else if (ch == '"' || ch == '\\') {
            fputc('\\', J.out);
            fputc(ch, J.out);
        } else if (ch == '\n') {
            fputs("\\n", J.out);
        } else if (ch == '\t') {
            fputs("\\t", J.out);
        } else if (ch == '\r') {
            fputs("\\r", J.out);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(J.out, "\\u%04x", ch);
        } else {
            fputc(ch, J.out);
        }
        p += n;
    }
    fputc('"', J.out);
}

/* The separator and key before a value; key NULL inside an array. */
static void json_key(const char *key)
{
    if (J.depth > 0) {
        if (!J.first[J.depth])
            fputc(',', J.out);
        J.first[J.depth] = false;
    }
    if (key) {
        json_string(key);
        fputc(':', J.out);
    }
}

static void json_open(const char *key, char bracket)
{
    json_key(key);
    fputc(bracket, J.out);
    if (J.depth + 1 < JSON_DEPTH)
        J.first[++J.depth] = true;
}

static void json_close(char bracket)
{
    fputc(bracket, J.out);
    J.depth--;
    if (J.depth == 0)
        fputc('\n', J.out);
}

static void json_obj(const char *key) { json_open(key, '{'); }
static void json_obj_end(void) { json_close('}'); }
static void json_arr(const char *key) { json_open(key, '['); }
static void json_arr_end(void) { json_close(']'); }

static void json_str(const char *key, const char *v)
{
    json_key(key);
    json_string(v);
}

static void json_u64(const char *key, uint64_t v)
{
    json_key(key);
    fprintf(J.out, "%llu", (unsigned long long)v);
}

static void json_i64(const char *key, int64_t v)
{
    json_key(key);
    fprintf(J.out, "%lld", (long long)v);
}

static void json_bool(const char *key, bool v)
{
    json_key(key);
    fputs(v ? "true" : "false", J.out);
}

/* ---- requests ------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: chutectl [-n NAME] [--json] COMMAND\n"
            "  status              workers, slots, pool, topic counters, memory\n"
            "  scale N [-w MS]     run N workers; waits (MS, default %d) "
            "until every slot\n"
            "                      is owned by its target worker\n"
            "  flush [TIMEOUT_MS]  wait until every record accepted so far is "
            "acked\n"
            "                      or failed (default %d ms)\n"
            "  drain               stop intake; chuted exits once the workers "
            "delivered\n"
            "                      everything\n"
            "  topics              known topics: partitions and leaders, "
            "from the cluster,\n"
            "                      and the settings the workers batch each "
            "with\n",
            SCALE_WAIT_DEFAULT_MS, FLUSH_DEFAULT_MS);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends q and returns its reply, or NULL after saying why on stderr. */
static Chute__Ctl__Reply *call(const char *name, const char *what,
                               Chute__Ctl__Request *q, int timeout_ms)
{
    Chute__Ctl__Reply *r = NULL;
    int fd = ctlmsg_connect(name, CTL_TIMEOUT_MS);

    if (fd < 0) {
        fprintf(stderr, "chutectl: %s\n", chute_errmsg());
        return NULL;
    }
    if (ctlmsg_call(fd, q, &r, timeout_ms) < 0) {
        fprintf(stderr, "chutectl: %s: %s\n", what, chute_errmsg());
        close(fd);
        return NULL;
    }
    close(fd);
    if (r->error_code) {
        fprintf(stderr, "chutectl: %s failed: %s (%s)\n", what,
                r->error_message && *r->error_message ? r->error_message
                                                      : "no reason given",
                chute_err_name(r->error_code));
        ctlmsg_reply_free(r);
        return NULL;
    }
    if ((int)r->body_case != (int)q->body_case) {
        fprintf(stderr, "chutectl: %s: the service sent another reply\n",
                what);
        ctlmsg_reply_free(r);
        return NULL;
    }
    return r;
}

/* ---- status -------------------------------------------------------------- */

static void json_u32_array(const char *key, const uint32_t *v, size_t n)
{
    json_arr(key);
    for (size_t i = 0; i < n; i++)
        json_u64(NULL, v[i]);
    json_arr_end();
}

static void control_json(const Chute__Ctl__StatusReply__Control *c)
{
    json_obj("control");
    json_u64("connections", c->connections);
    json_u64("connections_max", c->connections_max);
    json_u64("per_user_max", c->per_user_max);
    json_arr("users");
    for (size_t i = 0; i < c->n_users; i++) {
        json_obj(NULL);
        json_u64("uid", c->users[i]->uid);
        json_u64("connections", c->users[i]->connections);
        json_obj_end();
    }
    json_arr_end();
    json_u64("refused_not_admin", c->refused_not_admin);
    json_u64("refused_user_limit", c->refused_user_limit);
    json_u64("refused_full", c->refused_full);
    json_u64("closed_idle", c->closed_idle);
    json_u64("closed_request_timeout", c->closed_request_timeout);
    json_u64("closed_too_large", c->closed_too_large);
    json_u64("accept_pauses", c->accept_pauses);
    json_obj_end();
}

static void brokers_json(const Chute__Ctl__StatusReply__Brokers *b)
{
    json_obj("brokers");
    json_str("security_protocol", b->security_protocol);
    json_u64("tls_failures", b->tls_failures);
    json_u64("sasl_failures", b->sasl_failures);
    json_u64("reauthentications", b->reauthentications);
    json_str("last_failure", b->last_failure);
    json_u64("last_failure_age_ms", b->last_failure_age_ms);
    json_obj_end();
}

static void memory_json(const Chute__Ctl__StatusReply__Memory *m)
{
    json_obj("memory");
    json_u64("user_space_bytes", m->user_space_bytes);
    json_u64("user_spaces", m->user_spaces);
    json_u64("status_bytes", m->status_bytes);
    json_u64("state_bytes", m->state_bytes);
    json_u64("pool_bytes", m->pool_bytes);
    json_u64("shared_bytes", m->shared_bytes);
    json_u64("supervisor_rss_bytes", m->supervisor_rss_bytes);
    json_u64("workers_rss_bytes", m->workers_rss_bytes);
    json_obj_end();
}

static void status_json(const Chute__Ctl__StatusReply *st)
{
    json_obj(NULL);
    json_str("service_name", st->service_name);
    json_u64("supervisor_pid", st->supervisor_pid);
    json_u64("worker_count", st->worker_count);
    json_bool("accepting", st->accepting);
    json_bool("scale_done", st->scale_done);
    json_arr("workers");
    for (size_t i = 0; i < st->n_workers; i++) {
        const Chute__Ctl__StatusReply__Worker *w = st->workers[i];
        json_obj(NULL);
        json_u64("index", w->index);
        json_u64("pid", w->pid);
        json_u64("uptime_ms", w->uptime_ms);
        json_u64("heartbeat_age_ms", w->heartbeat_age_ms);
        json_u64("restarts", w->restarts);
        json_u32_array("slots", w->slots, w->n_slots);
        json_u32_array("target_slots", w->target_slots, w->n_target_slots);
        json_u64("records_sent", w->records_sent);
        json_u64("records_acked", w->records_acked);
        json_u64("records_failed", w->records_failed);
        json_u64("records_invalid", w->records_invalid);
        json_u64("batches_sent", w->batches_sent);
        json_u64("bytes_sent", w->bytes_sent);
        json_u64("rss_bytes", w->rss_bytes);
        json_obj_end();
    }
    json_arr_end();
    json_arr("slots");
    for (size_t i = 0; i < st->n_slots; i++) {
        const Chute__Ctl__StatusReply__Slot *s = st->slots[i];
        json_obj(NULL);
        json_u64("index", s->index);
        json_i64("owner", s->owner);
        json_i64("target", s->target);
        json_u64("ring_used_bytes", s->ring_used_bytes);
        json_u64("ring_size", s->ring_size);
        json_u64("head", s->head);
        json_u64("tail", s->tail);
        json_u64("resolved", s->resolved);
        json_i64("blocked_by_pid", s->blocked_by_pid);
        json_u64("dead_writers", s->dead_writers);
        json_u64("corrupt_bytes", s->corrupt_bytes);
        json_obj_end();
    }
    json_arr_end();
    json_obj("pool");
    json_u64("chunks_total", st->pool_chunks_total);
    json_u64("chunks_used", st->pool_chunks_used);
    json_obj_end();
    json_arr("topics");
    for (size_t i = 0; i < st->n_topics; i++) {
        const Chute__Ctl__StatusReply__TopicCounters *t = st->topics[i];
        json_obj(NULL);
        json_str("name", t->name);
        json_i64("partitions", t->partitions);
        json_u64("records_acked", t->records_acked);
        json_u64("records_failed", t->records_failed);
        json_arr("errors");
        for (size_t e = 0; e < t->n_errors; e++) {
            json_obj(NULL);
            json_i64("code", t->errors[e]->code);
            json_str("name", t->errors[e]->name);
            json_u64("records", t->errors[e]->records);
            json_obj_end();
        }
        json_arr_end();
        json_obj_end();
    }
    json_arr_end();
    if (st->control)
        control_json(st->control);
    json_arr("users");
    for (size_t i = 0; i < st->n_users; i++) {
        json_obj(NULL);
        json_u64("index", st->users[i]->index);
        json_u64("uid", st->users[i]->uid);
        json_u64("clients", st->users[i]->clients);
        json_u64("refused_acl", st->users[i]->refused_acl);
        json_u64("truncated", st->users[i]->truncated);
        json_obj_end();
    }
    json_arr_end();
    if (st->brokers)
        brokers_json(st->brokers);
    if (st->memory)
        memory_json(st->memory);
    json_obj_end();
}

/* "0-3,8,12-13" for a list of slots. */
static void print_ranges(const uint32_t *v, size_t n)
{
    size_t i = 0;

    if (n == 0)
        printf("-");
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        printf("%s%u", i ? "," : "", v[i]);
        if (j > i)
            printf("-%u", v[j]);
        i = j + 1;
    }
}

/* Two lines: who holds control connections, what was refused or cut. */
static void control_table(const Chute__Ctl__StatusReply__Control *c)
{
    printf("\ncontrol: %u of %u connections (%u per user):", c->connections,
           c->connections_max, c->per_user_max);
    for (size_t i = 0; i < c->n_users; i++)
        printf(" uid %u: %u", c->users[i]->uid, c->users[i]->connections);
    printf("\ncontrol: refused %llu requests (not admin), %llu connections "
           "(per-user limit), %llu (table full); closed %llu idle, %llu "
           "slow, %llu too large; accept paused %llu times\n",
           (unsigned long long)c->refused_not_admin,
           (unsigned long long)c->refused_user_limit,
           (unsigned long long)c->refused_full,
           (unsigned long long)c->closed_idle,
           (unsigned long long)c->closed_request_timeout,
           (unsigned long long)c->closed_too_large,
           (unsigned long long)c->accept_pauses);
}

/* One line on TLS and SASL, and the latest failure on the next. */
static void brokers_table(const Chute__Ctl__StatusReply__Brokers *b)
{
    printf("\nbrokers: security.protocol %s; %llu TLS failures, %llu SASL "
           "failures, %llu re-authentications\n",
           b->security_protocol, (unsigned long long)b->tls_failures,
           (unsigned long long)b->sasl_failures,
           (unsigned long long)b->reauthentications);
    if (b->last_failure && *b->last_failure)
        printf("brokers: last security failure %.1f s ago: %s\n",
               (double)b->last_failure_age_ms / 1000.0, b->last_failure);
}

/* One line: each user space bound to a uid. */
static void users_line(const Chute__Ctl__StatusReply *st)
{
    printf("users:");
    for (size_t i = 0; i < st->n_users; i++)
        printf(" uid %u: %u clients, %llu refused (acl), %llu cut;",
               st->users[i]->uid, st->users[i]->clients,
               (unsigned long long)st->users[i]->refused_acl,
               (unsigned long long)st->users[i]->truncated);
    printf("%s\n", st->n_users ? "" : " none yet");
}

/* The tables keep the columns scripts read (tests/integration): the
 * worker table first, one row per worker, ended by an empty line; slot
 * rows of 9 fields.  A slot moving to another worker shows OWNER>TARGET. */
static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

/* Two lines: the shared objects (fixed at start), then resident sets. */
static void memory_table(const Chute__Ctl__StatusReply *st)
{
    const Chute__Ctl__StatusReply__Memory *m = st->memory;

    printf("\nmemory: shared %.1f MiB fixed at start: %u user spaces of "
           "%.1f MiB, status %.1f MiB, state %.1f MiB (pool %.1f MiB)\n",
           mib(m->shared_bytes), m->user_spaces, mib(m->user_space_bytes),
           mib(m->status_bytes), mib(m->state_bytes), mib(m->pool_bytes));
    printf("memory: resident supervisor %.1f MiB, workers %.1f MiB:",
           mib(m->supervisor_rss_bytes), mib(m->workers_rss_bytes));
    for (size_t i = 0; i < st->n_workers; i++)
        printf(" %u: %.1f", st->workers[i]->index,
               mib(st->workers[i]->rss_bytes));
    printf(" (shared pages they touched included)\n");
}

static void status_table(const Chute__Ctl__StatusReply *st)
{
    printf("%-6s %-8s %-10s %-8s %-12s %-12s %-10s %-6s %-8s %s\n", "WORKER",
           "PID", "UPTIME_S", "RESTARTS", "SENT", "ACKED", "FAILED", "SLOTS",
           "BEAT_MS", "OWNED");
    for (size_t i = 0; i < st->n_workers; i++) {
        const Chute__Ctl__StatusReply__Worker *w = st->workers[i];
        printf("%-6u %-8u %-10.1f %-8u %-12llu %-12llu %-10llu %-6zu %-8llu ",
               w->index, w->pid, (double)w->uptime_ms / 1000.0, w->restarts,
               (unsigned long long)w->records_sent,
               (unsigned long long)w->records_acked,
               (unsigned long long)w->records_failed, w->n_slots,
               (unsigned long long)w->heartbeat_age_ms);
        print_ranges(w->slots, w->n_slots);
        printf("\n");
    }
    printf("\n%-5s %-6s %-12s %-12s %-14s %-14s %-8s %-6s %-8s\n", "SLOT",
           "OWNER", "USED_B", "SIZE_B", "HEAD", "RESOLVED", "BLOCKED", "DEAD",
           "CORRUPT");
    for (size_t i = 0; i < st->n_slots; i++) {
        const Chute__Ctl__StatusReply__Slot *s = st->slots[i];
        char owner[32];
        if (s->owner == s->target)
            snprintf(owner, sizeof(owner), "%d", s->owner);
        else
            snprintf(owner, sizeof(owner), "%d>%d", s->owner, s->target);
        printf("%-5u %-6s %-12llu %-12llu %-14llu %-14llu %-8d %-6llu %-8llu\n",
               s->index, owner, (unsigned long long)s->ring_used_bytes,
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
    if (st->control)
        control_table(st->control);
    if (st->brokers)
        brokers_table(st->brokers);
    users_line(st);
    if (st->memory)
        memory_table(st);
    printf("\ninstance %s: supervisor pid %u, %u workers, %s%s\n",
           st->service_name, st->supervisor_pid, st->worker_count,
           st->accepting ? "accepting" : "draining",
           st->scale_done ? "" : ", slots moving");
}

static Chute__Ctl__Reply *get_status(const char *name)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__StatusRequest sq = CHUTE__CTL__STATUS_REQUEST__INIT;

    q.body_case = CHUTE__CTL__REQUEST__BODY_STATUS;
    q.status = &sq;
    return call(name, "status", &q, CTL_TIMEOUT_MS);
}

static int cmd_status(const char *name)
{
    Chute__Ctl__Reply *r = get_status(name);

    if (!r)
        return 1;
    if (json_mode)
        status_json(r->status);
    else
        status_table(r->status);
    ctlmsg_reply_free(r);
    return 0;
}

/* ---- scale --------------------------------------------------------------- */

/* What keeps a scale to n from being finished: slots whose owner is not
 * their target, plus workers that should run and do not or should not and
 * still do (retiring). */
static long scale_pending(const Chute__Ctl__StatusReply *st, uint32_t n)
{
    long pending = !st->scale_done;

    for (size_t i = 0; i < st->n_slots; i++)
        pending += st->slots[i]->owner != st->slots[i]->target;
    for (size_t i = 0; i < st->n_workers; i++)
        pending += (st->workers[i]->index < n) != (st->workers[i]->pid != 0);
    return pending;
}

static int cmd_scale(const char *name, uint32_t workers, int wait_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ScaleRequest sq = CHUTE__CTL__SCALE_REQUEST__INIT;
    Chute__Ctl__Reply *r;
    int64_t start = now_ms();
    long pending = -1;

    sq.workers = workers;
    q.body_case = CHUTE__CTL__REQUEST__BODY_SCALE;
    q.scale = &sq;
    r = call(name, "scale", &q, CTL_TIMEOUT_MS);
    if (!r)
        return 1;
    ctlmsg_reply_free(r);
    for (;;) {
        r = get_status(name);
        if (!r)
            return 1;
        pending = scale_pending(r->status, workers);
        if (pending == 0 || now_ms() - start >= wait_ms)
            break;
        ctlmsg_reply_free(r);
        usleep(SCALE_POLL_US);
    }
    if (json_mode) {
        json_obj(NULL);
        json_u64("workers", workers);
        json_bool("done", pending == 0);
        json_i64("pending", pending);
        json_i64("waited_ms", now_ms() - start);
        json_arr("owners");
        for (size_t i = 0; i < r->status->n_slots; i++)
            json_i64(NULL, r->status->slots[i]->owner);
        json_arr_end();
        json_obj_end();
    } else if (pending == 0) {
        printf("scaled to %u workers in %.1f s; slots per worker:\n", workers,
               (double)(now_ms() - start) / 1000.0);
        for (size_t i = 0; i < r->status->n_workers; i++) {
            const Chute__Ctl__StatusReply__Worker *w = r->status->workers[i];
            printf("  worker %u (pid %u): ", w->index, w->pid);
            print_ranges(w->slots, w->n_slots);
            printf("\n");
        }
    }
    if (pending != 0)
        fprintf(stderr, "chutectl: scale to %u not finished after %d ms (%ld "
                "slots or workers still moving); see chutectl status\n",
                workers, wait_ms, pending);
    ctlmsg_reply_free(r);
    return pending == 0 ? 0 : 1;
}

/* ---- flush, drain -------------------------------------------------------- */

static int cmd_flush(const char *name, uint32_t timeout_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__FlushRequest fq = CHUTE__CTL__FLUSH_REQUEST__INIT;
    Chute__Ctl__Reply *r;

    fq.timeout_ms = timeout_ms;
    q.body_case = CHUTE__CTL__REQUEST__BODY_FLUSH;
    q.flush = &fq;
    r = call(name, "flush", &q, (int)timeout_ms + CTL_TIMEOUT_MS);
    if (!r)
        return 1;
    if (json_mode) {
        json_obj(NULL);
        json_u64("records_acked", r->flush->records_acked);
        json_u64("records_failed", r->flush->records_failed);
        json_u64("waited_ms", r->flush->waited_ms);
        json_obj_end();
    } else {
        printf("flushed in %llu ms: %llu records acked, %llu failed "
               "meanwhile\n",
               (unsigned long long)r->flush->waited_ms,
               (unsigned long long)r->flush->records_acked,
               (unsigned long long)r->flush->records_failed);
    }
    ctlmsg_reply_free(r);
    return 0;
}

static int cmd_drain(const char *name)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__DrainRequest dq = CHUTE__CTL__DRAIN_REQUEST__INIT;
    Chute__Ctl__Reply *r;

    q.body_case = CHUTE__CTL__REQUEST__BODY_DRAIN;
    q.drain = &dq;
    r = call(name, "drain", &q, CTL_TIMEOUT_MS);
    if (!r)
        return 1;
    if (json_mode) {
        json_obj(NULL);
        json_str("state", r->drain->state);
        json_obj_end();
    } else {
        printf("%s: intake stopped; chuted exits once the workers delivered "
               "everything\n", r->drain->state);
    }
    ctlmsg_reply_free(r);
    return 0;
}

static int cmd_reload(const char *name)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ReloadRequest rq = CHUTE__CTL__RELOAD_REQUEST__INIT;
    Chute__Ctl__Reply *r;
    const char *restart;

    q.body_case = CHUTE__CTL__REQUEST__BODY_RELOAD;
    q.reload = &rq;
    r = call(name, "reload", &q, CTL_TIMEOUT_MS);
    if (!r)
        return 1;
    restart = r->reload->restart_needed ? r->reload->restart_needed : "";
    if (json_mode) {
        json_obj(NULL);
        json_str("restart_needed", restart);
        json_obj_end();
    } else if (*restart) {
        printf("reloaded; \"%s\" changed and needs a restart\n", restart);
    } else {
        printf("reloaded\n");
    }
    ctlmsg_reply_free(r);
    return 0;
}

/* ---- topics -------------------------------------------------------------- */

static void topics_json(const Chute__Ctl__TopicsReply *tr)
{
    json_obj(NULL);
    json_arr("topics");
    for (size_t i = 0; i < tr->n_topics; i++) {
        const Chute__Ctl__TopicsReply__Topic *t = tr->topics[i];
        json_obj(NULL);
        json_str("name", t->name);
        json_i64("topic_id", t->topic_id);
        json_i64("partition_count", t->partition_count);
        json_i64("published_partitions", t->published_partitions);
        json_i64("error_code", t->error_code);
        if (t->error_code)
            json_str("error", t->error_message);
        if (t->settings) {
            json_obj("settings");
            json_i64("linger.ms", t->settings->linger_ms);
            json_i64("batch.size", t->settings->batch_size);
            json_i64("batch.num.messages", t->settings->batch_num_messages);
            json_str("compression.codec", t->settings->compression_codec);
            json_i64("compression.level", t->settings->compression_level);
            json_obj_end();
        }
        json_arr("partitions");
        for (size_t p = 0; p < t->n_partitions; p++) {
            json_obj(NULL);
            json_i64("partition", t->partitions[p]->index);
            json_i64("leader", t->partitions[p]->leader);
            json_i64("leader_epoch", t->partitions[p]->leader_epoch);
            json_i64("error", t->partitions[p]->error);
            json_obj_end();
        }
        json_arr_end();
        json_obj_end();
    }
    json_arr_end();
    json_arr("brokers");
    for (size_t i = 0; i < tr->n_brokers; i++) {
        json_obj(NULL);
        json_i64("node_id", tr->brokers[i]->node_id);
        json_str("host", tr->brokers[i]->host);
        json_i64("port", tr->brokers[i]->port);
        json_obj_end();
    }
    json_arr_end();
    json_obj_end();
}

static void topics_table(const Chute__Ctl__TopicsReply *tr)
{
    printf("%-30s %-4s %-6s %-9s %-10s %-8s %-6s %-5s %s\n", "TOPIC", "ID",
           "PARTS", "LINGER_MS", "BATCH_SIZE", "RECORDS", "CODEC", "LEVEL",
           "LEADERS (partition:broker)");
    for (size_t i = 0; i < tr->n_topics; i++) {
        const Chute__Ctl__TopicsReply__Topic *t = tr->topics[i];
        const Chute__Ctl__TopicsReply__Settings *st = t->settings;
        printf("%-30s %-4d %-6d ", t->name, t->topic_id, t->partition_count);
        if (st)
            printf("%-9d %-10d %-8d %-6s %-5d ", st->linger_ms, st->batch_size,
                   st->batch_num_messages, st->compression_codec,
                   st->compression_level);
        else
            printf("%-9s %-10s %-8s %-6s %-5s ", "-", "-", "-", "-", "-");
        if (t->error_code)
            printf("error: %s", t->error_message);
        for (size_t p = 0; p < t->n_partitions; p++)
            printf("%s%d:%d", p ? " " : "", t->partitions[p]->index,
                   t->partitions[p]->leader);
        printf("\n");
    }
    if (tr->n_brokers)
        printf("\n%-8s %s\n", "BROKER", "ADDRESS");
    for (size_t i = 0; i < tr->n_brokers; i++)
        printf("%-8d %s:%d\n", tr->brokers[i]->node_id, tr->brokers[i]->host,
               tr->brokers[i]->port);
}

static int cmd_topics(const char *name)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__TopicsRequest tq = CHUTE__CTL__TOPICS_REQUEST__INIT;
    Chute__Ctl__Reply *r;
    int rc = 0;

    q.body_case = CHUTE__CTL__REQUEST__BODY_TOPICS;
    q.topics = &tq;
    r = call(name, "topics", &q, TOPICS_TIMEOUT_MS);
    if (!r)
        return 1;
    if (json_mode)
        topics_json(r->topics);
    else
        topics_table(r->topics);
    for (size_t i = 0; i < r->topics->n_topics; i++) {
        const Chute__Ctl__TopicsReply__Topic *t = r->topics->topics[i];
        if (t->error_code) {
            fprintf(stderr, "chutectl: topic \"%s\": %s\n", t->name,
                    t->error_message);
            rc = 1;
        }
    }
    ctlmsg_reply_free(r);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

/* A whole non-negative decimal number up to max, else -1. */
static long number(const char *s, long max)
{
    char *end;
    long v;

    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    v = strtol(s, &end, 10);
    return *end || v < 0 || v > max ? -1 : v;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"json", no_argument, NULL, 'j'},
        {"name", required_argument, NULL, 'n'},
        {"wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *name = "default", *cmd;
    long wait_ms = SCALE_WAIT_DEFAULT_MS, n;
    int opt, args;

    J.out = stdout;
    while ((opt = getopt_long(argc, argv, "n:jw:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'n': name = optarg; break;
        case 'j': json_mode = true; break;
        case 'w':
            wait_ms = number(optarg, INT32_MAX / 2);
            if (wait_ms < 0) {
                usage(stderr);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    args = argc - optind;
    cmd = args > 0 ? argv[optind] : "";
    if (strcmp(cmd, "status") == 0 && args == 1)
        return cmd_status(name);
    if (strcmp(cmd, "drain") == 0 && args == 1)
        return cmd_drain(name);
    if (strcmp(cmd, "topics") == 0 && args == 1)
        return cmd_topics(name);
    if (strcmp(cmd, "reload") == 0 && args == 1)
        return cmd_reload(name);
    if (strcmp(cmd, "scale") == 0 && args == 2 &&
        (n = number(argv[optind + 1], 4096)) >= 1)
        return cmd_scale(name, (uint32_t)n, (int)wait_ms);
    if (strcmp(cmd, "flush") == 0 && args <= 2) {
        n = args == 2 ? number(argv[optind + 1], INT32_MAX / 2)
                      : FLUSH_DEFAULT_MS;
        if (n >= 1)
            return cmd_flush(name, (uint32_t)n);
    }
    usage(stderr);
    return 2;
}
