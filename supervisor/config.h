/*
 * config.h: chute's configuration.
 *
 * The configuration is a Java-properties file (`key=value` or `key: value`,
 * `#` and `!` comment lines) plus `-X key=value` overrides from the command
 * line.  Every property is one row of a schema table (config.c) that holds
 * its name, type, default, range, allowed values, whether a reload may
 * change it, where its value lands for the workers, and its documentation;
 * the parser, the defaults, config_dump(), docs/configuration.md,
 * chute.conf.sample, reloads and the live block all come from that table.
 *
 * Life cycle: config_init() (defaults), config_load_file(), config_set() or
 * config_set_arg() for each override (later calls win), config_validate(),
 * and config_release() at the end.  A failed config_set() leaves the
 * property unchanged.
 *
 * Per-topic settings: `topic.NAME.PROPERTY=value` gives the topics NAME
 * matches (a topic name, or an fnmatch(3) glob of one) their own value of
 * a property whose row says so (.topic); config_topic_values() says which
 * value a topic gets.
 */
#ifndef CHUTE_SUPERVISOR_CONFIG_H
#define CHUTE_SUPERVISOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"
#include "shm/layout.h"

enum config_compression {
    CONFIG_COMPRESSION_NONE,
    CONFIG_COMPRESSION_GZIP,
    CONFIG_COMPRESSION_SNAPPY,
    CONFIG_COMPRESSION_LZ4,
    CONFIG_COMPRESSION_ZSTD,
};
enum config_queue_full { CONFIG_QUEUE_FULL_BLOCK, CONFIG_QUEUE_FULL_FAIL };
/* security.protocol, librdkafka's values. */
enum config_security {
    CONFIG_SEC_PLAINTEXT,
    CONFIG_SEC_SSL,
    CONFIG_SEC_SASL_PLAINTEXT,
    CONFIG_SEC_SASL_SSL,
};

/* One topic.NAME.PROPERTY setting (config_topic.c). */
struct config_topic {
    char *pattern;              /* a topic name or an fnmatch(3) glob */
    enum topic_setting setting; /* which property */
    int64_t value;              /* as the property's own field holds it */
};

struct config {
    /* Kafka producer properties (librdkafka / Java names). */
    char *bootstrap_servers; /* "" until set: config_validate fails */
    char *client_id;
    int linger_ms;
    int batch_size; /* bytes */
    int batch_num_messages;
    enum config_compression compression;
    int compression_level; /* -1: the codec's default (proto/codec.h) */
    int acks; /* -1 (all), 0 or 1 */
    int message_max_bytes;
    bool enable_idempotence;
    int message_timeout_ms; /* 0: no timeout */
    int request_timeout_ms;
    int retry_backoff_ms;
    int retry_backoff_max_ms;
    int retries;
    int max_in_flight; /* max.in.flight.requests.per.connection */
    int metadata_max_age_ms;
    int socket_timeout_ms;
    int reconnect_backoff_ms;
    int reconnect_backoff_max_ms;
    enum config_queue_full queue_full_policy;
    int max_block_ms;
    /* TLS and SASL to the brokers (librdkafka's names; broker/tls.h,
     * broker/sasl.h).  Only a restart changes them; SIGHUP reads the
     * files they name again.  The secrets are never dumped. */
    enum config_security security_protocol;
    char *ssl_ca_location;
    char *ssl_certificate_location;
    char *ssl_key_location;
    char *ssl_key_password;       /* secret */
    int ssl_verify_hostname;      /* 1: https (the default), 0: none */
    char *ssl_cipher_suites;
    int sasl_mechanism;           /* enum sasl_mechanism */
    char *sasl_username;
    char *sasl_password;          /* secret */
    char *sasl_oauthbearer_token_file;
    /* chute's own properties. */
    char *name; /* instance name, see common/name.h */
    int workers;
    int worker_heartbeat_timeout_ms; /* 0: never kill a worker */
    int slots;              /* per user space, a power of two */
    int users_max;          /* user spaces */
    uint64_t ring_size;     /* bytes, a power of two */
    uint64_t buffer_memory; /* bytes */
    char *metrics_listen;   /* HOST:PORT, "" for none */
    enum log_level log_level;
    char *intake_group; /* "" keeps the process's group */
    char *runtime_dir;  /* "": common/rundir.h decides */
    /* The control socket (supervisor/ctlserver.c). */
    char *admin_group; /* "": only root and chuted's own user are admins */
    int control_connections_max;
    int control_connections_per_user;
    int clients_per_user;
    int claim_timeout_ms;   /* ring.claim.timeout.ms */
    int control_idle_timeout_ms;
    int control_request_timeout_ms;
    /* topic.NAME.PROPERTY settings, oldest first (setting one again
     * moves it to the end). */
    struct config_topic *topics;
    size_t topic_count;
    struct config_acl *acls;  /* acl.user.NAME, acl.group.NAME (acl.c) */
    size_t acl_count;
};

