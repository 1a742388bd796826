/*
 * config.c: the property schema of chute and the code that reads, checks,
 * dumps and documents it.
 *
 * Each property is one row of config_props[]: its name (and an alias where
 * Java spells it otherwise), type, where its value lives in struct config,
 * its default as text, its range, allowed values, an extra rule, whether a
 * reload may change it and who applies it, where its value lands for the
 * workers (an index of the live block, enum live_setting, or of a
 * topic's settings, enum topic_setting) and how it is converted to their
 * unit, and one line of documentation.  Defaults are parsed by the same
 * code as file values, so a default can never be out of range.  A new
 * reloadable setting is one row here, its line in LIVE_SETTINGS or
 * TOPIC_SETTINGS (shm/layout.h), and its use.  The topic.NAME.PROPERTY
 * settings of a row with .topic are kept by config_topic.c.
 */
#include "supervisor/config.h"
#include "supervisor/acl.h"
#include "supervisor/config_topic.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/bootstrap.h"
#include "broker/sasl.h"
#include "common/err.h"
#include "common/name.h"
#include "proto/batch.h"
#include "proto/codec.h"
#include "shm/layout.h"

/* Whether SIGHUP applies a changed value, and who does. */
enum config_reload {
    RELOAD_NO,         /* only a restart changes it */
    RELOAD_LIVE,       /* the workers, from the live block (.live) */
    RELOAD_SUPERVISOR, /* the supervisor itself: client defaults, workers */
    RELOAD_TOPIC,      /* the workers, per topic (.topic): the supervisor
                          publishes each topic's value */
};

enum config_type {
    CONFIG_INT,      /* int field */
    CONFIG_DURATION, /* int field, milliseconds */
    CONFIG_SIZE,     /* uint64_t field, bytes; k, m, g suffixes */
    CONFIG_ENUM,     /* enum or int field, one of values[] */
    CONFIG_STRING,   /* char * field, heap copy */
    CONFIG_BOOL,     /* bool field */
};

/* A parsed value before it is stored: i for INT, DURATION, SIZE and ENUM. */
union config_value {
    int64_t i;
    bool b;
    const char *s;
};

struct config_enum {
    const char *name;
    int code;
};

struct config_prop {
    const char *name;
    const char *alias;
    enum config_type type;
    size_t off;
    const char *def;
    int64_t min, max;
    const struct config_enum *values; /* ends with a NULL name */
    int (*check)(const char *text, const union config_value *v);
    const char *rule; /* what check() demands, for the docs */
    enum config_reload reload;
    enum live_setting live; /* RELOAD_LIVE: where the workers read it */
    enum topic_setting topic; /* RELOAD_TOPIC: where, in each topic's */
    int64_t (*to_live)(int64_t v); /* the workers' unit; NULL: as stored */
    const char *doc;
    bool icase;  /* ENUM: letter case does not matter (librdkafka's) */
    bool secret; /* never shown: dumps, docs' defaults, messages */
};

#define KIB        1024LL
#define MIB        (1024LL * KIB)
#define GIB        (1024LL * MIB)
#define OFF(field) offsetof(struct config, field)

_Static_assert(sizeof(enum config_compression) == sizeof(int),
               "enum fields are stored through int pointers");
_Static_assert(sizeof(enum config_queue_full) == sizeof(int),
               "enum fields are stored through int pointers");
_Static_assert(sizeof(enum config_security) == sizeof(int),
               "enum fields are stored through int pointers");
_Static_assert(sizeof(enum log_level) == sizeof(int),
               "enum fields are stored through int pointers");

static int config_check_pow2(const char *text, const union config_value *v)
{
    if (v->i <= 0 || (v->i & (v->i - 1)) != 0)
        return err_set(CHUTE_ERR_INVALID, "\"%s\" is not a power of two", text);
    return 0;
}

/* worker.heartbeat.timeout.ms: 0 (never), or well above the workers'
 * 100 ms tick. */
static int config_check_heartbeat(const char *text, const union config_value *v)
{
    if (v->i != 0 && v->i < 500)
        return err_set(CHUTE_ERR_INVALID, "\"%s\" is neither 0 nor at least "
                       "500", text);
    return 0;
}

static int config_check_name(const char *text, const union config_value *v)
{
    (void)text;
    return name_check(v->s);
}

/* compression.codec -> the codec the workers write (proto/batch.h). */
static int64_t config_live_codec(int64_t v)
{
    static const int16_t codecs[] = {
        [CONFIG_COMPRESSION_NONE] = BATCH_CODEC_NONE,
        [CONFIG_COMPRESSION_GZIP] = BATCH_CODEC_GZIP,
        [CONFIG_COMPRESSION_SNAPPY] = BATCH_CODEC_SNAPPY,
        [CONFIG_COMPRESSION_LZ4] = BATCH_CODEC_LZ4,
        [CONFIG_COMPRESSION_ZSTD] = BATCH_CODEC_ZSTD,
    };

    return codecs[v];
}

/* 0, "no limit", -> the longest time the workers' int holds. */
static int64_t config_live_no_limit(int64_t v)
{
    return v ? v : INT32_MAX;
}

static const struct config_enum config_compressions[] = {
    {"none", CONFIG_COMPRESSION_NONE}, {"gzip", CONFIG_COMPRESSION_GZIP},
    {"snappy", CONFIG_COMPRESSION_SNAPPY}, {"lz4", CONFIG_COMPRESSION_LZ4},
    {"zstd", CONFIG_COMPRESSION_ZSTD}, {0}};
static const struct config_enum config_acks[] = {
    {"all", -1}, {"-1", -1}, {"0", 0}, {"1", 1}, {0}};
static const struct config_enum config_queue_full_policies[] = {
    {"block", CONFIG_QUEUE_FULL_BLOCK}, {"fail", CONFIG_QUEUE_FULL_FAIL}, {0}};
static const struct config_enum config_security_protocols[] = {
    {"plaintext", CONFIG_SEC_PLAINTEXT},
    {"ssl", CONFIG_SEC_SSL},
    {"sasl_plaintext", CONFIG_SEC_SASL_PLAINTEXT},
    {"sasl_ssl", CONFIG_SEC_SASL_SSL},
    {0}};
static const struct config_enum config_endpoint_algorithms[] = {
    {"https", 1}, {"none", 0}, {0}};
static const struct config_enum config_sasl_mechanisms[] = {
    {"PLAIN", SASL_PLAIN},
    {"SCRAM-SHA-256", SASL_SCRAM_SHA_256},
    {"SCRAM-SHA-512", SASL_SCRAM_SHA_512},
    {"OAUTHBEARER", SASL_OAUTHBEARER},
    {0}};
static const struct config_enum config_log_levels[] = {{"error", LOG_ERROR},
                                                       {"warn", LOG_WARN},
                                                       {"info", LOG_INFO},
                                                       {"debug", LOG_DEBUG},
                                                       {0}};

