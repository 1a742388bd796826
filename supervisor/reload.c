/*
 * reload.c: SIGHUP.  chuted reads its configuration file again, applies
 * the -X overrides of its command line on top, and takes what the
 * configuration table (config.c) marks reloadable: the workers' settings
 * through the live block, each topic's own (topic.NAME.PROPERTY and the
 * properties they override) through the topic settings table
 * (topics.c), queue.full.policy and max.block.ms (for clients
 * that open from now on), workers (re-sharding) and log.level.  A change
 * that needs a restart is named in the log and left for the next start.
 * The control socket's reload request does the same and answers with the
 * outcome.
 */
#include "supervisor/sup.h"
#include "supervisor/clients.h"

#include "common/err.h"
#include "common/log.h"

void sup_publish_live(struct sup *s)
{
    struct state_live *l = &s->in.state->live;
    const struct config *c = &s->cfg;
    int64_t values[LIVE_MAX];

    topics_publish_settings(s);
    config_live_values(c, values);
    for (int id = 0; id < LIVE_MAX; id++)
        atomic_store_explicit(&l->values[id], values[id],
                              memory_order_relaxed);
    /* Workers forked from now on start from the same values. */
    live_settings_fill(&s->ws, values);
    s->in.status->queue_full_fail =
        c->queue_full_policy == CONFIG_QUEUE_FULL_FAIL;
    s->in.status->max_block_ms = (uint32_t)c->max_block_ms;
    s->ws.live_generation =
        atomic_fetch_add_explicit(&l->generation, 1, memory_order_release) +
        1;
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

int sup_reload_apply(struct sup *s, const char **restart_needed)
{
    struct config next;
    int rc;

    *restart_needed = NULL;
    sup_notify("RELOADING=1");
    rc = read_config(s, &next);
    if (rc < 0) {
        sup_notify("READY=1");
        rc = err_prefix(rc, "reload");
        log_error("%s; keeping the running configuration", chute_errmsg());
        config_release(&next);
        return rc;
    }
    *restart_needed = config_restart_needed(&s->cfg, &next);
    if (*restart_needed)
        log_warn("reload: \"%s\" changed; it needs a restart and is left as "
                 "it is", *restart_needed);
    if (config_take_runtime(&s->cfg, &next) < 0)
        log_error("reload: %s", chute_errmsg());
    log_set_level(s->cfg.log_level);
    /* Before the workers see the new generation, which makes them read
     * the certificates again too. */
    security_reload(&s->sec);
    sup_publish_live(s);
    clients_recheck_topics(&s->in, &s->cfg, s->user_peer);
    if ((uint32_t)next.workers != s->worker_count) {
        if (sup_scale(s, (uint32_t)next.workers) < 0) {
            log_error("reload: %s", chute_errmsg());
            s->cfg.workers = (int)s->worker_count; /* what runs */
        }
    }
    log_info("reload: configuration applied");
    sup_notify("READY=1");
    config_release(&next);
    return 0;
}

void sup_reload(struct sup *s)
{
    const char *restart;

    sup_reload_apply(s, &restart);
}
