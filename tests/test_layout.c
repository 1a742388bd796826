/*
 * test_layout.c: the shared-memory layout may not change without a
 * LAYOUT_VERSION bump.
 *
 * Clients built apart from chuted, a new chuted taking over an old one's
 * memory, and its workers all read the same bytes; LAYOUT_VERSION is how
 * they know they agree.  This test lists every member of every struct in
 * shared memory (shm/layout.h, shm/metrics.h) with its offset and size,
 * and the constants that size the tables, hashes the list into a
 * fingerprint and compares it with the one recorded for the current
 * LAYOUT_VERSION.  So that a new member cannot slip into a struct's
 * padding unlisted, the list must name, in order, every member the
 * headers declare (read from their text), and the members of each struct
 * must cover all its bytes.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <ctype.h>
#include <inttypes.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/layout.h"
#include "shm/metrics.h"

/* One recorded fingerprint per LAYOUT_VERSION; add a row with each bump. */
static const struct {
    uint32_t version;
    uint64_t fingerprint;
} layout_fingerprints[] = {
    {2, 0x9866c3b2aada954b},
    {3, 0x5fc5f97b7e858155},
    {4, 0x67171e13ed33a287},
    {5, 0x3348ce1ce99b8b0d},
    {6, 0x3d83b9cd1eb6849f},
    {7, 0x59a25361c5f017b3},
    {8, 0x5bbcb858a28ebef1},
    {9, 0x628e4d3c87d37ba2},
};

struct member {
    const char *type; /* "struct intake_header" */
    const char *name; /* "" for the type's own size */
    size_t off, size;
};

#define SIZE(T)     {#T, "", 0, sizeof(T)}
#define FIELD(T, f) {#T, #f, offsetof(T, f), sizeof(((T *)0)->f)}