static const struct config_prop config_props[] = {
    {.name = "bootstrap.servers",
     .type = CONFIG_STRING,
     .off = OFF(bootstrap_servers),
     .def = "",
     .doc = "Brokers to fetch the cluster's metadata from, as "
            "host:port,host:port. Required."},
    {.name = "client.id",
     .type = CONFIG_STRING,
     .off = OFF(client_id),
     .def = "chute",
     .doc = "Client id sent to the brokers with every "
            "request."},
    {.name = "linger.ms",
     .type = CONFIG_DURATION,
     .off = OFF(linger_ms),
     .def = "5",
     .min = 0,
     .max = 900000,
     .reload = RELOAD_TOPIC,
     .topic = TOPIC_SET_LINGER_MS,
     .doc = "How long a batch waits for more records before it is sent."},
    {.name = "batch.size",
     .type = CONFIG_INT,
     .off = OFF(batch_size),
     .def = "1000000",
     .min = 1,
     .max = 2147483647,
     .reload = RELOAD_TOPIC,
     .topic = TOPIC_SET_BATCH_SIZE,
     .doc = "Largest record batch in bytes; the largest of any topic sizes "
            "the buffer-pool chunks."},
    {.name = "batch.num.messages",
     .type = CONFIG_INT,
     .off = OFF(batch_num_messages),
     .def = "10000",
     .min = 1,
     .max = 1000000,
     .reload = RELOAD_TOPIC,
     .topic = TOPIC_SET_BATCH_NUM_MESSAGES,
     .doc = "Most records in one batch."},
    {.name = "compression.codec",
     .alias = "compression.type",
     .type = CONFIG_ENUM,
     .off = OFF(compression),
     .def = "none",
     .values = config_compressions,
     .reload = RELOAD_TOPIC,
     .topic = TOPIC_SET_CODEC,
     .to_live = config_live_codec,
     .doc = "Compression of record batches (alias compression.type), as the "
            "Java producer writes it; a batch that compression does not "
            "make smaller is sent uncompressed."},
    {.name = "compression.level",
     .type = CONFIG_INT,
     .off = OFF(compression_level),
     .def = "-1",
     .min = -1,
     .max = 22,
     .reload = RELOAD_TOPIC,
     .topic = TOPIC_SET_LEVEL,
     .doc = "Compression level, as librdkafka has it: -1 is the codec's "
            "default (gzip 6, lz4 0, zstd 3); gzip takes 0-9, lz4 0-12, "
            "zstd 0-22, snappy and none only 0."},
    {.name = "acks",
     .type = CONFIG_ENUM,
     .off = OFF(acks),
     .def = "all",
     .values = config_acks,
     .doc = "Acknowledgements the leader waits for: all (-1), 1 or 0."},
    {.name = "message.max.bytes",
     .type = CONFIG_INT,
     .off = OFF(message_max_bytes),
     .def = "1000000",
     .min = 1000,
     .max = 1000000000,
     .doc = "Largest record chute accepts, in bytes."},
    {.name = "enable.idempotence",
     .type = CONFIG_BOOL,
     .off = OFF(enable_idempotence),
     .def = "true",
     .doc = "Idempotent producer: each record is written once and in order; "
            "needs acks=all."},
    {.name = "message.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(message_timeout_ms),
     .def = "300000",
     .min = 0,
     .max = 2147483647,
     .reload = RELOAD_LIVE,
     .live = LIVE_MESSAGE_TIMEOUT_MS,
     .to_live = config_live_no_limit,
     .doc = "Time a record may take to be delivered before it fails; 0 is "
            "no limit."},
    {.name = "request.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(request_timeout_ms),
     .def = "30000",
     .min = 1,
     .max = 900000,
     .reload = RELOAD_LIVE,
     .live = LIVE_REQUEST_TIMEOUT_MS,
     .doc = "Time the broker may take to acknowledge a produce request; "
            "sent to the broker as the acks timeout."},
    {.name = "retry.backoff.ms",
     .type = CONFIG_DURATION,
     .off = OFF(retry_backoff_ms),
     .def = "100",
     .min = 1,
     .max = 300000,
     .reload = RELOAD_LIVE,
     .live = LIVE_RETRY_BACKOFF_MS,
     .doc = "First wait before a failed request is retried."},
    {.name = "retry.backoff.max.ms",
     .type = CONFIG_DURATION,
     .off = OFF(retry_backoff_max_ms),
     .def = "1000",
     .min = 1,
     .max = 300000,
     .reload = RELOAD_LIVE,
     .live = LIVE_RETRY_BACKOFF_MAX_MS,
     .doc = "Longest wait between retries; the wait doubles up to it."},
    {.name = "retries",
     .type = CONFIG_INT,
     .off = OFF(retries),
     .def = "2147483647",
     .min = 0,
     .max = 2147483647,
     .reload = RELOAD_LIVE,
     .live = LIVE_RETRIES,
     .doc = "How often a batch is retried before it fails."},
    {.name = "max.in.flight.requests.per.connection",
     .type = CONFIG_INT,
     .off = OFF(max_in_flight),
     .def = "5",
     .min = 1,
     .max = 1000000,
     .doc = "Produce requests in flight per broker connection; at most 5 "
            "with idempotence."},
    {.name = "metadata.max.age.ms",
     .type = CONFIG_DURATION,
     .off = OFF(metadata_max_age_ms),
     .def = "900000",
     .min = 1,
     .max = 86400000,
     .reload = RELOAD_LIVE,
     .live = LIVE_METADATA_MAX_AGE_MS,
     .doc = "Metadata is refreshed at least this often."},
    {.name = "socket.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(socket_timeout_ms),
     .def = "60000",
     .min = 10,
     .max = 300000,
     .reload = RELOAD_LIVE,
     .live = LIVE_SOCKET_TIMEOUT_MS,
     .doc = "Time limit of a broker connection's connect and ApiVersions "
            "handshake, and of each request other than Produce (Metadata, "
            "InitProducerId)."},
    {.name = "reconnect.backoff.ms",
     .type = CONFIG_DURATION,
     .off = OFF(reconnect_backoff_ms),
     .def = "100",
     .min = 0,
     .max = 3600000,
     .reload = RELOAD_LIVE,
     .live = LIVE_RECONNECT_BACKOFF_MS,
     .doc = "First wait before a worker reconnects to a broker, counted "
            "from the start of the attempt before; it doubles up to "
            "reconnect.backoff.max.ms, with -25 % to +50 % jitter; 0 "
            "reconnects at once."},
    {.name = "reconnect.backoff.max.ms",
     .type = CONFIG_DURATION,
     .off = OFF(reconnect_backoff_max_ms),
     .def = "10000",
     .min = 0,
     .max = 3600000,
     .reload = RELOAD_LIVE,
     .live = LIVE_RECONNECT_BACKOFF_MAX_MS,
     .doc = "Longest wait between a worker's attempts to reach a broker."},
    {.name = "ring.claim.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(claim_timeout_ms),
     .def = "10000",
     .min = 100,
     .max = 3600000,
     .reload = RELOAD_LIVE,
     .live = LIVE_CLAIM_TIMEOUT_MS,
     .doc = "Longest a live client may hold claimed ring space it has not "
            "committed (a record takes microseconds to write); past it the "
            "worker skips the record, counts it as a dead writer's, and the "
            "client's late commit fails.  Until then the slot's later "
            "records wait, without the worker spinning."},
    {.name = "queue.full.policy",
     .type = CONFIG_ENUM,
     .off = OFF(queue_full_policy),
     .def = "block",
     .values = config_queue_full_policies,
     .reload = RELOAD_SUPERVISOR,
     .doc = "What chute_send() does on a full ring: block (up to "
            "max.block.ms) or fail."},
    {.name = "max.block.ms",
     .type = CONFIG_DURATION,
     .off = OFF(max_block_ms),
     .def = "60000",
     .min = 0,
     .max = 2147483647,
     .reload = RELOAD_SUPERVISOR,
     .doc = "Longest time chute_send() blocks on a full ring."},
    {.name = "name",
     .type = CONFIG_STRING,
     .off = OFF(name),
     .def = CHUTE_NAME_DEFAULT,
     .check = config_check_name,
     .rule = "1 to 64 of A-Z a-z 0-9 _ . -",
     .doc = "Instance name; clients open the service by it."},
    {.name = "workers",
     .type = CONFIG_INT,
     .off = OFF(workers),
     .def = "2",
     .min = 1,
     .max = 64,
     .reload = RELOAD_SUPERVISOR,
     .doc = "Worker processes; at most slots."},
    {.name = "worker.heartbeat.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(worker_heartbeat_timeout_ms),
     .def = "5000",
     .min = 0,
     .max = 3600000,
     .check = config_check_heartbeat,
     .rule = "0 (never) or at least 500",
     .reload = RELOAD_SUPERVISOR,
     .doc = "A worker whose loop has not run for this long (its heartbeat, "
            "every 100 ms) is killed and replaced; 0 never kills one."},
    {.name = "slots",
     .type = CONFIG_INT,
     .off = OFF(slots),
     .def = "16",
     .min = 1,
     .max = 256,
     .check = config_check_pow2,
     .rule = "power of two",
     .doc = "Rings of each user space that partitions are hashed to; "
            "the unit of sharding (slots x users.max at most 256)."},
    {.name = "users.max",
     .type = CONFIG_INT,
     .off = OFF(users_max),
     .def = "4",
     .min = 1,
     .max = USER_MAX,
     .doc = "User spaces: uids that may have clients at once.  Each has "
            "rings of its own (slots x ring.size bytes, plus 32 MiB of "
            "delivery-report rings), allocated at start; a uid is bound to "
            "one when its first client registers and keeps it while the "
            "instance runs.  Another uid once all are bound gets "
            "CHUTE_ERR_TOO_MANY."},
    {.name = "ring.size",
     .type = CONFIG_SIZE,
     .off = OFF(ring_size),
     .def = "4m",
     .min = 64 * KIB,
     .max = GIB,
     .check = config_check_pow2,
     .rule = "power of two",
     .doc = "Bytes of each slot's ring; at least twice message.max.bytes "
            "plus 128 (a ring holds a record of up to half its size)."},
    {.name = "buffer.memory",
     .type = CONFIG_SIZE,
     .off = OFF(buffer_memory),
     .def = "64m",
     .min = MIB,
     .max = 64 * GIB,
     .doc = "Bytes of the shared buffer pool that holds batches."},
    /* TLS and SASL to the brokers: only a restart changes these; SIGHUP
     * reads the files they name again (certificate rotation). */
    {.name = "security.protocol",
     .type = CONFIG_ENUM,
     .off = OFF(security_protocol),
     .def = "plaintext",
     .values = config_security_protocols,
     .icase = true,
     .doc = "How to talk to the brokers: plaintext, ssl (TLS), "
            "sasl_plaintext or sasl_ssl (SASL authentication, without or "
            "with TLS). Any letter case."},
    {.name = "ssl.ca.location",
     .type = CONFIG_STRING,
     .off = OFF(ssl_ca_location),
     .def = "",
     .doc = "PEM file (or directory of hashed certificates) of the CAs the "
            "brokers' certificates must chain to; empty for the system's. "
            "Read again on SIGHUP."},
    {.name = "ssl.certificate.location",
     .type = CONFIG_STRING,
     .off = OFF(ssl_certificate_location),
     .def = "",
     .doc = "PEM file of chute's client certificate (and its chain) for "
            "brokers that demand one (mTLS); with ssl.key.location. Read "
            "again on SIGHUP."},
    {.name = "ssl.key.location",
     .type = CONFIG_STRING,
     .off = OFF(ssl_key_location),
     .def = "",
     .doc = "PEM file of the client certificate's private key. chuted "
            "warns if others may read it. Read again on SIGHUP."},
    {.name = "ssl.key.password",
     .type = CONFIG_STRING,
     .off = OFF(ssl_key_password),
     .def = "",
     .secret = true,
     .doc = "Pass phrase of an encrypted ssl.key.location. Secret: never "
            "logged or dumped."},
    {.name = "ssl.endpoint.identification.algorithm",
     .type = CONFIG_ENUM,
     .off = OFF(ssl_verify_hostname),
     .def = "https",
     .values = config_endpoint_algorithms,
     .icase = true,
     .doc = "https: a broker's certificate must carry the name (or "
            "address) chute connects to; none: any name (the chain is "
            "still verified)."},
    {.name = "ssl.cipher.suites",
     .type = CONFIG_STRING,
     .off = OFF(ssl_cipher_suites),
     .def = "",
     .doc = "OpenSSL cipher list for TLS 1.2 (e.g. "
            "ECDHE-RSA-AES256-GCM-SHA384); empty for OpenSSL's default. "
            "TLS 1.3 suites are OpenSSL's."},
    {.name = "sasl.mechanism",
     .alias = "sasl.mechanisms",
     .type = CONFIG_ENUM,
     .off = OFF(sasl_mechanism),
     .def = "PLAIN",
     .values = config_sasl_mechanisms,
     .icase = true,
     .doc = "SASL mechanism with sasl_plaintext and sasl_ssl."},
    {.name = "sasl.username",
     .type = CONFIG_STRING,
     .off = OFF(sasl_username),
     .def = "",
     .doc = "User name for PLAIN and SCRAM."},
    {.name = "sasl.password",
     .type = CONFIG_STRING,
     .off = OFF(sasl_password),
     .def = "",
     .secret = true,
     .doc = "Password for PLAIN and SCRAM. Secret: never logged or dumped; "
            "keep it in a configuration file only chuted's user may read "
            "(chuted warns otherwise), not in -X (ps shows arguments)."},
    {.name = "sasl.oauthbearer.token.file",
     .type = CONFIG_STRING,
     .off = OFF(sasl_oauthbearer_token_file),
     .def = "",
     .doc = "File holding the OAUTHBEARER token (a JWT) that whatever "
            "renews the token writes; chute reads it at each "
            "authentication, and re-authenticates its connections within "
            "a second when the file changes. chuted warns if others may "
            "read it."},
    {.name = "metrics.listen",
     .type = CONFIG_STRING,
     .off = OFF(metrics_listen),
     .def = "",
     .doc = "HOST:PORT of the metrics HTTP endpoint; empty for none."},
    {.name = "log.level",
     .type = CONFIG_ENUM,
     .off = OFF(log_level),
     .def = "info",
     .values = config_log_levels,
     .reload = RELOAD_LIVE,
     .live = LIVE_LOG_LEVEL,
     .doc = "Most detailed log level written."},
    {.name = "intake.group",
     .type = CONFIG_STRING,
     .off = OFF(intake_group),
     .def = "",
     .doc = "Group that owns the intake shared memory (clients "
            "must be in it); empty for the service's group."},
    {.name = "runtime.dir",
     .type = CONFIG_STRING,
     .off = OFF(runtime_dir),
     .def = "",
     .doc = "Directory of the control socket and the workers' doorbells; "
            "chuted creates it and refuses one that others may write. "
            "Empty: $CHUTE_RUN_DIR, else /run/chute as root (or when it "
            "exists), else $XDG_RUNTIME_DIR/chute. Clients find it the "
            "same way, so set CHUTE_RUN_DIR for them when you set this."},
    {.name = "admin.group",
     .type = CONFIG_STRING,
     .off = OFF(admin_group),
     .def = "",
     .doc = "Group whose members may change the service over the control "
            "socket (scale, drain, reload, flush), besides root and "
            "chuted's own user; the peer's primary or supplementary "
            "groups count. Empty for none. See docs/security.md."},
    {.name = "control.connections.max",
     .type = CONFIG_INT,
     .off = OFF(control_connections_max),
     .def = "256",
     .min = 16,
     .max = CONFIG_CONTROL_CONNECTIONS_MAX,
     .reload = RELOAD_SUPERVISOR,
     .doc = "Control-socket connections open at once; the last 8 are kept "
            "for admins."},
    {.name = "clients.per.user",
     .type = CONFIG_INT,
     .off = OFF(clients_per_user),
     .def = "256",
     .min = 1,
     .max = 1024,
     .reload = RELOAD_SUPERVISOR,
     .doc = "Client processes one user (uid) may have registered at once "
            "(of 1024 for the instance), so that one user cannot lock the "
            "others out; chute_open fails with CHUTE_ERR_TOO_MANY past "
            "it."},
    {.name = "control.connections.per.user",
     .type = CONFIG_INT,
     .off = OFF(control_connections_per_user),
     .def = "64",
     .min = 1,
     .max = CONFIG_CONTROL_CONNECTIONS_MAX / 2,
     .rule = "at most (control.connections.max - 8) / 2",
     .reload = RELOAD_SUPERVISOR,
     .doc = "Control-socket connections one user (uid) may have open at "
            "once; more are refused with an error."},
    {.name = "control.idle.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(control_idle_timeout_ms),
     .def = "60000",
     .min = 100,
     .max = 86400000,
     .reload = RELOAD_SUPERVISOR,
     .doc = "A control connection that sends no request for this long is "
            "closed; one that waits for its answer is not idle."},
    {.name = "control.request.timeout.ms",
     .type = CONFIG_DURATION,
     .off = OFF(control_request_timeout_ms),
     .def = "5000",
     .min = 100,
     .max = 600000,
     .reload = RELOAD_SUPERVISOR,
     .doc = "Time a control connection has to send the whole of a request "
            "once its first byte came; then the connection is closed and "
            "its buffer freed."},
};