/* Control connections that only admins may open: a full table still lets
 * an operator in. */
#define CONFIG_CONTROL_ADMIN_RESERVE 8
/* The largest control.connections.max. */
#define CONFIG_CONTROL_CONNECTIONS_MAX 1024

/* Sets every property to its default.  Strings are heap copies; the
 * process aborts if it cannot allocate a few bytes at start-up. */
void config_init(struct config *cfg);

/* Frees the strings; cfg may be config_init()ed again afterwards. */
void config_release(struct config *cfg);

/* Reads a properties file into cfg.  Errors name the file and the line:
 * "chute.conf:7: \"linger.ms\": \"abc\" is not an integer".  Properties
 * set before a failing line stay set. */
int config_load_file(struct config *cfg, const char *path);

/* Sets one property from its text form; key may be an alias such as
 * compression.type, or topic.NAME.PROPERTY.  Returns CHUTE_ERR_INVALID
 * for an unknown key, a bad topic pattern or a bad value (CHUTE_ERR_SYSTEM
 * when out of memory), leaving cfg unchanged. */
int config_set(struct config *cfg, const char *key, const char *value);

/* config_set() from one "key=value" argument, as given to -X. */
int config_set_arg(struct config *cfg, const char *arg);

/* Cross-property checks; 0 if cfg is usable, else CHUTE_ERR_INVALID. */
int config_validate(const struct config *cfg);

/* Writes every effective property as "key=value" lines that
 * config_load_file() reads back, except that a secret that is set
 * (ssl.key.password, sasl.password) is written as CONFIG_REDACTED.
 * Returns 0 or CHUTE_ERR_SYSTEM. */
#define CONFIG_REDACTED "[redacted]"
int config_dump(const struct config *cfg, FILE *out);

/* Writes docs/configuration.md and chute.conf.sample, generated from the
 * schema.  Return 0 or CHUTE_ERR_SYSTEM. */
int config_write_doc(FILE *out);
int config_write_sample(FILE *out);

/* For a reload (SIGHUP): the name of the first property that differs
 * between old and new and that only a restart can change, or NULL if the
 * new configuration can be applied to the running service. */
const char *config_restart_needed(const struct config *old,
                                  const struct config *new_cfg);

/* Copies every property a reload may change from `from` into `to`.
 * Returns 0 or CHUTE_ERR_SYSTEM (out of memory). */
int config_take_runtime(struct config *to, const struct config *from);

/* The value of each live setting (enum live_setting, shm/layout.h), in
 * the unit the workers use, converted from cfg by its row's to_live;
 * values[LIVE_NONE] and the unused rest are 0.  The one conversion for
 * the live block and for the settings of a worker the supervisor forks. */
void config_live_values(const struct config *cfg, int64_t values[LIVE_MAX]);

/* The value of each per-topic setting (enum topic_setting, shm/layout.h)
 * for the topic named `topic`, in the unit the workers use: for each
 * property, the most specific topic.NAME.PROPERTY whose NAME matches (an
 * exact name beats every glob; of two globs, the one with more literal
 * characters; of two as literal, the one set last), else the property's
 * own value.  values[TOPIC_SET_NONE] and the unused rest are 0.  Returns
 * 0, or CHUTE_ERR_INVALID when the topic's compression.level does not
 * suit its codec (two settings of unrelated NAMEs gave them; the message
 * names both): the level is then the codec's default. */
int config_topic_values(const struct config *cfg, const char *topic,
                        int64_t values[TOPIC_SET_MAX]);

/* The largest batch.size and batch.num.messages any topic may have: what
 * a pool chunk must hold. */
void config_batch_limits(const struct config *cfg, uint32_t *batch_size,
                         uint32_t *batch_num_messages);

/* The schema's own rules: a row is marked reloaded by the workers exactly
 * when it names a live value or a per-topic value, and every live value
 * and every per-topic value is one row's.  0, or CHUTE_ERR_INVALID naming
 * the row. */
int config_check_schema(void);

#endif