/* In the order the headers declare them: a type's size, then its members. */
static const struct member members[] = {
    SIZE(struct intake_header),
    FIELD(struct intake_header, magic),
    FIELD(struct intake_header, layout_version),
    FIELD(struct intake_header, header_size),
    FIELD(struct intake_header, total_size),
    FIELD(struct intake_header, slot_count),
    FIELD(struct intake_header, ring_size),
    FIELD(struct intake_header, stats_off),
    FIELD(struct intake_header, slots_off),
    FIELD(struct intake_header, slot_stride),
    FIELD(struct intake_header, reports_off),
    FIELD(struct intake_header, report_ring_size),
    FIELD(struct intake_header, user),
    FIELD(struct intake_header, refused),
    FIELD(struct intake_header, padded),

    SIZE(struct intake_client_stat),
    FIELD(struct intake_client_stat, records_sent),
    FIELD(struct intake_client_stat, padded),

    SIZE(struct ring_prod),
    FIELD(struct ring_prod, tail),
    FIELD(struct ring_prod, padded),

    SIZE(struct ring_cons),
    FIELD(struct ring_cons, head),
    FIELD(struct ring_cons, resolved),
    FIELD(struct ring_cons, sleeping),
    FIELD(struct ring_cons, owner),
    FIELD(struct ring_cons, dead_writers),
    FIELD(struct ring_cons, corrupt),
    FIELD(struct ring_cons, drained),
    FIELD(struct ring_cons, blocked_by),
    FIELD(struct ring_cons, pad0),
    FIELD(struct ring_cons, padded),

    SIZE(struct ring_ctl),
    FIELD(struct ring_ctl, prod),
    FIELD(struct ring_ctl, cons),

    SIZE(struct ring_rec),
    FIELD(struct ring_rec, len),
    FIELD(struct ring_rec, pid),
    FIELD(struct ring_rec, client),
    FIELD(struct ring_rec, reserved),
    FIELD(struct ring_rec, topic),
    FIELD(struct ring_rec, partition),
    FIELD(struct ring_rec, tail_len),
    FIELD(struct ring_rec, timestamp),
    FIELD(struct ring_rec, opaque),
    FIELD(struct ring_rec, accepted_ns),

    SIZE(struct ring_report),
    FIELD(struct ring_report, opaque),
    FIELD(struct ring_report, offset),
    FIELD(struct ring_report, error),
    FIELD(struct ring_report, flags),

    SIZE(struct status_header),
    FIELD(struct status_header, magic),
    FIELD(struct status_header, layout_version),
    FIELD(struct status_header, header_size),
    FIELD(struct status_header, total_size),
    FIELD(struct status_header, slot_count),
    FIELD(struct status_header, ring_size),
    FIELD(struct status_header, max_record),
    FIELD(struct status_header, supervisor_pid),
    FIELD(struct status_header, topics_off),
    FIELD(struct status_header, clients_off),
    FIELD(struct status_header, rings_off),
    FIELD(struct status_header, owners_off),
    FIELD(struct status_header, generation),
    FIELD(struct status_header, accepting),
    FIELD(struct status_header, ready),
    FIELD(struct status_header, name),
    FIELD(struct status_header, queue_full_fail),
    FIELD(struct status_header, max_block_ms),
    FIELD(struct status_header, users_off),
    FIELD(struct status_header, user_count),
    FIELD(struct status_header, user_slots),
    FIELD(struct status_header, padded),

    SIZE(struct status_topic),
    FIELD(struct status_topic, state),
    FIELD(struct status_topic, partitions),
    FIELD(struct status_topic, name_len),
    FIELD(struct status_topic, name),
    FIELD(struct status_topic, padded),

    SIZE(struct status_client),
    FIELD(struct status_client, pid),
    FIELD(struct status_client, uid),
    FIELD(struct status_client, report_ring),
    FIELD(struct status_client, user),
    FIELD(struct status_client, records_acked),
    FIELD(struct status_client, records_failed),
    FIELD(struct status_client, reports_lost),
    FIELD(struct status_client, padded),

    SIZE(struct status_report_owner),
    FIELD(struct status_report_owner, pid),
    FIELD(struct status_report_owner, client),

    SIZE(struct status_user),
    FIELD(struct status_user, bound),
    FIELD(struct status_user, uid),
    FIELD(struct status_user, refused),
    FIELD(struct status_user, topics),
    FIELD(struct status_user, truncated),
    FIELD(struct status_user, padded),

    SIZE(struct state_worker),
    FIELD(struct state_worker, pid),
    FIELD(struct state_worker, restarts),
    FIELD(struct state_worker, started_ms),
    FIELD(struct state_worker, heartbeat_ms),
    FIELD(struct state_worker, records_sent),
    FIELD(struct state_worker, records_acked),
    FIELD(struct state_worker, records_failed),
    FIELD(struct state_worker, batches_sent),
    FIELD(struct state_worker, bytes_sent),
    FIELD(struct state_worker, requests_sent),
    FIELD(struct state_worker, records_invalid),
    FIELD(struct state_worker, drain_pos),
    FIELD(struct state_worker, drain_slot),
    FIELD(struct state_worker, pad0),
    FIELD(struct state_worker, tls_failures),
    FIELD(struct state_worker, sasl_failures),
    FIELD(struct state_worker, reauths),
    FIELD(struct state_worker, padded),

    SIZE(struct state_live),
    FIELD(struct state_live, generation),
    FIELD(struct state_live, pad0),
    FIELD(struct state_live, values),

    SIZE(struct state_topic_settings),
    FIELD(struct state_topic_settings, values),

    SIZE(struct state_topics),
    FIELD(struct state_topics, generation),
    FIELD(struct state_topics, pad0),
    FIELD(struct state_topics, topic),

    SIZE(struct state_header),
    FIELD(struct state_header, magic),
    FIELD(struct state_header, layout_version),
    FIELD(struct state_header, header_size),
    FIELD(struct state_header, total_size),
    FIELD(struct state_header, workers_off),
    FIELD(struct state_header, pool_off),
    FIELD(struct state_header, chunk_size),
    FIELD(struct state_header, chunk_count),
    FIELD(struct state_header, worker_count),
    FIELD(struct state_header, pad0),
    FIELD(struct state_header, slots_off),
    FIELD(struct state_header, partitions_off),
    FIELD(struct state_header, errors_off),
    FIELD(struct state_header, metrics_off),
    FIELD(struct state_header, topic_acked),
    FIELD(struct state_header, topic_failed),
    FIELD(struct state_header, slot_owner),
    FIELD(struct state_header, slot_target),
    FIELD(struct state_header, live),
    FIELD(struct state_header, topics),
    FIELD(struct state_header, padded),

    SIZE(struct state_slot),
    FIELD(struct state_slot, producer_id),
    FIELD(struct state_slot, epoch),
    FIELD(struct state_slot, pad0),
    FIELD(struct state_slot, bumps),
    FIELD(struct state_slot, padded),

    SIZE(struct state_partition),
    FIELD(struct state_partition, key),
    FIELD(struct state_partition, next_seq),
    FIELD(struct state_partition, acked_seq),
    FIELD(struct state_partition, padded),

    SIZE(struct state_error),
    FIELD(struct state_error, key),
    FIELD(struct state_error, pad),
    FIELD(struct state_error, records),

    SIZE(union chunk_fill),
    FIELD(union chunk_fill, count),
    FIELD(union chunk_fill, used),
    FIELD(union chunk_fill, word),

    SIZE(struct pool_chunk),
    FIELD(struct pool_chunk, state),
    FIELD(struct pool_chunk, worker),
    FIELD(struct pool_chunk, topic),
    FIELD(struct pool_chunk, partition),
    FIELD(struct pool_chunk, slot),
    FIELD(struct pool_chunk, wire_len),
    FIELD(struct pool_chunk, count),
    FIELD(struct pool_chunk, used),
    FIELD(struct pool_chunk, fill),
    FIELD(struct pool_chunk, base_ts),
    FIELD(struct pool_chunk, max_ts),
    FIELD(struct pool_chunk, ring_first),
    FIELD(struct pool_chunk, producer_id),
    FIELD(struct pool_chunk, base_sequence),
    FIELD(struct pool_chunk, producer_epoch),
    FIELD(struct pool_chunk, codec),
    FIELD(struct pool_chunk, opened_ns),
    FIELD(struct pool_chunk, accepted_ns),
    FIELD(struct pool_chunk, source),
    FIELD(struct pool_chunk, reported),
    FIELD(struct pool_chunk, reporting),
    FIELD(struct pool_chunk, padded),

    SIZE(struct chunk_origin),
    FIELD(struct chunk_origin, opaque),
    FIELD(struct chunk_origin, ring_end),
    FIELD(struct chunk_origin, client),
    FIELD(struct chunk_origin, pad),

    SIZE(struct metrics_hist),
    FIELD(struct metrics_hist, bucket),
    FIELD(struct metrics_hist, count),
    FIELD(struct metrics_hist, sum),

    SIZE(struct metrics_broker),
    FIELD(struct metrics_broker, node_id),
    FIELD(struct metrics_broker, pad),
    FIELD(struct metrics_broker, latency_us),
    FIELD(struct metrics_broker, errors),

    SIZE(struct state_metrics),
    FIELD(struct state_metrics, retries),
    FIELD(struct state_metrics, batch_bytes),
    FIELD(struct state_metrics, batch_records),
    FIELD(struct state_metrics, compression),
    FIELD(struct state_metrics, brokers),
};