#define CONFIG_NPROPS (sizeof(config_props) / sizeof(config_props[0]))

static const char *const config_type_names[] = {
    [CONFIG_INT] = "int",   [CONFIG_DURATION] = "ms",   [CONFIG_SIZE] = "size",
    [CONFIG_ENUM] = "enum", [CONFIG_STRING] = "string", [CONFIG_BOOL] = "bool",
};

static const struct config_prop *config_find(const char *key)
{
    size_t i;

    for (i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];

        if (strcmp(p->name, key) == 0 ||
            (p->alias && strcmp(p->alias, key) == 0))
            return p;
    }
    return NULL;
}

/* ---- parsing one value ----------------------------------------------------
 */

/* Formats a byte count the way a user writes it: "4m", "64k", "1000". */
static const char *config_fmt_size(int64_t v, char *buf, size_t size)
{
    static const char units[] = "gmk";
    static const int64_t scale[] = {GIB, MIB, KIB};
    int i;

    for (i = 0; i < 3; i++) {
        if (v != 0 && v % scale[i] == 0) {
            snprintf(buf, size, "%" PRId64 "%c", v / scale[i], units[i]);
            return buf;
        }
    }
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

static const char *config_fmt_num(const struct config_prop *p, int64_t v,
                                  char *buf, size_t size)
{
    if (p->type == CONFIG_SIZE)
        return config_fmt_size(v, buf, size);
    snprintf(buf, size, "%" PRId64, v);
    return buf;
}

static int config_check_range(const struct config_prop *p, const char *text,
                              int64_t v)
{
    char lo[32], hi[32];

    if (v >= p->min && v <= p->max)
        return 0;
    return err_set(CHUTE_ERR_INVALID, "\"%s\" is not between %s and %s", text,
                   config_fmt_num(p, p->min, lo, sizeof(lo)),
                   config_fmt_num(p, p->max, hi, sizeof(hi)));
}

/* Parses a decimal integer with an optional k/m/g suffix (if scaled). */
static int config_parse_num(const struct config_prop *p, const char *text,
                            int64_t *out)
{
    bool sized = p->type == CONFIG_SIZE;
    int64_t mult = 1;
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (sized && *end && !end[1] && strchr("kKmMgG", *end))
        mult = tolower((unsigned char)*end) == 'k'   ? KIB
               : tolower((unsigned char)*end) == 'm' ? MIB
                                                     : GIB;
    if (end == text || !isdigit((unsigned char)end[-1]) ||
        (*end && mult == 1) || (sized && v < 0))
        return err_set(CHUTE_ERR_INVALID,
                       sized ? "\"%s\" is not a size (bytes, or a number "
                               "with a k, m or g suffix)"
                             : "\"%s\" is not an integer",
                       text);
    if (errno == ERANGE || v > INT64_MAX / mult || v < INT64_MIN / mult)
        v = v < 0 ? INT64_MIN : INT64_MAX;
    else
        v *= mult;
    *out = v;
    return config_check_range(p, text, v);
}

static int config_parse_enum(const struct config_prop *p, const char *text,
                             int64_t *out)
{
    const struct config_enum *e;
    char list[128] = "";
    size_t n = 0;

    for (e = p->values; e->name; e++) {
        if ((p->icase ? strcasecmp : strcmp)(e->name, text) == 0) {
            *out = e->code;
            return 0;
        }
        n += snprintf(list + n, sizeof(list) - n, "%s%s",
                      e == p->values ? "" : ", ", e->name);
    }
    return err_set(CHUTE_ERR_INVALID, "\"%s\" is not one of %s", text, list);
}

static int config_parse_bool(const char *text, bool *out)
{
    /* Case as Java's Boolean.parseBoolean ignores it. */
    if (strcasecmp(text, "true") == 0 || strcasecmp(text, "false") == 0) {
        *out = tolower((unsigned char)text[0]) == 't';
        return 0;
    }
    return err_set(CHUTE_ERR_INVALID, "\"%s\" is not true or false", text);
}

static int config_parse(const struct config_prop *p, const char *text,
                        union config_value *v)
{
    int rc = 0;

    switch (p->type) {
    case CONFIG_INT:
    case CONFIG_DURATION:
    case CONFIG_SIZE:
        rc = config_parse_num(p, text, &v->i);
        break;
    case CONFIG_ENUM:
        rc = config_parse_enum(p, text, &v->i);
        break;
    case CONFIG_BOOL:
        rc = config_parse_bool(text, &v->b);
        break;
    case CONFIG_STRING:
        v->s = text;
        break;
    }
    if (rc == 0 && p->check)
        rc = p->check(text, v);
    return rc;
}

/* ---- storing and reading back ----------------------------------------- */

static void *config_field(const struct config *cfg, const struct config_prop *p)
{
    return (char *)cfg + p->off;
}

static int config_store(struct config *cfg, const struct config_prop *p,
                        const union config_value *v)
{
    void *field = config_field(cfg, p);
    char *copy;

    switch (p->type) {
    case CONFIG_INT:
    case CONFIG_DURATION:
    case CONFIG_ENUM:
        *(int *)field = (int)v->i;
        break;
    case CONFIG_SIZE:
        *(uint64_t *)field = (uint64_t)v->i;
        break;
    case CONFIG_BOOL:
        *(bool *)field = v->b;
        break;
    case CONFIG_STRING:
        copy = strdup(v->s);
        if (!copy)
            return err_set(CHUTE_ERR_SYSTEM, "out of memory");
        free(*(char **)field);
        *(char **)field = copy;
        break;
    }
    return 0;
}

/* A number property's value as stored (an int, a size or a bool). */
static int64_t config_number(const struct config *cfg,
                             const struct config_prop *p)
{
    const void *field = config_field(cfg, p);

    switch (p->type) {
    case CONFIG_SIZE:
        return (int64_t) * (const uint64_t *)field;
    case CONFIG_BOOL:
        return *(const bool *)field;
    case CONFIG_STRING:
        break;
    default:
        return *(const int *)field;
    }
    abort(); /* callers never ask for a string's number */
}

/* A number property's value v as config_load_file() reads it; buf holds
 * numbers. */
static const char *config_fmt_value(const struct config_prop *p, int64_t v,
                                    char *buf, size_t size)
{
    const struct config_enum *e;

    if (p->type == CONFIG_BOOL)
        return v ? "true" : "false";
    if (p->type != CONFIG_ENUM)
        return config_fmt_num(p, v, buf, size);
    for (e = p->values; e->name; e++)
        if (e->code == v)
            return e->name;
    return "?";
}

/* The property's value as config_load_file() reads it; buf holds
 * numbers. */
static const char *config_fmt(const struct config *cfg,
                              const struct config_prop *p, char *buf,
                              size_t size)
{
    if (p->type == CONFIG_STRING)
        return *(char *const *)config_field(cfg, p);
    return config_fmt_value(p, config_number(cfg, p), buf, size);
}

/* ---- topic.NAME.PROPERTY ------------------------------------------------- */

#define CONFIG_TOPIC_PREFIX     "topic."
#define CONFIG_TOPIC_PREFIX_LEN (sizeof(CONFIG_TOPIC_PREFIX) - 1)

/* The row whose per-topic value `id` is. */
static const struct config_prop *config_topic_prop(enum topic_setting id)
{
    for (size_t i = 0; i < CONFIG_NPROPS; i++)
        if (config_props[i].topic == id)
            return &config_props[i];
    abort(); /* config_check_schema() gives every id a row */
}

/* Whether key (len bytes) is "X.name"; *before: X's length. */
static bool config_ends_in(const char *key, size_t len, const char *name,
                           size_t *before)
{
    size_t n = name ? strlen(name) : 0;

    if (!name || len < n + 1 || key[len - n - 1] != '.' ||
        strcmp(key + len - n, name) != 0)
        return false;
    *before = len - n - 1;
    return true;
}

/* The per-topic row that "NAME.PROPERTY" ends in, and NAME's length (0
 * for ".PROPERTY": a bad pattern); no such name is the end of another,
 * so at most one row fits. */
static const struct config_prop *config_topic_row(const char *rest,
                                                  size_t *name_len)
{
    size_t len = strlen(rest);

    for (size_t i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];

        if (p->topic != TOPIC_SET_NONE &&
            (config_ends_in(rest, len, p->name, name_len) ||
             config_ends_in(rest, len, p->alias, name_len)))
            return p;
    }
    return NULL;
}

