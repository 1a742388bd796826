/*
 * reload.c: SIGHUP.  chuted reads its configuration file again, applies
 * the -X overrides of its command line on top, and takes what can change
 * while running: linger.ms, batch.size, batch.num.messages,
 * compression.codec, the timeouts and retries, metadata.max.age.ms,
 * queue.full.policy and max.block.ms (for clients that open from now on),
 * workers (re-sharding) and log.level.  A change that needs a restart is
 * named in the log and left for the next start.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "proto/batch.h"

#include <string.h>

void sup_publish_live(struct sup *s)
{
    struct state_live *l = &s->in.state->live;
    const struct config *c = &s->cfg;

    atomic_store(&l->linger_ms, c->linger_ms);
    atomic_store(&l->batch_size, c->batch_size);
    atomic_store(&l->batch_num_messages, c->batch_num_messages);
    atomic_store(&l->codec, c->compression == CONFIG_COMPRESSION_LZ4
                                ? BATCH_CODEC_LZ4
                                : BATCH_CODEC_NONE);
    atomic_store(&l->message_timeout_ms,
                 c->message_timeout_ms ? c->message_timeout_ms : INT32_MAX);
    atomic_store(&l->request_timeout_ms, c->request_timeout_ms);
    atomic_store(&l->retry_backoff_ms, c->retry_backoff_ms);
    atomic_store(&l->retry_backoff_max_ms, c->retry_backoff_max_ms);
    atomic_store(&l->retries, c->retries);
    atomic_store(&l->metadata_max_age_ms, c->metadata_max_age_ms);
    atomic_store(&l->socket_timeout_ms, c->socket_timeout_ms);
    atomic_store(&l->log_level, (int32_t)c->log_level);
    s->in.intake->queue_full_fail =
        c->queue_full_policy == CONFIG_QUEUE_FULL_FAIL;
    s->in.intake->max_block_ms = (uint32_t)c->max_block_ms;
    atomic_fetch_add_explicit(&l->generation, 1, memory_order_release);
}

/* The configuration as a fresh start would see it. */
static int read_config(const struct sup *s, struct config *c)
{
    config_init(c);
    if (s->config_path && config_load_file(c, s->config_path) < 0)
        return CHUTE_ERR_INVALID;
    for (int i = 0; i < s->override_count; i++)
        if (config_set_arg(c, s->overrides[i]) < 0)
            return CHUTE_ERR_INVALID;
    return config_validate(c);
}

/* Copies what may change while running from `from` into the live one. */
static void take_runtime(struct config *to, const struct config *from)
{
    to->linger_ms = from->linger_ms;
    to->batch_size = from->batch_size;
    to->batch_num_messages = from->batch_num_messages;
    to->compression = from->compression;
    to->message_timeout_ms = from->message_timeout_ms;
    to->request_timeout_ms = from->request_timeout_ms;
    to->retry_backoff_ms = from->retry_backoff_ms;
    to->retry_backoff_max_ms = from->retry_backoff_max_ms;
    to->retries = from->retries;
    to->metadata_max_age_ms = from->metadata_max_age_ms;
    to->socket_timeout_ms = from->socket_timeout_ms;
    to->queue_full_policy = from->queue_full_policy;
    to->max_block_ms = from->max_block_ms;
    to->log_level = from->log_level;
}

void sup_reload(struct sup *s)
{
    struct config next;
    const char *restart;

    sup_notify("RELOADING=1");
    if (read_config(s, &next) < 0) {
        sup_notify("READY=1");
        log_error("reload: %s; keeping the running configuration",
                  chute_errmsg());
        config_release(&next);
        return;
    }
    restart = config_restart_needed(&s->cfg, &next);
    if (restart)
        log_warn("reload: \"%s\" changed; it needs a restart and is left as "
                 "it is", restart);
    take_runtime(&s->cfg, &next);
    log_set_level(s->cfg.log_level);
    sup_publish_live(s);
    if ((uint32_t)next.workers != s->worker_count) {
        if (sup_scale(s, (uint32_t)next.workers) < 0)
            log_error("reload: %s", chute_errmsg());
        else
            s->cfg.workers = next.workers;
    }
    log_info("reload: configuration applied");
    sup_notify("READY=1");
    config_release(&next);
}