#define CONST(c) {#c, (int64_t)(c)}

/* Constants that size the tables or give meaning to shared words. */
static const struct {
    const char *name;
    int64_t value;
} constants[] = {
    CONST(LAYOUT_MAGIC),      CONST(LAYOUT_CACHELINE),
    CONST(TOPIC_MAX),         CONST(TOPIC_NAME_MAX),
    CONST(CLIENT_MAX),        CONST(WORKER_MAX),
    CONST(REPORT_RINGS),      CONST(USER_MAX),
    CONST(REPORT_RINGS_PER_USER),      CONST(TOPIC_ERROR_MAX),
    CONST(SLOT_MAX),          CONST(PARTITION_MAX),
    CONST(RING_ALIGN),        CONST(RING_FLAG_PAD),
    CONST(RING_PAD_MIN),      CONST(REFUSED_REASONS),
    CONST(TOPIC_READY),       CONST(CHUNK_OPEN),
    CONST(CHUNK_SEALED),      CONST(CHUNK_IN_FLIGHT),
    CONST(METRICS_BUCKETS),   CONST(METRICS_BROKERS),
    /* Not the live settings' indices: a new one takes a free value of the
     * block (append only), which changes no byte a client reads. */
    CONST(LIVE_MAX),          CONST(TOPIC_SET_MAX),
};