/* "linger.ms, batch.size, ...": the properties a topic may have its own
 * value of. */
static const char *config_topic_names(char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < CONFIG_NPROPS; i++)
        if (config_props[i].topic != TOPIC_SET_NONE)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
                                  config_props[i].name);
    return buf;
}

static int config_topic_unknown(const char *key)
{
    const struct config_prop *p = config_find(key + CONFIG_TOPIC_PREFIX_LEN);
    char names[256];

    if (p && p->topic != TOPIC_SET_NONE)
        return err_set(CHUTE_ERR_INVALID, "no topic name in \"%s\"", key);
    return err_set(CHUTE_ERR_INVALID,
                   "unknown per-topic property in \"%s\" (topic.NAME. "
                   "takes %s)",
                   key, config_topic_names(names, sizeof(names)));
}

/* Sets "topic.NAME.PROPERTY": NAME checked as a pattern, the value by the
 * PROPERTY's own row. */
static int config_set_topic(struct config *cfg, const char *key,
                            const char *value)
{
    const char *rest = key + CONFIG_TOPIC_PREFIX_LEN;
    const struct config_prop *p;
    union config_value v;
    size_t name_len;
    char *pattern;
    int rc;

    if (!(p = config_topic_row(rest, &name_len)))
        return config_topic_unknown(key);
    if (!(pattern = strndup(rest, name_len)))
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    rc = config_topic_check_pattern(pattern);
    if (rc == 0)
        rc = config_parse(p, value, &v);
    if (rc < 0) {
        free(pattern);
        return err_prefix(rc, "\"%s\"", key);
    }
    return config_topic_put(cfg, pattern, p->topic, v.i);
}