#define NMEMBERS (sizeof(members) / sizeof(members[0]))
#define NCONSTANTS (sizeof(constants) / sizeof(constants[0]))

/* ---- the fingerprint ------------------------------------------------------
 */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return h;
}

static int member_cmp(const void *a, const void *b)
{
    const struct member *x = a, *y = b;
    int c = strcmp(x->type, y->type);

    if (c == 0)
        c = x->off < y->off ? -1 : x->off > y->off;
    return c ? c : strcmp(x->name, y->name);
}

/* A hash of every member's type, name, offset and size, and of the
 * constants; in a fixed order, so that reordering members[] alone does
 * not change it. */
static uint64_t layout_fingerprint(void)
{
    struct member sorted[NMEMBERS];
    uint64_t h = 0xcbf29ce484222325ULL;
    char line[160];

    memcpy(sorted, members, sizeof(sorted));
    qsort(sorted, NMEMBERS, sizeof(sorted[0]), member_cmp);
    for (size_t i = 0; i < NMEMBERS; i++) {
        snprintf(line, sizeof(line), "%s.%s %zu+%zu\n", sorted[i].type,
                 sorted[i].name, sorted[i].off, sorted[i].size);
        h = fnv1a(h, line);
    }
    for (size_t i = 0; i < NCONSTANTS; i++) {
        snprintf(line, sizeof(line), "%s=%" PRId64 "\n", constants[i].name,
                 constants[i].value);
        h = fnv1a(h, line);
    }
    return h;
}

static void test_layout_fingerprint(void **state)
{
    uint64_t now = layout_fingerprint();
    size_t n = sizeof(layout_fingerprints) / sizeof(layout_fingerprints[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        if (layout_fingerprints[i].version != LAYOUT_VERSION)
            continue;
        if (layout_fingerprints[i].fingerprint == now)
            return;
        fail_msg("the shared-memory layout changed (fingerprint 0x%016" PRIx64
                 ", recorded 0x%016" PRIx64 " for LAYOUT_VERSION %d): clients "
                 "and workers built before would read other bytes. Bump "
                 "LAYOUT_VERSION in shm/layout.h to %d and add "
                 "{%d, 0x%016" PRIx64 "} to layout_fingerprints[] in "
                 "tests/test_layout.c",
                 now, layout_fingerprints[i].fingerprint, LAYOUT_VERSION,
                 LAYOUT_VERSION + 1, LAYOUT_VERSION + 1, now);
    }
    fail_msg("LAYOUT_VERSION %d has no recorded fingerprint: add "
             "{%d, 0x%016" PRIx64 "} to layout_fingerprints[] in "
             "tests/test_layout.c",
             LAYOUT_VERSION, LAYOUT_VERSION, now);
}

/* ---- every member listed, every byte covered ------------------------------
 */

/* The header's text without comments; the caller frees it. */
static char *read_source(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = NULL, *out;
    size_t cap = 0, len = 0, o = 0;

    if (!f)
        fail_msg("cannot open %s (run from the top of the tree)", path);
    len = getdelim(&text, &cap, '\0', f) > 0 ? strlen(text) : 0;
    fclose(f);
    out = calloc(1, len + 1);
    assert_non_null(out);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '/' && text[i + 1] == '*') {
            char *end = strstr(text + i + 2, "*/");
            i = end ? (size_t)(end - text) + 1 : len;
        } else if (text[i] == '/' && text[i + 1] == '/') {
            while (i < len && text[i] != '\n')
                i++;
        } else if (text[i] == '#') { /* a preprocessor line */
            while (i < len && text[i] != '\n')
                i += text[i] == '\\' ? 2 : 1;
        } else {
            out[o++] = text[i];
        }
    }
    free(text);
    return out;
}

/* The name a declaration "type name[...]" declares, into buf. */
static void declared_name(const char *decl, size_t len, char *buf, size_t size)
{
    size_t end = len, start;
    int depth = 0;

    while (end > 0) { /* skip array bounds and space from the right */
        char c = decl[end - 1];
        if (c == ']')
            depth++;
        else if (c == '[')
            depth--;
        else if (depth == 0 && !isspace((unsigned char)c))
            break;
        end--;
    }
    for (start = end; start > 0 && (isalnum((unsigned char)decl[start - 1]) ||
                                    decl[start - 1] == '_');
         start--)
        ;
    snprintf(buf, size, "%.*s", (int)(end - start), decl + start);
}