/* The key that gives topic `topic` its value of `id`: "topic.NAME.PROP"
 * or the property's own name, in buf. */
static const char *config_topic_key(const struct config *cfg,
                                    enum topic_setting id, const char *topic,
                                    char *buf, size_t size)
{
    const struct config_prop *p = config_topic_prop(id);
    const struct config_topic *t = config_topic_match(cfg, id, topic);

    if (!t)
        return p->name;
    snprintf(buf, size, CONFIG_TOPIC_PREFIX "%s.%s", t->pattern, p->name);
    return buf;
}

/* Whether the topic's codec takes its level; when not, the message names
 * the settings that gave them, and the level is the codec's default. */
static int config_topic_check_level(const struct config *cfg,
                                    const char *topic,
                                    int64_t values[TOPIC_SET_MAX])
{
    int codec = (int)values[TOPIC_SET_CODEC];
    int level = (int)values[TOPIC_SET_LEVEL];
    char level_key[320], codec_key[320];
    int rc = codec_check_level(codec, level);

    if (rc == 0)
        return 0;
    values[TOPIC_SET_LEVEL] = CODEC_LEVEL_DEFAULT;
    return err_prefix(
        rc, "topic \"%s\": \"%s\" (%d) does not suit \"%s\" (%s)", topic,
        config_topic_key(cfg, TOPIC_SET_LEVEL, topic, level_key,
                         sizeof(level_key)),
        level,
        config_topic_key(cfg, TOPIC_SET_CODEC, topic, codec_key,
                         sizeof(codec_key)),
        codec_name(codec));
}

int config_topic_values(const struct config *cfg, const char *topic,
                        int64_t values[TOPIC_SET_MAX])
{
    memset(values, 0, sizeof(int64_t) * TOPIC_SET_MAX);
    for (size_t i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];
        const struct config_topic *t;
        int64_t v;

        if (p->topic == TOPIC_SET_NONE)
            continue;
        t = config_topic_match(cfg, p->topic, topic);
        v = t ? t->value : config_number(cfg, p);
        values[p->topic] = p->to_live ? p->to_live(v) : v;
    }
    return config_topic_check_level(cfg, topic, values);
}

void config_batch_limits(const struct config *cfg, uint32_t *batch_size,
                         uint32_t *batch_num_messages)
{
    *batch_size = (uint32_t)cfg->batch_size;
    *batch_num_messages = (uint32_t)cfg->batch_num_messages;
    for (size_t i = 0; i < cfg->topic_count; i++) {
        const struct config_topic *t = &cfg->topics[i];

        if (t->setting == TOPIC_SET_BATCH_SIZE && t->value > *batch_size)
            *batch_size = (uint32_t)t->value;
        if (t->setting == TOPIC_SET_BATCH_NUM_MESSAGES &&
            t->value > *batch_num_messages)
            *batch_num_messages = (uint32_t)t->value;
    }
}

/* ---- the public API ------------------------------------------------------ */

void config_init(struct config *cfg)
{
    size_t i;

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < CONFIG_NPROPS; i++) {
        if (config_set(cfg, config_props[i].name, config_props[i].def) < 0) {
            fprintf(stderr, "chute: default of \"%s\": %s\n",
                    config_props[i].name, chute_errmsg());
            abort();
        }
    }
}

void config_release(struct config *cfg)
{
    size_t i;

    for (i = 0; i < CONFIG_NPROPS; i++) {
        if (config_props[i].type == CONFIG_STRING) {
            char **s = config_field(cfg, &config_props[i]);

            free(*s);
            *s = NULL;
        }
    }
    config_topic_release(cfg);
    acl_release(cfg);
}

int config_set(struct config *cfg, const char *key, const char *value)
{
    const struct config_prop *p = config_find(key);
    union config_value v;
    int rc;

    if (!p && strncmp(key, CONFIG_TOPIC_PREFIX, CONFIG_TOPIC_PREFIX_LEN) == 0)
        return config_set_topic(cfg, key, value);
    if (!p && (strncmp(key, ACL_USER_PREFIX, strlen(ACL_USER_PREFIX)) == 0 ||
               strncmp(key, ACL_GROUP_PREFIX, strlen(ACL_GROUP_PREFIX)) == 0))
        return acl_set(cfg, key, value);
    if (!p)
        return err_set(CHUTE_ERR_INVALID, "unknown property \"%s\"", key);
    rc = config_parse(p, value, &v);
    if (rc < 0)
        return err_prefix(rc, "\"%s\"", key);
    return config_store(cfg, p, &v);
}

static char *config_trim(char *s)
{
    char *end = s + strlen(s);

    while (isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Sets the property of one "key=value" or "key: value" text, trimmed. */
static int config_set_line(struct config *cfg, char *line)
{
    char *sep = strpbrk(line, "=:");
    char *key, sep_char;

    if (!sep)
        return err_set(CHUTE_ERR_INVALID, "no '=' in \"%s\"", line);
    if (line[strlen(line) - 1] == '\\')
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\" ends in '\\': continuation lines are not "
                       "supported",
                       line);
    sep_char = *sep;
    *sep = '\0';
    key = config_trim(line);
    if (!*key) {
        *sep = sep_char;
        return err_set(CHUTE_ERR_INVALID, "no property name in \"%s\"", line);
    }
    return config_set(cfg, key, config_trim(sep + 1));
}

int config_set_arg(struct config *cfg, const char *arg)
{
    char *copy = strdup(arg);
    int rc;

    if (!copy)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    rc = config_set_line(cfg, config_trim(copy));
    free(copy);
    return rc;
}

int config_load_file(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL, *line;
    size_t cap = 0;
    unsigned lineno = 0;
    int rc = 0;

    if (!f)
        return err_sys("cannot open \"%s\"", path);
    while (rc == 0 && getline(&buf, &cap, f) >= 0) {
        lineno++;
        line = config_trim(buf);
        if (*line == '\0' || *line == '#' || *line == '!')
            continue;
        rc = config_set_line(cfg, line);
        if (rc < 0)
            rc = err_prefix(rc, "%s:%u", path, lineno);
    }
    if (rc == 0 && ferror(f))
        rc = err_sys("cannot read \"%s\"", path);
    free(buf);
    fclose(f);
    return rc;
}

/* One user must not be able to fill the control socket's table. */
static int config_validate_control(const struct config *cfg)
{
    int room = cfg->control_connections_max - CONFIG_CONTROL_ADMIN_RESERVE;

    if (cfg->control_connections_per_user > room / 2)
        return err_set(CHUTE_ERR_INVALID,
                       "\"control.connections.per.user\" (%d) is more than "
                       "half of \"control.connections.max\" (%d) minus the "
                       "%d kept for admins",
                       cfg->control_connections_per_user,
                       cfg->control_connections_max,
                       CONFIG_CONTROL_ADMIN_RESERVE);
    return 0;
}

static int config_validate_idempotence(const struct config *cfg)
{
    if (!cfg->enable_idempotence)
        return 0;
    if (cfg->acks != -1)
        return err_set(CHUTE_ERR_INVALID, "\"enable.idempotence\"=true needs "
                                          "\"acks\"=all");
    if (cfg->max_in_flight > 5)
        return err_set(CHUTE_ERR_INVALID,
                       "\"enable.idempotence\"=true needs "
                       "\"max.in.flight.requests.per.connection\" <= 5");
    if (cfg->retries == 0)
        return err_set(CHUTE_ERR_INVALID,
                       "\"enable.idempotence\"=true needs \"retries\" > 0");
    return 0;
}

/* The rules between properties, for each topic.NAME.PROPERTY too. */
static int config_validate_topics(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->topic_count; i++) {
        const struct config_topic *t = &cfg->topics[i];

        if (t->setting == TOPIC_SET_LINGER_MS && cfg->message_timeout_ms &&
            cfg->message_timeout_ms <= t->value)
            return err_set(CHUTE_ERR_INVALID,
                           "\"message.timeout.ms\" (%d) must be larger than "
                           "\"topic.%s.linger.ms\" (%" PRId64 ")",
                           cfg->message_timeout_ms, t->pattern, t->value);
        if (t->setting == TOPIC_SET_BATCH_SIZE &&
            cfg->buffer_memory < (uint64_t)t->value)
            return err_set(CHUTE_ERR_INVALID,
                           "\"buffer.memory\" (%" PRIu64 ") is smaller than "
                           "\"topic.%s.batch.size\" (%" PRId64 ")",
                           cfg->buffer_memory, t->pattern, t->value);
    }
    return 0;
}

/* compression.level suits compression.codec: the global pair, and for
 * each topic.NAME. setting of either, the pair a topic named NAME gets.
 * Two settings of unrelated globs may still meet in a topic: the
 * supervisor then gives it the codec's default level (topics.c). */
static int config_validate_levels(const struct config *cfg)
{
    int64_t values[TOPIC_SET_MAX];
    int codec = (int)config_live_codec(cfg->compression);
    int rc = codec_check_level(codec, cfg->compression_level);

    if (rc < 0)
        return err_prefix(rc,
                          "\"compression.level\" (%d) does not suit "
                          "\"compression.codec\" (%s)",
                          cfg->compression_level, codec_name(codec));
    for (size_t i = 0; i < cfg->topic_count; i++) {
        const struct config_topic *t = &cfg->topics[i];

        if ((t->setting == TOPIC_SET_CODEC || t->setting == TOPIC_SET_LEVEL) &&
            (rc = config_topic_values(cfg, t->pattern, values)) < 0)
            return rc;
    }
    return 0;
}

/* SASL needs what its mechanism sends; a client certificate needs its
 * key and the reverse. */
static int config_validate_security(const struct config *cfg)
{
    bool sasl = cfg->security_protocol == CONFIG_SEC_SASL_PLAINTEXT ||
                cfg->security_protocol == CONFIG_SEC_SASL_SSL;

    if (!*cfg->ssl_certificate_location != !*cfg->ssl_key_location)
        return err_set(CHUTE_ERR_INVALID, "\"ssl.certificate.location\" "
                       "and \"ssl.key.location\" go together: set both or "
                       "neither");
    if (!sasl)
        return 0;
    if (cfg->sasl_mechanism == SASL_OAUTHBEARER) {
        if (!*cfg->sasl_oauthbearer_token_file)
            return err_set(CHUTE_ERR_INVALID, "\"sasl.mechanism\" "
                           "OAUTHBEARER needs \"sasl.oauthbearer.token.file\"");
        return 0;
    }
    if (!*cfg->sasl_username || !*cfg->sasl_password)
        return err_set(CHUTE_ERR_INVALID, "\"sasl.mechanism\" %s needs "
                       "\"sasl.username\" and \"sasl.password\"",
                       sasl_mechanism_name(cfg->sasl_mechanism));
    return 0;
}

int config_validate(const struct config *cfg)
{
    struct bootstrap servers;
    int rc;

    if (!cfg->bootstrap_servers || !*cfg->bootstrap_servers)
        return err_set(CHUTE_ERR_INVALID, "\"bootstrap.servers\" is not set");
    if ((rc = bootstrap_parse(&servers, cfg->bootstrap_servers)) < 0)
        return rc;
    bootstrap_release(&servers);
    if ((rc = config_validate_control(cfg)) < 0)
        return rc;
    if ((int64_t)cfg->slots * cfg->users_max > SLOT_MAX)
        return err_set(CHUTE_ERR_INVALID,
                       "\"slots\" (%d) times \"users.max\" (%d) is more "
                       "than %d", cfg->slots, cfg->users_max, SLOT_MAX);
    if (cfg->workers > cfg->slots * cfg->users_max)
        return err_set(CHUTE_ERR_INVALID,
                       "\"workers\" (%d) is larger than \"slots\" times "
                       "\"users.max\" (%d)",
                       cfg->workers, cfg->slots * cfg->users_max);
    if (cfg->ring_size < 2 * (uint64_t)cfg->message_max_bytes + 128)
        return err_set(CHUTE_ERR_INVALID,
                       "\"ring.size\" (%" PRIu64 ") must be at least twice "
                       "\"message.max.bytes\" (%d) plus 128",
                       cfg->ring_size, cfg->message_max_bytes);
    if (cfg->buffer_memory < (uint64_t)cfg->batch_size)
        return err_set(CHUTE_ERR_INVALID,
                       "\"buffer.memory\" (%" PRIu64 ") is smaller than "
                       "\"batch.size\" (%d)",
                       cfg->buffer_memory, cfg->batch_size);
    if (cfg->retry_backoff_ms > cfg->retry_backoff_max_ms)
        return err_set(CHUTE_ERR_INVALID,
                       "\"retry.backoff.ms\" (%d) is larger than "
                       "\"retry.backoff.max.ms\" (%d)",
                       cfg->retry_backoff_ms, cfg->retry_backoff_max_ms);
    if (cfg->reconnect_backoff_ms > cfg->reconnect_backoff_max_ms)
        return err_set(CHUTE_ERR_INVALID,
                       "\"reconnect.backoff.ms\" (%d) is larger than "
                       "\"reconnect.backoff.max.ms\" (%d)",
                       cfg->reconnect_backoff_ms, cfg->reconnect_backoff_max_ms);
    if (cfg->message_timeout_ms != 0 &&
        cfg->message_timeout_ms <= cfg->linger_ms)
        return err_set(CHUTE_ERR_INVALID,
                       "\"message.timeout.ms\" (%d) must be larger than "
                       "\"linger.ms\" (%d)",
                       cfg->message_timeout_ms, cfg->linger_ms);
    if ((rc = config_validate_topics(cfg)) < 0 ||
        (rc = config_validate_levels(cfg)) < 0 ||
        (rc = config_validate_security(cfg)) < 0)
        return rc;
    return config_validate_idempotence(cfg);
}