/* Checks that the members of `type` (from `body`, the text between its
 * braces) are, in order, the ones members[] lists for it. */
static void check_declared(const char *type, const char *body, size_t len)
{
    size_t i = 0, from = 0;
    char name[64];

    while (i < NMEMBERS && strcmp(members[i].type, type) != 0)
        i++;
    if (i == NMEMBERS)
        fail_msg("%s is not in members[] of tests/test_layout.c: add its "
                 "SIZE() and a FIELD() for each member",
                 type);
    i++; /* its SIZE() row */
    for (size_t at = 0; at <= len; at++) {
        if (at < len && body[at] != ';' && body[at] != '{' && body[at] != '}')
            continue;
        bool decl = at < len && body[at] == ';';
        declared_name(body + from, at - from, name, sizeof(name));
        from = at + 1;
        if (!decl || !*name)
            continue;
        if (i >= NMEMBERS || strcmp(members[i].type, type) != 0 ||
            strcmp(members[i].name, name) != 0)
            fail_msg("%s declares \"%s\" where members[] of "
                     "tests/test_layout.c has %s \"%s\": list every member "
                     "in order",
                     type, name, i < NMEMBERS ? members[i].type : "nothing",
                     i < NMEMBERS ? members[i].name : "");
        i++;
    }
    if (i < NMEMBERS && strcmp(members[i].type, type) == 0)
        fail_msg("%s has no member \"%s\" that members[] lists", type,
                 members[i].name);
}

/* Checks every top-level "struct NAME {" and "union NAME {" of a header. */
static void check_header(const char *path)
{
    char *text = read_source(path), *p = text, type[96];
    regex_t re;
    regmatch_t m[3];
    int depth = 0;

    assert_int_equal(regcomp(&re,
                             "^(struct|union)[[:space:]]+"
                             "([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\\{",
                             REG_EXTENDED),
                     0);
    for (; *p; p++) {
        depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
        if (depth != 0 || (p > text && (isalnum((unsigned char)p[-1]) ||
                                        p[-1] == '_')) ||
            regexec(&re, p, 3, m, 0) != 0)
            continue;
        char *body = p + m[0].rm_eo, *end = body;
        for (int d = 1; *end && (d += *end == '{' ? 1 : *end == '}' ? -1 : 0);)
            end++;
        snprintf(type, sizeof(type), "%.*s %.*s",
                 (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so,
                 (int)(m[2].rm_eo - m[2].rm_so), p + m[2].rm_so);
        check_declared(type, body, (size_t)(end - body));
        p = end; /* its closing brace: depth stays 0 */
    }
    regfree(&re);
    free(text);
}

static void test_layout_lists_every_member(void **state)
{
    (void)state;
    check_header("shm/layout.h");
    check_header("shm/metrics.h");
}

/* No byte of a struct is in no member: padding is a member too. */
static void test_layout_no_hidden_padding(void **state)
{
    struct member m[NMEMBERS];

    (void)state;
    memcpy(m, members, sizeof(m));
    qsort(m, NMEMBERS, sizeof(m[0]), member_cmp); /* a type's size first */
    for (size_t i = 0; i < NMEMBERS;) {
        const struct member *t = &m[i++];
        size_t covered = 0;

        for (; i < NMEMBERS && strcmp(m[i].type, t->type) == 0; i++) {
            if (m[i].off > covered)
                fail_msg("%s: bytes %zu..%zu are in no member (before "
                         "\"%s\"): make the padding a member",
                         t->type, covered, m[i].off, m[i].name);
            if (m[i].off + m[i].size > covered)
                covered = m[i].off + m[i].size;
        }
        if (covered != t->size)
            fail_msg("%s: its members end at %zu, the type at %zu: make "
                     "the padding a member",
                     t->type, covered, t->size);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_lists_every_member),
        cmocka_unit_test(test_layout_no_hidden_padding),
        cmocka_unit_test(test_layout_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