int config_dump(const struct config *cfg, FILE *out)
{
    char buf[32];
    size_t i;

    for (i = 0; i < CONFIG_NPROPS; i++) {
        const char *v = config_fmt(cfg, &config_props[i], buf, sizeof(buf));
        if (config_props[i].secret && *v)
            v = CONFIG_REDACTED;
        fprintf(out, "%s=%s\n", config_props[i].name, v);
    }
    for (i = 0; i < cfg->topic_count; i++) {
        const struct config_topic *t = &cfg->topics[i];
        const struct config_prop *p = config_topic_prop(t->setting);

        fprintf(out, CONFIG_TOPIC_PREFIX "%s.%s=%s\n", t->pattern, p->name,
                config_fmt_value(p, t->value, buf, sizeof(buf)));
    }
    for (i = 0; i < cfg->acl_count; i++)
        fprintf(out, "%s%s=%s\n",
                cfg->acls[i].group ? ACL_GROUP_PREFIX : ACL_USER_PREFIX,
                cfg->acls[i].name, cfg->acls[i].patterns);
    if (fflush(out) != 0 || ferror(out))
        return err_sys("cannot write the configuration");
    return 0;
}

const char *config_restart_needed(const struct config *old,
                                  const struct config *new_cfg)
{
    char a[32], b[32];
    size_t i;

    for (i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];

        if (p->reload == RELOAD_NO &&
            strcmp(config_fmt(old, p, a, sizeof(a)),
                   config_fmt(new_cfg, p, b, sizeof(b))) != 0)
            return p->name;
    }
    return NULL;
}

/* ---- reloads and the live block ---------------------------------------- */

void config_live_values(const struct config *cfg, int64_t values[LIVE_MAX])
{
    memset(values, 0, sizeof(int64_t) * LIVE_MAX);
    for (size_t i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];
        int64_t v;

        if (p->live == LIVE_NONE)
            continue;
        v = config_number(cfg, p);
        values[p->live] = p->to_live ? p->to_live(v) : v;
    }
}

int config_take_runtime(struct config *to, const struct config *from)
{
    char buf[32];
    int rc = 0;

    for (size_t i = 0; i < CONFIG_NPROPS && rc == 0; i++) {
        const struct config_prop *p = &config_props[i];

        if (p->reload != RELOAD_NO)
            rc = config_set(to, p->name, config_fmt(from, p, buf, sizeof(buf)));
    }
    if (rc == 0)
        rc = config_topic_copy(to, from);
    return rc < 0 ? rc : acl_copy(to, from);
}

/* One row: a live index exactly when the workers apply it from the live
 * block, a per-topic index exactly when they apply it per topic. */
static int config_check_row(const struct config_prop *p)
{
    bool live = p->reload == RELOAD_LIVE, topic = p->reload == RELOAD_TOPIC;

    if (live && (p->live <= LIVE_NONE || p->live >= LIVE_COUNT))
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\" is reloaded by the workers but has no place "
                       "in the live block (.live)",
                       p->name);
    if (topic && (p->topic <= TOPIC_SET_NONE || p->topic >= TOPIC_SET_COUNT))
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\" is a per-topic setting but has no place in "
                       "a topic's settings (.topic)",
                       p->name);
    if ((!live && p->live != LIVE_NONE) || (!topic && p->topic) ||
        (!live && !topic && p->to_live))
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\" has a place in the live block or a topic's "
                       "settings but is not marked .reload = RELOAD_LIVE or "
                       "RELOAD_TOPIC",
                       p->name);
    if ((live || topic) && (p->type == CONFIG_STRING ||
                            (topic && p->type == CONFIG_BOOL)))
        return err_set(CHUTE_ERR_INVALID,
                       "\"%s\": the workers' settings hold numbers, not "
                       "strings%s",
                       p->name, topic ? " or booleans" : "");
    return 0;
}

/* Each of `count` ids (1..count-1) is exactly one row's; ids[i] is row
 * i's (0 for none). */
static int config_check_owners(const int *ids, int count, const char *what)
{
    const char *owner[64] = {0};

    for (size_t i = 0; i < CONFIG_NPROPS; i++) {
        if (!ids[i])
            continue;
        if (owner[ids[i]])
            return err_set(CHUTE_ERR_INVALID,
                           "\"%s\" and \"%s\" land in the same %s %d",
                           owner[ids[i]], config_props[i].name, what, ids[i]);
        owner[ids[i]] = config_props[i].name;
    }
    for (int id = 1; id < count; id++)
        if (!owner[id])
            return err_set(CHUTE_ERR_INVALID,
                           "%s %d is no property's: give its row one", what,
                           id);
    return 0;
}

int config_check_schema(void)
{
    int live[CONFIG_NPROPS], topic[CONFIG_NPROPS], rc;

    _Static_assert(LIVE_COUNT <= 64 && TOPIC_SET_COUNT <= 64, "owner[]");
    for (size_t i = 0; i < CONFIG_NPROPS; i++) {
        if ((rc = config_check_row(&config_props[i])) < 0)
            return rc;
        live[i] = (int)config_props[i].live;
        topic[i] = (int)config_props[i].topic;
    }
    if ((rc = config_check_owners(live, LIVE_COUNT,
                                  "live value (enum live_setting, .live)")) <
        0)
        return rc;
    return config_check_owners(topic, TOPIC_SET_COUNT,
                               "per-topic value (enum topic_setting, .topic)");
}

/* ---- generated documentation ------------------------------------------ */

/* "0..900000", "64k..1g, power of two", "none, lz4", "true, false". */
static const char *config_fmt_allowed(const struct config_prop *p, char *buf,
                                      size_t size)
{
    char lo[32], hi[32];
    const struct config_enum *e;
    size_t n = 0;

    buf[0] = '\0';
    if (p->type == CONFIG_ENUM) {
        for (e = p->values; e->name; e++)
            n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", e->name);
    } else if (p->type == CONFIG_BOOL) {
        snprintf(buf, size, "true, false");
    } else if (p->type != CONFIG_STRING) {
        n = snprintf(buf, size, "%s..%s",
                     config_fmt_num(p, p->min, lo, sizeof(lo)),
                     config_fmt_num(p, p->max, hi, sizeof(hi)));
    }
    if (p->rule)
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "", p->rule);
    return buf;
}

static int config_write_done(FILE *out)
{
    if (fflush(out) != 0 || ferror(out))
        return err_sys("cannot write the configuration documentation");
    return 0;
}

static const char *const config_reload_names[] = {
    [RELOAD_NO] = "no",
    [RELOAD_LIVE] = "yes",
    [RELOAD_SUPERVISOR] = "yes",
    [RELOAD_TOPIC] = "yes, per topic",
};

/* The section on topic.NAME.PROPERTY, after the table. */
/* The section on TLS and SASL, after the per-topic one. */
static void config_write_doc_security(FILE *out)
{
    fputs("\n## TLS and SASL to the brokers\n\n"
          "The names and meanings are librdkafka's. A cluster that takes TLS "
          "and SCRAM\n(the common managed setup), in a file only chuted's "
          "user may read\n(`chmod 600`; chuted warns otherwise):\n\n"
          "    bootstrap.servers=kafka1.example.com:9093,kafka2.example.com:9093\n"
          "    security.protocol=sasl_ssl\n"
          "    ssl.ca.location=/etc/chute/kafka-ca.pem\n"
          "    sasl.mechanism=SCRAM-SHA-512\n"
          "    sasl.username=chute\n"
          "    sasl.password=...\n\n"
          "Leave `ssl.ca.location` empty for a cluster whose certificates "
          "chain to the\nsystem's CAs. A broker's certificate must name the "
          "host (or the IP address)\nchute connects to, as the bootstrap "
          "list and the cluster's metadata give it,\nunless "
          "`ssl.endpoint.identification.algorithm=none`. For client "
          "certificates\n(mTLS) add `ssl.certificate.location` and "
          "`ssl.key.location` (PEM), and\n`ssl.key.password` if the key is "
          "encrypted. For OAUTHBEARER set\n`sasl.mechanism=OAUTHBEARER` and "
          "`sasl.oauthbearer.token.file`: the file holds\nthe token (a JWT) "
          "that whatever renews it writes; chute reads it at each\n"
          "authentication and re-authenticates within a second of a change "
          "(librdkafka\nhas a callback or an OIDC client instead; a file is "
          "what a service can share\nwith a token renewer).\n\n"
          "These properties need a restart to change, but SIGHUP reads the "
          "files they name\nagain: rotated certificates and keys are used by "
          "every connection made from\nthen on (connections already up keep "
          "theirs). When the broker gives a session\nlifetime "
          "(`connections.max.reauth.ms`, KIP-368), chute authenticates again "
          "on\nthe same connection before 85% of it has passed, once the "
          "requests in flight\nare answered. A TLS or SASL failure is logged "
          "once per 5 s per connection with\nits cause, counted in /metrics "
          "(`chute_broker_tls_failures_total`,\n"
          "`chute_broker_sasl_failures_total`) and shown by `chutectl "
          "status`; the\nconnection retries with the reconnect backoff. "
          "`chuted -D` writes\n`ssl.key.password` and `sasl.password` as "
          "`" CONFIG_REDACTED "`.\n", out);
}

static void config_write_doc_topics(FILE *out)
{
    char names[256];

    fprintf(out,
            "\n## Per-topic settings\n\n"
            "`topic.NAME.PROPERTY=value` gives the topics NAME matches their "
            "own value of\nPROPERTY, one of the properties marked *per topic* "
            "above:\n\n    %s\n\n(`compression.type` too). NAME is a topic "
            "name or a glob of one as fnmatch(3)\nreads it: `*` matches any "
            "characters, dots included, `?` one, `[...]` one of a\nset and "
            "`[!...]` one not in it. A NAME holds\n"
            CONFIG_TOPIC_PATTERN_RULE ".\n"
            "The value is checked as the property's own: its type, range, "
            "allowed values\nand the rules between properties. An unknown "
            "PROPERTY, a bad NAME or a bad\nvalue is an error that names the "
            "line.\n\n",
            config_topic_names(names, sizeof(names)));
    fputs("For each property, the most specific setting whose NAME matches a "
          "topic wins:\nan exact name beats every glob; of two globs, the one "
          "with more literal\ncharacters (those outside `*`, `?` and `[...]`) "
          "wins; of two as literal, the\none set last (a later line, or "
          "`-X`). A topic no setting matches takes the\nproperty's own value. "
          "With\n\n"
          "    linger.ms=5\n"
          "    topic.logs.*.linger.ms=100\n"
          "    topic.logs.audit.linger.ms=0\n"
          "    topic.*.compression.codec=lz4\n\n"
          "`logs.audit` waits 0 ms, `logs.web` 100 ms and `events` 5 ms, and "
          "all three are\ncompressed with lz4.\n\n"
          "A `compression.level` must suit the topic's codec. chuted checks "
          "the global pair\nand, for every `topic.NAME.` setting of either, "
          "the pair a topic named NAME\ngets, and refuses a configuration "
          "where one does not suit. Two unrelated globs\ncan still meet in a "
          "topic's name, one giving the level and the other the codec\n"
          "(`topic.a*.compression.level=9` and "
          "`topic.*b.compression.codec=snappy` for\n`ab`): such a topic gets "
          "the codec's default level, and chuted logs a warning.\n\n"
          "chuted works out a topic's settings when a client first names it "
          "and again on\nevery SIGHUP; `chutectl topics` shows what each "
          "topic has. A reload reaches\nthe batches sealed from then on, those "
          "open at the time included. The pool's\nchunks are cut at start "
          "for the largest `batch.size` and `batch.num.messages`\nof any "
          "topic; a reload that asks for more gets what a chunk holds.\n",
          out);
}

static void config_write_doc_acl(FILE *out)
{
    fputs("\n## Topic access rules\n\n"
          "`acl.user.NAME=PATTERNS` and `acl.group.NAME=PATTERNS` say which "
          "topics a user\n(NAME a user name or uid) or the members of a group "
          "(NAME a group name or\ngid) may write. PATTERNS is a comma-separated "
          "list of topic names or globs,\nread as in `topic.NAME.` settings. "
          "With no `acl.` property every user may\nwrite every topic. Once "
          "any is set, the rest is refused: a user may write a\ntopic only "
          "when a rule of its uid, of its primary group or of one of its\n"
          "supplementary groups (as the kernel gave them for its connection) "
          "matches the\ntopic's name. `chute_topic()` for any other topic "
          "fails with `CHUTE_ERR_DENIED`\nbefore anything is looked up (so "
          "it is not auto-created), and a record a client\nwrites into its "
          "ring anyway is refused by the worker. Refusals are counted per\n"
          "uid (`chutectl status`, `chute_user_refused_acl_total`). With\n\n"
          "    acl.group.web=web.*, logs.web\n"
          "    acl.user.backup=backup.*\n\n"
          "members of `web` write `web.orders` and `logs.web`, the user "
          "`backup` writes\n`backup.daily`, and nobody writes `payments`. "
          "SIGHUP applies new rules: a\ntopic a user may no longer write is "
          "taken back at once.\n",
          out);
}

int config_write_doc(FILE *out)
{
    struct config defaults;
    char buf[160], num[32];
    size_t i;

    config_init(&defaults);
    fputs("# chute configuration\n\n"
          "<!-- Generated from supervisor/config.c by config_write_doc(); "
          "tests/test_config.c fails when this file differs. -->\n\n"
          "chuted reads a Java-properties file: `key=value` or `key: value`, "
          "one a line;\nlines that start with `#` or `!` are comments. "
          "`-X key=value` on the command\nline overrides the file. Unknown "
          "properties are errors. Sizes take a `k`, `m`\nor `g` suffix "
          "(KiB, MiB, GiB). *Reload* says whether SIGHUP applies a change;\n"
          "the others need a restart.\n\n"
          "| property | type | default | allowed | reload | meaning |\n"
          "|---|---|---|---|---|---|\n",
          out);
    for (i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];
        const char *def = config_fmt(&defaults, p, num, sizeof(num));

        fprintf(out, "| `%s` | %s | %s%s%s | %s | %s | %s |\n", p->name,
                config_type_names[p->type], *def ? "`" : "", def,
                *def ? "`" : "", config_fmt_allowed(p, buf, sizeof(buf)),
                config_reload_names[p->reload], p->doc);
    }
    config_release(&defaults);
    config_write_doc_topics(out);
    config_write_doc_acl(out);
    config_write_doc_security(out);
    return config_write_done(out);
}

int config_write_sample(FILE *out)
{
    struct config defaults;
    char buf[160], num[32];
    size_t i;

    config_init(&defaults);
    fputs("# chute.conf.sample: every property of chuted with its default.\n"
          "# Generated from supervisor/config.c; see "
          "docs/configuration.md.\n"
          "# Uncomment a line to change it. bootstrap.servers is required.\n",
          out);
    for (i = 0; i < CONFIG_NPROPS; i++) {
        const struct config_prop *p = &config_props[i];
        const char *allowed = config_fmt_allowed(p, buf, sizeof(buf));

        fprintf(out, "\n# %s\n# %s%s%s%s\n#%s=%s\n", p->doc,
                config_type_names[p->type], *allowed ? ": " : "", allowed,
                p->reload == RELOAD_TOPIC  ? "; reloadable, per topic"
                : p->reload != RELOAD_NO ? "; reloadable"
                                         : "",
                p->name, config_fmt(&defaults, p, num, sizeof(num)));
    }
    config_release(&defaults);
    fputs("\n# Per-topic settings (docs/configuration.md): "
          "topic.NAME.PROPERTY=value for a\n# property marked per topic, NAME "
          "a topic name or a glob of one (* ? [...]);\n# the most specific "
          "NAME that matches a topic wins. For example:\n"
          "#   topic.logs.*.linger.ms=100\n"
          "#   topic.logs.audit.compression.codec=lz4\n",
          out);
    return config_write_done(out);
}
